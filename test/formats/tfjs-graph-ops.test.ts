import assert from "node:assert/strict";
import { test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { fileSource } from "../../src/cli/node-source.js";
import type { Shape } from "../../src/core/shape.js";
import { bufferSource, readModel } from "../../src/formats/index.js";
import { stridedSliceOf } from "../../src/formats/tflite/tf-common.js";

/**
 * TF.js graph-model ops with tricky layouts: grouped Conv2D, Unpack and StridedSlice on inputs
 * of unknown rank, ellipsis and new-axis masks, Squeeze without dims, SquaredDifference, and
 * the static shape of TensorListStack (handtrack's detector). Shapes in comments are NHWC as
 * TensorFlow has them; the asserted ones are the IR's channels-first order.
 */

const HUMAN = new URL("../../node_modules/@vladmandic/human/models/", import.meta.url);

type Node = { name: string; op: string; input?: string[]; attr?: Record<string, unknown> };

const b64 = (x: string) => btoa(x);
const ints = (...i: number[]) => ({ list: { i: i.map(String) } });
const i = (n: number) => ({ i: String(n) });

/** A Placeholder: `dims` NHWC, or unknown rank. */
function input(name: string, dims?: number[]): Node {
  const shape = dims ? { dim: dims.map((d) => ({ size: String(d) })) } : { unknownRank: true };
  return { name, op: "Placeholder", attr: { dtype: { type: "DT_FLOAT" }, shape: { shape } } };
}

/** An int32 constant with its values inline. */
function vec(name: string, values: number[], scalar = false): Node {
  const tensorShape = scalar ? {} : { dim: [{ size: String(values.length) }] };
  return {
    name,
    op: "Const",
    attr: { dtype: { type: "DT_INT32" }, value: { tensor: { dtype: "DT_INT32", tensorShape, intVal: values } } },
  };
}

function model(nodes: Node[], weights: { name: string; shape: number[] }[] = []) {
  const json = {
    format: "graph-model",
    modelTopology: { node: nodes },
    weightsManifest: [{ paths: ["w.bin"], weights: weights.map((w) => ({ ...w, dtype: "float32" })) }],
  };
  return readModel(bufferSource("ops.json", new TextEncoder().encode(JSON.stringify(json))));
}

function stridedSlice(name: string, x: string, spec: { b: number[]; e: number[]; s: number[]; masks: Record<string, number> }): Node[] {
  const attr = Object.fromEntries(Object.entries(spec.masks).map(([k, v]) => [k, i(v)]));
  return [
    vec(`${name}/b`, spec.b),
    vec(`${name}/e`, spec.e),
    vec(`${name}/s`, spec.s),
    { name, op: "StridedSlice", input: [x, `${name}/b`, `${name}/e`, `${name}/s`], attr },
  ];
}

test("grouped Conv2D: group = input channels ÷ the filter's in-channels, when the channels are known", () => {
  // x [1, 8, 8, 4] → Relu → Pad H,W by 1 → Conv2D filter [3, 3, 2, 6] VALID: I = 2 of C = 4 → group 2.
  // Pad keeps 4 channels; 10 − 3 + 1 = 8 → y [1, 8, 8, 6]; MACs 8·8·6 × (2·3·3) = 384 × 18 = 6,912.
  // Then a second Conv2D [1, 1, 3, 6] on y's 6 channels: group 2, MACs 8·8·6 × 3 = 1,152.
  const g = model(
    [
      input("x", [1, 8, 8, 4]),
      { name: "relu", op: "Relu", input: ["x"] },
      vec("p", [0, 0, 1, 1, 1, 1, 0, 0]),
      { name: "pad", op: "Pad", input: ["relu", "p"] },
      { name: "w", op: "Const" },
      { name: "conv", op: "Conv2D", input: ["pad", "w"], attr: { strides: ints(1, 1, 1, 1), padding: { s: b64("VALID") } } },
      { name: "w2", op: "Const" },
      { name: "conv2", op: "Conv2D", input: ["conv", "w2"], attr: { strides: ints(1, 1, 1, 1), padding: { s: b64("VALID") } } },
    ],
    [
      { name: "w", shape: [3, 3, 2, 6] },
      { name: "w2", shape: [1, 1, 3, 6] },
    ],
  );
  assert.equal(g.nodes.find((n) => n.name === "conv")?.attrs.group, 2);
  assert.equal(g.nodes.find((n) => n.name === "conv2")?.attrs.group, 2);
  const r = analyze(g);
  assert.deepEqual(r.tensors.conv?.shape, [1, 6, 8, 8]);
  assert.equal(r.layers.find((l) => l.name === "conv")?.macs, 6_912);
  assert.equal(r.layers.find((l) => l.name === "conv2")?.macs, 1_152);
  // Params 3·3·2·6 + 1·1·3·6 = 108 + 18 = 126.
  assert.equal(r.totals.params, 126);
});

test("Unpack and StridedSlice on an input of unknown rank work in the file's order", () => {
  // x has no declared rank; bound at analysis to [2, 3, 4] (file order: an unknown rank keeps it).
  // Unpack axis 1, num 3 → three [2, 4]; Unpack axis −1, num 4 → four [2, 3].
  // x[..., 1:3] (ellipsis first) → [2, 3, 2]; x[..., 0, None] → C index 0 then a new last axis → [2, 3, 1].
  const g = model([
    input("x"),
    { name: "u", op: "Unpack", input: ["x"], attr: { axis: i(1), num: i(3) } },
    { name: "v", op: "Unpack", input: ["x"], attr: { axis: i(-1), num: i(4) } },
    ...stridedSlice("s1", "x", { b: [0, 1], e: [0, 3], s: [1, 1], masks: { ellipsis_mask: 1 } }),
    ...stridedSlice("s2", "x", {
      b: [0, 0, 0],
      e: [0, 1, 0],
      s: [1, 1, 1],
      masks: { ellipsis_mask: 1, shrink_axis_mask: 2, new_axis_mask: 4 },
    }),
    { name: "a", op: "Identity", input: ["u:2"] },
    { name: "b", op: "Identity", input: ["v:3"] },
  ]);
  const r = analyze(g, { inputs: { x: [2, 3, 4] } });
  assert.equal(r.totals.unknown_layers, 0);
  const shape = (t: string): Shape | undefined => r.tensors[t]?.shape;
  assert.deepEqual(shape("u"), [2, 4]);
  assert.deepEqual(shape("a"), [2, 4]);
  assert.deepEqual(shape("b"), [2, 3]);
  assert.deepEqual(shape("s1"), [2, 3, 2]);
  assert.deepEqual(shape("s2"), [2, 3, 1]);
});

test("StridedSlice masks on a known NHWC rank, Squeeze without dims, SquaredDifference", () => {
  // x [1, 6, 8, 3] (IR [1, 3, 6, 8]).
  // x[..., 1:3] → [1, 6, 8, 2] → IR [1, 2, 6, 8].
  // x[:, None, 0] → N kept, new axis at 1, H index 0 shrunk → [1, 1, 8, 3] → IR [1, 3, 1, 8].
  // x[..., 0, None] → [1, 6, 8, 1] → IR [1, 1, 6, 8].
  // x[0, ..., ::2] → N shrunk, C every other → [6, 8, 2]; rank 3 in the IR is [axis 0, last, middle] → [6, 2, 8].
  // Mean over H, W keeping dims → [1, 1, 1, 3]; Squeeze with no dims drops every 1 → [3].
  // SquaredDifference(x, y [1, 1, 1, 3]) broadcasts → [1, 6, 8, 3] → IR [1, 3, 6, 8].
  const g = model([
    input("x", [1, 6, 8, 3]),
    input("y", [1, 1, 1, 3]),
    ...stridedSlice("s1", "x", { b: [0, 1], e: [0, 3], s: [1, 1], masks: { ellipsis_mask: 1 } }),
    ...stridedSlice("s2", "x", {
      b: [0, 0, 0],
      e: [0, 0, 1],
      s: [1, 1, 1],
      masks: { begin_mask: 1, end_mask: 1, new_axis_mask: 2, shrink_axis_mask: 4 },
    }),
    ...stridedSlice("s3", "x", {
      b: [0, 0, 0],
      e: [0, 1, 0],
      s: [1, 1, 1],
      masks: { ellipsis_mask: 1, shrink_axis_mask: 2, new_axis_mask: 4 },
    }),
    ...stridedSlice("s4", "x", {
      b: [0, 0, 0],
      e: [1, 0, 0],
      s: [1, 1, 2],
      masks: { ellipsis_mask: 2, shrink_axis_mask: 1, begin_mask: 4, end_mask: 4 },
    }),
    vec("hw", [1, 2]),
    { name: "mean", op: "Mean", input: ["x", "hw"], attr: { keep_dims: { b: true } } },
    { name: "sq", op: "Squeeze", input: ["mean"] },
    { name: "d", op: "SquaredDifference", input: ["x", "y"] },
  ]);
  const r = analyze(g);
  const shape = (t: string): Shape | undefined => r.tensors[t]?.shape;
  assert.deepEqual(shape("s1"), [1, 2, 6, 8]);
  assert.deepEqual(shape("s2"), [1, 3, 1, 8]);
  assert.deepEqual(shape("s3"), [1, 1, 6, 8]);
  assert.deepEqual(shape("s4"), [6, 2, 8]);
  assert.deepEqual(shape("sq"), [3]);
  assert.deepEqual(shape("d"), [1, 3, 6, 8]);
  assert.equal(r.totals.unknown_layers, 0);
});

test("stridedSliceOf: axes before the ellipsis count from the front, after it from the back", () => {
  const masks = { begin: 0, end: 0, ellipsis: 0, newAxis: 0, shrink: 0 };
  // x[1:2, ..., 0, None, ::3]: entries 0 (slice axis 0), 1 (ellipsis), 2 (shrink), 3 (new), 4 (step 3).
  const spec = { ...masks, ellipsis: 2, shrink: 4, newAxis: 8, begin: 16, end: 16 };
  const s = stridedSliceOf([1, 0, 0, 0, 0], [2, 0, 1, 0, 0], [1, 1, 1, 1, 3], spec);
  // Back walk: entry 4 → input axis −1, output −1; entry 3 → new axis at output −2; entry 2 → input −2, shrunk.
  assert.deepEqual(s?.axes, [0, -1, -2]);
  assert.deepEqual(s?.steps, [1, 3, 1]);
  assert.deepEqual(s?.shrink, [-2]);
  assert.deepEqual(s?.newAxes, [-2]);
  // With rank 5: axes 0, 4, 3; output rank 5 − 1 + 1 = 5, new axis at 5 − 2 = 3.
  const k = stridedSliceOf([1, 0, 0, 0, 0], [2, 0, 1, 0, 0], [1, 1, 1, 1, 3], spec, 5);
  assert.deepEqual([k?.axes, k?.shrink, k?.newAxes], [[0, 4, 3], [3], [3]]);
  // Two ellipses, a zero stride, or more sliced axes than the rank: not a valid spec.
  assert.equal(stridedSliceOf([0, 0], [0, 0], [1, 1], { ...masks, ellipsis: 3 }), undefined);
  assert.equal(stridedSliceOf([0], [1], [0], masks), undefined);
  assert.equal(stridedSliceOf([0, 0, 0], [1, 1, 1], [1, 1, 1], masks, 2), undefined);
});

test("handtrack: the map loop's TensorListStack keeps its static [1, 320, 320, 3], so the SSD is counted", () => {
  const src = fileSource(new URL("handtrack.json", HUMAN).pathname);
  try {
    const g = readModel(src);
    const r = analyze(g, { inputs: { input_tensor: [1, 3, 320, 320] } });
    // num_elements 1 and element_shape [320, 320, 3] (from the .bin) → [1, 320, 320, 3] → IR [1, 3, 320, 320].
    assert.deepEqual(r.tensors["StatefulPartitionedCall/map/TensorArrayV2Stack/TensorListStack"]?.shape, [1, 3, 320, 320]);
    // The first conv, 3×3 stride 2 SAME to 32 channels: 160·160·32 × 27 = 22,118,400 MACs.
    const conv1 = r.layers.find((l) => l.name.endsWith("model/Conv1_relu/Relu6"));
    assert.equal(conv1?.macs, 22_118_400);
    // SSD anchors: 6 per cell on the 40², 20², 10², 5², 3² FPN maps = 6·2,134 = 12,804, as the signature declares
    // (boxes [1, 12804, 4], scores [1, 12804, 8] → channels-first [1, 4, 12804], [1, 8, 12804]).
    const out = (n: string) => r.outputs.find((o) => o.name === n)?.shape;
    assert.deepEqual(out("Identity_6"), [1, 4, 12_804]);
    assert.deepEqual(out("Identity_7"), [1, 8, 12_804]);
    // The loop is one tf::While layer (its TensorLists included); it and the NMS
    // post-processing stay unknown and make the totals partial.
    assert.ok(r.totals.partial?.includes("tf::NonMaxSuppressionV5"));
    assert.ok(r.totals.partial?.includes("tf::While"));
    assert.equal(r.layers.filter((l) => l.op === "tf::While").length, 1);
    assert.equal(
      r.layers.some((l) => l.op.startsWith("tf::TensorList")),
      false,
    );
  } finally {
    src.close();
  }
});

test("movenet: Unpack after GatherNd is translated, every op is known, the output has the signature's shape", () => {
  const src = fileSource(new URL("movenet-lightning.json", HUMAN).pathname);
  try {
    const g = readModel(src);
    const r = analyze(g);
    assert.deepEqual(
      r.layers.filter((l) => l.status === "unknown").map((l) => l.op),
      [],
    );
    assert.equal(r.layers.filter((l) => l.op === "GatherND").length, 4);
    assert.ok(r.layers.some((l) => l.source === "Unpack" && l.status === "ok"));
    // Input [1, 192, 192, 3] fixed in the file, so the signature's [1, 1, 17, 3] holds: IR [1, 3, 1, 17].
    assert.deepEqual(r.outputs[0]?.shape, [1, 3, 1, 17]);
  } finally {
    src.close();
  }
});
