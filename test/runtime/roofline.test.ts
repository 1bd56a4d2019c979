import assert from "node:assert/strict";
import { test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { DEVICES, layerBytes, parseDevice, roofline, spearman } from "../../src/analysis/roofline.js";
import { ConvscopeError } from "../../src/core/errors.js";
import { bufferSource, readModel } from "../../src/formats/index.js";

const spec = {
  name: "tiny",
  inputs: { image: [1, 3, 8, 8] },
  layers: [
    { name: "conv", type: "conv", out: 4, kernel: 3, pad: 1 },
    { name: "relu", type: "relu" },
    { name: "flat", type: "flatten" },
    { name: "fc", type: "fc", out: 10 },
  ],
};
const report = analyze(readModel(bufferSource("tiny.json", new TextEncoder().encode(JSON.stringify(spec)))));
const layer = (n: string) => report.layers.find((l) => l.name === n) ?? assert.fail(n);

test("bytes moved: activation inputs + weights + outputs at the dtype, by hand", () => {
  // conv: input 3·8·8 = 192, weights 4·3·3·3 + 4 = 112, output 4·8·8 = 256 → 560 elements.
  assert.equal(layerBytes(report, layer("conv"), "fp32"), 560 * 4);
  assert.equal(layerBytes(report, layer("conv"), "fp16"), 560 * 2);
  assert.equal(layerBytes(report, layer("conv"), "int8"), 560);
  // relu: 256 in, 256 out, no weights.
  assert.equal(layerBytes(report, layer("relu"), "fp32"), 512 * 4);
  // flatten is a view: nothing moves.
  assert.equal(layerBytes(report, layer("flat"), "fp32"), 0);
  // fc: 256 in, 256·10 + 10 weights, 10 out.
  assert.equal(layerBytes(report, layer("fc"), "fp32"), (256 + 2570 + 10) * 4);
});

test("roofline: each layer's time is max(FLOPs / peak, bytes / bandwidth); the total sums them", () => {
  // peak 1 GFLOP/s, bandwidth 1 GB/s: ridge at 1 FLOP/B.
  const dev = parseDevice("peak=1G,bw=1G");
  const rf = roofline(report, dev, "fp32");
  assert.equal(rf.ridge, 1);
  const conv = rf.layers.find((l) => l.name === "conv") ?? assert.fail();
  const flops = layer("conv").flops as number;
  assert.ok(flops > 2240, "the conv does more FLOPs than it moves bytes");
  assert.equal(conv.intensity, flops / 2240);
  assert.equal(conv.bound, "compute");
  assert.equal(conv.time, flops / 1e9);
  const relu = rf.layers.find((l) => l.name === "relu") ?? assert.fail();
  assert.equal(relu.bound, "memory");
  assert.equal(relu.time, 2048 / 1e9);
  const sum = rf.layers.reduce((a, l) => a + (l.time ?? Number.NaN), 0);
  assert.equal(rf.total_time, sum);
  // The lower bound can only grow when a roof is lowered.
  const slow = roofline(report, parseDevice("peak=1G,bw=0.5G"), "fp32");
  assert.ok((slow.total_time as number) > sum);
});

test("device presets: every figure positive, fp32 always given, the named ones parse", () => {
  for (const d of DEVICES) {
    assert.ok((d.peak.fp32 as number) > 0 && d.bandwidth > 0, d.name);
    assert.ok(d.source.length > 10, d.name);
    assert.equal(parseDevice(d.name), d);
  }
  assert.equal(parseDevice("a100").peak.fp16, 312e12);
  assert.equal(parseDevice("h100").bandwidth, 3.35e12);
  assert.throws(() => parseDevice("tpu9"), ConvscopeError);
  assert.throws(() => parseDevice("peak=1G"), ConvscopeError);
  assert.throws(() => roofline(report, parseDevice("rpi5"), "bf16"), /no bf16 figure/);
});

test("Spearman's rank correlation, by hand", () => {
  assert.equal(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  // ranks a = 1 2 3 4 5, b = 2 1 4 3 5: Σd² = 4 → 1 − 6·4 / (5·24) = 0.8
  assert.ok(Math.abs(spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) - 0.8) < 1e-12);
});

test("CLI --device: the roofline instead of the report; 'this' needs the runtime", async () => {
  const { main } = await import("../../src/cli/main.js");
  const file = new URL("../fixtures/onnx/resnet18.onnx", import.meta.url).pathname;
  let out = "";
  let err = "";
  assert.equal(
    main(
      [file, "--device", "a100"],
      (s) => (out += s),
      (s) => (err += s),
    ),
    0,
    err,
  );
  assert.match(out, /^roofline on NVIDIA A100 SXM4 80GB, fp32: peak 19\.50 TFLOP\/s, bandwidth 2\.04 TB\/s, ridge 9\.6 FLOP\/B\n/);
  assert.match(out, /\n\/conv1\/Conv +Conv +236830720 +3851264 +61\.5 compute/);
  assert.equal(
    main(
      [file, "--device", "this"],
      () => {},
      (s) => (err += s),
    ),
    2,
  );
  assert.match(err, /--device this is measured by running onnxruntime/);
});
