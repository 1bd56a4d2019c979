import type { Dim, Shape } from "../core/shape.js";
import { numel, symProduct } from "../core/shape.js";
import { dtypeOf, isKnown, listArg, normAxes, normAxis } from "./args.js";
import { type Field, inputShape, layerError, type OpRule, type OutputState, type RuleContext } from "./rule.js";
import { smallCount, stridesOf, unravel } from "./values.js";

/** A dim sum that stays symbolic when a part is. */
function addDims(a: Dim, b: Dim): Dim {
  return typeof a === "number" && typeof b === "number" ? a + b : `${a}+${b}`;
}

/** The identity map over `rank` axes. */
function identity(rank: number): number[] {
  return Array.from({ length: rank }, (_, i) => i);
}

/**
 * Concat along `axis`; all other dims must agree. Known values of 1-d inputs concatenate
 * (Shape → Gather → Concat builds Reshape targets). Along channels it is pointwise; along
 * a spatial axis the field of the first input's part is given (pointwise as well).
 */
export const concat: OpRule = {
  types: ["Concat"],
  family: "shape",
  infer(ctx) {
    const present = ctx.inputs.filter((t) => t !== undefined);
    if (present.length === 0) layerError(ctx, "Concat has no inputs");
    const dtype = present[0].dtype;
    if (present.some((t) => !t.shape)) return [{ dtype }];
    const shapes = present.map((t) => t.shape as Shape);
    const rank = shapes[0].length;
    const axis = normAxis(ctx, ctx.attrs.int("axis", 1), rank);
    const out = [...shapes[0]];
    let sum: Dim = 0;
    for (const [j, s] of shapes.entries()) {
      if (s.length !== rank) layerError(ctx, `input ${j} has rank ${s.length}, expected ${rank}`);
      for (let i = 0; i < rank; i++) {
        if (i !== axis && typeof s[i] === "number" && typeof out[i] === "number" && s[i] !== out[i]) {
          layerError(ctx, `input ${j} has shape ${s.join("×")}, which does not match ${shapes[0].join("×")} outside axis ${axis}`);
        }
      }
      sum = addDims(sum, s[axis]);
    }
    out[axis] = sum;
    const values = present.map((t) => t.value);
    const value = rank === 1 && values.every((v) => v !== undefined) ? values.flat() : undefined;
    return [{ dtype, shape: out, value }];
  },
};

/**
 * Split along `axis` (default 0) into parts given by `split` (an attribute before opset
 * 13, input 1 from it), or equal parts: one per output, or `num_outputs` (opset 18, the
 * last part smaller). A split along channels is pointwise; along a spatial axis the field
 * is that of the first part (pointwise too).
 */
export const split: OpRule = {
  types: ["Split"],
  family: "shape",
  valueInputs: [1],
  infer(ctx): OutputState[] {
    const x = inputShape(ctx, 0);
    const dtype = dtypeOf(ctx);
    const outs = ctx.node.outputs.length;
    if (!x) return ctx.node.outputs.map(() => ({ dtype }));
    const axis = normAxis(ctx, ctx.attrs.int("axis", 0), x.length);
    const d = x[axis];
    const arg = listArg(ctx, "split", 1);
    let parts: Dim[];
    if (arg === "unknown") parts = ctx.node.outputs.map((_, i) => `split${i}(${d})`);
    else if (arg !== undefined) {
      if (arg.length !== outs) layerError(ctx, `split has ${arg.length} sizes for ${outs} outputs`);
      if (arg.some((p) => p < 0)) layerError(ctx, `split sizes must not be negative, got ${arg.join(",")}`);
      const total = arg.reduce((a, b) => a + b, 0);
      if (typeof d === "number" && total !== d) layerError(ctx, `split sizes ${arg.join("+")} = ${total} do not add up to ${d}`);
      parts = [...arg];
    } else if (typeof d !== "number") parts = ctx.node.outputs.map(() => `${d}/${outs}`);
    else {
      const n = ctx.attrs.int("num_outputs", outs);
      if (n !== outs) layerError(ctx, `num_outputs ${n} differs from the ${outs} outputs`);
      const size = ctx.attrs.has("num_outputs") ? Math.ceil(d / n) : d / n;
      if (!Number.isInteger(size)) layerError(ctx, `${d} does not split into ${n} equal parts`);
      parts = ctx.node.outputs.map((_, i) => Math.min(size, d - size * i));
    }
    const v = ctx.inputs[0]?.value;
    let start = 0;
    return parts.map((p) => {
      const shape = x.map((dim, i) => (i === axis ? p : dim));
      const value = v && x.length === 1 && typeof p === "number" ? v.slice(start, start + p) : undefined;
      if (typeof p === "number") start += p;
      return { dtype, shape, value };
    });
  },
};

