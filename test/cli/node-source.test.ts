import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { fileSource } from "../../src/cli/node-source.js";
import { prng } from "../../src/core/prng.js";
import { bufferSource, readModel } from "../../src/formats/index.js";
import { inlineWeights } from "../formats/onnx-writer.js";

const FIXTURES = new URL("../fixtures/onnx/", import.meta.url);
const tmp = mkdtempSync(join(tmpdir(), "convscope-source-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function tempFile(name: string, bytes: Uint8Array): string {
  const path = join(tmp, name);
  writeFileSync(path, bytes);
  return path;
}

test("fileSource: read and span give the file's bytes at any offset, span running on to its block's end", () => {
  // ResNet-18 with its weights inline: 46 MB, so reads cross many 64 KB blocks and jumps make 4 KB ones.
  const bytes = inlineWeights(readFileSync(new URL("resnet18.onnx", FIXTURES))).bytes();
  const path = tempFile("resnet18-inline.onnx", bytes);
  const src = fileSource(path);
  try {
    const rand = prng(13);
    let offset = 0;
    let longer = 0;
    for (let i = 0; i < 3000; i++) {
      // Mostly reading on (as a protobuf walk does), sometimes a jump (a skipped payload), sometimes past a block.
      const r = rand();
      offset = r < 0.7 ? offset + Math.floor(rand() * 64) : Math.floor(rand() * bytes.length);
      const length = r > 0.98 ? 70_000 + Math.floor(rand() * 10_000) : 1 + Math.floor(rand() * 40);
      const want = bytes.subarray(offset, Math.min(offset + length, bytes.length));
      const span = src.span?.(offset, length);
      assert.ok(span, "the file source has span");
      assert.ok(span.length >= want.length, `span(${offset}, ${length}) gave ${span.length} bytes`);
      // Every byte of the span is the file's (not a stale block's), including those past the request.
      assert.deepEqual(span, bytes.subarray(offset, offset + span.length), `span(${offset}, ${length})`);
      assert.deepEqual(src.read(offset, length), want, `read(${offset}, ${length})`);
      if (span.length > want.length) longer++;
      offset = Math.min(offset + length, bytes.length - 1);
    }
    // The point of span: most requests inside a block see the rest of it.
    assert.ok(longer > 2000, `${longer} of 3000 spans ran past the request`);
    assert.equal(src.span?.(bytes.length, 1).length, 0, "nothing at the end of the file");
  } finally {
    src.close();
  }
});

test("an ONNX model with inline weights reads the same through the file (span) and through a buffer without span", () => {
  const bytes = inlineWeights(readFileSync(new URL("googlenet.onnx", FIXTURES))).bytes();
  const path = tempFile("googlenet-inline.onnx", bytes);
  const src = fileSource(path);
  try {
    const viaFile = analyze(readModel(src));
    const plain = bufferSource(path, bytes);
    const viaBuffer = analyze(readModel({ name: plain.name, size: plain.size, read: plain.read }));
    const reference = JSON.parse(readFileSync(new URL("reference.json", FIXTURES), "utf8"));
    assert.equal(viaFile.totals.params, reference.googlenet.params);
    assert.deepEqual(JSON.parse(JSON.stringify(viaFile)), JSON.parse(JSON.stringify(viaBuffer)));
  } finally {
    src.close();
  }
});
