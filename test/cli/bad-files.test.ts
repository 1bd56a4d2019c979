import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { cli } from "../support/cli.js";

/**
 * Files that are no model at all — a directory, an empty file, a FIFO (which would block an
 * open), an unreadable file — each end `convscope FILE` and `convscope serve FILE` with
 * exit 2 and one line naming the file: `serve` fails on the command line, before serving.
 */
const tmp = mkdtempSync(join(tmpdir(), "convscope-bad-files-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const run = (args: string[]) => cli(...args);

const root = process.getuid?.() === 0;
const made = (name: string, make: (path: string) => unknown) => () => {
  const path = join(tmp, name);
  make(path);
  return path;
};
const cases: [string, () => string, RegExp][] = [
  ["a directory", made("d.onnx", mkdirSync), /d\.onnx: is a directory, not a model file\n$/],
  ["an empty file", made("e.onnx", (p) => writeFileSync(p, "")), /e\.onnx: the file is empty\n$/],
  [
    "a FIFO",
    made("p.onnx", (p) => execFileSync("mkfifo", [p])),
    /p\.onnx: is not a regular file \(a pipe, socket or device\), not a model file\n$/,
  ],
  ["a missing file", () => join(tmp, "missing.onnx"), /missing\.onnx: no such file\n$/],
];

for (const [what, make, message] of cases) {
  test(`${what}: one line naming the file, exit 2, from the command and from serve`, () => {
    const path = make();
    for (const args of [[path], [path, "--json"], ["serve", path, "--no-open", "--port", "0"]]) {
      const r = run(args);
      assert.equal(r.code, 2, args.join(" "));
      assert.equal(r.out, "");
      assert.match(r.err, message);
      assert.match(r.err, /^convscope: [^\n]*\n$/);
    }
  });
}

test("an unreadable file: permission denied, exit 2", { skip: root ? "running as root: every file is readable" : false }, () => {
  const path = join(tmp, "secret.onnx");
  writeFileSync(path, "x");
  chmodSync(path, 0);
  for (const args of [[path], ["serve", path, "--no-open", "--port", "0"]]) {
    const r = run(args);
    assert.equal(r.code, 2);
    assert.equal(r.err, `convscope: ${path}: permission denied\n`);
  }
});
