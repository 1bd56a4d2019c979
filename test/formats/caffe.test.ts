import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import type { Report } from "../../src/core/report.js";
import { bufferSource, readModel } from "../../src/formats/index.js";
import { alexnet } from "../../src/zoo/alexnet.js";
import { vgg16 } from "../../src/zoo/vgg.js";

const shared = new URL("../fixtures/caffe/", import.meta.url);
const local = new URL("../fixtures/caffe/", import.meta.url);

function readFixture(url: URL) {
  return readModel(bufferSource(url.pathname, readFileSync(url)));
}

function fromText(text: string, name = "net.prototxt") {
  return readModel(bufferSource(name, new TextEncoder().encode(text)));
}

const layer = (r: Report, name: string) => {
  const l = r.layers.find((x) => x.name === name);
  assert.ok(l, `layer ${name} is in the report`);
  return l;
};

/** "r / S / P" of a layer's output, or "global". */
function field(r: Report, name: string): string {
  const f = r.tensors[layer(r, name).outputs[0]].rf;
  assert.ok(f, `${name} has a receptive field`);
  if ("global" in f) return "global";
  for (const k of ["size", "stride", "padding"] as const) assert.equal(new Set(f[k]).size, 1, `${name}: square field`);
  return `${f.size[0]} / ${f.stride[0]} / ${f.padding[0]}`;
}

const num = (s: string) => Number(s.replace(/[,*]/g, ""));

describe("Caffe BVLC AlexNet (shared fixture)", () => {
  const g = readFixture(new URL("bvlc_alexnet.prototxt", shared));
  const r = analyze(g);
  // The expected table: | layer | output | params | macs | seed | rf |, per image.
  const rows = readFileSync(new URL("bvlc_alexnet.expected.md", shared), "utf8")
    .split("\n")
    .filter((l) => /^\| [a-z]/.test(l) && !l.startsWith("| layer"))
    .map((l) => l.split("|").map((c) => c.trim()));

  it("reads the net as Caffe with batch 10", () => {
    assert.equal(g.format, "caffe");
    assert.equal(r.batch, 10);
    assert.deepEqual(r.inputs, [{ name: "data", shape: [10, 3, 227, 227], dtype: "float32" }]);
    assert.deepEqual(
      r.outputs.map((o) => o.name),
      ["prob"],
    );
    assert.equal(rows.length, 23);
  });

  it("matches every layer of the expected table: shape, params, MACs, seed, field", () => {
    for (const [, name, out, params, macs, seed, rf] of rows) {
      const l = layer(r, name);
      const shape = r.tensors[l.outputs[0]].shape;
      assert.deepEqual(shape, [10, ...out.split("×").map(Number)], `${name} shape`);
      assert.equal(l.params, num(params), `${name} params`);
      assert.equal(l.macs, num(macs), `${name} macs`);
      assert.equal(l.seed, num(seed), `${name} seed`);
      assert.equal(field(r, name), rf, `${name} field`);
      assert.equal(l.status, "ok");
    }
  });

  it("totals per image and per batch of 10", () => {
    assert.equal(r.totals.params, 60_965_224);
    assert.equal(r.totals.trainable_params, 60_965_224);
    assert.equal(r.totals.macs, 724_406_816);
    assert.equal(r.totals.seed, 725_066_088);
    assert.equal(r.batch_totals.macs, 7_244_068_160);
    // fp32: 60,965,224 · 4 = 243,860,896 bytes, as the expected file says.
    assert.equal(r.totals.param_bytes, 243_860_896);
  });

  it("keeps Caffe's names and types: in-place ReLU outputs are new tensors named after the layer", () => {
    const relu1 = layer(r, "relu1");
    assert.equal(relu1.source, "ReLU");
    assert.deepEqual(relu1.inputs, ["conv1"]);
    assert.deepEqual(relu1.outputs, ["relu1"]);
    assert.deepEqual(layer(r, "norm1").inputs, ["relu1"]);
    assert.equal(layer(r, "conv1").source, "Convolution");
    // pool1: 55 → ceil((55 − 3)/2) + 1 = 27 (no padding, kernel ≥ stride: ONNX ceil mode is exact).
    assert.equal(g.nodes.find((n) => n.name === "pool1")?.attrs.ceil_mode, 1);
  });

  it("gives the same per-layer numbers as the built-in zoo alexnet", () => {
    const z = analyze(alexnet());
    for (const zl of z.layers) {
      const l = layer(r, zl.name);
      assert.equal(l.op, zl.op, zl.name);
      assert.equal(l.params, zl.params, `${zl.name} params`);
      assert.equal(l.macs, zl.macs, `${zl.name} macs`);
      assert.equal(l.seed, zl.seed, `${zl.name} seed`);
      assert.equal(l.flops, zl.flops, `${zl.name} flops`);
      assert.deepEqual(r.tensors[l.outputs[0]].shape?.slice(1), z.tensors[zl.outputs[0]].shape?.slice(1), zl.name);
      assert.deepEqual(r.tensors[l.outputs[0]].rf, z.tensors[zl.outputs[0]].rf, `${zl.name} field`);
    }
    assert.equal(r.layers.length, z.layers.length);
    assert.deepEqual(r.totals.by_convention, z.totals.by_convention);
  });
});

