import { readFileSync } from "node:fs";
import { analyze } from "../../src/analysis/index.js";
import { fileSource } from "../../src/cli/node-source.js";
import type { Graph } from "../../src/core/graph.js";
import type { Report } from "../../src/core/report.js";
import type { Shape } from "../../src/core/shape.js";
import { readModel } from "../../src/formats/index.js";

/** The second-round fixtures, copied into the repository with their reference.json. */
export const V2 = new URL("../fixtures/v2/", import.meta.url);

/** reference.json of a v2 folder. */
export function references<T>(folder: string): Record<string, T> {
  return JSON.parse(readFileSync(new URL(`${folder}/reference.json`, V2), "utf8"));
}

/** Reads a v2 fixture through a file descriptor, as the CLI does, and analyses it. */
export function analyzeFile(folder: string, file: string, inputs?: Record<string, Shape>): { g: Graph; r: Report } {
  const src = fileSource(new URL(`${folder}/${file}`, V2).pathname);
  try {
    const g = readModel(src);
    return { g, r: analyze(g, { inputs }) };
  } finally {
    src.close();
  }
}
