import assert from "node:assert/strict";
import { test } from "node:test";
import { SharedLists } from "../../src/core/lists.js";

test("SharedLists: one frozen copy per distinct list, by exact items", () => {
  const s = new SharedLists();
  const a = s.of([1, 1, 1, 1]);
  assert.equal(s.of([1, 1, 1, 1]), a);
  assert.ok(Object.isFrozen(a));
  assert.throws(() => {
    (a as number[])[0] = 2;
  }, TypeError);
  // Different items, lengths, types or order: different lists.
  const others = [
    [1, 1, 1],
    [1, 1, 1, 1, 1],
    [1, 1, 1, 2],
    [2, 1, 1, 1],
    ["1", 1, 1, 1],
    [0.5, 1, 1, 1],
    [2 ** 32 + 1, 1, 1, 1],
    [1, 1, 1, 2 ** 32 + 1],
    [],
  ];
  const shared = others.map((l) => s.of(l));
  for (const l of shared) assert.notEqual(l, a);
  assert.equal(new Set(shared).size, others.length);
  others.forEach((l, i) => assert.equal(s.of([...l]), shared[i], JSON.stringify(l)));
  // Strings that would read alike if joined with commas stay apart.
  assert.notEqual(s.of(["a,b"]), s.of(["a", "b"]));
  // NaN equals nothing: never shared.
  const nan = [Number.NaN, 1];
  assert.equal(s.of(nan), nan);
  assert.notEqual(s.of([Number.NaN, 1]), nan);
  assert.ok(!Object.isFrozen(nan));
});

test("SharedLists: many lists whose hashes may collide are all told apart", () => {
  const s = new SharedLists();
  const made = new Map<string, number[]>();
  for (let a = -50; a < 50; a++) for (let b = 0; b < 200; b++) made.set(`${a},${b}`, s.of([a, b, a * b]));
  assert.equal(new Set(made.values()).size, 100 * 200);
  for (const [k, l] of made) {
    const [a, b] = k.split(",").map(Number);
    assert.deepEqual(l, [a, b, a * b]);
    assert.equal(s.of([a, b, a * b]), l);
  }
});
