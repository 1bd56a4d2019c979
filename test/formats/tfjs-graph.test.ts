import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { fileSource } from "../../src/cli/node-source.js";
import { ConvscopeError } from "../../src/core/errors.js";
import { bufferSource, readModel } from "../../src/formats/index.js";
import { nhwcToNchw } from "../../src/formats/layout.js";

const HUMAN = new URL("../../node_modules/@vladmandic/human/models/", import.meta.url);

/** The ops the reader translates (the brief's list); none of these may be left unknown in a human model. */
const TRANSLATED = `Placeholder Const Identity Conv2D DepthwiseConv2dNative _FusedConv2D FusedDepthwiseConv2dNative _FusedMatMul
MatMul BiasAdd Add AddV2 Sub Mul RealDiv Maximum Minimum Relu Relu6 Elu Sigmoid Tanh Softmax Selu LeakyRelu Prelu
MaxPool AvgPool Mean Sum Max Pad PadV2 MirrorPad Reshape Squeeze ExpandDims ConcatV2 Transpose ResizeBilinear
ResizeNearestNeighbor Slice StridedSlice Split SplitV Pack Unpack Shape Cast Fill Rsqrt Sqrt Square Exp Log Tile GatherV2
FusedBatchNorm FusedBatchNormV3 SquaredDifference FloorDiv ArgMax`.split(/\s+/);

/** Spatial inputs bound where the file leaves them open (handtrack's detector runs at 320×320). */
const BIND: Record<string, Record<string, number[]>> = { "handtrack.json": { input_tensor: [1, 3, 320, 320] } };

interface ModelJson {
  format?: string;
  modelTopology: { node: { name: string; op: string; input?: string[] }[] };
  weightsManifest: { weights: { name: string; shape: number[]; dtype: string }[] }[];
  signature?: { outputs?: Record<string, { name: string; tensorShape?: { dim?: { size: string }[] } }> };
  userDefinedMetadata?: { signature?: ModelJson["signature"] };
}

const files = readdirSync(HUMAN).filter((f) => f.endsWith(".json"));

for (const f of files) {
  const json = JSON.parse(readFileSync(new URL(f, HUMAN), "utf8")) as ModelJson;
  if (json.format !== "graph-model") continue;
  test(`human model ${f} analyses`, () => {
    const src = fileSource(new URL(f, HUMAN).pathname);
    try {
      const g = readModel(src);
      assert.equal(g.format, "tfjs-graph");
      const r = analyze(g, { inputs: BIND[f] ?? {} });
      // No op of the translated list may remain unknown — except in graphs with control flow,
      // where ops fed by a loop have no known rank to translate with; those must be reported.
      // An op whose rank is unknown (movenet's Unpack after GatherNd, which becomes ONNX GatherND,
      // for which convscope has no shape rule) is still translated: on the file's order.
      const unknown = r.layers.filter((l) => l.status === "unknown").map((l) => l.source ?? l.op);
      const controlFlow = g.notes.some((n) => n.includes("control flow"));
      if (controlFlow) {
        assert.ok(r.totals.partial, "control-flow parts are reported as not counted");
      } else {
        assert.deepEqual(
          unknown.filter((op) => TRANSLATED.includes(op)),
          [],
        );
      }
      // Declared output shapes (NHWC in the signature, −1 batch bound to 1) match, channels-first.
      const sig = json.signature ?? json.userDefinedMetadata?.signature;
      for (const o of Object.values(sig?.outputs ?? {})) {
        const dims = o.tensorShape?.dim?.map((d) => Math.max(Number(d.size), 1));
        const ref = o.name.replace(/:0$/, "");
        const got = r.outputs.find((x) => x.name === ref || x.name === `${ref}/to_nchw`);
        // Without control flow every declared output has a shape (inferred, else the signature's).
        if (!controlFlow) assert.ok(got?.shape, `output ${o.name} has a shape`);
        if (!dims || !got?.shape) continue;
        assert.deepEqual(got.shape, nhwcToNchw(dims), `output ${o.name}`);
      }
      // Params: float weights of the manifest that layers consume as weights.
      const floats = json.weightsManifest.flatMap((g) => g.weights).filter((w) => w.dtype === "float32");
      const total = floats.reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1), 0);
      assert.ok(
        Number(r.totals.params) <= total && Number(r.totals.params) > 0.99 * total,
        `params ${r.totals.params} vs manifest ${total}`,
      );
    } finally {
      src.close();
    }
  });
}

