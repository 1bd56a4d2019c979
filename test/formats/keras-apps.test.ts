import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { strToU8 } from "fflate";
import { analyze } from "../../src/analysis/index.js";
import { bufferSource, readModel } from "../../src/formats/index.js";
import { mobilenet, resnet50, vgg16 } from "./keras-apps.js";

/**
 * Keras Applications rebuilt layer for layer (keras-apps.ts) and read through the Keras
 * reader. Independent numbers:
 * - parameters: Keras' own `model.count_params()` and the trainable / non-trainable split
 *   printed by `model.summary()` for keras.applications.VGG16 / ResNet50 / MobileNet;
 * - MACs: the torchvision ONNX fixtures' reference.json (VGG16 is the same network; ResNet50
 *   is v1.5 there, corrected below), and the MobileNet paper (Howard et al. 2017, Table 8:
 *   569 million mult-adds for 1.0 MobileNet-224).
 */

const reference = JSON.parse(readFileSync(new URL("../fixtures/onnx/reference.json", import.meta.url), "utf8"));

function read(config: object) {
  const g = readModel(bufferSource("app.json", strToU8(JSON.stringify(config))));
  return { g, r: analyze(g) };
}

describe("Keras Applications: parameters and MACs against independent counts", () => {
  for (const style of [2, 3] as const) {
    it(`VGG16 (Keras ${style} config)`, () => {
      const { r } = read(vgg16(style));
      assert.equal(r.totals.params, 138_357_544);
      assert.equal(r.totals.non_trainable_params, 0);
      // Same network as torchvision's VGG16, whose MACs the ONNX reference gives.
      assert.equal(r.totals.macs, reference.vgg16.macs);
      assert.equal(r.totals.macs, 15_470_264_320);
      // Field of block5_pool: 212, stride 32, padding 90, as measured on the ONNX export.
      assert.deepEqual(r.tensors.block5_pool.rf, { size: [212, 212], stride: [32, 32], padding: [90, 90], aligned: true });
    });
  }

  it("ResNet50 (Keras 2 config): 25,636,712 params, 53,120 of them batch-norm statistics", () => {
    const { r } = read(resnet50(2));
    assert.equal(r.totals.params, 25_636_712);
    assert.equal(r.totals.trainable_params, 25_583_592);
    assert.equal(r.totals.non_trainable_params, 53_120);
    // torchvision's ResNet50 (v1.5) does 4,089,184,256 MACs. Keras' is v1: the first block of
    // stages conv3/4/5 strides its 1×1 conv instead of its 3×3, which then runs at the lower
    // resolution either way; the 1×1 conv costs a quarter: 56·56·256·128 = 102,760,448 becomes
    // 28·28·256·128 = 25,690,112 (and likewise 28²·512·256 → 14²·512·256, 14²·1024·512 → 7²·1024·512),
    // saving 3 · 77,070,336 = 231,211,008.
    assert.equal(reference.resnet50.macs, 4_089_184_256);
    assert.equal(r.totals.macs, reference.resnet50.macs - 3 * 77_070_336);
    assert.equal(r.totals.macs, 3_857_973_248);
    assert.deepEqual(r.tensors.avg_pool.shape, [1, 2048, 1, 1]);
  });

  it("MobileNet 1.0-224 (Keras 3 config): 4,253,864 params, 21,888 non-trainable; 568,740,352 MACs", () => {
    const { g, r } = read(mobilenet(3));
    assert.equal(r.totals.params, 4_253_864);
    assert.equal(r.totals.trainable_params, 4_231_976);
    assert.equal(r.totals.non_trainable_params, 21_888);
    // Paper: 569 million mult-adds. Exactly: conv1 112²·32·27 = 10,838,016; 13 depthwise +
    // pointwise blocks 556,878,336; conv_preds 1024·1000 = 1,024,000.
    assert.equal(r.totals.macs, 568_740_352);
    assert.equal(Math.round(r.totals.macs / 1e6), 569);
    // Field of conv_pw_13: 3 + 2·(2+2+4+4+8+8+5·16+16+32) = 315, stride 32; the begin padding is
    // TF's SAME (0 for the stride-2 conv1, 1 for the stride-1 depthwise convs) and ZeroPadding
    // ((0,1),(0,1)) before the stride-2 ones: 2 + 4 + 8 + 5·16 + 32 = 126.
    assert.deepEqual(r.tensors.conv_pw_13_relu.rf, { size: [315, 315], stride: [32, 32], padding: [126, 126], aligned: true });
    assert.deepEqual(r.outputs[0].shape, [1, 1000]);
    assert.equal(g.nodes.find((n) => n.name === "conv_dw_2")?.attrs.group, 64);
  });
});
