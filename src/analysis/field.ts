import { ConvscopeError } from "../core/errors.js";
import { floorDiv, frac, fracJson, gcd, mod } from "../core/fraction.js";
import type { SharedLists } from "../core/lists.js";
import type { AxisFieldJson, FieldJson, FieldRegion } from "../core/report.js";
import type { Shape } from "../core/shape.js";
import type { Field, Resample } from "../ops/rule.js";
import type { LayerState } from "./shapes.js";

/**
 * Receptive fields, exact on any graph (rules: shared/notes/receptive-field.md).
 *
 * Along one image axis, a tensor's field is *periodic*: unit u = q·period + φ sees image
 * pixels q·shift + lo[φ] … q·shift + hi[φ]. Ordinary nets have period 1, so unit u sees
 * u·S − P … u·S − P + r − 1 with S = shift, P = −lo[0], r = hi[0] − lo[0] + 1. After
 * up-sampling the effective stride shift/period is a fraction and the field can differ
 * by output phase, which this representation keeps exactly.
 */
export interface Periodic {
  period: number;
  shift: number;
  lo: number[];
  hi: number[];
}

export interface TensorField {
  /** Per tensor axis: the image axis it runs along, or null (batch, channels, features). */
  axes: (number | null)[];
  /** Per image axis: the field of the local (convolutional) path; absent when that path went global. */
  local?: Periodic[];
  /** Some output depends on every input position (global pooling, FC, an SE gate). */
  global: boolean;
  /** False once a merge joined paths whose strides or centres differ. */
  aligned: boolean;
  /** A path runs through an op convscope does not know. */
  unknown?: boolean;
  /**
   * Per image axis (like `local`): the first and last image pixel that at least one unit of
   * the tensor really reads, or null when not known. A window's last unit may reach past its
   * input's last unit; the pixels only such missing units would read are read by nobody
   * (SqueezeNet 1.0's 7×7/2 unpadded stem never reads pixel 223 of 224). Always a superset
   * of the true range, so clipping a unit's field to it never drops a pixel the unit reads.
   * [0, −1] (start > end) when no unit reads any pixel.
   */
  reads?: ([number, number] | null)[];
  /** Per image axis (with `reads`): the first and last unit that reads any pixel ([0, −1] when none). */
  live?: ([number, number] | null)[];
}

export interface FieldResult {
  /** By tensor id (`ShapeResult.ids`); undefined for a tensor with no field. */
  fields: (TensorField | undefined)[];
  warnings: string[];
}

/** Numbers kept per image axis by a PlainField: shift, lo, hi, then reads and live as first/last (NaN: null). */
const PLAIN = 7;

/**
 * A local, non-global field whose every axis has period 1 and whose reads are tracked — what
 * nearly every tensor of a CNN has — kept as one list of numbers rather than ~10 small objects
 * (its Periodic per axis with two lists, a tuple per axis for reads and live, and their
 * lists). Fields live until the report is made, so on a 100,000-layer graph the objects
 * were millions of survivors the garbage collector copied and marked again and again.
 * `local`, `reads` and `live` are made afresh, as short-lived objects, when read.
 */
class PlainField implements TensorField {
  readonly global = false;
  constructor(
    readonly axes: (number | null)[],
    readonly aligned: boolean,
    readonly unknown: true | undefined,
    readonly v: number[],
  ) {}

  get local(): Periodic[] {
    const n = this.v.length / PLAIN;
    const local: Periodic[] = new Array(n);
    for (let d = 0; d < n; d++) {
      const k = d * PLAIN;
      local[d] = { period: 1, shift: this.v[k], lo: [this.v[k + 1]], hi: [this.v[k + 2]] };
    }
    return local;
  }

  get reads(): ([number, number] | null)[] {
    return this.pairs(3);
  }

  get live(): ([number, number] | null)[] {
    return this.pairs(5);
  }

  private pairs(at: number): ([number, number] | null)[] {
    const n = this.v.length / PLAIN;
    const out: ([number, number] | null)[] = new Array(n);
    for (let d = 0; d < n; d++) out[d] = pairAt(this.v, d * PLAIN + at);
    return out;
  }
}

/** The pair a PlainField keeps at v[k], v[k + 1] (NaN: null). */
function pairAt(v: readonly number[], k: number): [number, number] | null {
  return Number.isNaN(v[k]) ? null : [v[k], v[k + 1]];
}

/** Keeps a pair (null as NaN) at v[k], v[k + 1]. */
function putPair(v: number[], k: number, pair: readonly [number, number] | null | undefined): void {
  v[k] = pair ? pair[0] : Number.NaN;
  v[k + 1] = pair ? pair[1] : Number.NaN;
}

/** The field to keep for a tensor: a PlainField when it is one, else the field itself. */
function stored(f: TensorField): TensorField {
  if (f instanceof PlainField || f.global || !f.local || !f.reads || !f.live) return f;
  const n = f.local.length;
  if (f.reads.length !== n || f.live.length !== n) return f;
  const v: number[] = new Array(n * PLAIN).fill(0);
  for (let d = 0; d < n; d++) {
    const p = f.local[d];
    if (p.period !== 1) return f;
    const k = d * PLAIN;
    v[k] = p.shift;
    v[k + 1] = p.lo[0];
    v[k + 2] = p.hi[0];
    putPair(v, k + 3, f.reads[d]);
    putPair(v, k + 5, f.live[d]);
  }
  return new PlainField(f.axes, f.aligned, f.unknown ? true : undefined, v);
}

