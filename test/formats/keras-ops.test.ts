import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConvscopeError } from "../../src/core/errors.js";
import { analyzeConfig, KerasConfig } from "./keras-apps.js";

/**
 * Keras 3 operation nodes (keras.src.ops.*) and the layers added with them (LayerScale,
 * CustomScaleLayer, GroupNormalization, UnitNormalization, Embedding, MultiHeadAttention),
 * each with shapes, parameters and MACs computed by hand. Shapes are convscope's:
 * channels-last tensors of rank ≥ 3 shown channels-first.
 */

function run(config: object) {
  const a = analyzeConfig(config);
  return { ...a, shape: a.tensorShape };
}

const conv = (filters: number, k: number) => ({
  filters,
  kernel_size: [k, k],
  strides: [1, 1],
  padding: "same",
  activation: "linear",
  use_bias: true,
});

describe("Keras 3 operation nodes", () => {
  for (const module of ["keras.src.ops.numpy", null] as const) {
    it(`x + 3.0, x * 0.5, x − y, x / y: element-wise with constant operands (${module ? "to_json" : "legacy .h5, no module"})`, () => {
      const m = new KerasConfig("ew", 3);
      const x = m.input("x", [null, 8, 8, 3]);
      // Conv 3×3 same 3→4: 8·8·4·27 = 6,912 MACs, 3·3·3·4 + 4 = 112 params.
      const c = m.layer("Conv2D", "c", conv(4, 3), x);
      const a = m.op("Add", "add", {}, [c, 3.0], module);
      const b = m.op("Multiply", "mul", {}, [a, 0.5], module);
      const d = m.op("Subtract", "sub", {}, [b, c], module);
      const e = m.op("Divide", "div", {}, [d, 2], module);
      // layers.Add (a list argument) next to ops.Add: both read, each by its own rules.
      const f = m.layer("Add", "layer_add", {}, [e, c]);
      const { g, r, layer, shape } = run(m.build([f]));
      assert.deepEqual(
        ["add", "mul", "sub", "div", "layer_add"].map((n) => layer(n).op),
        ["Add", "Mul", "Sub", "Div", "Add"],
      );
      assert.deepEqual(g.tensors.get("add/operand1")?.value, [3]);
      assert.deepEqual(g.tensors.get("add/operand1")?.shape, []);
      for (const n of ["add", "mul", "sub", "div", "layer_add"]) {
        assert.deepEqual(shape(n), [1, 4, 8, 8]);
        assert.equal(layer(n).params, 0);
        assert.equal(layer(n).macs, 0);
      }
      // The literals are constants, not parameters: only the conv's 112.
      assert.equal(r.totals.params, 112);
      assert.equal(r.totals.macs, 6_912);
      // Element-wise: the field stays the conv's 3×3.
      assert.deepEqual((r.tensors.div.rf as { size?: number[] }).size, [3, 3]);
    });
  }

  it("a [C] literal broadcasts on the channel axis (reshaped to [1, C, 1, 1])", () => {
    const m = new KerasConfig("bc", 3);
    const x = m.input("x", [null, 5, 6, 3]);
    const y = m.op("Multiply", "scale", {}, [x, [0.1, 0.2, 0.3]]);
    const { g, layer, shape } = run(m.build([y]));
    // Without the reshape, [N, 3, 5, 6] · [3] would broadcast on W (6 ≠ 3) and fail.
    assert.deepEqual(shape("scale"), [1, 3, 5, 6]);
    assert.deepEqual(g.tensors.get("scale/operand1")?.shape, [3]);
    assert.equal(layer("scale/operand1/align").op, "Reshape");
    assert.deepEqual(g.tensors.get("scale/operand1/shape")?.value, [1, 3, 1, 1]);
  });

  it("reductions: mean over H, W; max over channels (keepdims or not, the result channels-first again)", () => {
    const m = new KerasConfig("red", 3);
    const x = m.input("x", [null, 8, 6, 16]);
    const gap = m.op("Mean", "gap", { axis: [1, 2], keepdims: false }, [x]);
    const keep = m.op("Mean", "keep", { axis: [-1], keepdims: true }, [x]);
    // max over the channels, no keepdims: Keras [N, 8, 6] → shown [N, 6, 8] (last axis first).
    const mx = m.op("Max", "mx", { axis: -1, keepdims: false }, [x]);
    const sm = m.op("Sum", "sm", { axis: null, keepdims: false }, [x]);
    const { layer, shape } = run(m.build([gap, keep, mx, sm]));
    assert.deepEqual(shape("gap/squeeze"), [1, 16]);
    assert.equal(layer("gap").op, "ReduceMean");
    assert.deepEqual(shape("keep"), [1, 1, 8, 6]);
    assert.deepEqual(shape("mx/squeeze"), [1, 8, 6]);
    assert.deepEqual(shape("mx/layout"), [1, 6, 8]);
    assert.equal(layer("mx").op, "ReduceMax");
    assert.deepEqual(shape("sm/squeeze"), []);
    assert.equal(layer("gap").macs, 0);
  });

  it("argmax over the last axis: int64 indices [N, 64], 64·(16 − 1) comparisons", () => {
    const m = new KerasConfig("am", 3);
    const x = m.input("x", [null, 64, 16]);
    const a = m.op("Argmax", "am", { axis: -1, keepdims: false }, [x]);
    const { r, layer, shape } = run(m.build([a]));
    assert.deepEqual(shape("am"), [1, 64]);
    assert.equal(r.tensors.am.dtype, "int64");
    assert.equal(layer("am").op, "ArgMax");
    assert.equal(layer("am").macs, 0);
  });

  it("reshape with newshape (batch −1 kept), transpose, expand_dims, squeeze, concatenate, stack", () => {
    const m = new KerasConfig("shape", 3);
    const x = m.input("x", [null, 8, 8, 48]);
    const t = m.op("Reshape", "tokens", { newshape: [-1, 64, 48] }, [x]);
    // transpose (0, 2, 1): Keras [N, 48, 64] → shown [N, 64, 48].
    const tt = m.op("Transpose", "tt", { axes: [0, 2, 1] }, [t]);
    const v = m.input("v", [null, 16]);
    // expand_dims(v, 1): Keras [N, 1, 16] → shown [N, 16, 1].
    const e = m.op("ExpandDims", "ex", { axis: 1 }, [v]);
    const s = m.op("Squeeze", "sq", { axis: 1 }, [e]);
    const y = m.input("y", [null, 4, 4, 3]);
    const z = m.input("z", [null, 4, 4, 5]);
    const cat = m.op("Concatenate", "cat", { axis: -1 }, [[y, z]]);
    const st = m.op("Stack", "st", { axis: 1 }, [[y, y]]);
    const { layer, shape } = run(m.build([tt, s, cat, st]));
    assert.deepEqual(shape("tokens"), [1, 48, 64]);
    assert.equal(layer("tokens").op, "Reshape");
    assert.deepEqual(shape("tt"), [1, 64, 48]);
    assert.deepEqual(shape("ex/layout") ?? shape("ex"), [1, 16, 1]);
    assert.deepEqual(shape("sq"), [1, 16]);
    // 3 + 5 channels.
    assert.deepEqual(shape("cat"), [1, 8, 4, 4]);
    // Keras [N, 2, 4, 4, 3] → shown [N, 3, 2, 4, 4].
    assert.deepEqual(shape("st"), [1, 3, 2, 4, 4]);
  });

  it("matmul and einsum on token tensors: 64·48·16 and 64·64·48 MACs", () => {
    const m = new KerasConfig("mm", 3);
    const a = m.input("a", [null, 64, 48]);
    const b = m.input("b", [null, 48, 16]);
    const mm = m.op("Matmul", "mm", {}, [a, b]);
    const es = m.op("Einsum", "es", { subscripts: "btd,bsd->bts" }, [a, a]);
    const { layer, shape } = run(m.build([mm, es]));
    assert.equal(layer("mm").macs, 64 * 48 * 16);
    // Keras [N, 64, 16] shown [N, 16, 64].
    assert.deepEqual(shape("mm/layout"), [1, 16, 64]);
    assert.equal(layer("es").macs, 64 * 64 * 48);
    // Keras [N, 64(t), 64(s)] shown with the last axis first.
    assert.deepEqual(shape("es"), [1, 64, 64]);
  });

  it("x[key] (GetItem): x[:, 0], x[:, 1:5, ::2], x[..., 3], and an image x[:, 2:6, :, 0] (its result channels-first again)", () => {
    const m = new KerasConfig("gi", 3);
    const x = m.input("x", [null, 10, 32]);
    const all = { class_name: "__slice__", config: { start: null, stop: null, step: null } };
    const sl = (start: number | null, stop: number | null, step: number | null) => ({
      class_name: "__slice__",
      config: { start, stop, step },
    });
    const ell = { class_name: "__ellipsis__", config: {} };
    // KerasConfig.op passes number lists through; the key list holds objects, so it is written as one raw arg.
    const cls = m.op("GetItem", "cls", {}, [x, [all, 0] as unknown as number[]]);
    const mid = m.op("GetItem", "mid", {}, [x, [all, sl(1, 5, null), sl(null, null, 2)] as unknown as number[]]);
    const last = m.op("GetItem", "last", {}, [x, [ell, 3] as unknown as number[]]);
    const img = m.input("img", [null, 8, 8, 3]);
    const crop = m.op("GetItem", "crop", {}, [img, [all, sl(2, 6, null), all, 0] as unknown as number[]]);
    const { layer, shape } = run(m.build([cls, mid, last, crop]));
    // [N, 10, 32] → token 0: [N, 32].
    assert.deepEqual(shape("cls/squeeze"), [1, 32]);
    // tokens 1…4, every second feature: Keras [N, 4, 16] → shown [N, 16, 4].
    assert.deepEqual(shape("mid"), [1, 16, 4]);
    assert.equal(layer("mid").op, "Slice");
    // feature 3 of every token: [N, 10].
    assert.deepEqual(shape("last/squeeze"), [1, 10]);
    // rows 2…5, channel 0: Keras [N, 4, 8] → shown [N, 8, 4].
    assert.deepEqual(shape("crop/layout"), [1, 8, 4]);
    assert.equal(layer("crop").macs, 0);
  });

  it("keras.ops nn activations and a class convscope does not know (an unknown node, not an error)", () => {
    const m = new KerasConfig("nn", 3);
    const x = m.input("x", [null, 10]);
    const r1 = m.op("Relu", "relu", {}, [x], "keras.src.ops.nn");
    const r2 = m.op("Gelu", "gelu", { approximate: false }, [r1], "keras.src.ops.nn");
    const r3 = m.op("Softmax", "sm", { axis: -1 }, [r2], "keras.src.ops.nn");
    const u = m.op("Cumsum", "cs", { axis: -1 }, [r3]);
    const { r, layer } = run(m.build([u]));
    assert.deepEqual(
      ["relu", "gelu", "sm"].map((n) => layer(n).op),
      ["Relu", "Gelu", "Softmax"],
    );
    assert.equal(layer("cs").op, "keras::ops.Cumsum");
    assert.equal(layer("cs").status, "unknown");
    assert.equal(r.totals.params, 0);
  });
});

