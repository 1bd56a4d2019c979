import type { Dim, Shape } from "../core/shape.js";
import { mul, numel } from "../core/shape.js";
import { dtypeOf, listArg, normAxes, normAxis, scalarArg } from "./args.js";
import { cost, type Field, inputShape, layerError, type OpRule, type OutputState, type Resample, type RuleContext } from "./rule.js";
import { smallCount, stridesOf, unravel } from "./values.js";

/** Identity map over `rank` axes with `axis` mixed: ops that select or rank along one axis. */
function alongAxis(rank: number, axis: number): Field {
  return { kind: "axes", map: Array.from({ length: rank }, (_, i) => i), mixed: [axis] };
}

/**
 * Gather along `axis`: data[…, indices, …] → shape data[:axis] + indices + data[axis+1:].
 * Known small values gather too (Shape → Gather picks a dim). Float data that is stored
 * is an embedding table, so it counts as a parameter. A copy: no cost.
 */
export const gather: OpRule = {
  types: ["Gather"],
  family: "shape",
  infer(ctx) {
    const data = inputShape(ctx, 0);
    const idx = inputShape(ctx, 1);
    const dtype = dtypeOf(ctx);
    if (!data || !idx) return [{ dtype }];
    if (data.length === 0) layerError(ctx, "cannot gather from a scalar");
    const axis = normAxis(ctx, ctx.attrs.int("axis", 0), data.length);
    const shape = [...data.slice(0, axis), ...idx, ...data.slice(axis + 1)];
    const d = data[axis];
    const iv = ctx.inputs[1]?.value?.map((i) => (i < 0 && typeof d === "number" ? i + d : i));
    if (iv && typeof d === "number" && iv.some((i) => i < 0 || i >= d)) layerError(ctx, `index out of range for axis ${axis} of size ${d}`);
    return [{ dtype, shape, value: gatherValue(data, axis, idx, shape, ctx.inputs[0]?.value, iv) }];
  },
  field(ctx): Field {
    const rank = inputShape(ctx, 0)?.length ?? 0;
    const idxRank = inputShape(ctx, 1)?.length ?? 0;
    const axis = normAxis(ctx, ctx.attrs.int("axis", 0), rank);
    const map = Array.from({ length: rank }, (_, i) => (i < axis ? i : i === axis ? null : i + idxRank - 1));
    return { kind: "axes", map, mixed: [axis] };
  },
};

function gatherValue(data: Shape, axis: number, idx: Shape, out: Shape, v?: readonly number[], iv?: number[]) {
  const n = smallCount(out);
  if (!v || !iv || n === undefined || smallCount(data) !== v.length || smallCount(idx) !== iv.length) return undefined;
  const ds = stridesOf(data as number[]);
  const r = idx.length;
  return Array.from({ length: n }, (_, flat) => {
    const o = unravel(flat, out as number[]);
    const idxFlat = o.slice(axis, axis + r).reduce((acc, k, j) => acc * (idx[j] as number) + k, 0);
    const pos = [...o.slice(0, axis), iv[idxFlat], ...o.slice(axis + r)];
    return v[pos.reduce((acc, k, j) => acc + k * ds[j], 0)];
  });
}

/** GatherElements: output has the indices' shape; along `axis` any position may be read. */
export const gatherElements: OpRule = {
  types: ["GatherElements"],
  family: "shape",
  infer(ctx) {
    const data = inputShape(ctx, 0);
    const idx = inputShape(ctx, 1);
    if (data && idx && data.length !== idx.length) layerError(ctx, `indices rank ${idx.length} differs from data rank ${data.length}`);
    return [{ dtype: dtypeOf(ctx), shape: idx }];
  },
  field(ctx) {
    const rank = inputShape(ctx, 0)?.length ?? 0;
    return alongAxis(rank, normAxis(ctx, ctx.attrs.int("axis", 0), rank));
  },
};

/**
 * GatherND: indices [..., m] address the first m axes (after batch_dims b) of data; the
 * output is indices.shape[:-1] + data.shape[b + m:]. Which positions are read is data, so
 * every output may come from anywhere: global. A copy: no cost.
 */
export const gatherND: OpRule = {
  types: ["GatherND"],
  family: "shape",
  infer(ctx) {
    const data = inputShape(ctx, 0);
    const idx = inputShape(ctx, 1);
    const dtype = dtypeOf(ctx);
    if (!data || !idx) return [{ dtype }];
    const b = ctx.attrs.int("batch_dims", 0);
    const m = idx[idx.length - 1];
    if (idx.length === 0) layerError(ctx, "indices must have rank ≥ 1");
    if (typeof m !== "number") return [{ dtype }];
    if (b < 0 || b + m > data.length) layerError(ctx, `indices address ${m} axes after batch_dims ${b}, data has rank ${data.length}`);
    return [{ dtype, shape: [...idx.slice(0, -1), ...data.slice(b + m)] }];
  },
  field: () => ({ kind: "global" }),
};

/** One sliced axis: normalized start, step and element count (a symbolic count when the dim is). */
interface SliceAxis {
  axis: number;
  start?: number;
  step: number;
  count: Dim;
}

/**
 * Slice per ONNX: starts/ends/axes are attributes before opset 10 and inputs 1–3 from it,
 * with steps (input 4). Negative starts/ends count from the end; starts clamp to
 * [0, d] ([0, d−1] for negative steps), ends to [0, d] ([−1, d−1]).
 */
