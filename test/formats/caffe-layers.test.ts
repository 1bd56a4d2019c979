import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { ConvscopeError } from "../../src/core/errors.js";
import type { Report } from "../../src/core/report.js";
import { bufferSource, readModel } from "../../src/formats/index.js";

const fixtures = new URL("../fixtures/caffe/", import.meta.url);

function read(text: string, name = "net.prototxt") {
  return readModel(bufferSource(name, new TextEncoder().encode(text)));
}
const run = (text: string) => analyze(read(text));
const fixture = (file: string) => {
  const url = new URL(file, fixtures);
  return analyze(readModel(bufferSource(url.pathname, readFileSync(url))));
};

/** An Input layer named "data" of the given shape, then the layers. */
const net = (shape: number[], layers: string) =>
  `name: "t"\nlayer { name: "data" type: "Input" top: "data" input_param { shape { ${shape.map((d) => `dim: ${d}`).join(" ")} } } }\n${layers}`;

const layer = (r: Report, name: string) => {
  const l = r.layers.find((x) => x.name === name);
  assert.ok(l, `layer ${name} is in the report`);
  return l;
};
const shapeOf = (r: Report, name: string) => r.tensors[layer(r, name).outputs[0]].shape;

// Caffe's BatchNorm keeps its 1-element scale-factor blob as a 6th BatchNormalization
// input (so params equal Caffe's blobs); src/ops/norm.ts still checks every input is [C].

describe("Caffe layers: legacy and inputs", () => {
  it("reads legacy `layers` with V1 enum types (by name and number) and input_dim", () => {
    const r = fixture("legacy_v1.prototxt");
    // conv 3×3 on 8×8: 6×6; params 4·3·3·3 + 4 = 112; MACs 4·6·6·27 = 3,888 per image.
    assert.deepEqual(shapeOf(r, "conv"), [2, 4, 6, 6]);
    assert.equal(layer(r, "conv").params, 112);
    assert.equal(layer(r, "conv").macs, 3_888);
    assert.equal(layer(r, "relu").op, "Relu"); // type: 18
    assert.equal(layer(r, "relu").source, "18");
    // AVE 2/2 on 6: ceil((6 − 2)/2) + 1 = 3.
    assert.deepEqual(shapeOf(r, "pool"), [2, 4, 3, 3]);
    // ip: K = 4·3·3 = 36, params 36·5 + 5 = 185, MACs 180.
    assert.equal(layer(r, "ip").params, 185);
    assert.equal(layer(r, "ip").macs, 180);
    assert.equal(r.batch, 2);
    // The SOFTMAX_LOSS layer reads a label nobody provides: dropped, not an error.
    assert.deepEqual(
      r.outputs.map((o) => o.name),
      ["ip"],
    );
    assert.ok(r.notes.some((n) => n.includes("loss (SoftmaxWithLoss)")));
  });

  it("reads a train_val net as deployed: TEST phase, Data layer with crop_size, no loss or accuracy", () => {
    const r = fixture("train_val.prototxt");
    // TEST data layer: batch 50, crop 32, 3 channels assumed; the TRAIN one (256, 227) is skipped.
    assert.deepEqual(r.inputs, [{ name: "data", shape: [50, 3, 32, 32], dtype: "float32" }]);
    assert.equal(r.batch, 50);
    assert.ok(
      r.notes.some((n) => n.includes("batch 50") && n.includes("3 channels assumed") && n.includes("32×32 from transform_param.crop_size")),
    );
    // The label top is unused once loss and accuracy are left out.
    assert.ok(!("label" in r.tensors));
    assert.deepEqual(
      r.outputs.map((o) => o.name),
      ["ip"],
    );
    // drop1 is excluded from TEST; train-only layers are listed.
    assert.ok(!r.layers.some((l) => l.name === "drop1"));
    assert.ok(r.notes.some((n) => n.includes("drop1")));
    assert.ok(r.notes.some((n) => n.includes("accuracy (Accuracy)") && n.includes("loss (SoftmaxWithLoss)")));
    // conv1 5×5 pad 2 on 32: 32; pool 2/2: 16; ip K = 8·16·16 = 2,048 → 10: MACs 20,480.
    assert.deepEqual(shapeOf(r, "pool1"), [50, 8, 16, 16]);
    assert.equal(layer(r, "ip").macs, 20_480);
  });

  it("reads `input:` with input_shape", () => {
    const r = run('input: "a"\ninput_shape { dim: 1 dim: 2 dim: 3 dim: 4 }\nlayer { name: "s" type: "Sigmoid" bottom: "a" top: "s" }');
    assert.deepEqual(r.inputs[0].shape, [1, 2, 3, 4]);
    assert.deepEqual(shapeOf(r, "s"), [1, 2, 3, 4]);
  });
});

