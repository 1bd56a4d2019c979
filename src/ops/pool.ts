import { mul, numel, type Shape } from "../core/shape.js";
import { dtypeOf } from "./args.js";
import { cost, inputShape, layerError, memo, type OpRule, type RuleContext } from "./rule.js";
import { readWindow, spatialOf, type Window, windowField, windowOutputs } from "./window.js";

function poolWindow(ctx: RuleContext): { x?: Shape; w: Window } {
  return memo(ctx, () => {
    const kernel = ctx.attrs.ints("kernel_shape");
    const x = inputShape(ctx, 0);
    const spatial = x ? spatialOf(ctx, x) : kernel.map((_, i) => `in${i}`);
    if (kernel.length !== spatial.length) layerError(ctx, `kernel_shape has ${kernel.length} axes, input has ${spatial.length}`);
    return { x, w: readWindow(ctx, ctx.attrs, kernel, spatial) };
  });
}

/**
 * Max, average and Lp pooling (ceil mode, dilation, auto_pad). Per output element over a
 * window of K positions: max K−1 comparisons; average K−1 adds and one division; Lp K
 * powers, K−1 adds and one root. The full window is counted even where it overlaps
 * padding: `count_include_pad` changes only the divisor, not the number of operations.
 */
export const pool: OpRule = {
  types: ["MaxPool", "AveragePool", "LpPool"],
  family: "pool",
  infer(ctx) {
    const { x, w } = poolWindow(ctx);
    const dtype = dtypeOf(ctx);
    const shape = x ? [x[0], x[1], ...windowOutputs(ctx, w, x.slice(2))] : undefined;
    // MaxPool's optional second output holds int64 indices of the same shape.
    return ctx.node.outputs.map((_, i) => ({ dtype: i === 0 ? dtype : "int64", shape }));
  },
  cost(ctx) {
    const out = ctx.outputs[0].shape;
    const outN = out ? numel(out) : null;
    if (outN === null) return null;
    const k = mul(...poolWindow(ctx).w.kernel);
    if (ctx.node.op === "MaxPool") return cost({ cmp: mul(outN, k - 1) });
    if (ctx.node.op === "LpPool") return cost({ exp: mul(outN, k + 1), add: mul(outN, k - 1) });
    return cost({ add: mul(outN, k - 1), div: outN });
  },
  field: (ctx) => windowField(ctx, poolWindow(ctx).w),
};

/**
 * Global pooling: [N, C, spatial…] → [N, C, 1, …]; every output sees the whole map. Per
 * channel of S positions: max S−1 comparisons; average S−1 adds and one division; Lp S
 * powers, S−1 adds and one root.
 */
export const globalPool: OpRule = {
  types: ["GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"],
  family: "pool",
  infer(ctx) {
    const x = inputShape(ctx, 0);
    if (!x) return [{ dtype: dtypeOf(ctx) }];
    spatialOf(ctx, x);
    return [{ dtype: dtypeOf(ctx), shape: [x[0], x[1], ...x.slice(2).map(() => 1)] }];
  },
  cost(ctx) {
    const x = inputShape(ctx, 0);
    const inN = x ? numel(x) : null;
    const outShape = ctx.outputs[0].shape;
    const outN = outShape ? numel(outShape) : null;
    if (inN === null || outN === null) return null;
    if (ctx.node.op === "GlobalMaxPool") return cost({ cmp: inN - outN });
    if (ctx.node.op === "GlobalLpPool") return cost({ exp: inN + outN, add: inN - outN });
    return cost({ add: inN - outN, div: outN });
  },
  field: () => ({ kind: "global" }),
};
