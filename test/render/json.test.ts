import assert from "node:assert/strict";
import { test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import type { Report } from "../../src/core/report.js";
import { jsonChunks, renderJson } from "../../src/render/json.js";
import { NetBuilder } from "../../src/zoo/builder.js";
import { ZOO } from "../../src/zoo/index.js";

/** What JSON.stringify makes of the report: the data the text must carry, whatever its layout. */
const asData = (r: Report) => JSON.parse(JSON.stringify(r));

test("the JSON report parses back to the report, one line per layer and per tensor", () => {
  const r = analyze(ZOO.resnet18.build());
  const text = renderJson(r);
  assert.deepEqual(JSON.parse(text), asData(r));
  const lines = text.split("\n");
  const layerLines = lines.filter((l) => l.startsWith('    {"name":'));
  assert.equal(layerLines.length, r.layers.length);
  // resnet18: conv1, bn1, relu, maxpool; 8 blocks of conv, bn, relu, conv, bn, add, relu;
  // 3 downsamples of conv, bn; avgpool, flatten, fc: 4 + 56 + 6 + 3.
  assert.equal(layerLines.length, 69);
  for (const [i, l] of layerLines.entries()) assert.deepEqual(JSON.parse(l.replace(/,$/, "")), asData(r).layers[i]);
  const tensorKeys = Object.keys(r.tensors);
  for (const name of tensorKeys) {
    const line = lines.find((l) => l.startsWith(`    ${JSON.stringify(name)}: {`));
    assert.ok(line, name);
    assert.deepEqual(JSON.parse(`{${line.replace(/,$/, "")}}`)[name], asData(r).tensors[name]);
  }
  // The outline is indented, with lists of plain values on one line.
  assert.match(text, /^ {2}"inputs": \[\n {4}\{\n {6}"name": "input",\n {6}"shape": \[1, 3, 224, 224\],/m);
  assert.ok(text.endsWith("}\n"));
});

test("JSON pieces join to the whole text, and names that look like JSON stay inside their line", () => {
  const b = new NetBuilder("tricky");
  let x = b.input('in"put', [1, 3, 8, 8]);
  x = b.conv(x, { name: "a},{b\nc", out: 4, kernel: 3 });
  x = b.relu(x, "ünï\u2028cødé");
  const r = analyze(b.build(x));
  const text = renderJson(r);
  assert.deepEqual(JSON.parse(text), asData(r));
  assert.equal(text.split("\n").filter((l) => l.startsWith('    {"name":')).length, 2);
  for (const size of [1, 64, 1000]) assert.equal([...jsonChunks(r, size)].join(""), text, `pieces of ${size}`);
  assert.ok([...jsonChunks(r, 64)].length > 3);
});

test("an empty layer list and tensor table print as [] and {}", () => {
  const r = { ...analyze(ZOO.alexnet.build()), layers: [], tensors: {} };
  const text = renderJson(r);
  assert.match(text, /^ {2}"layers": \[\],$/m);
  assert.match(text, /^ {2}"tensors": \{\},$/m);
  assert.deepEqual(JSON.parse(text), asData(r));
});
