#!/usr/bin/env node
"use strict";
/**
 * The installed command. It runs the bundled CLI (dist/cli/convscope.cjs) through V8's code
 * cache (dist/cli/convscope.cjs.cache, written by `npm run build` after a warm-up run), so a
 * start skips parsing and compiling the bundle: about a third of the command's own time on
 * a ResNet-50. Node 20 has no built-in module compile cache (module.enableCompileCache is
 * Node 22), hence these lines. The cache is used only when it was made from this very bundle
 * (the build id on the bundle's first line) and V8 accepts it; otherwise the bundle simply
 * compiles as usual.
 */
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");
const { wrap } = require("node:module");
const { isAscii } = require("node:buffer");

const BUNDLE = path.join(__dirname, "../dist/cli/convscope.cjs");
const CACHE = `${BUNDLE}.cache`;

// The command builds one graph and one report and exits: nearly everything it allocates
// lives to the end. V8's allocation-site pretenuring then moves whole object kinds
// straight into the old generation, which grows fast enough to force a third full
// collection whose marking (of ~290 MB on a 100,000-node graph) could not finish
// concurrently: a 200–600 ms pause. Without it, survivors are promoted by the young
// generation's collections as usual and the run ends after two small full collections:
// 5.3–5.8 s against 6.0–6.8 s on that graph (table), peak RSS about 10 MB more
// (BENCHMARKS.md). The flag is a heuristic of the collector, not of what is computed,
// and only the command sets it (a program calling the library keeps its own settings).
//
// The command also lets TurboFan inline only small functions. A run is too short for the
// optimizing compiler to keep up: on a 10,000-node graph, `--trace-opt` counts about 190
// compilations taking 1.9 s of background compile time in a run of about 1 s, so on a
// 2-core machine hot functions wait in the compile queue and run unoptimized meanwhile.
// Without inlining the compilations take half as long and the command ran 10–15% faster
// at 10,000 nodes than with full inlining. Inlining only functions of up to 60 bytes of
// bytecode (180 in all per function) keeps the compile queue short and still inlines the
// small helpers of the hot loops (a pair read from a field, a list compared with its
// shared copy): at 100,000 nodes the table runs 3–9% faster than without inlining (three
// rounds of 8–10 interleaved whole processes; in-process, median 3320 against 3790 ms), at
// 10,000 nodes and on ResNet-50 the same (within 3%); full inlining is 12–24% slower at
// 10,000 nodes. (Why it is faster was not measured: likely escape analysis, which sees
// only inlined code, removing the small arrays and objects those helpers return.)
//
// load() sets them before the bundle is compiled, for the command and the build's warm-up
// alike: V8 accepts a code cache only from a process with the same flags.
const V8_FLAGS = "--no-allocation-site-pretenuring --max-inlined-bytecode-size=60 --max-inlined-bytecode-size-cumulative=180";

/** Sets the command's V8 flags, then loads the bundle; returns its exports, the compiled script and whether the cache was used. */
function load(useCache) {
  require("node:v8").setFlagsFromString(V8_FLAGS);
  let source;
  try {
    // The build makes the bundle ASCII, whose Latin-1 decoding is the same text at a third
    // of UTF-8's cost (2 against 6 ms). A bundle that is not (one built before the build
    // made it so, left in dist/ by a checkout updated without `npm run build`) is decoded as
    // UTF-8, so its text is never garbled; the check costs under 0.1 ms.
    const bytes = fs.readFileSync(BUNDLE);
    source = bytes.toString(isAscii(bytes) ? "latin1" : "utf8");
  } catch {
    process.stderr.write(`convscope: ${BUNDLE} is missing: run \`npm run build\` in the package (npm install does)\n`);
    process.exit(2);
  }
  const id = /^\/\/ build (\w+)\n/.exec(source)?.[1];
  let cachedData;
  if (useCache && id) {
    try {
      const bytes = fs.readFileSync(CACHE);
      if (bytes.subarray(0, id.length + 1).toString("latin1") === `${id}\n`) cachedData = bytes.subarray(id.length + 1);
    } catch {
      // No cache (not built here, or a read-only copy without it): compile normally.
    }
  }
  const script = new vm.Script(wrap(source), { filename: BUNDLE, cachedData });
  const mod = { exports: {} };
  script.runInThisContext().call(mod.exports, mod.exports, require, mod, BUNDLE, path.dirname(BUNDLE));
  return { cli: mod.exports, script, id, cached: cachedData !== undefined && !script.cachedDataRejected };
}

/**
 * The build's warm-up: runs the commands people run most, then stores the compiled code.
 * `files` are model files the build adds (each read as `convscope FILE`), so that their
 * reader is compiled into the cache too; the zoo models are built in code and read none.
 */
function writeCache(files) {
  const { cli, script, id } = load(false);
  if (!id) throw new Error(`${BUNDLE} has no build id`);
  const sink = () => {};
  for (const argv of [
    ["zoo:resnet50", "--json"],
    ["zoo:mobilenet_v2"],
    ["zoo:alexnet", "--format", "csv"],
    ["zoo:vgg16", "--format", "md"],
    ...files.map((f) => [f]),
  ]) {
    if (cli.main(argv, sink, sink) !== 0) throw new Error(`warm-up convscope ${argv.join(" ")} failed`);
  }
  fs.writeFileSync(CACHE, Buffer.concat([Buffer.from(`${id}\n`, "latin1"), script.createCachedData()]));
}

// For `npm run bench`, which times the command's passes inside one process as the command runs them.
module.exports = { load };

if (require.main === module) {
  if (process.env.CONVSCOPE_WRITE_CODE_CACHE) writeCache(process.argv.slice(2));
  else {
    const { cli, cached } = load(true);
    if (process.env.CONVSCOPE_DEBUG) process.stderr.write(`convscope: code cache ${cached ? "used" : "not used"}\n`);
    cli.runCli(process.argv.slice(2));
  }
}
