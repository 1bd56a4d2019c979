import type { Report } from "../core/report.js";
import { renderCsv } from "./csv.js";
import { jsonChunks, renderJson } from "./json.js";
import { renderMarkdown } from "./markdown.js";
import { renderRfTable } from "./rf-table.js";
import { renderTable, tableChunks } from "./table.js";

export { jsonChunks, renderCsv, renderJson, renderMarkdown, renderRfTable, renderTable, tableChunks };

export const RENDERERS: Record<string, (r: Report) => string> = {
  table: renderTable,
  json: renderJson,
  csv: renderCsv,
  md: renderMarkdown,
};
