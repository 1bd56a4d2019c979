import type { Dim } from "../core/shape.js";
import { mul, numel } from "../core/shape.js";
import { broadcastShapes } from "./broadcast.js";
import { cost, inputShape, layerError, type OpRule, type RuleContext } from "./rule.js";

/** Gemm (fully-connected): Y = A'·B' + C with A' [M, K], B' [K, N]. */
export const gemm: OpRule = {
  types: ["Gemm"],
  family: "linear",
  infer(ctx) {
    const { m, n } = gemmDims(ctx);
    return [{ dtype: ctx.inputs[0]?.dtype ?? "float32", shape: [m, n] }];
  },
  cost(ctx) {
    const { m, k, n } = gemmDims(ctx);
    if (typeof m !== "number" || typeof k !== "number" || typeof n !== "number") return null;
    const outputs = mul(m, n);
    // Seed: a fully-connected layer costs (o1 + 1)·o2 per row, the +1 being the bias.
    return cost({ macs: mul(outputs, k), bias: ctx.inputs[2] ? outputs : 0, seed: mul(outputs, k + 1) });
  },
  field: () => ({ kind: "global" }),
};

function gemmDims(ctx: RuleContext): { m: Dim; k: Dim; n: Dim } {
  const a = inputShape(ctx, 0);
  const b = inputShape(ctx, 1);
  if (!a || !b) layerError(ctx, "input or weight shape is unknown");
  if (a.length !== 2 || b.length !== 2) layerError(ctx, `Gemm needs 2-d inputs, got ${a.length}-d and ${b.length}-d`);
  const [m, k] = ctx.attrs.int("transA", 0) ? [a[1], a[0]] : [a[0], a[1]];
  const [k2, n] = ctx.attrs.int("transB", 0) ? [b[1], b[0]] : [b[0], b[1]];
  if (typeof k === "number" && typeof k2 === "number" && k !== k2) {
    layerError(ctx, `inner dimensions differ: input has ${k} features, weight expects ${k2}`);
  }
  return { m, k, n };
}

/** MatMul with numpy semantics: 1-d operands are promoted, leading dims broadcast. */
export const matmul: OpRule = {
  types: ["MatMul"],
  family: "linear",
  infer(ctx) {
    const { shape } = matmulDims(ctx);
    return [{ dtype: ctx.inputs[0]?.dtype ?? "float32", shape }];
  },
  cost(ctx) {
    const { batch, m, k, n } = matmulDims(ctx);
    const b = numel(batch);
    if (b === null || typeof m !== "number" || typeof k !== "number" || typeof n !== "number") return null;
    const macs = mul(b, m, k, n);
    return cost({ macs, seed: macs });
  },
  field: () => ({ kind: "global" }),
};

function matmulDims(ctx: RuleContext) {
  const a0 = inputShape(ctx, 0);
  const b0 = inputShape(ctx, 1);
  if (!a0 || !b0) layerError(ctx, "input shape is unknown");
  if (a0.length === 0 || b0.length === 0) layerError(ctx, "MatMul operands must have rank ≥ 1");
  const a = a0.length === 1 ? [1, a0[0]] : a0;
  const b = b0.length === 1 ? [b0[0], 1] : b0;
  const m = a[a.length - 2];
  const k = a[a.length - 1];
  const k2 = b[b.length - 2];
  const n = b[b.length - 1];
  if (typeof k === "number" && typeof k2 === "number" && k !== k2) {
    layerError(ctx, `inner dimensions differ: ${k} vs ${k2}`);
  }
  const batch = broadcastShapes(ctx, [a.slice(0, -2), b.slice(0, -2)]);
  const shape = [...batch];
  if (a0.length > 1) shape.push(m);
  if (b0.length > 1) shape.push(n);
  return { batch, m, k, n, shape };
}
