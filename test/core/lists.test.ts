import assert from "node:assert/strict";
import { test } from "node:test";
import { freezeSharedLists, SharedLists, SharedRecords } from "../../src/core/lists.js";

test("the suite runs with shared lists frozen (test/setup.ts, loaded by npm test)", () => {
  const a = new SharedLists().of([7, 7]);
  assert.ok(Object.isFrozen(a));
});

test("SharedLists without freezing (the command's and the page's setting): the same sharing, plain lists", () => {
  freezeSharedLists(false);
  try {
    const s = new SharedLists();
    const a = s.of([1, 2, 3]);
    assert.equal(s.of([1, 2, 3]), a);
    assert.ok(!Object.isFrozen(a));
    const grown = [4, 5];
    const copy = s.copyOf(grown);
    assert.notEqual(copy, grown);
    assert.equal(s.of([4, 5]), copy);
  } finally {
    freezeSharedLists(true);
  }
});

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
  for (const [i, l] of others.entries()) assert.equal(s.of([...l]), shared[i], JSON.stringify(l));
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

test("SharedRecords: one frozen record per distinct values, made once, from a scratch list", () => {
  const s = new SharedRecords<{ a: number | null; b: number | null }>();
  let made = 0;
  const scratch: (number | null)[] = [1, null];
  const make = () => {
    made++;
    return { a: scratch[0], b: scratch[1] };
  };
  const first = s.of(scratch, make);
  assert.deepEqual(first, { a: 1, b: null });
  assert.ok(Object.isFrozen(first));
  // The scratch list is reused: what was kept is a copy of its values then.
  scratch[1] = 2;
  const second = s.of(scratch, make);
  assert.deepEqual(second, { a: 1, b: 2 });
  scratch[1] = null;
  assert.equal(s.of(scratch, make), first);
  assert.equal(s.of([1, 2], make), second);
  assert.equal(made, 2);
  // null is not 0, and NaN is never shared.
  assert.notEqual(s.of([1, 0], make), first);
  assert.equal(made, 3);
  s.of([Number.NaN, 1], make);
  s.of([Number.NaN, 1], make);
  assert.equal(made, 5);
  // Values past 2^32 that hash alike, and lists of another length, are told apart.
  const big = s.of([2 ** 32 + 1, 1], make);
  assert.notEqual(s.of([1, 2 ** 32 + 1], make), big);
  assert.equal(s.of([2 ** 32 + 1, 1], make), big);
  assert.notEqual(s.of([1, null, null], make), first);
  assert.equal(made, 8);
});

test("SharedLists.copyOf: a list the caller keeps growing is copied only when it is the first of its kind; long lists are never shared", () => {
  const s = new SharedLists();
  const grown = [1, 1];
  const first = s.copyOf(grown);
  assert.notEqual(first, grown);
  assert.ok(Object.isFrozen(first) && !Object.isFrozen(grown));
  grown.push(1, 1);
  assert.deepEqual(first, [1, 1]);
  assert.equal(s.copyOf([1, 1]), first);
  assert.equal(s.of([1, 1]), first);
  // 17 items: past what is shared; `of` keeps the list, `copyOf` still copies it.
  const long = Array.from({ length: 17 }, (_, i) => i);
  assert.equal(s.of(long), long);
  assert.ok(!Object.isFrozen(long));
  const copy = s.copyOf(long);
  assert.notEqual(copy, long);
  assert.deepEqual(copy, long);
  assert.notEqual(s.copyOf(long), copy);
});
