import { mul, numel } from "../core/shape.js";
import { cost, inputShape, type OpRule, type RuleContext } from "./rule.js";

function sameShape(ctx: RuleContext) {
  const x = ctx.inputs[0];
  return [{ dtype: x?.dtype ?? "float32", shape: x?.shape }];
}

function elements(ctx: RuleContext): number | null {
  const s = ctx.outputs[0]?.shape;
  return s ? numel(s) : null;
}

/**
 * Batch normalization at inference: y = (x − mean)/√(var + ε)·γ + β. Folded into one
 * multiply and one add per element (what runtimes execute); the running mean and
 * variance (inputs 3 and 4) are non-trainable buffers.
 */
export const batchNorm: OpRule = {
  types: ["BatchNormalization"],
  family: "norm",
  bufferInputs: [3, 4],
  infer: sameShape,
  cost(ctx) {
    const n = elements(ctx);
    return n === null ? null : cost({ mul: n, add: n });
  },
  inPlace: true,
};

/**
 * Local response normalization across `size` channels:
 * y = x / (bias + α/size·Σx²)^β — per element `size` squares, `size` adds, one scale,
 * one power and one division.
 */
export const lrn: OpRule = {
  types: ["LRN"],
  family: "norm",
  infer: sameShape,
  cost(ctx) {
    const n = elements(ctx);
    const size = ctx.attrs.int("size");
    return n === null ? null : cost({ mul: mul(n, size + 1), add: mul(n, size), exp: n, div: n });
  },
};

/**
 * Normalizations that compute statistics at run time (instance, layer, group): per
 * element two adds for the mean and variance sums, a subtract, a square, a scale and
 * the affine multiply–add; per normalized group two divisions and a square root.
 */
export const statNorm: OpRule = {
  types: ["InstanceNormalization", "LayerNormalization", "GroupNormalization"],
  family: "norm",
  infer(ctx) {
    const x = ctx.inputs[0];
    const outs = [{ dtype: x?.dtype ?? "float32", shape: x?.shape }];
    // LayerNormalization may also output mean and inverse std-dev (reduced shape).
    for (let i = 1; i < ctx.node.outputs.length; i++) outs.push({ dtype: "float32", shape: undefined });
    return outs;
  },
  cost(ctx) {
    const x = inputShape(ctx, 0);
    const n = elements(ctx);
    if (!x || n === null) return null;
    const groups = numel(statGroupShape(ctx, x));
    if (groups === null) return null;
    return cost({ add: mul(n, 4), mul: mul(n, 3), div: mul(groups, 2), exp: groups });
  },
  field(ctx) {
    // Statistics over spatial positions make every output depend on the whole map.
    const rank = ctx.inputs[0]?.shape?.length ?? 0;
    if (ctx.node.op !== "LayerNormalization") return { kind: "global" };
    let axis = ctx.attrs.int("axis", -1);
    if (axis < 0) axis += rank;
    return rank >= 3 && axis <= 2 ? { kind: "global" } : { kind: "pointwise" };
  },
};

/** The dims that index one normalization group (whose statistics are computed together). */
function statGroupShape(ctx: RuleContext, x: (number | string)[]) {
  if (ctx.node.op === "LayerNormalization") {
    let axis = ctx.attrs.int("axis", -1);
    if (axis < 0) axis += x.length;
    return x.slice(0, axis);
  }
  if (ctx.node.op === "GroupNormalization") return [x[0], ctx.attrs.int("num_groups")];
  return x.slice(0, 2);
}
