import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (n === "fixtures" || n === "node_modules") return [];
    return statSync(p).isDirectory() ? sources(p) : /\.(ts|js|mjs|cjs)$/.test(n) ? [p] : [];
  });
}

// Issue 13: a clone with no ../shared beside it passes `npm test` (.ci/run proves it by running
// the suite from such a copy). This catches a test or benchmark that starts reading
// ../shared again before CI does.
test("no test, test helper or benchmark reads ../shared: fixtures live in test/fixtures", () => {
  const self = fileURLToPath(import.meta.url);
  const files = [...sources(join(ROOT, "test")), ...sources(join(ROOT, "bench"))].filter((f) => f !== self);
  assert.ok(files.length > 40, "the scan sees the suite");
  const offenders = files.filter((f) =>
    readFileSync(f, "utf8")
      .split("\n")
      .some((line) => /\.\.\/shared\b|shared\/fixtures/.test(line.replace(/\/\/.*$/, ""))),
  );
  assert.deepEqual(offenders, []);
  assert.ok(statSync(join(ROOT, "test/fixtures/onnx/reference.json")).isFile());
});
