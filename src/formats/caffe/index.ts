import type { Graph } from "../../core/graph.js";
import { type ByteSource, readText } from "../source.js";
import { caffeGraph } from "./net.js";
import { parseTextFormat } from "./text-format.js";

/** Reads a Caffe net definition (.prototxt, protobuf text format) into the canonical graph. */
export function readCaffe(src: ByteSource): Graph {
  return caffeGraph(parseTextFormat(readText(src), src.name), src.name);
}

/** Top-level NetParameter fields that start a line in a prototxt. */
const NET_FIELD = /^[ \t]*(layers?[ \t]*\{|input(_dim|_shape)?[ \t]*[:{]|name[ \t]*:|force_backward[ \t]*:|state[ \t]*\{)/m;
const LAYERS = /^([ \t]*layers?[ \t]*\{|input(_dim|_shape)?[ \t]*[:{])/m;

/**
 * Recognises a prototxt by content: text (no NUL bytes) whose lines hold NetParameter
 * fields — `layer {`/`layers {`, or `input:` at the start of a line (a TensorFlow GraphDef's
 * `input:` is indented inside `node {`) in the first 4 KiB; with a `.prototxt` name,
 * any top-level net field (a long header may push the layers out of the first 4 KiB).
 */
export function sniffCaffe(head: Uint8Array, name: string): boolean {
  if (head.includes(0)) return false;
  const text = new TextDecoder().decode(head).replace(/#[^\n]*/g, "");
  if (/^\s*[{[]/.test(text)) return false;
  if (LAYERS.test(text)) return true;
  return /\.prototxt$/i.test(name) && NET_FIELD.test(text);
}