/** Flatten to 2-d at `axis`: [Π dims before, Π dims from axis]. */
export const flatten: OpRule = {
  types: ["Flatten"],
  family: "shape",
  infer(ctx) {
    const x = inputShape(ctx, 0);
    if (!x) return [{ dtype: dtypeOf(ctx) }];
    const axis = flattenAxis(ctx, x.length);
    const prod = (ds: Dim[]): Dim => numel(ds) ?? symProduct(ds);
    return [{ dtype: dtypeOf(ctx), shape: [prod(x.slice(0, axis)), prod(x.slice(axis))], value: ctx.inputs[0]?.value }];
  },
  /** Axes before `axis` merge into output axis 0, the rest into axis 1; merged axes of size > 1 are mixed. */
  field(ctx): Field {
    const x = inputShape(ctx, 0) ?? [];
    const axis = flattenAxis(ctx, x.length);
    const map = x.map((_, i) => (i < axis ? 0 : 1));
    const lead = x.slice(0, axis).filter((d) => d !== 1).length;
    const tail = x.slice(axis).filter((d) => d !== 1).length;
    const mixed = x.map((_, i) => i).filter((i) => x[i] !== 1 && (i < axis ? lead > 1 : tail > 1));
    return { kind: "axes", map, mixed };
  },
};

