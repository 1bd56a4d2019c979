import { ConvscopeError } from "../core/errors.js";
import type { Graph } from "../core/graph.js";
import { grouped } from "../core/grouped.js";
import type { Report } from "../core/report.js";
import type { Shape } from "../core/shape.js";
import { lastFeatureField } from "./compare.js";
import { type AnalyzeOptions, analyze } from "./index.js";

/**
 * Cost as a function of the input size. Each size is analysed exactly (the same passes as
 * any report); then, when every layer's figure is a polynomial in the sizes of its tensors
 * and every tensor's spatial size is m·⌈(X + o)/s⌉ of the input's X (what convolutions,
 * pooling and up-sampling make: floors and ceils of affine maps compose into one), the
 * totals get a closed form in H and W, checked against every exact value computed.
 *
 * The closed form is found, not assumed: per tensor axis, (m, o, s) is the one that matches
 * the exact sizes at 2·S + 4 consecutive sizes (S the largest stride, so every remainder
 * mod S is seen); per layer, the coefficients solve exactly (rational arithmetic) over those
 * sizes on the basis {1} ∪ {each of its tensors' variable size}; a layer whose figure the
 * basis does not reproduce at every size means no closed form, and the layer is named.
 */

export type SweepMetric = "macs" | "flops" | "value" | "activation_bytes";
export const SWEEP_METRICS: readonly SweepMetric[] = ["macs", "flops", "value", "activation_bytes"];

/** The input axes the sweep sets, and the shape it builds for (H, W). */
export interface SweepInput {
  name: string;
  /** Declared shape (symbols kept). */
  declared: Shape;
  /** Axis index of H and of W in the input's shape. */
  axes: [number, number];
}

export interface SweepPoint {
  /** H and W of the input. */
  size: [number, number];
  macs: number | null;
  flops: number | null;
  /** The headline count in the chosen convention. */
  value: number | null;
  activation_bytes: number | null;
  peak_activation_bytes: number | null;
  /** Share of the image (per axis, 0…1) the last feature map's local field spans. */
  coverage: number[] | null;
  /** The last feature map's field size per axis (constant across sizes for a CNN). */
  field: number[] | null;
  /** Why the model cannot run at this size (`shapes … do not broadcast`): every figure is null. */
  error?: string;
}

/** ⌈(X + offset)/stride⌉, of X = H or W. */
export interface DimFn {
  axis: "H" | "W";
  offset: number;
  stride: number;
}

/** A closed form: Σ coef·Π factors + constant (coefficients exact rationals, as strings when not integers). */
export interface ClosedForm {
  terms: { coef: number | string; factors: DimFn[] }[];
  constant: number | string;
  text: string;
  /** Sizes it was checked at (all equal to the exact analysis). */
  checked: number;
  /** The model runs only at sizes that are multiples of this: the form holds there. */
  multiple_of?: number;
  /** On those sizes every ⌈X/s⌉ is X/s: the form as one polynomial in H and W. */
  simplified?: string;
}

export interface SweepResult {
  input: SweepInput;
  convention: string;
  points: SweepPoint[];
  /** Per metric, the closed form, or why there is none. */
  closed: Record<SweepMetric, ClosedForm | { error: string }>;
  /** Coverage as a formula: the field's size over the image's, capped at 1. */
  coverage_text: string | null;
}

/** Finds the image input and its H, W axes (channels-first unless the last dim is small and the second is not). */
export function sweepInput(g: Graph, name?: string): SweepInput {
  const inputName = name ?? g.inputs.find((i) => (g.tensors.get(i)?.shape?.length ?? 0) === 4) ?? g.inputs[0];
  const shape = inputName ? g.tensors.get(inputName)?.shape : undefined;
  if (!inputName || !shape || shape.length < 3)
    throw new ConvscopeError(`cannot sweep the input size: no image input (rank 3 or 4) in '${g.name}'`);
  const n = shape.length;
  const small = (d: unknown) => typeof d === "number" && d <= 4;
  const channelsLast = small(shape[n - 1]) && !small(shape[1]);
  const axes: [number, number] = channelsLast ? [n - 3, n - 2] : [n - 2, n - 1];
  return { name: inputName, declared: shape, axes };
}

