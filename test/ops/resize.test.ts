import assert from "node:assert/strict";
import { test } from "node:test";
import type { Field, Resample } from "../../src/ops/rule.js";
import { analyzeGraph, costOf, layer, run, shapeOf } from "./helpers.js";

const floats = (...value: number[]) => ({ shape: [value.length], dtype: "float32" as const, value });
const ints = (...value: number[]) => ({ shape: [value.length], dtype: "int64" as const, value });
const EMPTY = { shape: [0], dtype: "float32" as const, value: [] };

test("Resize shapes: opset 10 scales, opset 11+ roi/scales/sizes, opset 18 axes and aspect policy", () => {
  const x = { shape: [1, 96, 20, 20] };
  assert.deepEqual(shapeOf("Resize", [x, floats(1, 1, 2, 2)], { mode: "nearest" }, 10), [1, 96, 40, 40]);
  assert.deepEqual(shapeOf("Resize", [x, floats(), floats(1, 1, 2, 2)], { mode: "nearest" }, 11), [1, 96, 40, 40]);
  assert.deepEqual(shapeOf("Resize", [x, undefined, EMPTY, ints(1, 96, 33, 47)], {}, 13), [1, 96, 33, 47]);
  assert.deepEqual(shapeOf("Resize", [x, undefined, undefined, ints(1, 96, 33, 47)], {}, 13), [1, 96, 33, 47]);
  // output = ⌊in·scale⌋ in float32: 20·0.35 = 7.0000002 → 7; 20·1.33 = 26.6 → 26
  assert.deepEqual(shapeOf("Resize", [x, undefined, floats(1, 1, Math.fround(0.35), Math.fround(1.33))], {}, 13), [1, 96, 7, 26]);
  assert.deepEqual(shapeOf("Resize", [x, undefined, floats(3, 3)], { axes: [2, 3] }, 18), [1, 96, 60, 60]);
  // not_larger: scale min(30/20, 50/10) = 1.5 → [30, 15]; not_smaller: 5 → [100, 50]
  const y = { shape: [1, 3, 20, 10] };
  assert.deepEqual(
    shapeOf("Resize", [y, undefined, undefined, ints(30, 50)], { axes: [2, 3], keep_aspect_ratio_policy: "not_larger" }, 18),
    [1, 3, 30, 15],
  );
  assert.deepEqual(
    shapeOf("Resize", [y, undefined, undefined, ints(30, 50)], { axes: [2, 3], keep_aspect_ratio_policy: "not_smaller" }, 18),
    [1, 3, 100, 50],
  );
  // scales not known: shape unknown (no guess)
  assert.equal(shapeOf("Resize", [x, undefined, { shape: [4], dtype: "float32" }], {}, 13), undefined);
});

test("Upsample: scales attribute (opset 7–8) or input (opset 9), asymmetric floor for nearest", () => {
  const x = { shape: [1, 8, 5, 5] };
  assert.deepEqual(shapeOf("Upsample", [x], { scales: [1, 1, 2, 3], mode: "nearest" }, 7), [1, 8, 10, 15]);
  const r = run("Upsample", [x, floats(1, 1, 2, 2)], { mode: "nearest" }, { opset: 9 });
  assert.deepEqual(r.out[0].shape, [1, 8, 10, 10]);
  // o reads ⌊o/2⌋
  assert.deepEqual(r.field, { kind: "resample", axes: Array(2).fill({ num: 1, den: 2, lo: 0, hi: 0 }) });
  assert.deepEqual(run("Upsample", [x, floats(1, 1, 2, 2)], { mode: "linear" }, { opset: 9 }).field, {
    kind: "resample",
    axes: Array(2).fill({ num: 1, den: 2, lo: 0, hi: 2 }),
  });
});

test("Resize cost: nearest copies; linear 2ⁿ − 1 lerps; cubic 4ⁿ taps", () => {
  const x = { shape: [1, 3, 4, 4] };
  const s = floats(1, 1, 2, 2);
  assert.deepEqual(run("Resize", [x, undefined, s], { mode: "nearest" }).cost, costOf({}));
  // 192 outputs, 2 resized axes: 3 lerps of (1 mul, 2 add)
  assert.deepEqual(run("Resize", [x, undefined, s], { mode: "linear" }).cost, costOf({ mul: 576, add: 1_152 }));
  // cubic: 16 mul, 15 add per output
  assert.deepEqual(run("Resize", [x, undefined, s], { mode: "cubic" }).cost, costOf({ mul: 3_072, add: 2_880 }));
});