function flattenAxis(ctx: RuleContext, rank: number): number {
  const axis = ctx.attrs.int("axis", 1);
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a > rank) layerError(ctx, `axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/**
 * Reshape to the shape held by input 1 (the `shape` attribute in opset 1–4): 0 copies the
 * input dim unless `allowzero`, one −1 is inferred from the element count.
 */
export const reshape: OpRule = {
  types: ["Reshape"],
  family: "shape",
  valueInputs: [1],
  infer(ctx) {
    const x = inputShape(ctx, 0);
    const dtype = dtypeOf(ctx);
    const target = listArg(ctx, "shape", 1);
    if (target === undefined) layerError(ctx, "the target shape is missing");
    if (target === "unknown") return [{ dtype }];
    const allowZero = ctx.attrs.int("allowzero", 0) === 1;
    const out: Dim[] = target.map((d, i) => {
      if (d !== 0 || allowZero) return d;
      if (!x) return `d${i}`;
      if (i >= x.length) layerError(ctx, `target ${target.join("×")} copies dim ${i}, but the input has rank ${x.length}`);
      return x[i];
    });
    if (out.filter((d) => d === -1).length > 1) layerError(ctx, `target ${target.join("×")} has more than one -1`);
    if (out.some((d) => typeof d === "number" && d < -1)) layerError(ctx, `negative dimension in target ${target.join("×")}`);
    const minus = out.indexOf(-1);
    const total = x ? numel(x) : null;
    if (minus >= 0) {
      const rest = numel(out.filter((_, i) => i !== minus));
      if (total === null || rest === null) out[minus] = `${x ? x.join("·") : "?"}/(${out.filter((_, i) => i !== minus).join("·")})`;
      else {
        if (rest === 0 || total % rest !== 0)
          layerError(ctx, `cannot reshape ${x?.join("×")} (${total} elements) into ${target.join("×")}`);
        out[minus] = total / rest;
      }
    } else {
      const b = numel(out);
      if (total !== null && b !== null && total !== b) {
        layerError(ctx, `cannot reshape ${x?.join("×")} (${total} elements) into ${out.join("×")} (${b})`);
      }
    }
    return [{ dtype, shape: out, value: ctx.inputs[0]?.value }];
  },
  field: (ctx) => reshapeField(inputShape(ctx, 0) ?? [], ctx.outputs[0]?.shape ?? []),
};

/**
 * Axes whose dim is preserved (same size, same position in the row-major order) map
 * through; the others are merged or split, so they are mixed (size-1 axes are dropped).
 */
export function reshapeField(x: Shape, y: Shape): Field {
  const map: (number | null)[] = new Array(x.length).fill(null);
  const mixed: number[] = [];
  if (isKnown(x) && isKnown(y)) {
    const px = prefix(x);
    const py = prefix(y);
    x.forEach((d, i) => {
      const j = py.findIndex((p, k) => p === px[i] && y[k] === d);
      if (j >= 0 && d !== 1) map[i] = j;
      else if (d !== 1) {
        mixed.push(i);
        let k = 0;
        while (k + 1 < y.length && py[k + 1] <= px[i]) k++;
        map[i] = k;
      }
    });
    return { kind: "axes", map, mixed };
  }
  // Symbolic dims: match from the front and from the back; the middle is mixed.
  let f = 0;
  while (f < x.length && f < y.length && x[f] === y[f]) map[f] = f++;
  let b = 0;
  while (b < x.length - f && b < y.length - f && x[x.length - 1 - b] === y[y.length - 1 - b]) {
    map[x.length - 1 - b] = y.length - 1 - b;
    b++;
  }
  for (let i = f; i < x.length - b; i++) if (x[i] !== 1) mixed.push(i);
  return { kind: "axes", map, mixed };
}

function prefix(s: number[]): number[] {
  const p = [1];
  for (const d of s) p.push(p[p.length - 1] * d);
  return p;
}

/** Squeeze: drops the listed size-1 axes (`axes` an attribute before opset 13, input 1 from it), or every size-1 axis. */
export const squeeze: OpRule = {
  types: ["Squeeze"],
  family: "shape",
  valueInputs: [1],
  infer(ctx) {
    const x = inputShape(ctx, 0);
    const axes = x && squeezedAxes(ctx, x);
    if (!x || !axes) return [{ dtype: dtypeOf(ctx) }];
    return [{ dtype: dtypeOf(ctx), shape: x.filter((_, i) => !axes.includes(i)), value: ctx.inputs[0]?.value }];
  },
  field(ctx): Field {
    const x = inputShape(ctx, 0) ?? [];
    const axes = squeezedAxes(ctx, x) ?? [];
    let j = 0;
    return { kind: "axes", map: x.map((_, i) => (axes.includes(i) ? null : j++)), mixed: [] };
  },
};

function squeezedAxes(ctx: RuleContext, x: Shape): number[] | undefined {
  const arg = listArg(ctx, "axes", 1);
  if (arg === "unknown") return undefined;
  if (arg === undefined) return x.flatMap((d, i) => (d === 1 ? [i] : []));
  const axes = normAxes(ctx, arg, x.length);
  for (const a of axes) {
    if (typeof x[a] === "number" && x[a] !== 1) layerError(ctx, `cannot squeeze axis ${a} of size ${x[a]}`);
  }
  return axes;
}

/** Unsqueeze: inserts size-1 axes at positions of the output (`axes` an attribute before opset 13, input 1 from it). */
export const unsqueeze: OpRule = {
  types: ["Unsqueeze"],
  family: "shape",
  valueInputs: [1],
  infer(ctx) {
    const x = inputShape(ctx, 0);
    const axes = x && insertedAxes(ctx, x.length);
    if (!x || !axes) return [{ dtype: dtypeOf(ctx) }];
    const out: Dim[] = [];
    let k = 0;
    for (let i = 0; i < x.length + axes.length; i++) out.push(axes.includes(i) ? 1 : x[k++]);
    return [{ dtype: dtypeOf(ctx), shape: out, value: ctx.inputs[0]?.value }];
  },
  field(ctx): Field {
    const rank = inputShape(ctx, 0)?.length ?? 0;
    const axes = insertedAxes(ctx, rank) ?? [];
    const kept = identity(rank + axes.length).filter((i) => !axes.includes(i));
    return { kind: "axes", map: identity(rank).map((i) => kept[i]), mixed: [] };
  },
};

function insertedAxes(ctx: RuleContext, rank: number): number[] | undefined {
  const arg = listArg(ctx, "axes", 1);
  if (arg === "unknown") return undefined;
  if (arg === undefined) layerError(ctx, "axes are missing");
  return normAxes(ctx, arg, rank + arg.length);
}

/** Transpose by `perm` (default: reverse the axes); known small values are permuted too. */
export const transpose: OpRule = {
  types: ["Transpose"],
  family: "shape",
  infer(ctx) {
    const x = inputShape(ctx, 0);
    if (!x) return [{ dtype: dtypeOf(ctx) }];
    const perm = permOf(ctx, x.length);
    const shape = perm.map((p) => x[p]);
    return [{ dtype: dtypeOf(ctx), shape, value: transposeValue(x, shape, perm, ctx.inputs[0]?.value) }];
  },
  field(ctx): Field {
    const perm = permOf(ctx, inputShape(ctx, 0)?.length ?? 0);
    return { kind: "axes", map: perm.map((_, i) => perm.indexOf(i)), mixed: [] };
  },
};

function permOf(ctx: RuleContext, rank: number): readonly number[] {
  const perm = ctx.attrs.ints(
    "perm",
    identity(rank).map((i) => rank - 1 - i),
  );
  if (perm.length !== rank || normAxes(ctx, perm, rank).some((p, i) => p !== perm[i])) {
    layerError(ctx, `perm ${perm.join(",")} is not a permutation of ${rank} axes`);
  }
  return perm;
}

function transposeValue(x: Shape, y: Shape, perm: readonly number[], v: readonly number[] | undefined): number[] | undefined {
  const n = smallCount(x);
  if (!v || n === undefined || v.length !== n) return undefined;
  const xs = stridesOf(x as number[]);
  return Array.from({ length: n }, (_, flat) => {
    const idx = unravel(flat, y as number[]);
    return v[idx.reduce((off, o, i) => off + o * xs[perm[i]], 0)];
  });
}

/**
 * DepthToSpace (block b, DCR or CRD): [N, C, H, W] → [N, C/b², H·b, W·b]; output row o reads
 * input row ⌊o/b⌋ (resample num 1, den b). SpaceToDepth: [N, C, H, W] → [N, C·b², H/b, W/b];
 * output row o reads input rows o·b … o·b + b − 1. Both also move data between channels.
 */
export const depthSpace: OpRule = {
  types: ["DepthToSpace", "SpaceToDepth"],
  family: "shape",
  infer(ctx) {
    const x = inputShape(ctx, 0);
    const b = blockOf(ctx);
    if (!x) return [{ dtype: dtypeOf(ctx) }];
    if (x.length !== 4) layerError(ctx, `expects a 4-d input (N, C, H, W), got rank ${x.length}`);
    const [n, c, h, w] = x;
    const scale = (d: Dim, up: boolean): Dim => {
      if (typeof d !== "number") return up ? `${d}·${b}` : `${d}/${b}`;
      if (!up && d % b !== 0) layerError(ctx, `size ${d} is not divisible by the block size ${b}`);
      return up ? d * b : d / b;
    };
    if (ctx.node.op === "DepthToSpace") {
      if (typeof c === "number" && c % (b * b) !== 0) layerError(ctx, `${c} channels are not divisible by ${b}² = ${b * b}`);
      return [{ dtype: dtypeOf(ctx), shape: [n, typeof c === "number" ? c / (b * b) : `${c}/${b * b}`, scale(h, true), scale(w, true)] }];
    }
    return [{ dtype: dtypeOf(ctx), shape: [n, typeof c === "number" ? c * b * b : `${c}·${b * b}`, scale(h, false), scale(w, false)] }];
  },
  field(ctx): Field {
    const b = blockOf(ctx);
    const axis = ctx.node.op === "DepthToSpace" ? { num: 1, den: b, lo: 0, hi: 0 } : { num: b, den: 1, lo: 0, hi: b - 1 };
    return { kind: "resample", axes: [axis, { ...axis }] };
  },
};

function blockOf(ctx: RuleContext): number {
  const b = ctx.attrs.int("blocksize");
  if (b <= 0) layerError(ctx, `blocksize must be positive, got ${b}`);
  return b;
}

/**
 * Pad: `pads` [begin per axis…, end per axis…] is an attribute before opset 11 and input 1
 * from it, optionally for the axes in input 3 (opset 18); the fill value (attribute
 * `value` or input 2) is a value, not a parameter. Negative pads crop. A copy: no cost.
 * For the field, the spatial axes are a window of kernel 1, stride 1 and the begin pad.
 */
export const pad: OpRule = {
  types: ["Pad"],
  family: "shape",
  valueInputs: [1, 2, 3],
  infer(ctx) {
    const x = inputShape(ctx, 0);
    const pads = x && padsOf(ctx, x.length);
    if (!x || !pads) return [{ dtype: dtypeOf(ctx) }];
    const shape = x.map((d, i) => {
      const b = pads[i];
      const e = pads[i + x.length];
      if (typeof d !== "number") return b === 0 && e === 0 ? d : `${d}${b + e >= 0 ? "+" : ""}${b + e}`;
      if (d + b + e <= 0) layerError(ctx, `pads ${b},${e} leave axis ${i} of size ${d} with ${d + b + e} elements`);
      return d + b + e;
    });
    return [{ dtype: dtypeOf(ctx), shape }];
  },
  field(ctx): Field {
    const rank = inputShape(ctx, 0)?.length ?? 0;
    const pads = padsOf(ctx, rank);
    if (rank < 3 || !pads) return { kind: "pointwise" };
    const k = rank - 2;
    const ones = new Array(k).fill(1);
    return { kind: "window", kernel: ones, stride: [...ones], dilation: [...ones], padBegin: pads.slice(2, rank) };
  },
};

/** Full begin/end pads for every axis, or undefined when they are not known. */
function padsOf(ctx: RuleContext, rank: number): number[] | undefined {
  const arg = listArg(ctx, ctx.attrs.has("paddings") ? "paddings" : "pads", 1);
  if (arg === "unknown") return undefined;
  if (arg === undefined) layerError(ctx, "pads are missing");
  const axesArg = ctx.inputs[3] ? ctx.inputs[3].value : identity(rank);
  if (!axesArg) return undefined;
  const axes = normAxes(ctx, axesArg, rank);
  if (arg.length !== 2 * axes.length) layerError(ctx, `pads has ${arg.length} values for ${axes.length} axes`);
  const full = new Array(2 * rank).fill(0);
  axes.forEach((a, i) => {
    full[a] = arg[i];
    full[a + rank] = arg[i + axes.length];
  });
  return full;
}