/** A hand-written graph model: conv with fused BiasAdd+Relu6, depthwise with Prelu, pool, mean, matmul. */
function tinyModel(): Uint8Array {
  const s = (x: string) => btoa(x);
  const list = (...i: number[]) => ({ list: { i: i.map(String) } });
  const model = {
    format: "graph-model",
    modelTopology: {
      node: [
        {
          name: "x",
          op: "Placeholder",
          attr: { dtype: { type: "DT_FLOAT" }, shape: { shape: { dim: [{ size: "-1" }, { size: "16" }, { size: "16" }, { size: "3" }] } } },
        },
        { name: "w", op: "Const", attr: { dtype: { type: "DT_FLOAT" } } },
        { name: "b", op: "Const", attr: { dtype: { type: "DT_FLOAT" } } },
        {
          name: "conv",
          op: "_FusedConv2D",
          input: ["x", "w", "b"],
          attr: {
            strides: list(1, 2, 2, 1),
            dilations: list(1, 1, 1, 1),
            padding: { s: s("SAME") },
            data_format: { s: s("NHWC") },
            fused_ops: { list: { s: [s("BiasAdd"), s("Relu6")] } },
            num_args: { i: "1" },
          },
        },
        { name: "dw", op: "Const", attr: { dtype: { type: "DT_FLOAT" } } },
        { name: "db", op: "Const", attr: { dtype: { type: "DT_FLOAT" } } },
        { name: "alpha", op: "Const", attr: { dtype: { type: "DT_FLOAT" } } },
        {
          name: "dwconv",
          op: "FusedDepthwiseConv2dNative",
          input: ["conv", "dw", "db", "alpha"],
          attr: {
            strides: list(1, 1, 1, 1),
            padding: { s: s("EXPLICIT") },
            explicit_paddings: list(0, 0, 1, 1, 1, 1, 0, 0),
            fused_ops: { list: { s: [s("BiasAdd"), s("Prelu")] } },
            num_args: { i: "2" },
          },
        },
        {
          name: "pool",
          op: "MaxPool",
          input: ["dwconv"],
          attr: { ksize: list(1, 2, 2, 1), strides: list(1, 2, 2, 1), padding: { s: s("VALID") } },
        },
        {
          name: "axes",
          op: "Const",
          attr: {
            dtype: { type: "DT_INT32" },
            value: { tensor: { dtype: "DT_INT32", tensorShape: { dim: [{ size: "2" }] }, intVal: [1, 2] } },
          },
        },
        { name: "mean", op: "Mean", input: ["pool", "axes"], attr: { keep_dims: { b: false } } },
        { name: "fw", op: "Const", attr: { dtype: { type: "DT_FLOAT" } } },
        { name: "fb", op: "Const", attr: { dtype: { type: "DT_FLOAT" } } },
        {
          name: "fc",
          op: "_FusedMatMul",
          input: ["mean", "fw", "fb", "^pool"],
          attr: { fused_ops: { list: { s: [s("BiasAdd")] } }, transpose_a: { b: false }, transpose_b: { b: false } },
        },
        { name: "nms", op: "NonMaxSuppressionV5", input: ["fc", "fc"] },
        { name: "out", op: "Identity", input: ["fc"] },
      ],
      versions: { producer: 1 },
    },
    weightsManifest: [
      {
        paths: ["tiny.bin"],
        weights: [
          { name: "w", shape: [3, 3, 3, 8], dtype: "float32", quantization: { dtype: "float16", original_dtype: "float32" } },
          { name: "b", shape: [8], dtype: "float32" },
          { name: "dw", shape: [3, 3, 8, 1], dtype: "float32" },
          { name: "db", shape: [8], dtype: "float32" },
          { name: "alpha", shape: [1, 1, 8], dtype: "float32" },
          { name: "fw", shape: [8, 5], dtype: "float32" },
          { name: "fb", shape: [5], dtype: "float32" },
        ],
      },
    ],
  };
  return new TextEncoder().encode(JSON.stringify(model));
}

