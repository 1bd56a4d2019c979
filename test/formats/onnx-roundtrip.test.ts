import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { fileSource } from "../../src/cli/node-source.js";
import type { Graph, Tensor } from "../../src/core/graph.js";
import { bufferSource, readModel } from "../../src/formats/index.js";
import { sniffOnnx } from "../../src/formats/onnx/index.js";
import { attr, DT, graph, model, node, type Pb, tensor, valueInfo } from "./onnx-writer.js";

function read(m: Pb, name = "t.onnx"): Graph {
  return readModel(bufferSource(name, m.bytes()));
}

function f32(xs: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(xs).buffer);
}
function i64(xs: number[]): Uint8Array {
  return new Uint8Array(new BigInt64Array(xs.map(BigInt)).buffer);
}

test("every attribute type reads back with its value", () => {
  const body = graph({
    name: "body",
    nodes: [node({ op: "Relu", inputs: ["a"], outputs: ["b"] })],
    inputs: [valueInfo("a")],
    outputs: [valueInfo("b")],
  });
  const g = read(
    model(
      graph({
        nodes: [
          node({
            op: "Custom",
            name: "c",
            inputs: ["x"],
            outputs: ["y"],
            attrs: [
              attr.f("alpha", 0.25),
              attr.i("axis", -1),
              attr.i("big", 9_007_199_254_740_991n),
              attr.s("mode", "héllo"),
              attr.t("value", tensor({ name: "", dims: [3], dataType: DT.INT64, raw: i64([4, -5, 6]) })),
              attr.g("body", body),
              attr.floats("scales", [1, 2.5]),
              attr.ints("pads", [0, -1, 2]),
              attr.strings("names", ["a", "bé"]),
              attr.tensors("ts", [tensor({ name: "q", dims: [1], floats: [1] })]),
              attr.graphs("gs", [body]),
            ],
          }),
        ],
        inputs: [valueInfo("x", [1, 3])],
        outputs: [valueInfo("y")],
      }),
    ),
  );
  const a = g.nodes[0].attrs;
  assert.equal(a.alpha, 0.25);
  assert.equal(a.axis, -1, "negative int64 (10-byte varint)");
  assert.equal(a.big, 2 ** 53 - 1);
  assert.equal(a.mode, "héllo", "bytes decoded as UTF-8");
  const t = a.value as Tensor;
  assert.deepEqual([t.name, t.dtype, t.shape, t.initializer?.location, t.initializer?.byteLength], ["c.value", "int64", [3], "inline", 24]);
  assert.deepEqual(t.initializer?.read?.(), [4, -5, 6]);
  const sub = a.body as Graph;
  assert.deepEqual([sub.name, sub.nodes.map((n) => n.op), sub.inputs, sub.outputs], ["body", ["Relu"], ["a"], ["b"]]);
  assert.deepEqual(a.scales, [1, 2.5]);
  assert.deepEqual(a.pads, [0, -1, 2]);
  assert.deepEqual(a.names, ["a", "bé"]);
  // TENSORS and GRAPHS have no IR form (no standard op uses them): read, validated, not kept.
  assert.equal(a.ts, undefined);
  assert.equal(a.gs, undefined);
  assert.ok(
    g.notes.some((n) => n.includes("control flow (Custom at node 'c', Custom at node 'c') is not analysed")),
    g.notes.join("; "),
  );
});

