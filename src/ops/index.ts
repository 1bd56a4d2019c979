import { ifMerge, loopIteration, loopMerge, scanMerge } from "./control.js";
import { conv, convTranspose } from "./conv.js";
import { detectionOutput, maxRoiPool, priorBox } from "./detection.js";
import { binary, clip, free, softmax, unary, where } from "./elementwise.js";
import { constant, constantOfShape, expand, range, shape, size, tile } from "./generate.js";
import { gather, gatherElements, gatherND, slice, topK } from "./index-ops.js";
import { einsum, gemm, matmul } from "./linear.js";
import { batchNorm, lpNorm, lrn, statNorm } from "./norm.js";
import { globalPool, pool } from "./pool.js";
import { QUANT_RULES } from "./quant.js";
import { argReduce, reduce } from "./reduce.js";
import { resize } from "./resize.js";
import type { OpRule } from "./rule.js";
import { concat, depthSpace, flatten, pad, reshape, split, squeeze, transpose, unsqueeze } from "./tensor-shape.js";
import { atan2, fillLike, sparseToDense } from "./tf-ops.js";

export type { Cost, Field, OpRule, OutputState, RuleContext, TensorState } from "./rule.js";
export { Attrs, ZERO_COST } from "./rule.js";

/** Every rule; adding an op family means adding its module here. */
export const RULES: readonly OpRule[] = [
  // conv.ts
  conv,
  convTranspose,
  // pool.ts
  pool,
  globalPool,
  // linear.ts
  gemm,
  matmul,
  einsum,
  // norm.ts
  batchNorm,
  lrn,
  statNorm,
  lpNorm,
  // elementwise.ts
  unary,
  clip,
  free,
  binary,
  where,
  softmax,
  // reduce.ts
  reduce,
  argReduce,
  // resize.ts
  resize,
  // tensor-shape.ts
  concat,
  split,
  flatten,
  reshape,
  squeeze,
  unsqueeze,
  transpose,
  depthSpace,
  pad,
  // index-ops.ts
  gather,
  gatherElements,
  gatherND,
  slice,
  topK,
  // generate.ts
  shape,
  size,
  constant,
  constantOfShape,
  range,
  expand,
  tile,
  // tf-ops.ts
  fillLike,
  atan2,
  sparseToDense,
  // quant.ts
  ...QUANT_RULES,
  // control.ts
  ifMerge,
  loopMerge,
  scanMerge,
  loopIteration,
  // detection.ts
  priorBox,
  detectionOutput,
  maxRoiPool,
];

const BY_TYPE = new Map<string, OpRule>();
for (const rule of RULES) {
  for (const t of rule.types) {
    if (BY_TYPE.has(t)) throw new Error(`op ${t} has two rules`);
    BY_TYPE.set(t, rule);
  }
}

/** The rule for a canonical op type, or undefined when convscope does not know it. */
export function ruleFor(op: string): OpRule | undefined {
  return BY_TYPE.get(op);
}

export function knownOps(): string[] {
  return [...BY_TYPE.keys()].sort();
}
