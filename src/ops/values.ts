import type { DType } from "../core/dtype.js";
import type { Shape } from "../core/shape.js";
import type { TensorState } from "./rule.js";

/**
 * Element values are carried only for tensors this small: enough for the shape arithmetic
 * exporters emit (Shape → Gather → Concat → Reshape), never for activations.
 */
export const VALUE_LIMIT = 1024;

const INTEGRAL = new Set<DType>(["int4", "uint4", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "bool"]);

/** Integer (and bool) types: their division truncates and casts to them round toward zero. */
export function isIntegral(t: DType): boolean {
  return INTEGRAL.has(t);
}

/** Values converted as Cast does: to integers by truncation toward zero, to bool as 0/1. */
export function castValues(v: readonly number[], to: DType): number[] {
  if (to === "bool") return v.map((x) => (x !== 0 ? 1 : 0));
  if (isIntegral(to)) return v.map((x) => Math.trunc(x));
  if (to === "float32") return v.map((x) => Math.fround(x));
  return [...v];
}

/** The element count of a fully known shape small enough to carry values, else undefined. */
export function smallCount(shape: Shape | undefined): number | undefined {
  if (!shape) return undefined;
  let n = 1;
  for (let k = 0; k < shape.length; k++) {
    const d = shape[k];
    if (typeof d !== "number") return undefined;
    n *= d;
    if (n > VALUE_LIMIT) return undefined;
  }
  return n;
}

/** Row-major strides of a known shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/** The multi-index of flat position `flat` in a row-major shape. */
export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = flat % shape[i];
    flat = Math.floor(flat / shape[i]);
  }
  return idx;
}

/** Flat position in `shape` of the output index `idx` under numpy broadcasting (right-aligned, size-1 dims repeat). */
export function broadcastOffset(idx: readonly number[], shape: readonly number[]): number {
  const off = idx.length - shape.length;
  let flat = 0;
  for (let i = 0; i < shape.length; i++) flat = flat * shape[i] + (shape[i] === 1 ? 0 : idx[i + off]);
  return flat;
}

/**
 * Applies `f` element by element over broadcast inputs whose values are all known, for an
 * output of shape `out`; undefined when a value or dim is unknown or the output is large.
 */
export function foldBroadcast(
  inputs: readonly (TensorState | undefined)[],
  out: Shape | undefined,
  f: (xs: number[]) => number,
): number[] | undefined {
  const n = smallCount(out);
  if (n === undefined || inputs.length === 0) return undefined;
  const shapes: number[][] = [];
  const vals: (readonly number[])[] = [];
  for (const t of inputs) {
    if (!t?.shape || smallCount(t.shape) === undefined) return undefined;
    const v = t.value;
    if (!v || v.length !== smallCount(t.shape)) return undefined;
    shapes.push(t.shape as number[]);
    vals.push(v);
  }
  const outShape = out as number[];
  return Array.from({ length: n }, (_, flat) => {
    const idx = unravel(flat, outShape);
    return f(vals.map((v, j) => v[broadcastOffset(idx, shapes[j])]));
  });
}
