import assert from "node:assert/strict";
import { test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { renderTable, tableChunks } from "../../src/render/table.js";
import { ZOO } from "../../src/zoo/index.js";

test("table pieces join to the whole table: every layer row once, in order, then the totals", () => {
  const r = analyze(ZOO.alexnet.build());
  const text = renderTable(r);
  // One piece when it fits; more, cut only at row ends, when it does not.
  assert.deepEqual([...tableChunks(r)], [text]);
  for (const size of [1, 200]) {
    const pieces = [...tableChunks(r, size)];
    assert.ok(pieces.length > 3, `pieces of ${size}`);
    assert.equal(pieces.join(""), text, `pieces of ${size}`);
    for (const p of pieces.slice(0, -1)) assert.ok(p.endsWith("\n"), "a piece ends with its last row");
  }
  const rows = text.split("\n").filter((l) => /^\s*\d+ {2}/.test(l));
  assert.deepEqual(
    rows.map((l) => l.trim().split(/\s+/)[1]),
    r.layers.map((l) => l.name),
  );
  // Caffe's grouped AlexNet (conv2, conv4 and conv5 in two groups): 60,965,224 parameters.
  assert.match(text, /\n\nparams {6}60,965,224 /);
});