describe("Keras layers added for Keras 3 and keras.applications", () => {
  it("LayerScale (ConvNeXt): gamma of projection_dim, x·gamma, 0 MACs", () => {
    const m = new KerasConfig("ls", 3);
    const x = m.input("x", [null, 7, 7, 16]);
    const y = m.layer("LayerScale", "ls", { init_values: 1e-6, projection_dim: 16 }, x);
    const { r, layer, shape } = run(m.build([y]));
    assert.equal(layer("ls").params, 16);
    assert.equal(layer("ls").macs, 0);
    assert.deepEqual(shape("ls"), [1, 16, 7, 7]);
    assert.equal(r.totals.trainable_params, 16);
  });

  it("CustomScaleLayer (InceptionResNetV2): inputs[0] + inputs[1]·scale, no weights", () => {
    const m = new KerasConfig("cs", 3);
    const x = m.input("x", [null, 9, 9, 8]);
    const c = m.layer("Conv2D", "c", conv(8, 1), x);
    const y = m.layer("CustomScaleLayer", "res", { scale: 0.17 }, [x, c]);
    const { g, r, layer } = run(m.build([y]));
    assert.equal(layer("res/scale").op, "Mul");
    assert.equal(layer("res").op, "Add");
    assert.deepEqual(g.tensors.get("res/scale_value")?.value, [0.17]);
    // Only the 1×1 conv: 8·8 + 8 = 72.
    assert.equal(r.totals.params, 72);
  });

  it("GroupNormalization: gamma and beta of C, statistics per group; channels that do not divide are refused", () => {
    const m = new KerasConfig("gn", 3);
    const x = m.input("x", [null, 6, 6, 16]);
    const y = m.layer("GroupNormalization", "gn", { groups: 4, axis: -1, epsilon: 1e-3, center: true, scale: true }, x);
    const { g, layer } = run(m.build([y]));
    assert.equal(layer("gn").params, 32);
    assert.equal(layer("gn").op, "GroupNormalization");
    assert.equal(g.nodes.find((n) => n.name === "gn")?.attrs.num_groups, 4);
    const bad = new KerasConfig("gn", 3);
    const b = bad.layer("GroupNormalization", "gn", { groups: 5, axis: -1 }, bad.input("x", [null, 6, 6, 16]));
    assert.throws(
      () => run(bad.build([b])),
      (e: unknown) => e instanceof ConvscopeError && e.layer === "gn" && /16 channels cannot form 5 groups/.test(e.message),
    );
  });

  it("UnitNormalization: one axis is LpNormalization (p=2), several are ReduceL2 then Div; no weights", () => {
    const m = new KerasConfig("un", 3);
    const x = m.input("x", [null, 10]);
    const y = m.layer("UnitNormalization", "un", { axis: -1 }, x);
    const z = m.input("z", [null, 4, 4, 3]);
    const w = m.layer("UnitNormalization", "un2", { axis: [1, 2] }, z);
    const { r, layer, shape } = run(m.build([y, w]));
    assert.equal(layer("un").op, "LpNormalization");
    assert.equal(layer("un2/norm").op, "ReduceL2");
    assert.deepEqual(shape("un2/norm"), [1, 3, 1, 1]);
    assert.deepEqual(shape("un2"), [1, 3, 4, 4]);
    assert.equal(r.totals.params, 0);
  });

  it("Embedding(100, 8) on 20 indices: 800 params, 0 MACs, [N, 20, 8] shown [N, 8, 20]", () => {
    const m = new KerasConfig("emb", 3);
    const x = m.input("ids", [null, 20], "int32");
    const y = m.layer("Embedding", "emb", { input_dim: 100, output_dim: 8, mask_zero: false }, x);
    const { r, layer, shape } = run(m.build([y]));
    assert.equal(layer("emb").params, 800);
    assert.equal(layer("emb").macs, 0);
    assert.deepEqual(shape("emb"), [1, 20, 8]);
    assert.deepEqual(shape("emb/layout"), [1, 8, 20]);
    assert.equal(r.totals.params, 800);
  });

  it("MultiHeadAttention, cross-attention 10 queries of 32 over 20 values of 16, 2 heads, key_dim 8, value_dim 4", () => {
    for (const useBias of [true, false]) {
      const m = new KerasConfig("mha", 3);
      const q = m.input("q", [null, 10, 32]);
      const v = m.input("v", [null, 20, 16]);
      const y = m.layer("MultiHeadAttention", "mha", { num_heads: 2, key_dim: 8, value_dim: 4, use_bias: useBias, output_shape: null }, [
        q,
        v,
      ]);
      const { r, shape } = run(m.build([y]));
      // query [32, 2, 8] + [2, 8]; key [16, 2, 8] + [2, 8]; value [16, 2, 4] + [2, 4]; output [2, 4, 32] + [32].
      const weights = 32 * 16 + 16 * 16 + 16 * 8 + 8 * 32;
      const biases = 16 + 16 + 8 + 32;
      assert.equal(r.totals.params, weights + (useBias ? biases : 0));
      assert.equal(weights + biases, 1_224);
      // Tq·Dq·H·k + Tv·Dk·H·k + Tv·Dv·H·v + H·Tq·Tv·k + H·Tq·Tv·v + Tq·H·v·Do
      // = 10·32·16 + 20·16·16 + 20·16·8 + 2·10·20·8 + 2·10·20·4 + 10·8·32 = 20,160.
      assert.equal(r.totals.macs, 5_120 + 5_120 + 2_560 + 3_200 + 1_600 + 2_560);
      assert.equal(r.totals.macs, 20_160);
      // Output [N, 10, 32] (Do = the query's features), shown [N, 32, 10].
      assert.deepEqual(shape("mha"), [1, 32, 10]);
      assert.deepEqual(shape("mha/scores"), [1, 2, 10, 20]);
    }
  });

  it("MultiHeadAttention on images (rank 4) is refused in one line, not miscounted", () => {
    const m = new KerasConfig("mha4", 3);
    const q = m.input("q", [null, 4, 4, 8]);
    const y = m.layer("MultiHeadAttention", "mha", { num_heads: 2, key_dim: 4 }, [q, q]);
    assert.throws(
      () => run(m.build([y])),
      (e: unknown) => e instanceof ConvscopeError && e.layer === "mha" && /rank-4/.test(e.message),
    );
  });
});

