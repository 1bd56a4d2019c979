import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import type { AxisFieldJson } from "../../src/core/report.js";
import { lastFeatureMap, verifyRf } from "../../src/runtime/verify-rf.js";

/**
 * The analytic receptive field against the network itself: every first-round ONNX
 * fixture (graph-only: the weights are generated), its last feature map as
 * reference.json names it, impulses at the field's borders and the image corners.
 */

const dir = new URL("../fixtures/onnx/", import.meta.url);
const reference: Record<
  string,
  {
    file: string;
    rf: { tensor: string; size?: number[]; stride?: number[]; padding?: number[]; global?: boolean; local?: { size: number[] } };
    rf_stages?: Record<string, unknown>;
  }
> = JSON.parse(readFileSync(new URL("reference.json", dir), "utf8"));
const path = (f: string) => new URL(f, dir).pathname;

for (const [name, ref] of Object.entries(reference)) {
  test(`verify-rf: ${name}'s last feature map (${ref.rf.tensor})`, async () => {
    const v = await verifyRf(path(ref.file), { tensors: [ref.rf.tensor], maxImpulses: 4 });
    const t = v.tensors[0];
    // The field checked is the reference's (torchvision geometry, computed independently).
    const f = t.field as AxisFieldJson;
    if (ref.rf.global) {
      assert.equal(t.local, true, "a global tensor is checked on its local path");
      assert.deepEqual(f.size, ref.rf.local?.size);
    } else {
      assert.deepEqual([f.size, f.stride, f.padding], [ref.rf.size, ref.rf.stride, ref.rf.padding]);
    }
    assert.ok(t.impulses.length >= 2);
    assert.equal(t.ok, true, t.disagreement);
    if (name !== "squeezenet1_0") return;
    // SqueezeNet 1.0's first layer is a 7×7 convolution, stride 2, no padding: on 224 px it
    // has 109 outputs reading pixels 0…222, so pixel 223 (the last row and column) reaches
    // no unit at all. The field box u·16 − 60 … u·16 + 94 of units 9…12 contains 223, but the
    // tensor's read range (rf_region.reads) ends at 222, so no unit is expected — and the
    // network agrees (this impulse was a disagreement before the read range existed).
    const at223 = t.impulses.filter((i) => i.pixel.includes(223));
    assert.ok(at223.length >= 1);
    for (const i of at223) {
      const axis = i.axes[i.pixel.indexOf(223)];
      assert.deepEqual(axis.expected, []);
      assert.deepEqual(axis.touched, []);
    }
  });
}

test("verify-rf: ResNet-18's stage outputs, 8 impulses each", async () => {
  const stages = Object.keys(reference.resnet18.rf_stages ?? {});
  assert.equal(stages.length, 4);
  for (const s of stages) {
    const v = await verifyRf(path("resnet18.onnx"), { tensors: [s], maxImpulses: 8 });
    assert.equal(v.ok, true, v.tensors[0].disagreement);
    // A field smaller than the image: some impulse reaches only part of the units, so
    // the check is not the trivial "every unit changed".
    const t = v.tensors[0];
    const f = t.field as AxisFieldJson;
    if (f.size[0] < 224) {
      const partial = t.impulses
        .flatMap((i) => i.axes)
        .filter((a) => a.expected.length === 1 && (a.expected[0][0] > 0 || a.expected[0][1] < a.units - 1));
      assert.ok(partial.length >= 2, s);
    }
  }
});

test("verify-rf: a deliberately wrong field is caught (shifted one pixel, one stride too small, one pixel too wide)", async () => {
  const file = path("alexnet.onnx");
  const tensor = "/features/features.12/MaxPool_output_0";
  // A report's lists are shared between tensors and frozen (core/lists.ts): each mutation puts a new list in.
  const wrong: [string, (f: AxisFieldJson) => void][] = [
    ["padding + 1", (f) => (f.padding = [(f.padding[0] as number) + 1, ...f.padding.slice(1)])],
    ["size − stride", (f) => (f.size = [f.size[0], f.size[1] - 32, ...f.size.slice(2)])],
    ["size + 1", (f) => (f.size = [f.size[0] + 1, ...f.size.slice(1)])],
  ];
  for (const [label, mutate] of wrong) {
    const v = await verifyRf(file, {
      tensors: [tensor],
      mutate: (r) => mutate(r.tensors[tensor].rf as AxisFieldJson),
    });
    assert.equal(v.ok, false, `${label} was not caught`);
    assert.match(v.tensors[0].disagreement ?? "", /the field says units .* the network changed units/);
  }
  // And unmutated, the same tensor passes.
  assert.equal((await verifyRf(file, { tensors: [tensor] })).ok, true);
});

test("verify-rf: the default tensor is the last one laid out along the image", async () => {
  const { analyze } = await import("../../src/analysis/index.js");
  const { readModel } = await import("../../src/formats/index.js");
  const { fileSource } = await import("../../src/cli/node-source.js");
  const src = fileSource(path("resnet18.onnx"));
  const r = analyze(readModel(src));
  src.close();
  assert.equal(lastFeatureMap(r), reference.resnet18.rf.tensor);
});
