import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { analyze } from "../../src/analysis/index.js";
import { treeRows } from "../../src/analysis/modules.js";
import { ZOO } from "../../src/zoo/index.js";
import { openPage, type Session, SKIP, screenshot } from "./browser.js";

const $ = (id: string) => `[data-testid="${id}"]`;
const RESNET18_ONNX = fileURLToPath(new URL("../fixtures/onnx/resnet18.onnx", import.meta.url));

const analyses = (page: Page) => page.evaluate(() => Number(document.body.dataset.analyses ?? "0"));
async function andWait(page: Page, action: () => Promise<unknown>): Promise<void> {
  const n = await analyses(page);
  await action();
  await page.waitForFunction((n) => Number(document.body.dataset.analyses ?? "0") > n, n);
}

describe("page: module tree, treemap, compare", { skip: SKIP }, () => {
  let session: Session;
  before(async () => {
    session = await openPage();
  });
  after(async () => {
    await session?.close();
  });

  test("the module tree expands, and the treemap has a clickable cell per top module", async () => {
    const { page } = session;
    await andWait(page, () => page.selectOption($("zoo-select"), "resnet18"));
    await page.click($("tab-modules"));
    // Top rows as the library makes them: 4 stages and fc are modules, conv1, bn1, relu, maxpool, avgpool layers.
    const r = analyze(ZOO.resnet18.build(), { modules: true });
    const top = treeRows(r, 1);
    const rows = await page.$$eval(`${$("module-tree")} tbody tr`, (trs) => trs.map((tr) => tr.getAttribute("data-path")));
    assert.deepEqual(
      rows,
      top.map((t) => t.name),
    );
    // Expand layer1: its two blocks appear, then layer1.0 shows its own layers.
    await page.click(`tr[data-path="layer1"] ${$("tree-toggle")}`);
    assert.equal(await page.getAttribute(`tr[data-path="layer1"] ${$("tree-toggle")}`, "aria-expanded"), "true");
    assert.ok(await page.isVisible('tr[data-path="layer1.0"]'));
    await page.click(`tr[data-path="layer1.0"] ${$("tree-toggle")}`);
    assert.ok(await page.isVisible('tr[data-path="layer1.0.conv1"]'));
    const layer1 = r.modules?.find((m) => m.path === "layer1");
    assert.equal(
      (await page.textContent('tr[data-path="layer1"] td:nth-child(5)'))?.trim(),
      "462.42M",
      `layer1 MACs (library: ${layer1?.macs})`,
    );
    // Treemap by compute: one cell per top row with MACs (conv1, layer1-4, fc).
    const cells = await page.$$eval(`${$("treemap")} g.treemap-cell`, (gs) => gs.map((g) => g.getAttribute("data-module")));
    assert.deepEqual(cells.sort(), ["conv1", "fc", "layer1", "layer2", "layer3", "layer4"]);
    await screenshot(page, "modules-tree");
    // Clicking layer3's cell opens it in the table and selects its first layer.
    await page.click(`${$("treemap")} g[data-module="layer3"]`);
    assert.equal(await page.getAttribute(`tr[data-path="layer3"] ${$("tree-toggle")}`, "aria-expanded"), "true");
    assert.ok(await page.isVisible('tr[data-path="layer3.0"]'));
    // By parameters: layer4 holds most: convs 3·3·256·512 + 3·3·512·512·3 + 256·512 = 8,388,608 and five
    // batch norms of 4·512 (weight, bias, running mean and variance) = 10,240, of 11,699,112.
    await page.selectOption($("treemap-metric"), "params");
    const title = await page.textContent(`${$("treemap")} g[data-module="layer4"] title`);
    assert.match(title ?? "", /^layer4: 8,398,848 \(71\.8%\)$/);
    // SVG export.
    const download = page.waitForEvent("download");
    await page.click($("export-treemap-svg"));
    const d = await download;
    assert.equal(d.suggestedFilename(), "resnet18-treemap.svg");
    assert.deepEqual(session.problems, []);
  });

  test("an ONNX file's scopes make the same tree", async () => {
    const { page } = session;
    await andWait(page, () => page.setInputFiles($("file-input"), RESNET18_ONNX));
    await page.click($("tab-modules"));
    const rows = await page.$$eval(`${$("module-tree")} tbody tr`, (trs) => trs.map((tr) => tr.getAttribute("data-path")));
    assert.deepEqual(rows, ["conv1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "/Flatten", "fc"]);
  });

  test("two models compare: a column each, a bar chart per metric", async () => {
    const { page } = session;
    await andWait(page, () => page.selectOption($("zoo-select"), "resnet18"));
    await page.click($("tab-compare"));
    assert.ok(await page.isVisible($("compare-empty")));
    await page.selectOption($("compare-zoo"), "resnet50");
    await page.waitForSelector($("compare-table"));
    const head = await page.$$eval(`${$("compare-table")} thead th`, (ths) => ths.map((t) => t.textContent));
    assert.deepEqual(head, ["", "resnet18", "zoo:resnet50"]);
    const macs = await page.$$eval(`${$("compare-table")} tr[data-metric="value"] td`, (tds) => tds.map((t) => t.getAttribute("title")));
    assert.deepEqual(macs, ["1,814,073,344", (analyze(ZOO.resnet50.build()).totals.macs as number).toLocaleString("en-US")]);
    const charts = await page.$$eval($("compare-chart"), (fs) => fs.map((f) => f.getAttribute("data-metric")));
    assert.deepEqual(charts, ["params", "value", "flops", "peak_activation_bytes", "rf"]);
    assert.equal(await page.locator(`${$("compare-chart")}[data-metric="params"] rect[data-model]`).count(), 2);
    await screenshot(page, "compare");
    assert.deepEqual(session.problems, []);
  });
});

describe("page: cost against input size", { skip: SKIP }, () => {
  let session: Session;
  before(async () => {
    session = await openPage();
  });
  after(async () => {
    await session?.close();
  });

  test("a sweep draws its table, chart and closed forms", async () => {
    const { page } = session;
    await andWait(page, () => page.selectOption($("zoo-select"), "resnet18"));
    await page.click($("tab-size"));
    await page.fill($("sweep-spec"), "S=160,224,225,320");
    await page.click($("sweep-run"));
    await page.waitForSelector($("sweep-table"), { timeout: 120_000 });
    const macs = await page.$$eval(`${$("sweep-table")} tbody tr td[data-value]`, (tds) =>
      tds.map((t) => Number(t.getAttribute("data-value"))),
    );
    const expected = [160, 224, 225, 320].map((x) => analyze(ZOO.resnet18.build(), { inputs: { input: [1, 3, x, x] } }).totals.macs);
    assert.deepEqual(macs, expected);
    assert.equal(await page.locator(`${$("sweep-chart")} circle`).count(), 12, "3 panels × 4 sizes");
    assert.match((await page.textContent($("sweep-closed"))) ?? "", /MACs = 9,408·⌈H\/2⌉·⌈W\/2⌉ \+ 147,456·⌈H\/4⌉·⌈W\/4⌉/);
    await screenshot(page, "sweep");
    assert.deepEqual(session.problems, []);
  });
});
