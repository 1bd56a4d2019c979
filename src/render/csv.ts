import type { Report } from "../core/report.js";
import { firstOutput } from "./format.js";

const COLUMNS = [
  "layer",
  "op",
  "status",
  "output_shape",
  "rf_size",
  "rf_stride",
  "rf_padding",
  "params",
  "trainable_params",
  "macs",
  "flops",
  "seed",
  "activation_bytes",
] as const;

/** One row per layer, exact integers, RFC 4180 quoting; unknown values are empty. */
export function renderCsv(r: Report): string {
  const rows = [COLUMNS.join(",")];
  for (const l of r.layers) {
    const t = firstOutput(r, l);
    const rf = t?.rf;
    const axes = rf && !("global" in rf) ? rf : undefined;
    const cells = [
      l.name,
      l.op,
      l.status,
      t?.shape?.join("x") ?? "",
      rf && "global" in rf ? "global" : (axes?.size.join("x") ?? ""),
      axes?.stride.join("x") ?? "",
      axes?.padding.join("x") ?? "",
      l.params,
      l.trainable_params,
      l.macs,
      l.flops,
      l.seed,
      l.activation_bytes,
    ];
    rows.push(cells.map((c) => quote(c === null || c === undefined ? "" : String(c))).join(","));
  }
  // Totals: exact ones (empty when unknown, status `partial`), then, when some total is
  // partial, the counted part as a lower bound with what it leaves out as its status.
  const t = r.totals;
  const k = t.known;
  const row = (name: string, status: string, vals: (number | null | undefined)[]) =>
    [name, "", status, "", "", "", "", ...vals].map((c) => quote(c === null || c === undefined ? "" : String(c))).join(",");
  rows.push(row("(total)", k ? "partial" : "ok", [t.params, t.trainable_params, t.macs, t.flops, t.seed, t.activation_bytes]));
  if (k) {
    const why = [...new Set(Object.values(k.missing))].join("; ");
    rows.push(row("(known part, lower bound)", why, [k.params, k.trainable_params, k.macs, k.flops, k.seed, k.activation_bytes]));
  }
  return `${rows.join("\n")}\n`;
}

function quote(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
