import assert from "node:assert/strict";
import { test } from "node:test";
import { analyzeGraph, assertLayerError, layer, run, shapeOf } from "./helpers.js";

const ints = (...value: number[]) => ({ shape: [value.length], dtype: "int64" as const, value });

test("Concat along channels sums the axis; values of 1-d inputs concatenate; mismatches are errors", () => {
  const r = run("Concat", [{ shape: [1, 64, 28, 28] }, { shape: [1, 32, 28, 28] }, { shape: [1, 16, 28, 28] }], { axis: 1 });
  assert.deepEqual(r.out[0].shape, [1, 112, 28, 28]); // 64 + 32 + 16
  assert.equal(r.cost, undefined);
  assert.equal(r.field, undefined); // pointwise
  assert.deepEqual(run("Concat", [ints(1), ints(-1), ints(7, 7)], { axis: 0 }).out[0].value, [1, -1, 7, 7]);
  assert.deepEqual(shapeOf("Concat", [{ shape: [1, "c", 8] }, { shape: [1, 4, 8] }], { axis: -2 }), [1, "0+c+4", 8]);
  assertLayerError(() => run("Concat", [{ shape: [1, 64, 28, 28] }, { shape: [1, 32, 14, 14] }], { axis: 1 }), /does not match/);
  assertLayerError(() => run("Concat", [{ shape: [1, 64, 28, 28] }, { shape: [1, 32, 28] }], { axis: 1 }), /rank 3/);
});

test("Split: sizes from the attribute (opset < 13) or input 1, equal parts, num_outputs (opset 18)", () => {
  const x = { shape: [1, 116, 28, 28] };
  const eq = run("Split", [x], { axis: 1 }, { outputs: 2 });
  assert.deepEqual(
    eq.out.map((o) => o.shape),
    [
      [1, 58, 28, 28],
      [1, 58, 28, 28],
    ],
  );
  const attr = run("Split", [x], { axis: 1, split: [16, 100] }, { outputs: 2, opset: 11 });
  assert.deepEqual(attr.out[1].shape, [1, 100, 28, 28]);
  const input = run("Split", [x, ints(100, 16)], { axis: 1 }, { outputs: 2, opset: 13 });
  assert.deepEqual(input.out[0].shape, [1, 100, 28, 28]);
  // num_outputs 3 over 10: ⌈10/3⌉ = 4, 4, then 2
  const uneven = run("Split", [{ shape: [10] }], { num_outputs: 3 }, { outputs: 3, opset: 18 });
  assert.deepEqual(
    uneven.out.map((o) => o.shape),
    [[4], [4], [2]],
  );
  // a known shape vector splits its values
  assert.deepEqual(
    run("Split", [ints(1, 3, 224, 224), ints(2, 2)], {}, { outputs: 2 }).out.map((o) => o.value),
    [
      [1, 3],
      [224, 224],
    ],
  );
  assertLayerError(() => run("Split", [x, ints(100, 10)], { axis: 1 }, { outputs: 2 }), /do not add up to 116/);
  assertLayerError(() => run("Split", [{ shape: [1, 5] }], { axis: 1 }, { outputs: 2 }), /equal parts/);
});

test("Flatten at axis 1: [N, C·H·W]; the merged image axes are mixed", () => {
  const r = run("Flatten", [{ shape: [1, 256, 6, 6] }], { axis: 1 });
  assert.deepEqual(r.out[0].shape, [1, 9216]); // 256·6·6
  assert.deepEqual(r.field, { kind: "axes", map: [0, 1, 1, 1], mixed: [1, 2, 3] });
  // after global pooling only C has extent: nothing is mixed
  assert.deepEqual(run("Flatten", [{ shape: [1, 512, 1, 1] }], {}).field, { kind: "axes", map: [0, 1, 1, 1], mixed: [] });
  assert.deepEqual(shapeOf("Flatten", [{ shape: [2, 3, 4] }], { axis: 0 }), [1, 24]);
  assert.deepEqual(shapeOf("Flatten", [{ shape: [2, 3, 4] }], { axis: -1 }), [6, 4]);
});

