import type { Dim } from "../core/shape.js";
import { numel } from "../core/shape.js";
import { inputShape, layerError, type OpRule, type RuleContext } from "./rule.js";

function normAxis(ctx: RuleContext, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) layerError(ctx, `axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Concat along `axis`; all other dims must agree. Known 1-d values concatenate too. */
export const concat: OpRule = {
  types: ["Concat"],
  family: "shape",
  infer(ctx) {
    const present = ctx.inputs.filter((t) => t !== undefined);
    const dtype = present[0]?.dtype ?? "float32";
    if (present.length === 0) layerError(ctx, "Concat has no inputs");
    if (present.some((t) => !t.shape)) return [{ dtype }];
    const shapes = present.map((t) => t.shape as Dim[]);
    const rank = shapes[0].length;
    const axis = normAxis(ctx, ctx.attrs.int("axis", 1), rank);
    const out = [...shapes[0]];
    let sum: Dim = 0;
    for (const [j, s] of shapes.entries()) {
      if (s.length !== rank) layerError(ctx, `input ${j} has rank ${s.length}, expected ${rank}`);
      for (let i = 0; i < rank; i++) {
        if (i === axis) continue;
        if (typeof s[i] === "number" && typeof out[i] === "number" && s[i] !== out[i]) {
          layerError(ctx, `input ${j} has shape ${s.join("×")}, which does not match ${shapes[0].join("×")} outside axis ${axis}`);
        }
      }
      sum = typeof sum === "number" && typeof s[axis] === "number" ? sum + (s[axis] as number) : `${sum}+${s[axis]}`;
    }
    out[axis] = sum;
    const values = present.map((t) => t.value);
    const value = rank === 1 && values.every((v) => v !== undefined) ? values.flat() : undefined;
    return [{ dtype, shape: out, value }];
  },
  inPlace: false,
};

/** Flatten to 2-d at `axis`: [Π dims before, Π dims from axis]. */
export const flatten: OpRule = {
  types: ["Flatten"],
  family: "shape",
  infer(ctx) {
    const x = inputShape(ctx, 0);
    const dtype = ctx.inputs[0]?.dtype ?? "float32";
    if (!x) return [{ dtype }];
    let axis = ctx.attrs.int("axis", 1);
    if (axis < 0) axis += x.length;
    if (axis < 0 || axis > x.length) layerError(ctx, `axis ${axis} is out of range for rank ${x.length}`);
    const prod = (ds: Dim[]): Dim => numel(ds) ?? ds.join("·");
    return [{ dtype, shape: [prod(x.slice(0, axis)), prod(x.slice(axis))] }];
  },
};

/** Reshape to the shape held by input 1 (0 copies a dim unless allowzero, −1 is inferred). */
export const reshape: OpRule = {
  types: ["Reshape"],
  family: "shape",
  valueInputs: [1],
  infer(ctx) {
    const x = inputShape(ctx, 0);
    const dtype = ctx.inputs[0]?.dtype ?? "float32";
    const target = ctx.inputs[1]?.value ?? (ctx.attrs.has("shape") ? ctx.attrs.ints("shape") : undefined);
    if (!target) return [{ dtype }];
    const allowZero = ctx.attrs.int("allowzero", 0) === 1;
    const out: Dim[] = target.map((d, i) => (d === 0 && !allowZero ? (x?.[i] ?? `d${i}`) : d));
    const minus = out.indexOf(-1);
    if (out.filter((d) => d === -1).length > 1) layerError(ctx, "reshape target has more than one -1");
    if (minus >= 0) {
      const total = x ? numel(x) : null;
      const rest = numel(out.filter((_, i) => i !== minus));
      if (total === null || rest === null) out[minus] = "?";
      else {
        if (rest === 0 || total % rest !== 0) layerError(ctx, `cannot reshape ${x?.join("×")} into ${target.join("×")}`);
        out[minus] = total / rest;
      }
    } else if (x) {
      const a = numel(x);
      const b = numel(out);
      if (a !== null && b !== null && a !== b)
        layerError(ctx, `cannot reshape ${x.join("×")} (${a} elements) into ${out.join("×")} (${b})`);
    }
    if (out.some((d) => typeof d === "number" && d < 0)) layerError(ctx, `negative dimension in reshape target ${target.join("×")}`);
    return [{ dtype, shape: out, value: ctx.inputs[0]?.value }];
  },
  field(ctx) {
    // A reshape that keeps [N, C, spatial…] spatial dims is pointwise; otherwise positions mix.
    const x = ctx.inputs[0]?.shape;
    const y = ctx.outputs[0]?.shape;
    if (x && y && x.length === y.length && x.slice(2).every((d, i) => d === y[i + 2])) return { kind: "pointwise" };
    return { kind: "global" };
  },
};
