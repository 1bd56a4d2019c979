import assert from "node:assert/strict";
import { test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { unitBox } from "../../src/analysis/rf-query.js";
import { bufferSource, readModel } from "../../src/formats/index.js";
import { ZOO } from "../../src/zoo/index.js";
import { boxGraph, MAX_LAID_OUT, windowOf } from "../../web/graph-model.js";
import { centre, extent, fieldView, span, unitAt } from "../../web/rf-geometry.js";
import { deepSpec } from "./models.js";

test("graph boxes: ResNet-50's conv–bn(–relu) chains collapse, merges keep both inputs", () => {
  const r = analyze(ZOO.resnet50.build());
  const g = boxGraph(r);
  assert.equal(g.collapsed, "conv-chains");
  // 53 convs (49 in the blocks and stem + 4 downsample), each followed by a BN that joins it;
  // the ReLU after bn1 and bn2 of the 16 bottlenecks and the stem's ReLU join too (33):
  // 1 input box + every layer − 86 merged.
  const convs = r.layers.filter((l) => l.op === "Conv").length;
  assert.equal(convs, 53);
  assert.equal(g.boxes.length, 1 + r.layers.length - 86);
  const box = g.boxes.find((b) => b.label === "conv1");
  assert.deepEqual(box?.ops, "Conv+BatchNormalization+Relu");
  const add = g.boxes.find((b) => r.layers[b.layers[0]]?.name === "layer1.0.add");
  assert.ok(add);
  assert.equal(g.edges.filter(([, to]) => to === add.id).length, 2);
  // Small graphs are drawn as they are.
  assert.equal(boxGraph(analyze(ZOO.alexnet.build())).collapsed, "none");
});

test("graph boxes: 10,000 layers collapse to 5,001 boxes, laid out 500 at a time", () => {
  const r = analyze(readModel(bufferSource("deep.json", new TextEncoder().encode(deepSpec(10_000)))));
  const g = boxGraph(r);
  // 2,500 blocks of conv–bn–relu (one box each) + add, and the input.
  assert.equal(g.boxes.length, 5001);
  const w = windowOf(g, 4800);
  assert.deepEqual([w.start, w.end, w.boxes.length], [5001 - MAX_LAID_OUT, 5001, MAX_LAID_OUT]);
  assert.ok(w.edges.every(([a, b]) => w.boxes.some((x) => x.id === a) && w.boxes.some((x) => x.id === b)));
});

test("receptive-field view geometry is the library's, and the pointer finds every unit back", () => {
  const r = analyze(ZOO.alexnet.build());
  const conv1 = fieldView(r, "conv1")!;
  // conv1: 11×11 stride 4 on 227², no padding: 55 units, all inside the image.
  assert.deepEqual(conv1.units, [55, 55]);
  assert.deepEqual(conv1.valid, [
    [0, 54],
    [0, 54],
  ]);
  assert.deepEqual(span(conv1, 0, 54), [216, 226]);
  const pool5 = fieldView(r, "pool5")!;
  // pool5: 195/32, padding 64: unit 5 sees 5·32 − 64 = 96 … 96 + 194 = 290.
  assert.deepEqual(extent(pool5, 1), [-64, 290]);
  for (const t of ["conv1", "conv2", "conv5", "pool5"]) {
    const v = fieldView(r, t)!;
    for (let u = 0; u < v.units[0]; u++) {
      const box = unitBox(r, t, [u, v.units[1] - 1 - u]);
      assert.deepEqual(
        [span(v, 0, u), span(v, 1, v.units[1] - 1 - u)],
        [
          [box.start[0], box.end[0]],
          [box.start[1], box.end[1]],
        ],
      );
      assert.equal(unitAt(v, 0, centre(v, 0, u)), u);
      assert.equal(unitAt(v, 0, centre(v, 0, u) + 0.4 * (span(v, 0, 1)[0] - span(v, 0, 0)[0])), u);
    }
    assert.equal(unitAt(v, 0, -1000), 0);
    assert.equal(unitAt(v, 0, 1e6), v.units[0] - 1);
  }
  assert.equal(fieldView(r, "fc6"), undefined); // global: nothing to draw
});