/** A plain object copy of a field (a PlainField's parts are getters, which a spread would not copy). */
function plain(f: TensorField): TensorField {
  return { axes: f.axes, local: f.local, global: f.global, aligned: f.aligned, unknown: f.unknown, reads: f.reads, live: f.live };
}

/** A phase table longer than this is summarised by its bounding field (and flagged not aligned). */
const MAX_PERIOD = 4096;

const IDENTITY: Periodic = { period: 1, shift: 1, lo: [0], hi: [0] };

/** Unit u's image interval along one axis. */
export function unitInterval(f: Periodic, u: number): [number, number] {
  const q = floorDiv(u, f.period);
  const phase = mod(u, f.period);
  return [q * f.shift + f.lo[phase], q * f.shift + f.hi[phase]];
}

/**
 * The field after a rational window: output o reads input units
 * floor((num·o + lo)/den) … floor((num·o + hi)/den), and sees the union of what they see.
 */
export function compose(f: Periodic, r: Resample): Periodic | null {
  if (f.period === 1 && r.den === 1 && r.hi >= r.lo) {
    // The common case (a conv or pooling window on a plain field), in closed form: the window
    // reads units o·num + lo … the last one ≤ o·num + hi, stepping by `step`.
    const step = r.step ?? 1;
    const last = r.lo + Math.floor((r.hi - r.lo) / step) * step;
    return { period: 1, shift: r.num * f.shift, lo: [r.lo * f.shift + f.lo[0]], hi: [last * f.shift + f.hi[0]] };
  }
  const g = gcd(r.num, r.den) || 1;
  const stepIn = r.num / g; // input units advanced per `den/g` outputs
  const k = f.period / gcd(f.period, stepIn);
  const period = (r.den / g) * k;
  const shift = ((k * stepIn) / f.period) * f.shift;
  if (period > MAX_PERIOD) return null;
  const lo: number[] = [];
  const hi: number[] = [];
  for (let o = 0; o < period; o++) {
    // An empty window (a transposed conv's holes when stride > kernel) reads nothing: the
    // phase stays empty (lo = +∞, hi = −∞) and merges and later windows skip it.
    const a = floorDiv(r.num * o + r.lo, r.den);
    const b = floorDiv(r.num * o + r.hi, r.den);
    let l = Number.POSITIVE_INFINITY;
    let h = Number.NEGATIVE_INFINITY;
    // The window reads a, a + step, … ≤ b. Unit u + period sees exactly `shift` pixels further
    // than u, so the lowest start lies among the first `period` units read and the highest
    // end among the last.
    const step = r.step ?? 1;
    const count = b < a ? 0 : Math.floor((b - a) / step) + 1;
    const last = a + (count - 1) * step;
    for (let i = 0; i < Math.min(count, f.period); i++) {
      const [x] = unitInterval(f, a + i * step);
      const [, y] = unitInterval(f, last - i * step);
      if (x < l) l = x;
      if (y > h) h = y;
    }
    lo.push(l);
    hi.push(h);
  }
  return { period, shift, lo, hi };
}

/** A period-1 field bounding unit 0's, for when the exact phase table would be too long (reported as not aligned). */
function bound(f: Periodic, r: Resample): Periodic {
  const lo = Math.min(...f.lo);
  const hi = Math.max(...f.hi);
  // Effective stride num/den·shift/period rounded up to an integer pixel count.
  const shift = Math.max(1, Math.ceil((r.num * f.shift) / (r.den * f.period)));
  const a = floorDiv(r.lo, r.den);
  const b = floorDiv(r.hi, r.den) + 1;
  return { period: 1, shift, lo: [floorDiv(a, f.period) * f.shift + lo], hi: [floorDiv(b, f.period) * f.shift + hi] };
}

/** Expands a field to a longer period (a multiple of its own). */
function toPeriod(f: Periodic, period: number): Periodic {
  const lo: number[] = [];
  const hi: number[] = [];
  for (let u = 0; u < period; u++) {
    const [l, h] = unitInterval(f, u);
    lo.push(l);
    hi.push(h);
  }
  return { period, shift: (f.shift * period) / f.period, lo, hi };
}

/**
 * Joins the fields of several paths on one axis. Aligned (same effective stride and the
 * same centre in every phase): the largest field per phase. Otherwise the union of the
 * intervals, and not aligned.
 */