/** The input shape at (H, W): batch 1 when the batch dim is symbolic, other symbols an error. */
export function shapeAt(input: SweepInput, h: number, w: number): Shape {
  return input.declared.map((d, i) => {
    if (i === input.axes[0]) return h;
    if (i === input.axes[1]) return w;
    if (typeof d === "number") return d;
    if (i === 0) return 1;
    throw new ConvscopeError(`cannot sweep: input '${input.name}' has symbolic dim '${d}' at axis ${i}; bind it with --input`);
  });
}

/** Parses `H=128:1024:64`, `W=…`, `S=…` (both), or lists `H=224,320,512`, into (H, W) pairs. */
export function parseSweep(specs: readonly string[], input: SweepInput): [number, number][] {
  const lists: Record<string, number[]> = {};
  for (const spec of specs) {
    const m = /^([HWS])=(\d+):(\d+)(?::(\d+))?$/.exec(spec) ?? /^([HWS])=(\d+(?:,\d+)*)$/.exec(spec);
    if (!m) throw new ConvscopeError(`--sweep takes H=FROM:TO:STEP, W=…, S=… (square) or H=224,320,…, got '${spec}'`);
    let values: number[];
    if (m[3] !== undefined) {
      const [from, to, step] = [Number(m[2]), Number(m[3]), Number(m[4] ?? 1)];
      if (from <= 0 || to < from || step <= 0) throw new ConvscopeError(`--sweep ${spec}: FROM ≥ 1, TO ≥ FROM and STEP ≥ 1 please`);
      if ((to - from) / step > 4096) throw new ConvscopeError(`--sweep ${spec}: more than 4096 sizes`);
      values = [];
      for (let x = from; x <= to; x += step) values.push(x);
    } else values = m[2].split(",").map(Number);
    if (values.some((x) => x <= 0)) throw new ConvscopeError(`--sweep ${spec}: sizes are positive`);
    lists[m[1]] = values;
  }
  const fixed = (axis: number) => {
    const d = input.declared[input.axes[axis]];
    return typeof d === "number" ? d : undefined;
  };
  if (lists.S) return lists.S.map((x) => [x, x]);
  if (lists.H && lists.W) {
    if (lists.H.length !== lists.W.length)
      throw new ConvscopeError(`--sweep: H and W have ${lists.H.length} and ${lists.W.length} sizes; give as many of each (pairs)`);
    return lists.H.map((h, i) => [h, lists.W[i]]);
  }
  if (lists.H) return lists.H.map((h) => [h, fixed(1) ?? h]);
  if (lists.W) return lists.W.map((w) => [fixed(0) ?? w, w]);
  throw new ConvscopeError("--sweep needs H=…, W=… or S=…");
}

function failed(size: readonly [number, number], error: string): SweepPoint {
  return {
    size: [size[0], size[1]],
    macs: null,
    flops: null,
    value: null,
    activation_bytes: null,
    peak_activation_bytes: null,
    coverage: null,
    field: null,
    error,
  };
}

function point(r: Report, h: number, w: number): SweepPoint {
  const f = lastFeatureField(r);
  const field = f ? f.size : null;
  return {
    size: [h, w],
    macs: r.totals.macs,
    flops: r.totals.flops,
    value: r.totals.value,
    activation_bytes: r.totals.activation_bytes,
    peak_activation_bytes: r.totals.peak_activation_bytes,
    coverage: field && field.length >= 2 ? [Math.min(1, field[0] / h), Math.min(1, field[1] / w)] : null,
    field,
  };
}

