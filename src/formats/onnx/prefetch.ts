import type { Ranges } from "../source.js";

/** Fetches bytes [a, b) of the file into the ranges (see formats/lazy.ts). */
type Get = (a: number, b: number) => Promise<unknown>;

/**
 * Which length-delimited fields of which ONNX message hold a sub-message to walk into
 * (by type name) or a payload to skip ("skip"); any other field's body is fetched whole.
 * From onnx.proto: ModelProto.graph = 7; GraphProto node = 1, initializer = 5,
 * sparse_initializer = 15; NodeProto attribute = 5; AttributeProto t = 5, g = 6,
 * tensors = 10, graphs = 11; SparseTensorProto values = 1, indices = 2; TensorProto
 * float/int32/string/int64/raw/double/uint64 data = 4, 5, 6, 7, 9, 10, 11.
 */
const SCHEMA: Record<string, Record<number, string>> = {
  model: { 7: "graph" },
  graph: { 1: "node", 5: "tensor", 15: "sparse" },
  node: { 5: "attr" },
  attr: { 5: "tensor", 6: "graph", 10: "tensor", 11: "graph" },
  sparse: { 1: "tensor", 2: "tensor" },
  tensor: { 4: "skip", 5: "skip", 6: "skip", 7: "skip", 9: "skip", 10: "skip", 11: "skip" },
};

/** Read-ahead after a skipped payload (the next tensor's header) and while reading on. */
const AFTER_SKIP = 4096;
const READING_ON = 256 * 1024;
/** A field body larger than this is left to the reader's own requests. */
const WHOLE_LIMIT = 16 * 1024 * 1024;

/**
 * Fetches, before the ONNX reader runs, the bytes it will ask for: every field header of
 * the model, graph, nodes and tensors and every small body, walking the protobuf the way
 * the reader does but asynchronously, and skipping tensor payloads unread. Without it a
 * model with weights inline costs one pass of the reader per payload jumped (readModelLazily
 * starts the reader again at each range it lacks). A best effort: at anything it does not
 * expect (a damaged file) it stops, and the reader's own passes fetch the rest or report
 * the damage.
 */
export async function prefetchOnnx(size: number, ranges: Ranges, get: Get): Promise<void> {
  let lastEnd = 0;
  const ensure = async (a: number, b: number) => {
    b = Math.min(b, size);
    if (a >= b || ranges.get(a, b)) return;
    const from = ranges.heldTo(a);
    // Reading on, or past a small payload: a long read-ahead; after a large jump, a short one.
    const ahead = from >= lastEnd - 16 && from <= lastEnd + AFTER_SKIP ? READING_ON : AFTER_SKIP;
    const to = Math.min(size, Math.max(b, from + ahead));
    await get(from, to);
    lastEnd = to;
  };
  const byte = (p: number) => (ranges.get(p, p + 1) as Uint8Array)[0];

  const walk = async (start: number, end: number, kind: string, depth: number): Promise<boolean> => {
    if (depth > 64) return false;
    let p = start;
    while (p < end) {
      await ensure(p, Math.min(end, p + 24));
      const varint = (): number | undefined => {
        let v = 0;
        for (let shift = 0; shift < 63; shift += 7) {
          if (p >= end) return undefined;
          const b = byte(p++);
          v += (b & 0x7f) * 2 ** shift;
          if (b < 0x80) return v;
        }
        return undefined;
      };
      const tag = varint();
      if (tag === undefined || tag < 8) return false;
      const wire = tag % 8;
      const field = Math.floor(tag / 8);
      if (wire === 0) {
        if (varint() === undefined) return false;
      } else if (wire === 1) p += 8;
      else if (wire === 5) p += 4;
      else if (wire === 2) {
        const n = varint();
        if (n === undefined || p + n > end) return false;
        const sub = SCHEMA[kind]?.[field];
        if (sub && sub !== "skip") {
          if (!(await walk(p, p + n, sub, depth + 1))) return false;
        } else if (sub !== "skip" && n <= WHOLE_LIMIT) await ensure(p, p + n);
        p += n;
      } else return false;
    }
    return p === end;
  };
  await walk(0, size, "model", 0);
}
