import assert from "node:assert/strict";
import { test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import type { Report } from "../../src/core/report.js";
import { ZOO } from "../../src/zoo/index.js";

// torchvision's published parameter counts and conv+linear MACs at 224×224, and the
// receptive fields of the last feature maps measured by gradient (shared/notes).
const REFERENCE: Record<string, { params: number; macs: number; last: string; rf: [number, number, number] }> = {
  "alexnet-tv": { params: 61_100_840, macs: 714_188_480, last: "features.12", rf: [195, 32, 66] },
  vgg16: { params: 138_357_544, macs: 15_470_264_320, last: "features.30", rf: [212, 32, 90] },
  resnet18: { params: 11_689_512, macs: 1_814_073_344, last: "layer4.1.relu_1", rf: [435, 32, 217] },
  resnet50: { params: 25_557_032, macs: 4_089_184_256, last: "layer4.2.relu_2", rf: [427, 32, 213] },
  mobilenet_v2: { params: 3_504_872, macs: 300_774_272, last: "features.18.2", rf: [491, 32, 245] },
};

/** Batch-norm running mean and variance: 2 per channel of every BN layer (PyTorch buffers, not parameters). */
function bnBuffers(r: Report): number {
  return r.layers.filter((l) => l.op === "BatchNormalization").reduce((s, l) => s + 2 * (r.tensors[l.outputs[0]].shape?.[1] as number), 0);
}

for (const [name, ref] of Object.entries(REFERENCE)) {
  test(`${name}: params, MACs and last feature map's field match torchvision`, () => {
    const r = analyze(ZOO[name].build());
    // torchvision counts parameters(), i.e. trainable tensors; convscope's `params` also
    // holds the stored BN running statistics, exactly the difference.
    assert.equal(r.totals.trainable_params, ref.params);
    assert.equal(Number(r.totals.params) - Number(r.totals.trainable_params), bnBuffers(r));
    assert.equal(r.totals.macs, ref.macs);
    const rf = r.tensors[ref.last].rf;
    assert.ok(rf && !("global" in rf));
    assert.deepEqual(
      [rf.size, rf.stride, rf.padding],
      [
        [ref.rf[0], ref.rf[0]],
        [ref.rf[1], ref.rf[1]],
        [ref.rf[2], ref.rf[2]],
      ],
    );
  });
}

test("resnet stages: layer1..4 fields 43/4/21, 99/8/49, 211/16/105, 435/32/217 (resnet18)", () => {
  const r = analyze(ZOO.resnet18.build());
  const got = [1, 2, 3, 4].map((i) => {
    const rf = r.tensors[`layer${i}.1.relu_1`].rf;
    assert.ok(rf && !("global" in rf));
    return [rf.size[0], rf.stride[0], rf.padding[0]];
  });
  assert.deepEqual(got, [
    [43, 4, 21],
    [99, 8, 49],
    [211, 16, 105],
    [435, 32, 217],
  ]);
});

test("resnet34 and resnet101 last fields 899/32/449 and 971/32/485", () => {
  for (const [name, want] of [
    ["resnet34", [899, 32, 449]],
    ["resnet101", [971, 32, 485]],
  ] as const) {
    const r = analyze(ZOO[name].build());
    const rf = r.tensors["layer4.2.relu_1"]?.rf ?? r.tensors["layer4.2.relu_2"]?.rf;
    assert.ok(rf && !("global" in rf));
    assert.deepEqual([rf.size[0], rf.stride[0], rf.padding[0]], want);
  }
});