/** Analyses the graph at each size and finds the closed forms. */
export function sweep(g: Graph, sizes: readonly [number, number][], opts: AnalyzeOptions = {}, inputName?: string): SweepResult {
  const input = sweepInput(g, inputName);
  const at = (h: number, w: number) => analyze(g, { ...opts, inputs: { ...opts.inputs, [input.name]: shapeAt(input, h, w) } });
  const reports = sizes.map(([h, w]): Report | string => {
    try {
      return at(h, w);
    } catch (e) {
      if (e instanceof ConvscopeError) return e.message;
      throw e;
    }
  });
  const points = reports.map((r, i) => (typeof r === "string" ? failed(sizes[i], r) : point(r, sizes[i][0], sizes[i][1])));
  const ok = reports.flatMap((r, i) => (typeof r === "string" ? [] : [{ size: sizes[i], report: r }]));
  const convention = ok[0]?.report.convention ?? opts.convention ?? "macs";
  const closed = closedForms(input, at, ok);
  const f = points.find((p) => p.field)?.field;
  return {
    input,
    convention,
    points,
    closed,
    coverage_text: f && f.length >= 2 ? `min(1, ${f[0]}/H) × min(1, ${f[1]}/W)` : null,
  };
}

// ---- exact rationals (BigInt) ----

interface Rat {
  n: bigint;
  d: bigint;
}
const bgcd = (a: bigint, b: bigint): bigint => {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y) [x, y] = [y, x % y];
  return x;
};
const rat = (n: bigint, d = 1n): Rat => {
  if (d < 0n) [n, d] = [-n, -d];
  const g = bgcd(n, d) || 1n;
  return { n: n / g, d: d / g };
};
const R0 = rat(0n);
const radd = (a: Rat, b: Rat) => rat(a.n * b.d + b.n * a.d, a.d * b.d);
const rsub = (a: Rat, b: Rat) => rat(a.n * b.d - b.n * a.d, a.d * b.d);
const rmul = (a: Rat, b: Rat) => rat(a.n * b.n, a.d * b.d);
const rdiv = (a: Rat, b: Rat) => rat(a.n * b.d, a.d * b.n);
const ratOut = (r: Rat): number | string =>
  r.d === 1n && r.n <= BigInt(Number.MAX_SAFE_INTEGER) && r.n >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(r.n) : `${r.n}/${r.d}`;

/** Solves A·x = b exactly (least rank: free unknowns 0); returns null when no exact solution. */
function solve(a: Rat[][], b: Rat[]): Rat[] | null {
  const rows = a.map((row, i) => [...row, b[i]]);
  const cols = a[0]?.length ?? 0;
  const pivots: number[] = [];
  let r = 0;
  for (let c = 0; c < cols && r < rows.length; c++) {
    const p = rows.findIndex((row, i) => i >= r && row[c].n !== 0n);
    if (p < 0) continue;
    [rows[r], rows[p]] = [rows[p], rows[r]];
    const pv = rows[r][c];
    rows[r] = rows[r].map((x) => rdiv(x, pv));
    for (let i = 0; i < rows.length; i++) {
      if (i === r || rows[i][c].n === 0n) continue;
      const f = rows[i][c];
      rows[i] = rows[i].map((x, k) => rsub(x, rmul(f, rows[r][k])));
    }
    pivots.push(c);
    r++;
  }
  for (let i = r; i < rows.length; i++) if (rows[i][cols].n !== 0n) return null;
  const x: Rat[] = new Array(cols).fill(R0);
  pivots.forEach((c, i) => {
    x[c] = rows[i][cols];
  });
  return x;
}

// ---- dims as functions of H, W ----

