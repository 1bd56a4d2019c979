import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

/**
 * Builds the command: src/cli/main.ts and everything it imports as one CommonJS file,
 * dist/cli/convscope.cjs, headed by a build id (a hash of its text), then has
 * bin/convscope.cjs run a warm-up and store V8's code cache for exactly this build.
 */
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const OUT = here("../dist/cli/convscope.cjs");

const result = await build({
  entryPoints: [here("../src/cli/main.ts")],
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  write: false,
  logLevel: "warning",
  // ASCII only, without comments or indentation: the command reads it as Latin-1, which
  // decodes it in a third of UTF-8's time, and V8 keeps and scans a one-byte string
  // (see `load` in bin/convscope.cjs). esbuild escapes strings but not regular expressions.
  charset: "ascii",
  minifyWhitespace: true,
  // import.meta.url (package.json and the web page are found relative to it) in CommonJS.
  define: { "import.meta.url": "__importMetaUrl" },
  plugins: [
    {
      // Two libraries only Keras files need, loaded when one is read rather than at every
      // start. Their modules do work when they load (fflate builds its Huffman tables):
      // the bundle's module set-up took 14.4 ms of CPU profile before, 6.4 after, in
      // `convscope --version` (5 runs each). Each import is given a CommonJS stand-in whose getters
      // `require` the real module, which esbuild then initialises on that first require.
      // fflate's plain build is the one taken: its Node entry loads worker_threads at start-up
      // for asynchronous APIs convscope never calls (it inflates with inflateSync).
      name: "keras-libraries-on-demand",
      setup(b) {
        const real: Record<string, { path: string; names: string[] }> = {
          fflate: { path: here("../node_modules/fflate/esm/browser.js"), names: ["inflateSync"] },
          jsfive: { path: here("../node_modules/jsfive/dist/esm/index.mjs"), names: ["File"] },
        };
        b.onResolve({ filter: /^(fflate|jsfive)$/ }, (a) => ({ path: a.path, namespace: "on-demand" }));
        b.onLoad({ filter: /.*/, namespace: "on-demand" }, (a) => {
          const { path, names } = real[a.path];
          const getters = names.map((n) => `get ${n}() { return require(${JSON.stringify(path)}).${n}; }`);
          return { contents: `module.exports = { ${getters.join(", ")} };`, loader: "js", resolveDir: here("..") };
        });
      },
    },
  ],
  banner: { js: 'const __importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
});
const code = result.outputFiles[0].text;
const wide = /[\u0080-\uffff]/.exec(code);
if (wide)
  throw new Error(
    `the bundle must be ASCII: escape '${wide[0]}' in ${JSON.stringify(code.slice(Math.max(0, wide.index - 60), wide.index + 20))}`,
  );
const id = createHash("sha256").update(code).digest("hex").slice(0, 16);
mkdirSync(here("../dist/cli"), { recursive: true });
rmSync(`${OUT}.cache`, { force: true });
writeFileSync(OUT, `// build ${id}\n${code}`);

// The warm-up reads one ONNX file besides the zoo models, so the ONNX reader's compiled code
// is in the cache: on a ResNet-50 with its weights inline, the read took 17.7 against 23.9 ms
// of CPU profile (8 runs each), for 36 KB more cache (+1 ms to load it at every start).
// ONNX is the format most models arrive in; caching every reader (+310 KB) made loading
// the cache take 21.6 ms instead of 16.9 at every start, more than it saved on an ONNX
// file. The file is the repository's own graph-only export of torchvision's ResNet-50; a
// checkout without it (a package built elsewhere) warms up on the zoo models alone.
const ONNX_WARM_UP = here("../test/fixtures/onnx/resnet50.onnx");
const warm = spawnSync(process.execPath, [here("../bin/convscope.cjs"), ...(existsSync(ONNX_WARM_UP) ? [ONNX_WARM_UP] : [])], {
  env: { ...process.env, CONVSCOPE_WRITE_CODE_CACHE: "1" },
  stdio: "inherit",
});
if (warm.status !== 0) throw new Error("writing the code cache failed");
console.log(`built ${OUT} (build ${id}) and its code cache`);
