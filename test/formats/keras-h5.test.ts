import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { ConvscopeError } from "../../src/core/errors.js";
import { type ByteSource, bufferSource, READERS, readModel } from "../../src/formats/index.js";

/**
 * Legacy Keras HDF5 (`model.save("x.h5")`). PatchCodebookNet.h5 (written by Keras 3.15.1
 * itself) is checked against its reference in keras-v2.test.ts; the files here come from
 * fixtures/keras-h5/make_h5.py (h5py, the tf.keras 2 layout: byte-string attributes).
 */

const h5dir = new URL("../fixtures/keras-h5/", import.meta.url);
const v2 = new URL("../fixtures/v2/keras/", import.meta.url);
const bytes = (url: URL) => new Uint8Array(readFileSync(url));

/** A source that records every byte range asked for. */
function counting(name: string, data: Uint8Array): { src: ByteSource; read: () => number; highest: () => number } {
  let total = 0;
  let highest = 0;
  const inner = bufferSource(name, data);
  return {
    src: {
      ...inner,
      read(offset, length) {
        const out = inner.read(offset, length);
        total += out.length;
        highest = Math.max(highest, offset + out.length);
        return out;
      },
    },
    read: () => total,
    highest: () => highest,
  };
}

describe("Keras HDF5 files (legacy model.save('x.h5'))", () => {
  it("a tf.keras 2 file (byte-string model_config): Conv2D 3×3 8 + Dense 10 counted by hand", () => {
    const g = readModel(bufferSource("tfkeras2_seq.h5", bytes(new URL("tfkeras2_seq.h5", h5dir))));
    const r = analyze(g);
    // Conv 3·3·3·8 + 8 = 224; Dense 16·16·8·10 + 10 = 20,490.
    assert.equal(r.totals.params, 224 + 20_490);
    // Conv 32·32·8·27 = 221,184; Dense 2,048·10 = 20,480.
    assert.equal(r.totals.macs, 221_184 + 20_480);
    assert.deepEqual(r.tensors[g.outputs[0]].shape, [1, 10]);
    assert.ok(g.notes.some((n) => n.includes("Keras 2") && n.includes("2.15.0")));
    assert.ok(g.notes.some((n) => n.includes("model_config attribute") && n.includes("not opened")));
  });

  it("reads a prefix of the file only: the weight datasets are not read", () => {
    const data = bytes(new URL("tfkeras2_seq.h5", h5dir));
    const offsets = JSON.parse(readFileSync(new URL("offsets.json", h5dir), "utf8"))["tfkeras2_seq.h5"];
    const c = counting("tfkeras2_seq.h5", data);
    readModel(c.src);
    // The 81,920-byte dense kernel ends at the end of the file; the reader stops at 64 KiB.
    const kernelEnd = offsets["dense/kernel:0"] + 2048 * 10 * 4;
    assert.ok(c.highest() <= 64 * 1024, `read up to byte ${c.highest()}`);
    assert.ok(c.highest() < kernelEnd);
    assert.ok(c.read() <= 64 * 1024 + 4096 * 2, `read ${c.read()} bytes`);
  });

  it("PatchCodebookNet.h5 (Keras 3): detected by content under any name, read from its first 64 KiB of 198,488 bytes", () => {
    const data = bytes(new URL("PatchCodebookNet.h5", v2));
    const c = counting("weights.bin", data);
    const g = readModel(c.src);
    assert.equal(g.format, "keras");
    assert.equal(data.length, 198_488);
    assert.ok(c.highest() <= 64 * 1024);
    assert.equal(READERS.filter((r) => r.sniff(data.subarray(0, 4096), "x.bin")).length, 1);
  });

  it("a model_config larger than the first 64 KiB: the prefix grows (×4) until the attribute is read", () => {
    // big_config.h5 holds the 204 kB EfficientNetB0 config written by Keras 3 (keras-apps3).
    const data = bytes(new URL("big_config.h5", h5dir));
    const c = counting("big_config.h5", data);
    const g = readModel(c.src);
    assert.ok(c.highest() > 64 * 1024);
    const r = analyze(g);
    const ref = JSON.parse(readFileSync(new URL("../fixtures/keras-apps3/reference.json", import.meta.url), "utf8"))[
      "EfficientNetB0.keras.json"
    ];
    assert.equal(r.totals.params, ref.params - ref.int_count_weights);
    assert.equal(r.totals.macs, ref.macs);
  });

  it("a weights-only file (model.save_weights) is refused in one line naming the file", () => {
    assert.throws(
      () => readModel(bufferSource("weights_only.h5", bytes(new URL("weights_only.h5", h5dir)))),
      (e: unknown) =>
        e instanceof ConvscopeError &&
        e.oneLine().includes("weights_only.h5") &&
        e.message.includes("weights only") &&
        !e.message.includes("\n"),
    );
  });

  it("a truncated or corrupt HDF5 file gives a ConvscopeError, not a crash or a hang", () => {
    const data = bytes(new URL("PatchCodebookNet.h5", v2));
    for (const [name, broken] of [
      ["cut.h5", data.slice(0, 600)],
      ["cut2.h5", data.slice(0, 3000)],
      ["garbage.h5", Uint8Array.from([...data.subarray(0, 8), ...new Array(5000).fill(0xab)])],
    ] as const) {
      assert.throws(
        () => readModel(bufferSource(name, broken)),
        (e: unknown) => e instanceof ConvscopeError && e.file === name && !e.oneLine().includes("\n"),
        name,
      );
    }
  });
});