/** m·⌈(X + o)/s⌉ fitted to exact sizes, or undefined. */
function fitDim(xs: readonly number[], ds: readonly number[]): { m: number; o: number; s: number } | undefined {
  for (let m = 1; m <= 64; m++) {
    if (ds.some((d) => d % m !== 0)) continue;
    const es = ds.map((d) => d / m);
    let lo = 0;
    let hi = 0;
    for (let k = 1; k < xs.length; k++) {
      if (xs[k] < xs[lo]) lo = k;
      if (xs[k] > xs[hi]) hi = k;
    }
    if (es[hi] === es[lo]) continue;
    // Δe = ⌈(x_hi + o)/s⌉ − ⌈(x_lo + o)/s⌉ lies within ΔX/s ± 1, so s lies within ΔX/(Δe ± 1).
    const dx = xs[hi] - xs[lo];
    const de = es[hi] - es[lo];
    const sMax = de > 1 ? Math.ceil(dx / (de - 1)) : dx + 1;
    // Strides nearest ΔX/Δe first: on sparse sizes (multiples of 32) a stride of 15 can match
    // what is a stride of 16 everywhere else.
    const strides: number[] = [];
    for (let s = Math.max(1, Math.floor(dx / (de + 1))); s <= sMax; s++) strides.push(s);
    strides.sort((a, b) => Math.abs(a - dx / de) - Math.abs(b - dx / de) || a - b);
    for (const s of strides) {
      // e0 = ⌈(x0 + o)/s⌉ ⇔ s·(e0 − 1) < x0 + o ≤ s·e0
      // Offsets that fit equally (sizes all multiples of s) are shown as the one nearest 0.
      const lo0 = s * (es[0] - 1) - xs[0] + 1;
      const hi0 = s * es[0] - xs[0];
      const offsets: number[] = [];
      for (let o = lo0; o <= hi0; o++) offsets.push(o);
      offsets.sort((a, b) => Math.abs(a) - Math.abs(b) || b - a);
      for (const o of offsets) if (xs.every((x, k) => Math.ceil((x + o) / s) === es[k])) return { m, o, s };
    }
  }
  return undefined;
}

const dimKey = (f: DimFn) => `${f.axis}:${f.offset}:${f.stride}`;
const evalDim = (f: DimFn, h: number, w: number) => Math.ceil(((f.axis === "H" ? h : w) + f.offset) / f.stride);

interface Term {
  coef: Rat;
  factors: DimFn[];
}