test("Resize's roi, scales and sizes are values, not parameters", () => {
  const r = analyzeGraph({ x: [1, 2, 4, 4] }, { roi: floats(), scales: floats(1, 1, 2, 2) }, [
    { op: "Resize", name: "up", inputs: ["x", "roi", "scales"], attrs: { mode: "nearest" } },
  ]);
  assert.equal(layer(r, "up").params, 0);
  assert.deepEqual(r.outputs[0].shape, [1, 2, 8, 8]);
});

/** ONNX's source coordinate for output index o (the spec's formulas, in floating point). */
function source(ctm: string, o: number, inSize: number, outSize: number, scale: number): number {
  switch (ctm) {
    case "asymmetric":
      return o / scale;
    case "half_pixel":
      return (o + 0.5) / scale - 0.5;
    case "pytorch_half_pixel":
      return outSize > 1 ? (o + 0.5) / scale - 0.5 : 0;
    case "align_corners":
      return outSize === 1 ? 0 : (o * (inSize - 1)) / (outSize - 1);
    case "tf_half_pixel_for_nn":
      return (o + 0.5) / scale;
  }
  throw new Error(ctm);
}

const NEAREST: Record<string, (x: number) => number> = {
  floor: Math.floor,
  ceil: Math.ceil,
  round_prefer_floor: (x) => (x - Math.floor(x) === 0.5 ? Math.floor(x) : Math.round(x)),
  round_prefer_ceil: (x) => Math.floor(x + 0.5),
};

const at = (r: Resample, o: number, bound: "lo" | "hi") => Math.floor((r.num * o + r[bound]) / r.den);

test("Resize fields are exact: every output index reads what the ONNX formulas say (brute force)", () => {
  const cases: [number, number, number][] = [
    [5, 10, 2], // 2× up
    [10, 5, 0.5], // 2× down
    [4, 12, 3], // 3× up
    [5, 7, 7 / 5], // sizes 5 → 7
    [6, 4, 2 / 3], // sizes 6 → 4
  ];
  const ctms = ["asymmetric", "half_pixel", "pytorch_half_pixel", "align_corners", "tf_half_pixel_for_nn"];
  for (const [inSize, outSize, scale] of cases) {
    const x = { shape: [1, 1, inSize, inSize] };
    const sizes = ints(1, 1, outSize, outSize);
    for (const ctm of ctms) {
      const check = (attrs: Record<string, string>, expect: (c: number) => [number, number]) => {
        const f = run("Resize", [x, undefined, undefined, sizes], { coordinate_transformation_mode: ctm, ...attrs }).field as Extract<
          Field,
          { kind: "resample" }
        >;
        assert.equal(f.kind, "resample");
        for (let o = 0; o < outSize; o++) {
          const c = source(ctm, o, inSize, outSize, scale);
          const [lo, hi] = expect(c).map((v) => v + 0); // −0 → 0
          const what = `${ctm} ${JSON.stringify(attrs)} ${inSize}→${outSize} o=${o} x=${c}`;
          assert.equal(at(f.axes[0], o, "lo"), lo, what);
          assert.equal(at(f.axes[0], o, "hi"), hi, what);
        }
      };
      for (const [nm, round] of Object.entries(NEAREST)) {
        check({ mode: "nearest", nearest_mode: nm }, (c) => [round(c), round(c)]);
      }
      check({ mode: "linear" }, (c) => [Math.floor(c), Math.floor(c) + 1]);
      check({ mode: "cubic" }, (c) => [Math.floor(c) - 1, Math.floor(c) + 2]);
    }
  }
});

test("Resize with a float scale uses the scale (not out/in) for coordinates", () => {
  // in 5, scale 2.5 → out ⌊12.5⌋ = 12; asymmetric nearest floor: o reads ⌊o·2/5⌋
  const r = run("Resize", [{ shape: [1, 1, 5, 5] }, undefined, floats(1, 1, 2.5, 2.5)], {
    mode: "nearest",
    coordinate_transformation_mode: "asymmetric",
    nearest_mode: "floor",
  });
  assert.deepEqual(r.out[0].shape, [1, 1, 12, 12]);
  assert.deepEqual(r.field, { kind: "resample", axes: Array(2).fill({ num: 2, den: 5, lo: 0, hi: 0 }) });
});