test("hand-written graph model: fused conv ops, explicit padding, Prelu, MatMul, unknown NMS reported", () => {
  const g = readModel(bufferSource("tiny.json", tinyModel()));
  const r = analyze(g);
  const shape = (t: string) => r.tensors[t]?.shape;
  // SAME stride 2 on 16: 8 → conv [1, 8, 8, 8]; explicit pad 1 keeps 8; pool 2 → 4; mean → [1, 8]; fc → [1, 5].
  assert.deepEqual(shape("conv"), [1, 8, 8, 8]);
  assert.deepEqual(shape("dwconv"), [1, 8, 8, 8]);
  assert.deepEqual(shape("pool"), [1, 8, 4, 4]);
  assert.deepEqual(shape("mean"), [1, 8]);
  assert.deepEqual(shape("fc"), [1, 5]);
  // MACs: conv 8·8·8 × 27 = 13,824; depthwise 8·8·8 × 9 = 4,608; fc 8·5 = 40 → 18,472.
  // (The total is unknown — null — because the NMS layer is not counted; the known layers sum to it.)
  assert.equal(r.totals.macs, null);
  assert.equal(
    r.layers.reduce((a, l) => a + (l.macs ?? 0), 0),
    18_472,
  );
  // Params: 216 + 8 + 72 + 8 + 8 (Prelu alpha) + 40 + 5 = 357; the float16-stored conv weight is 216·2 bytes.
  assert.equal(r.totals.params, 357);
  assert.equal(g.tensors.get("w")?.dtype, "float16");
  assert.deepEqual(
    r.layers.filter((l) => l.name.startsWith("conv") || l.name.startsWith("dwconv")).map((l) => [l.name, l.op]),
    [
      ["conv", "Conv"],
      ["conv/relu6", "Clip"],
      ["dwconv", "Conv"],
      ["dwconv/prelu", "PRelu"],
    ],
  );
  assert.equal(r.layers.find((l) => l.name === "nms")?.status, "unknown");
  assert.ok(r.totals.partial?.includes("tf::NonMaxSuppressionV5"));
});

test("control flow is reported, not a crash; bad JSON is one line naming the file", () => {
  const model = {
    format: "graph-model",
    modelTopology: {
      node: [
        { name: "x", op: "Placeholder", attr: { dtype: { type: "DT_FLOAT" }, shape: { shape: { dim: [{ size: "4" }] } } } },
        { name: "enter", op: "Enter", input: ["x"] },
        { name: "merge", op: "Merge", input: ["enter", "next"] },
        { name: "relu", op: "Relu", input: ["merge"] },
        { name: "next", op: "NextIteration", input: ["relu"] },
        { name: "exit", op: "Exit", input: ["merge"] },
      ],
    },
    weightsManifest: [],
  };
  const g = readModel(bufferSource("loop.json", new TextEncoder().encode(JSON.stringify(model))));
  const r = analyze(g);
  assert.ok(g.notes.some((n) => n.includes("control flow")));
  // The loop (Enter … Exit, frame named after the Enter) is one layer of unknown cost.
  assert.deepEqual(
    r.layers.filter((l) => l.status === "unknown").map((l) => l.op),
    ["tf::While"],
  );
  assert.ok(r.totals.partial?.includes("tf::While"));
  assert.throws(
    () => readModel(bufferSource("broken.json", new TextEncoder().encode('{"format": "graph-model", "modelTopology": {'))),
    (e: unknown) => e instanceof ConvscopeError && e.file === "broken.json" && !e.oneLine().includes("\n"),
  );
  assert.throws(
    () =>
      readModel(
        bufferSource(
          "dangling.json",
          new TextEncoder().encode(
            JSON.stringify({ format: "graph-model", modelTopology: { node: [{ name: "r", op: "Relu", input: ["missing"] }] } }),
          ),
        ),
      ),
    (e: unknown) => e instanceof ConvscopeError && e.layer === "r" && /missing/.test(e.message),
  );
});
