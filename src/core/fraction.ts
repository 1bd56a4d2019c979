/** Exact rationals for effective strides below 1 (after up-sampling): "1/2", never 0.5000001. */
export interface Frac {
  num: number;
  den: number;
}

export function gcd(a: number, b: number): number {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b) {
    const r = a % b;
    a = b;
    b = r;
  }
  return a;
}

export function frac(num: number, den = 1): Frac {
  if (den === 0) throw new Error("zero denominator");
  const g = gcd(num, den) || 1;
  const s = den < 0 ? -1 : 1;
  return { num: (s * num) / g, den: (s * den) / g };
}

/** An integer as a JSON number, any other value as the exact string "n/d". */
export function fracJson(f: Frac): number | string {
  return f.den === 1 ? f.num : `${f.num}/${f.den}`;
}

/** Parses what fracJson wrote. */
export function parseFrac(v: number | string): Frac {
  if (typeof v === "number") return frac(v);
  const [n, d] = v.split("/").map(Number);
  return frac(n, d);
}

export function floorDiv(a: number, b: number): number {
  return Math.floor(a / b);
}

/** Non-negative remainder. */
export function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}