describe("VGG-16, legacy V1 deploy (hand-written fixture)", () => {
  const r = analyze(readFixture(new URL("vgg16_legacy_deploy.prototxt", local)));

  it("params and MACs equal the independent count", () => {
    // Independent: torchvision vgg16 has 138,357,544 params and 15,470,264,320 MACs at 224
    // (shared/notes/counting-conventions.md); its adaptive 7×7 pool is the identity at 224,
    // so it is the same network. Also 138,357,544 · 4 bytes = 553.4 MB, the size of the
    // model zoo's VGG_ILSVRC_16_layers.caffemodel (528 MiB).
    assert.equal(r.totals.params, 138_357_544);
    assert.equal(r.totals.macs, 15_470_264_320);
    assert.equal(r.batch, 10);
    assert.equal(r.batch_totals.macs, 154_702_643_200);
  });

  it("matches the zoo vgg16 layer by layer and the reference field", () => {
    const z = analyze(vgg16());
    const ours = r.layers.filter((l) => l.op === "Conv" || l.op === "Gemm");
    const theirs = z.layers.filter((l) => l.op === "Conv" || l.op === "Gemm");
    assert.deepEqual(
      ours.map((l) => [l.params, l.macs]),
      theirs.map((l) => [l.params, l.macs]),
    );
    // shared/notes/receptive-field.md: vgg16 at the last feature map, 212 / 32 / 90.
    assert.equal(field(r, "pool5"), "212 / 32 / 90");
    assert.equal(layer(r, "conv1_1").source, "CONVOLUTION");
    assert.equal(layer(r, "relu1_1").op, "Relu");
  });
});

/**
 * ResNet-50 as in Kaiming He's Caffe ResNet-50-deploy.prototxt (the original "v1": the
 * stride-2 of a stage sits in its first 1×1 conv; convs without bias; BatchNorm + Scale;
 * pool1 3×3/2 without padding, ceil mode; pool5 7×7 average). Generated here as text.
 */
function resnet50Prototxt(): string {
  const out: string[] = [
    'name: "ResNet-50"',
    'layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 224 dim: 224 } } }',
  ];
  const conv = (name: string, bottom: string, n: number, k: number, s: number, p: number) => {
    out.push(
      `layer { name: "${name}" type: "Convolution" bottom: "${bottom}" top: "${name}"`,
      `  convolution_param { num_output: ${n} kernel_size: ${k} pad: ${p} stride: ${s} bias_term: false } }`,
    );
    const bn = name === "conv1" ? "conv1" : name.slice(3);
    out.push(
      `layer { name: "bn${bn === "conv1" ? "_conv1" : bn}" type: "BatchNorm" bottom: "${name}" top: "${name}" batch_norm_param { use_global_stats: true } }`,
      `layer { name: "scale${bn === "conv1" ? "_conv1" : bn}" type: "Scale" bottom: "${name}" top: "${name}" scale_param { bias_term: true } }`,
    );
    return name;
  };
  const relu = (t: string, name: string) => out.push(`layer { name: "${name}" type: "ReLU" bottom: "${t}" top: "${t}" }`);
  let x = conv("conv1", "data", 64, 7, 2, 3);
  relu(x, "conv1_relu");
  out.push('layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }');
  x = "pool1";
  const stages: [number, number, number][] = [
    [2, 3, 64],
    [3, 4, 128],
    [4, 6, 256],
    [5, 3, 512],
  ];
  for (const [stage, blocks, w] of stages) {
    for (let b = 0; b < blocks; b++) {
      const id = `${stage}${String.fromCharCode(97 + b)}`;
      const s = b === 0 && stage > 2 ? 2 : 1;
      const short = b === 0 ? conv(`res${id}_branch1`, x, 4 * w, 1, s, 0) : x;
      const a = conv(`res${id}_branch2a`, x, w, 1, s, 0);
      relu(a, `res${id}_branch2a_relu`);
      const bb = conv(`res${id}_branch2b`, a, w, 3, 1, 1);
      relu(bb, `res${id}_branch2b_relu`);
      const c = conv(`res${id}_branch2c`, bb, 4 * w, 1, 1, 0);
      out.push(`layer { name: "res${id}" type: "Eltwise" bottom: "${short}" bottom: "${c}" top: "res${id}" }`);
      relu(`res${id}`, `res${id}_relu`);
      x = `res${id}`;
    }
  }
  out.push(
    `layer { name: "pool5" type: "Pooling" bottom: "${x}" top: "pool5" pooling_param { pool: AVE kernel_size: 7 stride: 1 } }`,
    'layer { name: "fc1000" type: "InnerProduct" bottom: "pool5" top: "fc1000" inner_product_param { num_output: 1000 } }',
    'layer { name: "prob" type: "Softmax" bottom: "fc1000" top: "prob" }',
  );
  return out.join("\n");
}

