import assert from "node:assert/strict";
import { test } from "node:test";
import { assertLayerError, run } from "./helpers.js";

/**
 * The layers that join inlined control flow (src/ops/control.ts). They compute nothing (no
 * cost) and are pointwise for the receptive field; their work is the output shapes.
 */

test("If: a known condition picks its branch's tensors, values included", () => {
  const then = { shape: [2], dtype: "int64" as const, value: [3, 4] };
  const els = { shape: [1, 4, 4], dtype: "float32" as const };
  const t = run("If", [{ shape: [], dtype: "bool", value: [1] }, then, els]);
  assert.deepEqual(t.out, [{ dtype: "int64", shape: [2], value: [3, 4] }]);
  assert.equal(t.cost, undefined, "no arithmetic of its own");
  assert.equal(t.field, undefined, "pointwise");
  const e = run("If", [{ shape: [], dtype: "bool", value: [0] }, then, els]);
  assert.deepEqual(e.out, [{ dtype: "float32", shape: [1, 4, 4], value: undefined }]);
  // The untaken side may be absent (its layers were not analysed).
  const only = run("If", [{ shape: [], dtype: "bool", value: [1] }, then, undefined]);
  assert.deepEqual(only.out[0].shape, [2]);
});

test("If with a run-time condition: a shape both branches agree on, else unknown; two outputs per branch", () => {
  const c = { shape: [], dtype: "bool" as const };
  const a = { shape: [1, 16, 32, 32] };
  const b = { shape: [1, 16, 16, 16] };
  const r = run("If", [c, a, a, a, b], {}, { outputs: 2 });
  assert.deepEqual(
    r.out.map((o) => o.shape),
    [[1, 16, 32, 32], undefined],
  );
  assertLayerError(() => run("If", [c, a, a, a]), /two branches of equal arity, got 3/);
});

test("Loop: carried states keep the body's shape; scan outputs stack M iterations (M known, body passes its condition)", () => {
  const m = { shape: [], dtype: "int64" as const, value: [7] };
  const go = { shape: [], dtype: "bool" as const, value: [1] };
  const init = { shape: [1, 8] };
  const out = { shape: [1, 8] };
  const el = { shape: [1, 3] };
  const r = run("Loop", [m, go, init, out, el], { carried: 1, static_trips: 1 }, { outputs: 2 });
  assert.deepEqual(
    r.out.map((o) => [o.dtype, o.shape]),
    [
      ["float32", [1, 8]],
      ["float32", [7, 1, 3]],
    ],
  );
  // The field of the carried state: what one iteration does, 7 times (analysis/field.ts).
  assert.deepEqual(r.field, { kind: "repeat", from: 2, to: 3, times: 7 });
  // A condition known false at the start: no iteration.
  const none = run("Loop", [m, { ...go, value: [0] }, init, out, el], { carried: 1, static_trips: 1 }, { outputs: 2 });
  assert.deepEqual(none.out[1].shape, [0, 1, 3]);
  // A body that computes its condition: the length is a symbol.
  const open = run("Loop", [m, go, init, out, el], { carried: 1, static_trips: 0 }, { outputs: 2 });
  assert.deepEqual(open.out[1].shape, ["trips(layer)", 1, 3]);
  assert.deepEqual(open.field, { kind: "pointwise" });
});

test("Scan: the trip count is the first scanned input's scan-axis length; outputs stack on their axis", () => {
  // state [4], scanned x [2, 10, 6] on axis 1; per step y [2, 5], stacked on axis -1 → [2, 5, 10]
  const r = run(
    "Scan",
    [{ shape: [4] }, { shape: [2, 10, 6] }, { shape: [4] }, { shape: [2, 5] }],
    { carried: 1, scan_inputs: 1, scan_input_axes: [1], scan_output_axes: [-1] },
    { outputs: 2 },
  );
  assert.deepEqual(
    r.out.map((o) => o.shape),
    [[4], [2, 5, 10]],
  );
  // States: input 0 before the first step, input 2 (after 1 state and 1 scanned input) after it; 10 steps.
  assert.deepEqual(r.field, { kind: "repeat", from: 0, to: 2, times: 10 });
  assertLayerError(
    () => run("Scan", [{ shape: [4] }], { carried: 1, scan_inputs: 1 }),
    /Scan has 1 inputs for 1 states and 1 scanned inputs/,
  );
});

test("LoopIteration: an int64 scalar iteration number and a bool scalar condition, values unknown", () => {
  const r = run("LoopIteration", [], {}, { outputs: 2 });
  assert.deepEqual(r.out, [
    { dtype: "int64", shape: [] },
    { dtype: "bool", shape: [] },
  ]);
});
