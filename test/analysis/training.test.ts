import assert from "node:assert/strict";
import { test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { NetBuilder } from "../../src/zoo/builder.js";
import { ZOO } from "../../src/zoo/index.js";

/** conv(3→4, 3×3, pad 1, bias) → BN → ReLU → maxpool 2/2 → fc(64→10) on 3×8×8. */
function chain(batch = 1) {
  const b = new NetBuilder("chain");
  let x = b.input("x", [batch, 3, 8, 8]);
  x = b.conv(x, { name: "conv", out: 4, kernel: 3, pad: 1 });
  x = b.bn(x, "bn");
  x = b.relu(x, "relu");
  x = b.maxPool(x, { name: "pool", kernel: 2, stride: 2 });
  return b.build(b.fc(x, { name: "fc", out: 10 }));
}

// Parameters: conv 4·3·3·3 + 4 = 112; BN γ, β 8 trainable + running mean, var 8 buffers;
// fc 10·64 + 10 = 650. Trainable 770, buffers 8.
//
// Saved for backward, fp32, one image (elements · 4 bytes):
//   conv saves its input x: 3·8·8 = 192 → 768
//   BN saves its input (the conv output): 4·8·8 = 256 → 1,024, plus mean and inverse std 2·4 fp32 → 32
//   ReLU saves its output: 256 → 1,024
//   max pool saves its input (the ReLU output, already saved) and int64 indices 4·4·4 = 64 → 512
//   flatten nothing; fc saves its input 64 → 256
// Total 768 + 1,024 + 32 + 1,024 + 512 + 256 = 3,616.

test("fp32 training of a chain: weights, gradients, optimizer state and saved activations by hand", () => {
  const run = (optimizer: "sgd" | "momentum" | "adam") =>
    analyze(chain(), { training: { optimizer, precision: "fp32" } }).totals.training_bytes;
  const sgd = run("sgd");
  assert.deepEqual(sgd, {
    optimizer: "sgd",
    precision: "fp32",
    batch: 1,
    weights: 4 * 778, // every stored tensor in fp32: 3,112
    gradients: 4 * 770, // trainable only: 3,080
    optimizer_state: 0,
    activations: 3_616,
    total: 3_112 + 3_080 + 0 + 3_616,
    dominant: "activations",
  });
  assert.equal(run("momentum")?.optimizer_state, 4 * 770); // one fp32 buffer per weight
  const adam = run("adam");
  assert.equal(adam?.optimizer_state, 8 * 770); // first and second moments: 6,160
  assert.equal(adam?.total, 3_112 + 3_080 + 6_160 + 3_616); // 15,968
  assert.equal(adam?.dominant, "optimizer_state");
});

test("mixed precision: half weights and gradients beside fp32 master weights and optimizer state; half activations", () => {
  for (const precision of ["mixed-fp16", "mixed-bf16"] as const) {
    const t = analyze(chain(), { training: { optimizer: "adam", precision } }).totals.training_bytes;
    // Weights: fp32 master 4 + half copy 2 per trainable (6·770 = 4,620) + fp32 buffers 4·8 = 32.
    assert.equal(t?.weights, 4_652);
    assert.equal(t?.gradients, 2 * 770); // half gradients: 1,540
    assert.equal(t?.optimizer_state, 8 * 770); // fp32 moments: 6,160 (Adam is 16 B per weight in all)
    // Float activations halve (192 + 256 + 256 + 64 elements · 2 = 1,536); the fp32 statistics
    // (32) and int64 indices (512) do not: 2,080.
    assert.equal(t?.activations, 2_080);
    assert.equal(t?.total, 4_652 + 1_540 + 6_160 + 2_080);
  }
});

test("batch: saved activations and indices scale with it, BN statistics (per channel) and weights do not", () => {
  const t = analyze(chain(4), { training: { optimizer: "sgd", precision: "fp32" } }).totals.training_bytes;
  assert.equal(t?.batch, 4);
  // (768 + 1,024 + 1,024 + 256)·4 + 32 + 512·4 = 12,288 + 32 + 2,048.
  assert.equal(t?.activations, 14_368);
  assert.equal(t?.weights, 3_112);
});

test("training_bytes appears only when asked; resnet50 with Adam at batch 32 is dominated by activations", () => {
  assert.equal(analyze(chain()).totals.training_bytes, undefined);
  const r = analyze(ZOO.resnet50.build(), { batch: 32, training: { optimizer: "adam", precision: "fp32" } });
  const t = r.totals.training_bytes;
  // 25,557,032 trainable: 16 B each for weights, gradient and Adam's moments, + 53,120 fp32 buffers.
  assert.equal(t && Number(t.weights) + Number(t.gradients) + Number(t.optimizer_state), 16 * 25_557_032 + 4 * 53_120);
  assert.equal(t?.dominant, "activations");
  assert.ok((t?.activations ?? 0) > 2 ** 30, "over 1 GiB of saved activations at batch 32");
});