function sliceAxes(ctx: RuleContext, x: Shape): SliceAxis[] | undefined {
  const starts = listArg(ctx, "starts", 1);
  const ends = listArg(ctx, "ends", 2);
  const axesArg = listArg(ctx, "axes", 3);
  const steps = listArg(ctx, "steps", 4);
  if (starts === undefined || ends === undefined) layerError(ctx, "starts and ends are required");
  if (starts === "unknown" || ends === "unknown" || axesArg === "unknown" || steps === "unknown") return undefined;
  if (starts.length !== ends.length) layerError(ctx, `${starts.length} starts but ${ends.length} ends`);
  const axes = normAxes(ctx, axesArg ?? starts.map((_, i) => i), x.length);
  if (axes.length !== starts.length || (steps && steps.length !== starts.length)) {
    layerError(ctx, "starts, ends, axes and steps differ in length");
  }
  return axes.map((axis, i) => {
    const step = steps?.[i] ?? 1;
    if (step === 0) layerError(ctx, "slice step must not be 0");
    const d = x[axis];
    let s = starts[i];
    let e = ends[i];
    if (typeof d !== "number") {
      // Only "from a non-negative start to the end" is resolvable without the size.
      if (step === 1 && s >= 0 && e >= 2 ** 31) return { axis, start: s, step, count: s === 0 ? d : `${d}-${s}` };
      return { axis, start: s >= 0 && step > 0 ? s : undefined, step, count: `slice(${d})` };
    }
    if (s < 0) s += d;
    if (e < 0) e += d;
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    if (step > 0) {
      s = clamp(s, 0, d);
      e = clamp(e, 0, d);
    } else {
      s = clamp(s, 0, d - 1);
      e = clamp(e, -1, d - 1);
    }
    return { axis, start: s, step, count: Math.max(0, Math.ceil((e - s) / step)) };
  });
}

/**
 * Slice: a copy (no cost). Known small values are sliced (Shape → Slice). For the field, a
 * sliced spatial axis reads input start + step·o: resample num step, den 1, lo = hi = start.
 */
export const slice: OpRule = {
  types: ["Slice"],
  family: "shape",
  valueInputs: [1, 2, 3, 4],
  infer(ctx) {
    const x = inputShape(ctx, 0);
    const dtype = dtypeOf(ctx);
    const axes = x && sliceAxes(ctx, x);
    if (!x || !axes) return [{ dtype }];
    const shape = [...x];
    for (const a of axes) shape[a.axis] = a.count;
    return [{ dtype, shape, value: sliceValue(x, shape, axes, ctx.inputs[0]?.value) }];
  },
  field(ctx): Field {
    const x = inputShape(ctx, 0);
    const axes = x && sliceAxes(ctx, x);
    if (!x || !axes || x.length < 3) return { kind: "pointwise" };
    const resample: Resample[] = x.slice(2).map(() => ({ num: 1, den: 1, lo: 0, hi: 0 }));
    for (const a of axes) {
      if (a.axis < 2) continue;
      if (a.start === undefined) return { kind: "pointwise" };
      resample[a.axis - 2] = { num: a.step, den: 1, lo: a.start, hi: a.start };
    }
    return { kind: "resample", axes: resample };
  },
};

function sliceValue(x: Shape, y: Shape, axes: SliceAxis[], v?: readonly number[]): number[] | undefined {
  const n = smallCount(y);
  if (!v || n === undefined || smallCount(x) !== v.length) return undefined;
  const xs = stridesOf(x as number[]);
  const start = x.map(() => 0);
  const step = x.map(() => 1);
  for (const a of axes) {
    start[a.axis] = a.start as number;
    step[a.axis] = a.step;
  }
  return Array.from({ length: n }, (_, flat) => {
    const o = unravel(flat, y as number[]);
    return v[o.reduce((acc, k, i) => acc + (start[i] + step[i] * k) * xs[i], 0)];
  });
}

/**
 * TopK along `axis` (default −1): values and int64 indices with that axis of size k (an
 * attribute before opset 10, input 1 from it). Cost: a size-k heap selection,
 * ⌈log2(k + 1)⌉ comparisons per input element.
 */
export const topK: OpRule = {
  types: ["TopK"],
  family: "reduce",
  valueInputs: [1],
  infer(ctx): OutputState[] {
    const x = inputShape(ctx, 0);
    const dtype = dtypeOf(ctx);
    const k = scalarArg(ctx, "k", 1);
    if (k === undefined) layerError(ctx, "k is missing");
    if (!x) return [{ dtype }, { dtype: "int64" }];
    const axis = normAxis(ctx, ctx.attrs.int("axis", -1), x.length);
    const d = x[axis];
    if (typeof k === "number" && (k < 0 || (typeof d === "number" && k > d)))
      layerError(ctx, `k = ${k} is out of range for axis size ${d}`);
    const shape = x.map((dim, i) => (i === axis ? (typeof k === "number" ? k : `topk(${dim})`) : dim));
    return [
      { dtype, shape },
      { dtype: "int64", shape },
    ];
  },
  cost(ctx) {
    const x = inputShape(ctx, 0);
    const n = x ? numel(x) : null;
    const k = scalarArg(ctx, "k", 1);
    if (n === null || typeof k !== "number") return null;
    return cost({ cmp: mul(n, Math.max(1, Math.ceil(Math.log2(k + 1)))) });
  },
  field(ctx) {
    const rank = inputShape(ctx, 0)?.length ?? 0;
    return alongAxis(rank, normAxis(ctx, ctx.attrs.int("axis", -1), rank));
  },
};
