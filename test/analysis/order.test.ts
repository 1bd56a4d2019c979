import assert from "node:assert/strict";
import { test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { topoOrder } from "../../src/analysis/order.js";
import { ConvscopeError } from "../../src/core/errors.js";
import type { Graph, Node } from "../../src/core/graph.js";

const relu = (name: string, from: string): Node => ({ name, op: "Relu", inputs: [from], outputs: [name], attrs: {} });
const graph = (nodes: Node[]): Graph => ({
  name: "g",
  format: "builder",
  inputs: ["x"],
  outputs: [],
  nodes,
  tensors: new Map([["x", { name: "x", dtype: "float32", shape: [1, 1, 4, 4] }]]),
  notes: [],
});
const names = (g: Graph) => topoOrder(g).map((n) => n.name);

test("topological order: the file's order when it is valid, else the lowest file index first", () => {
  // Valid as written (two branches interleaved): kept exactly.
  assert.deepEqual(names(graph([relu("a", "x"), relu("p", "x"), relu("b", "a"), relu("q", "p")])), ["a", "p", "b", "q"]);
  // c is written before its input b, and b before a: each waits for its producer; the
  // independent p keeps its place among the ready layers by file index.
  assert.deepEqual(names(graph([relu("c", "b"), relu("b", "a"), relu("p", "x"), relu("a", "x")])), ["p", "a", "b", "c"]);
  assert.deepEqual(names(graph([relu("b", "a"), relu("a", "x"), relu("q", "x")])), ["a", "b", "q"]);
});

test("topological order: a cycle and a layer reading its own output are errors naming a layer", () => {
  for (const nodes of [[relu("a", "b"), relu("b", "a")], [relu("a", "a")]]) {
    assert.throws(
      () => topoOrder(graph(nodes)),
      (e: unknown) => e instanceof ConvscopeError && /cycle/.test(e.message) && e.layer === "a",
    );
  }
});

test("analysis order: inferShapes checks the file's order itself and hands anything else to topoOrder", () => {
  const order = (g: Graph) => analyze(g).layers.map((l) => l.name);
  // Written in order: that order. Out of order: topoOrder's.
  assert.deepEqual(order(graph([relu("a", "x"), relu("p", "x"), relu("b", "a"), relu("q", "p")])), ["a", "p", "b", "q"]);
  assert.deepEqual(order(graph([relu("c", "b"), relu("b", "a"), relu("p", "x"), relu("a", "x")])), ["p", "a", "b", "c"]);
  // A tensor that is both stored and made by a layer: the layer reading it waits for the
  // layer that makes it (topoOrder's rule), so its shape is the layer's, not the stored one's.
  const w: Graph = graph([relu("late", "a"), relu("a", "x")]);
  w.tensors.set("a", { name: "a", dtype: "float32", shape: [1, 1, 2, 2], initializer: { byteLength: 16, location: "inline" } });
  const r = analyze(w);
  assert.deepEqual(
    r.layers.map((l) => l.name),
    ["a", "late"],
  );
  assert.deepEqual(r.tensors.late.shape, [1, 1, 4, 4]);
  // Graph errors come before shape errors, whichever layer comes first: a tensor nobody makes,
  // a tensor made twice, a cycle — each the error topoOrder gives, even after a layer whose
  // shapes fail (a Conv whose weight wants 3 input channels of a 1-channel image).
  const bad: Node = { name: "bad", op: "Conv", inputs: ["x", "w"], outputs: ["y"], attrs: {} };
  const withBad = (nodes: readonly Node[]) => {
    const g = graph([bad, ...nodes]);
    g.tensors.set("w", { name: "w", dtype: "float32", shape: [2, 3, 3, 3], initializer: { byteLength: 216, location: "inline" } });
    return g;
  };
  assert.throws(
    () => analyze(withBad([])),
    (e: unknown) => e instanceof ConvscopeError && e.layer === "bad",
  );
  for (const [nodes, want] of [
    [[relu("m", "missing")], /reads tensor 'missing', which no layer produces/],
    [[relu("a", "x"), relu("a", "x")], /tensor 'a' is produced twice/],
    [[relu("a", "b"), relu("b", "a")], /cycle/],
  ] as const) {
    assert.throws(
      () => analyze(withBad(nodes)),
      (e: unknown) => e instanceof ConvscopeError && want.test(e.message),
    );
  }
});
