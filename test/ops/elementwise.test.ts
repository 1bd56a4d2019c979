import assert from "node:assert/strict";
import { test } from "node:test";
import { ruleFor } from "../../src/ops/index.js";
import { analyzeGraph, assertLayerError, costOf, layer, run } from "./helpers.js";

const x = { shape: [1, 64, 112, 112] }; // 802,816 elements
const N = 802_816;

test("activations: per-element cost table, same shape, pointwise, in place", () => {
  const per: Record<string, Parameters<typeof costOf>[0]> = {
    Relu: { cmp: 1 },
    LeakyRelu: { cmp: 1, mul: 1 },
    Sigmoid: { exp: 1, add: 1, div: 1 },
    HardSigmoid: { mul: 1, add: 1, cmp: 2 },
    HardSwish: { mul: 2, add: 1, cmp: 2 },
    Tanh: { exp: 1 },
    Elu: { cmp: 1, exp: 1, add: 1, mul: 1 },
    Selu: { cmp: 1, exp: 1, add: 1, mul: 2 },
    Gelu: { exp: 1, mul: 3, add: 1 },
    Erf: { exp: 1 },
    Softplus: { exp: 2, add: 1 },
    Mish: { exp: 3, add: 1, mul: 1 },
    Neg: { mul: 1 },
    Abs: { cmp: 1 },
    Sqrt: { exp: 1 },
    Exp: { exp: 1 },
    Log: { exp: 1 },
    Reciprocal: { div: 1 },
    Floor: { cmp: 1 },
    Ceil: { cmp: 1 },
    Round: { cmp: 1 },
  };
  for (const [op, p] of Object.entries(per)) {
    const r = run(op, [x], {});
    assert.deepEqual(r.out[0].shape, x.shape, op);
    const scaled = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v * N]));
    assert.deepEqual(r.cost, costOf(scaled), op);
    assert.equal(r.field, undefined, `${op} is pointwise`);
    assert.equal(ruleFor(op)?.inPlace, true, op);
  }
  assert.equal(run("Not", [{ shape: [3], dtype: "bool" }], {}).out[0].dtype, "bool");
});

test("PRelu's slope is a parameter; Clip's bounds and Dropout's ratio are values", () => {
  const r = analyzeGraph(
    { x: [1, 8, 4, 4] },
    {
      slope: { shape: [8, 1, 1] },
      lo: { shape: [], dtype: "float32", value: [0] },
      hi: { shape: [], dtype: "float32", value: [6] },
      ratio: { shape: [], dtype: "float32", value: [0.5] },
    },
    [
      { op: "PRelu", name: "prelu", inputs: ["x", "slope"] },
      { op: "Clip", name: "clip", inputs: ["prelu", "lo", "hi"] },
      { op: "Dropout", name: "drop", inputs: ["clip", "ratio"] },
    ],
  );
  assert.equal(layer(r, "prelu").params, 8);
  assert.equal(layer(r, "clip").params, 0);
  assert.equal(layer(r, "drop").params, 0);
  assert.equal(r.totals.params, 8);
  // PRelu: 128 elements · (cmp + mul); Clip: 2 comparisons each
  assert.deepEqual(layer(r, "prelu").cost, { macs: 0, bias: 0, add: 0, mul: 128, div: 0, exp: 0, cmp: 128 });
  assert.deepEqual(layer(r, "clip").cost, { macs: 0, bias: 0, add: 0, mul: 0, div: 0, exp: 0, cmp: 256 });
  assert.deepEqual(layer(r, "drop").cost, { macs: 0, bias: 0, add: 0, mul: 0, div: 0, exp: 0, cmp: 0 });
});

test("Clip before opset 11 takes min/max attributes; known values are clamped", () => {
  const r = run("Clip", [{ shape: [4], dtype: "int64", value: [-3, 2, 7, 9] }], { min: 0, max: 6 }, { opset: 9 });
  assert.deepEqual(r.out[0].value, [0, 2, 6, 6]);
  const s = run("Clip", [{ shape: [3], value: [-1, 3, 8] }, { shape: [], value: [0] }, undefined], {}, { opset: 13 });
  assert.deepEqual(s.out[0].value, [0, 3, 8]);
});

test("binary ops broadcast; variadic Sum/Mean cost operands − 1 per output", () => {
  // SE gate: [1, 64, 56, 56] · [1, 64, 1, 1]: 200,704 multiplies
  const m = run("Mul", [{ shape: [1, 64, 56, 56] }, { shape: [1, 64, 1, 1] }], {});
  assert.deepEqual(m.out[0].shape, [1, 64, 56, 56]);
  assert.deepEqual(m.cost, costOf({ mul: 200_704 }));
  const a = { shape: [2, 3] };
  assert.deepEqual(run("Sum", [a, a, a], {}).cost, costOf({ add: 12 })); // 6 outputs · 2
  assert.deepEqual(run("Mean", [a, a, a], {}).cost, costOf({ add: 12, div: 6 }));
  assert.deepEqual(run("Max", [a, a], {}).cost, costOf({ cmp: 6 }));
  assert.deepEqual(run("Pow", [a, { shape: [] }], {}).cost, costOf({ exp: 6 }));
  assert.deepEqual(run("Sub", [{ shape: [5, 1] }, { shape: [1, 4] }], {}).out[0].shape, [5, 4]);
  assert.equal(run("Less", [a, a], {}).out[0].dtype, "bool");
  assertLayerError(() => run("Add", [{ shape: [1, 64, 56, 56] }, { shape: [1, 32, 56, 56] }], {}), /do not broadcast/);
});