export function mergeAxis(fs: Periodic[]): { field: Periodic; aligned: boolean } {
  if (fs.length === 1) return { field: fs[0], aligned: true };
  const [a, b] = fs;
  if (fs.length === 2 && a.period === 1 && b.period === 1 && a.shift === b.shift && a.lo[0] <= a.hi[0] && b.lo[0] <= b.hi[0]) {
    // Two plain paths at one stride (a residual add): the wider field, aligned when centred alike.
    const field = { period: 1, shift: a.shift, lo: [Math.min(a.lo[0], b.lo[0])], hi: [Math.max(a.hi[0], b.hi[0])] };
    return { field, aligned: a.lo[0] + a.hi[0] === b.lo[0] + b.hi[0] };
  }
  const sameStride = fs.every((f) => f.shift * fs[0].period === fs[0].shift * f.period);
  let period = fs.reduce((p, f) => (p * f.period) / gcd(p, f.period), 1);
  if (!sameStride || period > MAX_PERIOD) {
    // Not translation-invariant: report the union of what unit 0 sees, at the largest stride.
    period = 1;
    const at0 = fs.map((f) => unitInterval(f, 0));
    const shift = Math.max(...fs.map((f) => f.shift / f.period));
    return {
      field: { period: 1, shift: Math.ceil(shift), lo: [Math.min(...at0.map((x) => x[0]))], hi: [Math.max(...at0.map((x) => x[1]))] },
      aligned: false,
    };
  }
  const ex = fs.map((f) => toPeriod(f, period));
  let aligned = true;
  const lo: number[] = [];
  const hi: number[] = [];
  for (let p = 0; p < period; p++) {
    const centres = ex.filter((f) => f.lo[p] <= f.hi[p]).map((f) => f.lo[p] + f.hi[p]);
    if (centres.some((c) => c !== centres[0])) aligned = false;
    lo.push(Math.min(...ex.map((f) => f.lo[p])));
    hi.push(Math.max(...ex.map((f) => f.hi[p])));
  }
  return { field: { period, shift: ex[0].shift, lo, hi }, aligned };
}

/**
 * Walks the graph in topological order, so every path into a merge is known before the
 * merge is (never layer-list order, which breaks on residual and inception nets).
 */
export function receptiveFields(
  inputs: readonly number[],
  layers: readonly LayerState[],
  states: readonly { shape?: Shape }[],
): FieldResult {
  const fields: (TensorField | undefined)[] = new Array(states.length);
  const warnings: string[] = [];
  for (const id of inputs) {
    const shape = states[id]?.shape;
    if (shape && shape.length >= 3) {
      fields[id] = stored({
        axes: shape.map((_, i) => (i >= 2 ? i - 2 : null)),
        local: shape.slice(2).map(() => IDENTITY),
        global: false,
        aligned: true,
        reads: shape.slice(2).map((d) => (typeof d === "number" && d > 0 ? ([0, d - 1] as [number, number]) : null)),
        live: shape.slice(2).map((d) => (typeof d === "number" && d > 0 ? ([0, d - 1] as [number, number]) : null)),
      });
    }
  }

  for (const layer of layers) {
    const { node, ctx } = layer;
    // Plain loops here: this runs once per layer, 100,000 times on a large graph.
    const ins: (TensorField | undefined)[] = new Array(layer.ins.length);
    let any = false;
    for (let k = 0; k < ins.length; k++) {
      const id = layer.ins[k];
      const f = id < 0 ? undefined : fields[id];
      ins[k] = f;
      if (f) any = true;
    }
    if (!any) continue;
    const inShapes: Shapes = new Array(ctx.inputs.length);
    for (let k = 0; k < inShapes.length; k++) inShapes[k] = ctx.inputs[k]?.shape;
    const outShape = ctx.outputs[0]?.shape;
    let out: TensorField;
    if (!layer.rule || !inShapes[0]) {
      // No rule, or an input shape nobody could infer: geometry is unknown, so the output
      // is at least the merge of its inputs and is flagged as passing an unknown op.
      out = { ...plain(pointwise(ins, inShapes, outShape, node.name, warnings)), unknown: true };
    } else {
      // Inputs read for their values (shapes, pads, scales) are not data paths.
      const value = layer.rule.valueInputs;
      const data = value ? ins.map((f, i) => (value.includes(i) ? undefined : f)) : ins;
      const field = geometry(layer, warnings);
      out = field
        ? apply(field, data, inShapes, outShape, node.name, warnings)
        : { ...plain(pointwise(data, inShapes, outShape, node.name, warnings)), unknown: true };
    }
    if (!outShape || out.axes.length !== outShape.length) {
      // The output's axes could not be followed: its units depend on the whole input.
      out = { axes: (outShape ?? []).map(() => null), global: true, aligned: out.aligned, unknown: out.unknown };
    }
    if (!out.axes.some((a) => a !== null)) {
      // No image axis left: a tensor that mixed positions is global; one that dropped them
      // without mixing (Shape, Size) depends on no position and has no field at all.
      if (!out.global && !out.unknown) continue;
      out = { ...plain(out), local: undefined, global: true };
    }
    const keep = stored(out);
    for (let i = 0; i < layer.outs.length; i++) {
      const o = layer.outs[i];
      if (o < 0) continue;
      // A further output of another rank is computed over every position (DynamicQuantizeLinear's
      // scale and zero point, a norm's batch statistics): it is global, not the data output's field.
      const shape = i > 0 ? ctx.outputs[i]?.shape : undefined;
      fields[o] = shape === undefined || shape.length === keep.axes.length ? keep : globalOf([keep], shape);
    }
  }
  return { fields, warnings };
}

