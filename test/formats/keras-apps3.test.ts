import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { bufferSource, readModel } from "../../src/formats/index.js";

/**
 * Keras 3 keras.applications written by Keras itself (fixtures/keras-apps3/make_apps.py:
 * `model.to_json()` with weights=None), against Keras' own model.count_params(), its
 * trainable weights, and MACs by the Keras layer arithmetic computed in Python from each
 * layer's output shape. They exercise the Keras 3 additions on stock architectures:
 * Normalization + Rescaling and keras.ops Reshape/Multiply (EfficientNet), CustomScaleLayer
 * (InceptionResNetV2), hard-swish operation nodes (MobileNetV3Large), separable convs
 * (Xception). (ConvNeXt's LayerScale is in the v2 fixtures, keras-v2.test.ts.)
 */

const dir = new URL("../fixtures/keras-apps3/", import.meta.url);
const reference: Record<string, { file: string; params: number; trainable: number; int_count_weights: number; macs: number }> = JSON.parse(
  readFileSync(new URL("reference.json", dir), "utf8"),
);

describe("Keras 3 applications against Keras' own counts", () => {
  for (const [name, ref] of Object.entries(reference)) {
    it(`${name}: ${ref.params} params (Keras), ${ref.macs} MACs`, () => {
      const g = readModel(bufferSource(name, new Uint8Array(readFileSync(new URL(ref.file, dir)))));
      const r = analyze(g);
      assert.deepEqual(
        r.layers.filter((l) => l.status === "unknown").map((l) => l.name),
        [],
      );
      // Keras' count_params() includes each Normalization layer's int `count` (one element,
      // unused by the computation); convscope counts floating-point weights and says so in a note.
      assert.equal(r.totals.params, ref.params - ref.int_count_weights);
      if (ref.int_count_weights > 0) assert.ok(g.notes.some((n) => n.includes("'count'")));
      assert.equal(r.totals.trainable_params, ref.trainable);
      assert.equal(r.totals.macs, ref.macs);
    });
  }
});
