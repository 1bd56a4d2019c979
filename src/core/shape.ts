import { ConvscopeError } from "./errors.js";

/** A dimension: a known size, or a symbol (`"N"`, `"height"`, or an expression of symbols). */
export type Dim = number | string;
export type Shape = Dim[];

/** Product of dims, or null when any dim is symbolic. */
export function numel(s: Shape): number | null {
  let n = 1;
  for (const d of s) {
    if (typeof d !== "number") return null;
    n = mul(n, d);
  }
  return n;
}

export function formatShape(s: Shape | undefined): string {
  return s ? s.join("×") : "?";
}

/** Exact integer product; throws rather than silently losing precision past 2^53. */
export function mul(...xs: number[]): number {
  let p = 1;
  for (const x of xs) p *= x;
  if (!Number.isSafeInteger(p)) {
    throw new ConvscopeError(`count ${xs.join("·")} exceeds 2^53 and cannot be represented exactly`);
  }
  return p;
}

/** Exact integer sum; throws past 2^53. */
export function add(...xs: number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  if (!Number.isSafeInteger(s)) throw new ConvscopeError(`count ${xs.join("+")} exceeds 2^53`);
  return s;
}

/** Exact sum of two counts; null (unknown) when either is. */
export function addKnown(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : add(a, b);
}

/** Parses `1x3x224x224` (or `1,3,224,224`); symbols are allowed (`Nx3x224x224`). */
export function parseShape(text: string): Shape {
  const parts = text.split(/[x×,]/).map((p) => p.trim());
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