type Shapes = (Shape | undefined)[];

/** The rule's geometry, or undefined (with a warning) when it cannot be known — SAME padding on an unbound size. */
function geometry(layer: LayerState, warnings: string[]): Field | undefined {
  if (!layer.rule?.field) return { kind: "pointwise" };
  try {
    return layer.rule.field(layer.ctx);
  } catch (e) {
    if (!(e instanceof ConvscopeError)) throw e;
    warnings.push(`receptive field: '${layer.node.name}': ${e.message}`);
    return undefined;
  }
}

function apply(
  field: Field,
  ins: (TensorField | undefined)[],
  inShapes: Shapes,
  outShape: Shape | undefined,
  node: string,
  warnings: string[],
): TensorField {
  switch (field.kind) {
    case "global":
      return globalOf(ins, outShape);
    case "pointwise":
      return pointwise(ins, inShapes, outShape, node, warnings);
    case "window":
      return resample(
        field.kernel.map((k, i) => {
          const keff = field.dilation[i] * (k - 1) + 1;
          return { num: field.stride[i], den: 1, lo: -field.padBegin[i], hi: -field.padBegin[i] + keff - 1, step: field.dilation[i] };
        }),
        ins,
        outShape,
        node,
        warnings,
      );
    case "resample":
      return resample(field.axes, ins, outShape, node, warnings);
    case "axes":
      return reaxis(field.map, field.mixed, ins, inShapes, outShape);
    case "repeat":
      return repeat(field, ins, inShapes, outShape, node, warnings);
  }
}

/**
 * A loop's state after `times` iterations: each iteration of a stride-1 body moves the
 * field's ends by what the first one did (F₀ → F₁), so F_T = F₀ + T·(F₁ − F₀) on every axis.
 * Other bodies (a changing stride, phases, a global path) keep one iteration's field, with a warning.
 */
function repeat(
  f: Extract<Field, { kind: "repeat" }>,
  ins: (TensorField | undefined)[],
  inShapes: Shapes,
  outShape: Shape | undefined,
  node: string,
  warnings: string[],
): TensorField {
  const a = ins[f.from];
  const b = ins[f.to];
  const once = () => pointwise(ins, inShapes, outShape, node, warnings);
  const al = a?.local;
  const bl = b?.local;
  if (!a || !b || !al || !bl || a.global || b.global || a.axes.join() !== b.axes.join()) return once();
  const local: Periodic[] = [];
  for (const [i, p1] of bl.entries()) {
    const p0 = al[i];
    if (!p0 || p0.period !== 1 || p1.period !== 1 || p0.shift !== p1.shift) {
      warnings.push(`receptive field: '${node}': its body changes the field's stride or phase; one iteration is reported`);
      return once();
    }
    local.push({
      period: 1,
      shift: p1.shift,
      lo: [p0.lo[0] + f.times * (p1.lo[0] - p0.lo[0])],
      hi: [p0.hi[0] + f.times * (p1.hi[0] - p0.hi[0])],
    });
  }
  return { axes: [...b.axes], local, global: false, aligned: a.aligned && b.aligned, unknown: a.unknown || b.unknown || undefined };
}

function flags(ins: (TensorField | undefined)[]) {
  const present = ins.filter((f) => f !== undefined) as TensorField[];
  return { aligned: present.every((f) => f.aligned), unknown: present.some((f) => f.unknown) || undefined };
}

function globalOf(ins: (TensorField | undefined)[], outShape: Shape | undefined): TensorField {
  return { axes: (outShape ?? []).map(() => null), global: true, ...flags(ins) };
}

/** A window or rational resampling over the trailing axes of input 0. */
function resample(
  rs: Resample[],
  ins: (TensorField | undefined)[],
  outShape: Shape | undefined,
  node: string,
  warnings: string[],
): TensorField {
  const x = ins[0];
  if (!x) return globalOf(ins, outShape);
  if (x instanceof PlainField && onlyFirst(ins)) {
    const plain = resamplePlain(x, rs, outShape);
    if (plain) return plain;
  }
  const rank = x.axes.length;
  const local = x.local ? [...x.local] : undefined;
  const reads = x.reads ? [...x.reads] : undefined;
  const live = x.live ? [...x.live] : undefined;
  let { aligned, unknown } = flags(ins);
  rs.forEach((r, i) => {
    const t = rank - rs.length + i;
    const a = x.axes[t];
    if (a === null || a === undefined || !local) return;
    const exact = compose(local[a], r);
    if (exact) local[a] = exact;
    else {
      local[a] = bound(local[a], r);
      aligned = false;
      warnings.push(
        `receptive field: '${node}': the per-phase field on axis ${a} would repeat only every ${MAX_PERIOD}+ units; a bound is reported`,
      );
    }
    if (reads && live) {
      const rr = readRange(local[a], outShape?.[t], reads[a], live[a], r);
      reads[a] = rr?.reads ?? null;
      live[a] = rr?.live ?? null;
    }
  });
  // Another input derived from the image (a dynamic kernel) makes every output see all of it.
  const global = x.global || ins.slice(1).some((f) => f !== undefined);
  return { axes: [...x.axes], local, global, aligned, unknown, reads, live };
}

