import assert from "node:assert/strict";
import { test } from "node:test";
import { analyzeGraph, assertLayerError, costOf, layer, run } from "./helpers.js";

const C = (n: number) => ({ shape: [n], weight: true });

test("BatchNormalization: one multiply and one add per element; running stats are buffers", () => {
  const r = run("BatchNormalization", [{ shape: [1, 64, 112, 112] }, C(64), C(64), C(64), C(64)], { epsilon: 1e-5 });
  assert.deepEqual(r.out[0].shape, [1, 64, 112, 112]);
  assert.deepEqual(r.cost, costOf({ mul: 802_816, add: 802_816 })); // 64·112·112
  assert.equal(r.field, undefined);
  const g = analyzeGraph({ x: [1, 64, 8, 8] }, { g: C(64), b: C(64), m: C(64), v: C(64) }, [
    { op: "BatchNormalization", name: "bn", inputs: ["x", "g", "b", "m", "v"] },
  ]);
  assert.equal(layer(g, "bn").params, 256); // γ, β, mean, var: 4·64
  assert.equal(layer(g, "bn").trainable_params, 128); // γ, β
  assert.equal(g.totals.trainable_params, 128);
  assertLayerError(() => run("BatchNormalization", [{ shape: [1, 64, 8, 8] }, C(32), C(32), C(32), C(32)], {}), /expected 64/);
});

test("LRN across 5 channels (AlexNet norm1): size+1 mul, size add, a power and a division per element", () => {
  const r = run("LRN", [{ shape: [1, 96, 55, 55] }], { size: 5, alpha: 1e-4, beta: 0.75, bias: 1 });
  const n = 96 * 55 * 55; // 290,400
  assert.deepEqual(r.cost, costOf({ mul: n * 6, add: n * 5, exp: n, div: n }));
  assert.equal(r.field, undefined);
});

test("InstanceNormalization: statistics per (N, C) over the spatial axes", () => {
  const r = run("InstanceNormalization", [{ shape: [2, 4, 8, 8] }, C(4), C(4)], {});
  // 512 elements: add 4·512, mul 3·512; 2·4 = 8 groups: div 16, sqrt 8
  assert.deepEqual(r.cost, costOf({ add: 2_048, mul: 1_536, div: 16, exp: 8 }));
  assert.deepEqual(r.field, { kind: "axes", map: [0, 1, 2, 3], mixed: [2, 3] });
});

test("LayerNormalization over the last axis; optional mean/inv-std outputs keep the leading dims", () => {
  const r = run("LayerNormalization", [{ shape: [1, 49, 96] }, C(96), C(96)], { axis: -1 }, { outputs: 3 });
  // 4,704 elements: add 18,816, mul 14,112; 49 groups: div 98, sqrt 49
  assert.deepEqual(r.cost, costOf({ add: 18_816, mul: 14_112, div: 98, exp: 49 }));
  assert.deepEqual(r.field, { kind: "axes", map: [0, 1, 2], mixed: [2] });
  assert.deepEqual(r.out[1].shape, [1, 49, 1]);
  assert.deepEqual(r.out[2].shape, [1, 49, 1]);
  // axis 1 on NCHW normalizes C, H and W together
  assert.deepEqual(run("LayerNormalization", [{ shape: [1, 8, 4, 4] }, C(8)], { axis: 1 }).field, {
    kind: "axes",
    map: [0, 1, 2, 3],
    mixed: [1, 2, 3],
  });
});

test("GroupNormalization: groups of C/num_groups channels with their spatial positions", () => {
  const r = run("GroupNormalization", [{ shape: [1, 4, 3, 3] }, C(4), C(4)], { num_groups: 2 });
  // 36 elements: add 144, mul 108; 1·2 groups: div 4, sqrt 2
  assert.deepEqual(r.cost, costOf({ add: 144, mul: 108, div: 4, exp: 2 }));
  assert.deepEqual(r.field, { kind: "axes", map: [0, 1, 2, 3], mixed: [1, 2, 3] });
  assertLayerError(() => run("GroupNormalization", [{ shape: [1, 4, 3, 3] }, C(4), C(4)], { num_groups: 3 }), /cannot form 3 groups/);
});

test("LpNormalization p=2 along channels: square, add, divide per element; a root per vector", () => {
  const r = run("LpNormalization", [{ shape: [2, 3, 4] }], { axis: 1, p: 2 });
  // 24 elements, 2·4 = 8 vectors
  assert.deepEqual(r.cost, costOf({ mul: 24, add: 24, div: 24, exp: 8 }));
  assert.deepEqual(r.field, { kind: "axes", map: [0, 1, 2], mixed: [1] });
});
