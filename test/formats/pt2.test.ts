import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { unzipSync, zipSync } from "fflate";
import { analyze } from "../../src/analysis/index.js";
import { ConvscopeError } from "../../src/core/errors.js";
import { type ByteSource, bufferSource, readModel } from "../../src/formats/index.js";
import { buildGraph } from "../../src/formats/pt2/index.js";
import type { ExportedProgram } from "../../src/formats/pt2/schema.js";

// torch.export archives written by torch 2.13 (torch.export.export + torch.export.save) with
// their weight payloads removed; reference.json holds torch's own figures for each model
// (sum(p.numel()), float buffers, FlopCounterMode / 2) — files and numbers nobody here wrote.
const dir = new URL("../fixtures/v2/pt2/", import.meta.url);
const reference = JSON.parse(readFileSync(new URL("reference.json", dir), "utf8"));
const bytes = (file: string) => new Uint8Array(readFileSync(new URL(file, dir)));
const read = (file: string) => readModel(bufferSource(file, bytes(file)));

for (const model of ["mobilenet_v3_small", "resnet34", "vit_tiny_patch16_384"]) {
  const ref = reference[model];
  test(`${model}.pt2: params, trainable, MACs and output as torch counts them`, () => {
    const g = read(ref.file);
    assert.equal(g.format, "pt2");
    const r = analyze(g);
    // Every parameter and float buffer (BN unfolded): params + buffers; trainable = model.parameters().
    assert.equal(r.totals.params, ref.expect_params);
    assert.equal(r.totals.params, ref.params + ref.buffers);
    assert.equal(r.totals.trainable_params, ref.params);
    assert.equal(r.totals.by_convention.macs, ref.macs);
    assert.deepEqual(
      r.outputs.map((o) => o.shape),
      ref.outputs.map((o: { shape: number[] }) => o.shape),
    );
    assert.deepEqual(
      r.layers.filter((l) => l.status === "unknown").map((l) => l.name),
      [],
    );
  });
}

test("resnet34.pt2: layers are named by module path and carry the nn_module_stack", () => {
  const g = read("resnet34.pt2");
  const conv = g.nodes.find((n) => n.name === "layer1.0.conv1");
  assert.equal(conv?.op, "Conv");
  assert.equal(conv?.source, "aten.conv2d.default");
  assert.deepEqual(conv?.module, [
    { path: "", type: "torchvision.models.resnet.ResNet" },
    { path: "layer1", type: "torch.nn.modules.container.Sequential" },
    { path: "layer1.0", type: "torchvision.models.resnet.BasicBlock" },
    { path: "layer1.0.conv1", type: "torch.nn.modules.conv.Conv2d" },
  ]);
  // The block's ReLU module is called twice: the second call is `relu@1`; the residual add
  // belongs to the block itself.
  assert.ok(g.nodes.some((n) => n.name === "layer1.0.relu@1" && n.op === "Relu"));
  assert.equal(g.nodes.find((n) => n.name === "layer1.0")?.op, "Add");
  // BN: γ, β trainable parameters; running mean and var buffers (num_batches_tracked is int64: not a parameter).
  assert.equal(g.tensors.get("bn1.weight")?.initializer?.trainable, true);
  assert.equal(g.tensors.get("bn1.running_var")?.initializer?.trainable, false);
  const r = analyze(g);
  assert.equal((r.totals.params ?? Number.NaN) - (r.totals.trainable_params ?? Number.NaN), reference.resnet34.buffers); // 17,024
});

test("resnet34_dynamic.pt2: sizes stay symbolic until --input binds them, at any bound shape", () => {
  const ref = reference.resnet34_dynamic;
  const g = read(ref.file);
  assert.deepEqual(
    g.tensors.get("x")?.shape,
    ref.pt2.input_symbolic_shape.map((d: string) => (/^\d+$/.test(d) ? Number(d) : d)),
  );
  assert.ok(g.notes.some((n) => n.includes("s53 ∈ [64, 1024]")));
  const open = analyze(g);
  assert.equal(open.totals.by_convention.macs, null);
  assert.equal(open.totals.params, ref.expect_params);
  for (const [shape, macs] of Object.entries(ref.macs_at) as [string, number][]) {
    const dims = shape.split("x").map(Number);
    const r = analyze(read(ref.file), { inputs: { x: dims } });
    assert.equal(r.batch_totals.by_convention.macs, macs, shape);
    assert.deepEqual(
      r.outputs.map((o) => o.shape),
      ref.outputs_at[shape],
    );
  }
});

/** A ByteSource that records every byte range read. */
function recording(src: ByteSource): { src: ByteSource; ranges: [number, number][] } {
  const ranges: [number, number][] = [];
  return {
    ranges,
    src: {
      ...src,
      read(offset, length) {
        ranges.push([offset, offset + length]);
        return src.read(offset, length);
      },
    },
  };
}