/** Whether only input 0 has a field (no second input derived from the image). */
function onlyFirst(ins: (TensorField | undefined)[]): boolean {
  for (let i = 1; i < ins.length; i++) if (ins[i] !== undefined) return false;
  return true;
}

/**
 * `resample` of a PlainField by windows (den 1), the conv and pooling case, on its numbers:
 * compose's closed form per axis and readRange, giving a PlainField again. Undefined for
 * any other resampling (the general path takes it).
 */
function resamplePlain(x: PlainField, rs: Resample[], outShape: Shape | undefined): PlainField | undefined {
  const v = x.v.slice();
  const rank = x.axes.length;
  for (let i = 0; i < rs.length; i++) {
    const t = rank - rs.length + i;
    const a = x.axes[t];
    if (a === null || a === undefined) continue;
    const r = rs[i];
    const k = a * PLAIN;
    if (r.den !== 1 || r.hi < r.lo || k >= v.length) return undefined;
    // Period 1 in, den 1: compose's closed form, always exact and of period 1 again.
    const f = compose({ period: 1, shift: v[k], lo: [v[k + 1]], hi: [v[k + 2]] }, r) as Periodic;
    v[k] = f.shift;
    v[k + 1] = f.lo[0];
    v[k + 2] = f.hi[0];
    const rr = readRange(f, outShape?.[t], pairAt(v, k + 3), pairAt(v, k + 5), r);
    putPair(v, k + 3, rr?.reads);
    putPair(v, k + 5, rr?.live);
  }
  return new PlainField(x.axes, x.aligned, x.unknown, v);
}

/**
 * The units of a window's output that read any pixel, and the pixels they read, along one
 * axis, from the same of its input: a unit is live when its window (input units
 * floor((num·o + lo)/den) … floor((num·o + hi)/den)) meets the input's live units; the pixels
 * run from the first live unit's field to the last's, clipped to what the input reads. So a
 * window reaching past the input's last unit reads nothing there, and one lying wholly in
 * the padding reads nothing at all.
 */
export function readRange(
  f: Periodic,
  count: number | string | undefined,
  input: [number, number] | null | undefined,
  inLive: [number, number] | null | undefined,
  r: Resample,
): { reads: [number, number]; live: [number, number] } | null {
  if (!input || !inLive || typeof count !== "number" || count <= 0) return null;
  if (input[0] > input[1] || inLive[0] > inLive[1]) return noReads();
  // The window's input span moves monotonically with o: find where it first reaches the
  // input's live units and where it last does by bisection (a padding of 10⁹ must not mean
  // 10⁹ steps), then step inward over any units a periodic field leaves empty. (Plain
  // loops, no closures: this runs for every window layer and axis.)
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (floorDiv(r.num * mid + r.hi, r.den) >= inLive[0]) hi = mid;
    else lo = mid + 1;
  }
  let first = lo;
  hi = count;
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (floorDiv(r.num * mid + r.lo, r.den) > inLive[1]) hi = mid;
    else lo = mid + 1;
  }
  let last = lo - 1;
  if (first > last) return noReads();
  while (first <= last && !reaches(f, r, inLive, first)) first++;
  while (last >= first && !reaches(f, r, inLive, last)) last--;
  if (first > last) return noReads();
  let l = Number.POSITIVE_INFINITY;
  let h = Number.NEGATIVE_INFINITY;
  // Unit u + period sees `shift` pixels further than u: the lowest start lies among the first
  // period of live units and the highest end among the last.
  for (let i = 0; i < Math.min(last - first + 1, f.period); i++) {
    if (reaches(f, r, inLive, first + i)) l = Math.min(l, unitInterval(f, first + i)[0]);
    if (reaches(f, r, inLive, last - i)) h = Math.max(h, unitInterval(f, last - i)[1]);
  }
  if (Math.max(l, input[0]) > Math.min(h, input[1])) return noReads();
  return { reads: [Math.max(l, input[0]), Math.min(h, input[1])], live: [first, last] };
}

/** No unit reads any pixel. */
function noReads(): { reads: [number, number]; live: [number, number] } {
  return { reads: [0, -1], live: [0, -1] };
}

/** Whether output unit o's window meets the input's live units and its field is not empty. */
function reaches(f: Periodic, r: Resample, inLive: [number, number], o: number): boolean {
  const a = floorDiv(r.num * o + r.lo, r.den);
  const b = floorDiv(r.num * o + r.hi, r.den);
  if (!(a <= b && b >= inLive[0] && a <= inLive[1])) return false;
  if (f.period === 1) return f.lo[0] <= f.hi[0];
  const [l, h] = unitInterval(f, o);
  return l <= h;
}

/**
 * Element-wise merge with broadcasting. An input that is broadcast over the image axes
 * (an SE gate of shape N×C×1×1) brings global context but no local geometry.
 */
