import { ConvscopeError } from "./errors.js";

/** A dimension: a known size, or a symbol (`"N"`, `"height"`, or an expression of symbols). */
export type Dim = number | string;
export type Shape = Dim[];

/** Product of the dims from index `from` on (all by default), or null when any is symbolic. */
export function numel(s: Shape, from = 0): number | null {
  // mul's check inline: a call with a rest list per dim, on every tensor of a large graph.
  let n = 1;
  for (let i = from; i < s.length; i++) {
    const d = s[i];
    if (typeof d !== "number") return null;
    const p = n * d;
    if (!Number.isSafeInteger(p)) throw tooBig([n, d], "·");
    n = p;
  }
  return n;
}

export function formatShape(s: Shape | undefined): string {
  return s ? s.join("×") : "?";
}

/** Exact integer product; throws rather than silently losing precision past 2^53. */
export function mul(...xs: number[]): number {
  let p = 1;
  // Indexed: until this is optimised, a for…of makes an iterator and a result object per term.
  for (let i = 0; i < xs.length; i++) p *= xs[i];
  if (!Number.isSafeInteger(p)) throw tooBig(xs, "·");
  return p;
}

/** Exact integer sum; throws past 2^53. */
export function add(...xs: number[]): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  if (!Number.isSafeInteger(s)) throw tooBig(xs, "+");
  return s;
}

/** The error for a count past 2^53 (`numel` and `addKnown` check inline, with no rest list per call). */
function tooBig(terms: readonly number[], op: "·" | "+"): ConvscopeError {
  return new ConvscopeError(`count ${terms.join(op)} exceeds 2^53${op === "·" ? " and cannot be represented exactly" : ""}`);
}

/** Exact sum of two counts; null (unknown) when either is. */
export function addKnown(a: number | null, b: number | null): number | null {
  if (a === null || b === null) return null;
  const s = a + b; // add(a, b) without its rest list: this runs per layer and per tensor
  if (!Number.isSafeInteger(s)) throw tooBig([a, b], "+");
  return s;
}

/** Parses `1x3x224x224` (or `1,3,224,224`); symbols are allowed (`Nx3x224x224`). */
export function parseShape(text: string): Shape {
  const parts = text.split(/[x\u00d7,]/).map((p) => p.trim()); // x, × or a comma
  if (parts.length === 0 || parts.some((p) => p === "")) throw new ConvscopeError(`bad shape '${text}'`);
  return parts.map((p) => {
    if (/^\d+$/.test(p)) {
      const n = Number(p);
      if (!Number.isSafeInteger(n) || n <= 0) throw new ConvscopeError(`bad dimension '${p}' in shape '${text}'`);
      return n;
    }
    if (/^[A-Za-z_][\w]*$/.test(p)) return p;
    throw new ConvscopeError(`bad dimension '${p}' in shape '${text}'`);
  });
}

/**
 * A symbolic dim in the form convscope simplifies to: a·⌊(S + c)/m⌋ + b, S one symbol,
 * integers m ≥ 1, 0 ≤ c < m, a ≥ 1. A stride-1 SAME conv keeps `H`; a stride-s window gives
 * ⌈H/s⌉ = ⌊(H + s − 1)/s⌋; chains compose exactly because ⌊(⌊x/m⌋ + k)/n⌋ = ⌊(x + k·m)/(m·n)⌋
 * for integers x, k and positive m, n — so three stride-2 stages print ⌈H/8⌉, not out(out(out(H))).
 */
export interface SymDim {
  sym: string;
  m: number;
  c: number;
  a: number;
  b: number;
}

// A symbol is a name as files write them: `H`, `batch_size`, `unk__12`, `s0`, Paddle's `p2o.DynamicDimension.1`.
// (a·)?(s | ⌈s/m⌉ | ⌊s/m⌋ | ⌊(s+c)/m⌋)(±b)?, its symbols escaped (· \u00b7, ⌈ \u2308, ⌉ \u2309,
// ⌊ \u230a, ⌋ \u230b): the bundled command is ASCII only (scripts/build-cli.ts).
const SYM_FORM =
  /^(?:(\d+)\u00b7)?(?:([A-Za-z_][\w.]*)|\u2308([A-Za-z_][\w.]*)\/(\d+)\u2309|\u230a([A-Za-z_][\w.]*)\/(\d+)\u230b|\u230a\(([A-Za-z_][\w.]*)\+(\d+)\)\/(\d+)\u230b)([+-]\d+)?$/;