describe("Caffe layers: in-place chains", () => {
  const r = run(
    net(
      [1, 3, 8, 8],
      `layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 4 kernel_size: 1 } }
       layer { name: "sig" type: "Sigmoid" bottom: "conv" top: "conv" }
       layer { name: "pool" type: "TanH" bottom: "conv" top: "conv" }
       layer { name: "relu" type: "ReLU" bottom: "conv" top: "conv" relu_param { negative_slope: 0.1 } }
       layer { name: "pool" type: "Pooling" bottom: "conv" top: "pool" pooling_param { kernel_size: 2 stride: 2 } }`,
    ),
  );

  it("gives every version of an in-place blob its own tensor, named after the layer", () => {
    assert.deepEqual(layer(r, "sig").inputs, ["conv"]);
    assert.deepEqual(layer(r, "sig").outputs, ["sig"]);
    // "pool" is also a blob name, so the TanH's output is named top/layer; the duplicate
    // layer name "pool" becomes "pool#2".
    assert.deepEqual(layer(r, "pool").outputs, ["conv/pool"]);
    assert.deepEqual(layer(r, "relu").inputs, ["conv/pool"]);
    assert.equal(layer(r, "relu").op, "LeakyRelu");
    assert.deepEqual(layer(r, "pool#2").inputs, ["relu"]);
    assert.deepEqual(layer(r, "pool#2").outputs, ["pool"]);
    assert.deepEqual(r.outputs, [{ name: "pool", shape: [1, 4, 4, 4] }]);
  });
});

describe("Caffe layers: pooling output size", () => {
  const pool = (size: number, p: string) =>
    run(net([1, 1, size, size], `layer { name: "p" type: "Pooling" bottom: "data" top: "p" pooling_param { ${p} } }`));

  it("keeps the last ceil-mode window when it starts inside the input", () => {
    // 6, k3 s2 p0: ceil((6 − 3)/2) + 1 = 3 (floor would give 2); the window starts at 4 < 6.
    assert.deepEqual(shapeOf(pool(6, "pool: MAX kernel_size: 3 stride: 2"), "p"), [1, 1, 3, 3]);
  });

  it("drops the last window when, with padding, it starts in the end padding", () => {
    // 5, k2 s2 p1: ceil((5 + 2 − 2)/2) + 1 = 4; that window starts at 3·2 = 6 ≥ 5 + 1: dropped → 3.
    assert.deepEqual(shapeOf(pool(5, "pool: AVE kernel_size: 2 stride: 2 pad: 1"), "p"), [1, 1, 3, 3]);
  });

  it("keeps, as Caffe does without padding, a window starting past the input (ONNX would drop it)", () => {
    // 4, k1 s2 p0: ceil((4 − 1)/2) + 1 = 3; window 3 starts at 4 = the input size, but
    // Caffe only drops with padding, so 3 (ONNX/PyTorch ceil mode: 2). Represented as floor
    // mode with 1 end padding: floor((4 + 1 − 1)/2) + 1 = 3; the begin padding stays 0.
    const r = pool(4, "pool: MAX kernel_size: 1 stride: 2");
    assert.deepEqual(shapeOf(r, "p"), [1, 1, 3, 3]);
    assert.deepEqual(r.tensors.p.rf, { size: [1, 1], stride: [2, 2], padding: [0, 0], aligned: true });
    assert.ok(r.notes.some((n) => n.includes("starts past the input")));
  });

  it("pools globally, and honours round_mode FLOOR", () => {
    const g = pool(7, "pool: AVE global_pooling: true");
    assert.deepEqual(shapeOf(g, "p"), [1, 1, 1, 1]);
    assert.equal(layer(g, "p").op, "GlobalAveragePool");
    assert.deepEqual(g.tensors.p.rf, { global: true, aligned: true });
    // 6, k3 s2 floor: floor(3/2) + 1 = 2.
    assert.deepEqual(shapeOf(pool(6, "kernel_size: 3 stride: 2 round_mode: FLOOR"), "p"), [1, 1, 2, 2]);
  });
});

