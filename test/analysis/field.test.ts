import assert from "node:assert/strict";
import { test } from "node:test";
import { compose } from "../../src/analysis/field.js";
import { analyze } from "../../src/analysis/index.js";
import type { FieldJson } from "../../src/core/report.js";
import { NetBuilder, type T } from "../../src/zoo/builder.js";

// Small graphs from the receptive_field library's tests (shared/notes/receptive-field.md).
// "pad(1,0)→3×3/2" is a 3×3 stride-2 conv padded 1 at the start and 0 at the end.

function local(rf: FieldJson | undefined) {
  assert.ok(rf && !("global" in rf), "a local field");
  return rf;
}

function twoPaths(b: NetBuilder, x: T, p: string): T {
  const a = b.conv(x, { name: `${p}a`, out: 1, kernel: 1, stride: 4 });
  let c = b.conv(x, { name: `${p}b1`, out: 1, kernel: 3, stride: 2, pad: [1, 1, 0, 0] });
  c = b.conv(c, { name: `${p}b2`, out: 1, kernel: 1, stride: 2 });
  return b.addT(a, c, `${p}add`);
}

test("two aligned paths 1×1/4 and pad(1,0)→3×3/2→1×1/2 → r 3, S 4, P 1", () => {
  const b = new NetBuilder("t");
  const x = b.input("x", [1, 1, 32, 32]);
  const y = twoPaths(b, x, "");
  // Path a: r 1, S 4, P 0, centre 0. Path b: pad 1 → P 1; 3×3/2 → r 3, S 2; 1×1/2 → S 4; centre (3−1)/2 − 1 = 0.
  const rf = local(analyze(b.build(y)).tensors[y.name].rf);
  assert.deepEqual(rf, { size: [3, 3], stride: [4, 4], padding: [1, 1], aligned: true });
});

test("the depth-first trap: the same, then 1×1/2 and pad(1,0)→3×3/2 added → r 11, S 8, P 5", () => {
  const b = new NetBuilder("t");
  const x = twoPaths(b, b.input("x", [1, 1, 32, 32]), "");
  const a = b.conv(x, { name: "c", out: 1, kernel: 1, stride: 2 }); // r 3, S 8, P 1
  const d = b.conv(x, { name: "d", out: 1, kernel: 3, stride: 2, pad: [1, 1, 0, 0] }); // P 1 + 1·4 = 5, r 3 + 2·4 = 11
  const y = b.addT(a, d, "add2");
  const rf = local(analyze(b.build(y)).tensors[y.name].rf);
  assert.deepEqual(rf, { size: [11, 11], stride: [8, 8], padding: [5, 5], aligned: true });
});

test("non-square kernels [3,5]/2 then [3,1]/2 → r 7 (H) × 5 (W), S 4, P 0", () => {
  const b = new NetBuilder("t");
  let x = b.input("x", [1, 1, 33, 33]);
  x = b.conv(x, { name: "a", out: 1, kernel: [3, 5], stride: 2 });
  x = b.conv(x, { name: "b", out: 1, kernel: [3, 1], stride: 2 });
  // H: 1 + 2 + 2·2 = 7; W: 1 + 4 + 0 = 5.
  assert.deepEqual(local(analyze(b.build(x)).tensors.b.rf), { size: [7, 5], stride: [4, 4], padding: [0, 0], aligned: true });
});

test("paths with strides 2 and 1 merged are not aligned, and the warning names the merge", () => {
  const b = new NetBuilder("t");
  const x = b.input("x", [1, 1, 8, 8]);
  const a = b.conv(x, { name: "s2", out: 1, kernel: 1, stride: 2 }); // 4×4, r 1, S 2
  const c = b.conv(x, { name: "s1", out: 1, kernel: 5 }); // 4×4, r 5, S 1
  const y = b.addT(a, c, "merge");
  const r = analyze(b.build(y));
  const rf = local(r.tensors.merge.rf);
  assert.equal(rf.aligned, false);
  // Union of what unit 0 sees: [0, 0] ∪ [0, 4] → r 5, P 0.
  assert.deepEqual(rf.size, [5, 5]);
  assert.ok(r.warnings.some((w) => w.includes("'merge'") && w.includes("axis 0")));
});

test("dilation widens the kernel to d·(k−1)+1", () => {
  const b = new NetBuilder("t");
  let x = b.input("x", [1, 1, 32, 32]);
  x = b.conv(x, { name: "a", out: 1, kernel: 3, dilation: 2, stride: 2, pad: 2 }); // k_eff 5
  x = b.conv(x, { name: "b", out: 1, kernel: 3, dilation: 3, pad: 3 }); // k_eff 7, at S 2: r 5 + 6·2 = 17
  assert.deepEqual(local(analyze(b.build(x)).tensors.b.rf), { size: [17, 17], stride: [2, 2], padding: [8, 8], aligned: true });
});

test("global pooling and FC outputs are global; an SE gate keeps the local field of the main path", () => {
  const b = new NetBuilder("t");
  const x = b.conv(b.input("x", [1, 4, 16, 16]), { name: "c", out: 4, kernel: 3, pad: 1 });
  const gate = b.node("Sigmoid", "sig", [b.conv(b.globalAvgPool(x, "gap"), { name: "fc1", out: 4, kernel: 1 })]);
  const y = b.mul(x, gate, "scale");
  const r = analyze(b.build(y));
  assert.deepEqual(r.tensors.gap.rf, { global: true, aligned: true });
  assert.deepEqual(r.tensors.scale.rf, { global: true, local: { size: [3, 3], stride: [1, 1], padding: [1, 1] }, aligned: true });
});

test("composition stays exact while the phase table is short, and says when it would not be", () => {
  const identity = { period: 1, shift: 1, lo: [0], hi: [0] };
  // Nearest 2× up-sampling: output o reads floor(o/2): period 2, shift 1, both phases see one pixel.
  assert.deepEqual(compose(identity, { num: 1, den: 2, lo: 0, hi: 0 }), { period: 2, shift: 1, lo: [0, 0], hi: [0, 0] });
  // Up-sampling by 5,000 would need a 5,000-entry table: not built, the pass reports a bound instead.
  assert.equal(compose(identity, { num: 1, den: 5000, lo: 0, hi: 0 }), null);
});

test("a further output of another rank is global: DynamicQuantizeLinear's scale and zero point are computed over the whole image", () => {
  const b = new NetBuilder("dynq");
  const x = b.input("x", [1, 3, 32, 32]);
  const c = b.conv(x, { name: "conv", out: 8, kernel: 3, stride: 2, pad: 1 });
  const [y, scale, zp] = b.add({
    name: "q",
    op: "DynamicQuantizeLinear",
    inputs: [c.name],
    outputs: ["y", "y_scale", "y_zero_point"],
    attrs: {},
  });
  // scale × a weight scale: a scalar that still depends on every pixel.
  const ws = b.constant("w_scale", [0.5], []);
  const m = b.node("Mul", "scales_mul", [scale, ws]);
  const r = analyze(b.build(y));
  assert.deepEqual(r.tensors[y.name].rf, { size: [3, 3], stride: [2, 2], padding: [1, 1], aligned: true });
  for (const t of [scale, zp, m]) {
    assert.deepEqual(r.tensors[t.name].shape, []);
    // Before, the scalars took the data output's 3×3 field (and, further on, a "local" part).
    assert.deepEqual(r.tensors[t.name].rf, { global: true, aligned: true }, t.name);
  }
});
