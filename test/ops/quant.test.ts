import assert from "node:assert/strict";
import { test } from "node:test";
import { analyzeGraph, assertLayerError, costOf, layer, run } from "./helpers.js";

/** A stored weight of the given dtype. */
const W = (dtype: "int8" | "uint8" | "int32" | "float32", ...shape: number[]) => ({ shape, dtype, weight: true });
/** A scale (float scalar) and a zero point (8-bit scalar). */
const S = { shape: [], dtype: "float32" as const, value: [0.02] };
const Z8 = { shape: [], dtype: "int8" as const, value: [0] };
const ZU8 = { shape: [], dtype: "uint8" as const, value: [128] };

test("QuantizeLinear: shape kept, dtype of the zero point; per element one div, one add, two saturating compares", () => {
  const r = run("QuantizeLinear", [{ shape: [1, 3, 4, 4] }, S, Z8]);
  assert.deepEqual(r.out[0], { dtype: "int8", shape: [1, 3, 4, 4] });
  // 48 elements: div 48, add 48, cmp 96
  assert.deepEqual(r.cost, costOf({ div: 48, add: 48, cmp: 96 }));
  assert.equal(r.field, undefined, "pointwise");
  // Without a zero point the output is uint8 (ONNX default).
  assert.equal(run("QuantizeLinear", [{ shape: [2, 5] }, S]).out[0].dtype, "uint8");
});

test("DequantizeLinear: float output of the scale's dtype; one add and one multiply per element", () => {
  const r = run("DequantizeLinear", [{ shape: [2, 8], dtype: "uint8" }, S, ZU8]);
  assert.deepEqual(r.out[0], { dtype: "float32", shape: [2, 8] });
  assert.deepEqual(r.cost, costOf({ add: 16, mul: 16 }));
});

test("DynamicQuantizeLinear: uint8 tensor plus scalar scale and zero point; min/max, quantize per element", () => {
  const r = run("DynamicQuantizeLinear", [{ shape: [1, 10] }], {}, { outputs: 3 });
  assert.deepEqual(
    r.out.map((o) => [o.dtype, o.shape]),
    [
      ["uint8", [1, 10]],
      ["float32", []],
      ["uint8", []],
    ],
  );
  // 10 elements: 2 compares for min/max + 2 for saturation, 1 div, 1 add each
  assert.deepEqual(r.cost, costOf({ cmp: 40, div: 10, add: 10 }));
});

test("QLinearConv is Conv on x, w, B: 3×3 pad 1 on 1×8×16×16 → 16 channels; output dtype of y_zero_point", () => {
  const r = run("QLinearConv", [{ shape: [1, 8, 16, 16], dtype: "uint8" }, S, ZU8, W("int8", 16, 8, 3, 3), S, Z8, S, ZU8, W("int32", 16)], {
    kernel_shape: [3, 3],
    pads: [1, 1, 1, 1],
  });
  assert.deepEqual(r.out[0], { dtype: "uint8", shape: [1, 16, 16, 16] });
  // outputs 16·16·16 = 4096; MACs = 4096 · 8·3·3 = 294,912; bias 4096; seed 4096·73
  assert.deepEqual(r.cost, costOf({ macs: 294_912, bias: 4096, seed: 4096 * 73 }));
  assert.deepEqual(r.field, { kind: "window", kernel: [3, 3], stride: [1, 1], padBegin: [1, 1], dilation: [1, 1] });
  // Also under onnxruntime's domain.
  const ms = run("com.microsoft::QLinearConv", [{ shape: [1, 8, 16, 16], dtype: "uint8" }, S, ZU8, W("int8", 16, 8, 3, 3), S, Z8, S, ZU8], {
    pads: [1, 1, 1, 1],
  });
  assert.deepEqual(ms.cost, costOf({ macs: 294_912, seed: 4096 * 73 }));
});

test("QLinearConv errors name the layer (channels that do not match the weight)", () => {
  assertLayerError(
    () => run("QLinearConv", [{ shape: [1, 4, 8, 8], dtype: "uint8" }, S, ZU8, W("int8", 16, 8, 3, 3), S, Z8, S, ZU8]),
    /input has 4 channels/,
  );
});

