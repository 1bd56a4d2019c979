import type { AnalyzeOptions } from "../analysis/index.js";
import { unitSpan } from "../analysis/rf-query.js";
import { ConvscopeError } from "../core/errors.js";
import type { AxisFieldJson, FieldRegion, Report } from "../core/report.js";
import { loadForRuntime } from "./measure.js";
import { pruneTo, writeModel } from "./onnx-edit.js";
import { createSession, loadOrt, type OrtTensor, runSession } from "./ort.js";
import { fillInitializers, impulseActivations } from "./prepare.js";

/**
 * `convscope verify-rf`: the analytic receptive field checked against the network itself.
 * The graph is rewritten so its response to a single-pixel impulse is nonzero exactly
 * where the field says (src/runtime/prepare.ts: positive weights, zero biases, batch norm
 * as identity, √ReLU activations, max pooling kept), run in onnxruntime on a zero image
 * and on impulses, and the output units that changed are compared, axis by axis, with the
 * units whose analytic field contains the pixel (rf-query's unitSpan).
 *
 * Impulse pixels come from the claimed field: along each axis, the image's first and last
 * pixel and the pixels on both sides of every unit's field border inside the image — where
 * a field one pixel too wide, too narrow or shifted shows.
 *
 * A tensor that is `global` with a local path (a squeeze-excitation gate multiplies it) is
 * checked against its local field: on a zero background the gate only scales units that
 * are already nonzero, so the impulse's support is the local path's.
 */

export interface AxisCheck {
  axis: number;
  /** Units of the tensor along the axis. */
  units: number;
  expected: [number, number][];
  touched: [number, number][];
}

export interface ImpulseCheck {
  pixel: number[];
  ok: boolean;
  axes: AxisCheck[];
}

export interface TensorCheck {
  tensor: string;
  field: AxisFieldJson | "global";
  /** The field compared was the local path's of a global tensor. */
  local: boolean;
  impulses: ImpulseCheck[];
  ok: boolean;
  /** The first disagreement, in words. */
  disagreement?: string;
}

export interface VerifyOptions extends AnalyzeOptions {
  /** Tensors to check (default: the last feature map). */
  tensors?: string[];
  /** Impulses per tensor at most (default 8). */
  maxImpulses?: number;
  threads?: number;
  /** Test-only: change the report's fields before comparing (a deliberately wrong field). */
  mutate?: (r: Report) => void;
  progress?: (done: number, total: number) => void;
}

export interface VerifyResult {
  model: string;
  image: number[];
  tensors: TensorCheck[];
  ok: boolean;
  /** Layers whose activation the impulse variant changed. */
  activations_changed: number;
}

/** The last tensor, in execution order, laid out along the image axes with more than one unit: the last feature map. */
export function lastFeatureMap(r: Report): string {
  for (let i = r.layers.length - 1; i >= 0; i--) {
    for (const o of r.layers[i].outputs) {
      const t = r.tensors[o];
      const units = t?.rf_region?.units;
      if (units && t.rf && t.shape && t.shape.length >= 3 && units.some((u) => u > 1)) return o;
    }
  }
  throw new ConvscopeError("no tensor laid out along the image axes (nothing to verify)");
}

function fieldOf(r: Report, tensor: string): { f: AxisFieldJson | "global"; local: boolean } {
  const t = r.tensors[tensor];
  if (!t) throw new ConvscopeError(`no tensor '${tensor}' in the model`);
  const rf = t.rf;
  if (!rf) throw new ConvscopeError(`tensor '${tensor}' does not depend on the image`);
  if ("global" in rf) return rf.local ? { f: rf.local, local: true } : { f: "global", local: false };
  return { f: rf, local: false };
}

/**
 * Units (per axis, as ranges) whose field contains pixel p along axis a — among the units
 * that read any pixel, and none when no unit reads p (`rf_region.reads`, as rf-query's unitsSeeing).
 */
function expectedRanges(f: AxisFieldJson | "global", a: number, p: number, n: number, reads?: FieldRegion["reads"]): [number, number][] {
  if (f === "global") return [[0, n - 1]];
  const set: boolean[] = [];
  const outside = reads && (p < reads.start[a] || p > reads.end[a]);
  for (let u = 0; u < n; u++) {
    const [s, e] = unitSpan(f, a, u);
    const live = !reads || (u >= reads.units_start[a] && u <= reads.units_end[a]);
    set.push(!outside && live && s <= p && p <= e);
  }
  return ranges(set);
}

function ranges(set: readonly boolean[]): [number, number][] {
  const out: [number, number][] = [];
  set.forEach((on, u) => {
    if (!on) return;
    const last = out[out.length - 1];
    if (last && last[1] === u - 1) last[1] = u;
    else out.push([u, u]);
  });
  return out;
}

/** Pixels along one axis where a wrong field would show: image ends and both sides of each unit's field borders. */
function axisPixels(f: AxisFieldJson | "global", a: number, n: number, img: number): number[] {
  const c = new Set<number>([0, img - 1]);
  if (f !== "global") {
    for (let u = 0; u < n; u++) {
      const [s, e] = unitSpan(f, a, u);
      for (const p of [s - 1, s, e, e + 1]) if (p >= 0 && p < img) c.add(p);
    }
  }
  return [...c].sort((x, y) => x - y);
}

/** Up to `k` items, evenly spread, always keeping the first and last. */
function spread<T>(xs: readonly T[], k: number): T[] {
  if (xs.length <= k) return [...xs];
  const out: T[] = [];
  for (let i = 0; i < k; i++) out.push(xs[Math.round((i * (xs.length - 1)) / (k - 1))]);
  return out;
}

