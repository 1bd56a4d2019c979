import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { servedPage, startServer } from "../../src/cli/serve.js";
import { buildWeb } from "../../web/build.js";
import { bigWeightsOnnx } from "../formats/big-onnx.js";
import { openPage, type Session, SKIP } from "./browser.js";

const $ = (id: string) => `[data-testid="${id}"]`;

/**
 * Models too big to read whole, in the page: a dropped file is read range by range through
 * Blob.slice (a model past 2 GB — an ArrayBuffer's limit — opens), and `serve` hands over
 * the graph's bytes only. The files are sparse, made here in a temp dir, never committed.
 */
describe("big models in the page", { skip: SKIP }, () => {
  const tmp = mkdtempSync(join(tmpdir(), "convscope-big-web-"));
  const huge = bigWeightsOnnx(2.2e9);
  const hugePath = join(tmp, "huge.onnx");
  let s: Session;
  before(async () => {
    huge.pb.writeFile(hugePath, { sparse: true });
    await buildWeb(); // the page serve hands out
    s = await openPage();
  });
  after(async () => {
    await s?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  const heapMB = () =>
    s.page.evaluate(() => (performance as unknown as { memory: { usedJSHeapSize: number } }).memory.usedJSHeapSize / 2 ** 20);

  test("a dropped 2.2 GB ONNX opens with its hand-computed totals, and the page's heap stays small", async () => {
    assert.ok(statSync(hugePath).size > 2 ** 31);
    await s.page.setInputFiles($("file-input"), hugePath);
    await s.page.waitForFunction(
      () => Number(document.body.dataset.analyses ?? "0") > 0 || !document.querySelector('[data-testid="error"]')?.hasAttribute("hidden"),
    );
    assert.equal(await s.page.getAttribute($("error"), "hidden"), "");
    assert.equal(Number(await s.page.getAttribute($("total-params"), "data-value")), huge.params);
    assert.equal(Number(await s.page.getAttribute($("total-macs"), "data-value")), huge.macs);
    const heap = await heapMB();
    assert.ok(heap < 64, `page heap ${heap.toFixed(0)} MB`);
    assert.deepEqual(s.problems, []);
  });

  test("`serve` hands the page a 2.2 GB model's graph only, and the page shows it", async () => {
    const html = servedPage(hugePath);
    assert.ok(html.length < 4 * 2 ** 20, `page ${html.length} bytes`); // the built page itself is ~2 MB
    const { url, close } = await startServer(html, 0);
    try {
      await s.page.goto(url);
      await s.page.waitForFunction(() => Number(document.body.dataset.analyses ?? "0") > 0);
      assert.equal(Number(await s.page.getAttribute($("total-params"), "data-value")), huge.params);
      assert.equal(await s.page.textContent($("model-name")), "big-weights");
    } finally {
      await close();
    }
  });
});