describe("Caffe layers: fully connected, normalization, element-wise", () => {
  it("InnerProduct flattens from `axis` and keeps the dims before it", () => {
    // [2, 3, 4, 5], axis 2: K = 4·5 = 20, output [2, 3, 6]; params 20·6 + 6 = 126;
    // per image 3 rows · 6 · 20 = 360 MACs.
    const r = run(
      net([2, 3, 4, 5], 'layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 6 axis: 2 } }'),
    );
    assert.deepEqual(r.outputs, [{ name: "ip", shape: [2, 3, 6] }]);
    assert.equal(layer(r, "ip").params, 126);
    assert.equal(layer(r, "ip").macs, 360);
    // transpose: the blob is [K, N], the same count; no bias: 20·6 = 120.
    const t = run(
      net(
        [2, 3, 4, 5],
        'layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip" inner_product_param { num_output: 6 transpose: true bias_term: false } }',
      ),
    );
    // axis 1: K = 3·4·5 = 60 → [2, 6]; params 360.
    assert.deepEqual(t.outputs, [{ name: "ip", shape: [2, 6] }]);
    assert.equal(t.totals.params, 360);
  });

  it("BatchNorm's three blobs are non-trainable; Scale's γ and β are trainable", () => {
    const r = run(
      net(
        [1, 16, 8, 8],
        `layer { name: "bn" type: "BatchNorm" bottom: "data" top: "data" }
         layer { name: "sc" type: "Scale" bottom: "data" top: "data" scale_param { bias_term: true } }`,
      ),
    );
    // BN: mean 16 + variance 16 + scale factor 1 = 33, none trainable; Scale: γ 16 + β 16.
    assert.equal(layer(r, "bn").params, 33);
    assert.equal(layer(r, "bn").trainable_params, 0);
    assert.equal(r.totals.params, 65);
    assert.equal(r.totals.trainable_params, 32);
    assert.equal(r.totals.non_trainable_params, 33);
  });

  it("Scale without bias and Bias: one blob over num_axes dims from axis", () => {
    // axis 1, num_axes 2 on [1, 4, 3, 3]: blob [4, 3] = 12 (as [4, 3, 1] for broadcasting).
    const r = run(
      net(
        [1, 4, 3, 3],
        `layer { name: "sc" type: "Scale" bottom: "data" top: "sc" scale_param { num_axes: 2 } }
         layer { name: "b" type: "Bias" bottom: "sc" top: "b" }`,
      ),
    );
    assert.equal(layer(r, "sc").params, 12);
    assert.equal(layer(r, "b").params, 4);
    assert.equal(r.totals.trainable_params, 16);
    assert.deepEqual(shapeOf(r, "b"), [1, 4, 3, 3]);
  });

  const elt = (p: string, n = 2) =>
    run(
      net(
        [1, 4, 5, 5],
        `${Array.from({ length: n }, (_, i) => `layer { name: "s${i}" type: "Sigmoid" bottom: "data" top: "s${i}" }`).join("\n")}
         layer { name: "e" type: "Eltwise" ${Array.from({ length: n }, (_, i) => `bottom: "s${i}"`).join(" ")} top: "e" eltwise_param { ${p} } }`,
      ),
    );
  const costOf = (r: Report, names: string[]) =>
    names
      .map((n) => layer(r, n).cost)
      .reduce((a, c) => ({ add: a.add + (c?.add ?? 0), mul: a.mul + (c?.mul ?? 0), cmp: a.cmp + (c?.cmp ?? 0) }), {
        add: 0,
        mul: 0,
        cmp: 0,
      });

  it("Eltwise SUM with coefficients: a Mul per coefficient ≠ 1, then Add", () => {
    // 100 elements: 0.5·a + 2·b → 2 Muls (200) and one Add (100).
    const r = elt("operation: SUM coeff: 0.5 coeff: 2");
    assert.equal(layer(r, "e").op, "Add");
    assert.deepEqual(costOf(r, ["e.coeff0", "e.coeff1", "e"]), { add: 100, mul: 200, cmp: 0 });
    assert.equal(r.totals.params, 0);
    assert.equal(layer(elt("coeff: 1 coeff: -1"), "e").op, "Sub");
  });

  it("Eltwise PROD chains binary Muls, MAX is one variadic Max", () => {
    // 3 bottoms of 100 elements: two multiplies or two comparisons per element.
    const p = elt("operation: PROD", 3);
    assert.deepEqual(costOf(p, ["e.prod1", "e"]), { add: 0, mul: 200, cmp: 0 });
    const m = elt("operation: MAX", 3);
    assert.equal(layer(m, "e").op, "Max");
    assert.deepEqual(costOf(m, ["e"]), { add: 0, mul: 0, cmp: 200 });
  });

  it("Power: (shift + scale·x)^power as Mul, Add, Pow", () => {
    const r = run(
      net([1, 2, 3, 3], 'layer { name: "pw" type: "Power" bottom: "data" top: "pw" power_param { power: 2 scale: 3 shift: 1 } }'),
    );
    assert.deepEqual(
      ["pw.scale", "pw.shift", "pw"].map((n) => layer(r, n).op),
      ["Mul", "Add", "Pow"],
    );
    assert.equal(r.totals.params, 0);
  });

  it("constants the reader makes up (coefficients, Power's scale) are no layer's parameters", () => {
    const r = elt("coeff: 0.5 coeff: 2");
    assert.equal(layer(r, "e.coeff0").params, 0);
  });
});

