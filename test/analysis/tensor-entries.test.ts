import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { type AnalyzeOptions, analyze } from "../../src/analysis/index.js";
import { type Report, tensorEntries, tensorOf } from "../../src/core/report.js";
import { bufferSource, readModel } from "../../src/formats/index.js";
import { renderCsv, renderJson, renderMarkdown, renderTable } from "../../src/render/index.js";

// analyze() makes a report's `tensors` table only when it is first read; tensorOf and
// tensorEntries make entries as asked (the table, CSV and Markdown ask for one per row, the
// JSON report streams them). Whichever way an entry is made, it must be the table's entry.
// Each model is analysed twice: one report is only ever asked through tensorOf and
// tensorEntries (its table never made), the other has its table read first.

const FILES = [
  // Concats, a global pool, weights (constants, which have no entry).
  "test/fixtures/onnx/googlenet.onnx",
  // Up-sampling: fields with phases, strides that are fractions.
  "test/fixtures/v2/tflite/DilatedUpNet.f32.tflite",
  // A loop and an If: fields through control flow.
  "test/fixtures/v2/onnx-control-flow/loop_conv3.onnx",
  "test/fixtures/v2/onnx-control-flow/if_branches.onnx",
];

function twice(file: string, opts: AnalyzeOptions): { lazy: Report; read: Report } {
  const bytes = new Uint8Array(readFileSync(file));
  const one = () => analyze(readModel(bufferSource(file, bytes)), opts);
  const read = one();
  assert.ok(Object.keys(read.tensors).length > 0, `${file}: no tensors`);
  return { lazy: one(), read };
}

for (const file of FILES) {
  for (const regions of [true, false]) {
    test(`${file} (regions ${regions}): entries made one by one equal the table's`, () => {
      const { lazy, read } = twice(file, { regions });
      const table = read.tensors;
      // Streamed in the table's order, with equal entries.
      assert.deepEqual([...tensorEntries(lazy)], Object.entries(table));
      // By name, every tensor the layers name (constants and the missing have none).
      for (const l of lazy.layers) {
        for (const name of [...l.inputs, ...l.outputs]) {
          assert.deepEqual(tensorOf(lazy, name), Object.hasOwn(table, name) ? table[name] : undefined, `${file}: ${name}`);
        }
      }
      assert.equal(tensorOf(lazy, "constructor"), undefined);
      // The renderers give the same text from either.
      assert.equal(renderJson(lazy), renderJson(read));
      assert.equal(renderTable(lazy), renderTable(read));
      assert.equal(renderCsv(lazy), renderCsv(read));
      assert.equal(renderMarkdown(lazy), renderMarkdown(read));
      // Reading the table afterwards gives the same entries again.
      assert.deepEqual(lazy.tensors, table);
      assert.equal(JSON.stringify(lazy), JSON.stringify(read));
    });
  }
}

test("a report's tensors read after analyze: one table, kept; set it and every reader sees the new one", () => {
  const { lazy } = twice(FILES[0], {});
  const table = lazy.tensors;
  assert.equal(lazy.tensors, table, "made once");
  const [name, entry] = Object.entries(table)[0];
  assert.equal(tensorOf(lazy, name), entry, "tensorOf answers from the table once it is made");
  const mine = { x: { shape: [1, 2], dtype: "float32" as const, bytes: 8 } };
  lazy.tensors = mine;
  assert.equal(lazy.tensors, mine);
  assert.equal(tensorOf(lazy, name), undefined);
  assert.deepEqual(tensorOf(lazy, "x"), mine.x);
  assert.deepEqual([...tensorEntries(lazy)], [["x", mine.x]]);
  assert.deepEqual(JSON.parse(renderJson(lazy)).tensors, mine);
});

test("a report that is plain data (a JSON report read back): tensorOf and tensorEntries read its table", () => {
  const { read } = twice(FILES[0], {});
  const back = JSON.parse(renderJson(read)) as Report;
  assert.deepEqual([...tensorEntries(back)], Object.entries(back.tensors));
  const [name, entry] = Object.entries(back.tensors)[3];
  assert.deepEqual(tensorOf(back, name), entry);
  assert.equal(tensorOf(back, "constructor"), undefined);
  assert.equal(renderJson(back), renderJson(read));
});
