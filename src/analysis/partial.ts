import type { KnownTotals, LayerReport } from "../core/report.js";
import { add } from "../core/shape.js";
import type { ParamTotals } from "./params.js";

/**
 * The known part of totals that cannot be exact. A total is exact (every layer counted) or
 * null; when it is null, `known` says what the counted layers sum to — a lower bound — and
 * which layers it leaves out, so a partial figure is never shown as a complete one.
 */
export function knownTotals(
  layers: readonly LayerReport[],
  conventions: readonly string[],
  headline: string,
  params: ParamTotals,
  symbols: readonly string[],
): KnownTotals | undefined {
  const sums: Record<string, number> = {};
  const missing: Record<string, LayerReport[]> = {};
  const tally = (key: string, v: number | null, l: LayerReport) => {
    if (v !== null) sums[key] = add(sums[key] ?? 0, v);
    else if (missing[key]) missing[key].push(l);
    else missing[key] = [l];
  };
  for (const l of layers) {
    for (const c of conventions) tally(c, l.by_convention[c] ?? null, l);
    tally("activation_bytes", l.activation_bytes, l);
  }
  const why: Record<string, string> = {};
  for (const [key, ls] of Object.entries(missing)) why[key] = describe(ls, symbols);
  if (missing[headline]) why.value = why[headline];
  if (params.unknown.length > 0) {
    const owners = layers.filter((l) => l.params === null);
    why.params = owners.length > 0 ? describe(owners, symbols) : `${plural(params.unknown.length, "weight")} of unknown size not counted`;
    why.trainable_params = why.params;
  }
  if (Object.keys(why).length === 0) return undefined;
  const byConvention = Object.fromEntries(conventions.map((c) => [c, sums[c] ?? 0]));
  return {
    params: params.params,
    trainable_params: params.trainable,
    macs: byConvention.macs ?? 0,
    flops: byConvention.flops ?? 0,
    seed: byConvention.seed ?? 0,
    value: byConvention[headline] ?? 0,
    by_convention: byConvention,
    activation_bytes: sums.activation_bytes ?? 0,
    missing: why,
  };
}

/** "3 layers of type Python not counted; 2 layers with unknown sizes (fc, fc2)". */
function describe(ls: readonly LayerReport[], symbols: readonly string[]): string {
  const unknownOps = new Map<string, number>();
  const sized: string[] = [];
  for (const l of ls) {
    if (l.status === "unknown") {
      const t = l.source ?? l.op;
      unknownOps.set(t, (unknownOps.get(t) ?? 0) + 1);
    } else sized.push(l.name);
  }
  const parts: string[] = [];
  if (unknownOps.size > 0) {
    const n = [...unknownOps.values()].reduce((a, b) => a + b, 0);
    const types = [...unknownOps.keys()];
    parts.push(`${plural(n, "layer")} of type${types.length > 1 ? "s" : ""} ${types.join(", ")} not counted`);
  }
  if (sized.length > 0) {
    const names = sized.length > 3 ? `${sized.slice(0, 3).join(", ")} …` : sized.join(", ");
    const cause = symbols.length > 0 ? `sizes depend on unbound ${symbols.join(", ")}` : "sizes unknown";
    parts.push(`${plural(sized.length, "layer")} not counted (${cause}: ${names})`);
  }
  return parts.join("; ");
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
