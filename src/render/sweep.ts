import type { AnalyzeOptions } from "../analysis/index.js";
import { SWEEP_METRICS, type SweepMetric, type SweepResult, sweep, sweepInput } from "../analysis/sweep.js";
import type { Graph } from "../core/graph.js";
import { bytes, exact } from "./format.js";

const LABEL: Record<SweepMetric, string> = { macs: "MACs", flops: "FLOPs", value: "value", activation_bytes: "activation bytes" };

function metricLabel(r: SweepResult, m: SweepMetric): string {
  return m === "value" ? r.convention : LABEL[m];
}

/** The metrics worth a column: the convention's only when it is not macs or flops. */
function shown(r: SweepResult): SweepMetric[] {
  return SWEEP_METRICS.filter((m) => m !== "value" || (r.convention !== "macs" && r.convention !== "flops"));
}

const pct = (c: number[] | null) => (c ? c.map((x) => `${(100 * x).toFixed(1)}%`).join(" × ") : "?");

/** The closed forms, one line each, with what they were checked against. */
export function closedFormLines(r: SweepResult): string[] {
  const out: string[] = [];
  for (const m of shown(r)) {
    const c = r.closed[m];
    const label = metricLabel(r, m);
    if ("error" in c) out.push(`${label} = ? (no closed form: ${c.error})`);
    else {
      const where = c.multiple_of ? ` for H, W multiples of ${c.multiple_of}` : "";
      out.push(`${label} = ${c.text}${where}  [equals the exact analysis at ${c.checked} sizes]`);
      if (c.simplified) out.push(`${" ".repeat(label.length)} = ${c.simplified}${where}`);
    }
  }
  out.push("peak activation memory: a maximum over the execution, given per size (no closed form)");
  if (r.coverage_text) out.push(`last field's coverage of the image: ${r.coverage_text}`);
  return out;
}

/** The sweep as a terminal table: one row per size, then the closed forms. */
export function renderSweepTable(r: SweepResult): string {
  const ms = shown(r);
  const head = ["H×W", ...ms.map((m) => metricLabel(r, m)), "peak", "field coverage"];
  const rows = r.points.map((p) =>
    p.error
      ? [`${p.size[0]}×${p.size[1]}`, `cannot run: ${p.error}`]
      : [
          `${p.size[0]}×${p.size[1]}`,
          ...ms.map((m) => (m === "activation_bytes" ? bytes(p[m]) : exact(p[m]))),
          bytes(p.peak_activation_bytes),
          pct(p.coverage),
        ],
  );
  const widths = head.map((h, c) => Math.max(h.length, ...rows.filter((x) => x.length === head.length).map((x) => x[c].length)));
  const line = (cells: string[]) =>
    cells.length !== head.length
      ? cells.join("  ")
      : cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ");
  const out = [
    `convscope — cost against input size · input '${r.input.name}' ${r.input.declared.join("×")} (H, W = axes ${r.input.axes.join(", ")}) · per image`,
    "",
    line(head),
    line(widths.map((w) => "─".repeat(w))),
    ...rows.map(line),
    "",
    ...closedFormLines(r),
  ];
  return `${out.join("\n")}\n`;
}

export function renderSweepCsv(r: SweepResult): string {
  const lines = ["h,w,macs,flops,value,activation_bytes,peak_activation_bytes,coverage_h,coverage_w,error"];
  const n = (x: number | null) => (x === null ? "" : String(x));
  for (const p of r.points)
    lines.push(
      [
        p.size[0],
        p.size[1],
        n(p.macs),
        n(p.flops),
        n(p.value),
        n(p.activation_bytes),
        n(p.peak_activation_bytes),
        n(p.coverage?.[0] ?? null),
        n(p.coverage?.[1] ?? null),
        p.error ? `"${p.error.replace(/"/g, '""')}"` : "",
      ].join(","),
    );
  return `${lines.join("\n")}\n`;
}

export function renderSweepMarkdown(r: SweepResult): string {
  const ms = shown(r);
  const out = [
    `| H×W | ${ms.map((m) => metricLabel(r, m)).join(" | ")} | peak activation bytes | field coverage |`,
    `|---|${ms.map(() => "---:").join("|")}|---:|---:|`,
    ...r.points.map((p) =>
      p.error
        ? `| ${p.size[0]}×${p.size[1]} | ${ms.map(() => "?").join(" | ")} | ? | ? |`
        : `| ${p.size[0]}×${p.size[1]} | ${ms.map((m) => exact(p[m])).join(" | ")} | ${exact(p.peak_activation_bytes)} | ${pct(p.coverage)} |`,
    ),
    "",
    ...closedFormLines(r).map((l) => `- ${l.trim()}`),
  ];
  return `${out.join("\n")}\n`;
}

export function renderSweepJson(r: SweepResult): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

export const SWEEP_RENDERERS: Record<string, (r: SweepResult) => string> = {
  table: renderSweepTable,
  csv: renderSweepCsv,
  md: renderSweepMarkdown,
  json: renderSweepJson,
};

/**
 * For the flat report of a model whose image H and W are symbolic (every count prints `?`):
 * the closed forms near 224×224, or nothing when they do not apply.
 */
export function sizeFunctionLines(g: Graph, opts: AnalyzeOptions): string[] {
  let input: ReturnType<typeof sweepInput>;
  try {
    input = sweepInput(g);
  } catch {
    return [];
  }
  const bound = opts.inputs?.[input.name];
  if (bound || input.axes.some((a) => typeof input.declared[a] === "number")) return [];
  try {
    const r = sweep(g, [[224, 224]], opts);
    return [
      "",
      `as a function of the input size (H, W = axes ${input.axes.join(", ")} of '${input.name}'; --sweep for exact figures per size):`,
      ...closedFormLines(r).map((l) => `  ${l}`),
    ];
  } catch {
    return [];
  }
}
