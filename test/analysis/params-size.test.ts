import assert from "node:assert/strict";
import { test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { NetBuilder } from "../../src/zoo/builder.js";

test("a weight shared by two convs counts once in the total and fully for each user; frozen tensors are non-trainable", () => {
  const b = new NetBuilder("tied");
  const x = b.input("x", [1, 4, 8, 8]);
  const c1 = b.conv(x, { name: "c1", out: 4, kernel: 3, pad: 1, bias: false }); // weight 4·4·3·3 = 144
  // c2 reads c1's weight tensor (tied weights).
  const [c2] = b.add({
    name: "c2",
    op: "Conv",
    inputs: [c1.name, "c1.weight"],
    outputs: ["c2"],
    attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] },
  });
  // A frozen 1×1 conv: weight 10·4 = 40 and bias 10, marked not trainable by the file.
  const f = b.node("Conv", "frozen", [c2], { kernel_shape: [1, 1] }, { weight: [10, 4, 1, 1], bias: [10] }, false);
  const r = analyze(b.build(f));
  const layer = (n: string) => r.layers.find((l) => l.name === n);
  assert.equal(layer("c1")?.params, 144);
  assert.equal(layer("c2")?.params, 144);
  assert.equal(layer("frozen")?.params, 50);
  assert.equal(layer("frozen")?.trainable_params, 0);
  assert.equal(r.totals.params, 144 + 50); // the shared tensor once: 194
  assert.equal(r.totals.trainable_params, 144);
  assert.equal(r.totals.non_trainable_params, 50);
  // Sizes per dtype: 194 elements · 4, 2, 2, 1 and ½ bytes.
  assert.deepEqual(r.totals.size_bytes, { fp32: 776, fp16: 388, bf16: 388, int8: 194, int4: 97 });
  assert.equal(r.totals.stored_param_bytes, 776);
  assert.deepEqual(r.totals.stored_param_bytes_by_dtype, { float32: 776 });
});

test("--dtype picks the headline size; odd element counts round int4 up", () => {
  const b = new NetBuilder("odd");
  const x = b.input("x", [1, 1, 5]);
  const y = b.node("Conv", "c", [x], { kernel_shape: [3] }, { weight: [1, 1, 3] }); // 3 params
  const r = analyze(b.build(y), { dtype: "int4" });
  assert.equal(r.totals.param_bytes, 2); // ⌈3·4/8⌉
  assert.equal(r.totals.size_bytes.int4, 2);
  assert.equal(r.totals.param_dtype, "int4");
});
