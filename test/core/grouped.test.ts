import assert from "node:assert/strict";
import { test } from "node:test";
import { grouped } from "../../src/core/grouped.js";

test("grouped gives toLocaleString('en-US')'s text for integers, bigints and the rest", () => {
  // Bigints (the sweep's exact rationals) of every length, both signs, against ICU's grouping.
  let b = 1n;
  for (let len = 1; len <= 30; len++, b *= 10n) {
    for (const v of [b, b + 7n, 2n * b - 1n]) {
      assert.equal(grouped(v), v.toLocaleString("en-US"), String(v));
      assert.equal(grouped(-v), (-v).toLocaleString("en-US"), String(-v));
    }
  }
  assert.equal(grouped(0n), "0");
  assert.equal(grouped(123456789012345678901234567890n), "123,456,789,012,345,678,901,234,567,890");
  // Numbers: integers by hand, the rest through toLocaleString (the same text either way).
  assert.equal(grouped(60965224), "60,965,224");
  for (const v of [1234.5678, -0, 2 ** 60, -(2 ** 60), Number.NaN]) assert.equal(grouped(v), v.toLocaleString("en-US"));
});