test("Reshape: 0 copies a dim, −1 is inferred, element counts must agree", () => {
  const x = { shape: [1, 116, 28, 28] };
  const r = run("Reshape", [x, ints(0, 2, 58, -1, 28)], {});
  // 1·116·28·28 = 90,944 = 1·2·58·d·28 → d = 28
  assert.deepEqual(r.out[0].shape, [1, 2, 58, 28, 28]);
  // N keeps its place, C splits into (2, 58), H and W keep their sizes and positions
  assert.deepEqual(r.field, { kind: "axes", map: [null, 1, 3, 4], mixed: [1] });
  assert.deepEqual(run("Reshape", [{ shape: [1, 40, 360] }, ints(0, 0, 3, 8, 15)], {}).out[0].shape, [1, 40, 3, 8, 15]);
  // allowzero keeps a literal 0 (an empty tensor), which the shape pass then rejects
  assert.deepEqual(run("Reshape", [{ shape: [0, 3] }, ints(3, 0)], { allowzero: 1 }).out[0].shape, [3, 0]);
  // opset 1–4 took the target as an attribute
  assert.deepEqual(run("Reshape", [{ shape: [2, 6] }], { shape: [3, 4] }, { opset: 4 }).out[0].shape, [3, 4]);
  // unknown target values: unknown shape, no guess
  assert.equal(run("Reshape", [x, { shape: [2], dtype: "int64" }], {}).out[0].shape, undefined);
  assertLayerError(() => run("Reshape", [x, ints(1, 100, -1)], {}), /cannot reshape 1×116×28×28/);
  assertLayerError(() => run("Reshape", [x, ints(1, 116, 28, 27)], {}), /90944 elements/);
  assertLayerError(() => run("Reshape", [x, ints(-1, -1)], {}), /more than one -1/);
  assertLayerError(() => run("Reshape", [x, ints(1, -2, 1)], {}), /negative dimension/);
});

test("Squeeze / Unsqueeze: axes as attributes before opset 13 and inputs from it", () => {
  assert.deepEqual(shapeOf("Squeeze", [{ shape: [1, 120, 1, 40] }], { axes: [2] }, 11), [1, 120, 40]);
  assert.deepEqual(shapeOf("Squeeze", [{ shape: [1, 120, 1, 40] }, ints(-2)], {}, 13), [1, 120, 40]);
  assert.deepEqual(shapeOf("Squeeze", [{ shape: [1, 120, 1, 40] }], {}, 13), [120, 40]);
  const sq = run("Squeeze", [{ shape: [1, 120, 1, 40] }, ints(2)], {});
  assert.deepEqual(sq.field, { kind: "axes", map: [0, 1, null, 2], mixed: [] });
  assertLayerError(() => run("Squeeze", [{ shape: [1, 120, 1, 40] }, ints(1)], {}), /size 120/);
  const un = run("Unsqueeze", [{ shape: [3, 4] }, ints(0, -1)], {});
  assert.deepEqual(un.out[0].shape, [1, 3, 4, 1]); // output rank 4: axes 0 and 3
  assert.deepEqual(un.field, { kind: "axes", map: [1, 2], mixed: [] });
  assert.deepEqual(shapeOf("Unsqueeze", [{ shape: [3] }], { axes: [1] }, 11), [3, 1]);
  assert.deepEqual(run("Unsqueeze", [{ shape: [], dtype: "int64", value: [7] }, ints(0)], {}).out[0].value, [7]);
  assertLayerError(() => run("Unsqueeze", [{ shape: [3, 4] }], {}, { opset: 13 }), /axes are missing/);
});

test("Transpose: perm (default reversed), the field follows the axes, small values permute", () => {
  const r = run("Transpose", [{ shape: [1, 96, 56, 56] }], { perm: [0, 2, 3, 1] });
  assert.deepEqual(r.out[0].shape, [1, 56, 56, 96]);
  // input axis i goes to output axis perm⁻¹(i): N→0, C→3, H→1, W→2
  assert.deepEqual(r.field, { kind: "axes", map: [0, 3, 1, 2], mixed: [] });
  assert.deepEqual(shapeOf("Transpose", [{ shape: [2, 3, 4] }], {}), [4, 3, 2]);
  // [[1, 2, 3], [4, 5, 6]]ᵀ = [[1, 4], [2, 5], [3, 6]]
  assert.deepEqual(run("Transpose", [{ shape: [2, 3], value: [1, 2, 3, 4, 5, 6] }], {}).out[0].value, [1, 4, 2, 5, 3, 6]);
  assertLayerError(() => run("Transpose", [{ shape: [2, 3] }], { perm: [0, 0] }), /repeat an axis|not a permutation/);
});