function closedForms(
  input: SweepInput,
  at: (h: number, w: number) => Report,
  swept: readonly { size: readonly [number, number]; report: Report }[],
): SweepResult["closed"] {
  const fail = (error: string) => Object.fromEntries(SWEEP_METRICS.map((m) => [m, { error }])) as SweepResult["closed"];
  if (swept.length === 0) return fail("the model runs at none of the swept sizes");
  const sizes = swept.map((s) => s.size);
  const reports = swept.map((s) => s.report);
  // Base size: the smallest swept size; the largest stride seen sets how many sizes to fit on.
  let stride = 1;
  for (const t of Object.values(reports[0].tensors)) {
    const rf = t.rf && ("global" in t.rf ? t.rf.local : t.rf);
    for (const s of rf?.stride ?? []) if (typeof s === "number" && s > stride) stride = s;
  }
  stride = Math.min(stride, 128);
  const n = 2 * stride + 4;
  // Consecutive sizes first; a model that runs only at multiples of q (an FPN adding a
  // ×2 up-sampled ⌈H/32⌉ to ⌈H/16⌉) is fitted on multiples of q, and its form holds there.
  let fits: Report[] | undefined;
  let fitSizes: [number, number][] = [];
  let step = 1;
  let lastError = "";
  for (step = 1; step <= 64 && !fits; step *= 2) {
    const base = Math.max(step * 2, Math.ceil(Math.min(...sizes.map(([h, w]) => Math.min(h, w))) / step) * step);
    fitSizes = [];
    const count = step === 1 ? n : Math.max(8, Math.ceil((2 * stride) / step) + 4);
    for (let k = 0; k < count; k++) fitSizes.push([base + step * k, base + step * ((3 * k + 1) % count)]);
    try {
      fits = fitSizes.map(([h, w]) => at(h, w));
    } catch (e) {
      lastError = (e as Error).message;
      fits = undefined;
    }
  }
  step /= 2;
  if (!fits) return fail(`the analysis fails near the swept sizes, even at multiples of 64: ${lastError}`);
  void input;
  const hs = fitSizes.map((s) => s[0]);
  const ws = fitSizes.map((s) => s[1]);
  // Per tensor: its variable size as a product of dim functions, and a constant factor.
  const sizeFns = new Map<string, { factors: DimFn[]; scale: number } | null>();
  const tensorFn = (name: string): { factors: DimFn[]; scale: number } | null | undefined => {
    if (sizeFns.has(name)) return sizeFns.get(name);
    const shapes = fits.map((r) => r.tensors[name]?.shape);
    let result: { factors: DimFn[]; scale: number } | null = { factors: [], scale: 1 };
    if (shapes.some((s) => !s || s.some((d) => typeof d !== "number"))) result = null;
    else {
      const rank = (shapes[0] as number[]).length;
      if (shapes.some((s) => (s as number[]).length !== rank)) result = null;
      for (let a = 0; a < rank && result; a++) {
        const ds = shapes.map((s) => (s as number[])[a]);
        if (ds.every((d) => d === ds[0])) {
          result.scale *= ds[0];
          continue;
        }
        const fh = fitDim(hs, ds);
        const fw = fh ? undefined : fitDim(ws, ds);
        const f = fh ?? fw;
        if (!f) {
          result = null;
          break;
        }
        result.scale *= f.m;
        result.factors.push({ axis: fh ? "H" : "W", offset: f.o, stride: f.s });
      }
    }
    sizeFns.set(name, result);
    return result;
  };

  const closed = {} as SweepResult["closed"];
  const layers = fits[0].layers;
  for (const metric of SWEEP_METRICS) {
    const total = new Map<string, Term>();
    let constant = R0;
    const perLayer: { li: number; c: Rat; terms: Term[] }[] = [];
    let error: string | undefined;
    for (let li = 0; li < layers.length && !error; li++) {
      const ys = fits.map((r) => r.layers[li]?.[metric] ?? null);
      if (ys.some((y) => y === null)) {
        error = `layer '${layers[li].name}' has no ${metric} at some size`;
        break;
      }
      const y = ys as number[];
      if (y.every((v) => v === y[0])) {
        constant = radd(constant, rat(BigInt(y[0])));
        perLayer.push({ li, c: rat(BigInt(y[0])), terms: [] });
        continue;
      }
      const basis = new Map<string, DimFn[]>();
      for (const t of [...layers[li].inputs, ...layers[li].outputs]) {
        if (!t || !fits[0].tensors[t]) continue;
        const fn = tensorFn(t);
        if (!fn || fn.factors.length === 0) continue;
        const sorted = [...fn.factors].sort((a, b) => dimKey(a).localeCompare(dimKey(b)));
        basis.set(sorted.map(dimKey).join("·"), sorted);
      }
      const keys = [...basis.keys()];
      const a = fitSizes.map(([h, w]) => [
        rat(1n),
        ...keys.map((k) => rat(BigInt((basis.get(k) as DimFn[]).reduce((p, f) => p * evalDim(f, h, w), 1)))),
      ]);
      const x = solve(
        a,
        y.map((v) => rat(BigInt(v))),
      );
      if (!x) {
        error = `layer '${layers[li].name}': its ${metric} is not a polynomial in its tensors' sizes`;
        break;
      }
      constant = radd(constant, x[0]);
      perLayer.push({ li, c: x[0], terms: keys.map((k, j) => ({ coef: x[j + 1], factors: basis.get(k) as DimFn[] })) });
      keys.forEach((k, j) => {
        if (x[j + 1].n === 0n) return;
        const t = total.get(k);
        total.set(k, { coef: t ? radd(t.coef, x[j + 1]) : x[j + 1], factors: basis.get(k) as DimFn[] });
      });
    }
    if (error) {
      closed[metric] = { error };
      continue;
    }
    const terms = [...total.values()].filter((t) => t.coef.n !== 0n);
    // Check against every exact total: the fitting sizes and the swept ones.
    const evalTerms = (ts: Term[], c: Rat, h: number, w: number): Rat =>
      ts.reduce((s, t) => radd(s, rmul(t.coef, rat(BigInt(t.factors.reduce((p, f) => p * evalDim(f, h, w), 1))))), c);
    const evalAt = (h: number, w: number): Rat => evalTerms(terms, constant, h, w);
    const checks: [number, number, number | null][] = [
      ...fitSizes.map(([h, w], i): [number, number, number | null] => [h, w, fits[i].totals[metric]]),
      ...sizes.map(([h, w], i): [number, number, number | null] => [h, w, reports[i].totals[metric]]),
    ];
    const bad = checks.find(([h, w, v]) => {
      const e = evalAt(h, w);
      return v === null || e.d !== 1n || e.n !== BigInt(v);
    });
    if (bad) {
      // Name the first layer whose own form misses there (the swept sizes have their reports).
      const r = reports[sizes.findIndex(([h, w]) => h === bad[0] && w === bad[1])];
      const miss =
        r &&
        perLayer.find((f) => {
          const e = evalTerms(f.terms, f.c, bad[0], bad[1]);
          const v = r.layers[f.li]?.[metric];
          return v === null || e.d !== 1n || e.n !== BigInt(v);
        });
      closed[metric] = {
        error: `the layers' forms miss the exact total at ${bad[0]}×${bad[1]}${miss ? ` (first at layer '${layers[miss.li].name}')` : ""}`,
      };
      continue;
    }
    terms.sort((p, q) => termOrder(p) - termOrder(q));
    closed[metric] = {
      terms: terms.map((t) => ({ coef: ratOut(t.coef), factors: t.factors })),
      constant: ratOut(constant),
      text: formatClosed(terms, constant),
      checked: checks.length,
      ...(step > 1 ? { multiple_of: step } : {}),
      ...(step > 1 && terms.every((t) => t.factors.every((f) => f.offset === 0 && step % f.stride === 0))
        ? { simplified: simplified(terms, constant) }
        : {}),
    };
  }
  return closed;
}

