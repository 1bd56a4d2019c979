import assert from "node:assert/strict";
import { test } from "node:test";
import { assertLayerError, costOf, run, shapeOf } from "./helpers.js";

const ints = (...value: number[]) => ({ shape: [value.length], dtype: "int64" as const, value });
const x = { shape: [1, 56, 56, 96] }; // 301,056 elements

test("ReduceMean over the last axis (convnext's LayerNorm): N−M adds, M divisions; keepdims", () => {
  const r = run("ReduceMean", [x], { axes: [-1] });
  assert.deepEqual(r.out[0].shape, [1, 56, 56, 1]);
  // M = 3,136 rows: add 301,056 − 3,136 = 297,920, div 3,136
  assert.deepEqual(r.cost, costOf({ add: 297_920, div: 3_136 }));
  assert.deepEqual(r.field, { kind: "axes", map: [0, 1, 2, 3], mixed: [3] });
  // keepdims 0 drops the axis
  const d = run("ReduceMean", [{ shape: [1, 1024, 7, 7] }], { axes: [2, 3], keepdims: 0 });
  assert.deepEqual(d.out[0].shape, [1, 1024]);
  assert.deepEqual(d.field, { kind: "axes", map: [0, 1, null, null], mixed: [2, 3] });
});

test("reduction axes: attribute before opset 13/18, input after; no axes reduces all unless noop_with_empty_axes", () => {
  assert.deepEqual(shapeOf("ReduceSum", [x, ints(1, 2)], {}, 13), [1, 1, 1, 96]);
  assert.deepEqual(shapeOf("ReduceSum", [x], { axes: [1, 2] }, 11), [1, 1, 1, 96]);
  assert.deepEqual(shapeOf("ReduceMax", [x, ints(3)], { keepdims: 0 }, 18), [1, 56, 56]);
  assert.deepEqual(shapeOf("ReduceMin", [x], { keepdims: 0 }, 18), []);
  assert.deepEqual(shapeOf("ReduceSum", [x], { noop_with_empty_axes: 1 }, 13), x.shape);
  assert.equal(shapeOf("ReduceSum", [x, { shape: [1], dtype: "int64" }], {}, 13), undefined);
  assertLayerError(() => run("ReduceMean", [x], { axes: [4] }), /axis 4 is out of range/);
  assertLayerError(() => run("ReduceMean", [x], { axes: [1, -3] }), /repeat an axis/);
});

test("reduction costs per kind on [2, 6] → [2]", () => {
  const y = { shape: [2, 6] }; // N 12, M 2
  const cases: [string, Parameters<typeof costOf>[0]][] = [
    ["ReduceSum", { add: 10 }],
    ["ReduceMax", { cmp: 10 }],
    ["ReduceMin", { cmp: 10 }],
    ["ReduceProd", { mul: 10 }],
    ["ReduceL1", { cmp: 12, add: 10 }],
    ["ReduceL2", { mul: 12, add: 10, exp: 2 }],
    ["ReduceSumSquare", { mul: 12, add: 10 }],
    ["ReduceLogSum", { add: 10, exp: 2 }],
    ["ReduceLogSumExp", { exp: 14, add: 10 }],
  ];
  for (const [op, c] of cases) assert.deepEqual(run(op, [y], { axes: [1], keepdims: 0 }).cost, costOf(c), op);
});

test("reductions fold known values (ReduceProd of a shape is its element count)", () => {
  assert.deepEqual(run("ReduceProd", [ints(2, 3, 4)], { keepdims: 0 }).out[0].value, [24]);
  // [[1, 2, 3], [4, 5, 6]]: sums over axis 0 = [5, 7, 9], max over axis 1 = [3, 6]
  const m = { shape: [2, 3], dtype: "int64" as const, value: [1, 2, 3, 4, 5, 6] };
  assert.deepEqual(run("ReduceSum", [m, ints(0)], { keepdims: 0 }).out[0].value, [5, 7, 9]);
  assert.deepEqual(run("ReduceMax", [m], { axes: [1] }).out[0], { dtype: "int64", shape: [2, 1], value: [3, 6] });
});

test("ArgMax / ArgMin: int64 indices, N − M comparisons, the axis is mixed", () => {
  const r = run("ArgMax", [{ shape: [1, 40, 6625] }], { axis: 2, keepdims: 0 });
  assert.deepEqual(r.out[0], { dtype: "int64", shape: [1, 40] });
  assert.deepEqual(r.cost, costOf({ cmp: 40 * 6625 - 40 })); // 264,960
  assert.deepEqual(r.field, { kind: "axes", map: [0, 1, null], mixed: [2] });
  assert.deepEqual(run("ArgMin", [{ shape: [3, 4] }], {}).out[0].shape, [1, 4]);
});
