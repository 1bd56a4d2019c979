import assert from "node:assert/strict";
import { test } from "node:test";
import { assertLayerError, costOf, run, shapeOf } from "./helpers.js";

const W = (...shape: number[]) => ({ shape, weight: true });

test("Gemm fully-connected (transB): MACs, bias, seed (o1 + 1)·o2", () => {
  const r = run("Gemm", [{ shape: [1, 9216] }, W(4096, 9216), W(4096)], { transB: 1 });
  assert.deepEqual(r.out[0].shape, [1, 4096]);
  // MACs 4096·9216 = 37,748,736; seed (9216 + 1)·4096 = 37,752,832
  assert.deepEqual(r.cost, costOf({ macs: 37_748_736, bias: 4096, seed: 37_752_832 }));
  // input 0 [M, K]: M stays axis 0, K is contracted
  assert.deepEqual(r.field, { kind: "axes", map: [0, null], mixed: [1] });
});

test("Gemm transA, α and β ≠ 1 add one multiply per output each", () => {
  const r = run("Gemm", [{ shape: [5, 3] }, W(5, 4), W(4)], { transA: 1, alpha: 0.5, beta: 2 });
  // A' = [3, 5], B = [5, 4] → [3, 4]; MACs 3·5·4 = 60; mul 12·2 = 24
  assert.deepEqual(r.out[0].shape, [3, 4]);
  assert.deepEqual(r.cost, costOf({ macs: 60, bias: 12, mul: 24, seed: 12 * 6 }));
  assert.deepEqual(r.field, { kind: "axes", map: [null, 0], mixed: [0] });
  assertLayerError(() => run("Gemm", [{ shape: [1, 10] }, W(20, 4096)], { transB: 1 }), /inner dimensions differ/);
  assertLayerError(() => run("Gemm", [{ shape: [1, 2, 10] }, W(10, 4)], {}), /2-d inputs/);
  assertLayerError(() => run("Gemm", [{ shape: [2, 10] }, W(10, 4), W(3)], {}), /do not broadcast/);
});

test("MatMul: batch·M·K·N with broadcasting and 1-d promotion", () => {
  const r = run("MatMul", [{ shape: [2, 8, 49, 32] }, { shape: [2, 8, 32, 49] }], {});
  assert.deepEqual(r.out[0].shape, [2, 8, 49, 49]);
  // 2·8·49·32·49 = 1,229,312
  assert.deepEqual(r.cost, costOf({ macs: 1_229_312, seed: 1_229_312 }));
  assert.deepEqual(r.field, { kind: "axes", map: [0, 1, 2, null], mixed: [3] });
  // [B, T, C] × [C, D] (a linear layer on a sequence): 1·25·120·96 = 288,000
  const l = run("MatMul", [{ shape: [1, 25, 120] }, W(120, 96)], {});
  assert.deepEqual(l.out[0].shape, [1, 25, 96]);
  assert.equal(l.cost?.macs, 288_000);
  // broadcasting: [4, 1, 3, 5] × [6, 5, 2] → [4, 6, 3, 2]; a's axes 0, 1 stay, 2 → 2
  const b = run("MatMul", [{ shape: [4, 1, 3, 5] }, { shape: [6, 5, 2] }], {});
  assert.deepEqual(b.out[0].shape, [4, 6, 3, 2]);
  assert.equal(b.cost?.macs, 4 * 6 * 3 * 5 * 2);
  // a rank-3 operand against a rank-4 batch: its axes shift by one
  assert.deepEqual(run("MatMul", [{ shape: [3, 5, 7] }, { shape: [2, 3, 7, 4] }], {}).field, {
    kind: "axes",
    map: [1, 2, null],
    mixed: [2],
  });
  // 1-d operands: [K] × [K, N] → [N]; [M, K] × [K] → [M]
  assert.deepEqual(shapeOf("MatMul", [{ shape: [7] }, { shape: [7, 3] }]), [3]);
  assert.deepEqual(shapeOf("MatMul", [{ shape: [4, 7] }, { shape: [7] }]), [4]);
  assertLayerError(() => run("MatMul", [{ shape: [4, 7] }, { shape: [6, 3] }], {}), /inner dimensions differ: 7 vs 6/);
});

test("Einsum matmul-like forms count batch·M·K·N MACs", () => {
  const bmm = run("Einsum", [{ shape: [2, 3, 4] }, { shape: [2, 4, 5] }], { equation: "bij,bjk->bik" });
  assert.deepEqual(bmm.out[0].shape, [2, 3, 5]);
  assert.deepEqual(bmm.cost, costOf({ macs: 2 * 3 * 4 * 5, seed: 120 }));
  // j is summed: input 0's axis 2 is contracted, b and i map through
  assert.deepEqual(bmm.field, { kind: "axes", map: [0, 1, null], mixed: [2] });
  const mm = run("Einsum", [{ shape: [3, 4] }, { shape: [4, 5] }], { equation: "ij,jk->ik" });
  assert.deepEqual(mm.out[0].shape, [3, 5]);
  assert.equal(mm.cost?.macs, 60);
  // attention scores with a transposed key: bhqd,bhkd->bhqk = 1·2·6·8·6 = 576
  const att = run("Einsum", [{ shape: [1, 2, 6, 8] }, { shape: [1, 2, 6, 8] }], { equation: "bhqd, bhkd -> bhqk" });
  assert.deepEqual(att.out[0].shape, [1, 2, 6, 6]);
  assert.equal(att.cost?.macs, 576);
  // ellipsis batch dims and an implicit output (letters used once, alphabetical): ...ij,...jk → ...ik
  const ell = run("Einsum", [{ shape: [7, 3, 4] }, { shape: [4, 5] }], { equation: "...ij,...jk" });
  assert.deepEqual(ell.out[0].shape, [7, 3, 5]);
  assert.equal(ell.cost?.macs, 7 * 3 * 4 * 5);
});

test("Einsum other forms: outer product multiplies, one-operand sums and transposes", () => {
  const outer = run("Einsum", [{ shape: [3] }, { shape: [4] }], { equation: "i,j->ij" });
  assert.deepEqual(outer.out[0].shape, [3, 4]);
  assert.deepEqual(outer.cost, costOf({ mul: 12 }));
  const t = run("Einsum", [{ shape: [3, 4] }], { equation: "ij->ji" });
  assert.deepEqual(t.out[0].shape, [4, 3]);
  assert.deepEqual(t.cost, costOf({}));
  // row sums: 12 − 3 = 9 adds
  assert.deepEqual(run("Einsum", [{ shape: [3, 4] }], { equation: "ij->i" }).cost, costOf({ add: 9 }));
  assertLayerError(() => run("Einsum", [{ shape: [3, 3] }], { equation: "ii->i" }), /repeats a letter/);
  assertLayerError(() => run("Einsum", [{ shape: [3] }, { shape: [3] }, { shape: [3] }], { equation: "i,i,i->" }), /3 operands/);
  assertLayerError(() => run("Einsum", [{ shape: [3, 4] }, { shape: [5, 6] }], { equation: "ij,jk->ik" }), /letter 'j'/);
  assertLayerError(() => run("Einsum", [{ shape: [3, 4] }], { equation: "ijk->i" }), /rank 2/);
});
