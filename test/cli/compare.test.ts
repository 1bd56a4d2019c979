import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Comparison } from "../../src/analysis/compare.js";
import { cli } from "../support/cli.js";

const FIX = fileURLToPath(new URL("../fixtures/", import.meta.url));
const ALEXNET = `${FIX}onnx/alexnet.onnx`;
const VGG = `${FIX}caffe/vgg16_legacy_deploy.prototxt`;
// Reference numbers measured with torch (test/fixtures/onnx/reference.json, written by the fixture generator).
const REF = JSON.parse(readFileSync(`${FIX}onnx/reference.json`, "utf8"));

// Three formats mixed: an ONNX file, a Caffe prototxt, a zoo model.
const MODELS = [ALEXNET, VGG, "zoo:resnet18"];
// Known figures: AlexNet (torchvision, from reference.json); VGG-16 (138,357,544 params,
// 15,470,264,320 MACs: Netscope's and the seed article's figure); ResNet-18 (torchvision:
// 11,689,512 params + 9,600 batch-norm running statistics; 1,814,073,344 MACs).
const PARAMS = [REF.alexnet.params, 138_357_544, 11_689_512 + 9_600];
const MACS = [REF.alexnet.macs, 15_470_264_320, 1_814_073_344];
const RF = [REF.alexnet.rf.size[0], 212, 435];

describe("convscope compare: three models, every format", () => {
  it("json: exact values, ratios to the first model", () => {
    const { code, out, err } = cli("compare", ...MODELS, "--format", "json", "--train");
    assert.equal(code, 0, err);
    const c: Comparison = JSON.parse(out);
    assert.deepEqual(
      c.models.map((m) => m.format),
      ["onnx", "caffe", "builder"],
    );
    const row = (k: string) => {
      const m = c.metrics.find((x) => x.key === k);
      assert.ok(m, k);
      return m;
    };
    assert.deepEqual(row("params").values, PARAMS);
    assert.deepEqual(row("value").values, MACS);
    assert.deepEqual(row("rf").values, RF);
    assert.deepEqual(
      row("params").ratios,
      PARAMS.map((p) => p / PARAMS[0]),
    );
    assert.equal(row("value").ratios[0], 1);
    // Peak activation memory of AlexNet, file order, input included: conv1's 64×55×55 fp32 output
    // and its 3×224×224 input live together (774,400 + 602,112 bytes).
    assert.equal(row("peak_activation_bytes").values[0], 64 * 55 * 55 * 4 + 3 * 224 * 224 * 4);
    assert.ok(row("training_bytes").values.every((v) => typeof v === "number" && v > 0));
  });

  it("table: a column per model with ratios", () => {
    const { code, out } = cli("compare", ...MODELS);
    assert.equal(code, 0);
    const lines = out.split("\n");
    assert.match(lines[2], /alexnet\.onnx\s+vgg16_legacy_deploy\.prototxt\s+zoo:resnet18/);
    const macs = lines.find((l) => l.startsWith("MACs "));
    assert.ok(macs);
    // VGG-16 over AlexNet: 15,470,264,320 / 714,188,480 = 21.66…
    assert.match(macs, /714\.19M\s+15\.47G \(×21\.7\)\s+1\.81G \(×2\.54\)/);
    assert.match(out, /MACs \(exact\)\s+714,188,480\s+15,470,264,320\s+1,814,073,344/);
  });

  it("md: exact integers in a pipe table", () => {
    const { out } = cli("compare", ...MODELS, "--format", "md");
    const lines = out.trim().split("\n");
    assert.equal(lines[0], "| metric | alexnet.onnx | vgg16\\_legacy\\_deploy.prototxt | zoo:resnet18 |");
    assert.equal(lines[1], "|---|---:|---:|---:|");
    assert.equal(lines[2], "| params | 61,100,840 | 138,357,544 (×2.26) | 11,699,112 (×0.19) |");
  });

  it("csv: one row per model, parseable numbers", () => {
    const { out } = cli("compare", ...MODELS, "--format", "csv");
    const [head, ...rows] = out.trim().split("\n");
    const cols = head.split(",");
    assert.deepEqual(cols.slice(0, 5), ["model", "format", "input", "params", "params_ratio"]);
    assert.equal(rows.length, 3);
    const macs = cols.indexOf("macs");
    assert.deepEqual(
      rows.map((r) => Number(r.split(",")[macs])),
      MACS,
    );
  });

  it("latex: a booktabs table in M params and G MACs", () => {
    const { out } = cli("compare", ...MODELS, "--format", "latex", "--label", "AlexNet", "--label", "VGG-16", "--label", "ResNet-18");
    const lines = out.trim().split("\n");
    assert.ok(lines.includes("\\toprule") && lines.includes("\\midrule") && lines.includes("\\bottomrule"));
    assert.ok(lines.includes("\\begin{tabular}{lrrr}"));
    assert.ok(lines.includes(" & AlexNet & VGG-16 & ResNet-18 \\\\"));
    assert.ok(lines.includes("Params (M) & 61.10 & 138.36 (2.26$\\times$) & 11.70 (0.19$\\times$) \\\\"), out);
    assert.ok(lines.includes("MACs (G) & 0.71 & 15.47 (21.66$\\times$) & 1.81 (2.54$\\times$) \\\\"), out);
    assert.ok(lines.includes("Receptive field (px) & 195 & 212 (1.09$\\times$) & 435 (2.23$\\times$) \\\\"), out);
  });

  it("bad input: one model, or an unknown format, is a one-line error", () => {
    assert.equal(cli("compare", ALEXNET).code, 2);
    const r = cli("compare", ALEXNET, VGG, "--format", "pdf");
    assert.equal(r.code, 2);
    assert.match(r.err, /^convscope: compare: unknown format 'pdf'/);
  });
});