describe("Caffe layers: activations and LRN", () => {
  it("maps each activation to its canonical op, with PReLU's slope blob", () => {
    const r = run(
      net(
        [1, 4, 6, 6],
        `layer { name: "p" type: "PReLU" bottom: "data" top: "data" }
         layer { name: "p2" type: "PReLU" bottom: "data" top: "data" prelu_param { channel_shared: true } }
         layer { name: "e" type: "ELU" bottom: "data" top: "data" elu_param { alpha: 0.5 } }
         layer { name: "x" type: "Exp" bottom: "data" top: "data" exp_param { base: 2 } }
         layer { name: "lg" type: "Log" bottom: "data" top: "data" }
         layer { name: "b" type: "BNLL" bottom: "data" top: "data" }
         layer { name: "c" type: "Clip" bottom: "data" top: "data" clip_param { min: 0 max: 6 } }
         layer { name: "a" type: "AbsVal" bottom: "data" top: "data" }
         layer { name: "t" type: "TanH" bottom: "data" top: "data" }
         layer { name: "sm" type: "Softmax" bottom: "data" top: "sm" }`,
      ),
    );
    assert.deepEqual(
      r.layers.map((l) => l.op),
      ["PRelu", "PRelu", "Elu", "Mul", "Exp", "Log", "Softplus", "Clip", "Abs", "Tanh", "Softmax"],
    );
    // 2^x = exp(ln 2 · x): one Mul by ln 2 before Exp. PReLU: 4 slopes, then 1 shared.
    assert.equal(layer(r, "p").params, 4);
    assert.equal(layer(r, "p2").params, 1);
    assert.equal(r.totals.params, 5);
  });

  it("LRN: ACROSS_CHANNELS is ONNX LRN; WITHIN_CHANNEL is Caffe's own square → avg-pool → power → product", () => {
    const a = run(net([1, 4, 6, 6], 'layer { name: "n" type: "LRN" bottom: "data" top: "n" lrn_param { local_size: 3 alpha: 0.1 k: 2 } }'));
    assert.equal(layer(a, "n").op, "LRN");
    const w = run(
      net(
        [1, 4, 6, 6],
        'layer { name: "n" type: "LRN" bottom: "data" top: "n" lrn_param { local_size: 3 alpha: 0.1 norm_region: WITHIN_CHANNEL } }',
      ),
    );
    assert.deepEqual(
      w.layers.map((l) => l.op),
      ["Mul", "AveragePool", "Mul", "Add", "Pow", "Mul"],
    );
    // 3×3 window, stride 1, pad 1: the size stays 6 and the field is 3 wide.
    assert.deepEqual(shapeOf(w, "n"), [1, 4, 6, 6]);
    assert.deepEqual(w.tensors.n.rf, { size: [3, 3], stride: [1, 1], padding: [1, 1], aligned: true });
  });
});

