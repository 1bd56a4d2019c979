import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { minMemoryOrder, onlyOrder, peakMemory, stepsOf } from "../../src/analysis/memory.js";
import { topoOrder } from "../../src/analysis/order.js";
import { inferShapes } from "../../src/analysis/shapes.js";
import type { Graph } from "../../src/core/graph.js";
import type { Report } from "../../src/core/report.js";
import { bufferSource, readModel } from "../../src/formats/index.js";
import { NetBuilder } from "../../src/zoo/builder.js";
import { ZOO } from "../../src/zoo/index.js";

// fp32 throughout: 1×1×4×4 is 64 bytes, 1×4×4×4 is 256.

/** Two branches written interleaved: a1, b1, a2, b2, then their sum. */
function interleaved() {
  const b = new NetBuilder("interleaved");
  const x = b.input("x", [1, 1, 4, 4]); // 64
  const a1 = b.conv(x, { name: "a1", out: 4, kernel: 1 }); // 256
  const b1 = b.conv(x, { name: "b1", out: 4, kernel: 1 }); // 256
  const a2 = b.conv(a1, { name: "a2", out: 1, kernel: 1 }); // 64
  const b2 = b.conv(b1, { name: "b2", out: 1, kernel: 1 }); // 64
  return b.build(b.addT(a2, b2, "sum"));
}

test("the file's order keeps both wide tensors alive; the memory-minimising order finishes one branch first", () => {
  const r = analyze(interleaved());
  // File order: at b1, x + a1 + b1 = 64 + 256 + 256 = 576 (x dies after b1).
  assert.equal(r.totals.peak_activation_bytes, 576);
  assert.equal(r.totals.peak_layer, "b1");
  // Without the input (the caller owns it): a2 runs with a1 + b1 + a2 = 576 as well.
  assert.equal(r.totals.peak_activation_bytes_without_input, 576);
  // a1, a2 (a1 dies: x + a2 = 128), b1 (x + a2 + b1 = 384), b2 (a2 + b1 + b2 = 384), sum in place.
  assert.equal(r.totals.peak_activation_bytes_min_order, 384);
  assert.ok(["a2", "b1", "b2"].includes(r.totals.peak_layer_min_order as string));
  assert.equal(r.batch_totals.peak_activation_bytes_min_order, 384);
});

test("without the input: a chain whose peak is at the first layer drops by the input's bytes", () => {
  const b = new NetBuilder("chain");
  let x = b.input("x", [1, 4, 4, 4]); // 256
  x = b.conv(x, { name: "c1", out: 1, kernel: 1 }); // 64: x + c1 = 320
  x = b.conv(x, { name: "c2", out: 2, kernel: 1 }); // 128: c1 + c2 = 192
  const r = analyze(b.build(x));
  assert.equal(r.totals.peak_activation_bytes, 320);
  assert.equal(r.totals.peak_layer, "c1");
  // Input not counted: c1 alone is 64, then c1 + c2 = 192 at c2.
  assert.equal(r.totals.peak_activation_bytes_without_input, 192);
  assert.equal(r.totals.input_bytes, 256);
});

/** Largest single layer: its activation inputs and outputs together (an in-place layer shares one buffer). */
function largestLayer(r: Report): number {
  let largest = 0;
  for (const l of r.layers) {
    const io = new Set([...l.inputs, ...l.outputs].filter((t) => r.tensors[t]?.bytes !== undefined));
    let s = 0;
    for (const t of io) s += r.tensors[t].bytes as number;
    if (["activation", "copy", "elementwise"].includes(l.family) || l.op === "BatchNormalization") {
      s -= r.tensors[l.outputs[0]]?.bytes ?? 0;
    }
    largest = Math.max(largest, s);
  }
  return largest;
}

function checkBounds(name: string, r: Report) {
  const t = r.totals;
  const peak = t.peak_activation_bytes as number;
  const min = t.peak_activation_bytes_min_order as number;
  assert.ok(peak !== null && min !== null, `${name}: peak known`);
  const all = (t.activation_bytes as number) + (t.input_bytes as number);
  const floor = largestLayer(r);
  for (const [what, v] of [
    ["file order", peak],
    ["min order", min],
  ] as const) {
    assert.ok(v >= floor, `${name} ${what}: peak ${v} < largest layer ${floor}`);
    assert.ok(v <= all, `${name} ${what}: peak ${v} > sum ${all}`);
  }
  assert.ok(min <= peak, `${name}: min order ${min} > file order ${peak}`);
  assert.ok((t.peak_activation_bytes_without_input as number) <= peak, `${name}: without input above with`);
}

test("bounds on every zoo model: largest layer ≤ peak (both orders) ≤ all activations; min order ≤ file order", () => {
  for (const [name, z] of Object.entries(ZOO)) checkBounds(name, analyze(z.build()));
});

