/**
 * convscope's library API. Everything here runs unchanged in Node and in a browser:
 * read a model (`readModel(bufferSource(name, bytes))`) or build one (`NetBuilder`, `ZOO`),
 * `analyze` it into a plain-data Report, render that as table, JSON, CSV or Markdown.
 */

export { CONVENTIONS, type Convention } from "./analysis/conventions.js";
export { type AnalyzeOptions, analyze } from "./analysis/index.js";
export type { DType } from "./core/dtype.js";
export { ConvscopeError } from "./core/errors.js";
export type { AttrValue, Graph, Initializer, Node, Tensor } from "./core/graph.js";
export { type FieldJson, type LayerReport, type Report, type TensorReport, type Totals, tensorEntries, tensorOf } from "./core/report.js";
export { type Dim, parseShape, type Shape } from "./core/shape.js";
export { type ByteSource, bufferSource, READERS, type Reader, readModel } from "./formats/index.js";
export { buildSpec } from "./formats/spec/index.js";
export { knownOps, type OpRule, RULES } from "./ops/index.js";
export { jsonChunks, RENDERERS, renderCsv, renderJson, renderMarkdown, renderTable, tableChunks } from "./render/index.js";
export { NetBuilder, type T, ZOO, zooModel } from "./zoo/index.js";
