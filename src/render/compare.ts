import type { CompareMetric, Comparison } from "../analysis/compare.js";
import { bytes, compact, exact } from "./format.js";

/** A cell as people read it: compact count, binary bytes, or the metric's own text. */
function human(m: CompareMetric, i: number): string {
  const t = m.text?.[i];
  if (t) return t;
  const v = m.values[i];
  return m.unit === "bytes" ? bytes(v) : compact(v);
}

function ratio(m: CompareMetric, i: number): string {
  const q = m.ratios[i];
  return q === null ? "" : `×${q >= 100 ? q.toFixed(0) : q >= 10 ? q.toFixed(1) : q.toFixed(2)}`;
}

/** The terminal table: a row per metric, a column per model, each later model with its ratio to the first. */
export function renderCompareTable(c: Comparison): string {
  const head = ["", ...c.models.map((m) => m.label)];
  const rows = c.metrics.map((m) => [
    m.label,
    ...c.models.map((_, i) => (i === 0 || m.key === "input_pixels" ? human(m, i) : `${human(m, i)} (${ratio(m, i) || "?"})`)),
  ]);
  const exactRows = c.metrics.filter((m) => m.unit !== "px").map((m) => [`${m.label} (exact)`, ...m.values.map((v) => exact(v))]);
  const all = [...rows, ...exactRows];
  const widths = head.map((h, k) => Math.max(h.length, ...all.map((r) => r[k].length)));
  const line = (r: string[]) =>
    r
      .map((cell, k) => (k === 0 ? cell.padEnd(widths[k]) : cell.padStart(widths[k])))
      .join("  ")
      .trimEnd();
  const out = [
    `convscope compare · ${c.convention} · per image · ratios to ${c.models[0]?.label ?? "the first model"}`,
    "",
    line(head),
    line(widths.map((w) => "─".repeat(w))),
    ...rows.map(line),
    line(widths.map((w) => "─".repeat(w))),
    ...exactRows.map(line),
  ];
  for (const n of c.notes) out.push(`note: ${n}`);
  return `${out.join("\n")}\n`;
}

/** Markdown: exact integers, the ratio to the first model beside each later value. */
export function renderCompareMarkdown(c: Comparison): string {
  const esc = (s: string) => s.replace(/([|\\`*_<>[\]])/g, "\\$1");
  const out = [`| metric | ${c.models.map((m) => esc(m.label)).join(" | ")} |`, `|---|${c.models.map(() => "---:").join("|")}|`];
  for (const m of c.metrics) {
    const cells = c.models.map((_, i) => {
      const v = m.text?.[i] ? esc(m.text[i] as string) : exact(m.values[i]);
      return i === 0 || m.key === "input_pixels" ? v : `${v} (${ratio(m, i) || "?"})`;
    });
    out.push(`| ${esc(m.label)}${m.unit === "bytes" ? " (bytes)" : ""} | ${cells.join(" | ")} |`);
  }
  if (c.notes.length > 0) out.push("", ...c.notes.map((n) => `- ${esc(n)}`));
  return `${out.join("\n")}\n`;
}

/** CSV: one row per model, exact integers, a ratio column per metric (RFC 4180 quoting). */
export function renderCompareCsv(c: Comparison): string {
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const metrics = c.metrics;
  const head = [
    "model",
    "format",
    "input",
    ...metrics.flatMap((m) => (m.key === "input_pixels" ? [] : [csvKey(m, c), `${csvKey(m, c)}_ratio`])),
    "rf_text",
  ];
  const lines = [head.join(",")];
  c.models.forEach((model, i) => {
    const cells = [
      q(model.label),
      q(model.format),
      q(model.input),
      ...metrics.flatMap((m) =>
        m.key === "input_pixels" ? [] : [m.values[i] === null ? "" : String(m.values[i]), m.ratios[i] === null ? "" : String(m.ratios[i])],
      ),
      q(metrics.find((m) => m.key === "rf")?.text?.[i] ?? ""),
    ];
    lines.push(cells.join(","));
  });
  return `${lines.join("\n")}\n`;
}

function csvKey(m: CompareMetric, c: Comparison): string {
  return m.key === "value" ? c.convention : m.key === "rf" ? "rf_size" : m.key;
}

/** JSON: the comparison as data, exact integers, unknowns null. */
export function renderCompareJson(c: Comparison): string {
  return `${JSON.stringify(c, null, 2)}\n`;
}

/**
 * LaTeX for a paper: a `booktabs` table, a column per model, in the usual units (M params,
 * G MACs/FLOPs, MiB of activations, GiB of training memory, px); later models carry their
 * ratio to the first. Needs `\usepackage{booktabs}`.
 */
export function renderCompareLatex(c: Comparison): string {
  const tex = (s: string) =>
    s
      .replace(/([\\&%$#_{}])/g, "\\$1")
      .replace(/~/g, "\\textasciitilde{}")
      .replaceAll("×", "$\\times$");
  const fixed = (v: number | null, div: number, digits = 2) => (v === null ? "--" : (v / div).toFixed(digits));
  const unitOf = (m: CompareMetric): [string, (v: number | null) => string] => {
    switch (m.key) {
      case "params":
        return ["Params (M)", (v) => fixed(v, 1e6)];
      case "value":
        return [`${c.convention === "macs" ? "MACs" : tex(c.convention)} (G)`, (v) => fixed(v, 1e9)];
      case "flops":
        return ["FLOPs (G)", (v) => fixed(v, 1e9)];
      case "peak_activation_bytes":
        return ["Peak activations (MiB)", (v) => fixed(v, 2 ** 20, 1)];
      case "training_bytes":
        return ["Training memory (GiB)", (v) => fixed(v, 2 ** 30)];
      case "rf":
        return ["Receptive field (px)", (v) => (v === null ? "--" : String(v))];
      default:
        return ["Input", (v) => (v === null ? "--" : String(v))];
    }
  };
  const out = [
    "% convscope compare: needs \\usepackage{booktabs}",
    "\\begin{table}[t]",
    "\\centering",
    `\\caption{Cost per image (${tex(c.convention)}); in parentheses, the ratio to ${tex(c.models[0]?.label ?? "")}.}`,
    `\\begin{tabular}{l${"r".repeat(c.models.length)}}`,
    "\\toprule",
    ` & ${c.models.map((m) => tex(m.label)).join(" & ")} \\\\`,
    "\\midrule",
  ];
  for (const m of c.metrics) {
    const [label, fmt] = unitOf(m);
    const cells = c.models.map((_, i) => {
      if (m.key === "input_pixels") return tex(c.models[i].input);
      const v = fmt(m.values[i]);
      const q = m.ratios[i];
      return i === 0 || q === null ? v : `${v} (${q.toFixed(2)}$\\times$)`;
    });
    out.push(`${label} & ${cells.join(" & ")} \\\\`);
  }
  out.push("\\bottomrule", "\\end{tabular}", "\\end{table}");
  return `${out.join("\n")}\n`;
}

export const COMPARE_RENDERERS: Record<string, (c: Comparison) => string> = {
  table: renderCompareTable,
  md: renderCompareMarkdown,
  csv: renderCompareCsv,
  json: renderCompareJson,
  latex: renderCompareLatex,
};
