import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { explainLayer } from "../../src/analysis/explain.js";
import { analyze } from "../../src/analysis/index.js";
import type { Report } from "../../src/core/report.js";
import type { Shape } from "../../src/core/shape.js";
import { bufferSource, readModel } from "../../src/formats/index.js";
import { attr, attrRef, DT, func, graph, model, node, type Pb, tensor, valueInfo } from "./onnx-writer.js";
import { analyzeFile } from "./v2-fixtures.js";

const V2 = new URL("../fixtures/v2/onnx-control-flow/", import.meta.url);
const REF = JSON.parse(readFileSync(new URL("reference.json", V2), "utf8"));

function analyzeModel(m: Pb, inputs?: Record<string, Shape>): Report {
  return analyze(readModel(bufferSource("t.onnx", m.bytes())), { inputs });
}

const sum = (r: Report, prefix: string) =>
  r.layers.filter((l) => l.name.startsWith(prefix)).reduce((a, l) => a + (l.macs ?? Number.NaN), 0);

/** A float weight of the given dims (filler bytes: values are never read). */
const weight = (name: string, ...dims: number[]) => tensor({ name, dims, fill: 4 * dims.reduce((a, b) => a * b, 1) });
const conv = (name: string, x: string, w: string, b: string, y: string, k: number) =>
  node({
    op: "Conv",
    name,
    inputs: [x, w, b],
    outputs: [y],
    attrs: [attr.ints("kernel_shape", [k, k]), attr.ints("pads", [(k - 1) / 2, (k - 1) / 2, (k - 1) / 2, (k - 1) / 2])],
  });

test("if_branches.onnx (condition a graph input): both branches reported, the costlier counted, every weight once", () => {
  const ref = REF.if_branches;
  const { r } = analyzeFile("onnx-control-flow", ref.file);
  assert.equal(r.totals.unknown_layers, 0);
  // 3,984 = then 2,768 (main-graph initializers used from the branch) + else 1,216 (the branch's own)
  assert.equal(r.totals.params, ref.expect_params);
  assert.equal(sum(r, "branch/then/"), ref.macs_by_branch.then_branch);
  assert.equal(sum(r, "branch/else/"), ref.macs_by_branch.else_branch);
  // reference.json leaves macs null (which branch runs is unknown); convscope counts the larger, and says so.
  assert.equal(ref.macs, null);
  assert.equal(r.totals.macs, 2_801_664);
  assert.ok(
    r.notes.some((n) => /If 'branch'.*both branches are reported.*the costlier, 'then'/.test(n)),
    r.notes.join("\n"),
  );
  assert.deepEqual(r.outputs[0].shape, ref.outputs[0].shape);
  // Receptive field of y: 5×5 either way (then 3 + 3 − 1, else 5).
  const rf = r.tensors.y.rf as { size: number[] };
  assert.deepEqual(rf.size, [5, 5]);
});

