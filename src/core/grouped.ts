/**
 * A number with en-US digit groups, 1234567 → "1,234,567": the text `toLocaleString("en-US")`
 * gives, for every figure the renderers, the explanations and the notes print. Safe integers
 * and bigints are grouped here: toLocaleString goes through ICU, whose first call in a
 * process sets up its number formatting, 25–27 ms (the table of a ResNet-50 takes 153 ms
 * with this and 177 ms without, whole processes, medians of 11). Anything else (fractions,
 * −0, numbers past 2^53) keeps toLocaleString.
 */
export function grouped(n: number | bigint): string {
  if (typeof n === "number" && (!Number.isSafeInteger(n) || Object.is(n, -0))) return n.toLocaleString("en-US");
  const negative = n < 0;
  const digits = String(negative ? -n : n);
  let out = digits.slice(0, digits.length % 3 || 3);
  for (let i = out.length; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return negative ? `-${out}` : out;
}
