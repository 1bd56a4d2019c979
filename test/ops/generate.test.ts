import assert from "node:assert/strict";
import { test } from "node:test";
import { analyzeGraph, assertLayerError, layer, run, shapeOf } from "./helpers.js";

const ints = (...value: number[]) => ({ shape: [value.length], dtype: "int64" as const, value });
const scalar = (v: number, dtype: "int64" | "float32" = "int64") => ({ shape: [], dtype, value: [v] });

test("Shape and Size carry known dims as values; their output depends on no position", () => {
  const r = run("Shape", [{ shape: [1, 3, 48, 320] }], {});
  assert.deepEqual(r.out[0], { dtype: "int64", shape: [4], value: [1, 3, 48, 320] });
  assert.deepEqual(r.field, { kind: "axes", map: [null, null, null, null], mixed: [] });
  // opset 15 start/end
  assert.deepEqual(run("Shape", [{ shape: [1, 3, 48, 320] }], { start: -2 }).out[0].value, [48, 320]);
  assert.deepEqual(run("Shape", [{ shape: [1, 3, "h", "w"] }], {}).out[0], { dtype: "int64", shape: [4], value: undefined });
  assert.deepEqual(run("Size", [{ shape: [2, 3, 4] }], {}).out[0], { dtype: "int64", shape: [], value: [24] });
});

test("Constant: a tensor attribute or value_int(s)/value_float(s)", () => {
  const t = { name: "c", dtype: "int64" as const, shape: [2], value: [3, -1] };
  assert.deepEqual(run("Constant", [], { value: t }).out[0], { dtype: "int64", shape: [2], value: [3, -1] });
  assert.deepEqual(run("Constant", [], { value_ints: [4, 5, 6] }).out[0], { dtype: "int64", shape: [3], value: [4, 5, 6] });
  assert.deepEqual(run("Constant", [], { value_float: 0.5 }).out[0], { dtype: "float32", shape: [], value: [0.5] });
  // a large float weight held in a Constant is never decoded
  let reads = 0;
  const w = {
    name: "w",
    dtype: "float32" as const,
    shape: [64, 3, 3, 3],
    initializer: {
      byteLength: 6912,
      location: "inline" as const,
      read: () => {
        reads++;
        return [];
      },
    },
  };
  assert.deepEqual(run("Constant", [], { value: w }).out[0], { dtype: "float32", shape: [64, 3, 3, 3], value: undefined });
  assert.equal(reads, 0);
  assertLayerError(() => run("Constant", [], {}), /no value attribute/);
});

test("ConstantOfShape, Range, Expand and Tile: shapes and small values", () => {
  const fill = { name: "v", dtype: "int64" as const, shape: [1], value: [1] };
  assert.deepEqual(run("ConstantOfShape", [ints(2, 3)], { value: fill }).out[0], {
    dtype: "int64",
    shape: [2, 3],
    value: [1, 1, 1, 1, 1, 1],
  });
  assert.deepEqual(run("ConstantOfShape", [ints(4)], {}).out[0], { dtype: "float32", shape: [4], value: [0, 0, 0, 0] });
  // Range(1, 10, 3) = 1, 4, 7: ⌈(10 − 1)/3⌉ = 3 elements
  assert.deepEqual(run("Range", [scalar(1), scalar(10), scalar(3)], {}).out[0], { dtype: "int64", shape: [3], value: [1, 4, 7] });
  assert.deepEqual(run("Range", [scalar(5), scalar(1), scalar(1)], {}).out[0].shape, [0]);
  assertLayerError(() => run("Range", [scalar(0), scalar(1), scalar(0)], {}), /delta must not be 0/);
  // Expand broadcasts both ways: [3, 1] to [2, 1, 4] → [2, 3, 4]
  assert.deepEqual(shapeOf("Expand", [{ shape: [3, 1] }, ints(2, 1, 4)]), [2, 3, 4]);
  assert.deepEqual(run("Expand", [{ shape: [2, 1], dtype: "int64", value: [1, 2] }, ints(2, 3)], {}).out[0].value, [1, 1, 1, 2, 2, 2]);
  assertLayerError(() => run("Expand", [{ shape: [3, 2] }, ints(3, 4)], {}), /do not broadcast/);
  // Tile [[1, 2]] by (2, 2) = [[1, 2, 1, 2], [1, 2, 1, 2]]
  const t = run("Tile", [{ shape: [1, 2], dtype: "int64", value: [1, 2] }, ints(2, 2)], {});
  assert.deepEqual(t.out[0], { dtype: "int64", shape: [2, 4], value: [1, 2, 1, 2, 1, 2, 1, 2] });
  assert.deepEqual(shapeOf("Tile", [{ shape: [1, 8, 4, 4] }, ints(1, 1, 2, 3)]), [1, 8, 8, 12]);
  assertLayerError(() => run("Tile", [{ shape: [1, 8] }, ints(2)], {}), /1 values for rank 2/);
});

test("value propagation: Shape → Gather → Unsqueeze → Concat → Reshape gives a concrete shape", () => {
  const r = analyzeGraph({ x: [1, 64, 7, 7] }, { zero: scalar(0), axes: ints(0), minus: ints(-1) }, [
    { op: "Shape", name: "shape", inputs: ["x"] },
    { op: "Gather", name: "batch", inputs: ["shape", "zero"], attrs: { axis: 0 } },
    { op: "Unsqueeze", name: "unsq", inputs: ["batch", "axes"] },
    { op: "Concat", name: "target", inputs: ["unsq", "minus"], attrs: { axis: 0 } },
    { op: "Reshape", name: "flat", inputs: ["x", "target"] },
  ]);
  // target = [1, −1] → 64·7·7 = 3,136
  assert.deepEqual(r.outputs[0].shape, [1, 3136]);
  assert.equal(r.totals.unknown_layers, 0);
  assert.equal(r.totals.params, 0);
});

test("value propagation: shufflenet's channel split (Shape → Gather → Add → Div → Mul → Slice)", () => {
  const r = analyzeGraph({ x: [1, 116, 28, 28] }, { one: ints(1), two: ints(2), zero: ints(0), c: ints(1) }, [
    { op: "Shape", name: "shape", inputs: ["x"] },
    { op: "Gather", name: "ch", inputs: ["shape", "one"], attrs: { axis: 0 } },
    { op: "Add", name: "plus", inputs: ["ch", "one"] },
    { op: "Div", name: "half", inputs: ["plus", "two"] }, // (116 + 1)/2 = 58 (integer division)
    { op: "Mul", name: "end", inputs: ["half", "one"] },
    { op: "Slice", name: "left", inputs: ["x", "zero", "end", "c"] },
  ]);
  assert.deepEqual(r.outputs[0].shape, [1, 58, 28, 28]);
  assert.equal(layer(r, "half").params, 0);
});

test("value propagation stops at unknown dims without guessing", () => {
  const r = analyzeGraph({ x: [1, 64, "h", "w"] }, { minus: ints(1, -1) }, [
    { op: "Shape", name: "shape", inputs: ["x"] },
    { op: "Reshape", name: "flat", inputs: ["x", "minus"] },
  ]);
  assert.equal(r.outputs[0].shape?.[0], 1);
  assert.equal(typeof r.outputs[0].shape?.[1], "string");
});
