import assert from "node:assert/strict";
import { test } from "node:test";
import { ConvscopeError } from "../../src/core/errors.js";
import { add, addKnown, mul, numel } from "../../src/core/shape.js";

test("counts: exact integers, unknown stays unknown, and past 2^53 an error rather than a rounded number", () => {
  assert.equal(numel([1, 3, 224, 224]), 150528);
  assert.equal(numel([]), 1); // a scalar
  assert.equal(numel([1, "N", 4]), null);
  // From an index on: a weight's C/group·Πk, a feature map's spatial size; a symbol before it does not count.
  assert.equal(numel([64, 3, 7, 7], 1), 147);
  assert.equal(numel(["N", 64, 56, 56], 2), 3136);
  assert.equal(numel([1, 2], 2), 1);
  assert.equal(addKnown(2 ** 52, 5), 2 ** 52 + 5);
  assert.equal(addKnown(null, 5), null);
  assert.equal(addKnown(5, null), null);
  assert.equal(add(1, 2, 3), 6);
  assert.equal(mul(2, 3, 7), 42);
  // 2^27 · 2^27 = 2^54 is not exactly representable once a factor is odd; every one of these
  // checks the running value, not only the last.
  const tooBig = (e: unknown) => e instanceof ConvscopeError && /exceeds 2\^53/.test(e.message);
  assert.throws(() => numel([2 ** 27, 2 ** 27 + 1]), tooBig);
  assert.throws(() => numel([2 ** 30, 2 ** 30, 0]), tooBig); // the product passes 2^53 before the 0
  assert.throws(() => addKnown(Number.MAX_SAFE_INTEGER, 1), tooBig);
  assert.throws(() => mul(2 ** 40, 2 ** 14), tooBig);
});
