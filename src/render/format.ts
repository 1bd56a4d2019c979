import { grouped } from "../core/grouped.js";
import { type FieldJson, type LayerReport, type Report, type TensorReport, tensorOf } from "../core/report.js";
import type { Shape } from "../core/shape.js";

/** 1234567 → "1,234,567" (exact). */
export function exact(n: number | null | undefined): string {
  return n === null || n === undefined ? "?" : grouped(n);
}

/** Compact count with SI units: 105415200 → "105.42M". */
export function compact(n: number | null | undefined): string {
  if (n === null || n === undefined) return "?";
  const abs = Math.abs(n);
  for (const [unit, v] of COMPACT_UNITS) if (abs >= v) return `${(n / v).toFixed(2)}${unit}`;
  return String(n);
}

const COMPACT_UNITS = [
  ["T", 1e12],
  ["G", 1e9],
  ["M", 1e6],
  ["K", 1e3],
] as const;

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
  const from = shape.length > 1 && shape[0] === batch ? 1 : 0;
  if (shape.length === from) return "scalar";
  // Joined by hand: a slice and a join per row of a 100,000-row table add up.
  let text = String(shape[from]);
  for (let i = from + 1; i < shape.length; i++) text += `×${shape[i]}`;
  return text;
}

/** "11/4" for a square field (size/stride), "7×5/4" when axes differ, "global". */
export function fieldShort(rf: FieldJson | undefined): string {
  if (!rf) return "";
  if ("global" in rf) return "global";
  return `${sameOrJoined(rf.size)}/${sameOrJoined(rf.stride)}`;
}

/** "7" for [7, 7], "7×5" for [7, 5]. */
function sameOrJoined(xs: (number | string)[]): string {
  for (let i = 1; i < xs.length; i++) if (xs[i] !== xs[0]) return xs.join("×");
  return String(xs[0]);
}

/** Share of a total as a percentage with one decimal. */
export function share(part: number | null, total: number | null): string {
  if (!part || !total) return "";
  return `${((100 * part) / total).toFixed(1)}%`;
}

/** The tensor a layer's row shows (its first output's): its shape and receptive field. */
export function firstOutput(r: Report, l: LayerReport): TensorReport | undefined {
  const output = l.outputs[0];
  return output ? tensorOf(r, output) : undefined;
}

/** Parameter bytes in every size dtype and in the file's own storage types (shared by table and Markdown). */
export function sizeSummary(r: Report): string {
  const t = r.totals;
  const per = Object.entries(t.size_bytes)
    .map(([k, v]) => `${k} ${exact(v)}`)
    .join(" · ");
  const stored = Object.entries(t.stored_param_bytes_by_dtype)
    .map(([k, v]) => `${k} ${exact(v)}`)
    .join(", ");
  const file = r.model.file_bytes !== undefined ? `; file ${exact(r.model.file_bytes)} bytes` : "";
  return `${per} bytes; stored as ${stored || "nothing"}${file}`;
}

/** The inference-memory figures with their order and what they include. */
export function memorySummary(r: Report): string {
  const t = r.totals;
  const at = (layer: string | undefined) => (layer ? ` at ${layer}` : "");
  const min =
    t.peak_activation_bytes_min_order === t.peak_activation_bytes && t.peak_layer_min_order === t.peak_layer
      ? "the memory-minimising order finds no lower peak"
      : `${bytes(t.peak_activation_bytes_min_order)}${at(t.peak_layer_min_order)} in a memory-minimising order`;
  return (
    `peak live ${bytes(t.peak_activation_bytes)}${at(t.peak_layer)} in the file's order, input included ` +
    `(${bytes(t.peak_activation_bytes_without_input)} without it); ${min}; ` +
    `input ${bytes(t.input_bytes)} and weights ${bytes(t.stored_param_bytes)} counted apart; ` +
    `${bytes(t.activation_bytes)} if every output were kept`
  );
}

/** The training estimate as one line per part, or nothing when it was not asked for. */
export function trainingSummary(r: Report): string[] {
  const tr = r.totals.training_bytes;
  if (!tr) return [];
  const parts = [
    ["weights", tr.weights],
    ["gradients", tr.gradients],
    ["optimizer state", tr.optimizer_state],
    ["saved activations", tr.activations],
  ] as const;
  return [
    `training (${tr.optimizer}, ${tr.precision}, batch ${tr.batch}): ${bytes(tr.total)} = ${parts.map(([k, v]) => `${k} ${bytes(v)}`).join(" + ")}; ${tr.dominant?.replace("_", " ") ?? "?"} dominate${tr.dominant === "activations" || tr.dominant === "gradients" || tr.dominant === "weights" ? "" : "s"}`,
  ];
}

/** What compute figures are shown: per image, and the whole batch when it differs. */
export function batchNote(r: Report): string {
  return r.batch > 1 ? `per image (batch ${r.batch}: ×${r.batch} for the whole batch)` : "per image";
}

/** What to call the model in a title: the file it came from (exporters name graphs "torch_jit", "main_graph"…), else its name. */
export function modelTitle(r: Report): string {
  const file = r.model.file?.split(/[\\/]/).pop();
  return file && file !== r.model.name ? `${file} (${r.model.format} graph '${r.model.name}')` : `${r.model.name} (${r.model.format})`;
}

/** A null total's counted part alone, "≥ 386,100,000", or undefined when the total is exact or nothing is known. */
export function lowerValue(r: Report, key: string, fmt: (n: number) => string = exact): string | undefined {
  const text = lowerBound(r, key, fmt);
  return text?.slice(0, text.indexOf(" — "));
}

/** A null total's counted part, as a lower bound with what it leaves out: "≥ 386.10M — 3 layers of type X not counted". */
export function lowerBound(r: Report, key: string, fmt: (n: number) => string = compact): string | undefined {
  const k = r.totals.known;
  const why = k?.missing[key];
  if (!k || !why) return undefined;
  const own = (k as unknown as Record<string, unknown>)[key];
  const v = typeof own === "number" ? own : k.by_convention[key];
  return v === undefined ? undefined : `≥ ${fmt(v)} — ${why}`;
}

/** An exact total, or its known part as a lower bound when it is null: what every renderer prints for a total. */
export function totalOr(r: Report, key: string, n: number | null, fmt: (n: number | null) => string = exact): string {
  return n === null ? (lowerBound(r, key, fmt) ?? fmt(n)) : fmt(n);
}
