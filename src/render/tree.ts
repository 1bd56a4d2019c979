import { CONVENTIONS } from "../analysis/conventions.js";
import { type TreeRow, treeRows } from "../analysis/modules.js";
import { ConvscopeError } from "../core/errors.js";
import { type FieldJson, type Report, tensorOf } from "../core/report.js";
import { bytes, compact, exact, fieldShort, firstOutput, modelTitle, share } from "./format.js";

/** One row's figures, whether it is a module or a layer. */
export interface TreeFigures {
  label: string;
  depth: number;
  kind: "module" | "layer";
  type: string;
  layers: number;
  params: number | null;
  by_convention: Record<string, number | null>;
  value: number | null;
  activation_bytes: number | null;
  peak_live_bytes: number | null;
  rf?: FieldJson;
}

/** The figures of each `--depth N` row. */
export function treeFigures(r: Report, depth: number): TreeFigures[] {
  const peakLive = new Set(r.totals.peak_live ?? []);
  const owner = new Map<number, string>();
  for (const m of r.modules ?? []) for (const i of m.own_layers) owner.set(i, m.path);
  return treeRows(r, depth).map((row: TreeRow): TreeFigures => {
    if (row.kind === "module") {
      const m = (r.modules ?? [])[row.index];
      return {
        label: m.name,
        depth: row.depth,
        kind: "module",
        type: m.type ?? "",
        layers: m.layers,
        params: m.params,
        by_convention: m.by_convention,
        value: m.value,
        activation_bytes: m.activation_bytes,
        peak_live_bytes: m.peak_live_bytes,
        rf: m.rf,
      };
    }
    const l = r.layers[row.index];
    let live = 0;
    for (const o of l.outputs) if (peakLive.has(o)) live += tensorOf(r, o)?.bytes ?? 0;
    const path = owner.get(row.index);
    return {
      label: path && l.name.startsWith(path) && l.name.length > path.length ? l.name.slice(path.length + 1) : l.name,
      depth: row.depth,
      kind: "layer",
      type: l.op,
      layers: 1,
      params: l.params,
      by_convention: l.by_convention,
      value: l.value,
      activation_bytes: l.activation_bytes,
      peak_live_bytes: live,
      rf: firstOutput(r, l)?.rf,
    };
  });
}

/**
 * The `--depth N` terminal table: modules (and layers outside any deeper module) indented by
 * depth, with parameters, every convention, activation bytes, the part of the peak each
 * holds, its share of the headline count and the receptive field at its output.
 */
export function renderTreeTable(r: Report, depth: number): string {
  const rows = treeFigures(r, depth);
  const convs = CONVENTIONS.map((c) => c.name);
  const head = ["module", "type", "layers", "params", ...convs, "activations", "at peak", "share", "rf r/S"];
  const cells = rows.map((f) => [
    `${"  ".repeat(f.depth - 1)}${f.label}`,
    f.type,
    String(f.layers),
    f.params ? compact(f.params) : f.params === null ? "?" : "",
    ...convs.map((c) => {
      const v = f.by_convention[c];
      return v ? compact(v) : v === null ? "?" : "";
    }),
    f.activation_bytes ? bytes(f.activation_bytes) : "",
    f.peak_live_bytes ? bytes(f.peak_live_bytes) : "",
    share(f.value, r.totals.value),
    fieldShort(f.rf),
  ]);
  const t = r.totals;
  cells.push([
    "total",
    "",
    String(t.layers),
    compact(t.params),
    ...convs.map((c) => compact(t.by_convention[c])),
    bytes(t.activation_bytes),
    bytes(t.peak_activation_bytes),
    t.value ? "100.0%" : "",
    "",
  ]);
  const left = new Set([0, 1, head.length - 1]);
  const widths = head.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c].length)));
  const line = (row: string[]) =>
    row
      .map((cell, c) => (left.has(c) ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join("  ")
      .trimEnd();
  const out = [
    `convscope — ${modelTitle(r)} · modules to depth ${depth} · per image · share of ${r.convention}`,
    "",
    line(head),
    line(widths.map((w) => "─".repeat(w))),
  ];
  for (let i = 0; i < cells.length; i++) {
    if (i === cells.length - 1) out.push(line(widths.map((w) => "─".repeat(w))));
    out.push(line(cells[i]));
  }
  out.push("");
  out.push(
    `params: a weight used by layers of two modules counts in each, and once in their parent (the total ${exact(t.params)} counts each stored tensor once)`,
  );
  out.push("at peak: bytes of the module's outputs live at the file-order peak" + (t.peak_layer ? ` (${t.peak_layer})` : ""));
  for (const n of r.notes) out.push(`note: ${n}`);
  return `${out.join("\n")}\n`;
}

/** The `--depth N` view as CSV (one row per module or layer, exact integers). */
export function renderTreeCsv(r: Report, depth: number): string {
  const convs = CONVENTIONS.map((c) => c.name);
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const num = (n: number | null | undefined) => (n === null || n === undefined ? "" : String(n));
  const lines = [["kind", "depth", "name", "type", "layers", "params", ...convs, "activation_bytes", "peak_live_bytes"].join(",")];
  const rows = treeRows(r, depth);
  treeFigures(r, depth).forEach((f, i) => {
    const name = rows[i].name;
    lines.push(
      [
        f.kind,
        String(f.depth),
        q(name),
        q(f.type),
        String(f.layers),
        num(f.params),
        ...convs.map((c) => num(f.by_convention[c])),
        num(f.activation_bytes),
        num(f.peak_live_bytes),
      ].join(","),
    );
  });
  return `${lines.join("\n")}\n`;
}

/** The `--depth N` view as a Markdown table. */
export function renderTreeMarkdown(r: Report, depth: number): string {
  const convs = CONVENTIONS.map((c) => c.name);
  const esc = (s: string) => s.replace(/([|\\`*_<>[\]])/g, "\\$1");
  const out = [
    `# ${esc(modelTitle(r))}: modules to depth ${depth}`,
    "",
    `| module | type | layers | params | ${convs.join(" | ")} | activation bytes | at peak | share | rf r/S |`,
    `|---|---|---:|---:|${convs.map(() => "---:").join("|")}|---:|---:|---:|---|`,
  ];
  for (const f of treeFigures(r, depth)) {
    out.push(
      `| ${"&nbsp;&nbsp;".repeat(f.depth - 1)}${esc(f.label)} | ${esc(f.type)} | ${f.layers} | ${exact(f.params)} | ${convs.map((c) => exact(f.by_convention[c])).join(" | ")} | ${exact(f.activation_bytes)} | ${exact(f.peak_live_bytes)} | ${share(f.value, r.totals.value)} | ${fieldShort(f.rf)} |`,
    );
  }
  return `${out.join("\n")}\n`;
}

/** `--depth N`: a whole number; 0 is the flat table. */
export function depthArg(s: string): number {
  if (!/^\d+$/.test(s)) throw new ConvscopeError(`--depth takes a whole number (0: the flat layer table), got '${s}'`);
  return Number(s);
}

export const TREE_RENDERERS: Record<string, (r: Report, depth: number) => string> = {
  table: renderTreeTable,
  csv: renderTreeCsv,
  md: renderTreeMarkdown,
};
