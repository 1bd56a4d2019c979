import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { bufferSource, readModel } from "../../src/formats/index.js";
import { ZOO } from "../../src/zoo/index.js";

const fixtures = new URL("../fixtures/", import.meta.url);
const read = (path: string) => {
  const url = new URL(path, fixtures);
  return readModel(bufferSource(url.pathname, new Uint8Array(readFileSync(url))));
};
const reference = JSON.parse(readFileSync(new URL("onnx/reference.json", fixtures), "utf8"));

test("resnet50.onnx: macs 4,089,184,256; params differ from torchvision's by exactly the folded batch norms", () => {
  const r = analyze(read("onnx/resnet50.onnx"));
  assert.equal(r.totals.by_convention.macs, 4_089_184_256);
  assert.equal(r.totals.by_convention.macs, reference.resnet50.macs);
  assert.equal(r.totals.params, reference.resnet50.params); // 25,530,472
  // The exporter folds each BN (γ, β, running mean and var over C channels) into the conv
  // before it: W' = W·γ/√(var + ε), and a new conv bias b' = β − mean·γ/√(var + ε) of C
  // elements. torchvision counts γ and β (2·C trainable; the running stats are buffers);
  // the ONNX file holds the C-element bias instead. Per BN: −2·C + C = −C.
  const zoo = analyze(ZOO.resnet50.build());
  const bnChannels = zoo.layers
    .filter((l) => l.op === "BatchNormalization")
    .reduce((s, l) => s + (zoo.tensors[l.outputs[0]].shape?.[1] as number), 0);
  assert.equal(bnChannels, 26_560); // 53 BN layers: 64 + 1,408 + 3,584 + 10,240 + 11,264
  assert.equal(reference.resnet50.torch_params - reference.resnet50.params, bnChannels);
  assert.equal(Number(zoo.totals.trainable_params) - Number(r.totals.params), bnChannels);
  // No BN is left: ptflops' 2·numel per BN element (11,113,984 of them) becomes one bias add
  // per conv output, the same elements — so the file's ptflops is lower by exactly one per element.
  assert.equal(r.layers.filter((l) => l.op === "BatchNormalization").length, 0);
  assert.equal(r.totals.by_convention.ptflops, (zoo.totals.by_convention.ptflops as number) - 11_113_984);
});

test("BVLC AlexNet prototxt: batch 10; per image Netscope macc 726,791,936, whole batch ten times that", () => {
  const r = analyze(read("caffe/bvlc_alexnet.prototxt"));
  assert.equal(r.batch, 10);
  assert.equal(r.totals.by_convention.macs, 724_406_816);
  assert.equal(r.totals.by_convention.netscope, 726_791_936);
  // Netscope profiles the deploy file's batch of 10: 7.27 G (users reporting "10× the
  // correct number", netscope issue #29, saw exactly this).
  assert.equal(r.batch_totals.by_convention.netscope, 7_267_919_360);
  assert.equal(r.layers.find((l) => l.name === "conv1")?.by_convention.seed, 105_705_600);
});