const show = (rs: [number, number][]) => (rs.length === 0 ? "none" : rs.map(([a, b]) => (a === b ? `${a}` : `${a}…${b}`)).join(", "));

export async function verifyRf(file: string, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const ort = await loadOrt();
  const { report, model } = loadForRuntime(file, opts);
  opts.mutate?.(report);
  const imageInput = report.inputs.find((i) => i.shape.length >= 3);
  if (!imageInput) throw new ConvscopeError("no image input (an input with spatial axes)", { file });
  const shape = imageInput.shape as number[];
  const img = shape.slice(2);
  const tensors = opts.tensors && opts.tensors.length > 0 ? opts.tensors : [lastFeatureMap(report)];
  const fields = tensors.map((t) => ({ tensor: t, ...fieldOf(report, t) }));
  for (const { tensor } of fields) {
    const units = report.tensors[tensor]?.rf_region?.units;
    const sh = report.tensors[tensor]?.shape;
    if (!units || !sh || sh.length !== units.length + 2 || units.some((u, a) => sh[a + 2] !== u))
      throw new ConvscopeError(`tensor '${tensor}' is not laid out N, C, then the image axes: cannot map its units`, { file });
  }

  pruneTo(model, tensors);
  fillInitializers(model, "impulse");
  const changed = impulseActivations(model);
  for (const v of model.inputs)
    if (v.name !== imageInput.name) throw new ConvscopeError(`the field's path reads a second input '${v.name}'`, { file });
  const session = await createSession(ort, writeModel(model), opts.threads ? { intraOpNumThreads: opts.threads } : {}, file);

  // Impulses: pixels per axis from every checked tensor's claimed field, paired up.
  const k = opts.maxImpulses ?? 8;
  const perAxis = img.map((size, a) => {
    const all = new Set<number>();
    for (const f of fields) for (const p of axisPixels(f.f, a, (report.tensors[f.tensor].rf_region?.units ?? [])[a], size)) all.add(p);
    return spread(
      [...all].sort((x, y) => x - y),
      k,
    );
  });
  const count = Math.max(...perAxis.map((p) => p.length));
  const pixels: number[][] = [];
  for (let i = 0; i < count; i++) pixels.push(perAxis.map((ps) => ps[i % ps.length]));

  const n = shape.reduce((a, d) => a * d, 1);
  const channels = shape[1];
  const plane = img.reduce((a, d) => a * d, 1);
  const run = async (pixel?: number[]): Promise<Record<string, OrtTensor>> => {
    const data = new Float32Array(n);
    if (pixel) {
      let off = 0;
      for (let a = 0; a < img.length; a++) off = off * img[a] + pixel[a];
      for (let b = 0; b < shape[0]; b++) for (let c = 0; c < channels; c++) data[(b * channels + c) * plane + off] = 1;
    }
    return runSession(session, { [imageInput.name]: new ort.Tensor("float32", data, shape) }, file);
  };
  const base = await run();
  opts.progress?.(1, pixels.length + 1);
  const checks: TensorCheck[] = fields.map((f) => ({ tensor: f.tensor, field: f.f, local: f.local, impulses: [], ok: true }));
  for (let i = 0; i < pixels.length; i++) {
    const out = await run(pixels[i]);
    opts.progress?.(i + 2, pixels.length + 1);
    fields.forEach((f, ti) => {
      const o = out[f.tensor];
      const b = base[f.tensor];
      const d = o.dims;
      const sp = d.slice(2);
      const touched = sp.map((s) => new Array<boolean>(s).fill(false));
      const od = o.data as Float32Array;
      const bd = b.data as Float32Array;
      const inner = sp.reduce((a, x) => a * x, 1);
      const idx = new Array<number>(sp.length).fill(0);
      for (let j = 0; j < od.length; j++) {
        if (od[j] === bd[j]) continue;
        let r = j % inner;
        for (let a = sp.length - 1; a >= 0; a--) {
          idx[a] = r % sp[a];
          r = Math.floor(r / sp[a]);
        }
        idx.forEach((u, a) => {
          touched[a][u] = true;
        });
      }
      const axes: AxisCheck[] = sp.map((s, a) => ({
        axis: a,
        units: s,
        expected: expectedRanges(f.f, a, pixels[i][a], s, report.tensors[f.tensor].rf_region?.reads),
        touched: ranges(touched[a]),
      }));
      const ok = axes.every((x) => show(x.expected) === show(x.touched));
      checks[ti].impulses.push({ pixel: pixels[i], ok, axes });
      if (!ok && checks[ti].ok) {
        checks[ti].ok = false;
        const bad = axes.find((x) => show(x.expected) !== show(x.touched)) as AxisCheck;
        checks[ti].disagreement =
          `impulse at pixel ${pixels[i].join(",")}: along axis ${bad.axis} the field says units ${show(bad.expected)} see it, the network changed units ${show(bad.touched)}`;
      }
    });
  }
  await session.release();
  return { model: file, image: img, tensors: checks, ok: checks.every((c) => c.ok), activations_changed: changed.length };
}

export function renderVerify(v: VerifyResult): string {
  const lines: string[] = [];
  for (const t of v.tensors) {
    const f =
      t.field === "global" ? "global" : `r ${t.field.size.join("×")}, S ${t.field.stride.join("×")}, P ${t.field.padding.join("×")}`;
    const head = `${t.ok ? "✓" : "✗"} ${t.tensor} (${f}${t.local ? ", local path of a global tensor" : ""}): ${t.impulses.length} impulses on ${v.image.join("×")}`;
    lines.push(t.ok ? head : `${head}\n  ${t.disagreement}`);
  }
  return `${lines.join("\n")}\n`;
}
