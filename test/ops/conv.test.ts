import assert from "node:assert/strict";
import { test } from "node:test";
import { analyzeGraph, assertLayerError, costOf, layer, run, shapeOf } from "./helpers.js";

const W = (...shape: number[]) => ({ shape, weight: true });

test("Conv 7×7/2 pad 3: 224 → 112, MACs and seed per output element", () => {
  const r = run("Conv", [{ shape: [1, 3, 224, 224] }, W(64, 3, 7, 7), W(64)], {
    kernel_shape: [7, 7],
    strides: [2, 2],
    pads: [3, 3, 3, 3],
  });
  // ⌊(224 + 3 + 3 − 7)/2⌋ + 1 = ⌊223/2⌋ + 1 = 112
  assert.deepEqual(r.out[0].shape, [1, 64, 112, 112]);
  const outputs = 64 * 112 * 112; // 802,816
  // MACs = outputs · 3·7·7 = 802,816 · 147 = 118,013,952; seed = outputs · (147 + 1) = 118,816,768
  assert.deepEqual(r.cost, costOf({ macs: 118_013_952, bias: outputs, seed: 118_816_768 }));
  assert.deepEqual(r.field, { kind: "window", kernel: [7, 7], stride: [2, 2], padBegin: [3, 3], dilation: [1, 1] });
});

test("Conv with groups, dilation, asymmetric pads and per-axis strides", () => {
  const attrs = { group: 4, dilations: [2, 1], pads: [1, 0, 2, 1], strides: [1, 2] };
  const r = run("Conv", [{ shape: [1, 8, 10, 12] }, W(16, 2, 3, 3)], attrs);
  // H: k_eff = 2·(3−1)+1 = 5, (10 + 1 + 2 − 5)/1 + 1 = 9; W: k_eff 3, ⌊(12 + 0 + 1 − 3)/2⌋ + 1 = 6
  assert.deepEqual(r.out[0].shape, [1, 16, 9, 6]);
  // MACs = 16·9·6 outputs · (8/4)·3·3 = 864 · 18 = 15,552; no bias input → bias 0, seed 864·19
  assert.deepEqual(r.cost, costOf({ macs: 15_552, seed: 864 * 19 }));
  assert.deepEqual(r.field, { kind: "window", kernel: [3, 3], stride: [1, 2], padBegin: [1, 0], dilation: [2, 1] });
});

test("Conv auto_pad: SAME_UPPER puts the odd pixel at the end, SAME_LOWER at the begin, VALID has none", () => {
  const x = { shape: [1, 1, 5, 5] };
  // SAME: out = ⌈5/2⌉ = 3; total pad = (3−1)·2 + 2 − 5 = 1
  const upper = run("Conv", [x, W(1, 1, 2, 2)], { strides: [2, 2], auto_pad: "SAME_UPPER" });
  assert.deepEqual(upper.out[0].shape, [1, 1, 3, 3]);
  assert.deepEqual(upper.field, { kind: "window", kernel: [2, 2], stride: [2, 2], padBegin: [0, 0], dilation: [1, 1] });
  const lower = run("Conv", [x, W(1, 1, 2, 2)], { strides: [2, 2], auto_pad: "SAME_LOWER" });
  assert.deepEqual(lower.out[0].shape, [1, 1, 3, 3]);
  assert.deepEqual(lower.field, { kind: "window", kernel: [2, 2], stride: [2, 2], padBegin: [1, 1], dilation: [1, 1] });
  // VALID: ⌊(5 − 2)/2⌋ + 1 = 2
  assert.deepEqual(shapeOf("Conv", [x, W(1, 1, 2, 2)], { strides: [2, 2], auto_pad: "VALID", pads: [1, 1, 1, 1] }), [1, 1, 2, 2]);
});

test("Conv 1-d takes the kernel from the weight when kernel_shape is absent", () => {
  // ⌊(100 + 2 − 5)/3⌋ + 1 = 33; MACs 8·33·4·5 = 5,280
  const r = run("Conv", [{ shape: [2, 4, 100] }, W(8, 4, 5)], { strides: [3], pads: [1, 1] });
  assert.deepEqual(r.out[0].shape, [2, 8, 33]);
  assert.equal(r.cost?.macs, 2 * 8 * 33 * 4 * 5);
});

test("Conv with unbound spatial dims: symbolic output, unknown cost", () => {
  const r = run("Conv", [{ shape: [1, 3, "h", "w"] }, W(8, 3, 3, 3)], { pads: [1, 1, 1, 1] });
  assert.equal(r.out[0].shape?.length, 4);
  assert.deepEqual(r.out[0].shape?.slice(0, 2), [1, 8]);
  assert.equal(typeof r.out[0].shape?.[2], "string");
  assert.equal(r.cost, null);
});

test("Conv errors: kernel larger than the padded input, channel mismatch, group, bias", () => {
  assertLayerError(() => run("Conv", [{ shape: [1, 1, 3, 3] }, W(1, 1, 5, 5)], { pads: [0, 0, 0, 0] }), /larger than the padded input/);
  assertLayerError(() => run("Conv", [{ shape: [1, 4, 8, 8] }, W(8, 3, 3, 3)], {}), /4 channels/);
  assertLayerError(() => run("Conv", [{ shape: [1, 4, 8, 8] }, W(6, 1, 3, 3)], { group: 4 }), /not divisible by group/);
  assertLayerError(() => run("Conv", [{ shape: [1, 4, 8, 8] }, W(8, 4, 3, 3), W(7)], {}), /bias/);
  assertLayerError(() => run("Conv", [{ shape: [1, 4, 8, 8] }, W(8, 4, 3, 3)], { strides: [0, 1] }), /stride must be positive/);
  assertLayerError(() => run("Conv", [{ shape: [1, 4, 8, 8] }, W(8, 4, 3, 3)], { kernel_shape: [5, 5] }), /does not match the weight/);
});

