import assert from "node:assert/strict";
import { test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { NetBuilder } from "../../src/zoo/builder.js";
import { ZOO } from "../../src/zoo/index.js";

// Tensors are fp32: a 1×1×4×4 map is 64 bytes, 1×2×4×4 is 128.

test("a chain: the input dies after the first conv; ReLU runs in place", () => {
  const b = new NetBuilder("chain");
  let x = b.input("x", [1, 1, 4, 4]); // 64
  x = b.conv(x, { name: "c1", out: 2, kernel: 3, pad: 1 }); // 128: live x + c1 = 192
  x = b.relu(x, "r1"); // in place: 128
  x = b.conv(x, { name: "c2", out: 1, kernel: 3, pad: 1 }); // 64: live r1 + c2 = 192
  const r = analyze(b.build(x));
  assert.equal(r.totals.peak_activation_bytes, 192);
  assert.equal(r.totals.peak_layer, "c1");
  assert.equal(r.totals.activation_bytes, 128 + 128 + 64);
  assert.equal(r.totals.input_bytes, 64);
});

test("a residual block keeps its input alive across the branch", () => {
  const b = new NetBuilder("res");
  const x = b.input("x", [1, 1, 4, 4]); // 64
  let y = b.conv(x, { name: "c1", out: 2, kernel: 3, pad: 1 }); // x + c1 = 192
  y = b.relu(y, "r1"); // in place
  y = b.conv(y, { name: "c2", out: 1, kernel: 3, pad: 1 }); // x + r1 + c2 = 64 + 128 + 64 = 256
  const s = b.addT(y, x, "add"); // in place into c2, then x dies: 64
  const r = analyze(b.build(s));
  assert.equal(r.totals.peak_activation_bytes, 256);
  assert.equal(r.totals.peak_layer, "c2");
  assert.deepEqual(new Set(r.totals.peak_live), new Set(["x", "r1", "c2"]));
});

test("an inception block: all branches stay live until the concat", () => {
  const b = new NetBuilder("inc");
  const x = b.input("x", [1, 1, 4, 4]); // 64
  const a = b.conv(x, { name: "a", out: 1, kernel: 1 }); // 64
  const c = b.conv(x, { name: "c", out: 2, kernel: 3, pad: 1 }); // 128
  const d = b.maxPool(x, { name: "d", kernel: 3, stride: 1, pad: 1 }); // 64; x dies after: live a + c + d = 256 at d (x still live: 320)
  const y = b.concat([a, c, d], "cat"); // 256 more: a + c + d + cat = 512
  const r = analyze(b.build(y));
  assert.equal(r.totals.peak_activation_bytes, 512);
  assert.equal(r.totals.peak_layer, "cat");
});

test("on every zoo model the peak lies between the largest layer's inputs+outputs and the sum of all activations", () => {
  for (const [name, z] of Object.entries(ZOO)) {
    const r = analyze(z.build());
    const peak = r.totals.peak_activation_bytes as number;
    const all = (r.totals.activation_bytes as number) + (r.totals.input_bytes as number);
    let largest = 0;
    for (const l of r.layers) {
      const io = new Set([...l.inputs, ...l.outputs].filter((t) => r.tensors[t]));
      let s = 0;
      for (const t of io) s += r.tensors[t].bytes as number;
      // An in-place layer shares one buffer between its input and output.
      if (l.family === "activation" || l.op === "BatchNormalization" || l.op === "Add") s -= r.tensors[l.outputs[0]].bytes as number;
      largest = Math.max(largest, s);
    }
    assert.ok(peak >= largest, `${name}: peak ${peak} < largest layer ${largest}`);
    assert.ok(peak <= all, `${name}: peak ${peak} > sum ${all}`);
  }
});
