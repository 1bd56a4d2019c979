import type { Graph } from "../../core/graph.js";
import type { ByteSource } from "../source.js";
import { buildModel } from "./build.js";
import { parseModel } from "./proto.js";
import { Cursor, Msg } from "./wire.js";

/**
 * Reads an ONNX model lazily: the graph, every tensor's dims and where its bytes are, but
 * no weight bytes (see wire.ts). External data files are only checked for presence.
 */
export function readOnnx(src: ByteSource): Graph {
  return buildModel(parseModel(Msg.file(new Cursor(src), "ModelProto")), src);
}

/** ModelProto fields that may follow `ir_version` at the top of a file, with their wire type. */
const MODEL_FIELDS: Record<number, number> = { 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2 };

/**
 * Recognises a ModelProto by content: field 1 (`ir_version`, byte 0x08) with a plausible
 * version, then field headers of ModelProto up to the graph or the opset imports. A name
 * ending in `.onnx` is enough on its own, so a damaged ONNX file gets an ONNX error with
 * a byte offset rather than "unknown format".
 */
export function sniffOnnx(head: Uint8Array, name: string): boolean {
  if (/\.onnx$/i.test(name)) return true;
  if (head.length < 4 || head[0] !== 0x08 || head[1] < 1 || head[1] > 100) return false;
  let p = 2;
  for (let fields = 0; p < head.length && fields < 8; fields++) {
    const tag = head[p++];
    const field = tag >> 3;
    if (tag >= 0x80 || MODEL_FIELDS[field] !== (tag & 7)) return false;
    if (field === 7 || field === 8) return true;
    let n = 0;
    for (let shift = 0; p < head.length; shift += 7) {
      const b = head[p++];
      n += (b & 0x7f) * 2 ** shift;
      if (b < 0x80 || shift > 28) break;
    }
    if (field !== 5) p += n;
  }
  return p >= head.length;
}