describe("Caffe layers: shape ops", () => {
  const two = (layers: string) =>
    run(
      `name: "t"
       layer { name: "a" type: "Input" top: "a" input_param { shape { dim: 1 dim: 4 dim: 20 dim: 20 } } }
       layer { name: "b" type: "Input" top: "b" input_param { shape { dim: 1 dim: 6 dim: 16 dim: 16 } } }
       ${layers}`,
    );

  it("Concat along channels and Slice by points or into equal parts", () => {
    const r = two(`layer { name: "ap" type: "Pooling" bottom: "a" top: "ap" pooling_param { kernel_size: 5 stride: 1 } }
       layer { name: "cat" type: "Concat" bottom: "ap" bottom: "b" top: "cat" }
       layer { name: "sl" type: "Slice" bottom: "cat" top: "x" top: "y" top: "z" slice_param { slice_point: 3 slice_point: 7 } }
       layer { name: "half" type: "Slice" bottom: "cat" top: "h1" top: "h2" }`);
    // pool 5/1 on 20: 16; concat 4 + 6 = 10 channels; slices 3, 4, 3 and 5, 5.
    assert.deepEqual(shapeOf(r, "cat"), [1, 10, 16, 16]);
    assert.deepEqual(
      ["x", "y", "z", "h1", "h2"].map((t) => r.tensors[t].shape?.[1]),
      [3, 4, 3, 5, 5],
    );
    assert.equal(layer(r, "sl").op, "Split");
  });

  it("Crop to the second bottom's size from `axis`, at `offset`", () => {
    // FCN-style: a [1, 4, 20, 20] cropped like b [·, ·, 16, 16] at offset 2 on H and W.
    const r = two('layer { name: "c" type: "Crop" bottom: "a" bottom: "b" top: "c" crop_param { axis: 2 offset: 2 } }');
    assert.deepEqual(shapeOf(r, "c"), [1, 4, 16, 16]);
    assert.equal(layer(r, "c").op, "Slice");
    // Unit u reads input u + 2: size 1, stride 1, padding −2.
    assert.deepEqual(r.tensors.c.rf, { size: [1, 1], stride: [1, 1], padding: [-2, -2], aligned: true });
    // b only lends its shape: it is not an output of the net.
    assert.deepEqual(
      r.outputs.map((o) => o.name),
      ["c"],
    );
  });

  it("Reshape with 0 and −1, with axis/num_axes, and Flatten from an axis", () => {
    const r = run(
      net(
        [2, 3, 4, 5],
        `layer { name: "r1" type: "Reshape" bottom: "data" top: "r1" reshape_param { shape { dim: 0 dim: -1 dim: 10 } } }
         layer { name: "r2" type: "Reshape" bottom: "data" top: "r2" reshape_param { shape { dim: -1 } axis: 1 num_axes: 2 } }
         layer { name: "f" type: "Flatten" bottom: "data" top: "f" flatten_param { axis: 2 } }
         layer { name: "p" type: "Permute" bottom: "data" top: "p" permute_param { order: 0 order: 2 } }`,
      ),
    );
    // 0 copies 2; −1 = 120/(2·10) = 6.
    assert.deepEqual(shapeOf(r, "r1"), [2, 6, 10]);
    // dims 1–2 (3·4) become one: [2, 12, 5].
    assert.deepEqual(shapeOf(r, "r2"), [2, 12, 5]);
    // Caffe's Flatten keeps the leading dims: [2, 3, 20].
    assert.deepEqual(shapeOf(r, "f"), [2, 3, 20]);
    // Permute order 0, 2, then the rest in order (1, 3).
    assert.deepEqual(shapeOf(r, "p"), [2, 4, 3, 5]);
  });

  it("Deconvolution, Interp and Upsample", () => {
    const r = run(
      net(
        [1, 4, 5, 5],
        `layer { name: "up" type: "Deconvolution" bottom: "data" top: "up" convolution_param { num_output: 2 kernel_size: 4 stride: 2 pad: 1 } }
         layer { name: "ip" type: "Interp" bottom: "data" top: "ip" interp_param { zoom_factor: 2 } }
         layer { name: "us" type: "Upsample" bottom: "data" top: "us" upsample_param { scale: 2 } }`,
      ),
    );
    // Deconv: 2·(5 − 1) + 4 − 2 = 10; blob [4, 2, 4, 4] = 128 + bias 2; MACs on the input
    // 5·5·4 · 2·16 = 3,200.
    assert.deepEqual(shapeOf(r, "up"), [1, 2, 10, 10]);
    assert.equal(layer(r, "up").op, "ConvTranspose");
    assert.equal(layer(r, "up").params, 130);
    assert.equal(layer(r, "up").macs, 3_200);
    // Interp zoom 2: 5 + (5 − 1)·1 = 9. Upsample ×2: 10.
    assert.deepEqual(shapeOf(r, "ip"), [1, 4, 9, 9]);
    assert.deepEqual(shapeOf(r, "us"), [1, 4, 10, 10]);
  });
});

