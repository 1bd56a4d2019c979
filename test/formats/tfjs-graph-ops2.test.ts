import assert from "node:assert/strict";
import { test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { bufferSource, readModel } from "../../src/formats/index.js";

/**
 * TensorFlow ops added for real TF.js graph models: transposed conv (Conv2DBackpropInput),
 * DepthToSpace / SpaceToDepth, the SpaceToBatchND → conv → BatchToSpaceND dilated conv,
 * BatchMatMulV2, TopKV2, SparseToDense, Size, BroadcastTo, Atan2, ZerosLike. Shapes in
 * comments are NHWC as TensorFlow has them; asserted ones are the IR's channels-first order.
 */

type Node = { name: string; op: string; input?: string[]; attr?: Record<string, unknown> };

const b64 = (x: string) => btoa(x);
const ints = (...i: number[]) => ({ list: { i: i.map(String) } });
const str = (s: string) => ({ s: b64(s) });

function input(name: string, dims: number[]): Node {
  return {
    name,
    op: "Placeholder",
    attr: { dtype: { type: "DT_FLOAT" }, shape: { shape: { dim: dims.map((d) => ({ size: String(d) })) } } },
  };
}

function vec(name: string, values: number[], shape: number[] = [values.length]): Node {
  const tensorShape = { dim: shape.map((d) => ({ size: String(d) })) };
  return {
    name,
    op: "Const",
    attr: { dtype: { type: "DT_INT32" }, value: { tensor: { dtype: "DT_INT32", tensorShape, intVal: values } } },
  };
}

function run(nodes: Node[], weights: { name: string; shape: number[] }[] = []) {
  const json = {
    format: "graph-model",
    modelTopology: { node: nodes },
    weightsManifest: [{ paths: ["w.bin"], weights: weights.map((w) => ({ ...w, dtype: "float32" })) }],
  };
  const g = readModel(bufferSource("ops.json", new TextEncoder().encode(JSON.stringify(json))));
  return { g, r: analyze(g) };
}

test("Conv2DBackpropInput: a stride-2 transposed conv, output size from input_sizes", () => {
  // x [1, 4, 4, 8] → filter [3, 3, 2, 8] (kh, kw, out 2, in 8), stride 2 SAME → [1, 8, 8, 2].
  // MACs on the input: 4·4·8 × 3·3·2 = 2304; params 3·3·2·8 = 144.
  const { r } = run(
    [
      input("x", [1, 4, 4, 8]),
      vec("sizes", [1, 8, 8, 2]),
      { name: "w", op: "Const" },
      { name: "up", op: "Conv2DBackpropInput", input: ["sizes", "w", "x"], attr: { strides: ints(1, 2, 2, 1), padding: str("SAME") } },
    ],
    [{ name: "w", shape: [3, 3, 2, 8] }],
  );
  assert.deepEqual(r.outputs[0].shape, [1, 2, 8, 8]);
  assert.equal(r.totals.macs, 2304);
  assert.equal(r.totals.params, 144);
  assert.equal(r.layers[0].op, "ConvTranspose");
});

test("DepthToSpace then SpaceToDepth (block 2): [1,3,3,8] → [1,6,6,2] → [1,3,3,8]", () => {
  const { r } = run([
    input("x", [1, 3, 3, 8]),
    { name: "d2s", op: "DepthToSpace", input: ["x"], attr: { block_size: { i: "2" } } },
    { name: "s2d", op: "SpaceToDepth", input: ["d2s"], attr: { block_size: { i: "2" } } },
  ]);
  assert.deepEqual(r.tensors.d2s.shape, [1, 2, 6, 6]);
  assert.deepEqual(r.outputs[0].shape, [1, 8, 3, 3]);
  assert.equal(r.totals.unknown_layers, 0);
});

test("SpaceToBatchND → Conv2D → BatchToSpaceND is one conv with dilation 2 (DeepLab's atrous conv)", () => {
  // x [1, 16, 16, 3]; pads 2/2 → 20 → phase images 10×10, 3×3 VALID → 8, woven → 16.
  // One 3×3 dilation-2 conv with pads 2: 16·16·4 × 27 = 27,648 MACs; field 5 (1 + 2·2), padding 2.
  const { r } = run(
    [
      input("x", [1, 16, 16, 3]),
      vec("block", [2, 2]),
      vec("pads", [2, 2, 2, 2], [2, 2]),
      vec("crops", [0, 0, 0, 0], [2, 2]),
      { name: "s2b", op: "SpaceToBatchND", input: ["x", "block", "pads"] },
      { name: "w", op: "Const" },
      { name: "conv", op: "Conv2D", input: ["s2b", "w"], attr: { strides: ints(1, 1, 1, 1), padding: str("VALID") } },
      { name: "b2s", op: "BatchToSpaceND", input: ["conv", "block", "crops"] },
      { name: "relu", op: "Relu", input: ["b2s"] },
    ],
    [{ name: "w", shape: [3, 3, 3, 4] }],
  );
  assert.deepEqual(
    r.layers.map((l) => l.op),
    ["Conv", "Relu"],
  );
  assert.deepEqual(r.outputs[0].shape, [1, 4, 16, 16]);
  assert.equal(r.totals.macs, 27_648);
  assert.deepEqual(r.tensors.relu.rf, { size: [5, 5], stride: [1, 1], padding: [2, 2], aligned: true });
});

test("BatchMatMulV2 with adj_y: [1,6,4]·[1,5,4]ᵀ = [1,6,5], MACs 6·4·5 = 120", () => {
  const { r } = run([
    input("a", [1, 6, 4]),
    input("b", [1, 5, 4]),
    { name: "mm", op: "BatchMatMulV2", input: ["a", "b"], attr: { adj_x: { b: false }, adj_y: { b: true } } },
  ]);
  assert.equal(r.totals.macs, 120);
  assert.equal(r.totals.unknown_layers, 0);
});

test("TopKV2 on scores [1, 100]: k = 10 values and indices; 100 × ⌈log2 11⌉ = 400 comparisons", () => {
  const { r } = run([input("s", [1, 100]), vec("k", [10], []), { name: "top", op: "TopKV2", input: ["s", "k"] }]);
  assert.deepEqual(r.tensors.top.shape, [1, 10]);
  assert.deepEqual(r.tensors["top:1"].shape, [1, 10]);
  assert.equal(r.layers[0].cost?.cmp, 400);
});

test("Size, ZerosLike, Atan2, BroadcastTo, SparseToDense: shapes, values and costs", () => {
  const { r } = run([
    input("x", [1, 4, 4, 3]),
    { name: "n", op: "Size", input: ["x"] },
    { name: "z", op: "ZerosLike", input: ["x"] },
    { name: "at", op: "Atan2", input: ["x", "z"] },
    input("v", [1, 1, 1, 3]),
    vec("to", [1, 4, 4, 3]),
    { name: "bc", op: "BroadcastTo", input: ["v", "to"] },
    input("idx", [5, 2]),
    input("vals", [5]),
    vec("dense", [7, 9]),
    vec("zero", [0], []),
    { name: "sd", op: "SparseToDense", input: ["idx", "dense", "vals", "zero"] },
  ]);
  assert.equal(r.totals.unknown_layers, 0);
  assert.deepEqual(r.tensors.n.shape, []);
  assert.deepEqual(r.tensors.z.shape, [1, 3, 4, 4]);
  assert.deepEqual(r.tensors.at.shape, [1, 3, 4, 4]);
  // Atan2 over 48 elements: 48 transcendental + 48 divisions.
  const at = r.layers.find((l) => l.name === "at");
  assert.equal(at?.cost?.exp, 48);
  assert.equal(at?.cost?.div, 48);
  assert.deepEqual(r.tensors.bc.shape, [1, 3, 4, 4]);
  assert.deepEqual(r.tensors.sd.shape, [7, 9]);
});

test("a graph converted from ONNX is NCHW with Transposes inside: its input is shown as the file says", () => {
  // x [1, 3, 8, 8] (NCHW) → Transpose [0,2,3,1] → Conv2D 3×3 VALID (NHWC) → Transpose [0,3,1,2]:
  // [1, 4, 6, 6]; MACs 6·6·4 × 27 = 3888.
  const { g, r } = run(
    [
      input("x", [1, 3, 8, 8]),
      vec("to_nhwc", [0, 2, 3, 1]),
      { name: "t1", op: "Transpose", input: ["x", "to_nhwc"] },
      { name: "w", op: "Const" },
      { name: "conv", op: "Conv2D", input: ["t1", "w"], attr: { strides: ints(1, 1, 1, 1), padding: str("VALID") } },
      vec("to_nchw", [0, 3, 1, 2]),
      { name: "y", op: "Transpose", input: ["conv", "to_nchw"] },
    ],
    [{ name: "w", shape: [3, 3, 3, 4] }],
  );
  assert.deepEqual(r.inputs[0].shape, [1, 3, 8, 8]);
  assert.deepEqual(r.tensors.conv.shape, [1, 4, 6, 6]);
  // y is NCHW in the file again: shown as the file has it, not permuted a second time.
  assert.deepEqual(r.outputs[0].shape, [1, 4, 6, 6]);
  assert.equal(r.totals.macs, 3888);
  assert.deepEqual(r.tensors.conv.rf, { size: [3, 3], stride: [1, 1], padding: [0, 0], aligned: true });
  assert.ok(g.notes.some((n) => n.includes("input 'x' is channels-first in the file")));
  assert.equal(g.channelsLastInputs, undefined);
});

test("an NCHW data_format conv marks its input channels-first too; BiasAdd NCHW runs along axis 1", () => {
  const { r } = run(
    [
      input("x", [1, 3, 8, 8]),
      { name: "w", op: "Const" },
      {
        name: "conv",
        op: "Conv2D",
        input: ["x", "w"],
        attr: { strides: ints(1, 1, 1, 1), padding: str("SAME"), data_format: str("NCHW") },
      },
      { name: "b", op: "Const" },
      { name: "bias", op: "BiasAdd", input: ["conv", "b"], attr: { data_format: str("NCHW") } },
      { name: "y", op: "Relu", input: ["bias"] },
    ],
    [
      { name: "w", shape: [3, 3, 3, 4] },
      { name: "b", shape: [4] },
    ],
  );
  // SAME: [1, 4, 8, 8]; MACs 8·8·4 × 27 = 6912; params 108 + 4 = 112.
  assert.deepEqual(r.inputs[0].shape, [1, 3, 8, 8]);
  assert.deepEqual(r.tensors.bias.shape, [1, 4, 8, 8]);
  assert.deepEqual(r.outputs[0].shape, [1, 4, 8, 8]);
  assert.equal(r.totals.macs, 6912);
  assert.equal(r.totals.params, 112);
});

test("a while loop (Enter … Exit) is one tf::While layer of unknown cost; the conv outside it stays counted", () => {
  const frame = { s: b64("counter/while") };
  const { g, r } = run(
    [
      input("x", [1, 4, 4, 3]),
      { name: "w", op: "Const" },
      { name: "conv", op: "Conv2D", input: ["x", "w"], attr: { strides: ints(1, 1, 1, 1), padding: str("VALID") } },
      vec("zero", [0], []),
      vec("limit", [5], []),
      vec("one", [1], []),
      { name: "enter", op: "Enter", input: ["zero"], attr: { frame_name: frame, T: { type: "DT_INT32" } } },
      { name: "merge", op: "Merge", input: ["enter", "next"], attr: { T: { type: "DT_INT32" } } },
      { name: "less", op: "Less", input: ["merge", "limit"] },
      { name: "cond", op: "LoopCond", input: ["less"] },
      { name: "switch", op: "Switch", input: ["merge", "cond"], attr: { T: { type: "DT_INT32" } } },
      { name: "body", op: "Identity", input: ["switch:1"] },
      { name: "inc", op: "AddV2", input: ["body", "one"] },
      { name: "next", op: "NextIteration", input: ["inc"] },
      { name: "exit", op: "Exit", input: ["switch"], attr: { T: { type: "DT_INT32" } } },
      { name: "after", op: "Mul", input: ["exit", "limit"] },
    ],
    [{ name: "w", shape: [3, 3, 3, 2] }],
  );
  const loops = r.layers.filter((l) => l.op === "tf::While");
  assert.equal(loops.length, 1);
  assert.equal(loops[0].name, "counter/while");
  assert.equal(loops[0].status, "unknown");
  // Nothing of the loop leaks out as separate layers.
  assert.equal(
    r.layers.some((l) => ["Enter", "Merge", "Switch", "LoopCond", "NextIteration", "Exit"].includes(l.source ?? l.op)),
    false,
  );
  // The conv outside: 2·2·2 outputs × 27 = 216 MACs, known on its layer; the totals are partial.
  assert.equal(r.layers.find((l) => l.name === "conv")?.macs, 216);
  assert.equal(r.totals.macs, null);
  assert.match(r.totals.partial ?? "", /tf::While/);
  assert.ok(g.notes.some((n) => n.includes("control flow: loop 'counter/while' (9 ops") && n.includes("run time")));
});