test("DepthToSpace / SpaceToDepth move channels to space and back; fields are rational windows", () => {
  const d = run("DepthToSpace", [{ shape: [1, 16, 5, 7] }], { blocksize: 2, mode: "CRD" });
  assert.deepEqual(d.out[0].shape, [1, 4, 10, 14]); // 16/2², 5·2, 7·2
  assert.deepEqual(d.field, { kind: "resample", axes: Array(2).fill({ num: 1, den: 2, lo: 0, hi: 0 }) });
  const s = run("SpaceToDepth", [{ shape: [1, 4, 10, 14] }], { blocksize: 2 });
  assert.deepEqual(s.out[0].shape, [1, 16, 5, 7]);
  // output o reads inputs 2o … 2o + 1
  assert.deepEqual(s.field, { kind: "resample", axes: Array(2).fill({ num: 2, den: 1, lo: 0, hi: 1 }) });
  assertLayerError(() => run("SpaceToDepth", [{ shape: [1, 4, 9, 14] }], { blocksize: 2 }), /not divisible/);
  assertLayerError(() => run("DepthToSpace", [{ shape: [1, 6, 9, 14] }], { blocksize: 2 }), /not divisible by 2²/);
});

test("Pad: pads attribute (opset < 11) or input; negative pads crop; the field is a 1×1 window with the begin pad", () => {
  // inception_v3 / densenet style: pads [0, 0, 1, 1, 0, 0, 1, 1] on NCHW
  const r = run("Pad", [{ shape: [1, 8, 5, 5] }, ints(0, 0, 1, 2, 0, 0, 3, 4), { shape: [], value: [0] }], { mode: "constant" });
  assert.deepEqual(r.out[0].shape, [1, 8, 9, 11]); // 5 + 1 + 3, 5 + 2 + 4
  assert.equal(r.cost, undefined);
  assert.deepEqual(r.field, { kind: "window", kernel: [1, 1], stride: [1, 1], dilation: [1, 1], padBegin: [1, 2] });
  assert.deepEqual(shapeOf("Pad", [{ shape: [1, 1, 4, 4] }], { pads: [0, 0, 1, 1, 0, 0, 1, 1] }, 2), [1, 1, 6, 6]);
  const crop = run("Pad", [{ shape: [1, 1, 6, 6] }, ints(0, 0, -1, -2, 0, 0, 0, -1)], {});
  assert.deepEqual(crop.out[0].shape, [1, 1, 5, 3]);
  assert.deepEqual((crop.field as { padBegin: number[] }).padBegin, [-1, -2]);
  // opset 18 axes: pads only for axes [2, 3]
  assert.deepEqual(
    run("Pad", [{ shape: [1, 1, 4, 4] }, ints(1, 1, 1, 1), undefined, ints(-2, -1)], {}, { opset: 18 }).out[0].shape,
    [1, 1, 6, 6],
  );
  assertLayerError(() => run("Pad", [{ shape: [1, 1, 4, 4] }, ints(0, 0, -2, 0, 0, 0, -2, 0)], {}), /leave axis 2 of size 4 with 0/);
  assertLayerError(() => run("Pad", [{ shape: [1, 1, 4, 4] }, ints(1, 1)], {}), /2 values for 4 axes/);
});

test("Pad's fill value and pads are not parameters", () => {
  const r = analyzeGraph({ x: [1, 2, 4, 4] }, { pads: ints(0, 0, 1, 1, 0, 0, 1, 1), v: { shape: [], dtype: "float32", value: [0] } }, [
    { op: "Pad", name: "pad", inputs: ["x", "pads", "v"] },
  ]);
  assert.equal(layer(r, "pad").params, 0);
  assert.equal(r.totals.params, 0);
  assert.deepEqual(r.outputs[0].shape, [1, 2, 6, 6]);
});
