import type { DType } from "../core/dtype.js";
import type { Shape } from "../core/shape.js";
import { layerError, type RuleContext } from "./rule.js";

/** A negative axis counts from the end; out of range is a layer error. */
export function normAxis(ctx: RuleContext, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) layerError(ctx, `axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Normalized, duplicate-free axes. */
export function normAxes(ctx: RuleContext, axes: readonly number[], rank: number): number[] {
  const out = axes.map((a) => normAxis(ctx, a, rank));
  if (new Set(out).size !== out.length) layerError(ctx, `axes ${axes.join(",")} repeat an axis`);
  return out;
}

/**
 * An integer-list argument that ONNX moved from an attribute to an input at some opset
 * (Squeeze axes, Split sizes, Pad pads, Slice starts, Reduce axes…). Whichever form the
 * node carries is read, so readers of other formats may use either; `undefined` means not
 * given, `"unknown"` means given as an input whose values are not known.
 */
export function listArg(ctx: RuleContext, attr: string, input: number): readonly number[] | "unknown" | undefined {
  const t = ctx.inputs[input];
  if (t) return t.value ?? "unknown";
  return ctx.attrs.has(attr) ? ctx.attrs.ints(attr) : undefined;
}

/** A scalar argument given as an attribute or an input (Clip min, TopK k…). */
export function scalarArg(ctx: RuleContext, attr: string, input: number): number | "unknown" | undefined {
  const t = ctx.inputs[input];
  if (t) {
    if (!t.value) return "unknown";
    if (t.value.length !== 1) layerError(ctx, `input ${input} must hold one value, got ${t.value.length}`);
    return t.value[0];
  }
  return ctx.attrs.has(attr) ? ctx.attrs.float(attr) : undefined;
}

/** Input i's dtype (float32 when the input is absent). */
export function dtypeOf(ctx: RuleContext, i = 0): DType {
  return ctx.inputs[i]?.dtype ?? "float32";
}

/** Output of an op whose result has input 0's shape and dtype (activations, norms). */
export function sameAsInput(ctx: RuleContext): { dtype: DType; shape?: Shape }[] {
  const x = ctx.inputs[0];
  return [{ dtype: x?.dtype ?? "float32", shape: x?.shape }];
}

/** True when every dim is a known number. */
export function isKnown(s: Shape): s is number[] {
  return s.every((d) => typeof d === "number");
}