test("Constant nodes become stored tensors (lazy) or literals, and are dropped", () => {
  const g = read(
    model(
      graph({
        nodes: [
          node({
            op: "Constant",
            outputs: ["w"],
            inputs: [],
            attrs: [attr.t("value", tensor({ name: "w", dims: [2, 3], raw: f32([1, 2, 3, 4, 5, 6]) }))],
          }),
          node({ op: "Constant", outputs: ["s"], inputs: [], attrs: [attr.t("value", tensor({ name: "", dims: [], floats: [0.5] }))] }),
          node({ op: "Constant", outputs: ["vf"], inputs: [], attrs: [attr.f("value_float", 2)] }),
          node({ op: "Constant", outputs: ["vfs"], inputs: [], attrs: [attr.floats("value_floats", [1, 2, 3])] }),
          node({ op: "Constant", outputs: ["vi"], inputs: [], attrs: [attr.i("value_int", 7)] }),
          node({ op: "Constant", outputs: ["vis"], inputs: [], attrs: [attr.ints("value_ints", [1, -1])] }),
          node({ op: "MatMul", inputs: ["x", "w"], outputs: ["y"] }),
        ],
        inputs: [valueInfo("x", [1, 2])],
        outputs: [valueInfo("y")],
      }),
    ),
  );
  assert.deepEqual(
    g.nodes.map((n) => n.op),
    ["MatMul"],
  );
  const w = g.tensors.get("w") as Tensor;
  assert.deepEqual(
    [w.dtype, w.shape, w.initializer?.location, w.initializer?.byteLength, w.value],
    ["float32", [2, 3], "inline", 24, undefined],
  );
  assert.deepEqual(w.initializer?.read?.(), [1, 2, 3, 4, 5, 6]);
  // A 0-d Constant is a literal (like GELU's 0.5): a value, no stored initializer, not a parameter.
  assert.deepEqual(g.tensors.get("s"), { name: "s", dtype: "float32", shape: [], value: [0.5] });
  assert.deepEqual(g.tensors.get("vf"), { name: "vf", dtype: "float32", shape: [], value: [2] });
  assert.deepEqual(g.tensors.get("vi"), { name: "vi", dtype: "int64", shape: [], value: [7] });
  assert.deepEqual(g.tensors.get("vfs")?.value, [1, 2, 3]);
  assert.deepEqual(g.tensors.get("vfs")?.initializer?.byteLength, 12);
  assert.deepEqual([g.tensors.get("vis")?.shape, g.tensors.get("vis")?.value], [[2], [1, -1]]);
  // The Constant's weights count like an initializer's: 2·3 = 6 params, MatMul 1×2 · 2×3 = 6 MACs.
  const r = analyze(g);
  assert.equal(r.totals.params, 6);
  assert.equal(r.totals.macs, 6);
  assert.deepEqual(r.outputs[0].shape, [1, 3]);
});

test("tensor storage forms decode on demand: raw float16, float_data, int32_data, int64_data", () => {
  const half = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3800]).buffer); // 1, -2, 0.5
  const g = read(
    model(
      graph({
        nodes: [node({ op: "Identity", inputs: ["x"], outputs: ["y"] })],
        initializers: [
          tensor({ name: "h", dims: [3], dataType: DT.FLOAT16, raw: half }),
          tensor({ name: "f", dims: [2], floats: [1.5, -3] }),
          tensor({ name: "i", dims: [2], dataType: DT.INT32, int32s: [7, -8] }),
          tensor({ name: "l", dims: [2], dataType: DT.INT64, int64s: [-1, 2 ** 40] }),
        ],
        inputs: [valueInfo("x", [1])],
        outputs: [valueInfo("y")],
      }),
    ),
  );
  const values = (n: string) => g.tensors.get(n)?.initializer?.read?.();
  assert.deepEqual(values("h"), [1, -2, 0.5]);
  assert.deepEqual(values("f"), [1.5, -3]);
  assert.deepEqual(values("i"), [7, -8]);
  assert.deepEqual(values("l"), [-1, 2 ** 40]);
  assert.equal(g.tensors.get("h")?.dtype, "float16");
});

test("symbolic dims stay symbols, a dim with neither value nor name gets a fresh one", () => {
  const g = read(
    model(
      graph({
        nodes: [node({ op: "Relu", inputs: ["x"], outputs: ["y"] })],
        inputs: [valueInfo("x", ["N", 3, "height", null])],
        outputs: [valueInfo("y", ["N", 3, "height", null])],
      }),
    ),
  );
  // Each anonymous dim is distinct (declarations are read value_info, outputs, then inputs).
  assert.deepEqual(g.tensors.get("y")?.shape, ["N", 3, "height", "?1"]);
  assert.deepEqual(g.tensors.get("x")?.shape, ["N", 3, "height", "?2"]);
  // Bound with --input, the analysis has exact numbers.
  const r = analyze(g, { inputs: { x: [2, 3, 4, 5] } });
  assert.deepEqual(r.outputs[0].shape, [2, 3, 4, 5]);
});

