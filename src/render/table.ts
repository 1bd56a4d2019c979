import type { Report } from "../core/report.js";
import {
  batchNote,
  bytes,
  compact,
  exact,
  fieldShort,
  firstOutput,
  lowerBound,
  lowerValue,
  memorySummary,
  modelTitle,
  perImageShape,
  share,
  sizeSummary,
  trainingSummary,
} from "./format.js";

/** The terminal report: one row per layer, totals, the conventions side by side, notes. */
export function renderTable(r: Report): string {
  return [...tableChunks(r)].join("");
}

/**
 * The same text in pieces of about `chunk` characters: the command writes a 100,000-row
 * table as it goes rather than as one string of its whole size (and its lines before that).
 * The generator only hands on pieces; the loops over the layers are plain functions. When the
 * loops were the generator's own, V8 compiled it again (optimized) when it was next entered,
 * and the command's last resumption of it comes after all its output is written: the
 * process then waited for that compilation before it could exit (19–37 ms after the last
 * write on a 10,000-node graph, under strace; 4–6 ms since).
 */
export function* tableChunks(r: Report, chunk = 1 << 20): Generator<string> {
  const headline = r.convention === "macs" ? "MACs" : r.convention;
  const head = ["#", "layer", "op", "output", "rf r/S", "params", headline, "share"];
  const cells = columns(r, head);
  const widths = cells.widths;
  const line = (texts: string[]) => {
    let s = "";
    for (let c = 0; c < texts.length; c++) {
      if (c > 0) s += SEP;
      s += cell(widths, c, texts[c]);
    }
    return s.trimEnd();
  };
  const inputs = r.inputs.map((i) => `${i.name} ${i.shape.join("×")}`).join(", ");
  let buf = `convscope — ${modelTitle(r)} · input ${inputs} · per image${r.batch > 1 ? ` (batch ${r.batch})` : ""}\n\n`;
  buf += `${line(head)}\n${line(widths.map((w) => "─".repeat(w)))}\n`;
  while (cells.next < r.layers.length) {
    buf += rows(r, cells, chunk - buf.length);
    if (buf.length >= chunk) {
      yield buf;
      buf = "";
    }
  }
  yield `${buf}${summaryLines(r, headline).join("\n")}\n`;
}

/** The columns in head's order: right-aligned (#, params, count, share) or left-aligned, two spaces apart. */
const RIGHT = [true, false, false, false, false, true, true, true];

/** The cells that need a lookup or formatting, by column, and every column's width. */
interface Columns {
  widths: number[];
  shapes: string[];
  fields: string[];
  params: string[];
  values: string[];
  shares: string[];
  /** The first row `rows` has not written yet. */
  next: number;
}

/**
 * The first of two passes over the layers: the cells kept by column, and the widths. The
 * second (`rows`) writes each row as one line. No row is an array of its cells and no cell is
 * padded apart: on a 100,000-layer graph those were 100,000 arrays and 800,000 padded
 * strings, the arrays and their cells alive until the last line was written (so the garbage
 * collector copied them).
 */
function columns(r: Report, head: string[]): Columns {
  // A layer's counts repeat across a large graph (every 3×3 conv of a stage): each distinct
  // number is formatted once (toFixed per cell was a fifth of the table's time).
  const compacts = new Map<number, string>();
  const shareTexts = new Map<number, string>();
  const once = (texts: Map<number, string>, n: number, format: (n: number) => string) => {
    let s = texts.get(n);
    if (s === undefined) {
      s = format(n);
      texts.set(n, s);
    }
    return s;
  };
  const shareOf = (n: number) => share(n, r.totals.value);
  const widths = head.map((h) => h.length);
  const layers = r.layers;
  const n = layers.length;
  widths[0] = Math.max(widths[0], String(n).length);
  const shapes: string[] = new Array(n);
  const fields: string[] = new Array(n);
  const params: string[] = new Array(n);
  const values: string[] = new Array(n);
  const shares: string[] = new Array(n);
  // Consecutive rows mostly show the same shape list and field object: their text is made once.
  let lastShape: unknown = null;
  let shapeText = "";
  let lastRf: unknown = null;
  let fieldText = "";
  for (let i = 0; i < n; i++) {
    const l = layers[i];
    const out = firstOutput(r, l); // looked up once, for its shape and its field
    const shape = out?.shape;
    if (shape !== lastShape) {
      lastShape = shape;
      shapeText = perImageShape(shape, r.batch);
    }
    const rf = out?.rf;
    if (rf !== lastRf) {
      lastRf = rf;
      fieldText = fieldShort(rf);
    }
    shapes[i] = shapeText;
    fields[i] = fieldText;
    params[i] = l.params ? once(compacts, l.params, compact) : "";
    values[i] = l.value ? once(compacts, l.value, compact) : l.value === null ? "?" : "";
    shares[i] = l.value ? once(shareTexts, l.value, shareOf) : "";
    widen(widths, 1, l.name.length);
    widen(widths, 2, l.status === "unknown" ? l.op.length + UNKNOWN.length : l.op.length);
    widen(widths, 3, shapeText.length);
    widen(widths, 4, fieldText.length);
    widen(widths, 5, params[i].length);
    widen(widths, 6, values[i].length);
    widen(widths, 7, shares[i].length);
  }
  return { widths, shapes, fields, params, values, shares, next: 0 };
}