test("ConvInteger: int32 output, Conv MACs on x and w (no bias)", () => {
  const r = run("ConvInteger", [{ shape: [1, 3, 8, 8], dtype: "uint8" }, W("uint8", 4, 3, 1, 1), ZU8, ZU8]);
  assert.deepEqual(r.out[0], { dtype: "int32", shape: [1, 4, 8, 8] });
  // 256 outputs · 3 = 768 MACs
  assert.deepEqual(r.cost, costOf({ macs: 768, seed: 256 * 4 }));
});

test("MatMulInteger and QLinearMatMul: MatMul MACs batch·M·K·N", () => {
  const a = run("MatMulInteger", [{ shape: [2, 5, 6], dtype: "uint8" }, W("int8", 6, 7), ZU8, Z8]);
  assert.deepEqual(a.out[0], { dtype: "int32", shape: [2, 5, 7] });
  assert.deepEqual(a.cost, costOf({ macs: 2 * 5 * 6 * 7, seed: 420 }));
  const q = run("QLinearMatMul", [{ shape: [5, 6], dtype: "uint8" }, S, ZU8, W("int8", 6, 7), S, Z8, S, ZU8]);
  assert.deepEqual(q.out[0], { dtype: "uint8", shape: [5, 7] });
  assert.deepEqual(q.cost, costOf({ macs: 210, seed: 210 }));
  assert.deepEqual(q.field, { kind: "axes", map: [0, null], mixed: [1] });
});

test("MatMulIntegerToFloat and DynamicQuantizeMatMul: float output, one bias add per output", () => {
  const f = run("com.microsoft::MatMulIntegerToFloat", [
    { shape: [4, 6], dtype: "uint8" },
    W("int8", 6, 3),
    S,
    S,
    ZU8,
    Z8,
    W("float32", 3),
  ]);
  assert.deepEqual(f.out[0], { dtype: "float32", shape: [4, 3] });
  assert.deepEqual(f.cost, costOf({ macs: 72, bias: 12, seed: 72 }));
  const d = run("com.microsoft::DynamicQuantizeMatMul", [{ shape: [4, 6] }, W("int8", 6, 3), S, Z8]);
  assert.deepEqual(d.cost, costOf({ macs: 72, seed: 72 }));
});

test("QGemm: Gemm on A, B, C with transB; float output without y_scale", () => {
  const r = run("com.microsoft::QGemm", [{ shape: [1, 64], dtype: "uint8" }, S, ZU8, W("int8", 10, 64), S, Z8, W("int32", 10), S, ZU8], {
    transB: 1,
  });
  assert.deepEqual(r.out[0], { dtype: "uint8", shape: [1, 10] });
  // 10 outputs · 64 = 640 MACs, bias 10, seed 10·65
  assert.deepEqual(r.cost, costOf({ macs: 640, bias: 10, seed: 650 }));
  const f = run("com.microsoft::QGemm", [{ shape: [1, 64], dtype: "uint8" }, S, ZU8, W("int8", 10, 64), S, Z8, undefined], { transB: 1 });
  assert.equal(f.out[0].dtype, "float32");
});

test("QLinearAdd / QLinearMul broadcast A and B; one add / one multiply per output", () => {
  const x = { shape: [1, 4, 2, 2], dtype: "uint8" as const };
  const a = run("com.microsoft::QLinearAdd", [x, S, ZU8, { shape: [1, 4, 1, 1], dtype: "uint8" }, S, ZU8, S, ZU8]);
  assert.deepEqual(a.out[0], { dtype: "uint8", shape: [1, 4, 2, 2] });
  assert.deepEqual(a.cost, costOf({ add: 16 }));
  const m = run("QLinearMul", [x, S, ZU8, x, S, ZU8, S, ZU8]);
  assert.deepEqual(m.cost, costOf({ mul: 16 }));
});

test("QLinearSigmoid, QLinearLeakyRelu, QLinearSoftmax: the float activation's cost", () => {
  const x = { shape: [2, 5], dtype: "uint8" as const };
  const sig = run("com.microsoft::QLinearSigmoid", [x, S, ZU8, S, ZU8]);
  assert.deepEqual(sig.out[0], { dtype: "uint8", shape: [2, 5] });
  assert.deepEqual(sig.cost, run("Sigmoid", [{ shape: [2, 5] }]).cost);
  const lr = run("com.microsoft::QLinearLeakyRelu", [x, S, ZU8, S, ZU8], { alpha: 0.1 });
  // LeakyRelu: one compare and one multiply per element
  assert.deepEqual(lr.cost, costOf({ cmp: 10, mul: 10 }));
  const sm = run("com.microsoft::QLinearSoftmax", [x, S, ZU8, S, ZU8], { axis: -1 });
  assert.deepEqual(sm.cost, costOf({ cmp: 10, add: 20, exp: 10, div: 10 }));
});