/** Reads a dim written by `formatSym` (or a bare symbol); undefined for any other expression. */
export function parseSym(d: Dim): SymDim | undefined {
  if (typeof d !== "string") return undefined;
  const g = SYM_FORM.exec(d);
  if (!g) return undefined;
  const a = g[1] ? Number(g[1]) : 1;
  const b = g[10] ? Number(g[10]) : 0;
  if (g[2]) return { sym: g[2], m: 1, c: 0, a, b };
  if (g[3]) return symDim(g[3], Number(g[4]), Number(g[4]) - 1, a, b);
  if (g[5]) return symDim(g[5], Number(g[6]), 0, a, b);
  return symDim(g[7], Number(g[9]), Number(g[8]), a, b);
}

/** Normalizes c into 0 … m − 1 (⌊(S + qm + r)/m⌋ = ⌊(S + r)/m⌋ + q). */
function symDim(sym: string, m: number, c: number, a: number, b: number): SymDim {
  const q = Math.floor(c / m);
  return { sym, m, c: c - q * m, a, b: b + a * q };
}

/** `H`, `⌈H/4⌉`, `⌊H/2⌋`, `⌊(H+1)/4⌋`, with `2·` and `+1` / `-2` around it. */
export function formatSym(e: SymDim): string {
  const { sym, m, c, a, b } = e;
  const core = m === 1 ? sym : c === 0 ? `⌊${sym}/${m}⌋` : c === m - 1 ? `⌈${sym}/${m}⌉` : `⌊(${sym}+${c})/${m}⌋`;
  return `${a === 1 ? "" : `${a}·`}${core}${b === 0 ? "" : b > 0 ? `+${b}` : b}`;
}

/** ⌊(d + t)/s⌋ for a symbolic d, simplified when d has the simple form (else written out). */
export function symFloorDiv(d: string, t: number, s: number): string {
  const e = parseSym(d);
  if (e && s === 1) return formatSym({ ...e, b: e.b + t });
  if (e && e.a === 1) return formatSym(symDim(e.sym, e.m * s, e.c + (e.b + t) * e.m, 1, 0));
  if (e && e.a % s === 0) return formatSym({ ...e, a: e.a / s, b: Math.floor((e.b + t) / s) });
  if (s === 1 && t === 0) return d;
  const x = /^[\w.]+$/.test(d) ? d : `(${d})`;
  return s === 1 ? `${x}${t >= 0 ? "+" : ""}${t}` : `⌊(${x}${t >= 0 ? "+" : ""}${t})/${s}⌋`;
}

/** k·d + t for a symbolic d (up-sampling, transposed convs), simplified when d has the simple form. */
export function symAffine(d: string, k: number, t: number): string {
  const e = parseSym(d);
  if (e) return formatSym({ ...e, a: e.a * k, b: e.b * k + t });
  if (k === 1 && t === 0) return d;
  const x = /^[\w.]+$/.test(d) ? d : `(${d})`;
  return `${k === 1 ? "" : `${k}·`}${x}${t === 0 ? "" : t > 0 ? `+${t}` : t}`;
}

/** The symbol names a dim depends on (`⌈H/4⌉` → H, `16·⌊H/2⌋·⌊W/2⌋` → H, W). */
export function symbolsOf(d: Dim): string[] {
  if (typeof d !== "string") return [];
  return [...new Set(d.match(/[A-Za-z_][\w.]*/g) ?? [])];
}

/** A product of dims written out: numbers multiplied, terms with + or − in parentheses (`16·(⌈H/4⌉-6)·W`). */
export function symProduct(ds: readonly Dim[]): Dim {
  let k = 1;
  const terms: string[] = [];
  for (const d of ds) {
    if (typeof d === "number") k = mul(k, d);
    else terms.push(sumAtTop(d) ? `(${d})` : d);
  }
  if (terms.length === 0) return k;
  return `${k === 1 ? "" : `${k}·`}${terms.join("·")}`;
}

/** Whether a written dim has a + or − outside its brackets (so a product must parenthesize it). */
function sumAtTop(d: string): boolean {
  let depth = 0;
  for (let i = 0; i < d.length; i++) {
    const ch = d[i];
    if (ch === "(" || ch === "⌈" || ch === "⌊") depth++;
    else if (ch === ")" || ch === "⌉" || ch === "⌋") depth--;
    else if (depth === 0 && i > 0 && (ch === "+" || ch === "-" || ch === "−")) return true;
  }
  return false;
}
