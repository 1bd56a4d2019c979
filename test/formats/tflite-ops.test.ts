import assert from "node:assert/strict";
import { test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import type { DType } from "../../src/core/dtype.js";
import { bufferSource, readModel } from "../../src/formats/index.js";
import { OPT, type WField, type WModel, type WOp, type WTensor, writeTflite } from "./tflite-writer.js";

/**
 * TFLite operators the converter emits for Keras/TF lowerings, each on a hand-sized model:
 * shape arithmetic on shape tensors, the dilated-conv triple, and the ops added with it.
 * Every expected number is worked out in the comment beside it.
 */

class Net {
  tensors: WTensor[] = [];
  ops: WOp[] = [];
  t(name: string, shape: number[], extra: Partial<WTensor> = {}): number {
    this.tensors.push({ name, shape, type: "float32", ...extra });
    return this.tensors.length - 1;
  }
  w(name: string, shape: number[], type: DType = "float32", quantized = false): number {
    return this.t(name, shape, { weight: true, type, quantized });
  }
  ints(name: string, values: number[], shape = [values.length]): number {
    return this.t(name, shape, { ints: values, type: "int32" });
  }
  i32(name: string, shape: number[]): number {
    return this.t(name, shape, { type: "int32" });
  }
  op(op: string, inputs: number[], outputs: number[], type?: number, fields: WField[] = []): number {
    this.ops.push({ op, inputs, outputs, ...(type ? { options: { type, fields } } : {}) });
    return outputs[0];
  }
  model(inputs: number[], outputs: number[]): WModel {
    return { tensors: this.tensors, inputs, outputs, ops: this.ops };
  }
}

function run(m: WModel, opts: { batch?: number } = {}) {
  const g = readModel(bufferSource("t.tflite", writeTflite(m)));
  return { g, r: analyze(g, opts) };
}

const conv = (pad: number, s = 1): WField[] => [
  [0, "i8", pad],
  [1, "i32", s],
  [2, "i32", s],
];
const SAME = 0;
const VALID = 1;
// BuiltinOptions union positions (schema.fbs) not in the writer's OPT table.
const O = { SpaceToDepth: 19, TopKV2: 34, Split: 35, Pack: 59, Unpack: 64, DepthToSpace: 94, BatchMatMul: 101, Tile: 51, Shape: 55 };

test("Dense on a rank-3 input as the converter lowers it: SHAPE/STRIDED_SLICE/PACK/GATHER/REDUCE_PROD + RESHAPE resolve from the bound batch", () => {
  const n = new Net();
  // x: [N, 4, 4, 8], N dynamic; the placeholder shape says 1.
  const x = n.t("x", [1, 4, 4, 8], { signature: [-1, 4, 4, 8] });
  // tokens = reshape(x, [N, 16, 8]) with N = shape(x)[0].
  const sh = n.op("SHAPE", [x], [n.i32("sh", [4])], O.Shape, []);
  const nb = n.op("STRIDED_SLICE", [sh, n.ints("b0", [0]), n.ints("e1", [1]), n.ints("s1", [1])], [n.i32("nb", [])], OPT.StridedSlice, [
    [4, "i32", 1],
  ]);
  const tshape = n.op("PACK", [nb, n.ints("c16", [16], []), n.ints("c8", [8], [])], [n.i32("tshape", [3])], O.Pack, [
    [0, "i32", 3],
    [1, "i32", 0],
  ]);
  const tok = n.op("RESHAPE", [x, tshape], [n.t("tok", [1, 16, 8], { signature: [-1, 16, 8] })], OPT.Reshape);
  // flat = reshape(tok, [prod(shape(tok)[0:2]), 8]), the placeholder [1, 1] / signature [−1, −1].
  const sh2 = n.op("SHAPE", [tok], [n.i32("sh2", [3])], O.Shape, []);
  const lead = n.op("GATHER", [sh2, n.ints("idx01", [0, 1])], [n.i32("lead", [2])], 23, [[0, "i32", 0]]);
  const rows = n.op("REDUCE_PROD", [lead, n.ints("ax0", [0])], [n.i32("rows", [])], OPT.Reducer, [[0, "bool", false]]);
  const fshape = n.op("PACK", [rows, n.ints("k8", [8], [])], [n.i32("fshape", [2])], O.Pack, [
    [0, "i32", 2],
    [1, "i32", 0],
  ]);
  const flat = n.op("RESHAPE", [tok, fshape], [n.t("flat", [1, 1], { signature: [-1, -1] })], OPT.Reshape);
  const y = n.op(
    "FULLY_CONNECTED",
    [flat, n.w("w", [3, 8]), n.w("b", [3])],
    [n.t("y", [1, 3], { signature: [-1, 3] })],
    OPT.FullyConnected,
    [[0, "i8", 0]],
  );
  const { r } = run(n.model([x], [y]));
  assert.equal(r.totals.unknown_layers, 0);
  // Batch 1: 16 rows of 8 → 3: MACs 16·8·3 = 384; params 24 + 3 = 27.
  assert.deepEqual(r.outputs[0].shape, [16, 3]);
  // tokens [1, 16, 8] are rank 3, shown channels-first like every rank ≥ 3 tensor.
  assert.deepEqual(r.tensors.tok.shape, [1, 8, 16]);
  assert.equal(r.totals.macs, 384);
  assert.equal(r.totals.params, 27);
  // Batch 3: the same arithmetic gives 48 rows; 3 · 384 = 1152 MACs for the batch.
  const r3 = run(n.model([x], [y]), { batch: 3 }).r;
  assert.deepEqual(r3.outputs[0].shape, [48, 3]);
  assert.equal(r3.batch_totals.macs, 1152);
});

test("UpSampling2D lowering: EXPAND_DIMS + TILE + RESHAPE doubles the rows; shapes channels-first throughout", () => {
  const n = new Net();
  const x = n.t("x", [1, 3, 5, 4]);
  // [1,3,5,4] → expand at 2 → [1,3,1,5,4] → tile [1,1,2,1,1] → [1,3,2,5,4] → reshape [1,6,5,4].
  const ex = n.op("EXPAND_DIMS", [x, n.ints("a2", [2], [])], [n.t("ex", [1, 3, 1, 5, 4])]);
  const ti = n.op("TILE", [ex, n.ints("mult", [1, 1, 2, 1, 1])], [n.t("ti", [1, 3, 2, 5, 4])], O.Tile, []);
  const y = n.op("RESHAPE", [ti, n.ints("to", [1, 6, 5, 4])], [n.t("y", [1, 6, 5, 4])], OPT.Reshape);
  const { r } = run(n.model([x], [y]));
  assert.equal(r.totals.unknown_layers, 0);
  assert.deepEqual(r.tensors.ex.shape, [1, 4, 3, 1, 5]);
  assert.deepEqual(r.tensors.ti.shape, [1, 4, 3, 2, 5]);
  assert.deepEqual(r.outputs[0].shape, [1, 4, 6, 5]);
  // Pure data movement: no MACs.
  assert.equal(r.totals.macs, 0);
});

test("RESHAPE that moves the channel axis runs in the file's order: [1,2,2,6] → [1,4,6] → [1,4,3,2]", () => {
  const n = new Net();
  const x = n.t("x", [1, 2, 2, 6]);
  const a = n.op("RESHAPE", [x, n.ints("s1", [1, 4, 6])], [n.t("a", [1, 4, 6])], OPT.Reshape);
  const b = n.op("RESHAPE", [a, n.ints("s2", [1, 4, 3, 2])], [n.t("b", [1, 4, 3, 2])], OPT.Reshape);
  const { r } = run(n.model([x], [b]));
  // a keeps the last axis (6): channels-first [1, 6, 4]; b splits it (6 → 3·2), so it is
  // reshaped in file order and transposed to channels-first [1, 2, 4, 3].
  assert.deepEqual(r.tensors.a.shape, [1, 6, 4]);
  assert.deepEqual(r.outputs[0].shape, [1, 2, 4, 3]);
  const ops = r.layers.map((l) => l.op);
  assert.deepEqual(ops, ["Reshape", "Transpose", "Reshape", "Transpose"]);
});

/** SPACE_TO_BATCH_ND(block 2, pads) → conv → BATCH_TO_SPACE_ND(block 2, crops) on an h×w×2 input. */
function dilated(h: number, pads: number[], crops: number[], inner: number, op = "CONV_2D") {
  const n = new Net();
  const x = n.t("x", [1, h, h, 2]);
  const ph = (h + pads[0] + pads[1]) / 2;
  const sb = n.op("SPACE_TO_BATCH_ND", [x, n.ints("block", [2, 2]), n.ints("pads", pads, [2, 2])], [n.t("sb", [4, ph, ph, 2])]);
  const k = 3;
  const co = inner === SAME ? ph : ph - k + 1;
  const cout = op === "CONV_2D" ? 4 : 2;
  const w = op === "CONV_2D" ? n.w("w", [4, 3, 3, 2]) : n.w("w", [1, 3, 3, 2]);
  const fields: WField[] = op === "CONV_2D" ? conv(inner) : [...conv(inner), [3, "i32", 1]];
  const cv = n.op(
    op,
    [sb, w, n.w("b", [cout])],
    [n.t("cv", [4, co, co, cout])],
    op === "CONV_2D" ? OPT.Conv2D : OPT.DepthwiseConv2D,
    fields,
  );
  const out = 2 * co - crops[0] - crops[1];
  const y = n.op("BATCH_TO_SPACE_ND", [cv, n.ints("block2", [2, 2]), n.ints("crops", crops, [2, 2])], [n.t("y", [1, out, out, cout])]);
  return run(n.model([x], [y])).r;
}

test("SPACE_TO_BATCH_ND → CONV_2D (VALID) → BATCH_TO_SPACE_ND is one 3×3 conv with dilation 2", () => {
  // 10×10, pads 2/2: phase images 14/2 = 7, VALID 3×3 → 5, woven back → 10.
  const r = dilated(10, [2, 2, 2, 2], [0, 0, 0, 0], VALID);
  assert.deepEqual(
    r.layers.map((l) => [l.op, l.source]),
    [["Conv", "CONV_2D"]],
  );
  assert.deepEqual(r.outputs[0].shape, [1, 4, 10, 10]);
  // MACs 10·10·4 outputs × 3·3·2 = 7200 (the phase convs do 4 · 5·5·4 · 18 = 7200 too).
  assert.equal(r.layers[0].macs, 7200);
  // Field: effective kernel 1 + 2·(3 − 1) = 5, padding 2.
  assert.deepEqual(r.tensors.y.rf, { size: [5, 5], stride: [1, 1], padding: [2, 2], aligned: true });
});

test("dilated conv on an odd size: pads 2/3 and crops 0/1 give pads 2/2 (9 → 9)", () => {
  // 9 + 2 + 3 = 14 → 7 → VALID 5 → 10, crop 1 at the end → 9: the same as pads [2, 2].
  const r = dilated(9, [2, 3, 2, 3], [0, 1, 0, 1], VALID);
  assert.deepEqual(r.outputs[0].shape, [1, 4, 9, 9]);
  // 9·9·4 × 18 = 5832.
  assert.equal(r.totals.macs, 5832);
  assert.deepEqual(r.tensors.y.rf, { size: [5, 5], stride: [1, 1], padding: [2, 2], aligned: true });
});

test("dilated conv whose phase conv pads itself (SAME): 1 phase pixel is 2 image pixels", () => {
  // 8×8 unpadded → 4 phase images 4×4, SAME 3×3 pads 1/1 each → 4×4 → 8×8: pads 0 + 2·1 = 2.
  const r = dilated(8, [0, 0, 0, 0], [0, 0, 0, 0], SAME);
  assert.deepEqual(r.outputs[0].shape, [1, 4, 8, 8]);
  // 8·8·4 × 18 = 4608.
  assert.equal(r.totals.macs, 4608);
  assert.deepEqual(r.tensors.y.rf, { size: [5, 5], stride: [1, 1], padding: [2, 2], aligned: true });
});

test("dilated depthwise conv (DeepLab's atrous depthwise): one depthwise conv, group = channels", () => {
  const r = dilated(10, [2, 2, 2, 2], [0, 0, 0, 0], VALID, "DEPTHWISE_CONV_2D");
  assert.deepEqual(r.outputs[0].shape, [1, 2, 10, 10]);
  // 10·10·2 outputs × 9 = 1800 MACs; params 2·9 + 2 = 20.
  assert.equal(r.totals.macs, 1800);
  assert.equal(r.totals.params, 20);
});

test("float16 weights through DEQUANTIZE: counted once, stored at 2 bytes; MACs as float", () => {
  const n = new Net();
  const x = n.t("x", [1, 6, 6, 3]);
  const w16 = n.w("w16", [8, 3, 3, 3], "float16");
  const b16 = n.w("b16", [8], "float16");
  const w = n.op("DEQUANTIZE", [w16], [n.t("w", [8, 3, 3, 3])]);
  const b = n.op("DEQUANTIZE", [b16], [n.t("b", [8])]);
  const y = n.op("CONV_2D", [x, w, b], [n.t("y", [1, 4, 4, 8])], OPT.Conv2D, conv(VALID));
  const { r } = run(n.model([x], [y]));
  // 4·4·8 × 27 = 3456 MACs; params 216 + 8 = 224, stored 448 bytes as float16.
  assert.equal(r.totals.macs, 3456);
  assert.equal(r.totals.params, 224);
  assert.equal(r.totals.stored_param_bytes, 448);
  assert.deepEqual(r.totals.stored_param_bytes_by_dtype, { float16: 448 });
  assert.deepEqual(
    r.layers.map((l) => l.op),
    ["Conv"],
  );
});

test("full-integer int8: QUANTIZE in, int8 conv weights (scales not parameters), DEQUANTIZE out", () => {
  const n = new Net();
  const x = n.t("x", [1, 6, 6, 3]);
  const q = n.op("QUANTIZE", [x], [n.t("q", [1, 6, 6, 3], { type: "int8", quantized: true })]);
  const y = n.op(
    "CONV_2D",
    [q, n.w("w", [8, 3, 3, 3], "int8", true), n.w("b", [8], "int32", true)],
    [n.t("yq", [1, 4, 4, 8], { type: "int8", quantized: true })],
    OPT.Conv2D,
    conv(VALID),
  );
  const z = n.op("DEQUANTIZE", [y], [n.t("z", [1, 4, 4, 8])]);
  const { r } = run(n.model([x], [z]));
  assert.equal(r.totals.macs, 3456);
  // 216 int8 weights (1 byte) + 8 int32 biases (4 bytes) = 248 bytes; 224 parameters.
  assert.equal(r.totals.params, 224);
  assert.equal(r.totals.stored_param_bytes, 248);
  assert.deepEqual(
    r.layers.map((l) => l.op),
    ["Cast", "Conv", "Cast"],
  );
});

test("DEPTH_TO_SPACE / SPACE_TO_DEPTH: block 2 moves 4 channels per pixel", () => {
  const n = new Net();
  const x = n.t("x", [1, 2, 3, 8]);
  const d = n.op("DEPTH_TO_SPACE", [x], [n.t("d", [1, 4, 6, 2])], O.DepthToSpace, [[0, "i32", 2]]);
  const s = n.op("SPACE_TO_DEPTH", [d], [n.t("s", [1, 2, 3, 8])], O.SpaceToDepth, [[0, "i32", 2]]);
  const { r } = run(n.model([x], [s]));
  // [1,2,3,8] → [1, 8/4 = 2, 4, 6] channels-first → back to [1, 8, 2, 3].
  assert.deepEqual(r.tensors.d.shape, [1, 2, 4, 6]);
  assert.deepEqual(r.outputs[0].shape, [1, 8, 2, 3]);
  assert.equal(r.totals.unknown_layers, 0);
  // DepthToSpace row o reads input row ⌊o/2⌋; SpaceToDepth row o reads rows 2o, 2o+1 of
  // that, i.e. input rows ⌊2o/2⌋ = ⌊(2o+1)/2⌋ = o: the round trip is a 1-pixel field.
  assert.deepEqual(r.tensors.s.rf, { size: [1, 1], stride: [1, 1], padding: [0, 0], aligned: true });
  assert.deepEqual((r.tensors.d.rf as { size: number[] }).size, [1, 1]);
});

test("TOPK_V2 on the last axis: values and indices [1, k]; ⌈log2(k+1)⌉ comparisons per element", () => {
  const n = new Net();
  const x = n.t("x", [1, 10]);
  const v = n.t("v", [1, 3]);
  const i = n.i32("i", [1, 3]);
  n.op("TOPK_V2", [x, n.ints("k", [3], [])], [v, i], O.TopKV2, []);
  const { r } = run(n.model([x], [v, i]));
  assert.deepEqual(
    r.outputs.map((o) => o.shape),
    [
      [1, 3],
      [1, 3],
    ],
  );
  // 10 elements × ⌈log2 4⌉ = 2 → 20 comparisons.
  assert.equal(r.layers[0].cost?.cmp, 20);
});

test("BATCH_MATMUL [2,3,4]·[2,5,4]ᵀ (adj_y): [2,3,5], MACs 2·3·4·5 = 120", () => {
  const n = new Net();
  const a = n.t("a", [2, 3, 4]);
  const b = n.t("b", [2, 5, 4]);
  const y = n.op("BATCH_MATMUL", [a, b], [n.t("y", [2, 3, 5])], O.BatchMatMul, [
    [0, "bool", false],
    [1, "bool", true],
  ]);
  const { r } = run(n.model([a, b], [y]));
  // The first dim (2) is taken as the batch: 60 per image, 120 for the whole.
  assert.equal(r.batch_totals.macs, 120);
  assert.equal(r.totals.macs, 60);
  // The batched [2, 3, 5] result keeps the file's order (its last axis is a matrix column, not a channel).
  assert.deepEqual(r.outputs[0].shape, [2, 3, 5]);
});

test("UNPACK and SPLIT: pieces along an axis, each with its own shape", () => {
  const n = new Net();
  const x = n.t("x", [1, 4, 4, 6]);
  const p0 = n.t("p0", [1, 4, 4, 3]);
  const p1 = n.t("p1", [1, 4, 4, 3]);
  n.op("SPLIT", [n.ints("ax3", [3], []), x], [p0, p1], O.Split, [[0, "i32", 2]]);
  const u = [0, 1, 2, 3].map((k) => n.t(`u${k}`, [1, 4, 3]));
  n.op("UNPACK", [p0], u, O.Unpack, [
    [0, "i32", 4],
    [1, "i32", 1],
  ]);
  const { r } = run(n.model([x], [p1, ...u]));
  assert.equal(r.totals.unknown_layers, 0);
  assert.deepEqual(r.tensors.p1.shape, [1, 3, 4, 4]);
  // Unpacking the rows (file axis 1) of [1,4,4,3]: four [1,4,3], channels-first [1,3,4].
  assert.deepEqual(r.tensors.u3.shape, [1, 3, 4]);
});
