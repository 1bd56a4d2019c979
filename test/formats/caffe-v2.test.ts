import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import type { Report } from "../../src/core/report.js";
import { bufferSource, readModel } from "../../src/formats/index.js";

/** The v2 Caffe fixtures (hand-written prototxts, references by hand and checked in torch), copied from the shared reference set. */
const dir = new URL("../fixtures/v2/caffe/", import.meta.url);

interface Reference {
  file: string;
  input: { name: string; shape: number[] };
  outputs: { name: string; shape: number[] }[];
  expect_params: number;
  macs: number;
  macs_batch?: number;
  layers: Record<string, { out: number[]; params: number; macs: number }>;
  rf?: { tensor: string; size: number; stride: number };
}
const refs = JSON.parse(readFileSync(new URL("reference.json", dir), "utf8")) as Record<string, Reference>;

function analyse(file: string): Report {
  const url = new URL(file, dir);
  return analyze(readModel(bufferSource(url.pathname, readFileSync(url))));
}

for (const [key, ref] of Object.entries(refs)) {
  describe(`Caffe v2 fixture ${key}`, () => {
    const r = analyse(ref.file);

    it("input and outputs as the reference", () => {
      assert.deepEqual(
        r.inputs.map((i) => [i.name, i.shape]),
        [[ref.input.name, ref.input.shape]],
      );
      for (const o of ref.outputs) {
        const got = r.outputs.find((x) => x.name === o.name);
        // SoftmaxWithLoss 'loss' is training-only: convscope analyses the deployed net without it.
        if (o.name === "loss") {
          assert.equal(got, undefined, "the training-only loss is left out");
          continue;
        }
        assert.ok(got, `output ${o.name}`);
        assert.deepEqual(got.shape, o.shape, `output ${o.name}`);
      }
    });

    it("every reference layer: output shape, params, MACs per image", () => {
      const batch = ref.input.shape[0];
      for (const [name, want] of Object.entries(ref.layers)) {
        // A fully-connected layer is Flatten + Gemm: the Gemm carries the layer's name.
        const l = r.layers.find((x) => x.name === name);
        assert.ok(l, `layer ${name}`);
        assert.equal(l.status, "ok", name);
        assert.deepEqual(r.tensors[l.outputs[0]].shape, want.out, `${name} shape`);
        assert.equal(l.params, want.params, `${name} params`);
        // The reference's per-layer MACs are for one image.
        assert.equal(l.macs, want.macs, `${name} macs (batch ${batch})`);
      }
    });

    it("totals: params, MACs per image and per batch", () => {
      assert.equal(r.totals.params, ref.expect_params);
      assert.equal(r.totals.macs, ref.macs);
      assert.equal(r.batch_totals.macs, ref.macs_batch ?? ref.macs);
      assert.equal(r.totals.known, undefined, "nothing is partial");
    });

    if (ref.rf) {
      const rf = ref.rf;
      it(`receptive field of ${rf.tensor}: ${rf.size} px, stride ${rf.stride}`, () => {
        const f = r.tensors[rf.tensor]?.rf;
        assert.ok(f && !("global" in f));
        assert.deepEqual(f.size, [rf.size, rf.size]);
        assert.deepEqual(f.stride, [rf.stride, rf.stride]);
      });
    }
  });
}

describe("Caffe v2 fixtures: phase rules and data layers", () => {
  it("lenet_train_test: the TRAIN Data layer, Accuracy and the loss are left out, not fatal; TEST's Input and Softmax kept", () => {
    const r = analyse("lenet_train_test.prototxt");
    const names = r.layers.map((l) => l.name);
    for (const gone of ["mnist", "accuracy", "loss"]) assert.ok(!names.includes(gone), gone);
    assert.ok(names.includes("prob"));
    assert.ok(r.notes.some((n) => n.includes("not in the TEST phase") && n.includes("mnist")));
  });

  it("imagedata_crop: ImageData's blob is batch_size × 3 × crop_size², the crop (32) winning over the resize (40)", () => {
    const r = analyse("imagedata_crop.prototxt");
    assert.equal(r.batch, 4);
    assert.ok(r.notes.some((n) => n.includes("32×32 from transform_param.crop_size")));
  });
});
