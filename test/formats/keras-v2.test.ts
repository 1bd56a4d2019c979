import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { bufferSource, readModel } from "../../src/formats/index.js";

/**
 * Real Keras 3.15.1 files (fixtures/v2/keras, copied from the shared v2 set with its
 * reference.json): keras.applications ConvNeXtBase (36 LayerScale layers, 36 keras.ops Add
 * nodes) and MobileNetV3Small(alpha=0.75) (`x + 3.0`, `x * (1/6)` operation nodes with
 * scalar operands), and the hand-built PatchCodebookNet (GroupNormalization,
 * keras.ops.reshape, Dense → keras.ops.argmax → Embedding, `x * 0.5`, MultiHeadAttention),
 * each as `.keras` (config.json only), `model.to_json()` and, for PatchCodebookNet, a legacy
 * `model.save("x.h5")` with its weights. The references are Keras' own count_params(),
 * trainable weights and its per-layer MAC arithmetic (fixtures/v2/README.md).
 */

const dir = new URL("../fixtures/v2/keras/", import.meta.url);
const reference: Record<string, Ref> = JSON.parse(readFileSync(new URL("reference.json", dir), "utf8"));

interface Ref {
  file: string;
  input: { name: string; shape: number[] };
  outputs: { name: string; shape: number[] }[];
  params: number;
  trainable: number;
  non_trainable: number;
  macs: number;
  macs_by_class: Record<string, number>;
}

/** NHWC → NCHW, as convscope shows every channels-last tensor. */
const channelsFirst = (s: number[]) => (s.length < 3 ? s : [s[0], s[s.length - 1], ...s.slice(1, -1)]);

function read(file: string) {
  const g = readModel(bufferSource(file, new Uint8Array(readFileSync(new URL(file, dir)))));
  return { g, r: analyze(g) };
}

describe("Keras v2 fixtures: every file against Keras' own counts", () => {
  const names = Object.keys(reference);
  it("the reference set is complete (7 files)", () => {
    assert.deepEqual(names.sort(), [
      "ConvNeXtBase.keras",
      "ConvNeXtBase.keras.json",
      "MobileNetV3Small_a075.keras",
      "MobileNetV3Small_a075.keras.json",
      "PatchCodebookNet.h5",
      "PatchCodebookNet.keras",
      "PatchCodebookNet.keras.json",
    ]);
  });

  for (const name of names) {
    const ref = reference[name];
    it(`${name}: params ${ref.params}, trainable ${ref.trainable}, MACs ${ref.macs}, shapes`, () => {
      const { g, r } = read(ref.file);
      assert.equal(r.totals.params, ref.params);
      assert.equal(r.totals.trainable_params, ref.trainable);
      assert.equal(r.totals.non_trainable_params, ref.non_trainable);
      assert.equal(r.totals.macs, ref.macs);
      // Nothing unknown: every layer and operation node is read.
      assert.deepEqual(
        r.layers.filter((l) => l.op.startsWith("keras::")).map((l) => l.name),
        [],
      );
      assert.equal(g.inputs[0], ref.input.name);
      assert.deepEqual(r.tensors[g.inputs[0]].shape, channelsFirst(ref.input.shape));
      assert.deepEqual(
        g.outputs.map((o) => r.tensors[o].shape),
        ref.outputs.map((o) => channelsFirst(o.shape)),
      );
      // Output tensors are named after their layer (a fused activation adds `/softmax`).
      g.outputs.forEach((o, i) => {
        assert.ok(o === ref.outputs[i].name || o.startsWith(`${ref.outputs[i].name}/`), o);
      });
      // MACs by Keras layer class (the reader tags every node with its class).
      const byClass: Record<string, number> = {};
      for (const l of r.layers) if (l.macs) byClass[l.source ?? l.op] = (byClass[l.source ?? l.op] ?? 0) + l.macs;
      assert.deepEqual(byClass, ref.macs_by_class);
    });
  }

  it("ConvNeXtBase: 36 LayerScale gammas of projection_dim (18,048 params, 0 MACs) and 36 operation Adds", () => {
    const { r } = read("ConvNeXtBase.keras");
    const scales = r.layers.filter((l) => l.source === "LayerScale");
    assert.equal(scales.length, 36);
    // 3 blocks at 128, 3 at 256, 27 at 512, 3 at 1024 channels.
    assert.equal(
      scales.reduce((a, l) => a + (l.params ?? 0), 0),
      3 * 128 + 3 * 256 + 27 * 512 + 3 * 1024,
    );
    assert.equal(3 * 128 + 3 * 256 + 27 * 512 + 3 * 1024, 18_048);
    assert.ok(scales.every((l) => l.macs === 0 && l.op === "Mul"));
    const adds = r.layers.filter((l) => (l.source ?? l.op) === "Add");
    assert.equal(adds.length, 36);
    assert.ok(adds.every((l) => l.op === "Add" && l.params === 0));
  });

  it("MobileNetV3Small: the hard-sigmoid's `x + 3.0` and `x * (1/6)` are operation nodes with constant operands, not parameters", () => {
    const { g, r } = read("MobileNetV3Small_a075.keras.json");
    const add = r.layers.find((l) => l.name === "add");
    const mul = r.layers.find((l) => l.name === "multiply");
    assert.equal(add?.op, "Add");
    assert.equal(mul?.op, "Mul");
    assert.equal(add?.params, 0);
    assert.deepEqual(g.tensors.get("add/operand1")?.value, [3]);
    assert.deepEqual(g.tensors.get("multiply/operand1")?.value, [1 / 6]);
    // The SE block's first conv is 1×1×16 in Keras ([N,1,1,16]); the Add keeps that shape.
    assert.deepEqual(r.tensors.add.shape, [1, 16, 1, 1]);
  });

  it("PatchCodebookNet: reshape, argmax, Embedding and MultiHeadAttention per layer", () => {
    const { r } = read("PatchCodebookNet.keras");
    const layer = (n: string) => r.layers.find((l) => l.name === n);
    // keras.ops.reshape(x, (-1, 64, 48)) on [N, 8, 8, 48]: 64 tokens of 48 (shown [N, 48, 64]).
    assert.deepEqual(r.tensors.reshape.shape, [1, 48, 64]);
    // argmax over the 16 code logits: [N, 64] indices.
    assert.deepEqual(r.tensors.argmax.shape, [1, 64]);
    // Embedding(16, 48): 768 params, 0 MACs, [N, 64, 48].
    assert.equal(layer("codebook")?.params, 16 * 48);
    assert.equal(layer("codebook")?.macs, 0);
    assert.deepEqual(r.tensors["codebook/layout"].shape, [1, 48, 64]);
    // MHA 4 heads, key_dim 12, 48 features: 4 projections of 48·48 + 48 = 2,352 params each.
    const mha = r.layers.filter((l) => l.name === "patch_mha" || l.name.startsWith("patch_mha/"));
    assert.equal(
      mha.reduce((a, l) => a + (l.params ?? 0), 0),
      4 * (48 * 48 + 48),
    );
    // 64·48·4·12 ×4 projections + 4·64·64·12 ×2 (scores, context) = 589,824 + 393,216.
    assert.equal(
      mha.reduce((a, l) => a + (l.macs ?? 0), 0),
      4 * 64 * 48 * 48 + 2 * 4 * 64 * 64 * 12,
    );
    assert.equal(4 * 64 * 48 * 48 + 2 * 4 * 64 * 64 * 12, 983_040);
    // GroupNormalization(8) on 32 channels: gamma + beta = 64.
    assert.equal(layer("stem_gn")?.params, 64);
  });
});
