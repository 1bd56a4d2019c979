import assert from "node:assert/strict";
import { test } from "node:test";
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