test("bounds on every ONNX fixture", () => {
  const dir = new URL("../fixtures/onnx/", import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith(".onnx"));
  assert.ok(files.length >= 14);
  for (const f of files) {
    const url = new URL(f, dir);
    const g = readModel(bufferSource(f, new Uint8Array(readFileSync(url))));
    checkBounds(f, analyze(g));
  }
});

test("the memory-minimising order is valid on a 100,000-node graph", () => {
  // 33,334 blocks of relu_a, relu_b, add on a 1×8×4×4 map (512 bytes): 100,002 layers,
  // written out directly (the builder checks names pairwise, which is for small graphs).
  // (How fast it runs is measured by `npm run bench`, not asserted here.)
  const shape = [1, 8, 4, 4];
  const g: Graph = { name: "long", format: "builder", inputs: ["x"], outputs: [], nodes: [], tensors: new Map(), notes: [] };
  g.tensors.set("x", { name: "x", dtype: "float32", shape });
  let x = "x";
  for (let i = 0; i < 33_334; i++) {
    g.nodes.push({ name: `a${i}`, op: "Relu", inputs: [x], outputs: [`a${i}`], attrs: {} });
    g.nodes.push({ name: `b${i}`, op: "Relu", inputs: [x], outputs: [`b${i}`], attrs: {} });
    g.nodes.push({ name: `s${i}`, op: "Add", inputs: [`a${i}`, `b${i}`], outputs: [`s${i}`], attrs: {} });
    x = `s${i}`;
  }
  g.outputs = [x];
  const shapes = inferShapes(g, topoOrder(g), {});
  const layers = shapes.order;
  const table = { names: shapes.names, bytes: shapes.names.map(() => 512), constant: shapes.names.map(() => false) };
  const id = (t: string) => shapes.ids.get(t) as number;
  const order = minMemoryOrder(layers, [id(x)], table);
  assert.ok(order && order.length === layers.length);
  // Every layer runs after the producers of its inputs.
  const done = new Set<string>(["x"]);
  for (const l of order) {
    for (const i of l.node.inputs) assert.ok(done.has(i), `${l.node.name} before ${i}`);
    for (const o of l.node.outputs) done.add(o);
  }
  // Each block: relu_a allocates beside its input (still read by relu_b): 2 maps; relu_b
  // takes over its dying input's buffer and the add writes into one operand: never 3.
  assert.equal(peakMemory([id("x")], [id(x)], order, table).peak, 2 * 512);
  assert.equal(analyze(g).totals.peak_activation_bytes, 2 * 512);
});

test("onlyOrder: a chain with residual adds runs in one order, where the greedy order is the file's", () => {
  const chain = new NetBuilder("chain");
  let x = chain.input("x", [1, 4, 8, 8]);
  for (let i = 0; i < 3; i++) {
    const y = chain.relu(chain.conv(x, { name: `c${i}`, out: 4, kernel: 3, pad: 1 }), `r${i}`);
    x = chain.addT(chain.conv(y, { name: `d${i}`, out: 4, kernel: 3, pad: 1 }), x, `s${i}`);
  }
  const g = chain.build(x);
  const shapes = inferShapes(g, undefined, {});
  assert.ok(onlyOrder(shapes.steps));
  // What the search would find: the same order, so the same peak as the file's.
  const table = {
    names: shapes.names,
    bytes: shapes.states.map((t) => (t.constant ? null : 4 * 4 * 8 * 8)),
    constant: shapes.states.map((t) => t.constant),
  };
  const outputs = [shapes.ids.get(x.name) as number];
  const order = minMemoryOrder(shapes.order, outputs, table);
  assert.deepEqual(
    order?.filter((l) => !l.folded).map((l) => l.node.name),
    shapes.order.filter((l) => !l.folded).map((l) => l.node.name),
  );
  const r = analyze(g);
  assert.equal(r.totals.peak_activation_bytes_min_order, r.totals.peak_activation_bytes);
  // Two branches from one input (and the interleaved pair above): more than one order.
  assert.ok(!onlyOrder(inferShapes(interleaved(), undefined, {}).steps));
  const two = new NetBuilder("two");
  const i = two.input("x", [1, 1, 4, 4]);
  const a = two.conv(i, { name: "a", out: 1, kernel: 1 });
  const b = two.conv(i, { name: "b", out: 1, kernel: 1 });
  assert.ok(!onlyOrder(inferShapes(two.build(two.addT(a, b, "sum")), undefined, {}).steps));
  // A layer list reordered against its data flow is not one order either.
  assert.ok(!onlyOrder(stepsOf([...shapes.order].reverse())));
});