function pointwise(
  ins: (TensorField | undefined)[],
  inShapes: Shapes,
  outShape: Shape | undefined,
  node: string,
  warnings: string[],
): TensorField {
  // The common case — an activation, BN, dropout — passes its one input's field on as is
  // (fields are never modified once made, so tensors may share one).
  const only = ins.filter((f) => f !== undefined);
  if (only.length === 1 && inShapes[ins.indexOf(only[0])] === outShape) return only[0] as TensorField;
  if (ins.length === 2 && only.length === 2) {
    const merged = mergeTwo(ins[0] as TensorField, ins[1] as TensorField, inShapes, outShape);
    if (merged) return merged;
  }
  const rank = outShape?.length ?? Math.max(...ins.map((f) => f?.axes.length ?? 0));
  const axes: (number | null)[] = new Array(rank).fill(null);
  const parts: TensorField[] = [];
  let global = false;
  ins.forEach((f, i) => {
    if (!f) return;
    const shape = inShapes[i];
    const offset = rank - f.axes.length;
    let broadcast = false;
    f.axes.forEach((a, t) => {
      if (a === null) return;
      const d = shape?.[t];
      const od = outShape?.[t + offset];
      if (d === 1 && od !== 1) broadcast = true;
      else if (t + offset >= 0) axes[t + offset] ??= a;
    });
    if (f.global) global = true;
    if (broadcast) global = true;
    else parts.push(f);
  });
  const { aligned, unknown } = flags(ins);
  const locals = parts.map((p) => p.local).filter((l) => l !== undefined) as Periodic[][];
  if (locals.length === 0) return { axes, global: true, aligned, unknown };
  const dims = Math.max(...locals.map((l) => l.length));
  const local: Periodic[] = [];
  // What the merged tensor reads: the union of what its (non-broadcast) inputs read.
  const withLocal = parts.filter((p) => p.local !== undefined);
  const reads: ([number, number] | null)[] = [];
  const live: ([number, number] | null)[] = [];
  const union = (rs: ([number, number] | null | undefined)[]): [number, number] | null => {
    if (!rs.every((x) => x)) return null;
    const full = (rs as [number, number][]).filter(([l, h]) => l <= h); // an empty range adds nothing
    return full.length ? [Math.min(...full.map((x) => x[0])), Math.max(...full.map((x) => x[1]))] : [0, -1];
  };
  for (let a = 0; a < dims; a++) {
    reads.push(union(withLocal.map((p) => p.reads?.[a])));
    live.push(union(withLocal.map((p) => p.live?.[a])));
  }
  let ok = aligned;
  for (let a = 0; a < dims; a++) {
    const fs = locals.map((l) => l[a]).filter((p) => p !== undefined);
    const m = mergeAxis(fs);
    if (!m.aligned) {
      ok = false;
      warnings.push(
        `receptive field: paths merged at '${node}' are not aligned on axis ${a} (strides ${fs.map((f) => strideText(f)).join(", ")})`,
      );
    }
    local.push(m.field);
  }
  return { axes, local, global, aligned: ok, unknown, reads, live };
}

/**
 * The other common case — a residual Add of two tensors of the output's shape whose fields
 * are plain (PlainField) along the same image axes at one stride and centred alike — in
 * closed form, on their numbers: what `pointwise` computes for it, without its per-axis
 * lists. Undefined otherwise (pointwise's general path takes it, and warns when the paths
 * are not aligned).
 */
function mergeTwo(a: TensorField, b: TensorField, inShapes: Shapes, outShape: Shape | undefined): TensorField | undefined {
  const sa = inShapes[0];
  const sb = inShapes[1];
  if (!(a instanceof PlainField) || !(b instanceof PlainField) || !outShape || !sa || !sb) return undefined;
  const rank = outShape.length;
  if (sa.length !== rank || sb.length !== rank || a.axes.length !== rank || b.axes.length !== rank) return undefined;
  for (let t = 0; t < rank; t++) if (sa[t] !== outShape[t] || sb[t] !== outShape[t] || a.axes[t] !== b.axes[t]) return undefined;
  const p = a.v;
  const q = b.v;
  if (p.length !== q.length) return undefined;
  const v: number[] = new Array(p.length).fill(0);
  for (let k = 0; k < p.length; k += PLAIN) {
    if (p[k] !== q[k] || p[k + 1] > p[k + 2] || q[k + 1] > q[k + 2] || p[k + 1] + p[k + 2] !== q[k + 1] + q[k + 2]) return undefined;
    // As mergeAxis: the wider field.
    v[k] = p[k];
    v[k + 1] = Math.min(p[k + 1], q[k + 1]);
    v[k + 2] = Math.max(p[k + 2], q[k + 2]);
    putPair(v, k + 3, unionTwo(pairAt(p, k + 3), pairAt(q, k + 3)));
    putPair(v, k + 5, unionTwo(pairAt(p, k + 5), pairAt(q, k + 5)));
  }
  return new PlainField(a.axes, a.aligned && b.aligned, a.unknown || b.unknown, v);
}

/** The union of two read ranges ([0, −1] is empty); null when either is unknown. */
function unionTwo(x: [number, number] | null | undefined, y: [number, number] | null | undefined): [number, number] | null {
  if (!x || !y) return null;
  if (x[0] > x[1]) return y[0] > y[1] ? [0, -1] : y;
  if (y[0] > y[1]) return x;
  return [Math.min(x[0], y[0]), Math.max(x[1], y[1])];
}

