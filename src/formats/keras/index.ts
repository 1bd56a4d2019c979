import { ConvscopeError } from "../../core/errors.js";
import type { Graph } from "../../core/graph.js";
import { numel } from "../../core/shape.js";
import { type ByteSource, readText } from "../source.js";
import { readZipMember } from "./archive.js";
import { isObject, type Json, type JsonObject } from "./config.js";
import { readKerasModel } from "./model.js";

/**
 * Keras models in their three file forms: `model.to_json()` output, `.keras` archives
 * (only `config.json` is read) and TensorFlow.js layers models (`model.json` whose
 * `modelTopology` is a Keras config; the `.bin` weight shards are never opened).
 */

function parseJson(text: string, what: string): JsonObject {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ConvscopeError(`${what} is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(v)) throw new ConvscopeError(`${what} is not a JSON object`);
  return v as JsonObject;
}

const str = (v: Json | undefined) => (typeof v === "string" ? v : undefined);

/** A Keras `model.to_json()` file. */
export function readKerasJson(src: ByteSource): Graph {
  const json = parseJson(readText(src), "the Keras model file");
  return readKerasModel(json, "keras", str(json.keras_version)).graph;
}

/** A `.keras` archive: `config.json` (and `metadata.json` for the version) from the zip. */
export function readKerasArchive(src: ByteSource): Graph {
  const config = readZipMember(src, "config.json");
  if (!config) throw new ConvscopeError("the zip archive has no config.json (not a .keras model)");
  const meta = readZipMember(src, "metadata.json");
  const version = meta ? str(parseJson(new TextDecoder().decode(meta), "metadata.json").keras_version) : undefined;
  const g = readKerasModel(parseJson(new TextDecoder().decode(config), "config.json"), "keras", version).graph;
  g.notes.push("read config.json from the .keras archive; model.weights.h5 is not opened");
  return g;
}

/** A TensorFlow.js layers model.json: the Keras topology, cross-checked against the weights manifest. */
export function readTfjsLayers(src: ByteSource): Graph {
  const json = parseJson(readText(src), "model.json");
  const topology = json.modelTopology;
  if (!isObject(topology)) throw new ConvscopeError('model.json has no "modelTopology" object');
  const model = isObject(topology.model_config) ? topology.model_config : topology;
  const { graph, weights } = readKerasModel(model, "tfjs-layers", str(topology.keras_version) ?? str(model.keras_version));
  graph.notes.push(...manifestNotes(json.weightsManifest, weights));
  return graph;
}

/**
 * Compares the manifest's weight shapes with the ones computed from the topology, by
 * weight name (exactly, or without the nested-model prefix). The shards are not read.
 */
export function manifestNotes(manifest: Json | undefined, computed: ReadonlyMap<string, readonly (number | string)[]>): string[] {
  if (!Array.isArray(manifest)) return ["model.json has no weightsManifest to cross-check the weight shapes against"];
  const entries = manifest.flatMap((group) => (isObject(group) && Array.isArray(group.weights) ? group.weights : [])).filter(isObject);
  const byTail = new Map<string, readonly (number | string)[]>();
  for (const [name, shape] of computed) byTail.set(name.split("/").slice(-2).join("/"), shape);
  let matched = 0;
  let elements = 0;
  const mismatches: string[] = [];
  for (const w of entries) {
    const name = str(w.name) ?? "";
    const shape = Array.isArray(w.shape) ? (w.shape as number[]) : [];
    elements += numel(shape) ?? 0;
    const mine = computed.get(name) ?? byTail.get(name.split("/").slice(-2).join("/"));
    if (!mine) continue;
    matched++;
    if (mine.length !== shape.length || mine.some((d, i) => typeof d === "number" && d !== shape[i])) {
      mismatches.push(`${name} (manifest ${shape.join("×") || "scalar"}, topology ${mine.join("×") || "scalar"})`);
    }
  }
  const head = `weights manifest: ${entries.length} weights (${elements} elements, shards not read), ${matched} matched by name`;
  if (mismatches.length === 0) return [`${head}; their shapes agree with the topology`];
  return [`${head}; shapes differ for ${mismatches.length}: ${mismatches.slice(0, 5).join(", ")}${mismatches.length > 5 ? ", …" : ""}`];
}

const decoder = new TextDecoder();

/** JSON whose top level has "class_name" and "config": a Keras model (not a TF.js model.json). */
export function sniffKerasJson(head: Uint8Array): boolean {
  const text = decoder.decode(head);
  return /^\s*\{/.test(text) && /"class_name"\s*:\s*"(Sequential|Functional|Model)"/.test(text) && !/"modelTopology"/.test(text);
}

/** A TF.js layers model: "modelTopology" with "format": "layers-model", or (older files) a Keras topology and no format. */
export function sniffTfjsLayers(head: Uint8Array): boolean {
  const text = decoder.decode(head);
  if (!/^\s*\{/.test(text) || !/"modelTopology"/.test(text)) return false;
  if (/"format"\s*:\s*"layers-model"/.test(text)) return true;
  return !/"format"\s*:/.test(text) && /"(class_name|model_config|keras_version)"/.test(text);
}

/** A zip (`PK\x03\x04`) whose first members are a Keras archive's (metadata.json / config.json), or named `.keras`. */
export function sniffKerasArchive(head: Uint8Array, name: string): boolean {
  if (head.length < 4 || head[0] !== 0x50 || head[1] !== 0x4b || head[2] !== 0x03 || head[3] !== 0x04) return false;
  if (/\.keras$/i.test(name)) return true;
  const text = decoder.decode(head);
  return /(^|[^\w.])(metadata|config)\.json/.test(text) && /model\.weights\.h5|"keras_version"|config\.json/.test(text);
}