test("opset, domains, node names and initializers listed as inputs", () => {
  const g = read(
    model(
      graph({
        nodes: [
          node({ op: "Relu", inputs: ["x"], outputs: ["a"] }),
          node({ op: "Relu", name: "Relu_0", inputs: ["a"], outputs: ["b"] }),
          node({ op: "Relu", name: "dup", inputs: ["b"], outputs: ["c"] }),
          node({ op: "Relu", name: "dup", inputs: ["c"], outputs: ["d"], domain: "ai.onnx" }),
          node({ op: "FusedConv", name: "fc", inputs: ["d", "w"], outputs: ["y"], domain: "com.microsoft" }),
        ],
        initializers: [tensor({ name: "w", dims: [1], floats: [1] })],
        // IR 3 lists initializers among the inputs: they are not model inputs.
        inputs: [valueInfo("x", [1, 1]), valueInfo("w", [1])],
        outputs: [valueInfo("y")],
      }),
      [
        ["", 11],
        ["com.microsoft", 1],
      ],
      3,
    ),
  );
  assert.equal(g.opset, 11);
  assert.deepEqual(g.inputs, ["x"]);
  // An empty name, and the second of two equal names, get `OpType_N`, skipping names in use.
  assert.deepEqual(
    g.nodes.map((n) => n.name),
    ["Relu_1", "Relu_0", "dup", "Relu_2", "fc"],
  );
  assert.deepEqual(
    g.nodes.map((n) => n.op),
    ["Relu", "Relu", "Relu", "Relu", "com.microsoft::FusedConv"],
  );
  const r = analyze(g);
  assert.equal(r.totals.partial, "partial: 1 layer of type com.microsoft::FusedConv not counted");
});