/**
 * Axes moved, removed or mixed (Transpose, Reshape, Flatten, reductions, MatMul on
 * features). Mixing an image axis that still has extent ends the local path;
 * another input derived from the image (attention's second operand) adds global context.
 */
function reaxis(
  map: (number | null)[],
  mixed: number[],
  ins: (TensorField | undefined)[],
  inShapes: Shapes,
  outShape: Shape | undefined,
): TensorField {
  const x = ins[0];
  if (!x) return globalOf(ins, outShape);
  const axes: (number | null)[] = new Array(outShape?.length ?? 0).fill(null);
  let mixesImage = false;
  x.axes.forEach((a, i) => {
    if (a === null) return;
    const to = map[i];
    // Mixed: positions along the axis are combined. Removed without mixing: the output no
    // longer depends on positions along it at all (Shape, Size, a squeezed size-1 axis).
    if (mixed.includes(i)) {
      if (inShapes[0]?.[i] !== 1) mixesImage = true;
    } else if (to !== null && to !== undefined) axes[to] = a;
  });
  const global = x.global || mixesImage || ins.slice(1).some((f) => f !== undefined);
  return {
    axes,
    local: mixesImage ? undefined : x.local,
    global,
    ...flags(ins),
    reads: mixesImage ? undefined : x.reads,
    live: mixesImage ? undefined : x.live,
  };
}

function strideText(f: Periodic): string {
  const g = gcd(f.shift, f.period) || 1;
  return f.period / g === 1 ? String(f.shift / g) : `${f.shift / g}/${f.period / g}`;
}

/**
 * The JSON form of a tensor's field (strides and paddings exact, fractions as strings).
 * With `lists`, its lists are the shared frozen copies (see SharedLists).
 */
export function fieldJson(f: TensorField, lists?: SharedLists): FieldJson {
  // Built by assignment, not by spreading: V8 gives every object made by a spread of a
  // fresh object a hidden class of its own, one per tensor on a large graph.
  let json: FieldJson;
  if (f instanceof PlainField) {
    json = plainJson(f.v, f.aligned, lists);
    if (f.unknown) json.unknown = true;
    return json;
  }
  const local = f.local;
  if (f.global) {
    json = local ? { global: true, local: axesJson(local, undefined, lists), aligned: f.aligned } : { global: true, aligned: f.aligned };
  } else {
    json = axesJson(local ?? [], f.aligned, lists) as AxisFieldJson & { aligned: boolean };
  }
  if (f.unknown) json.unknown = true;
  return json;
}

/** axesJson of a PlainField, read in place (period 1 on every axis: no phases). */
function plainJson(v: readonly number[], aligned: boolean, lists?: SharedLists): AxisFieldJson & { aligned: boolean } {
  const n = v.length / PLAIN;
  const sizes: number[] = new Array(n);
  const strides: (number | string)[] = new Array(n);
  const paddings: (number | string)[] = new Array(n);
  for (let a = 0; a < n; a++) {
    const k = a * PLAIN;
    const s = Math.max(0, v[k + 2] - v[k + 1] + 1);
    sizes[a] = s;
    strides[a] = fracJson(frac(v[k], 1));
    paddings[a] = s === 0 ? 0 : 0 - v[k + 1];
  }
  return axesRecord(sizes, strides, paddings, undefined, aligned, lists) as AxisFieldJson & { aligned: boolean };
}

/** The field's lists; `aligned`, when given, is the record's last key (in the literal: added after, it would be kept out of line). */
function axesJson(local: Periodic[], aligned?: boolean, lists?: SharedLists): AxisFieldJson {
  // Unit u = q·period + φ starts at q·shift + lo[φ] = u·S − P_φ, so P_φ = φ·S − lo[φ].
  // An empty phase (it reads no pixel) has size 0 and padding null.
  const size = (p: Periodic, phase: number) => Math.max(0, p.hi[phase] - p.lo[phase] + 1);
  const pad = (p: Periodic, phase: number) =>
    size(p, phase) === 0 ? null : fracJson(frac(phase * p.shift - p.lo[phase] * p.period, p.period));
  // One pass over the axes into preallocated lists: this runs for every distinct field of
  // a graph, 75,000 times on a 100,000-node one.
  const n = local.length;
  const sizes: number[] = new Array(n);
  const strides: (number | string)[] = new Array(n);
  const paddings: (number | string)[] = new Array(n);
  let phased = false;
  for (let a = 0; a < n; a++) {
    const p = local[a];
    strides[a] = fracJson(frac(p.shift, p.period));
    if (p.period === 1) {
      const s = size(p, 0);
      sizes[a] = s;
      paddings[a] = s === 0 ? 0 : 0 - p.lo[0];
      continue;
    }
    phased = true;
    let largest = 0;
    let first = -1;
    for (let i = 0; i < p.period; i++) {
      const s = size(p, i);
      if (s > largest) largest = s;
      if (first < 0 && s > 0) first = i;
    }
    sizes[a] = largest;
    // Phase 0's padding; when phase 0 reads nothing, the first phase that reads something.
    paddings[a] = pad(p, Math.max(0, first)) ?? 0;
  }
  const phases = phased
    ? local.map((p) => ({ period: p.period, size: p.lo.map((_, i) => size(p, i)), padding: p.lo.map((_, i) => pad(p, i)) }))
    : undefined;
  return axesRecord(sizes, strides, paddings, phases, aligned, lists);
}

