import type { FieldJson, Report } from "../core/report.js";
import type { Shape } from "../core/shape.js";

/** 1234567 → "1,234,567" (exact). */
export function exact(n: number | null | undefined): string {
  return n === null || n === undefined ? "?" : n.toLocaleString("en-US");
}

/** Compact count with SI units: 105415200 → "105.42M". */
export function compact(n: number | null | undefined): string {
  if (n === null || n === undefined) return "?";
  const abs = Math.abs(n);
  for (const [unit, v] of [
    ["T", 1e12],
    ["G", 1e9],
    ["M", 1e6],
    ["K", 1e3],
  ] as const) {
    if (abs >= v) return `${(n / v).toFixed(2)}${unit}`;
  }
  return String(n);
}

/** Bytes with binary units: 243860896 → "232.57 MiB". */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return "?";
  for (const [unit, v] of [
    ["GiB", 2 ** 30],
    ["MiB", 2 ** 20],
    ["KiB", 2 ** 10],
  ] as const) {
    if (n >= v) return `${(n / v).toFixed(2)} ${unit}`;
  }
  return `${n} B`;
}

/** A tensor shape without its batch dim (what a per-image report shows). */
export function perImageShape(shape: Shape | undefined, batch: number): string {
  if (!shape) return "?";
  const s = shape.length > 1 && shape[0] === batch ? shape.slice(1) : shape;
  return s.length === 0 ? "scalar" : s.join("×");
}

/** "11/4" for a square field (size/stride), "7×5/4" when axes differ, "global". */
export function fieldShort(rf: FieldJson | undefined): string {
  if (!rf) return "";
  if ("global" in rf) return "global";
  const join = (xs: (number | string)[]) => (xs.every((x) => x === xs[0]) ? String(xs[0]) : xs.join("×"));
  return `${join(rf.size)}/${join(rf.stride)}`;
}

/** Share of a total as a percentage with one decimal. */
export function share(part: number | null, total: number | null): string {
  if (!part || !total) return "";
  return `${((100 * part) / total).toFixed(1)}%`;
}

/** The receptive field of the first output's tensor for a layer. */
export function layerField(r: Report, output: string | undefined): FieldJson | undefined {
  return output ? r.tensors[output]?.rf : undefined;
}
