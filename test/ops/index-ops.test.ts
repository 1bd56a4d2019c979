import assert from "node:assert/strict";
import { test } from "node:test";
import { assertLayerError, costOf, run, shapeOf } from "./helpers.js";

const ints = (...value: number[]) => ({ shape: [value.length], dtype: "int64" as const, value });
const scalar = (v: number) => ({ shape: [], dtype: "int64" as const, value: [v] });

test("Gather: data[:axis] + indices + data[axis+1:]; values of a shape vector are picked", () => {
  assert.deepEqual(shapeOf("Gather", [{ shape: [5, 4, 3] }, { shape: [2, 6], dtype: "int64" }], { axis: 1 }), [5, 2, 6, 3]);
  // a scalar index drops the axis: Shape → Gather(0) gives the batch size
  const r = run("Gather", [ints(1, 116, 28, 28), scalar(1)], { axis: 0 });
  assert.deepEqual(r.out[0], { dtype: "int64", shape: [], value: [116] });
  assert.deepEqual(run("Gather", [ints(1, 116, 28, 28), ints(-1, 0)], {}).out[0].value, [28, 1]);
  // 2-d values: rows 1 and 0 of [[1, 2], [3, 4]]
  assert.deepEqual(run("Gather", [{ shape: [2, 2], value: [1, 2, 3, 4] }, ints(1, 0)], {}).out[0].value, [3, 4, 1, 2]);
  // field: the gathered axis is mixed; later axes shift by the indices' rank − 1
  assert.deepEqual(run("Gather", [{ shape: [1, 8, 7, 7] }, { shape: [2, 3], dtype: "int64" }], { axis: 1 }).field, {
    kind: "axes",
    map: [0, null, 3, 4],
    mixed: [1],
  });
  assert.equal(run("Gather", [{ shape: [5, 4] }, scalar(0)], {}).cost, undefined);
  assertLayerError(() => run("Gather", [ints(1, 2, 3), scalar(3)], {}), /index out of range/);
});

test("GatherElements takes the indices' shape", () => {
  const r = run("GatherElements", [{ shape: [3, 4] }, { shape: [3, 2], dtype: "int64" }], { axis: 1 });
  assert.deepEqual(r.out[0].shape, [3, 2]);
  assert.deepEqual(r.field, { kind: "axes", map: [0, 1], mixed: [1] });
});

test("GatherND: indices[:-1] + data[batch_dims + m:]; positions come from data, so global", () => {
  // data 2×3×4×5, indices 6×2 address axes 0–1: output 6 + [4, 5]
  assert.deepEqual(shapeOf("GatherND", [{ shape: [2, 3, 4, 5] }, { shape: [6, 2], dtype: "int64" }], {}), [6, 4, 5]);
  // batch_dims 1: indices 2×7×1 address axis 1 within each batch → 2×7 + [4, 5]
  assert.deepEqual(shapeOf("GatherND", [{ shape: [2, 3, 4, 5] }, { shape: [2, 7, 1], dtype: "int64" }], { batch_dims: 1 }), [2, 7, 4, 5]);
  assert.deepEqual(run("GatherND", [{ shape: [2, 3] }, { shape: [4, 2], dtype: "int64" }], {}).field, { kind: "global" });
  assertLayerError(() => run("GatherND", [{ shape: [2, 3] }, { shape: [4, 3], dtype: "int64" }], {}), /address 3 axes/);
});

test("Slice (opset 10+ inputs): negative and huge bounds clamp, steps, values", () => {
  const x = { shape: [1, 3, 20, 10] };
  // H: starts 2, ends −2 → 2 … 18 step 3: ⌈16/3⌉ = 6; W: 0 … INT64_MAX step 2: ⌈10/2⌉ = 5
  const r = run("Slice", [x, ints(2, 0), ints(-2, 9.223372036854776e18), ints(2, 3), ints(3, 2)], {});
  assert.deepEqual(r.out[0].shape, [1, 3, 6, 5]);
  // sliced spatial axes read start + step·o: num step, den 1, lo = hi = start
  assert.deepEqual(r.field, {
    kind: "resample",
    axes: [
      { num: 3, den: 1, lo: 2, hi: 2 },
      { num: 2, den: 1, lo: 0, hi: 0 },
    ],
  });
  // negative step: from the last element backwards: start −1 → 9, end −INT64 → −1: 10 elements
  assert.deepEqual(shapeOf("Slice", [{ shape: [10] }, ints(-1), ints(-9.223372036854776e18), ints(0), ints(-1)]), [10]);
  // values: the trailing two dims of a shape vector
  assert.deepEqual(run("Slice", [ints(1, 3, 48, 320), ints(-2), ints(4)], {}).out[0].value, [48, 320]);
  // [[1,2,3],[4,5,6]][:, ::-2] = [[3,1],[6,4]]
  assert.deepEqual(
    run("Slice", [{ shape: [2, 3], value: [1, 2, 3, 4, 5, 6] }, ints(-1), ints(-4), ints(1), ints(-2)], {}).out[0].value,
    [3, 1, 6, 4],
  );
  // a channel slice leaves the image axes alone
  assert.deepEqual(run("Slice", [{ shape: [1, 116, 28, 28] }, ints(0), ints(58), ints(1)], {}).field, {
    kind: "resample",
    axes: Array(2).fill({ num: 1, den: 1, lo: 0, hi: 0 }),
  });
  assertLayerError(() => run("Slice", [{ shape: [4] }, ints(0), ints(4), ints(0), ints(0)], {}), /step must not be 0/);
});

test("Slice before opset 10 takes starts/ends/axes attributes; unknown bounds give an unknown shape", () => {
  assert.deepEqual(shapeOf("Slice", [ints(1, 3, 48, 320)], { starts: [2], ends: [3], axes: [0] }, 9), [1]);
  assert.deepEqual(run("Slice", [ints(1, 3, 48, 320)], { starts: [2], ends: [3], axes: [0] }, { opset: 9 }).out[0].value, [48]);
  assert.equal(run("Slice", [{ shape: [1, 3, 4, 4] }, { shape: [1], dtype: "int64" }, ints(2)], {}).out[0].shape, undefined);
  // unbound width sliced from a start to the end stays symbolic
  assert.deepEqual(shapeOf("Slice", [{ shape: [1, 3, 8, "w"] }, ints(1), ints(9.2e18), ints(3)]), [1, 3, 8, "w-1"]);
});

test("TopK: k from input 1 (opset 10+) or attribute; values and int64 indices; heap comparisons", () => {
  const r = run("TopK", [{ shape: [2, 100] }, ints(5)], {}, { outputs: 2 });
  assert.deepEqual(r.out[0].shape, [2, 5]);
  assert.deepEqual(r.out[1], { dtype: "int64", shape: [2, 5] });
  // 200 inputs · ⌈log2(5 + 1)⌉ = 200 · 3 = 600
  assert.deepEqual(r.cost, costOf({ cmp: 600 }));
  assert.deepEqual(r.field, { kind: "axes", map: [0, 1], mixed: [1] });
  assert.deepEqual(run("TopK", [{ shape: [7, 9] }], { k: 2, axis: 0 }, { outputs: 2, opset: 9 }).out[0].shape, [2, 9]);
  assertLayerError(() => run("TopK", [{ shape: [2, 4] }, ints(5)], {}, { outputs: 2 }), /k = 5 is out of range/);
});