/** The record of axesJson and plainJson: its lists shared when `lists` is given, each shape of record one literal. */
function axesRecord(
  size: number[],
  stride: (number | string)[],
  padding: (number | string)[],
  phases: AxisFieldJson["phases"],
  aligned: boolean | undefined,
  lists: SharedLists | undefined,
): AxisFieldJson {
  if (lists) {
    size = lists.of(size);
    stride = lists.of(stride);
    padding = lists.of(padding);
  }
  if (phases) {
    return aligned === undefined ? { size, stride, padding, phases } : ({ size, stride, padding, phases, aligned } as AxisFieldJson);
  }
  return aligned === undefined ? { size, stride, padding } : ({ size, stride, padding, aligned } as AxisFieldJson);
}

/**
 * Input-size-aware facts of a local field: the centre of unit 0, the units whose whole
 * field lies inside the image, and how much of the corner unit's field is padding.
 */
export function fieldRegion(
  f: TensorField,
  shape: Shape | undefined,
  image: Shape | undefined,
  lists?: SharedLists,
): FieldRegion | undefined {
  if (!shape || !image) return undefined;
  // A PlainField's numbers are read in place: its getters make their objects afresh on every
  // read, and this runs for every tensor. Any other field's parts are each read once.
  const v = f instanceof PlainField ? f.v : undefined;
  const local = v ? undefined : f.local;
  if (!v && !local) return undefined;
  const fr = v ? undefined : f.reads;
  const fl = v ? undefined : f.live;
  // Plain loops into preallocated lists, for the same reason as axesJson.
  const dims = v ? v.length / PLAIN : (local as Periodic[]).length;
  const units: number[] = new Array(dims);
  const start: number[] = new Array(dims);
  const end: number[] = new Array(dims);
  const centre: (number | string)[] = new Array(dims);
  let valid = true;
  let inside = 1;
  let total = 1;
  let known = v !== undefined || (fr !== undefined && fl !== undefined);
  for (let a = 0; a < dims; a++) {
    const p = local?.[a];
    const k = a * PLAIN;
    // Unit 0's interval (unitInterval(p, 0)) and the step between units.
    const l = v ? v[k + 1] : (p as Periodic).lo[0];
    const h = v ? v[k + 2] : (p as Periodic).hi[0];
    const t = f.axes.indexOf(a);
    const count = shape[t];
    const n = image[a + 2];
    if (t < 0 || typeof count !== "number" || typeof n !== "number") return undefined;
    units[a] = count;
    centre[a] = fracJson(frac(l + h, 2));
    let first = -1;
    let last = -1;
    if (v || (p as Periodic).period === 1) {
      // u·S + lo ≥ 0 and u·S + hi ≤ n − 1, solved for u.
      const shift = v ? v[k] : (p as Periodic).shift;
      first = Math.max(0, Math.ceil(-l / shift));
      last = Math.min(count - 1, Math.floor((n - 1 - h) / shift));
      if (first > last) first = last = -1;
    } else {
      for (let u = 0; u < count; u++) {
        const [ul, uh] = unitInterval(p as Periodic, u);
        if (ul <= uh && ul >= 0 && uh <= n - 1) {
          if (first < 0) first = u;
          last = u;
        }
      }
    }
    if (first < 0) valid = false;
    start[a] = first;
    end[a] = last;
    total *= h - l + 1;
    inside *= Math.max(0, Math.min(h, n - 1) - Math.max(l, 0) + 1);
    if (v ? Number.isNaN(v[k + 3]) || Number.isNaN(v[k + 5]) : !fr?.[a] || !fl?.[a]) known = false;
  }
  const corner = 1 - inside / total;
  const share = <T extends number | string>(l: T[]): T[] => (lists ? lists.of(l) : l);
  const validRange = valid ? { start: share(start), end: share(end) } : null;
  if (!known) return { units: share(units), centre: share(centre), valid: validRange, corner_padding_share: corner };
  const readStart: number[] = new Array(dims);
  const readEnd: number[] = new Array(dims);
  const unitsStart: number[] = new Array(dims);
  const unitsEnd: number[] = new Array(dims);
  for (let a = 0; a < dims; a++) {
    const k = a * PLAIN;
    const r = fr?.[a] as [number, number];
    const u = fl?.[a] as [number, number];
    readStart[a] = v ? v[k + 3] : r[0];
    readEnd[a] = v ? v[k + 4] : r[1];
    unitsStart[a] = v ? v[k + 5] : u[0];
    unitsEnd[a] = v ? v[k + 6] : u[1];
  }
  const reads = { start: share(readStart), end: share(readEnd), units_start: share(unitsStart), units_end: share(unitsEnd) };
  // One literal with `reads` (added after, it would be kept out of line: an object more per tensor).
  return { units: share(units), centre: share(centre), valid: validRange, corner_padding_share: corner, reads };
}
