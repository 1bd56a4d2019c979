import { conv } from "./conv.js";
import { binary, clip, free, softmax, unary } from "./elementwise.js";
import { gemm, matmul } from "./linear.js";
import { batchNorm, lrn, statNorm } from "./norm.js";
import { globalPool, pool } from "./pool.js";
import type { OpRule } from "./rule.js";
import { concat, flatten, reshape } from "./tensor-shape.js";

export type { Cost, Field, OpRule, OutputState, RuleContext, TensorState } from "./rule.js";
export { Attrs, ZERO_COST } from "./rule.js";

/** Every rule; adding an op family means adding its module here. */
export const RULES: readonly OpRule[] = [
  conv,
  pool,
  globalPool,
  gemm,
  matmul,
  batchNorm,
  lrn,
  statNorm,
  unary,
  clip,
  free,
  binary,
  softmax,
  concat,
  flatten,
  reshape,
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