test("external data: dims from the model alone; weights file present or missing is a note, never an error", () => {
  const dir = mkdtempSync(join(tmpdir(), "convscope-onnx-"));
  try {
    const m = model(
      graph({
        nodes: [
          node({ op: "Conv", inputs: ["x", "w"], outputs: ["c"], attrs: [attr.ints("kernel_shape", [3, 3])] }),
          node({ op: "Reshape", inputs: ["c", "shape"], outputs: ["y"] }),
        ],
        initializers: [
          tensor({ name: "w", dims: [8, 3, 3, 3], external: { location: "w.bin", length: 864 } }),
          tensor({ name: "shape", dims: [2], dataType: DT.INT64, external: { location: "w.bin", offset: 864, length: 16 } }),
        ],
        inputs: [valueInfo("x", [1, 3, 5, 5])],
        outputs: [valueInfo("y")],
      }),
    );
    writeFileSync(join(dir, "m.onnx"), m.bytes());
    const analyzeFile = () => {
      const src = fileSource(join(dir, "m.onnx"));
      try {
        const g = readModel(src);
        return { g, r: analyze(g) };
      } finally {
        src.close();
      }
    };

    // Missing: shapes, params and the conv's MACs are all known; the Reshape needs the
    // shape's values, which are not there, so only what follows it is unknown (not an error).
    const missing = analyzeFile();
    assert.deepEqual(missing.g.notes, ["weights file 'w.bin' was not read (not found); analysis needs only shapes"]);
    const w = missing.g.tensors.get("w");
    assert.deepEqual(
      [w?.shape, w?.initializer?.location, w?.initializer?.externalFile, w?.initializer?.byteLength],
      [[8, 3, 3, 3], "external", "w.bin", 864],
    );
    assert.equal(missing.r.totals.params, 8 * 3 * 3 * 3);
    // 3×3 conv, 3→8 channels, 5×5 → 3×3: 3·3·8 outputs × 27 = 1,944 MACs.
    assert.equal(missing.r.layers[0].macs, 1944);
    assert.equal(missing.g.tensors.get("shape")?.initializer?.read, undefined);
    assert.equal(missing.r.outputs[0].shape, undefined);

    // Present: same notes' spirit; a shape constant stored there is read when a rule needs it.
    writeFileSync(join(dir, "w.bin"), new Uint8Array([...new Uint8Array(864), ...i64([1, 72])]));
    const present = analyzeFile();
    assert.deepEqual(present.g.notes, ["weights file 'w.bin' was not read: analysis needs only shapes"]);
    assert.deepEqual(present.g.tensors.get("shape")?.initializer?.read?.(), [1, 72]);
    assert.deepEqual(present.r.outputs[0].shape, [1, 72]);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test("a small model written end to end: shapes, params and MACs by hand", () => {
  // Conv 3→4, 3×3, pad 1 on 1×3×8×8 with bias; Relu; Flatten; Gemm 256→10.
  const g = read(
    model(
      graph({
        nodes: [
          node({
            op: "Conv",
            inputs: ["x", "w", "b"],
            outputs: ["c"],
            attrs: [attr.ints("kernel_shape", [3, 3]), attr.ints("pads", [1, 1, 1, 1])],
          }),
          node({ op: "Relu", inputs: ["c"], outputs: ["r"] }),
          node({ op: "Flatten", inputs: ["r"], outputs: ["f"], attrs: [attr.i("axis", 1)] }),
          node({ op: "Gemm", inputs: ["f", "fw", "fb"], outputs: ["y"], attrs: [attr.i("transB", 1)] }),
        ],
        initializers: [
          tensor({ name: "w", dims: [4, 3, 3, 3], fill: 432 }),
          tensor({ name: "b", dims: [4], fill: 16 }),
          tensor({ name: "fw", dims: [10, 256], fill: 10240 }),
          tensor({ name: "fb", dims: [10], fill: 40 }),
        ],
        inputs: [valueInfo("x", ["N", 3, 8, 8])],
        outputs: [valueInfo("y", ["N", 10])],
      }),
    ),
  );
  const r = analyze(g);
  // params: 4·3·3·3 + 4 = 112; 10·256 + 10 = 2,570.
  assert.equal(r.totals.params, 112 + 2570);
  // MACs: 8·8·4 outputs × 27 = 6,912; FC 256·10 = 2,560.
  assert.equal(r.totals.macs, 6912 + 2560);
  assert.deepEqual(r.outputs[0].shape, [1, 10], "batch dim N bound to 1");
  assert.ok(r.notes.some((n) => n.includes("batch dim 'N' was not bound")));
  assert.deepEqual(r.tensors.r.rf, { size: [3, 3], stride: [1, 1], padding: [1, 1], aligned: true });
});

test("ONNX is recognised by content (ir_version, then ModelProto fields), or by the .onnx name", () => {
  const bytes = model(
    graph({ nodes: [node({ op: "Relu", inputs: ["x"], outputs: ["y"] })], inputs: [valueInfo("x", [1, 3])], outputs: [valueInfo("y")] }),
  ).bytes();
  assert.equal(bytes[0], 0x08, "field 1, varint: ir_version");
  assert.ok(sniffOnnx(bytes.subarray(0, 4096), "model.bin"));
  // Another protobuf that also starts with a varint field 1 but continues with fields ModelProto has not.
  assert.equal(sniffOnnx(Uint8Array.from([0x08, 0x01, 0x7a, 0x02, 0x41, 0x42]), "net.caffemodel"), false);
  assert.equal(sniffOnnx(new TextEncoder().encode('{"layers": []}'), "spec.json"), false);
  assert.ok(sniffOnnx(new TextEncoder().encode("anything"), "broken.onnx"), "the name alone, so damage gets an ONNX error");
  assert.equal(readModel(bufferSource("model.bin", bytes)).format, "onnx");
});
