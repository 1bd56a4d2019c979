import { ConvscopeError } from "../core/errors.js";
import { type Frac, frac, parseFrac } from "../core/fraction.js";
import type { AxisFieldJson, Report } from "../core/report.js";

/**
 * Questions about receptive fields, answered from a Report alone (so the CLI and the web
 * page share them): which pixels a unit sees, which units see a pixel, where the field
 * first reaches a size.
 */

export interface UnitBox {
  tensor: string;
  unit: number[];
  /** Per axis, first and last input pixel the unit sees (may lie in the padding). */
  start: number[];
  end: number[];
  /**
   * The same box clipped to the pixels the unit really reads: the image, and where the report
   * knows it (`rf_region.reads`) the range some unit of the tensor reads; null when empty.
   */
  clipped: { start: number[]; end: number[] } | null;
  /** Centre of the box per axis (a half pixel when the size is even). */
  centre: number[];
  /** True when the field given is the local path's of a tensor that is also global. */
  local: boolean;
}

/** The local field of a tensor, or an error naming what is missing. */
function axesOf(r: Report, tensor: string): { f: AxisFieldJson; local: boolean } {
  const t = r.tensors[tensor];
  if (!t) throw new ConvscopeError(`no tensor '${tensor}' in the model`);
  const rf = t.rf;
  if (!rf) throw new ConvscopeError(`tensor '${tensor}' does not depend on the image`);
  if ("global" in rf) {
    if (!rf.local) throw new ConvscopeError(`every unit of '${tensor}' sees the whole image (global)`);
    return { f: rf.local, local: true };
  }
  return { f: rf, local: false };
}

/** Image size per axis (the first input with spatial axes). */
function imageSize(r: Report): number[] {
  const s = r.inputs.find((i) => i.shape.length >= 3)?.shape.slice(2);
  if (!s || s.some((d) => typeof d !== "number")) throw new ConvscopeError("the image size is not known (bind it with --input)");
  return s as number[];
}

/** Unit u's first and last pixel along axis a: u·S − P_φ … + r_φ − 1 with φ = u mod period ([+∞, −∞] when it sees none). */
export function unitSpan(f: AxisFieldJson, a: number, u: number): [number, number] {
  const ph = f.phases?.[a];
  const phase = ph ? ((u % ph.period) + ph.period) % ph.period : 0;
  const s: Frac = parseFrac(f.stride[a]);
  const size = ph ? ph.size[phase] : f.size[a];
  if (size === 0) return [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]; // this unit reads no pixel
  const p: Frac = parseFrac((ph ? ph.padding[phase] : f.padding[a]) as number | string);
  const start = frac(u * s.num * p.den - p.num * s.den, s.den * p.den);
  if (start.den !== 1) throw new Error(`non-integer start ${start.num}/${start.den}`);
  return [start.num, start.num + size - 1];
}

export function unitBox(r: Report, tensor: string, unit: number[]): UnitBox {
  const { f, local } = axesOf(r, tensor);
  if (unit.length !== f.size.length)
    throw new ConvscopeError(`tensor '${tensor}' has ${f.size.length} spatial axes, got a unit with ${unit.length}`);
  const dims = spatialDims(r, tensor);
  unit.forEach((u, a) => {
    if (!Number.isInteger(u) || u < 0 || (dims[a] !== undefined && u >= dims[a])) {
      throw new ConvscopeError(`unit ${unit.join(",")} is outside '${tensor}' (${dims.join("×")})`);
    }
  });
  const img = imageSize(r);
  const spans = unit.map((u, a) => unitSpan(f, a, u));
  const start = spans.map((s) => s[0]);
  const end = spans.map((s) => s[1]);
  const reads = readRange(r, tensor, img);
  const live = liveUnits(r, tensor, dims);
  const cs = start.map((s, a) => Math.max(s, reads[a][0]));
  const ce = end.map((e, a) => Math.min(e, reads[a][1]));
  const reads1 = unit.every((u, a) => u >= live[a][0] && u <= live[a][1]);
  const clipped = reads1 && cs.every((s, a) => s <= ce[a]) ? { start: cs, end: ce } : null;
  return { tensor, unit, start, end, clipped, centre: start.map((s, a) => (s + end[a]) / 2), local };
}

/** Units of a tensor whose field contains an input pixel: per axis, the ranges of unit indices. */
export function unitsSeeing(r: Report, tensor: string, pixel: number[]): { tensor: string; pixel: number[]; ranges: [number, number][][] } {
  const { f } = axesOf(r, tensor);
  const img = imageSize(r);
  if (pixel.length !== f.size.length)
    throw new ConvscopeError(`the image has ${f.size.length} spatial axes, got a pixel with ${pixel.length}`);
  pixel.forEach((p, a) => {
    if (!Number.isInteger(p) || p < 0 || p >= img[a])
      throw new ConvscopeError(`pixel ${pixel.join(",")} is outside the image (${img.join("×")})`);
  });
  const dims = spatialDims(r, tensor);
  const reads = readRange(r, tensor, img);
  const live = liveUnits(r, tensor, dims);
  const ranges = pixel.map((p, a) => {
    const out: [number, number][] = [];
    // A pixel no unit of the tensor reads (past the last window of some layer) is seen by none.
    if (p < reads[a][0] || p > reads[a][1]) return out;
    for (let u = Math.max(0, live[a][0]); u <= Math.min(dims[a] - 1, live[a][1]); u++) {
      const [s, e] = unitSpan(f, a, u);
      if (s > p || e < p) continue;
      const last = out[out.length - 1];
      if (last && last[1] === u - 1) last[1] = u;
      else out.push([u, u]);
    }
    return out;
  });
  return { tensor, pixel, ranges };
}

/** The first tensor, in execution order, whose local field reaches n pixels on every axis. */
export function firstReaching(r: Report, n: number): { tensor: string; layer: string; size: number[] } | undefined {
  for (const l of r.layers) {
    for (const o of l.outputs) {
      const rf = r.tensors[o]?.rf;
      if (!rf || "global" in rf) continue;
      if (rf.size.length > 0 && rf.size.every((s) => s >= n)) return { tensor: o, layer: l.name, size: rf.size };
    }
  }
  return undefined;
}

/** Per axis, the pixels some unit of the tensor reads: `rf_region.reads` when known, else the whole image. */
function readRange(r: Report, tensor: string, img: number[]): [number, number][] {
  const reads = r.tensors[tensor]?.rf_region?.reads;
  return img.map((n, a) => [Math.max(0, reads?.start[a] ?? 0), Math.min(n - 1, reads?.end[a] ?? n - 1)]);
}

/** Per axis, the units that read any pixel: `rf_region.reads` when known, else all. */
function liveUnits(r: Report, tensor: string, dims: number[]): [number, number][] {
  const reads = r.tensors[tensor]?.rf_region?.reads;
  return dims.map((n, a) => [reads?.units_start[a] ?? 0, reads?.units_end[a] ?? n - 1]);
}

function spatialDims(r: Report, tensor: string): number[] {
  const units = r.tensors[tensor]?.rf_region?.units;
  if (!units) throw new ConvscopeError(`the shape of '${tensor}' along the image axes is not known`);
  return units;
}
