import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { main } from "../../src/cli/main.js";
import { servedPage, startServer } from "../../src/cli/serve.js";
import { analyze } from "../../src/index.js";
import { ZOO } from "../../src/zoo/index.js";
import { buildWeb } from "../../web/build.js";
import { FIXTURES, openPage, type Session, SKIP, screenshot } from "./browser.js";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const RESNET18 = join(FIXTURES, "onnx", "resnet18.onnx");
const $ = (id: string) => `[data-testid="${id}"]`;

/** GET with an explicit Host header (node's fetch will not send a foreign one). */
function get(url: string, host?: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, headers: host ? { Host: host } : {} }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** `convscope serve … --no-open --port 0` as a real process; resolves with the URL it prints. */
function serveProcess(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, "serve", ...args, "--no-open", "--port", "0"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, CI: "" },
  });
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout!.on("data", (c) => {
      out += c;
      const m = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.stderr!.on("data", (c) => {
      err += c;
    });
    child.on("exit", (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
}

describe("convscope serve", () => {
  before(async () => {
    await buildWeb(); // the page serve hands out: dist-web/index.html
  });

  test("a model it cannot read fails on the command line with one line, exit 2", () => {
    let err = "";
    const code = main(
      ["serve", "/nonexistent/model.onnx", "--no-open"],
      () => {},
      (s) => {
        err += s;
      },
    );
    assert.equal(code, 2);
    assert.equal(err, "convscope: /nonexistent/model.onnx: no such file\n");
    err = "";
    assert.equal(
      main(
        ["serve", "zoo:nope"],
        () => {},
        (s) => (err += s),
      ),
      2,
    );
    assert.match(err, /^convscope: no zoo model 'nope' \(known: alexnet, /);
    assert.equal(
      main(
        ["serve", "--port", "http"],
        () => {},
        () => {},
      ),
      2,
    );
  });

  test("serves the page with the model inside on 127.0.0.1 only, and nothing else", async () => {
    const { url, close } = await startServer(servedPage(RESNET18), 0);
    try {
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const page = await get(url);
      assert.equal(page.status, 200);
      assert.equal(page.headers["content-type"], "text/html; charset=utf-8");
      assert.match(String(page.headers["content-security-policy"]), /^default-src 'none'; script-src 'sha256-[^']+'; style-src 'sha256-/);
      // The model travels as a base64 data block (never executed, never fetched): the byte
      // ranges its reader needs, with their offsets and the file's size.
      const block =
        /<script id="convscope-model" type="application\/octet-stream" data-name="([^"]+)" data-size="(\d+)" data-ranges="([^"]+)">([^<]+)<\/script>/.exec(
          page.body,
        );
      assert.ok(block);
      assert.equal(Buffer.from(block[1], "base64").toString(), "resnet18.onnx");
      assert.equal(Number(block[2]), 15536);
      const lengths = block[3].split(",").map((r) => Number(r.split("+")[1]));
      assert.equal(
        Buffer.from(block[4], "base64").length,
        lengths.reduce((a, b) => a + b, 0),
      );
      assert.equal((await get(`${url}other`)).status, 404);
      // DNS rebinding: a request naming another host gets nothing.
      assert.equal((await get(url, "evil.example")).status, 403);
    } finally {
      await close();
    }
  });

  describe("in Chromium", { skip: SKIP }, () => {
    let s: Session;
    let child: ChildProcess | undefined;
    before(async () => {
      s = await openPage();
    });
    after(async () => {
      child?.kill();
      await s?.close();
    });

    test("`convscope serve model.onnx --no-open` opens with that model's totals", async () => {
      const started = await serveProcess([RESNET18]);
      child = started.child;
      const requests: string[] = [];
      s.page.on("request", (r) => requests.push(r.url()));
      await s.page.goto(started.url);
      await s.page.waitForFunction(() => Number(document.body.dataset.analyses ?? "0") > 0);
      const { readModel, bufferSource } = await import("../../src/formats/index.js");
      const { readFileSync } = await import("node:fs");
      const r = analyze(readModel(bufferSource("resnet18.onnx", new Uint8Array(readFileSync(RESNET18)))));
      assert.equal(Number(await s.page.getAttribute($("total-params"), "data-value")), r.totals.params);
      assert.equal(Number(await s.page.getAttribute($("total-macs"), "data-value")), r.totals.macs);
      // torchvision's ResNet-18 count at 224² (shared/fixtures/onnx/reference.json).
      assert.equal(r.totals.macs, 1814073344);
      assert.equal(await s.page.textContent($("model-name")), r.model.name);
      await screenshot(s.page, "serve");
      // The page, then only the layout worker's in-memory blob: script.
      assert.equal(requests[0], started.url);
      assert.deepEqual(
        requests.slice(1).filter((u) => !u.startsWith(`blob:${started.url}`)),
        [],
      );
      assert.deepEqual(s.problems, []);
    });

    test("a zoo model is handed over by name", async () => {
      const { url, close } = await startServer(servedPage("zoo:vgg16"), 0);
      try {
        await s.page.goto(url);
        await s.page.waitForFunction(() => Number(document.body.dataset.analyses ?? "0") > 0);
        const r = analyze(ZOO.vgg16.build());
        assert.equal(Number(await s.page.getAttribute($("total-params"), "data-value")), r.totals.params);
        assert.equal(r.totals.params, 138357544);
      } finally {
        await close();
      }
    });
  });
});
