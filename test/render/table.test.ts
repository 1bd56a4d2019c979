import assert from "node:assert/strict";
import { test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { exact } from "../../src/render/format.js";
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

test("exact groups digits as toLocaleString('en-US') does, integers by hand and the rest through it", () => {
  assert.equal(exact(0), "0");
  assert.equal(exact(999), "999");
  assert.equal(exact(1000), "1,000");
  assert.equal(exact(-1234567), "-1,234,567");
  assert.equal(exact(60965224), "60,965,224");
  assert.equal(exact(Number.MAX_SAFE_INTEGER), "9,007,199,254,740,991");
  assert.equal(exact(null), "?");
  assert.equal(exact(undefined), "?");
  // Every length of integer, both signs, against ICU's grouping.
  let n = 1;
  for (let len = 1; len <= 16; len++, n *= 10) {
    for (const v of [n, n + 7, 2 * n - 1, Math.min(9 * n + 123, Number.MAX_SAFE_INTEGER)]) {
      assert.equal(exact(v), v.toLocaleString("en-US"), String(v));
      assert.equal(exact(-v), (-v).toLocaleString("en-US"), String(-v));
    }
  }
  // Not safe integers: the same text as before.
  for (const v of [1234.5678, -0, 2 ** 60, Number.POSITIVE_INFINITY, Number.NaN]) assert.equal(exact(v), v.toLocaleString("en-US"));
});
