import assert from "node:assert/strict";
import { test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { unitBox, unitsSeeing } from "../../src/analysis/rf-query.js";
import { NetBuilder } from "../../src/zoo/builder.js";

// Pixels no unit reads. SqueezeNet 1.0's stem: a 7×7 convolution, stride 2, no padding, on
// 224 px has floor((224 − 7)/2) + 1 = 109 units; unit u reads pixels 2u … 2u + 6, so unit
// 108 reads 216 … 222 and pixel 223 is read by no unit (found by onnxruntime impulses,
// test/runtime/verify-rf.test.ts). On top, a 3×3 stride-1 conv padded by 1: its unit u reads
// stem units u − 1 … u + 1, so its field box is 2u − 2 … 2u + 8, but unit 108's box
// (214 … 224) ends in stem unit 109, which does not exist: it reads 214 … 222.
function stem() {
  const b = new NetBuilder("stem");
  const x = b.input("x", [1, 3, 224, 224]);
  const c1 = b.node("Conv", "conv1", [x], { kernel_shape: [7, 7], strides: [2, 2], pads: [0, 0, 0, 0] }, { weight: [8, 3, 7, 7] });
  const c2 = b.node("Conv", "conv2", [c1], { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] }, { weight: [8, 8, 3, 3] });
  return { r: analyze(b.build(c2)), c1: c1.name, c2: c2.name };
}

test("a 7×7 stride-2 unpadded conv on 224 px: pixel 223 is seen by no unit, pixel 222 by unit 108 only", () => {
  const { r, c1 } = stem();
  assert.deepEqual(r.tensors[c1].shape, [1, 8, 109, 109]);
  assert.deepEqual(r.tensors[c1].rf_region?.reads, { start: [0, 0], end: [222, 222], units_start: [0, 0], units_end: [108, 108] });
  assert.deepEqual(unitsSeeing(r, c1, [223, 223]).ranges, [[], []]);
  assert.deepEqual(unitsSeeing(r, c1, [222, 0]).ranges, [[[108, 108]], [[0, 0]]]);
  assert.deepEqual(unitsSeeing(r, c1, [221, 216]).ranges, [[[108, 108]], [[105, 108]]]);
  assert.deepEqual(unitBox(r, c1, [108, 0]).clipped, { start: [216, 0], end: [222, 6] });
});

test("a box that ends in a missing unit is clipped to the pixels really read (3×3 pad-1 conv on the 7×7/2 stem)", () => {
  const { r, c2 } = stem();
  assert.deepEqual(r.tensors[c2].rf_region?.reads, { start: [0, 0], end: [222, 222], units_start: [0, 0], units_end: [108, 108] });
  const box = unitBox(r, c2, [108, 0]);
  assert.deepEqual(
    [box.start, box.end],
    [
      [214, -2],
      [224, 8],
    ],
  );
  // Unit 0's box starts in the padding (stem unit −1): clipped at pixel 0.
  assert.deepEqual(box.clipped, { start: [214, 0], end: [222, 8] });
  // Pixel 0 is read by stem unit 0 only, which units 0 and 1 read; pixel 223 by nobody.
  assert.deepEqual(unitsSeeing(r, c2, [223, 0]).ranges, [[], [[0, 1]]]);
  // Stem unit 108 (pixels 216 … 222) is read by units 107 and 108.
  assert.deepEqual(unitsSeeing(r, c2, [222, 0]).ranges, [[[107, 108]], [[0, 1]]]);
});

test("a padding of 10⁹ (a hostile file the fuzz made): the live units are found without stepping over the padding", () => {
  // 3×3, stride 1, pads 10⁹ above and none elsewhere, on 8×8: 10⁹ + 6 rows; row o reads input
  // rows o − 10⁹ … o − 10⁹ + 2, so the rows that touch pixels 0 … 7 are 10⁹ − 2 … 10⁹ + 5 (the last).
  // Before, the walk stepped over the 10⁹ rows of padding one by one and the suite hung.
  const b = new NetBuilder("bigpad");
  const x = b.input("x", [1, 1, 8, 8]);
  const c = b.node("Conv", "c", [x], { kernel_shape: [3, 3], strides: [1, 1], pads: [1e9, 0, 0, 0] }, { weight: [1, 1, 3, 3] });
  const r = analyze(b.build(c));
  assert.deepEqual(r.tensors[c.name].shape, [1, 1, 1_000_000_006, 6]);
  assert.deepEqual(r.tensors[c.name].rf_region?.reads, {
    start: [0, 0],
    end: [7, 7],
    units_start: [999_999_998, 0],
    units_end: [1_000_000_005, 5],
  });
});

test("regions: false leaves out rf_region only (the command's table, CSV and Markdown never show it)", () => {
  const b = new NetBuilder("stem");
  const x = b.input("x", [1, 3, 224, 224]);
  const c1 = b.node("Conv", "conv1", [x], { kernel_shape: [7, 7], strides: [2, 2], pads: [0, 0, 0, 0] }, { weight: [8, 3, 7, 7] });
  const r1 = b.node("Relu", "relu1", [c1]);
  const c2 = b.node("Conv", "conv2", [r1], { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] }, { weight: [8, 8, 3, 3] });
  const g = b.build(c2);
  const full = analyze(g);
  const lean = analyze(g, { regions: false });
  assert.ok(full.tensors[c2.name].rf_region, "the default report has rf_region");
  for (const t of Object.values(lean.tensors)) assert.equal(t.rf_region, undefined);
  for (const t of Object.values(full.tensors)) delete t.rf_region;
  assert.deepEqual(lean, full);
});
