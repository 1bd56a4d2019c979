import { File as H5File } from "jsfive";
import { ConvscopeError } from "../../core/errors.js";
import type { Graph } from "../../core/graph.js";
import type { ByteSource } from "../source.js";
import { isObject, type JsonObject } from "./config.js";
import { readKerasModel } from "./model.js";

/**
 * Legacy Keras HDF5 files (`model.save("x.h5")`, Keras 2 / tf.keras and Keras 3): the
 * architecture is the root group's `model_config` attribute (the same JSON as
 * `model.to_json()`), next to `keras_version` and `backend`; the weights are datasets under
 * `model_weights`, which are never opened.
 *
 * The HDF5 container is parsed by jsfive (usnistgov/jsfive, the pure-JavaScript port of
 * pyfive), not by hand-written code. Chosen over h5wasm (libhdf5 compiled to WebAssembly,
 * same maintainers) because:
 * - it is synchronous: readers here are `read(src): Graph`; h5wasm must `await` its
 *   WebAssembly module before any file can be opened;
 * - it reads from an ArrayBuffer we hand it and decodes lazily — opening the file and its
 *   root attributes touches only the superblock, the root object header and its link
 *   table; h5wasm copies the whole file into its Emscripten file system first;
 * - it is small (≈190 kB bundled, one dependency, pako) and the same code runs in Node and
 *   the browser (web/build.ts bundles its ESM build); h5wasm ships ≈3.5 MB of wasm;
 * - it is maintained (0.4.2, 2026).
 * Its limit: attributes in "dense" storage (an Attribute Info message, used by HDF5 only
 * for files written with libver ≥ 1.8 settings and many/large attributes) are not read;
 * such a file gives a clear error below.
 *
 * To keep "weights never read" for multi-hundred-MB files, jsfive gets a growing prefix
 * of the file (64 KiB, then ×4): h5py writes the root attributes before the weights, so
 * the config is found in the first bytes; only a read past the prefix (a RangeError)
 * asks for more.
 */

/** `\x89HDF\r\n\x1a\n`, at 0 or after a user block of 512·2ⁿ bytes. */
const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

function signatureAt(head: Uint8Array, offset: number): boolean {
  return head.length >= offset + 8 && SIGNATURE.every((b, i) => head[offset + i] === b);
}

/** Where the superblock starts (0, 512, 1024, 2048 … within the bytes given), or −1. */
function superblockOffset(head: Uint8Array): number {
  if (signatureAt(head, 0)) return 0;
  for (let off = 512; off + 8 <= head.length; off *= 2) if (signatureAt(head, off)) return off;
  return -1;
}

/** An HDF5 file (by its signature, not its name). */
export function sniffHdf5(head: Uint8Array): boolean {
  return superblockOffset(head) >= 0;
}

/** Root attributes of the HDF5 file, parsed from the smallest prefix that holds them. */
function rootAttributes(src: ByteSource): Record<string, unknown> {
  const start = superblockOffset(src.read(0, Math.min(src.size, 4096)));
  if (start < 0) throw new ConvscopeError("not an HDF5 file (no HDF5 signature)");
  const total = src.size - start;
  for (let length = Math.min(total, 64 * 1024); ; length = Math.min(total, length * 4)) {
    // A copy: jsfive needs an ArrayBuffer of its own that starts at the superblock.
    const bytes = src.read(start, length).slice();
    try {
      return new H5File(bytes.buffer, src.name).attrs;
    } catch (e) {
      if (e instanceof RangeError && length < total) continue;
      const why = e instanceof Error ? e.message : String(e);
      throw new ConvscopeError(`cannot read the HDF5 file's root attributes: ${why}`);
    }
  }
}

/** An attribute as text: a string, or bytes (Keras 2 writes `json.dumps(...).encode("utf8")`). */
function text(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (Array.isArray(v) && v.length === 1) return text(v[0]);
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  return undefined;
}

/** A Keras model saved as HDF5: its `model_config` root attribute, read as a Keras config. */
export function readKerasH5(src: ByteSource): Graph {
  const attrs = rootAttributes(src);
  const raw = text(attrs.model_config);
  if (raw === undefined) {
    const has = Object.keys(attrs);
    const weightsOnly = has.includes("layer_names") || has.includes("weight_names");
    throw new ConvscopeError(
      weightsOnly
        ? "this HDF5 file holds weights only (model.save_weights): there is no model_config attribute with the architecture"
        : `this HDF5 file has no model_config attribute (not a Keras model.save file; root attributes: ${has.join(", ") || "none"})`,
    );
  }
  let config: unknown;
  try {
    config = JSON.parse(raw);
  } catch (e) {
    throw new ConvscopeError(`the model_config attribute is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(config)) throw new ConvscopeError("the model_config attribute is not a JSON object");
  const version = text(attrs.keras_version);
  const g = readKerasModel(config as JsonObject, "keras", version).graph;
  const backend = text(attrs.backend);
  g.notes.push(
    `read the model_config attribute of the HDF5 file (legacy model.save(".h5")${backend ? `, backend ${backend}` : ""}); the model_weights group is not opened`,
  );
  return g;
}
