import assert from "node:assert/strict";
import { test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import type { DType } from "../../src/core/dtype.js";
import { ConvscopeError } from "../../src/core/errors.js";
import { bufferSource, readModel } from "../../src/formats/index.js";
import { MOBILENET_V1_BLOCKS } from "../support/mobilenet-v1.js";
import { OPT, type WField, type WModel, type WOp, type WTensor, writeTflite } from "./tflite-writer.js";

/** A tiny model builder over the test writer: tensors by name, ops in order. */
class Net {
  tensors: WTensor[] = [];
  ops: WOp[] = [];
  constructor(private readonly type: DType = "float32") {}
  t(name: string, shape: number[], extra: Partial<WTensor> = {}): number {
    this.tensors.push({ name, shape, type: this.type, ...extra });
    return this.tensors.length - 1;
  }
  w(name: string, shape: number[], type: DType = this.type): number {
    return this.t(name, shape, { weight: true, type, quantized: type !== "float32" });
  }
  ints(name: string, values: number[], shape = [values.length]): number {
    return this.t(name, shape, { ints: values, type: "int32" });
  }
  op(op: string, inputs: number[], outputs: number[], type?: number, fields: WField[] = []): number {
    this.ops.push({ op, inputs, outputs, ...(type ? { options: { type, fields } } : {}) });
    return outputs[0];
  }
  model(inputs: number[], outputs: number[], extra: Partial<WModel> = {}): WModel {
    return { tensors: this.tensors, inputs, outputs, ops: this.ops, ...extra };
  }
}

function run(m: WModel, name = "t.tflite") {
  const g = readModel(bufferSource(name, writeTflite(m)));
  return { g, r: analyze(g) };
}

// Conv2DOptions fields: padding(0: SAME, 1: VALID), stride_w, stride_h, fused activation (3 = RELU6).
const conv = (pad: number, s: number, act = 0): WField[] => [
  [0, "i8", pad],
  [1, "i32", s],
  [2, "i32", s],
  [3, "i8", act],
];
const dwconv = (pad: number, s: number, act = 0): WField[] => [
  [0, "i8", pad],
  [1, "i32", s],
  [2, "i32", s],
  [3, "i32", 1],
  [4, "i8", act],
];

test("CONV_2D with fused RELU6: shapes channels-first, MACs, params, the extra activation node", () => {
  const n = new Net();
  const x = n.t("in", [1, 9, 9, 3]);
  const y = n.op("CONV_2D", [x, n.w("w", [8, 3, 3, 3]), n.w("b", [8])], [n.t("y", [1, 5, 5, 8])], OPT.Conv2D, conv(0, 2, 3));
  const { g, r } = run(n.model([x], [y]));
  assert.deepEqual(r.inputs[0].shape, [1, 3, 9, 9]);
  // SAME, stride 2: ceil(9/2) = 5 → [1, 8, 5, 5].
  assert.deepEqual(r.outputs[0].shape, [1, 8, 5, 5]);
  // MACs = 5·5·8 outputs × 3·3·3 = 200 × 27 = 5400; params = 8·27 + 8 = 224.
  assert.equal(r.totals.macs, 5400);
  assert.equal(r.totals.params, 224);
  assert.deepEqual(
    r.layers.map((l) => [l.name, l.op]),
    [
      ["y", "Conv"],
      ["y/relu6", "Clip"],
    ],
  );
  assert.equal(r.layers[0].source, "CONV_2D");
  assert.ok(g.notes.some((s) => s.includes("channels-first")));
});

test("DEPTHWISE_CONV_2D: weights [1, kh, kw, C·dm] → group C; depth multiplier 2", () => {
  const n = new Net();
  const x = n.t("in", [1, 8, 8, 4]);
  const y = n.op("DEPTHWISE_CONV_2D", [x, n.w("w", [1, 3, 3, 8]), n.w("b", [8])], [n.t("y", [1, 6, 6, 8])], OPT.DepthwiseConv2D, [
    [0, "i8", 1],
    [1, "i32", 1],
    [2, "i32", 1],
    [3, "i32", 2],
    [4, "i8", 1],
  ]);
  const { r } = run(n.model([x], [y]));
  // VALID 3×3: 8−3+1 = 6 → [1, 8, 6, 6]; MACs = 6·6·8 × 9 = 2592; params = 72 + 8 = 80.
  assert.deepEqual(r.outputs[0].shape, [1, 8, 6, 6]);
  assert.equal(r.totals.macs, 2592);
  assert.equal(r.totals.params, 80);
  assert.equal(r.layers[1].op, "Relu");
  assert.equal(r.layers[1].name, "y/relu");
});

test("FULLY_CONNECTED flattens a 4-d input; weights [out, in]", () => {
  const n = new Net();
  const x = n.t("in", [1, 2, 2, 5]);
  const y = n.op("FULLY_CONNECTED", [x, n.w("w", [10, 20]), n.w("b", [10])], [n.t("y", [1, 10])], OPT.FullyConnected, [[0, "i8", 0]]);
  const { r } = run(n.model([x], [y]));
  // 1·2·2·5 = 20 features → 10: MACs 200, params 210.
  assert.deepEqual(r.outputs[0].shape, [1, 10]);
  assert.equal(r.totals.macs, 200);
  assert.equal(r.totals.params, 210);
});

test("pools, ADD with broadcast bias, CONCATENATION on channels, MEAN, RESHAPE, SOFTMAX", () => {
  const n = new Net();
  const x = n.t("in", [1, 8, 8, 4]);
  const mp = n.op("MAX_POOL_2D", [x], [n.t("mp", [1, 4, 4, 4])], OPT.Pool2D, [
    [0, "i8", 1],
    [1, "i32", 2],
    [2, "i32", 2],
    [3, "i32", 2],
    [4, "i32", 2],
    [5, "i8", 0],
  ]);
  const ap = n.op("AVERAGE_POOL_2D", [x], [n.t("ap", [1, 4, 4, 4])], OPT.Pool2D, [
    [0, "i8", 0],
    [1, "i32", 2],
    [2, "i32", 2],
    [3, "i32", 3],
    [4, "i32", 3],
    [5, "i8", 0],
  ]);
  const add = n.op("ADD", [ap, n.w("bias", [4])], [n.t("add", [1, 4, 4, 4])], OPT.Add, [[0, "i8", 1]]);
  const cat = n.op("CONCATENATION", [mp, add], [n.t("cat", [1, 4, 4, 8])], OPT.Concatenation, [
    [0, "i32", 3],
    [1, "i8", 0],
  ]);
  const mean = n.op("MEAN", [cat, n.ints("axes", [1, 2])], [n.t("mean", [1, 8])], OPT.Reducer, [[0, "bool", false]]);
  const rs = n.op("RESHAPE", [mean, n.ints("shape", [1, 1, 1, 8])], [n.t("rs", [1, 1, 1, 8])], OPT.Reshape, [[0, "i32s", [1, 1, 1, 8]]]);
  const sm = n.op("SOFTMAX", [rs], [n.t("sm", [1, 1, 1, 8])], OPT.Softmax, [[0, "f32", 1]]);
  const { r } = run(n.model([x], [sm]));
  const shape = (t: string) => r.tensors[t]?.shape;
  assert.deepEqual(shape("mp"), [1, 4, 4, 4]);
  assert.deepEqual(shape("add"), [1, 4, 4, 4]);
  // Concatenation on file axis 3 (channels) is IR axis 1: 4 + 4 = 8 channels.
  assert.deepEqual(shape("cat"), [1, 8, 4, 4]);
  assert.deepEqual(shape("mean"), [1, 8]);
  assert.deepEqual(shape("rs"), [1, 8, 1, 1]);
  assert.deepEqual(r.outputs[0].shape, [1, 8, 1, 1]);
  // The bias [4] broadcasts over channels (claimed as [1, 4, 1, 1]) and counts 4 params.
  assert.equal(r.totals.params, 4);
  assert.equal(r.layers.find((l) => l.name === "add/relu")?.op, "Relu");
});

test("PAD, RESIZE_BILINEAR (half-pixel), TRANSPOSE_CONV with output_shape", () => {
  const n = new Net();
  const x = n.t("in", [1, 4, 4, 2]);
  const p = n.op("PAD", [x, n.ints("pads", [0, 0, 1, 1, 2, 2, 0, 0], [4, 2])], [n.t("p", [1, 6, 8, 2])], OPT.Pad);
  const up = n.op("RESIZE_BILINEAR", [p, n.ints("size", [12, 16])], [n.t("up", [1, 12, 16, 2])], OPT.ResizeBilinear, [
    [2, "bool", false],
    [3, "bool", true],
  ]);
  const tc = n.op(
    "TRANSPOSE_CONV",
    [n.ints("out_shape", [1, 24, 32, 3]), n.w("tw", [3, 2, 2, 2]), up],
    [n.t("tc", [1, 24, 32, 3])],
    OPT.TransposeConv,
    [
      [0, "i8", 1],
      [1, "i32", 2],
      [2, "i32", 2],
    ],
  );
  const { g, r } = run(n.model([x], [tc]));
  assert.deepEqual(r.tensors.p?.shape, [1, 2, 6, 8]);
  assert.deepEqual(r.tensors.up?.shape, [1, 2, 12, 16]);
  assert.equal(g.nodes.find((nd) => nd.name === "up")?.attrs.coordinate_transformation_mode, "half_pixel");
  assert.deepEqual(r.outputs[0].shape, [1, 3, 24, 32]);
  // ConvTranspose MACs = input positions 12·16 × C_in 2 × C_out 3 × 2·2 = 192 · 24 = 4608.
  assert.equal(r.totals.macs, 4608);
  assert.equal(r.totals.params, 24);
});

test("activations, QUANTIZE/DEQUANTIZE as Casts, unknown ops reported, subgraphs noted", () => {
  const n = new Net();
  const x = n.t("in", [1, 4, 4, 2]);
  const a = n.op("LOGISTIC", [x], [n.t("a", [1, 4, 4, 2])]);
  const b = n.op("HARD_SWISH", [a], [n.t("b", [1, 4, 4, 2])]);
  const c = n.op("RELU6", [b], [n.t("c", [1, 4, 4, 2])]);
  const q = n.op("QUANTIZE", [c], [n.t("q", [1, 4, 4, 2], { type: "int8", quantized: true })]);
  const d = n.op("DEQUANTIZE", [q], [n.t("d", [1, 4, 4, 2])]);
  const s2d = n.op("SPACE_TO_DEPTH", [d], [n.t("s2d", [1, 2, 2, 8])], 19, [[0, "i32", 2]]);
  const u = n.op("REVERSE_SEQUENCE", [s2d], [n.t("u", [1, 2, 2, 8])]);
  const { g, r } = run(n.model([x], [u], { extraSubgraphs: 1 }));
  assert.deepEqual(
    r.layers.map((l) => l.op),
    ["Sigmoid", "HardSwish", "Clip", "Cast", "Cast", "SpaceToDepth", "tflite::REVERSE_SEQUENCE"],
  );
  assert.equal(r.tensors.q?.dtype, "int8");
  // 1·4·4·2 = 32 int8 elements = 32 bytes (not 128 as float32).
  assert.equal(r.tensors.q?.bytes, 32);
  assert.equal(r.totals.unknown_layers, 1);
  // The unknown op keeps the declared output shape (channels-first).
  assert.deepEqual(r.outputs[0].shape, [1, 8, 2, 2]);
  assert.ok(g.notes.some((s) => s.includes("subgraph 1 not analysed")));
});

test("deprecated_builtin_code only (old converters) is read", () => {
  const n = new Net();
  const x = n.t("in", [1, 4]);
  n.ops.push({ op: "RELU", inputs: [x], outputs: [n.t("y", [1, 4])], deprecatedOnly: true });
  const { r } = run(n.model([x], [1]));
  assert.equal(r.layers[0].op, "Relu");
});

/** MobileNet v1 1.0 224 as a TFLite converter writes it: BN folded into conv biases, RELU6 fused. */
function mobilenetV1(type: DType): WModel {
  const q = type !== "float32";
  const n = new Net(type);
  const input = n.t("input", [1, 224, 224, 3], { quantized: q });
  const biasType: DType = q ? "int32" : "float32";
  let x = input;
  let s = 112;
  let c = 32;
  x = n.op(
    "CONV_2D",
    [x, n.w("conv0/w", [32, 3, 3, 3]), n.w("conv0/b", [32], biasType)],
    [n.t("conv0", [1, s, s, 32], { quantized: q })],
    OPT.Conv2D,
    conv(0, 2, 3),
  );
  const cfg = MOBILENET_V1_BLOCKS;
  cfg.forEach(([out, stride], i) => {
    s /= stride;
    x = n.op(
      "DEPTHWISE_CONV_2D",
      [x, n.w(`dw${i}/w`, [1, 3, 3, c]), n.w(`dw${i}/b`, [c], biasType)],
      [n.t(`dw${i}`, [1, s, s, c], { quantized: q })],
      OPT.DepthwiseConv2D,
      dwconv(0, stride, 3),
    );
    x = n.op(
      "CONV_2D",
      [x, n.w(`pw${i}/w`, [out, 1, 1, c]), n.w(`pw${i}/b`, [out], biasType)],
      [n.t(`pw${i}`, [1, s, s, out], { quantized: q })],
      OPT.Conv2D,
      conv(0, 1, 3),
    );
    c = out;
  });
  x = n.op("AVERAGE_POOL_2D", [x], [n.t("pool", [1, 1, 1, 1024], { quantized: q })], OPT.Pool2D, [
    [0, "i8", 1],
    [1, "i32", 7],
    [2, "i32", 7],
    [3, "i32", 7],
    [4, "i32", 7],
    [5, "i8", 0],
  ]);
  x = n.op(
    "FULLY_CONNECTED",
    [x, n.w("fc/w", [1000, 1024]), n.w("fc/b", [1000], biasType)],
    [n.t("logits", [1, 1000], { quantized: q })],
    OPT.FullyConnected,
    [[0, "i8", 0]],
  );
  x = n.op("SOFTMAX", [x], [n.t("prob", [1, 1000], { quantized: q })], OPT.Softmax, [[0, "f32", 1]]);
  return n.model([input], [x]);
}

// Independent count (by hand, per layer): conv weights 864 + Σ depthwise 9·C + Σ pointwise C_in·C_out = 3,185,088;
// conv biases (BN folded) = Σ output channels = 10,944; FC 1024·1000 + 1000 = 1,025,000 → 4,221,032 params.
// Keras' MobileNet (alpha 1.0, 224, 1000 classes) reports 4,253,864 = the same minus 10,944 biases plus
// 43,776 BN parameters (4 per channel) — the published Keras figure; the paper gives ≈4.2 M and 569 M mult-adds.
// MACs: conv + depthwise + pointwise + FC = 568,740,352 (the paper's "569 million mult-adds").
test("MobileNet v1 1.0 224 (float32): 4,221,032 params, 568,740,352 MACs", () => {
  const { r } = run(mobilenetV1("float32"), "mobilenet_v1_1.0_224.tflite");
  assert.deepEqual(r.outputs[0].shape, [1, 1000]);
  assert.equal(r.totals.params, 4_221_032);
  assert.equal(r.totals.macs, 568_740_352);
  assert.equal(r.totals.stored_param_bytes, 4_221_032 * 4);
  assert.equal(r.totals.unknown_layers, 0);
  // 28 convolutions, each with a fused RELU6 as its own Clip layer.
  assert.equal(r.layers.filter((l) => l.op === "Clip").length, 27);
});

test("MobileNet v1 int8: tensors sized by their real types", () => {
  const { g, r } = run(mobilenetV1("int8"), "mobilenet_v1_int8.tflite");
  assert.equal(r.totals.macs, 568_740_352);
  assert.equal(g.tensors.get("conv0/w")?.dtype, "int8");
  assert.equal(g.tensors.get("conv0/b")?.dtype, "int32");
  // First conv output 112·112·32 int8 = 401,408 bytes.
  assert.equal(r.tensors.conv0?.bytes, 401_408);
  // Weights 3,185,088 + 1,024,000 int8 bytes, biases (10,944 + 1,000)·4 int32 bytes = 4,256,864 bytes in the file.
  const stored = [...g.tensors.values()].reduce((a, t) => a + (t.initializer?.byteLength ?? 0), 0);
  assert.equal(stored, 4_209_088 + 47_776);
});

test("MobileNet v1 int8: quantized weights and int32 biases count as parameters", () => {
  const { r } = run(mobilenetV1("int8"), "mobilenet_v1_int8.tflite");
  assert.equal(r.totals.params, 4_221_032);
});

test("malformed files: one-line errors naming the file and byte offset, no hang", () => {
  const n = new Net();
  const x = n.t("in", [1, 4, 4, 2]);
  n.op("RELU", [x], [n.t("y", [1, 4, 4, 2])]);
  const bytes = writeTflite(n.model([x], [1]));
  for (const cut of [9, 16, 40, bytes.length >> 1, bytes.length - 8]) {
    const truncated = bytes.slice(0, cut);
    assert.throws(
      () => readModel(bufferSource("cut.tflite", truncated)),
      (e: unknown) => e instanceof ConvscopeError && e.file === "cut.tflite" && !e.oneLine().includes("\n"),
      `cut at ${cut}`,
    );
  }
  // A root offset pointing past the end.
  const bad = bytes.slice();
  new DataView(bad.buffer).setUint32(0, 0x7fffff00, true);
  assert.throws(
    () => readModel(bufferSource("bad.tflite", bad)),
    (e: unknown) => e instanceof ConvscopeError && /byte offset \d+/.test(e.message) && e.file === "bad.tflite",
  );
});
