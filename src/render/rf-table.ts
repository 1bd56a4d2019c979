import { type FieldJson, type Report, tensorOf } from "../core/report.js";

/**
 * The per-tensor receptive-field table, in the style of the receptive_field library's
 * published table: tensor, then r, S, P per axis (one value when the axes agree).
 */
export function renderRfTable(r: Report): string {
  const rows: string[][] = [];
  for (const l of r.layers) {
    for (const o of l.outputs) {
      const rf = tensorOf(r, o)?.rf;
      if (rf) rows.push([o, l.op, ...cells(rf)]);
    }
  }
  const head = ["tensor", "op", "r", "S", "P", "note"];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c >= 2 && c <= 4 ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join("  ")
      .trimEnd();
  return `${[line(head), line(widths.map((w) => "─".repeat(w))), ...rows.map(line)].join("\n")}\n`;
}

function cells(rf: FieldJson): string[] {
  const join = (xs: (number | string)[]) => (xs.every((x) => x === xs[0]) ? String(xs[0]) : xs.join("×"));
  const flags = [rf.aligned ? "" : "not aligned", rf.unknown ? "through an unknown op" : ""].filter(Boolean);
  if ("global" in rf) {
    if (!rf.local) return ["global", "", "", flags.join("; ")];
    const l = rf.local;
    return [join(l.size), join(l.stride), join(l.padding), ["global; local path shown", ...flags].join("; ")];
  }
  if (rf.phases) flags.unshift(`per phase: ${rf.phases.map((p) => p.size.join("/")).join(" × ")}`);
  return [join(rf.size), join(rf.stride), join(rf.padding), flags.join("; ")];
}