test("ConvTranspose counts MACs on the input: N·C_in·H_in·W_in · (C_out/group)·k·k", () => {
  const attrs = { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] };
  const r = run("ConvTranspose", [{ shape: [1, 4, 5, 5] }, W(4, 2, 3, 3), W(2)], attrs);
  // out = 2·(5 − 1) + 1 + 3 − 1 − 1 = 10
  assert.deepEqual(r.out[0].shape, [1, 2, 10, 10]);
  // MACs = 1·4·5·5 · 2·3·3 = 100 · 18 = 1,800; bias one per output 2·10·10 = 200; seed 1,800 + 200
  assert.deepEqual(r.cost, costOf({ macs: 1_800, bias: 200, seed: 2_000 }));
  // o reads ⌈(o + 1 − 2)/2⌉ … ⌊(o + 1)/2⌋: num 1, den 2, lo = 1 − 2 + 2 − 1 = 0, hi = 1
  // (o = 1 receives i = 0 through tap 2 and i = 1 through tap 0: floor(1/2) = 0 … floor(2/2) = 1)
  const axis = { num: 1, den: 2, lo: 0, hi: 1 };
  assert.deepEqual(r.field, { kind: "resample", axes: [axis, axis] });
});

test("ConvTranspose with groups: C_out = group · W.shape[1]", () => {
  const r = run("ConvTranspose", [{ shape: [1, 4, 3, 3] }, W(4, 3, 2, 2)], { group: 2, strides: [2, 2] });
  // out = 2·2 + 2 = 6, C_out = 2·3 = 6; MACs = 36 inputs · 3·2·2 = 432
  assert.deepEqual(r.out[0].shape, [1, 6, 6, 6]);
  assert.equal(r.cost?.macs, 432);
  // k = s = 2, p = 0: each output reads exactly input ⌊o/2⌋
  assert.deepEqual(r.field, { kind: "resample", axes: Array(2).fill({ num: 1, den: 2, lo: 0, hi: 0 }) });
});

test("ConvTranspose output_shape and SAME auto_pad derive the pads", () => {
  const x = { shape: [1, 4, 5, 5] };
  // total = 2·4 + 3 − 10 = 1; NOTSET puts the larger half (1) at the begin
  const r = run("ConvTranspose", [x, W(4, 2, 3, 3)], { strides: [2, 2], output_shape: [10, 10] });
  assert.deepEqual(r.out[0].shape, [1, 2, 10, 10]);
  assert.deepEqual(r.field, { kind: "resample", axes: Array(2).fill({ num: 1, den: 2, lo: 0, hi: 1 }) });
  // SAME_UPPER: out = 5·2 = 10, begin pad ⌊1/2⌋ = 0 → lo = 0 − 2 + 1 = −1, hi = 0
  const s = run("ConvTranspose", [x, W(4, 2, 3, 3)], { strides: [2, 2], auto_pad: "SAME_UPPER" });
  assert.deepEqual(s.out[0].shape, [1, 2, 10, 10]);
  assert.deepEqual(s.field, { kind: "resample", axes: Array(2).fill({ num: 1, den: 2, lo: -1, hi: 0 }) });
});

test("ConvTranspose with dilation: the field spans the dilated kernel", () => {
  // 1-d, k 3, d 2 (k_eff 5), s 1: out = 4 − 1 + 5 = 8; lo = 0 − 4 + 0 = −4, hi = 0
  const r = run("ConvTranspose", [{ shape: [1, 1, 4] }, W(1, 1, 3)], { dilations: [2] });
  assert.deepEqual(r.out[0].shape, [1, 1, 8]);
  assert.deepEqual(r.field, { kind: "resample", axes: [{ num: 1, den: 1, lo: -4, hi: 0 }] });
  assertLayerError(() => run("ConvTranspose", [{ shape: [1, 1, 4] }, W(1, 1, 3)], { strides: [2], output_padding: [2] }), /output_padding/);
  assertLayerError(() => run("ConvTranspose", [{ shape: [1, 2, 4] }, W(1, 1, 3)], {}), /2 channels/);
});

test("Conv and ConvTranspose parameters through analyze: weight and bias count, per layer and in total", () => {
  const r = analyzeGraph({ x: [1, 3, 8, 8] }, { w: { shape: [4, 3, 3, 3] }, b: { shape: [4] }, wt: { shape: [4, 2, 2, 2] } }, [
    { op: "Conv", name: "conv", inputs: ["x", "w", "b"], attrs: { pads: [1, 1, 1, 1] } },
    { op: "ConvTranspose", name: "up", inputs: ["conv", "wt"], attrs: { strides: [2, 2] } },
  ]);
  assert.equal(layer(r, "conv").params, 4 * 3 * 3 * 3 + 4); // 112
  assert.equal(layer(r, "up").params, 4 * 2 * 2 * 2); // 32
  assert.equal(r.totals.params, 144);
  assert.deepEqual(r.outputs[0].shape, [1, 2, 16, 16]);
  // conv: 4·8·8 · 27 = 6,912; up: 4·8·8 inputs · 2·2·2 = 2,048
  assert.equal(r.totals.macs, 6_912 + 2_048);
});
