import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { unzipSync, zipSync } from "fflate";
import { cli } from "../support/cli.js";

/**
 * The installed command, bin/convscope.cjs, runs the bundle `npm run build` makes (npm ci
 * and npm install build it: `prepare`) through the V8 code cache stored beside it.
 */
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(ROOT, "bin/convscope.cjs");
const BUNDLE = join(ROOT, "dist/cli/convscope.cjs");

function run(bin: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", env: { ...process.env, ...env } });
}

test("the installed command prints what the CLI prints, through the code cache the build stored", () => {
  assert.ok(existsSync(BUNDLE) && existsSync(`${BUNDLE}.cache`), "dist/cli is missing: run `npm run build` (npm install does)");
  const r = run(BIN, ["zoo:alexnet", "--json"], { CONVSCOPE_DEBUG: "1" });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, "convscope: code cache used\n");
  assert.equal(r.stdout, cli("zoo:alexnet", "--json").out);
  const bad = run(BIN, ["zoo:nonet"]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^convscope: no zoo model 'nonet' \(known: .*\)\n$/);
});

test("the installed command reads .keras and .h5 files, whose libraries the bundle loads only when needed", () => {
  // The bundle defers fflate (zip inflation) and jsfive (HDF5) to the first read of such a
  // file (scripts/build-cli.ts); a broken stand-in would fail here, not in the in-process tests.
  const dir = mkdtempSync(join(tmpdir(), "convscope-keras-"));
  try {
    // The fixture's members are stored; the same members deflated make the command inflate.
    const fixture = join(ROOT, "test/fixtures/v2/keras/PatchCodebookNet.keras");
    const deflated = join(dir, "deflated.keras");
    writeFileSync(deflated, zipSync(unzipSync(readFileSync(fixture)), { level: 9 }));
    for (const file of [fixture, deflated, join(ROOT, "test/fixtures/v2/keras/PatchCodebookNet.h5")]) {
      const r = run(BIN, [file, "--json"]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, cli(file, "--json").out, file);
      assert.match(r.stdout, /"params": \d+/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a code cache from another build is ignored, and the command still runs", () => {
  const dir = mkdtempSync(join(tmpdir(), "convscope-bin-"));
  try {
    mkdirSync(join(dir, "bin"));
    mkdirSync(join(dir, "dist/cli"), { recursive: true });
    copyFileSync(BIN, join(dir, "bin/convscope.cjs"));
    copyFileSync(BUNDLE, join(dir, "dist/cli/convscope.cjs"));
    const cache = readFileSync(`${BUNDLE}.cache`);
    writeFileSync(join(dir, "dist/cli/convscope.cjs.cache"), Buffer.concat([Buffer.from("0123456789abcdef\n"), cache.subarray(17)]));
    const r = run(join(dir, "bin/convscope.cjs"), ["zoo:alexnet", "--json"], { CONVSCOPE_DEBUG: "1" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "convscope: code cache not used\n");
    assert.equal(r.stdout, cli("zoo:alexnet", "--json").out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a reader that stops early (| head) ends the command quietly, exit 0", () => {
  // 136 KB of JSON into a pipe that closes after 10 bytes: the command's writes fail (EPIPE).
  const dir = mkdtempSync(join(tmpdir(), "convscope-pipe-"));
  try {
    const [err, status] = [join(dir, "err"), join(dir, "status")];
    const sh = `{ '${process.execPath}' '${BIN}' zoo:resnet50 --json 2>'${err}'; echo $? >'${status}'; } | head -c 10`;
    const r = spawnSync("sh", ["-c", sh], { encoding: "utf8" });
    assert.equal(r.stdout, '{\n  "model');
    assert.equal(readFileSync(err, "utf8"), "");
    assert.equal(readFileSync(status, "utf8"), "0\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the command ends only once a slow reader has all its output, with its exit status", () => {
  // 136 KB of JSON, more than a pipe holds (64 KB): the command's last writes wait for the
  // reader, which starts reading after 300 ms. The command ends itself once stdout and stderr
  // have taken everything (see exitOnceWritten in src/cli/main.ts); an exit right after the
  // last write would cut the output at the pipe's 64 KB.
  const dir = mkdtempSync(join(tmpdir(), "convscope-slow-"));
  try {
    const [out, status] = [join(dir, "out"), join(dir, "status")];
    const sh = (args: string) => `{ '${process.execPath}' '${BIN}' ${args}; echo $? >'${status}'; } 2>&1 | { sleep 0.3; cat >'${out}'; }`;
    spawnSync("sh", ["-c", sh("zoo:resnet50 --json")]);
    const expected = cli("zoo:resnet50", "--json").out;
    assert.ok(expected.length > 65536);
    assert.equal(readFileSync(out, "utf8"), expected);
    assert.equal(readFileSync(status, "utf8"), "0\n");
    spawnSync("sh", ["-c", sh("zoo:nonet")]);
    assert.match(readFileSync(out, "utf8"), /^convscope: no zoo model 'nonet' \(known: .*\)\n$/);
    assert.equal(readFileSync(status, "utf8"), "2\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
