import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertLayerError, costOf, run, shapeOf } from "./helpers.js";

describe("PriorBox", () => {
  it("P = |aspect ratios|·|min sizes| + |max sizes|: [1, 2, H·W·P·4], no cost, global", () => {
    // Ratios 1, 2 (+ 1/2 by flip), 3 (+ 1/3): 5 per min size; one min size, one max size: P = 6.
    // SSD300's conv4_3 prior box has P = 4 (ratio 2 flipped) on 38×38: 38·38·4·4 = 23,104.
    const r = run("PriorBox", [{ shape: [1, 512, 38, 38] }, { shape: [1, 3, 300, 300] }], {
      min_size: [30],
      max_size: [60],
      aspect_ratio: [2],
      flip: 1,
    });
    assert.deepEqual(r.out[0].shape, [1, 2, 23_104]);
    assert.equal(r.cost, undefined, "no arithmetic on the data");
    assert.deepEqual(r.field, { kind: "global" });
    const six = shapeOf("PriorBox", [{ shape: [1, 8, 10, 10] }, { shape: [1, 3, 100, 100] }], {
      min_size: [20],
      max_size: [40],
      aspect_ratio: [2, 3],
      flip: 1,
    });
    assert.deepEqual(six, [1, 2, 10 * 10 * 6 * 4]);
    // Without flip, and a ratio listed twice (or equal to 1) counts once: {1, 2}: P = 2·2 min sizes = 4.
    const noFlip = shapeOf("PriorBox", [{ shape: [1, 8, 5, 5] }, { shape: [1, 3, 50, 50] }], {
      min_size: [10, 20],
      aspect_ratio: [2, 2, 1],
      flip: 0,
    });
    assert.deepEqual(noFlip, [1, 2, 5 * 5 * 4 * 4]);
    // A symbolic feature map keeps the product readable.
    assert.deepEqual(shapeOf("PriorBox", [{ shape: [1, 8, "H", "W"] }, { shape: [1, 3, 50, 50] }], { min_size: [10] }), [1, 2, "4·H·W"]);
  });

  it("needs a min size", () => {
    assertLayerError(() => run("PriorBox", [{ shape: [1, 8, 5, 5] }, { shape: [1, 3, 50, 50] }], {}), /min_size|at least one/);
  });
});

describe("DetectionOutput", () => {
  it("[1, 1, N·keep_top_k, 7]; one comparison per confidence (the threshold test), no MACs", () => {
    // 100 priors, 21 classes: conf [1, 2100]; loc [1, 400]; priors [1, 2, 400].
    const r = run("DetectionOutput", [{ shape: [1, 400] }, { shape: [1, 2100] }, { shape: [1, 2, 400] }], {
      num_classes: 21,
      keep_top_k: 200,
    });
    assert.deepEqual(r.out[0].shape, [1, 1, 200, 7]);
    assert.deepEqual(r.cost, costOf({ cmp: 2100 }));
    assert.deepEqual(r.field, { kind: "global" });
    // Batch 2: up to 400 boxes in all. keep_top_k −1: every prior of every class, 2100 per image.
    assert.deepEqual(
      shapeOf("DetectionOutput", [{ shape: [2, 400] }, { shape: [2, 2100] }, { shape: [1, 2, 400] }], { num_classes: 21, keep_top_k: 200 }),
      [1, 1, 400, 7],
    );
    assert.deepEqual(
      shapeOf("DetectionOutput", [{ shape: [1, 400] }, { shape: [1, 2100] }, { shape: [1, 2, 400] }], { num_classes: 21, keep_top_k: -1 }),
      [1, 1, 2100, 7],
    );
  });
});

describe("MaxRoiPool", () => {
  it("[R, C, ph, pw]; the ROI count stays a symbol when unknown; nothing counted; global", () => {
    const r = run("MaxRoiPool", [{ shape: [1, 256, 14, 14] }, { shape: [300, 5] }], { pooled_shape: [6, 6], spatial_scale: 0.0625 });
    assert.deepEqual(r.out[0].shape, [300, 256, 6, 6]);
    assert.equal(r.cost, undefined);
    assert.deepEqual(r.field, { kind: "global" });
    assert.deepEqual(shapeOf("MaxRoiPool", [{ shape: [1, 16, 8, 8] }, {}], { pooled_shape: [7, 7] }), ["rois", 16, 7, 7]);
  });

  it("rejects ROIs that are not [R, 5]", () => {
    assertLayerError(() => run("MaxRoiPool", [{ shape: [1, 16, 8, 8] }, { shape: [10, 4] }], { pooled_shape: [2, 2] }), /rois must be/);
  });
});