test("loop_conv3.onnx: a constant trip count of 3 repeats the body's MACs, its weights counted once", () => {
  const ref = REF.loop_conv3;
  const { g, r } = analyzeFile("onnx-control-flow", ref.file);
  assert.equal(r.totals.unknown_layers, 0);
  assert.equal(r.totals.params, ref.expect_params);
  assert.equal(r.totals.macs, ref.macs);
  const c = r.layers.find((l) => l.name === "repeat_conv/body/body_conv");
  assert.ok(c);
  assert.equal(c.repeats, ref.trip_count);
  assert.equal(c.macs, ref.macs_per_iteration * ref.trip_count);
  assert.equal(c.params, 2320);
  assert.deepEqual(r.outputs[0].shape, ref.outputs[0].shape);
  assert.ok(r.notes.some((n) => n.includes("the loop 'repeat_conv' runs 3 times")));
  // --explain gives the formula of one iteration and says how often it runs.
  const text = explainLayer(g, "repeat_conv/body/body_conv");
  assert.match(text, /macs {3}= .* = 589,824\n/);
  assert.match(text, /run 3 times: these are one iteration's figures, the report counts 3×/);
  // Receptive field of y: 7×7, three stacked 3×3 convs (1 + 3·2), padding 3.
  const rf = r.tensors.y.rf as { size: number[]; stride: number[]; padding: number[] };
  assert.deepEqual(
    [rf.size, rf.stride, rf.padding],
    [
      [7, 7],
      [1, 1],
      [3, 3],
    ],
  );
  // One iteration's state (the body's conv output) sees 3×3.
  assert.deepEqual((r.tensors["repeat_conv/body/b1"].rf as { size: number[] }).size, [3, 3]);
});

/** x [1, 3, H, 8] → If(cond) → then: conv 3×3 (3→4), else: conv 1×1 (3→4); weights in the main graph. */
function ifModel(cond: { init?: boolean; fromShape?: boolean }): Pb {
  const then = graph({ name: "then", nodes: [conv("c3", "x", "w3", "b", "t", 3)], inputs: [], outputs: [valueInfo("t")] });
  const els = graph({ name: "else", nodes: [conv("c1", "x", "w1", "b", "e", 1)], inputs: [], outputs: [valueInfo("e")] });
  const nodes: Pb[] = [];
  const initializers = [weight("w3", 4, 3, 3, 3), weight("w1", 4, 3, 1, 1), weight("b", 4)];
  if (cond.init !== undefined) initializers.push(tensor({ name: "c", dims: [], dataType: DT.BOOL, raw: Uint8Array.of(cond.init ? 1 : 0) }));
  if (cond.fromShape) {
    // c = Shape(x)[2] > 16: known once H is bound.
    initializers.push(tensor({ name: "two", dims: [], dataType: DT.INT64, int64s: [2] }));
    initializers.push(tensor({ name: "sixteen", dims: [], dataType: DT.INT64, int64s: [16] }));
    nodes.push(node({ op: "Shape", name: "shape", inputs: ["x"], outputs: ["s"] }));
    nodes.push(node({ op: "Gather", name: "h", inputs: ["s", "two"], outputs: ["hh"], attrs: [attr.i("axis", 0)] }));
    nodes.push(node({ op: "Greater", name: "big", inputs: ["hh", "sixteen"], outputs: ["c"] }));
  }
  nodes.push(
    node({ op: "If", name: "pick", inputs: ["c"], outputs: ["y"], attrs: [attr.g("then_branch", then), attr.g("else_branch", els)] }),
  );
  nodes.push(node({ op: "Relu", name: "relu", inputs: ["y"], outputs: ["z"] }));
  const inputs = [valueInfo("x", [1, 3, "H", 8])];
  if (cond.init === undefined && !cond.fromShape) inputs.push(valueInfo("c", [], DT.BOOL));
  return model(graph({ nodes, initializers, inputs, outputs: [valueInfo("z")] }));
}

test("If with a constant condition: only the taken branch is analysed, inline (layers 'pick/then/…')", () => {
  const r = analyzeModel(ifModel({ init: true }), { x: [1, 3, 8, 8] });
  assert.deepEqual(
    r.layers.map((l) => l.name),
    ["pick/then/c3", "pick", "relu"],
  );
  // 4·8·8 outputs · 27 = 6,912 MACs; params: w3 108 + b 4 (w1 belongs to the untaken branch)
  assert.equal(r.totals.macs, 6912);
  assert.equal(r.totals.params, 112);
  assert.deepEqual(r.outputs[0].shape, [1, 4, 8, 8]);
  assert.ok(r.notes.some((n) => n.includes("If 'pick': its condition is known, so its else branch is not taken")));
  const f = analyzeModel(ifModel({ init: false }), { x: [1, 3, 8, 8] });
  assert.deepEqual(
    f.layers.map((l) => l.name),
    ["pick/else/c1", "pick", "relu"],
  );
  // 256 outputs · 3 = 768
  assert.equal(f.totals.macs, 768);
});

test("If whose condition folds once inputs are bound (Shape → Gather → Greater): unbound, both branches; bound, one", () => {
  const open = analyzeModel(ifModel({ fromShape: true }));
  assert.ok(open.layers.some((l) => l.name === "pick/then/c3") && open.layers.some((l) => l.name === "pick/else/c1"));
  // H unbound: the MACs are unknown too, and the totals say the branch is not known.
  assert.equal(open.totals.macs, null);
  const big = analyzeModel(ifModel({ fromShape: true }), { x: [1, 3, 32, 8] });
  assert.deepEqual(
    big.layers.filter((l) => l.name.startsWith("pick/")).map((l) => l.name),
    ["pick/then/c3"],
  );
  // 4·32·8 = 1,024 outputs · 27 = 27,648
  assert.equal(big.totals.macs, 27_648);
  const small = analyzeModel(ifModel({ fromShape: true }), { x: [1, 3, 8, 8] });
  assert.deepEqual(
    small.layers.filter((l) => l.name.startsWith("pick/")).map((l) => l.name),
    ["pick/else/c1"],
  );
  assert.equal(small.totals.macs, 768);
});

test("If with a run-time condition: the costlier branch is counted; equal output shapes flow on", () => {
  const r = analyzeModel(ifModel({}), { x: [1, 3, 8, 8] });
  assert.equal(sum(r, "pick/then/"), 6912);
  assert.equal(sum(r, "pick/else/"), 768);
  assert.equal(r.totals.macs, 6912);
  // Both branches' weights are in the file: 108 + 12 + 4.
  assert.equal(r.totals.params, 124);
  assert.deepEqual(r.outputs[0].shape, [1, 4, 8, 8]);
});

/** Loop over a conv 1×1 (4→4) on x [1, 4, 5, 5]; trip count and condition as given. */
function loopModel(opts: { m: "const" | "input" | "none"; computedCond?: boolean }): Pb {
  const bodyNodes = [conv("c", "s_in", "w", "b", "s_out", 1)];
  if (opts.computedCond) bodyNodes.push(node({ op: "Less", name: "more", inputs: ["i", "ten"], outputs: ["c_out"] }));
  else bodyNodes.push(node({ op: "Identity", name: "keep", inputs: ["c_in"], outputs: ["c_out"] }));
  const body = graph({
    name: "body",
    nodes: bodyNodes,
    inputs: [valueInfo("i", [], DT.INT64), valueInfo("c_in", [], DT.BOOL), valueInfo("s_in", [1, 4, 5, 5])],
    outputs: [valueInfo("c_out", [], DT.BOOL), valueInfo("s_out", [1, 4, 5, 5])],
  });
  const initializers = [
    weight("w", 4, 4, 1, 1),
    weight("b", 4),
    tensor({ name: "go", dims: [], dataType: DT.BOOL, raw: Uint8Array.of(1) }),
    tensor({ name: "ten", dims: [], dataType: DT.INT64, int64s: [10] }),
  ];
  const inputs = [valueInfo("x", [1, 4, 5, 5])];
  if (opts.m === "const") initializers.push(tensor({ name: "M", dims: [], dataType: DT.INT64, int64s: [4] }));
  if (opts.m === "input") inputs.push(valueInfo("M", [], DT.INT64));
  return model(
    graph({
      nodes: [
        node({ op: "Loop", name: "L", inputs: [opts.m === "none" ? "" : "M", "go", "x"], outputs: ["y"], attrs: [attr.g("body", body)] }),
      ],
      initializers,
      inputs,
      outputs: [valueInfo("y")],
    }),
  );
}

test("Loop: a constant trip count multiplies the body; an unknown one leaves the totals partial with the reason", () => {
  // One iteration: 4·5·5 = 100 outputs · 4 = 400 MACs.
  const four = analyzeModel(loopModel({ m: "const" }));
  assert.equal(four.totals.macs, 1600);
  assert.equal(four.totals.params, 20);
  assert.equal(four.totals.partial, undefined);

  const input = analyzeModel(loopModel({ m: "input" }));
  assert.equal(input.totals.macs, null);
  assert.equal(input.totals.params, 20);
  const c = input.layers.find((l) => l.name === "L/body/c");
  assert.equal(c?.macs, 400, "the layer row gives one iteration");
  assert.equal(c?.repeats, null);
  assert.match(input.totals.partial ?? "", /the loop 'L' runs an unknown number of times \(its trip count 'M' is only known at run time\)/);
  assert.ok(input.notes.includes("receptive fields through a loop of unknown length follow one iteration of its body"));

  const computed = analyzeModel(loopModel({ m: "const", computedCond: true }));
  assert.equal(computed.totals.macs, null);
  assert.match(computed.totals.partial ?? "", /its body computes when to stop \(at most 'M' iterations\)/);

  const none = analyzeModel(loopModel({ m: "none" }));
  assert.match(none.totals.partial ?? "", /it has no trip count/);
  assert.deepEqual(none.outputs[0].shape, [1, 4, 5, 5]);
});

test("Scan: one slice per step along the scan axis, the body's MACs × the sequence length, outputs stacked", () => {
  // x [1, 5, 4] scanned along axis 1: each step MatMul([1, 4], W [4, 3]) = 12 MACs; 5 steps = 60;
  // the per-step [1, 3] results stacked along axis 1: [1, 5, 3].
  const body = graph({
    name: "step",
    nodes: [node({ op: "MatMul", name: "mm", inputs: ["xt", "W"], outputs: ["yt"] })],
    inputs: [valueInfo("xt", [1, 4])],
    outputs: [valueInfo("yt", [1, 3])],
  });
  const r = analyzeModel(
    model(
      graph({
        nodes: [
          node({
            op: "Scan",
            name: "S",
            inputs: ["x"],
            outputs: ["y"],
            attrs: [
              attr.g("body", body),
              attr.i("num_scan_inputs", 1),
              attr.ints("scan_input_axes", [1]),
              attr.ints("scan_output_axes", [1]),
            ],
          }),
        ],
        initializers: [weight("W", 4, 3)],
        inputs: [valueInfo("x", [1, 5, 4])],
        outputs: [valueInfo("y")],
      }),
    ),
  );
  assert.equal(r.totals.macs, 60);
  assert.equal(r.totals.params, 12);
  assert.deepEqual(r.outputs[0].shape, [1, 5, 3]);
  assert.equal(r.layers.find((l) => l.name === "S/body/mm")?.repeats, 5);
});

test("model-local functions are inlined: each call's layers named 'call/…', attributes by reference and default", () => {
  // custom::ConvRelu(X, W, B) = Relu(Conv(X, W, B; kernel_shape = ks, pads = default [1,1,1,1]))
  const fn = func({
    name: "ConvRelu",
    domain: "custom",
    inputs: ["X", "W", "B"],
    outputs: ["Y"],
    attributes: ["ks", "pads"],
    defaults: [attr.ints("pads", [1, 1, 1, 1])],
    nodes: [
      node({
        op: "Conv",
        name: "conv",
        inputs: ["X", "W", "B"],
        outputs: ["T"],
        attrs: [attrRef("kernel_shape", "ks", 7), attrRef("pads", "pads", 7)],
      }),
      node({ op: "Relu", name: "relu", inputs: ["T"], outputs: ["Y"] }),
    ],
  });
  const m = model(
    graph({
      nodes: [
        node({
          op: "ConvRelu",
          domain: "custom",
          name: "block1",
          inputs: ["x", "w1", "b1"],
          outputs: ["h"],
          attrs: [attr.ints("ks", [3, 3])],
        }),
        node({
          op: "ConvRelu",
          domain: "custom",
          name: "block2",
          inputs: ["h", "w2", "b2"],
          outputs: ["y"],
          attrs: [attr.ints("ks", [1, 1]), attr.ints("pads", [0, 0, 0, 0])],
        }),
      ],
      initializers: [weight("w1", 8, 3, 3, 3), weight("b1", 8), weight("w2", 16, 8, 1, 1), weight("b2", 16)],
      inputs: [valueInfo("x", [1, 3, 10, 10])],
      outputs: [valueInfo("y")],
    }),
    [
      ["", 13],
      ["custom", 1],
    ],
    8,
    [fn],
  );
  const g = readModel(bufferSource("f.onnx", m.bytes()));
  assert.ok(!g.notes.some((n) => n.includes("function")), g.notes.join("; "));
  const r = analyze(g);
  assert.deepEqual(
    r.layers.map((l) => [l.name, l.op]),
    [
      ["block1/conv", "Conv"],
      ["block1/relu", "Relu"],
      ["block2/conv", "Conv"],
      ["block2/relu", "Relu"],
    ],
  );
  assert.equal(r.totals.unknown_layers, 0);
  // block1: 3×3 pad 1 keeps 10×10: 8·100 outputs · 27 = 21,600; block2: 1×1: 16·100 · 8 = 12,800
  assert.equal(r.layers[0].macs, 21_600);
  assert.equal(r.layers[2].macs, 12_800);
  assert.equal(r.totals.macs, 34_400);
  // 216 + 8 + 128 + 16
  assert.equal(r.totals.params, 368);
  assert.deepEqual(r.outputs[0].shape, [1, 16, 10, 10]);
  // Receptive field: 3 then 1 → 3×3.
  assert.deepEqual((r.tensors.y.rf as { size: number[] }).size, [3, 3]);
});

test("control-flow errors are one line naming the layer: an If without else_branch, a Loop body of the wrong arity", () => {
  const then = graph({ name: "t", nodes: [node({ op: "Relu", inputs: ["x"], outputs: ["t"] })], inputs: [], outputs: [valueInfo("t")] });
  const noElse = model(
    graph({
      nodes: [node({ op: "If", name: "iffy", inputs: ["c"], outputs: ["y"], attrs: [attr.g("then_branch", then)] })],
      inputs: [valueInfo("x", [1, 2]), valueInfo("c", [], DT.BOOL)],
      outputs: [valueInfo("y")],
    }),
  );
  assert.throws(
    () => readModel(bufferSource("e.onnx", noElse.bytes())),
    /layer 'iffy'.*If has no 'else_branch' graph|If has no 'else_branch' graph/,
  );
  const body = graph({ name: "b", nodes: [], inputs: [valueInfo("i", [], DT.INT64)], outputs: [valueInfo("i")] });
  const bad = model(
    graph({
      nodes: [node({ op: "Loop", name: "L", inputs: ["", "", "x"], outputs: ["y"], attrs: [attr.g("body", body)] })],
      inputs: [valueInfo("x", [1, 2])],
      outputs: [valueInfo("y")],
    }),
  );
  assert.throws(() => readModel(bufferSource("e.onnx", bad.bytes())), /its body has 1 inputs and 1 outputs for 1 loop-carried values/);
});

test("nested: an If inside a Loop body reads the body's state and the main graph's weights (outer scopes, two levels up)", () => {
  const then = graph({ name: "t", nodes: [conv("c", "s_in", "w", "b", "t_out", 1)], inputs: [], outputs: [valueInfo("t_out")] });
  const els = graph({
    name: "e",
    nodes: [node({ op: "Relu", name: "r", inputs: ["s_in"], outputs: ["e_out"] })],
    inputs: [],
    outputs: [valueInfo("e_out")],
  });
  const body = graph({
    name: "body",
    nodes: [
      node({
        op: "If",
        name: "pick",
        inputs: ["c_in"],
        outputs: ["s_out"],
        attrs: [attr.g("then_branch", then), attr.g("else_branch", els)],
      }),
      node({ op: "Identity", name: "keep", inputs: ["c_in"], outputs: ["c_out"] }),
    ],
    inputs: [valueInfo("i", [], DT.INT64), valueInfo("c_in", [], DT.BOOL), valueInfo("s_in", [1, 4, 5, 5])],
    outputs: [valueInfo("c_out", [], DT.BOOL), valueInfo("s_out", [1, 4, 5, 5])],
  });
  const r = analyzeModel(
    model(
      graph({
        nodes: [node({ op: "Loop", name: "L", inputs: ["M", "go", "x"], outputs: ["y"], attrs: [attr.g("body", body)] })],
        initializers: [
          weight("w", 4, 4, 1, 1),
          weight("b", 4),
          tensor({ name: "M", dims: [], dataType: DT.INT64, int64s: [2] }),
          tensor({ name: "go", dims: [], dataType: DT.BOOL, raw: Uint8Array.of(1) }),
        ],
        inputs: [valueInfo("x", [1, 4, 5, 5])],
        outputs: [valueInfo("y")],
      }),
    ),
  );
  const c = r.layers.find((l) => l.name === "L/body/pick/then/c");
  assert.deepEqual([c?.inputs, c?.repeats, c?.macs], [["x", "w", "b"], 2, 800]);
  assert.ok(r.layers.some((l) => l.name === "L/body/pick/else/r"));
  // The condition is the loop's (run-time) condition: the costlier branch, then, 2 × 400.
  assert.equal(r.totals.macs, 800);
  assert.equal(r.totals.params, 20);
  assert.deepEqual(r.outputs[0].shape, [1, 4, 5, 5]);
});

test("a function that calls another is inlined through both; one that calls itself is a one-line error", () => {
  const inner = func({
    name: "Act",
    domain: "custom",
    inputs: ["A"],
    outputs: ["B"],
    nodes: [node({ op: "Relu", name: "relu", inputs: ["A"], outputs: ["B"] })],
  });
  const outer = func({
    name: "Block",
    domain: "custom",
    inputs: ["X", "W"],
    outputs: ["Y"],
    nodes: [
      node({ op: "MatMul", name: "mm", inputs: ["X", "W"], outputs: ["T"] }),
      node({ op: "Act", domain: "custom", name: "act", inputs: ["T"], outputs: ["Y"] }),
    ],
  });
  const main = (fns: Pb[]) =>
    model(
      graph({
        nodes: [node({ op: "Block", domain: "custom", name: "blk", inputs: ["x", "w"], outputs: ["y"] })],
        initializers: [weight("w", 6, 2)],
        inputs: [valueInfo("x", [1, 3, 6])],
        outputs: [valueInfo("y")],
      }),
      [
        ["", 13],
        ["custom", 1],
      ],
      8,
      fns,
    );
  const r = analyzeModel(main([inner, outer]));
  assert.deepEqual(
    r.layers.map((l) => l.name),
    ["blk/mm", "blk/act/relu"],
  );
  // [1, 3, 6]·[6, 2]: 3·6·2 = 36 MACs; 12 parameters
  assert.equal(r.totals.macs, 36);
  assert.equal(r.totals.params, 12);
  const self = func({
    name: "Block",
    domain: "custom",
    inputs: ["X", "W"],
    outputs: ["Y"],
    nodes: [node({ op: "Block", domain: "custom", name: "again", inputs: ["X", "W"], outputs: ["Y"] })],
  });
  assert.throws(() => analyzeModel(main([self])), /subgraphs and functions nested more than 32 deep/);
});