describe("Caffe layers: unknown types and errors", () => {
  it("reports an unknown layer type as unknown and analyses the rest", () => {
    const r = run(
      net(
        [1, 3, 8, 8],
        `layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 2 kernel_size: 3 } }
         layer { name: "foo" type: "Foo" bottom: "conv" top: "foo" }
         layer { name: "after" type: "ReLU" bottom: "foo" top: "after" }
         layer { name: "pool" type: "Pooling" bottom: "conv" top: "pool" pooling_param { pool: AVE global_pooling: true } }`,
      ),
    );
    const foo = layer(r, "foo");
    assert.equal(foo.status, "unknown");
    assert.equal(foo.op, "caffe::Foo");
    assert.equal(foo.source, "Foo");
    assert.equal(r.totals.partial, "partial: 1 layer of type caffe::Foo not counted");
    // conv: 2·6·6·27 = 1,944 MACs; params 2·27 + 2 = 56; the pooled branch is intact.
    assert.equal(layer(r, "conv").macs, 1_944);
    // A Caffe layer convscope does not know may own learned blobs the prototxt does not
    // describe: its parameters are unknown, so the total is null and 56 is only the known part.
    assert.equal(foo.params, null);
    assert.equal(r.totals.params, null);
    assert.equal(r.totals.known?.params, 56);
    assert.equal(r.totals.known?.missing.params, "1 layer of type Foo not counted");
    assert.deepEqual(shapeOf(r, "pool"), [1, 2, 1, 1]);
  });

  it("keeps going after an unknown layer: later weights keep a symbol, their counts are unknown", () => {
    const r = run(
      net(
        [1, 4, 6, 6],
        `layer { name: "foo" type: "Foo" bottom: "data" top: "foo" }
         layer { name: "conv" type: "Convolution" bottom: "foo" top: "conv" convolution_param { num_output: 2 kernel_size: 3 } }
         layer { name: "ip" type: "InnerProduct" bottom: "conv" top: "ip" inner_product_param { num_output: 3 } }
         layer { name: "conv2" type: "Convolution" bottom: "data" top: "conv2" convolution_param { num_output: 2 kernel_size: 3 } }`,
      ),
    );
    assert.equal(layer(r, "conv").macs, null);
    assert.equal(layer(r, "ip").macs, null);
    // Its input channels are unknown even once the input is bound: the weight's count stays unknown, and says so in the total.
    assert.equal(layer(r, "conv").params, null);
    assert.equal(r.totals.params, null);
    assert.match(r.totals.known?.missing.params ?? "", /1 layer of type Foo not counted; 2 layers not counted \(sizes unknown: conv, ip\)/);
    // conv2 on the input: 2·4·4 outputs · 36 = 1,152 MACs; params 2·36 + 2 = 74.
    assert.equal(layer(r, "conv2").macs, 1_152);
    assert.equal(layer(r, "conv2").params, 74);
  });

  it("gives one-line errors naming the file, line and column for malformed text", () => {
    const err = (text: string) => {
      try {
        read(text, "bad.prototxt");
      } catch (e) {
        assert.ok(e instanceof ConvscopeError);
        return e.oneLine();
      }
      assert.fail("no error");
    };
    assert.equal(
      err('name: "x"\nlayer {\n  name: "a"\n  type: "ReLU"\n'),
      "bad.prototxt: line 5, column 1: '{' opened at line 2, column 7 is never closed",
    );
    assert.equal(err('layer {\n  name: "a" @\n}'), 'bad.prototxt: line 2, column 13: unexpected character "@"');
    assert.equal(err("layer {\n  name: }\n"), "bad.prototxt: line 2, column 9: expected a value, found '}'");
    // A well-formed file with a bad layer names the layer and its line.
    assert.equal(
      err(net([1, 3, 8, 8], 'layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { kernel_size: 3 } }')),
      "bad.prototxt: layer 'c': convolution_param.num_output is required (line 3)",
    );
    assert.equal(
      err(net([1, 3, 8, 8], 'layer { name: "r" type: "ReLU" bottom: "nope" top: "r" }')),
      "bad.prototxt: layer 'r': bottom 'nope' is not produced by any earlier layer or input (line 3)",
    );
  });
});
