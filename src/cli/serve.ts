import { existsSync, readFileSync } from "node:fs";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ConvscopeError } from "../core/errors.js";
import { readModel } from "../formats/index.js";
import { mergeRanges, recordingSource } from "../formats/source.js";
import { ZOO } from "../zoo/index.js";
import { parseFlags } from "./args.js";
import { fileSource } from "./node-source.js";

// http and child_process are loaded when a page is served, not at every start of the
// command (they are a tenth of its start-up): the bundled CLI imports this module always.
const require = createRequire(import.meta.url);

const HELP = `usage: convscope serve [model] [--port N] [--no-open]
  serves the offline web page on http://127.0.0.1:N/ (default port 8737; 0 picks a free one)
  with the model (a file or zoo:NAME) already open, and opens a browser unless --no-open
  or the CI environment variable is set. The page itself makes no request once loaded.
`;

/** The built page, next to dist/ and src/ alike (`npm run build:web` makes it). */
const PAGE = fileURLToPath(new URL("../../dist-web/index.html", import.meta.url));
const MARKER = "<!--convscope-model-->";

/** The built page with the model (a file path or `zoo:NAME`) inside, ready to serve. */
export function servedPage(model?: string, pagePath = PAGE): string {
  if (!existsSync(pagePath)) throw new ConvscopeError(`the web page is not built (${pagePath}): run npm run build:web`);
  return pageWithModel(readFileSync(pagePath, "utf8"), model);
}

/**
 * The page with the model handed over inside it: a non-script data block (base64) of the
 * byte ranges the reader needs, with their offsets and the file's size, which the page
 * decodes at start into a sparse source. Nothing is fetched afterwards, so the page's CSP stays
 * `default-src 'none'`, and the inline data is never executed (so needs no hash).
 */
export function pageWithModel(page: string, model?: string): string {
  if (!page.includes(MARKER)) throw new ConvscopeError(`the built page lacks ${MARKER}: rebuild it with npm run build:web`);
  if (!model) return page;
  const b64 = (s: string | Uint8Array) => Buffer.from(s).toString("base64");
  let block: string;
  if (model.startsWith("zoo:")) {
    const name = model.slice(4);
    if (!ZOO[name]) throw new ConvscopeError(`no zoo model '${name}' (known: ${Object.keys(ZOO).join(", ")})`);
    block = `<script id="convscope-model" type="application/octet-stream" data-zoo="${b64(name)}"></script>`;
  } else {
    // Read it here first, so a file convscope cannot read fails on the command line, and
    // note the ranges the reader asked for: the page gets those (the graph, the names, the
    // few small tensors read for their values), never the weight payloads skipped, so a
    // 2 GB model costs what its graph costs. The page runs the same reader over them.
    const src = recordingSource(fileSource(model));
    let ranges: [number, number][];
    const parts: Buffer[] = [];
    try {
      readModel(src);
      ranges = mergeRanges(src.asked);
      for (const [a, b] of ranges) parts.push(Buffer.from(src.read(a, b - a)));
    } finally {
      src.close();
    }
    const attrs = `data-name="${b64(basename(model))}" data-size="${src.size}" data-ranges="${ranges.map(([a, b]) => `${a}+${b - a}`).join(",")}"`;
    block = `<script id="convscope-model" type="application/octet-stream" ${attrs}>${Buffer.concat(parts).toString("base64")}</script>`;
  }
  return page.replace(MARKER, () => block);
}

/** Serves the page on 127.0.0.1 (port 0: any free one); resolves with its URL once listening. */
export async function startServer(page: string, port = 8737): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const html = Buffer.from(page);
  const csp = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html.toString("utf8", 0, 4096))?.[1];
  let bound = port;
  const { createServer } = require("node:http") as typeof import("node:http");
  const server = createServer((req, res) => {
    // Only our own origin: a page elsewhere that points a DNS name at 127.0.0.1 gets nothing.
    const host = req.headers.host ?? "";
    if (host !== `127.0.0.1:${bound}` && host !== `localhost:${bound}`) {
      res.writeHead(403).end();
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD" }).end();
      return;
    }
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/" && path !== "/index.html") {
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("not found\n");
      return;
    }
    res.writeHead(200, {
      "Content-Type": "text/html; charset=utf-8",
      "Content-Length": html.length,
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
      ...(csp ? { "Content-Security-Policy": csp } : {}),
    });
    res.end(req.method === "HEAD" ? undefined : html);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(e.code === "EADDRINUSE" ? new ConvscopeError(`port ${port} is in use (choose another with --port N, or --port 0)`) : e),
    );
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const addr = server.address();
  if (addr && typeof addr === "object") bound = addr.port;
  return {
    url: `http://127.0.0.1:${bound}/`,
    server,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // a browser's keep-alive connection would hold close() open
      }),
  };
}

/** Opens a URL in the desktop's browser; failure only prints a hint. */
function openBrowser(url: string, err: (s: string) => void): void {
  const [cmd, args] =
    process.platform === "darwin"
      ? ["open", [url]]
      : process.platform === "win32"
        ? ["cmd", ["/c", "start", "", url]]
        : ["xdg-open", [url]];
  try {
    const { spawn } = require("node:child_process") as typeof import("node:child_process");
    const child = spawn(cmd, args as string[], { detached: true, stdio: "ignore" });
    child.on("error", () => err(`convscope: could not start a browser; open ${url}\n`));
    child.unref();
  } catch {
    err(`convscope: could not start a browser; open ${url}\n`);
  }
}

/**
 * `convscope serve [model] [--port N] [--no-open]`: returns at once (the server keeps the
 * process alive); bad arguments and unreadable models throw ConvscopeError for main's one line.
 */
export function serve(argv: string[], out: (s: string) => void, err: (s: string) => void): number {
  const { values: v, positionals } = parseFlags(parse, argv, "convscope serve --help");
  if (v.help) {
    out(HELP);
    return 0;
  }
  if (positionals.length > 1) throw new ConvscopeError(`serve takes one model at most, got ${positionals.length}`);
  let port = 8737;
  if (v.port !== undefined) {
    port = Number(v.port);
    if (!/^\d+$/.test(v.port) || port > 65535) throw new ConvscopeError(`--port takes a port number (0 for any free one), got '${v.port}'`);
  }
  const model = positionals[0];
  // Made now, so that a bad model or a missing build fails with main's one line.
  startServer(servedPage(model), port).then(
    ({ url }) => {
      out(`convscope: serving ${model ?? "the page"} at ${url} (Ctrl-C to stop)\n`);
      if (!v["no-open"] && !process.env.CI) openBrowser(url, err);
    },
    (e) => {
      err(`convscope: ${e instanceof ConvscopeError ? e.oneLine() : (e as Error).message}\n`);
      process.exitCode = 2;
    },
  );
  return 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: { port: { type: "string", short: "p" }, "no-open": { type: "boolean" }, help: { type: "boolean", short: "h" } },
  });
}