// Caffe's BatchNorm keeps its 1-element scale-factor blob as a 6th BatchNormalization
// input (so params equal Caffe's blobs); src/ops/norm.ts still checks every input is [C].

describe("ResNet-50, Caffe deploy structure (BatchNorm + Scale)", () => {
  let report: Report | undefined;
  const resnet = () => {
    report ??= analyze(fromText(resnet50Prototxt(), "ResNet-50-deploy.prototxt"));
    return report;
  };

  it("trainable params equal torchvision's resnet50; BatchNorm blobs are the non-trainable rest", () => {
    const r = resnet();
    // Scale's γ, β are torchvision's BN weight and bias; conv and fc weights are the same:
    // trainable = 25,557,032 (torchvision resnet50, shared/notes/counting-conventions.md).
    assert.equal(r.totals.trainable_params, 25_557_032);
    // 53 BatchNorm layers over Σ C = 64 + (3·6·64 + 256) + (4·6·128 + 512) + (6·6·256 + 1024)
    // + (3·6·512 + 2048) = 64 + 1,408 + 3,584 + 10,240 + 11,264 = 26,560 channels; each holds
    // mean [C], variance [C] and the 1-element scale factor: 2·26,560 + 53 = 53,173.
    assert.equal(r.totals.non_trainable_params, 53_173);
    assert.equal(r.totals.params, 25_610_205);
  });

  it("MACs equal torchvision's minus the cost of moving the stride into the 1×1 conv", () => {
    const r = resnet();
    // torchvision's resnet50 (v1.5, stride on the 3×3) has 4,089,184,256 MACs. In Caffe's v1
    // the first 1×1 of stages 3–5 runs at the halved size: it saves ¾·H²·w·C_in per stage:
    // ¾·56²·128·256 = ¾·28²·256·512 = ¾·14²·512·1024 = 77,070,336, three times 231,211,008.
    // 4,089,184,256 − 231,211,008 = 3,857,973,248 (the "3.8 GFLOPs" of the ResNet paper).
    assert.equal(r.totals.macs, 3_857_973_248);
  });

  it("shapes follow Caffe's rules and the residual adds are aligned", () => {
    const r = resnet();
    // pool1: ceil((112 − 3)/2) + 1 = 56, no padding, so nothing is dropped.
    assert.deepEqual(r.tensors.pool1.shape, [1, 64, 56, 56]);
    assert.deepEqual(r.tensors[layer(r, "res5c_relu").outputs[0]].shape, [1, 2048, 7, 7]);
    assert.deepEqual(r.tensors.pool5.shape, [1, 2048, 1, 1]);
    assert.deepEqual(r.warnings, []);
    assert.equal(layer(r, "bn_conv1").trainable_params, 0);
    assert.equal(layer(r, "bn_conv1").params, 129); // 64 + 64 + 1
    assert.equal(layer(r, "scale_conv1").params, 64); // γ [64, 1, 1]
    assert.equal(layer(r, "scale_conv1.bias").params, 64); // β
  });
});