test("weight entries are never opened: an archive with weights in it analyses the same, and their bytes are not read", () => {
  const entries = unzipSync(bytes("resnet34.pt2"));
  // A payload that cannot be inflated or parsed as anything: reading it would fail or show.
  const junk = new Uint8Array(1 << 20).map((_, i) => (i * 7919) & 0xff);
  const archive = zipSync({ ...entries, "resnet34/data/weights/weight_0": [junk, { level: 0 }] }, { level: 6 });
  const rec = recording(bufferSource("resnet34.pt2", archive));
  const withWeights = analyze(readModel(rec.src));
  const stripped = analyze(read("resnet34.pt2"));
  assert.deepEqual(withWeights.totals, stripped.totals);
  const read_ = rec.ranges.reduce((s, [a, b]) => s + (b - a), 0);
  assert.ok(read_ < archive.length - junk.length / 2, `read ${read_} of ${archive.length} bytes`);
});

function zipOf(files: Record<string, string>): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, new TextEncoder().encode(v)])));
}

test("TorchScript, torch.save and legacy pickles get a one-line error saying how to make a .pt2 or ONNX", () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ["scripted.pt", zipOf({ "m/data.pkl": "x", "m/code/__torch__.py": "x", "m/constants.pkl": "x" }), /TorchScript/],
    ["weights.pth", zipOf({ "archive/data.pkl": "x", "archive/data/0": "x" }), /state_dict/],
    ["old.pt", new Uint8Array([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46]), /pickled/],
  ];
  for (const [name, data, what] of cases) {
    assert.throws(
      () => readModel(bufferSource(name, data)),
      (e: unknown) => {
        assert.ok(e instanceof ConvscopeError);
        assert.match(e.message, what);
        assert.match(e.message, /torch\.export\.save/);
        assert.match(e.message, /torch\.onnx\.export/);
        assert.equal(e.oneLine().includes("\n"), false);
        return true;
      },
    );
  }
});

test("resnet34.pt2: receptive field and peak memory as the same model's dynamo ONNX gives them", () => {
  // Different graphs (BN apart vs folded into the convs), one network: the features before
  // the global pool see 899×899 pixels with stride 32 (ResNet-34's published receptive field).
  const onnx = new URL("../fixtures/v2/onnx-dynamo/resnet34.onnx", import.meta.url);
  const a = analyze(read("resnet34.pt2"));
  const b = analyze(readModel(bufferSource("resnet34.onnx", new Uint8Array(readFileSync(onnx)))));
  const rf = (r: ReturnType<typeof analyze>) => {
    const pool = r.layers.find((l) => l.op === "GlobalAveragePool" || l.op === "ReduceMean");
    assert.ok(pool);
    return r.tensors[pool.inputs[0]].rf;
  };
  assert.deepEqual(rf(a), { size: [899, 899], stride: [32, 32], padding: [449, 449], aligned: true });
  assert.deepEqual(rf(a), rf(b));
  assert.equal(a.totals.peak_activation_bytes, b.totals.peak_activation_bytes);
});

test("x.view(x.size(0), -1) in a dynamic export: the size read by sym_size copies the input's dim", () => {
  const sym = { as_expr: { expr_str: "Symbol('s0', positive=True, integer=True)", hint: { as_int: 2 } } };
  const ep: ExportedProgram = {
    graph_module: {
      graph: {
        nodes: [
          {
            target: "torch.ops.aten.sym_size.int",
            name: "sym_size_int",
            inputs: [
              { name: "self", arg: { as_tensor: { name: "x" } } },
              { name: "dim", arg: { as_int: 0 } },
            ],
            outputs: [{ as_sym_int: { as_name: "sym_size_int" } }],
          },
          {
            target: "torch.ops.aten.view.default",
            name: "view",
            inputs: [
              { name: "self", arg: { as_tensor: { name: "x" } } },
              { name: "size", arg: { as_sym_ints: [{ as_name: "sym_size_int" }, { as_int: -1 }] } },
            ],
            outputs: [{ as_tensor: { name: "view" } }],
          },
        ],
        tensor_values: {
          x: { dtype: 7, sizes: [sym, { as_int: 8 }, { as_int: 2 }, { as_int: 2 }] },
          view: { dtype: 7, sizes: [sym, { as_int: 32 }] },
        },
      },
      signature: {
        input_specs: [{ user_input: { arg: { as_tensor: { name: "x" } } } }],
        output_specs: [{ user_output: { arg: { as_tensor: { name: "view" } } } }],
      },
    },
    range_constraints: { s0: { min_val: 2, max_val: 64 } },
  };
  const g = buildGraph(ep, "view");
  assert.deepEqual(g.tensors.get("x")?.shape, ["s0", 8, 2, 2]);
  assert.deepEqual(
    g.nodes.map((n) => n.op),
    ["Reshape"],
  );
  const r = analyze(g, { inputs: { x: [3, 8, 2, 2] } });
  assert.deepEqual(r.outputs[0].shape, [3, 32]);
  assert.ok(g.notes.includes("symbolic sizes of the export: s0 ∈ [2, 64]"));
});
