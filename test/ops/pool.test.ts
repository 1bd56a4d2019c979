import assert from "node:assert/strict";
import { test } from "node:test";
import { assertLayerError, costOf, run, shapeOf } from "./helpers.js";

test("MaxPool 3×3/2: floor vs ceil mode, comparisons per output", () => {
  const x = { shape: [1, 96, 55, 55] };
  // ⌊(55 − 3)/2⌋ + 1 = 27 either way (52 is even)
  const r = run("MaxPool", [x], { kernel_shape: [3, 3], strides: [2, 2] });
  assert.deepEqual(r.out[0].shape, [1, 96, 27, 27]);
  // 96·27·27 = 69,984 outputs · (9 − 1) comparisons = 559,872
  assert.deepEqual(r.cost, costOf({ cmp: 559_872 }));
  assert.deepEqual(r.field, { kind: "window", kernel: [3, 3], stride: [2, 2], padBegin: [0, 0], dilation: [1, 1] });
  // 56: floor ⌊53/2⌋ + 1 = 27, ceil ⌈53/2⌉ + 1 = 28
  assert.deepEqual(shapeOf("MaxPool", [{ shape: [1, 1, 56, 56] }], { kernel_shape: [3, 3], strides: [2, 2] }), [1, 1, 27, 27]);
  assert.deepEqual(
    shapeOf("MaxPool", [{ shape: [1, 1, 56, 56] }], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }),
    [1, 1, 28, 28],
  );
});

test("ceil mode drops a last window that would start in the end padding", () => {
  // in 5, k 2, s 2, pad 1+1: ⌈(5 + 2 − 2)/2⌉ + 1 = 4, but window 3 starts at 3·2 = 6 ≥ 5 + 1 → 3
  assert.deepEqual(
    shapeOf("MaxPool", [{ shape: [1, 1, 5, 5] }], { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }),
    [1, 1, 3, 3],
  );
});

test("MaxPool's optional indices output is int64 of the same shape", () => {
  const r = run("MaxPool", [{ shape: [1, 2, 4, 4] }], { kernel_shape: [2, 2], strides: [2, 2] }, { outputs: 2 });
  assert.deepEqual(r.out[1], { dtype: "int64", shape: [1, 2, 2, 2] });
});

test("AveragePool: k−1 adds and one division per output; count_include_pad does not change the count", () => {
  const attrs = { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] };
  const a = run("AveragePool", [{ shape: [1, 4, 8, 8] }], attrs);
  const b = run("AveragePool", [{ shape: [1, 4, 8, 8] }], { ...attrs, count_include_pad: 1 });
  assert.deepEqual(a.out[0].shape, [1, 4, 8, 8]);
  // 4·8·8 = 256 outputs: add 256·8 = 2,048, div 256
  assert.deepEqual(a.cost, costOf({ add: 2_048, div: 256 }));
  assert.deepEqual(b.cost, a.cost);
  assert.deepEqual(a.field, { kind: "window", kernel: [3, 3], stride: [1, 1], padBegin: [1, 1], dilation: [1, 1] });
});

test("LpPool: K powers + one root, K−1 adds per output", () => {
  const r = run("LpPool", [{ shape: [1, 1, 4, 4] }], { kernel_shape: [2, 2], strides: [2, 2], p: 2 });
  // 4 outputs: exp 4·(4 + 1) = 20, add 4·3 = 12
  assert.deepEqual(r.cost, costOf({ exp: 20, add: 12 }));
});

test("pooling auto_pad SAME_UPPER / SAME_LOWER", () => {
  // in 6, k 3, s 2: out ⌈6/2⌉ = 3, total pad (3−1)·2 + 3 − 6 = 1
  const up = run("MaxPool", [{ shape: [1, 1, 6, 6] }], { kernel_shape: [3, 3], strides: [2, 2], auto_pad: "SAME_UPPER" });
  assert.deepEqual(up.out[0].shape, [1, 1, 3, 3]);
  assert.deepEqual((up.field as { padBegin: number[] }).padBegin, [0, 0]);
  const low = run("MaxPool", [{ shape: [1, 1, 6, 6] }], { kernel_shape: [3, 3], strides: [2, 2], auto_pad: "SAME_LOWER" });
  assert.deepEqual((low.field as { padBegin: number[] }).padBegin, [1, 1]);
});

test("pooling errors: kernel larger than the padded input, rank, kernel rank", () => {
  assertLayerError(() => run("MaxPool", [{ shape: [1, 1, 2, 2] }], { kernel_shape: [3, 3] }), /larger than the padded input/);
  assertLayerError(() => run("AveragePool", [{ shape: [1, 4] }], { kernel_shape: [3] }), /rank ≥ 3/);
  assertLayerError(() => run("MaxPool", [{ shape: [1, 1, 8, 8] }], { kernel_shape: [3] }), /kernel_shape has 1 axes/);
  assertLayerError(() => run("MaxPool", [{ shape: [1, 1, 8, 8] }], {}), /missing attribute 'kernel_shape'/);
});

test("global pooling: [N, C, H, W] → [N, C, 1, 1], per channel H·W − 1 combining steps", () => {
  const avg = run("GlobalAveragePool", [{ shape: [2, 512, 7, 7] }], {});
  assert.deepEqual(avg.out[0].shape, [2, 512, 1, 1]);
  // inputs 2·512·49 = 50,176, outputs 1,024: add 49,152, div 1,024
  assert.deepEqual(avg.cost, costOf({ add: 49_152, div: 1_024 }));
  assert.deepEqual(avg.field, { kind: "global" });
  const max = run("GlobalMaxPool", [{ shape: [2, 512, 7, 7] }], {});
  assert.deepEqual(max.cost, costOf({ cmp: 49_152 }));
  assert.deepEqual(run("GlobalAveragePool", [{ shape: [1, 8, "h", "w"] }], {}).out[0].shape, [1, 8, 1, 1]);
  assert.equal(run("GlobalAveragePool", [{ shape: [1, 8, "h", "w"] }], {}).cost, null);
});