test("binary ops fold known values: integer Div truncates, float Div does not", () => {
  const ints = (value: number[]) => ({ shape: [value.length], dtype: "int64" as const, value });
  assert.deepEqual(run("Div", [ints([7, -7, 9]), ints([2])], {}).out[0].value, [3, -3, 4]);
  assert.deepEqual(
    run(
      "Div",
      [
        { shape: [2], value: [7, 1] },
        { shape: [1], value: [2] },
      ],
      {},
    ).out[0].value,
    [3.5, 0.5],
  );
  assert.deepEqual(run("Mul", [ints([2, 3]), ints([4, 5])], {}).out[0].value, [8, 15]);
  assert.deepEqual(run("Equal", [ints([2, 3]), ints([3])], {}).out[0].value, [0, 1]);
  // 2-d values broadcast too: [[1], [2]] + [10, 20] = [[11, 21], [12, 22]]
  assert.deepEqual(run("Add", [{ shape: [2, 1], dtype: "int64", value: [1, 2] }, ints([10, 20])], {}).out[0].value, [11, 21, 12, 22]);
  assert.equal(run("Add", [{ shape: [2] }, ints([1, 2])], {}).out[0].value, undefined);
});

test("Where selects with broadcasting and folds known values (no cost)", () => {
  const r = run(
    "Where",
    [
      { shape: [3], dtype: "bool", value: [1, 0, 1] },
      { shape: [3], dtype: "int64", value: [1, 2, 3] },
      { shape: [1], dtype: "int64", value: [-1] },
    ],
    {},
  );
  assert.deepEqual(r.out[0], { dtype: "int64", shape: [3], value: [1, -1, 3] });
  assert.equal(r.cost, undefined);
  assert.deepEqual(run("Where", [{ shape: [1, 1, 4, 4] }, { shape: [2, 1, 1, 1] }, { shape: [4] }], {}).out[0].shape, [2, 1, 4, 4]);
});

test("Cast converts known values and the dtype; Identity and Dropout copy", () => {
  const r = run("Cast", [{ shape: [3], value: [2.7, -2.7, 0] }], { to: 7 });
  assert.deepEqual(r.out[0], { dtype: "int64", shape: [3], value: [2, -2, 0] });
  assert.equal(r.cost, undefined);
  assert.equal(run("Cast", [{ shape: [3] }], { to: 10 }).out[0].dtype, "float16");
  const d = run("Dropout", [x], {}, { outputs: 2 });
  assert.deepEqual(d.out[1], { dtype: "bool", shape: x.shape, value: undefined });
  assert.deepEqual(run("Identity", [{ shape: [2], dtype: "int64", value: [4, 5] }], {}).out[0].value, [4, 5]);
});

test("Softmax: opset 13 normalizes one axis, earlier opsets every axis from `axis` (default 1)", () => {
  const s = run("Softmax", [{ shape: [1, 3, 25, 6625] }], {}, { opset: 13 });
  // per element: 1 cmp, 2 add, 1 exp, 1 div; 3·25·6625 = 496,875 elements
  assert.deepEqual(s.cost, costOf({ cmp: 496_875, add: 993_750, exp: 496_875, div: 496_875 }));
  assert.deepEqual(s.field, { kind: "axes", map: [0, 1, 2, 3], mixed: [3] });
  const legacy = run("Softmax", [{ shape: [1, 3, 4, 5] }], {}, { opset: 11 });
  assert.deepEqual(legacy.field, { kind: "axes", map: [0, 1, 2, 3], mixed: [1, 2, 3] });
  const axis2 = run("Softmax", [{ shape: [1, 3, 4, 5] }], { axis: 2 }, { opset: 9 });
  assert.deepEqual(axis2.field, { kind: "axes", map: [0, 1, 2, 3], mixed: [2, 3] });
  // LogSoftmax over [2, 10]: 20 elements · (cmp 1, add 3, exp 1) + one log per row (2)
  assert.deepEqual(run("LogSoftmax", [{ shape: [2, 10] }], {}).cost, costOf({ cmp: 20, add: 60, exp: 22 }));
  assertLayerError(() => run("Softmax", [{ shape: [2, 10] }], { axis: 2 }), /axis 2 is out of range/);
});