test("QLinearGlobalAveragePool: NCHW and channels_last; QLinearAveragePool is AveragePool", () => {
  const x = { shape: [1, 8, 7, 7], dtype: "uint8" as const };
  const g = run("com.microsoft::QLinearGlobalAveragePool", [x, S, ZU8, S, ZU8], { channels_last: 0 });
  assert.deepEqual(g.out[0], { dtype: "uint8", shape: [1, 8, 1, 1] });
  // 392 inputs, 8 outputs: 384 adds, 8 divisions
  assert.deepEqual(g.cost, costOf({ add: 384, div: 8 }));
  assert.deepEqual(g.field, { kind: "global" });
  const nhwc = run("com.microsoft::QLinearGlobalAveragePool", [{ shape: [1, 7, 7, 8], dtype: "uint8" }, S, ZU8, S, ZU8], {
    channels_last: 1,
  });
  assert.deepEqual(nhwc.out[0].shape, [1, 1, 1, 8]);
  assert.deepEqual(nhwc.cost, costOf({ add: 384, div: 8 }));
  const ap = run("com.microsoft::QLinearAveragePool", [x, S, ZU8, S, ZU8], { kernel_shape: [7, 7] });
  assert.deepEqual(ap.out[0].shape, [1, 8, 1, 1]);
});

test("QLinearConcat: concatenates X1, X2 (every third input from the third) along axis", () => {
  const r = run(
    "com.microsoft::QLinearConcat",
    [S, ZU8, { shape: [1, 4, 5, 5], dtype: "uint8" }, S, ZU8, { shape: [1, 6, 5, 5], dtype: "uint8" }, S, ZU8],
    { axis: 1 },
  );
  assert.deepEqual(r.out[0], { dtype: "uint8", shape: [1, 10, 5, 5] });
  assertLayerError(() => run("com.microsoft::QLinearConcat", [S, ZU8, { shape: [1, 4], dtype: "uint8" }, S], { axis: 1 }), /2 \+ 3·k/);
});

