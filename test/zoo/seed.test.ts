import assert from "node:assert/strict";
import { test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import type { Report } from "../../src/core/report.js";
import { alexnet } from "../../src/zoo/alexnet.js";

// The seed article's network (BVLC AlexNet, Caffe deploy) and its numbers.
const r: Report = analyze(alexnet());
const layer = (name: string) => {
  const l = r.layers.find((x) => x.name === name);
  assert.ok(l, `layer ${name}`);
  return l;
};
const field = (name: string) => {
  const rf = r.tensors[name]?.rf;
  assert.ok(rf && !("global" in rf), `${name} has a local field`);
  return rf;
};

test("conv1: output 96×55×55, params (11·11·3+1)·96, seed cost (11·11·3+1)·55·55·96", () => {
  assert.deepEqual(r.tensors.conv1.shape, [1, 96, 55, 55]); // (227 − 11)/4 + 1 = 55
  assert.equal(layer("conv1").params, (11 * 11 * 3 + 1) * 96);
  assert.equal(layer("conv1").params, 34_944);
  assert.equal(layer("conv1").seed, (11 * 11 * 3 + 1) * 55 * 55 * 96);
  assert.equal(layer("conv1").seed, 105_705_600);
  assert.equal(layer("conv1").macs, 55 * 55 * 96 * 3 * 11 * 11); // 105,415,200: MACs leave out the bias
});

test("grouped convs count C_in/groups inputs per output (conv2: 5·5·48 per output)", () => {
  assert.equal(layer("conv2").params, 5 * 5 * 48 * 256 + 256); // 307,456
  assert.equal(layer("conv2").macs, 27 * 27 * 256 * 48 * 5 * 5); // 223,948,800
  assert.equal(layer("conv4").params, 3 * 3 * 192 * 384 + 384); // 663,936
});

test("totals: 60,965,224 params, 243,860,896 fp32 bytes, 724,406,816 MACs, seed 725,066,088", () => {
  assert.equal(r.totals.params, 60_965_224);
  assert.equal(r.totals.trainable_params, 60_965_224);
  assert.equal(r.totals.param_bytes, 60_965_224 * 4);
  assert.equal(r.totals.param_bytes, 243_860_896);
  // 243,860,896 / 1024 = 238,145.40625 KiB; the seed quotes the real .caffemodel file as 238,147 KB.
  assert.equal((r.totals.param_bytes / 1024).toFixed(1), "238145.4");
  assert.ok(r.notes.some((n) => n.includes("238,147 KB")));
  assert.equal(r.totals.macs, 724_406_816);
  assert.equal(r.totals.by_convention.seed, 725_066_088);
});

test("receptive fields use the product of earlier strides, not each layer's own stride", () => {
  const names = ["conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5"];
  assert.deepEqual(
    names.map((n) => field(n).size[0]),
    [11, 19, 51, 67, 99, 131, 163, 195],
  );
  assert.deepEqual(
    names.map((n) => field(n).stride[0]),
    [4, 8, 8, 16, 16, 16, 16, 32],
  );
  assert.deepEqual(
    names.map((n) => field(n).padding[0]),
    [0, 0, 16, 16, 32, 48, 64, 64],
  );
  // The seed's recurrence RF_i = RF_{i−1} + (k−1)·stride_i (each layer's own stride) gives
  // Replaying it reproduces the article's 41 … 67 (the article also multiplies conv2's kernel
  // by 2, though conv2's stride is 1) — every value differs from the field a gradient measures.
  const geometry = [
    [11, 4],
    [3, 2],
    [5, 2],
    [3, 2],
    [3, 1],
    [3, 1],
    [3, 1],
    [3, 2],
  ];
  let rf = 1;
  const seedRf = geometry.map(([k, s]) => {
    rf += (k - 1) * s;
    return rf;
  });
  assert.deepEqual(seedRf, [41, 45, 53, 57, 59, 61, 63, 67]);
  for (const [i, n] of names.entries()) assert.notEqual(field(n).size[0], seedRf[i]);
  // Fully-connected layers see the whole image.
  assert.deepEqual(r.tensors.fc6.rf, { global: true, aligned: true });
});