/** The next rows' lines, about `room` characters of them (at least one row). */
function rows(r: Report, c: Columns, room: number): string {
  const { widths, shapes, fields, params, values, shares } = c;
  const layers = r.layers;
  let text = "";
  let i = c.next;
  while (i < layers.length) {
    const l = layers[i];
    const op = l.status === "unknown" ? `${l.op}${UNKNOWN}` : l.op;
    const row =
      cell(widths, 0, String(i + 1)) +
      SEP +
      cell(widths, 1, l.name) +
      SEP +
      cell(widths, 2, op) +
      SEP +
      cell(widths, 3, shapes[i]) +
      SEP +
      cell(widths, 4, fields[i]) +
      SEP +
      cell(widths, 5, params[i]) +
      SEP +
      cell(widths, 6, values[i]) +
      SEP +
      cell(widths, 7, shares[i]);
    text += `${row.trimEnd()}\n`;
    i++;
    if (text.length >= room) break;
  }
  c.next = i;
  return text;
}

/** The lines under the rows: totals, size, memory, the conventions side by side, notes. */
function summaryLines(r: Report, headline: string): string[] {
  const t = r.totals;
  const out: string[] = [""];
  out.push(
    t.params === null
      ? `params      ? (${lowerBound(r, "params", exact)})`
      : `params      ${exact(t.params)} (${compact(t.params)}; trainable ${exact(t.trainable_params)}, non-trainable ${exact(t.non_trainable_params)})`,
  );
  out.push(
    `size        ${exact(t.param_bytes)} bytes as ${t.param_dtype}${t.param_bytes === null ? "" : ` = ${(t.param_bytes / 1024).toFixed(1)} KiB (${bytes(t.param_bytes)})`}` +
      (r.model.file_bytes !== undefined ? `; file ${exact(r.model.file_bytes)} bytes` : ""),
  );
  out.push(`            ${sizeSummary(r)}`);
  if (t.quant_params !== undefined) {
    out.push(`quant       ${exact(t.quant_params)} scales and zero points (${exact(t.quant_param_bytes ?? 0)} bytes), not parameters`);
  }
  out.push(
    t.value === null
      ? `${headline.padEnd(12)}? (${lowerBound(r, "value") ?? "unknown"}) per image`
      : `${headline.padEnd(12)}${exact(t.value)} (${compact(t.value)}) per image${r.batch > 1 ? `; ${exact(r.batch_totals.by_convention[r.convention])} per batch of ${r.batch}` : ""}`,
  );
  out.push(`memory      ${memorySummary(r)}`);
  for (const l of trainingSummary(r)) out.push(`train       ${l}`);
  const lastField = lastSpatialField(r);
  if (lastField) out.push(`field       ${lastField}`);
  if (t.partial) out.push(t.partial);
  out.push("");
  out.push(`conventions (why tools disagree), ${batchNote(r)}:`);
  const nameW = Math.max(...r.conventions.map((c) => c.name.length));
  // A null total shows its counted part as "≥ n" (what it leaves out is on the headline line).
  const shown = r.conventions.map((c) => (c.value === null ? (lowerValue(r, c.name) ?? "?") : exact(c.value)));
  const valW = Math.max(...shown.map((v) => v.length));
  r.conventions.forEach((c, i) => {
    out.push(`  ${c.name.padEnd(nameW)}  ${shown[i].padStart(valW)}  ${c.includes}`);
    if (c.approximated) out.push(`  ${"".padEnd(nameW)}  ${"".padStart(valW)}  approximated — ${c.approximated}`);
  });
  for (const n of r.notes) out.push(`note: ${n}`);
  for (const w of r.warnings) out.push(`warning: ${w}`);
  return out;
}

const SEP = "  ";
const UNKNOWN = " (unknown)";

/** Runs of spaces by length, made once each: the padding of every cell of a column. */
const SPACES: string[] = [""];

function spaces(k: number): string {
  if (k <= 0) return "";
  for (let i = SPACES.length; i <= k; i++) SPACES[i] = `${SPACES[i - 1]} `;
  return SPACES[k];
}

/** `text` in column `c`, aligned as RIGHT says and padded to the column's width. */
function cell(widths: number[], c: number, text: string): string {
  return RIGHT[c] ? padLeft(text, widths[c]) : padRight(text, widths[c]);
}

/** `text` right-aligned in `width` (as padStart). */
function padLeft(text: string, width: number): string {
  return spaces(width - text.length) + text;
}

/** `text` left-aligned in `width` (as padEnd). */
function padRight(text: string, width: number): string {
  return text + spaces(width - text.length);
}

function widen(widths: number[], c: number, length: number): void {
  if (length > widths[c]) widths[c] = length;
}

/** The receptive field of the last spatial tensor before the network goes global. */
function lastSpatialField(r: Report): string | undefined {
  for (let i = r.layers.length - 1; i >= 0; i--) {
    const name = r.layers[i].outputs[0];
    const rf = firstOutput(r, r.layers[i])?.rf;
    if (!rf) continue;
    if ("global" in rf) {
      if (!rf.local) continue;
      return `${name}: global (local ${rf.local.size.join("×")} px, stride ${rf.local.stride.join("×")}, padding ${rf.local.padding.join("×")})`;
    }
    return `${name}: ${rf.size.join("×")} px, stride ${rf.stride.join("×")}, padding ${rf.padding.join("×")}${rf.aligned ? "" : " (paths not aligned)"}`;
  }
  return undefined;
}
