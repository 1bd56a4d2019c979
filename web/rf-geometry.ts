import { unitSpan } from "../src/analysis/rf-query.js";
import { parseFrac } from "../src/core/fraction.js";
import type { AxisFieldJson, Report } from "../src/core/report.js";
import { localField } from "./format.js";

/**
 * What the receptive-field view needs about one tensor, per image axis, taken from the
 * report: which input pixels a unit sees is the library's `unitSpan` (rf-query), the unit
 * counts and the padding-free units are `rf_region`. Only the inverse — the unit under
 * the pointer — is computed here. Free of DOM so tests run it without a browser.
 */
export interface FieldView {
  tensor: string;
  field: AxisFieldJson;
  /** Units per image axis (H, W). */
  units: number[];
  /** Image pixels per axis. */
  pixels: number[];
  /** Units whose whole field is inside the image, per axis [first, last], or null. */
  valid: [number, number][] | null;
}

/** The view of a tensor with a 2-D local field on a known image size, or undefined. */
export function fieldView(r: Report, tensor: string): FieldView | undefined {
  const t = r.tensors[tensor];
  const field = localField(t?.rf);
  const units = t?.rf_region?.units;
  const image = r.inputs.find((i) => i.shape.length >= 3)?.shape.slice(2);
  if (!field || !units || !image || field.size.length !== 2 || units.length !== 2 || image.length !== 2) return undefined;
  if (image.some((d) => typeof d !== "number")) return undefined;
  const v = t.rf_region?.valid;
  return {
    tensor,
    field,
    units,
    pixels: image as number[],
    valid: v ? v.start.map((s, a) => [s, v.end[a]] as [number, number]) : null,
  };
}

/** First and last input pixel unit u sees along an axis (may lie in the padding). */
export const span = (v: FieldView, axis: number, u: number): [number, number] => unitSpan(v.field, axis, u);

/** Centre of unit u's field in pixel-index coordinates. */
export function centre(v: FieldView, axis: number, u: number): number {
  const [s, e] = span(v, axis, u);
  return (s + e) / 2;
}

/** The unit whose field is centred nearest x (pixel-index coordinates) along an axis. */
export function unitAt(v: FieldView, axis: number, x: number): number {
  const st = parseFrac(v.field.stride[axis]);
  const stride = st.num / st.den;
  const guess = Math.round((x - centre(v, axis, 0)) / stride);
  const n = v.units[axis];
  let best = 0;
  let bestD = Number.POSITIVE_INFINITY;
  // Phases (after up-sampling) shift centres by less than a period: look around the guess.
  const period = v.field.phases?.[axis]?.period ?? 1;
  for (let u = guess - period - 1; u <= guess + period + 1; u++) {
    if (u < 0 || u >= n) continue;
    const d = Math.abs(centre(v, axis, u) - x);
    if (d < bestD) {
      bestD = d;
      best = u;
    }
  }
  return bestD === Number.POSITIVE_INFINITY ? (guess < 0 ? 0 : n - 1) : best;
}

/** Input coordinates the drawing must cover: the image plus the padding any field reaches. */
export function extent(v: FieldView, axis: number): [number, number] {
  const n = v.units[axis];
  const period = v.field.phases?.[axis]?.period ?? 1;
  let lo = 0;
  let hi = v.pixels[axis] - 1;
  for (let k = 0; k < Math.min(n, period); k++) {
    lo = Math.min(lo, span(v, axis, k)[0]);
    hi = Math.max(hi, span(v, axis, n - 1 - k)[1]);
  }
  return [lo, hi];
}
