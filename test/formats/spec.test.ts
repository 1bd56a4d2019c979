import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { ConvscopeError } from "../../src/core/errors.js";
import { bufferSource, readModel } from "../../src/formats/index.js";
import { buildSpec } from "../../src/formats/spec/index.js";

const fixture = new URL("../fixtures/spec/tiny-resnet.json", import.meta.url);

test("a JSON spec with a residual DAG: shapes, params, MACs, field", () => {
  const g = readModel(bufferSource("tiny-resnet.json", readFileSync(fixture)));
  assert.equal(g.format, "builder");
  const r = analyze(g);
  // conv1: 3·3·3·16 = 432 weights (no bias); bn1: γ, β 32 trainable + 32 running stats;
  // conv2: 3·3·16·16 + 16 = 2,320; fc: 16·10 + 10 = 170.
  assert.equal(r.totals.params, 432 + 64 + 2320 + 170);
  assert.equal(r.totals.trainable_params, 432 + 32 + 2320 + 170);
  // conv MACs: 32·32·16·(3·3·3) = 442,368 and 32·32·16·(3·3·16) = 2,359,296; fc 160.
  assert.equal(r.totals.macs, 442_368 + 2_359_296 + 160);
  assert.deepEqual(r.tensors.fc.shape, [1, 10]);
  // add: conv path r 5 (two 3×3), shortcut r 3; aligned (S 1, centres 0) → 5; pool 2/2 → 6, S 2.
  assert.deepEqual(r.tensors.pool.rf, { size: [6, 6], stride: [2, 2], padding: [2, 2], aligned: true });
});

function specError(doc: unknown): string {
  try {
    buildSpec(doc);
  } catch (e) {
    assert.ok(e instanceof ConvscopeError, `a ConvscopeError, got ${e}`);
    return e.oneLine();
  }
  assert.fail("no error");
}

const base = { inputs: { x: [1, 3, 8, 8] } };

test("bad specs give one-line errors naming the layer", () => {
  assert.match(specError({ ...base, layers: [{ name: "a", type: "convolution" }] }), /layer 'a': unknown layer type 'convolution'/);
  assert.match(
    specError({ ...base, layers: [{ name: "a", type: "conv", out: 0, kernel: 3 }] }),
    /layer 'a': "out" must be a positive integer, got 0/,
  );
  assert.match(
    specError({ ...base, layers: [{ name: "a", type: "conv", out: 4, kernel: 9 }] }),
    /layer 'a': kernel 9 is larger than the padded input 8/,
  );
  assert.match(
    specError({ ...base, layers: [{ name: "a", type: "relu", inputs: ["nope"] }] }),
    /layer 'a': reads 'nope', which is neither an input nor an earlier layer/,
  );
  assert.match(
    specError({
      ...base,
      layers: [
        { name: "a", type: "conv", out: 4, kernel: 1 },
        { name: "b", type: "conv", out: 4, kernel: 1, stride: 2, inputs: ["x"] },
        { name: "c", type: "concat", inputs: ["a", "b"] },
      ],
    }),
    /layer 'c': input 1 has shape 1×4×4×4, which does not match 1×4×8×8 outside axis 1/,
  );
  assert.match(
    specError({ inputs: { x: [1, -3, 8, 8] }, layers: [{ name: "a", type: "relu" }] }),
    /input 'x' needs a shape of positive integers/,
  );
  assert.match(specError({ ...base, layers: [] }), /"layers" must be a non-empty list/);
});