test("QDQ graph: the int8 weight behind DequantizeLinear is the parameter (1 byte each), scales and zero points apart", () => {
  const r = analyzeGraph(
    { x: [1, 3, 8, 8] },
    {
      w_q: { shape: [4, 3, 3, 3], dtype: "int8" },
      b_q: { shape: [4], dtype: "int32" },
      w_s: { shape: [], dtype: "float32", value: [0.01] },
      w_z: { shape: [], dtype: "int8", value: [0] },
      b_s: { shape: [], dtype: "float32", value: [0.0001] },
      b_z: { shape: [], dtype: "int32", value: [0] },
      x_s: { shape: [], dtype: "float32", value: [0.02] },
      x_z: { shape: [], dtype: "uint8", value: [128] },
    },
    [
      { op: "QuantizeLinear", name: "q", inputs: ["x", "x_s", "x_z"] },
      { op: "DequantizeLinear", name: "dq", inputs: ["q", "x_s", "x_z"] },
      { op: "DequantizeLinear", name: "dqw", inputs: ["w_q", "w_s", "w_z"] },
      // A longer chain: the dequantized weight goes through an Identity before the conv.
      { op: "Identity", name: "idw", inputs: ["dqw"] },
      { op: "DequantizeLinear", name: "dqb", inputs: ["b_q", "b_s", "b_z"] },
      { op: "Conv", name: "conv", inputs: ["dq", "idw", "dqb"], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
    ],
  );
  // weight 4·3·3·3 = 108 int8 + bias 4 int32: 112 parameters, 108 + 16 = 124 bytes
  assert.equal(r.totals.params, 112);
  assert.equal(r.totals.stored_param_bytes, 124);
  assert.deepEqual(r.totals.stored_param_bytes_by_dtype, { int8: 108, int32: 16 });
  // 6 scale/zero-point scalars: 3 float (12 bytes), int8 1, int32 4, uint8 1 → 18 bytes
  assert.equal(r.totals.quant_params, 6);
  assert.equal(r.totals.quant_param_bytes, 18);
  // MACs of the float conv: 4·8·8 outputs · 27 = 6,912
  assert.equal(r.totals.macs, 6912);
  assert.equal(layer(r, "conv").params, 112);
  assert.equal(layer(r, "dqw").params, 0, "the folded dequantize is not a layer with weights of its own");
});

test("Literals are not parameters: a rank-0 constant anywhere, a single-element operand of Mul; PRelu's [1] slope is", () => {
  const r = analyzeGraph(
    { x: [1, 4, 2, 2] },
    {
      half: { shape: [], dtype: "float32" },
      scale: { shape: [1], dtype: "float32" },
      slope: { shape: [1], dtype: "float32" },
      gamma: { shape: [4, 1, 1], dtype: "float32" },
    },
    [
      { op: "Mul", name: "m0", inputs: ["x", "half"] },
      { op: "Mul", name: "m1", inputs: ["m0", "scale"] },
      { op: "PRelu", name: "p", inputs: ["m1", "slope"] },
      { op: "Mul", name: "ls", inputs: ["p", "gamma"] },
    ],
  );
  // slope 1 (learned, as torch's nn.PReLU()) + gamma 4 (a LayerScale)
  assert.equal(r.totals.params, 5);
  assert.equal(layer(r, "m0").params, 0);
  assert.equal(layer(r, "m1").params, 0);
});

test("Dynamic quantization: x_scale · w_scale is scale arithmetic (its constant is a quant param), the float bias a parameter", () => {
  const r = analyzeGraph(
    { x: [1, 3, 4, 4] },
    {
      w: { shape: [2, 3, 1, 1], dtype: "uint8" },
      w_z: { shape: [], dtype: "uint8", value: [128] },
      w_s: { shape: [], dtype: "float32", value: [0.5] },
      b: { shape: [1, 2, 1, 1], dtype: "float32" },
    },
    [
      { op: "DynamicQuantizeLinear", name: "dq", inputs: ["x"], outputs: ["xq", "xs", "xz"] },
      { op: "ConvInteger", name: "ci", inputs: ["xq", "w", "xz", "w_z"] },
      { op: "Cast", name: "cast", inputs: ["ci"], attrs: { to: 1 } },
      { op: "Mul", name: "s", inputs: ["xs", "w_s"] },
      { op: "Mul", name: "rescale", inputs: ["cast", "s"] },
      { op: "Add", name: "bias", inputs: ["rescale", "b"] },
    ],
  );
  // w 6 uint8 + b 2 float: 8 parameters, 6 + 8 bytes
  assert.equal(r.totals.params, 8);
  assert.equal(r.totals.stored_param_bytes, 14);
  // w_z (uint8) and w_s (float, reached through x_scale · w_s)
  assert.equal(r.totals.quant_params, 2);
  assert.equal(r.totals.quant_param_bytes, 5);
  // ConvInteger: 2·4·4 outputs · 3 = 96
  assert.equal(r.totals.macs, 96);
});

test("Upsample (opset 9): its float scales only carry sizes, a value and not a parameter", () => {
  const r = analyzeGraph(
    { x: [1, 2, 3, 3] },
    { scales: { shape: [4], dtype: "float32", value: [1, 1, 2, 2] } },
    [{ op: "Upsample", name: "up", inputs: ["x", "scales"], attrs: { mode: "nearest" } }],
    9,
  );
  assert.equal(r.totals.params, 0);
  assert.deepEqual(r.outputs[0].shape, [1, 2, 6, 6]);
});

test("Reduced precision: a bf16 weight cast to float for the conv is one parameter each, stored at 2 bytes", () => {
  const r = analyzeGraph({ x: [1, 2, 4, 4] }, { w16: { shape: [3, 2, 1, 1], dtype: "bfloat16" } }, [
    { op: "Cast", name: "cast", inputs: ["w16"], attrs: { to: 1 } },
    { op: "Conv", name: "conv", inputs: ["x", "cast"] },
  ]);
  assert.equal(r.totals.params, 6);
  assert.deepEqual(r.totals.stored_param_bytes_by_dtype, { bfloat16: 12 });
  // 3·4·4 outputs · 2 = 96
  assert.equal(r.totals.macs, 96);
});
