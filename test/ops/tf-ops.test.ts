import assert from "node:assert/strict";
import { test } from "node:test";
import { assertLayerError, costOf, run } from "./helpers.js";

test("ZerosLike / OnesLike: the input's shape and dtype, filled; no cost; reads no position", () => {
  const r = run("ZerosLike", [{ shape: [1, 3, 2, 2] }]);
  assert.deepEqual(r.out[0].shape, [1, 3, 2, 2]);
  assert.equal(r.out[0].dtype, "float32");
  assert.equal(r.out[0].value?.length, 12);
  assert.ok(r.out[0].value?.every((v) => v === 0));
  assert.equal(r.cost, undefined);
  assert.deepEqual(r.field, { kind: "axes", map: [null, null, null, null], mixed: [] });
  const o = run("OnesLike", [{ shape: [3], dtype: "int64", value: [7, 8, 9] }]);
  assert.deepEqual(o.out[0], { dtype: "int64", shape: [3], value: [1, 1, 1] });
});

test("Atan2: numpy broadcasting, one transcendental and one division per output element", () => {
  const r = run("Atan2", [{ shape: [1, 4, 5] }, { shape: [5] }]);
  assert.deepEqual(r.out[0].shape, [1, 4, 5]);
  // 20 outputs: 20 exp-class operations, 20 divisions.
  assert.deepEqual(r.cost, costOf({ exp: 20, div: 20 }));
  // Known values fold: atan2(1, 1) = π/4, atan2(0, −1) = π.
  const v = run("Atan2", [
    { shape: [2], value: [1, 0] },
    { shape: [2], value: [1, -1] },
  ]).out[0].value;
  assert.deepEqual(v, [Math.PI / 4, Math.PI]);
  assertLayerError(() => run("Atan2", [{ shape: [2, 3] }, { shape: [4] }]), /broadcast|differ|compatible/);
});

test("SparseToDense: the shape held by output_shape, the values' dtype; no cost; a global field", () => {
  const r = run("SparseToDense", [
    { shape: [4, 2], dtype: "int32" },
    { shape: [2], dtype: "int32", value: [5, 6] },
    { shape: [4], dtype: "float32" },
    { shape: [], dtype: "float32", value: [0] },
  ]);
  assert.deepEqual(r.out[0], { dtype: "float32", shape: [5, 6] });
  assert.equal(r.cost, undefined);
  assert.deepEqual(r.field, { kind: "global" });
  // Unknown output_shape: shape unknown, never a guess.
  assert.equal(run("SparseToDense", [{ shape: [4, 2] }, { shape: [2] }, { shape: [4] }]).out[0].shape, undefined);
  assertLayerError(() => run("SparseToDense", [{ shape: [1, 1] }, { shape: [2], value: [3, -1] }, { shape: [1] }]), /not a shape/);
});