describe("Keras 2 (tf.keras) TFOpLambda layers and keyword tensors", () => {
  const tfop = (name: string, fn: string, node: unknown[]) => ({
    class_name: "TFOpLambda",
    config: { name, trainable: true, dtype: "float32", function: fn },
    name,
    inbound_nodes: [node],
  });
  const layer = (cls: string, name: string, config: object, node: unknown[][]) => ({
    class_name: cls,
    config: { name, trainable: true, dtype: "float32", ...config },
    name,
    inbound_nodes: [node],
  });
  const model = (layers: object[], outputs: string[]) => ({
    class_name: "Functional",
    keras_version: "2.15.0",
    backend: "tensorflow",
    config: { name: "m", layers, input_layers: [["x", 0, 0]], output_layers: outputs.map((o) => [o, 0, 0]) },
  });
  const input = (name: string, shape: (number | null)[]) => ({
    class_name: "InputLayer",
    config: { batch_input_shape: shape, dtype: "float32", name },
    name,
    inbound_nodes: [],
  });

  it("tf.keras MobileNetV3's hard-swish x·relu6(x + 3)/6, a constant first operand, reshape, reduce_mean", () => {
    const cfg = model(
      [
        input("x", [null, 8, 8, 3]),
        // Conv 3×3 same 3→16: 8·8·16·27 = 27,648 MACs, 448 params.
        layer(
          "Conv2D",
          "conv",
          { filters: 16, kernel_size: [3, 3], strides: [1, 1], padding: "same", use_bias: true, activation: "linear" },
          [["x", 0, 0, {}]],
        ),
        tfop("tf.__operators__.add", "__operators__.add", ["conv", 0, 0, { y: 3.0, name: null }]),
        layer("ReLU", "re_lu", { max_value: 6.0, negative_slope: 0.0, threshold: 0.0 }, [["tf.__operators__.add", 0, 0, {}]]),
        tfop("tf.math.multiply", "math.multiply", ["re_lu", 0, 0, { y: 0.16666666666666666, name: null }]),
        layer("Multiply", "hswish", {}, [
          ["conv", 0, 0, {}],
          ["tf.math.multiply", 0, 0, {}],
        ]),
        // 1 − x: the constant is the first operand.
        tfop("tf.math.subtract", "math.subtract", ["_CONSTANT_VALUE", -1, 1.0, { y: ["hswish", 0, 0], name: null }]),
        tfop("tf.reshape", "reshape", ["tf.math.subtract", 0, 0, { shape: [-1, 64, 16], name: null }]),
        tfop("tf.math.reduce_mean", "math.reduce_mean", ["tf.reshape", 0, 0, { axis: 1, keepdims: false, name: null }]),
        tfop("tf.linalg.einsum", "linalg.einsum", ["tf.reshape", 0, 0, { name: null }]),
      ],
      ["tf.math.reduce_mean", "tf.linalg.einsum"],
    );
    const { g, r, layer: l, shape } = run(cfg);
    assert.deepEqual(
      ["tf.__operators__.add", "tf.math.multiply", "tf.math.subtract", "tf.reshape", "tf.math.reduce_mean"].map((n) => l(n).op),
      ["Add", "Mul", "Sub", "Reshape", "ReduceMean"],
    );
    assert.deepEqual(g.tensors.get("tf.__operators__.add/operand1")?.value, [3]);
    assert.deepEqual(g.tensors.get("tf.math.subtract/operand0")?.value, [1]);
    assert.deepEqual(shape("tf.math.subtract"), [1, 16, 8, 8]);
    assert.deepEqual(shape("tf.reshape"), [1, 16, 64]);
    // mean over the 64 tokens: [N, 16].
    assert.deepEqual(shape("tf.math.reduce_mean/squeeze"), [1, 16]);
    assert.equal(r.totals.params, 448);
    // A TF function convscope does not map is an unknown node, named, not an error.
    assert.equal(l("tf.linalg.einsum").op, "keras::tf.linalg.einsum");
    assert.equal(r.totals.macs, null);
  });

  it("a tensor second operand (y=[layer, 0, 0]) and a Keras 2 MultiHeadAttention whose value is a keyword tensor", () => {
    const cfg = model(
      [
        input("x", [null, 10, 32]),
        layer("Dense", "d", { units: 32, use_bias: false, activation: "linear" }, [["x", 0, 0, {}]]),
        tfop("tf.math.add", "math.add", ["x", 0, 0, { y: ["d", 0, 0], name: null }]),
        layer("MultiHeadAttention", "mha", { num_heads: 2, key_dim: 8, value_dim: 8, use_bias: true, output_shape: null }, [
          ["tf.math.add", 0, 0, { value: ["tf.math.add", 0, 0] }],
        ]),
      ],
      ["mha"],
    );
    const { r, layer: l, shape } = run(cfg);
    assert.deepEqual(l("tf.math.add").inputs, ["x", "d"]);
    assert.deepEqual(shape("mha"), [1, 32, 10]);
    // Dense 32·32 = 1,024; MHA 3·(32·16 + 16) + 16·32 + 32 = 2,128.
    assert.equal(r.totals.params, 1_024 + 2_128);
    // Dense 10·32·32 = 10,240; MHA 3·10·32·16 + 2·2·10·10·8 + 10·16·32 = 15,360 + 3,200 + 5,120.
    assert.equal(r.totals.macs, 10_240 + 15_360 + 3_200 + 5_120);
  });
});
