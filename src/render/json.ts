import type { Report } from "../core/report.js";

/** The report as JSON: every count an exact integer, unknowns as null. */
export function renderJson(r: Report): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}
