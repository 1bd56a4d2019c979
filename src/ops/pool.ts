import { mul, numel } from "../core/shape.js";
import { cost, inputShape, layerError, type OpRule, type RuleContext } from "./rule.js";
import { readWindow, spatialOf, windowField, windowOutputs } from "./window.js";

function poolWindow(ctx: RuleContext) {
  const x = inputShape(ctx, 0);
  if (!x) return undefined;
  const spatial = spatialOf(ctx, x);
  const kernel = ctx.attrs.ints("kernel_shape");
  if (kernel.length !== spatial.length) layerError(ctx, `kernel_shape has ${kernel.length} axes, input has ${spatial.length}`);
  return { x, w: readWindow(ctx, ctx.attrs, kernel, spatial) };
}

/** Max and average pooling (with ceil mode, dilation, auto_pad). */
export const pool: OpRule = {
  types: ["MaxPool", "AveragePool"],
  family: "pool",
  infer(ctx) {
    const pw = poolWindow(ctx);
    const dtype = ctx.inputs[0]?.dtype ?? "float32";
    if (!pw) return ctx.node.outputs.map(() => ({ dtype }));
    const shape = [pw.x[0], pw.x[1], ...windowOutputs(ctx, pw.w, pw.x.slice(2))];
    // MaxPool's optional second output holds int64 indices of the same shape.
    return ctx.node.outputs.map((_, i) => ({ dtype: i === 0 ? dtype : "int64", shape }));
  },
  cost(ctx) {
    const out = ctx.outputs[0].shape;
    const pw = poolWindow(ctx);
    const outN = out ? numel(out) : null;
    if (outN === null || !pw) return null;
    const window = pw.w.kernel.reduce((a, b) => a * b, 1);
    // Max: k−1 comparisons per output. Average: k−1 additions and one division.
    if (ctx.node.op === "MaxPool") return cost({ cmp: mul(outN, window - 1) });
    return cost({ add: mul(outN, window - 1), div: outN });
  },
  field(ctx) {
    const pw = poolWindow(ctx);
    if (!pw) layerError(ctx, "input shape is unknown");
    return windowField(ctx, pw.w);
  },
};

/** Global pooling: [N, C, spatial…] → [N, C, 1, …]; every output sees the whole input. */
export const globalPool: OpRule = {
  types: ["GlobalAveragePool", "GlobalMaxPool"],
  family: "pool",
  infer(ctx) {
    const x = inputShape(ctx, 0);
    const dtype = ctx.inputs[0]?.dtype ?? "float32";
    if (!x) return [{ dtype }];
    spatialOf(ctx, x);
    return [{ dtype, shape: [x[0], x[1], ...x.slice(2).map(() => 1)] }];
  },
  cost(ctx) {
    const x = inputShape(ctx, 0);
    const inN = x ? numel(x) : null;
    const outN = ctx.outputs[0].shape ? numel(ctx.outputs[0].shape) : null;
    if (inN === null || outN === null) return null;
    if (ctx.node.op === "GlobalMaxPool") return cost({ cmp: inN - outN });
    return cost({ add: inN - outN, div: outN });
  },
  field: () => ({ kind: "global" }),
};
