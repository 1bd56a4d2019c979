import type { Report } from "../core/report.js";
import {
  batchNote,
  exact,
  fieldShort,
  firstOutput,
  lowerBound,
  memorySummary,
  modelTitle,
  perImageShape,
  share,
  sizeSummary,
  trainingSummary,
} from "./format.js";

/** A Markdown report: the layer table with exact integers, totals, conventions. */
export function renderMarkdown(r: Report): string {
  const esc = (s: string) => s.replace(/([|\\`*_<>[\]])/g, "\\$1");
  const out: string[] = [];
  out.push(`# ${esc(modelTitle(r))}`);
  out.push("");
  out.push(
    `Format ${esc(r.model.format)} · input ${r.inputs.map((i) => `${esc(i.name)} ${i.shape.join("×")}`).join(", ")} · per image${r.batch > 1 ? ` (batch ${r.batch})` : ""} · convention \`${r.convention}\``,
  );
  out.push("");
  out.push("| # | layer | op | output | rf r/S | params | value | share |");
  out.push("|---:|---|---|---|---|---:|---:|---:|");
  r.layers.forEach((l, i) => {
    const t = firstOutput(r, l);
    out.push(
      `| ${i + 1} | ${esc(l.name)} | ${esc(l.op)}${l.status === "unknown" ? " (unknown)" : ""} | ${perImageShape(t?.shape, r.batch)} | ${fieldShort(t?.rf)} | ${exact(l.params)} | ${exact(l.value)} | ${share(l.value, r.totals.value)} |`,
    );
  });
  const t = r.totals;
  out.push("");
  out.push("## Totals");
  out.push("");
  out.push(
    t.params === null
      ? `- params: ? (${esc(lowerBound(r, "params", exact) ?? "unknown")})`
      : `- params: ${exact(t.params)} (trainable ${exact(t.trainable_params)}, non-trainable ${exact(t.non_trainable_params)})`,
  );
  out.push(`- size: ${exact(t.param_bytes)} bytes as ${t.param_dtype}; ${sizeSummary(r)}`);
  out.push(
    t.value === null
      ? `- ${r.convention}: ? per image (${esc(lowerBound(r, "value", exact) ?? "unknown")})`
      : `- ${r.convention}: ${exact(t.value)} per image${r.batch > 1 ? `; ${exact(r.batch_totals.by_convention[r.convention])} per batch of ${r.batch}` : ""}`,
  );
  out.push(`- memory: ${esc(memorySummary(r))}`);
  for (const l of trainingSummary(r)) out.push(`- ${esc(l)}`);
  if (t.partial) out.push(`- ${t.partial}`);
  out.push("");
  out.push(`## Conventions (${batchNote(r)})`);
  out.push("");
  out.push("| convention | value | includes |");
  out.push("|---|---:|---|");
  for (const c of r.conventions) {
    const lower = c.value === null ? lowerBound(r, c.name, exact) : undefined;
    const approx = c.approximated ? ` (approximated — ${c.approximated})` : "";
    out.push(`| ${c.name} | ${exact(c.value)}${lower ? ` (${esc(lower)})` : ""} | ${esc(c.includes + approx)} |`);
  }
  if (r.notes.length + r.warnings.length > 0) {
    out.push("");
    for (const n of r.notes) out.push(`> note: ${esc(n)}`);
    for (const w of r.warnings) out.push(`> warning: ${esc(w)}`);
  }
  return `${out.join("\n")}\n`;
}
