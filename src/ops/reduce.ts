import { numel, type Shape } from "../core/shape.js";
import { dtypeOf, listArg, normAxes, normAxis } from "./args.js";
import { type Cost, cost, type Field, inputShape, type OpRule, type OutputState, type RuleContext } from "./rule.js";
import { smallCount, unravel } from "./values.js";

/**
 * Reductions, counted on N input and M output elements (N − M combining steps):
 * Sum N−M adds; Mean N−M adds + M divisions; Max/Min N−M comparisons; Prod N−M multiplies;
 * L1 N abs (cmp) + N−M adds; L2 N squares + N−M adds + M roots; SumSquare N squares +
 * N−M adds; LogSum N−M adds + M logs; LogSumExp N exps + N−M adds + M logs.
 */
const REDUCE: Record<string, (n: number, m: number) => Partial<Cost>> = {
  ReduceSum: (n, m) => ({ add: n - m }),
  ReduceMean: (n, m) => ({ add: n - m, div: m }),
  ReduceMax: (n, m) => ({ cmp: n - m }),
  ReduceMin: (n, m) => ({ cmp: n - m }),
  ReduceProd: (n, m) => ({ mul: n - m }),
  ReduceL1: (n, m) => ({ cmp: n, add: n - m }),
  ReduceL2: (n, m) => ({ mul: n, add: n - m, exp: m }),
  ReduceSumSquare: (n, m) => ({ mul: n, add: n - m }),
  ReduceLogSum: (n, m) => ({ add: n - m, exp: m }),
  ReduceLogSumExp: (n, m) => ({ exp: n + m, add: n - m }),
};

/** Folds of known values, for shape arithmetic (ReduceProd of a shape is an element count). */
const FOLD: Partial<Record<string, (xs: number[]) => number>> = {
  ReduceSum: (xs) => xs.reduce((a, b) => a + b, 0),
  ReduceMean: (xs) => xs.reduce((a, b) => a + b, 0) / xs.length,
  ReduceMax: (xs) => Math.max(...xs),
  ReduceMin: (xs) => Math.min(...xs),
  ReduceProd: (xs) => xs.reduce((a, b) => a * b, 1),
};

/**
 * The reduced axes. `axes` is an attribute before opset 13 (ReduceSum) or 18 (the
 * others) and input 1 after; either form is read. No axes means all, unless
 * `noop_with_empty_axes` makes the op an identity. Undefined when the axes are unknown.
 */
function reducedAxes(ctx: RuleContext, rank: number): number[] | undefined {
  const arg = listArg(ctx, "axes", 1);
  if (arg === "unknown") return undefined;
  if (arg === undefined || arg.length === 0) {
    return ctx.attrs.int("noop_with_empty_axes", 0) ? [] : Array.from({ length: rank }, (_, i) => i);
  }
  return normAxes(ctx, arg, rank);
}

/** Output shape of a reduction over `axes`, keeping them as 1 or dropping them. */
function reducedShape(x: Shape, axes: number[], keep: boolean): Shape {
  return keep ? x.map((d, i) => (axes.includes(i) ? 1 : d)) : x.filter((_, i) => !axes.includes(i));
}

/** Field of a reduction: the reduced axes are mixed; kept axes map through. */
function reduceField(rank: number, axes: number[], keep: boolean): Field {
  let j = 0;
  const map = Array.from({ length: rank }, (_, i) => (keep ? i : axes.includes(i) ? null : j++));
  return { kind: "axes", map, mixed: axes };
}

/** Groups small known values by their reduced output position. */
function foldReduce(x: Shape, value: readonly number[], axes: number[], out: Shape, f: (xs: number[]) => number): number[] | undefined {
  const m = smallCount(out);
  if (m === undefined || smallCount(x) !== value.length) return undefined;
  const groups: number[][] = Array.from({ length: m }, () => []);
  const dims = x as number[];
  value.forEach((v, flat) => {
    const idx = unravel(flat, dims);
    let o = 0;
    for (let i = 0; i < dims.length; i++) if (!axes.includes(i)) o = o * dims[i] + idx[i];
    groups[o].push(v);
  });
  return groups.map(f);
}

export const reduce: OpRule = {
  types: Object.keys(REDUCE),
  family: "reduce",
  valueInputs: [1],
  infer(ctx): OutputState[] {
    const x = inputShape(ctx, 0);
    const dtype = dtypeOf(ctx);
    if (!x) return [{ dtype }];
    const axes = reducedAxes(ctx, x.length);
    if (!axes) return [{ dtype }];
    const shape = reducedShape(x, axes, ctx.attrs.int("keepdims", 1) === 1);
    const fold = FOLD[ctx.node.op];
    const v = ctx.inputs[0]?.value;
    return [{ dtype, shape, value: fold && v ? foldReduce(x, v, axes, shape, fold) : undefined }];
  },
  cost(ctx) {
    const x = inputShape(ctx, 0);
    const out = ctx.outputs[0].shape;
    const n = x ? numel(x) : null;
    const m = out ? numel(out) : null;
    if (n === null || m === null) return null;
    return cost(REDUCE[ctx.node.op](n, m));
  },
  field(ctx) {
    const rank = inputShape(ctx, 0)?.length ?? 0;
    const axes = reducedAxes(ctx, rank) ?? Array.from({ length: rank }, (_, i) => i);
    return reduceField(rank, axes, ctx.attrs.int("keepdims", 1) === 1);
  },
};

/** ArgMax / ArgMin along `axis` (default 0): N − M comparisons; int64 indices. */
export const argReduce: OpRule = {
  types: ["ArgMax", "ArgMin"],
  family: "reduce",
  infer(ctx) {
    const x = inputShape(ctx, 0);
    if (!x) return [{ dtype: "int64" }];
    const axis = normAxis(ctx, ctx.attrs.int("axis", 0), x.length);
    return [{ dtype: "int64", shape: reducedShape(x, [axis], ctx.attrs.int("keepdims", 1) === 1) }];
  },
  cost(ctx) {
    const x = inputShape(ctx, 0);
    const out = ctx.outputs[0].shape;
    const n = x ? numel(x) : null;
    const m = out ? numel(out) : null;
    return n === null || m === null ? null : cost({ cmp: n - m });
  },
  field(ctx) {
    const rank = inputShape(ctx, 0)?.length ?? 0;
    return reduceField(rank, [normAxis(ctx, ctx.attrs.int("axis", 0), rank)], ctx.attrs.int("keepdims", 1) === 1);
  },
};
