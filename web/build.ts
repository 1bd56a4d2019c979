import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** Where the built page goes, relative to the repository root. */
export const PAGE_PATH = here("../dist-web/index.html");

/**
 * The ELK layout worker as source text, so the page can start it from a blob: URL —
 * the only way to run a worker from a single file opened via file:// (no second file to load).
 */
const elkWorkerText: Plugin = {
  name: "elk-worker-text",
  setup(b) {
    b.onResolve({ filter: /^elk-worker-source$/ }, () => ({ path: "elk-worker-source", namespace: "elk-worker" }));
    b.onLoad({ filter: /.*/, namespace: "elk-worker" }, () => ({
      contents: readFileSync(here("../node_modules/elkjs/lib/elk-worker.min.js"), "utf8"),
      loader: "text",
    }));
  },
};

/** Bytes that would end or confuse an inline <script>/<style> element. */
function checkInline(kind: string, text: string): void {
  const bad = kind === "script" ? /<\/script|<!--/i : /<\/style/i;
  if (bad.test(text)) throw new Error(`the bundled ${kind} contains ${bad.source}, which cannot be inlined`);
}

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

/**
 * Builds the page into one self-contained HTML file: the bundle (src/ and the ELK worker)
 * and the CSS are inlined, and the Content-Security-Policy allows exactly those two inline
 * elements by hash. Hashes rather than 'unsafe-inline': a name from a model file that ever
 * reached the DOM as markup still could not run (no inline handlers, no injected scripts).
 */
export async function buildWeb(opts: { outFile?: string; minify?: boolean } = {}): Promise<{ file: string; bytes: number }> {
  const result = await build({
    entryPoints: [here("main.ts")],
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    minify: opts.minify ?? true,
    write: false,
    legalComments: "none",
    plugins: [elkWorkerText],
    logLevel: "silent",
  });
  const js = result.outputFiles[0].text.replace(/<\/script/gi, "<\\/script");
  const css = readFileSync(here("style.css"), "utf8");
  checkInline("script", js);
  checkInline("style", css);
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(js)}`,
    `style-src ${sha256(css)}`,
    "img-src data: blob:",
    "worker-src blob:",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
  const template = readFileSync(here("index.html"), "utf8");
  const parts: Record<string, string> = { "{{CSP}}": csp, "/*{{CSS}}*/": css, "/*{{JS}}*/": js };
  let html = template;
  for (const [k, v] of Object.entries(parts)) {
    if (!html.includes(k)) throw new Error(`web/index.html lacks the placeholder ${k}`);
    html = html.replace(k, () => v);
  }
  const file = opts.outFile ?? PAGE_PATH;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, html);
  return { file, bytes: Buffer.byteLength(html) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t0 = performance.now();
  const { file, bytes } = await buildWeb();
  console.log(`built ${file} (${(bytes / 1024).toFixed(0)} KiB) in ${(performance.now() - t0).toFixed(0)} ms`);
}