/** Larger strides (smaller factors) last; degree first. */
function termOrder(t: Term): number {
  return -t.factors.length * 1e6 + t.factors.reduce((s, f) => s + f.stride, 0);
}

function formatDim(f: DimFn): string {
  if (f.stride === 1) return f.offset === 0 ? f.axis : `(${f.axis}${f.offset > 0 ? "+" : "−"}${Math.abs(f.offset)})`;
  const num = f.offset === 0 ? f.axis : `(${f.axis}${f.offset > 0 ? "+" : "−"}${Math.abs(f.offset)})`;
  return `⌈${num}/${f.stride}⌉`;
}

function formatRat(r: Rat): string {
  const abs = rat(r.n < 0n ? -r.n : r.n, r.d);
  const n = grouped(abs.n);
  return abs.d === 1n ? n : `${n}/${abs.d}`;
}

/** `57,024·H·W + 1,000`, `1,234·⌈H/2⌉·⌈W/2⌉ + …`. */
function formatClosed(terms: Term[], constant: Rat): string {
  const parts: string[] = [];
  for (const t of terms) {
    const sign = t.coef.n < 0n ? "−" : "+";
    const body = `${formatRat(t.coef)}·${t.factors.map(formatDim).join("·")}`;
    parts.push(parts.length === 0 ? (sign === "−" ? `−${body}` : body) : `${sign} ${body}`);
  }
  if (constant.n !== 0n || parts.length === 0) {
    const sign = constant.n < 0n ? "−" : "+";
    parts.push(parts.length === 0 ? `${constant.n < 0n ? "−" : ""}${formatRat(constant)}` : `${sign} ${formatRat(constant)}`);
  }
  return parts.join(" ");
}

/** Σ coef·Π ⌈X/s⌉ with X a multiple of every s: Σ coef/Πs · ΠX, grouped by monomial. */
function simplified(terms: Term[], constant: Rat): string {
  const mono = new Map<string, { coef: Rat; factors: DimFn[] }>();
  for (const t of terms) {
    const key = t.factors
      .map((f) => f.axis)
      .sort()
      .join("·");
    const div = t.factors.reduce((p, f) => p * BigInt(f.stride), 1n);
    const c = rdiv(t.coef, rat(div));
    const m = mono.get(key);
    mono.set(key, { coef: m ? radd(m.coef, c) : c, factors: t.factors.map((f) => ({ axis: f.axis, offset: 0, stride: 1 })) });
  }
  return formatClosed([...mono.values()], constant);
}
