import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { analyzeConfig, KerasConfig, type Ref } from "./keras-apps.js";

/** Reads a config and analyses it; `shape` is a layer's first output's. */
function run(config: object) {
  const a = analyzeConfig(config);
  return { ...a, shape: (name: string) => a.tensorShape(a.layer(name).outputs[0]) };
}

const conv = (filters: number, k: number | number[], o: object = {}) => ({
  filters,
  kernel_size: k,
  strides: 1,
  padding: "valid",
  activation: "linear",
  use_bias: true,
  ...o,
});

describe("Keras layers: shapes (channels-first in the IR), params and MACs by hand", () => {
  for (const style of [2, 3] as const) {
    it(`an image chain through every 2-d layer kind (Keras ${style} serialization)`, () => {
      const m = new KerasConfig("chain", style);
      let x: Ref = m.input("img", [null, 32, 32, 3]);
      // ZeroPadding2D ((1,2),(3,4)): 32+1+2 = 35 rows, 32+3+4 = 39 cols.
      x = m.layer(
        "ZeroPadding2D",
        "zp",
        {
          padding: [
            [1, 2],
            [3, 4],
          ],
        },
        x,
      );
      // Cropping2D ((1,1),(2,2)): 35−2 = 33, 39−4 = 35.
      x = m.layer(
        "Cropping2D",
        "crop",
        {
          cropping: [
            [1, 1],
            [2, 2],
          ],
        },
        x,
      );
      // Conv2D 8, 3×3, stride 2, same: ceil(33/2) = 17, ceil(35/2) = 18. Params 3·3·3·8 + 8 = 224; MACs 17·18·8·27 = 66,096.
      x = m.layer("Conv2D", "c1", conv(8, [3, 3], { strides: [2, 2], padding: "same", activation: "relu" }), x);
      // DepthwiseConv2D 3×3, multiplier 2, valid: 15×16×16. Params 3·3·8·2 + 16 = 160; MACs 15·16·16·9 = 34,560.
      x = m.layer(
        "DepthwiseConv2D",
        "dw",
        { kernel_size: [3, 3], strides: [1, 1], padding: "valid", depth_multiplier: 2, use_bias: true },
        x,
      );
      // SeparableConv2D 12, 3×3, same: depthwise 3·3·16 = 144 (MACs 15·16·16·9 = 34,560),
      // pointwise 16·12 + 12 bias = 204 (MACs 15·16·16·12 = 46,080). Keras: 144 + 192 + 12 = 348.
      x = m.layer("SeparableConv2D", "sep", { ...conv(12, 3, { padding: "same" }), depth_multiplier: 1 }, x);
      // BatchNormalization: 4·12 = 48 params, 24 of them (moving mean/variance) non-trainable.
      x = m.layer("BatchNormalization", "bn", { axis: -1, epsilon: 0.001, center: true, scale: true }, x);
      x = m.layer("Activation", "act", { activation: "swish" }, x);
      // UpSampling2D 2 (nearest): 30×32.
      x = m.layer("UpSampling2D", "up", { size: [2, 2], interpolation: "nearest" }, x);
      // Conv2DTranspose 4, 3×3, stride 2, same: 60×64. Params 3·3·4·12 + 4 = 436;
      // MACs counted on the input: 30·32·12 · 4·9 = 414,720.
      x = m.layer("Conv2DTranspose", "tconv", conv(4, [3, 3], { strides: [2, 2], padding: "same" }), x);
      // MaxPooling2D 2: 30×32. AveragePooling2D 3, stride 1, same: 30×32.
      x = m.layer("MaxPooling2D", "mp", { pool_size: [2, 2], strides: null, padding: "valid" }, x);
      x = m.layer("AveragePooling2D", "ap", { pool_size: [3, 3], strides: [1, 1], padding: "same" }, x);
      // LayerNormalization over channels: gamma + beta = 2·4 = 8.
      x = m.layer("LayerNormalization", "ln", { axis: [-1], epsilon: 0.001, center: true, scale: true }, x);
      // Dense 6 on a rank-4 tensor acts on channels: params 4·6 + 6 = 30; MACs 30·32·6·4 = 23,040.
      x = m.layer("Dense", "fc", { units: 6, activation: "linear", use_bias: true }, x);
      x = m.layer("ReLU", "relu6", { max_value: 6, negative_slope: 0, threshold: 0 }, x);
      // Permute (2, 1, 3): Keras (N, 30, 32, 6) → (N, 32, 30, 6), i.e. IR [1, 6, 32, 30].
      x = m.layer("Permute", "perm", { dims: [2, 1, 3] }, x);
      x = m.layer("GlobalAveragePooling2D", "gap", { keepdims: false }, x);
      // Dense 10 on [1, 6]: 6·10 + 10 = 70 params, 60 MACs.
      x = m.layer("Dense", "out", { units: 10, activation: "softmax", use_bias: true }, x);
      const { r, layer, shape } = run(m.build([x]));

      assert.deepEqual(r.inputs[0].shape, [1, 3, 32, 32]);
      const expect: [string, number[], number, number][] = [
        ["zp", [1, 3, 35, 39], 0, 0],
        ["crop", [1, 3, 33, 35], 0, 0],
        ["c1", [1, 8, 17, 18], 224, 66_096],
        ["dw", [1, 16, 15, 16], 160, 34_560],
        ["sep/depthwise", [1, 16, 15, 16], 144, 34_560],
        ["sep", [1, 12, 15, 16], 204, 46_080],
        ["bn", [1, 12, 15, 16], 48, 0],
        ["up", [1, 12, 30, 32], 0, 0],
        ["tconv", [1, 4, 60, 64], 436, 414_720],
        ["mp", [1, 4, 30, 32], 0, 0],
        ["ap", [1, 4, 30, 32], 0, 0],
        ["ln", [1, 30, 32, 4], 8, 0],
        ["ln/from_last", [1, 4, 30, 32], 0, 0],
        ["fc", [1, 6, 30, 32], 30, 23_040],
        ["relu6", [1, 6, 30, 32], 0, 0],
        ["perm", [1, 6, 32, 30], 0, 0],
        ["gap", [1, 6, 1, 1], 0, 0],
        ["gap/squeeze", [1, 6], 0, 0],
        ["out", [1, 10], 70, 60],
      ];
      for (const [name, s, params, macs] of expect) {
        assert.deepEqual(shape(name), s, `${name} shape`);
        assert.equal(layer(name).params, params, `${name} params`);
        assert.equal(layer(name).macs, macs, `${name} MACs`);
      }
      assert.equal(layer("bn").trainable_params, 24);
      assert.equal(layer("relu6").op, "Clip");
      assert.equal(layer("c1/relu").op, "Relu");
      assert.equal(layer("act/sigmoid").op, "Sigmoid");
      assert.equal(layer("act").op, "Mul");
      assert.equal(layer("fc").op, "Conv");
      assert.equal(layer("out").op, "Gemm");
      assert.equal(layer("out/softmax").op, "Softmax");
      assert.equal(layer("c1").source, "Conv2D");
      // 224 + 160 + 348 + 48 + 436 + 8 + 30 + 70 = 1,324 params, 24 non-trainable.
      assert.equal(r.totals.params, 1324);
      assert.equal(r.totals.non_trainable_params, 24);
      // 66,096 + 34,560 + 34,560 + 46,080 + 414,720 + 23,040 + 60 = 619,116.
      assert.equal(r.totals.macs, 619_116);
      assert.equal(r.totals.unknown_layers, 0);
    });
  }

  it("1-d and 3-d layers, Reshape and Flatten", () => {
    const m = new KerasConfig("seq", 2);
    let x: Ref = m.input("seq", [null, 100, 16]);
    // Conv1D 32, k 5, causal: left pad (5−1)·1 = 4, length stays 100. Params 5·16·32 + 32 = 2,592; MACs 100·32·80 = 256,000.
    x = m.layer("Conv1D", "causal", conv(32, [5], { strides: [1], padding: "causal", dilation_rate: [1] }), x);
    // Conv1D 8, k 3, dilation 2, valid: 100 − 5 + 1 = 96. Params 3·32·8 + 8 = 776; MACs 96·8·96 = 73,728.
    x = m.layer("Conv1D", "dil", conv(8, [3], { strides: [1], dilation_rate: [2] }), x);
    x = m.layer("UpSampling1D", "up1", { size: 2 }, x); // 192
    x = m.layer("MaxPooling1D", "mp1", { pool_size: 4, strides: 4, padding: "valid" }, x); // 48
    x = m.layer("Reshape", "rs", { target_shape: [4, 4, 3, 8] }, x); // Keras (N, 4, 4, 3, 8) → IR [1, 8, 4, 4, 3]
    // Conv3D 2, 3×3×3, same: params 27·8·2 + 2 = 434; MACs 48·2·216 = 20,736.
    x = m.layer("Conv3D", "c3", conv(2, [3, 3, 3], { strides: [1, 1, 1], padding: "same", dilation_rate: [1, 1, 1] }), x);
    x = m.layer("GlobalMaxPooling3D", "gmp", { keepdims: true }, x);
    x = m.layer("Flatten", "flat", {}, x);
    const { r, layer, shape } = run(m.build([x]));
    assert.deepEqual(r.inputs[0].shape, [1, 16, 100]);
    assert.deepEqual(shape("causal"), [1, 32, 100]);
    assert.equal(layer("causal").params, 2592);
    assert.equal(layer("causal").macs, 256_000);
    assert.deepEqual(shape("dil"), [1, 8, 96]);
    assert.equal(layer("dil").params, 776);
    assert.equal(layer("dil").macs, 73_728);
    assert.deepEqual(shape("up1"), [1, 8, 192]);
    assert.deepEqual(shape("mp1"), [1, 8, 48]);
    assert.deepEqual(shape("rs"), [1, 8, 4, 4, 3]);
    assert.deepEqual(shape("c3"), [1, 2, 4, 4, 3]);
    assert.equal(layer("c3").params, 434);
    assert.equal(layer("c3").macs, 20_736);
    assert.deepEqual(shape("gmp"), [1, 2, 1, 1, 1]);
    assert.deepEqual(shape("flat"), [1, 2]);
    // The causal conv's field reaches 4 steps back only: size 5, padding 4 at the start.
    assert.deepEqual(r.tensors.causal.rf, { size: [5], stride: [1], padding: [4], aligned: true });
  });

  it("merge layers, with a Concatenate on the channel axis", () => {
    const m = new KerasConfig("merge", 3);
    const a = m.input("a", [null, 8, 8, 4]);
    const b = m.input("b", [null, 8, 8, 4]);
    const add = m.layer("Add", "add", {}, [a, b]);
    const sub = m.layer("Subtract", "sub", {}, [a, b]);
    const mul = m.layer("Multiply", "mul", {}, [a, b]);
    const avg = m.layer("Average", "avg", {}, [a, b]);
    const max = m.layer("Maximum", "max", {}, [a, b]);
    const min = m.layer("Minimum", "min", {}, [a, b]);
    const add3 = m.layer("Add", "add3", {}, [add, sub, mul]);
    const cat = m.layer("Concatenate", "cat", { axis: -1 }, [add3, avg, max, min]);
    const { r, layer, shape } = run(m.build([cat]));
    const ops = ["add", "sub", "mul", "avg", "max", "min", "add3", "cat"].map((n) => layer(n).op);
    assert.deepEqual(ops, ["Add", "Sub", "Mul", "Mean", "Max", "Min", "Sum", "Concat"]);
    // Four 4-channel maps concatenated on Keras axis −1 = IR axis 1: 16 channels.
    assert.deepEqual(shape("cat"), [1, 16, 8, 8]);
    // Add: 8·8·4 = 256 additions; a three-input Sum: 2 per element = 512.
    assert.equal(layer("add").cost?.add, 256);
    assert.equal(layer("add3").cost?.add, 512);
    assert.equal(r.totals.params, 0);
  });

  it("activation layers and activation arguments", () => {
    const m = new KerasConfig("acts", 2);
    let x: Ref = m.input("x", [null, 6, 6, 5]);
    x = m.layer("LeakyReLU", "leaky", { alpha: 0.1 }, x);
    // PReLU shared over the spatial axes: alpha has one value per channel = 5 params.
    x = m.layer("PReLU", "prelu", { shared_axes: [1, 2] }, x);
    // PReLU without sharing: 6·6·5 = 180 params.
    x = m.layer("PReLU", "prelu_full", {}, x);
    x = m.layer("ELU", "elu", { alpha: 0.5 }, x);
    x = m.layer("ReLU", "relu_thr", { max_value: null, negative_slope: 0, threshold: 0.5 }, x);
    x = m.layer("ReLU", "relu_leaky_max", { max_value: 4, negative_slope: 0.1, threshold: 0 }, x);
    x = m.layer("Activation", "hs", { activation: "hard_sigmoid" }, x);
    x = m.layer("Activation", "gelu", { activation: "gelu" }, x);
    x = m.layer("Activation", "lin", { activation: "linear" }, x);
    x = m.layer("Softmax", "sm", { axis: -1 }, x);
    x = m.layer("Activation", "weird", { activation: "my_custom_act" }, x);
    const { r, layer } = run(m.build([x]));
    assert.equal(layer("leaky").op, "LeakyRelu");
    assert.equal(r.layers.find((l) => l.name === "prelu")?.params, 5);
    assert.equal(layer("prelu_full").params, 180);
    assert.equal(layer("elu").op, "Elu");
    assert.equal(layer("relu_thr").op, "ThresholdedRelu");
    assert.equal(layer("relu_leaky_max").op, "LeakyRelu");
    assert.equal(layer("relu_leaky_max/max").op, "Clip");
    assert.equal(layer("hs").op, "HardSigmoid");
    assert.equal(layer("gelu").op, "Gelu");
    assert.equal(layer("lin").op, "Identity");
    // Softmax over Keras' last axis = the channel axis: every output sees one position only.
    assert.equal(layer("sm").op, "Softmax");
    assert.deepEqual(r.tensors.sm.rf, { size: [1, 1], stride: [1, 1], padding: [0, 0], aligned: true });
    // An activation convscope does not know is an unknown layer, reported as such.
    assert.equal(layer("weird").op, "keras::my_custom_act");
    assert.equal(layer("weird").status, "unknown");
    assert.equal(r.totals.params, 185);
  });

  it("hard_sigmoid follows the Keras version (0.2·x + 0.5 in Keras 2, x/6 + 0.5 in Keras 3)", () => {
    for (const style of [2, 3] as const) {
      const m = new KerasConfig("hs", style);
      const x = m.layer("Activation", "hs", { activation: "hard_sigmoid" }, m.input("x", [null, 4]));
      const { g } = run(m.build([x]));
      assert.equal(g.nodes.find((n) => n.name === "hs")?.attrs.alpha, style === 2 ? 0.2 : 1 / 6);
    }
  });

  it("Rescaling and Normalization: no weights for the first, non-trainable statistics for the second", () => {
    const m = new KerasConfig("pre", 3);
    let x: Ref = m.input("x", [null, 10, 10, 3]);
    x = m.layer("Rescaling", "scale", { scale: 1 / 127.5, offset: -1 }, x);
    // Normalization over channels: mean and variance of 3 each = 6 non-trainable params.
    x = m.layer("Normalization", "norm", { axis: [-1], mean: null, variance: null, invert: false }, x);
    x = m.layer("Dropout", "drop", { rate: 0.5 }, x);
    x = m.layer("GaussianNoise", "noise", { stddev: 0.1 }, x);
    x = m.layer("SpatialDropout2D", "sdrop", { rate: 0.1 }, x);
    const { g, r, layer } = run(m.build([x]));
    assert.equal(layer("scale").op, "Mul");
    assert.equal(layer("scale/offset").op, "Add");
    assert.deepEqual(
      ["norm", "norm/sqrt", "norm/div"].map((n) => layer(n).op),
      ["Sub", "Sqrt", "Div"],
    );
    assert.equal(r.totals.params, 6);
    assert.equal(r.totals.trainable_params, 0);
    // Keras counts 7 (its int64 'count' too); the difference is stated in a note.
    assert.ok(g.notes.some((n) => n.includes("'norm'") && n.includes("count")));
    assert.deepEqual(
      ["drop", "noise", "sdrop"].map((n) => layer(n).op),
      ["Dropout", "Identity", "Dropout"],
    );
  });
});
