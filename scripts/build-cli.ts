import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
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
  // import.meta.url (package.json and the web page are found relative to it) in CommonJS.
  define: { "import.meta.url": "__importMetaUrl" },
  plugins: [
    {
      // fflate's Node entry loads worker_threads at start-up, for asynchronous APIs convscope
      // never calls (it inflates .keras archives with inflateSync): its plain build has none.
      name: "fflate-without-workers",
      setup(b) {
        b.onResolve({ filter: /^fflate$/ }, () => ({ path: here("../node_modules/fflate/esm/browser.js") }));
      },
    },
  ],
  banner: { js: 'const __importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
});
const code = result.outputFiles[0].text;
const id = createHash("sha256").update(code).digest("hex").slice(0, 16);
mkdirSync(here("../dist/cli"), { recursive: true });
rmSync(`${OUT}.cache`, { force: true });
writeFileSync(OUT, `// build ${id}\n${code}`);

const warm = spawnSync(process.execPath, [here("../bin/convscope.cjs")], {
  env: { ...process.env, CONVSCOPE_WRITE_CODE_CACHE: "1" },
  stdio: "inherit",
});
if (warm.status !== 0) throw new Error("writing the code cache failed");
console.log(`built ${OUT} (build ${id}) and its code cache`);
