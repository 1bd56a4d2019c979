import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { fileSource } from "../../src/cli/node-source.js";
import { bufferSource, readModel } from "../../src/formats/index.js";

/**
 * Real MediaPipe TFLite files (test/fixtures/tflite-mediapipe, Apache-2.0, copied from the
 * @mediapipe npm packages): float16 weights behind DEQUANTIZE, MediaPipe's custom
 * transposed conv, and a cross-check against the same model converted to TF.js by someone
 * else (@vladmandic/human's handlandmark-lite.json).
 */

const dir = new URL("../fixtures/tflite-mediapipe/", import.meta.url);

function analyse(file: string) {
  return analyze(readModel(bufferSource(file, new Uint8Array(readFileSync(new URL(file, dir))))));
}

test("selfie_segmentation: 256×256×3 → 256×256×1 mask, every op known incl. CUSTOM Convolution2DTransposeBias", () => {
  const r = analyse("selfie_segmentation.tflite");
  assert.equal(r.totals.unknown_layers, 0);
  assert.deepEqual(r.inputs[0].shape, [1, 3, 256, 256]);
  assert.deepEqual(r.outputs[0].shape, [1, 1, 256, 256]);
  // The custom op: 128×128×16 → 256×256×1, 2×2 kernel, stride 2. MACs on the input:
  // 128·128·16 × 2·2·1 = 1,048,576; params 16·2·2·1 + 1 bias = 65.
  const up = r.layers.filter((l) => l.op === "ConvTranspose");
  assert.equal(up.length, 1);
  assert.equal(up[0].source, "CUSTOM:Convolution2DTransposeBias");
  assert.equal(up[0].macs, 1_048_576);
  assert.equal(up[0].params, 65);
  // Every weight is float16: 2 bytes per parameter.
  assert.deepEqual(r.totals.stored_param_bytes_by_dtype, { float16: 2 * (r.totals.params ?? 0) });
  assert.notEqual(r.totals.macs, null);
});

test("face_detection_short_range (BlazeFace): 128×128 input, 896 anchors × (16 box values, 1 score)", () => {
  const r = analyse("face_detection_short_range.tflite");
  assert.equal(r.totals.unknown_layers, 0);
  assert.deepEqual(r.inputs[0].shape, [1, 3, 128, 128]);
  // 896 = 16·16·2 + 8·8·6 anchors (MediaPipe's SSD anchor config for the short-range model);
  // [1, 896, 16] and [1, 896, 1] are rank 3, shown channels-first.
  assert.deepEqual(
    r.outputs.map((o) => o.shape),
    [
      [1, 16, 896],
      [1, 1, 896],
    ],
  );
  assert.deepEqual(r.totals.stored_param_bytes_by_dtype, { float16: 2 * (r.totals.params ?? 0) });
});

test("hand_landmark_lite: the MediaPipe TFLite and human's TF.js conversion of the same model agree", () => {
  const lite = analyse("hand_landmark_lite.tflite");
  assert.equal(lite.totals.unknown_layers, 0);
  // Two files nobody here wrote, two converters, two readers: the same network.
  const src = fileSource(new URL("../../node_modules/@vladmandic/human/models/handlandmark-lite.json", import.meta.url).pathname);
  try {
    const tfjs = analyze(readModel(src));
    assert.equal(tfjs.totals.unknown_layers, 0);
    assert.equal(lite.totals.params, tfjs.totals.params);
    assert.equal(lite.totals.macs, tfjs.totals.macs);
    assert.deepEqual(lite.inputs[0].shape, tfjs.inputs[0].shape);
  } finally {
    src.close();
  }
  assert.equal(lite.totals.params, 1_011_712);
  assert.equal(lite.totals.macs, 145_605_824);
  assert.deepEqual(lite.inputs[0].shape, [1, 3, 224, 224]);
});
