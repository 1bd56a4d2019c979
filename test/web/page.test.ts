import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { crc32, deflateSync } from "node:zlib";
import type { Page } from "playwright-core";
import { type AnalyzeOptions, analyze } from "../../src/analysis/index.js";
import { unitBox } from "../../src/analysis/rf-query.js";
import type { Report } from "../../src/core/report.js";
import { bufferSource, readModel } from "../../src/formats/index.js";
import { renderCsv, renderJson, renderMarkdown } from "../../src/render/index.js";
import { ZOO } from "../../src/zoo/index.js";
import { attr, graph, model, node, tensor, valueInfo } from "../formats/onnx-writer.js";
import { FIXTURES, openPage, type Session, SKIP, screenshot } from "./browser.js";
import { deepSpec } from "./models.js";

/** A w×h PNG of one colour (8-bit RGB, filter 0 on every row), made here so no image is fetched. */
function solidPng(w: number, h: number, rgb: [number, number, number]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.from([0, ...Array.from({ length: w }, () => rgb).flat()]);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const tmp = mkdtempSync(join(tmpdir(), "convscope-page-"));
const ONNX = join(FIXTURES, "onnx");
const CAFFE_ALEXNET = join(FIXTURES, "caffe", "bvlc_alexnet.prototxt");
const $ = (id: string) => `[data-testid="${id}"]`;

/** What the library (and so the CLI's JSON) says for a file, read under the name the page sees. */
function expected(path: string, opts: AnalyzeOptions = {}): Report {
  return analyze(readModel(bufferSource(basename(path), new Uint8Array(readFileSync(path)))), opts);
}

const analyses = (page: Page) => page.evaluate(() => Number(document.body.dataset.analyses ?? "0"));

/** Runs an action and waits for the page to finish the analysis it starts. */
async function andWait(page: Page, action: () => Promise<unknown>): Promise<void> {
  const n = await analyses(page);
  await action();
  await page.waitForFunction((n) => Number(document.body.dataset.analyses ?? "0") > n, n);
}

const loadFile = (page: Page, path: string) => andWait(page, () => page.setInputFiles($("file-input"), path));

async function value(page: Page, id: string): Promise<number | null> {
  const v = await page.getAttribute($(id), "data-value");
  return v === null || v === "" ? null : Number(v);
}

/** The totals as the page shows them, next to the same fields of a report. */
async function totals(page: Page) {
  return {
    params: await value(page, "total-params"),
    trainable: await value(page, "trainable-params"),
    macs: await value(page, "total-macs"),
    value: await value(page, "total-value"),
    peak: await value(page, "peak-memory"),
    layers: Number((await page.textContent(`${$("layer-filter")} ~ span`))?.match(/\d[\d,]*/)?.[0].replace(/,/g, "")),
  };
}
const totalsOf = (r: Report) => ({
  params: r.totals.params,
  trainable: r.totals.trainable_params,
  macs: r.totals.macs,
  value: r.totals.value,
  peak: r.totals.peak_activation_bytes,
  layers: r.layers.length,
});

describe("the web page in headless Chromium", { skip: SKIP }, () => {
  let s: Session;
  let page: Page;
  before(async () => {
    s = await openPage();
    page = s.page;
  });
  after(async () => {
    await s?.close();
  });

  test("zoo AlexNet: the totals are the library's (60,965,224 params, 724,406,816 MACs)", async () => {
    await andWait(page, () => page.selectOption($("zoo-select"), "alexnet"));
    const r = analyze(ZOO.alexnet.build());
    assert.deepEqual(await totals(page), totalsOf(r));
    assert.equal(await value(page, "total-params"), 60965224);
    assert.equal(await value(page, "total-macs"), 724406816);
    assert.equal(await page.textContent($("last-rf")), "195×195 / 32×32");
    await screenshot(page, "alexnet");
  });

  test("the Caffe AlexNet prototxt and every ONNX fixture show the CLI's totals", async () => {
    const files = [
      CAFFE_ALEXNET,
      ...readdirSync(ONNX)
        .filter((f) => f.endsWith(".onnx"))
        .map((f) => join(ONNX, f)),
    ];
    assert.ok(files.length >= 15);
    for (const f of files) {
      await loadFile(page, f);
      assert.equal(await page.isVisible($("error")), false, `${basename(f)}: ${await page.textContent($("error"))}`);
      assert.deepEqual(await totals(page), totalsOf(expected(f)), basename(f));
    }
    // The Caffe numbers the brief gives: 60,965,224 params, 724,406,816 conv+fc MACs per image.
    const caffe = expected(CAFFE_ALEXNET);
    assert.deepEqual([caffe.totals.params, caffe.totals.macs], [60965224, 724406816]);
    await screenshot(page, "vgg16-onnx");
  });

  test("Keras files — legacy .h5 (read by the bundled jsfive), .keras and to_json — show the library's totals", async () => {
    const dir = fileURLToPath(new URL("../fixtures/v2/keras/", import.meta.url));
    for (const f of ["PatchCodebookNet.h5", "PatchCodebookNet.keras", "MobileNetV3Small_a075.keras"]) {
      await loadFile(page, join(dir, f));
      assert.equal(await page.isVisible($("error")), false, `${f}: ${await page.textContent($("error"))}`);
      assert.deepEqual(await totals(page), totalsOf(expected(join(dir, f))), f);
    }
    // Keras' own counts (fixtures/v2/keras/reference.json).
    assert.equal(await value(page, "total-params"), 2_051_552);
    assert.equal(await value(page, "total-macs"), 43_399_344);
  });

  test("controls re-run the analysis: batch, input shape, convention, dtype, training", async () => {
    await andWait(page, () => page.selectOption($("zoo-select"), "resnet18"));
    const g = ZOO.resnet18.build();
    await andWait(page, () => page.fill($("batch"), "4").then(() => page.press($("batch"), "Enter")));
    const input = g.inputs[0];
    let r = analyze(g, { batch: 4 });
    assert.deepEqual(await totals(page), totalsOf(r));
    assert.equal(r.batch, 4);
    await andWait(page, () => page.fill($("input-shape"), "1x3x320x320").then(() => page.press($("input-shape"), "Enter")));
    // Batch 4 still applies to the new shape.
    r = analyze(g, { inputs: { [input]: [4, 3, 320, 320] } });
    assert.deepEqual(await totals(page), totalsOf(r));
    // ResNet-18 at 320² costs (320/224)² of its 224² MACs: 1,814,073,344 · 100/49 = 3,702,190,497.9…, not exact
    // because of the 7×7 stem's borders; the library's count is what the page must show.
    assert.ok(r.totals.macs! > 3.6e9 && r.totals.macs! < 3.8e9);
    await andWait(page, () => page.selectOption($("convention"), "flops"));
    r = analyze(g, { inputs: { [input]: [4, 3, 320, 320] }, convention: "flops" });
    assert.equal(await value(page, "total-value"), r.totals.value);
    assert.equal(r.totals.value, r.totals.flops);
    await andWait(page, () => page.selectOption($("dtype"), "fp16"));
    assert.equal(await page.textContent(".mini tr.current th"), "fp16");
    await andWait(page, () => page.selectOption($("training"), "adam"));
    r = analyze(g, {
      inputs: { [input]: [4, 3, 320, 320] },
      convention: "flops",
      dtype: "fp16",
      training: { optimizer: "adam", precision: "fp32" },
    });
    assert.equal(await value(page, "training-bytes"), r.totals.training_bytes?.total);
    await screenshot(page, "controls");
    for (const [id, v] of [
      ["convention", "macs"],
      ["dtype", "fp32"],
      ["training", ""],
    ])
      await andWait(page, () => page.selectOption($(id), v));
  });

  test("a model dropped on the page opens like a chosen one", async () => {
    const path = fileURLToPath(new URL("../fixtures/spec/tiny-resnet.json", import.meta.url));
    const dt = await page.evaluateHandle(
      ({ text, name }) => {
        const d = new DataTransfer();
        d.items.add(new File([text], name, { type: "application/json" }));
        return d;
      },
      { text: readFileSync(path, "utf8"), name: "tiny-resnet.json" },
    );
    await andWait(page, () => page.dispatchEvent("body", "drop", { dataTransfer: dt }));
    const r = expected(path);
    assert.deepEqual(await totals(page), totalsOf(r));
    // conv1 3·3·3·16 = 432 (no bias) + bn1 2·16 (+ 2·16 running stats) + conv2 3·3·16·16 + 16 = 2,320 + fc 16·10 + 10 = 170.
    assert.equal(r.totals.params, 432 + 64 + 2320 + 170);
    assert.equal(await page.textContent($("model-name")), "tiny-resnet");
  });

  test("the table sorts, filters and stays virtual", async () => {
    await andWait(page, () => page.selectOption($("zoo-select"), "resnet50"));
    const r = analyze(ZOO.resnet50.build());
    const rows = page.locator($("layer-row"));
    // Virtualised: far fewer rows in the DOM than layers.
    assert.ok(r.layers.length > 150);
    assert.ok((await rows.count()) < 60, `${await rows.count()} rows rendered`);
    await page.click($("sort-params"));
    const byParams = [...r.layers].sort((a, b) => (b.params ?? 0) - (a.params ?? 0));
    assert.equal(await rows.nth(0).locator(".cell").nth(1).textContent(), byParams[0].name);
    await page.click($("sort-params"));
    const first = await rows.nth(0).locator(".cell").nth(5).textContent();
    assert.equal(first, "0");
    await page.fill($("layer-filter"), "downsample");
    const matching = r.layers.filter((l) => l.name.toLowerCase().includes("downsample") || l.op.toLowerCase().includes("downsample"));
    assert.ok(matching.length > 0);
    assert.equal(await rows.count(), matching.length);
    await page.fill($("layer-filter"), "");
    await page.click($("sort-index"));
    assert.equal(await rows.nth(0).locator(".cell").nth(1).textContent(), r.layers[0].name);
  });

  test("a row selects its graph node and a node selects its row", async () => {
    await andWait(page, () => page.selectOption($("zoo-select"), "resnet18"));
    await page.click($("tab-graph"));
    const r = analyze(ZOO.resnet18.build());
    await page.waitForFunction(
      (n) => document.querySelector('[data-testid="graph-status"]')?.textContent?.includes(`${n} layers · layout`),
      r.layers.length,
    );
    const i = r.layers.findIndex((l) => l.name === "layer2.0.conv1");
    await page.fill($("layer-filter"), "layer2.0.conv1");
    await page.locator($("layer-row")).first().click();
    // ResNet-18 (under 150 layers) is drawn uncollapsed: one box per layer.
    const sel = page.locator(`${$("graph-node")}.selected`);
    assert.equal(await sel.count(), 1);
    assert.equal(Number(await sel.getAttribute("data-layer")), i);
    await page.fill($("layer-filter"), "");
    const j = r.layers.findIndex((l) => l.name === "layer4.1.bn2");
    await page.locator(`${$("graph-node")}[data-layer="${j}"]`).dispatchEvent("click");
    const row = page.locator(`${$("layer-row")}[aria-selected="true"]`);
    assert.equal(await row.count(), 1);
    assert.equal(Number(await row.getAttribute("data-index")), j);
    assert.equal(await row.locator(".cell").nth(1).textContent(), "layer4.1.bn2");
    await screenshot(page, "graph-selection");
  });

  test("the receptive-field view draws the library's box for the unit under the pointer", async () => {
    await andWait(page, () => page.selectOption($("zoo-select"), "alexnet"));
    await page.click($("tab-rf"));
    const r = analyze(ZOO.alexnet.build());
    const canvas = page.locator($("rf-canvas"));
    const pointAt = async (tensor: string, unit: [number, number]) => {
      await page.selectOption($("rf-tensor"), tensor);
      await canvas.scrollIntoViewIfNeeded();
      const [scale, ox, oy] = (await canvas.getAttribute("data-map"))!.split(" ").map(Number);
      const box = unitBox(r, tensor, unit);
      const bb = (await canvas.boundingBox())!;
      // The unit's field centre, in CSS pixels (pixel i spans [i, i+1)).
      await page.mouse.move(bb.x + ox + scale * (box.centre[1] + 0.5), bb.y + oy + scale * (box.centre[0] + 0.5));
      return box;
    };
    // conv1: 11×11, stride 4, no padding — unit (54, 54) sees 54·4 = 216 … 216 + 10 = 226.
    await pointAt("conv1", [54, 54]);
    assert.equal(await canvas.getAttribute("data-unit"), "54,54");
    assert.equal(await canvas.getAttribute("data-field"), "216,216,226,226");
    for (const [tensor, unit] of [
      ["conv5", [0, 0]],
      ["conv5", [6, 9]],
      ["pool5", [5, 5]],
      ["conv2", [13, 26]],
    ] as [string, [number, number]][]) {
      const box = await pointAt(tensor, unit);
      assert.equal(await canvas.getAttribute("data-unit"), unit.join(","), tensor);
      assert.equal(await canvas.getAttribute("data-field"), [...box.start, ...box.end].join(","), `${tensor} ${unit}`);
    }
    // pool5 unit (0, 0): 195 pixels from −64 (the reference field 195/32, padding 64).
    await pointAt("pool5", [0, 0]);
    assert.equal(await canvas.getAttribute("data-field"), "-64,-64,130,130");
    assert.match((await page.textContent($("rf-info")))!, /part of it is padding/);
    await screenshot(page, "receptive-field");
    // Your own picture: a 4×4 solid PNG is stretched over the 227×227 input (what the net would see).
    await page.uncheck($("rf-show-lattice"));
    await page.uncheck($("rf-show-valid"));
    await page.selectOption($("rf-tensor"), "conv1");
    await page.setInputFiles($("rf-picture"), { name: "red.png", mimeType: "image/png", buffer: solidPng(4, 4, [200, 30, 40]) });
    const pixel = () =>
      canvas.evaluate((c: HTMLCanvasElement) => {
        const [scale, ox, oy] = c.dataset.map!.split(" ").map(Number);
        // Image pixel (3, 3): far from conv1's middle unit (27, 27), which sees 108…118.
        const x = Math.round((ox + scale * 3.5) * devicePixelRatio);
        const y = Math.round((oy + scale * 3.5) * devicePixelRatio);
        return Array.from(c.getContext("2d")!.getImageData(x, y, 1, 1).data);
      });
    let rgba = await pixel();
    for (let i = 0; i < 20 && rgba[0] !== 200; i++) {
      await page.waitForTimeout(50);
      rgba = await pixel();
    }
    assert.deepEqual(rgba, [200, 30, 40, 255]);
    await page.click("text=sample picture");
    assert.notDeepEqual(await pixel(), [200, 30, 40, 255]);
    await page.check($("rf-show-lattice"));
    await page.check($("rf-show-valid"));
  });

  test("exports are the library's renderers; charts export as SVG and PNG", async () => {
    await andWait(page, () => page.selectOption($("zoo-select"), "alexnet"));
    const r = analyze(ZOO.alexnet.build());
    const save = async (id: string) => {
      const [d] = await Promise.all([page.waitForEvent("download"), page.click($(id))]);
      const path = join(tmp, d.suggestedFilename());
      await d.saveAs(path);
      return { name: d.suggestedFilename(), bytes: readFileSync(path) };
    };
    const json = await save("export-json");
    assert.equal(json.name, "alexnet.json");
    assert.equal(json.bytes.toString("utf8"), renderJson(r));
    assert.equal((await save("export-csv")).bytes.toString("utf8"), renderCsv(r));
    assert.equal((await save("export-md")).bytes.toString("utf8"), renderMarkdown(r));
    await page.click($("tab-charts"));
    const svg = await save("export-svg");
    assert.equal(svg.name, "alexnet-per-layer.svg");
    const text = svg.bytes.toString("utf8");
    assert.match(text, /^<\?xml[^>]*>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    // One bar per layer with compute: conv1's title carries its exact MACs.
    assert.ok(text.includes("conv1 (Conv): 105,415,200"));
    const png = (await save("export-png")).bytes;
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.equal(png.readUInt32BE(16), 760 * 2); // IHDR width: the 760-px chart at 2×
    await screenshot(page, "charts");
  });

  test("names from a model file are shown as text, never run; unknown ops are marked", async () => {
    let dialogs = 0;
    page.on("dialog", (d) => {
      dialogs++;
      void d.dismiss();
    });
    const evil = ["<img src=x onerror=window.__xss=1>", "<script>window.__xss=2</script>", '"><svg onload=window.__xss=3>'];
    const m = model(
      graph({
        name: "<b>evil</b>",
        nodes: [
          node({ op: "Conv", name: evil[0], inputs: ["<in>", "w"], outputs: [evil[1]], attrs: [attr.ints("kernel_shape", [3, 3])] }),
          node({ op: "FancyOp", name: evil[1], inputs: [evil[1]], outputs: ["f"] }),
          node({ op: "Relu", name: evil[2], inputs: ["f"], outputs: ["y"] }),
        ],
        initializers: [tensor({ name: "w", dims: [4, 3, 3, 3], fill: 4 * 3 * 3 * 3 * 4 })],
        inputs: [valueInfo("<in>", [1, 3, 8, 8])],
        outputs: [valueInfo("y")],
      }),
    );
    const path = join(tmp, "evil.onnx");
    writeFileSync(path, m.bytes());
    await loadFile(page, path);
    const names = await page.locator(`${$("layer-row")} .cell:nth-child(2)`).allTextContents();
    assert.deepEqual(names, evil);
    // Nothing ran, nothing was parsed as markup anywhere (table, summary, graph, options).
    assert.equal(await page.evaluate(() => (window as { __xss?: number }).__xss), undefined);
    assert.equal(await page.locator("img").count(), 0);
    assert.equal(await page.locator("script").count(), 1);
    assert.equal(await page.locator("b").count(), 0);
    assert.equal(await page.locator("main svg svg").count(), 0);
    await page.click($("tab-graph"));
    await page.waitForSelector(`${$("graph-node")}[data-layer="0"]`);
    assert.equal(
      await page
        .locator(`${$("graph-node")}[data-layer="0"] text`)
        .first()
        .textContent(),
      `${evil[0].slice(0, 27)}…`,
    );
    // The unknown op is marked in its row and counted in the summary.
    const unknown = page.locator(`${$("layer-row")}.unknown`);
    assert.equal(await unknown.count(), 1);
    assert.match((await unknown.textContent())!, /unknown\s*FancyOp/);
    assert.match((await page.textContent($("summary")))!, /1 unknown/);
    const r = expected(path);
    assert.equal(r.totals.unknown_layers, 1);
    assert.deepEqual(await totals(page), totalsOf(r));
    assert.equal(dialogs, 0);
    await screenshot(page, "xss-unknown");
  });

  test("a corrupt file shows the error and the page keeps working", async () => {
    const bad = join(tmp, "broken.onnx");
    writeFileSync(bad, Buffer.concat([readFileSync(join(ONNX, "resnet18.onnx")).subarray(0, 3000), Buffer.from([0xff, 0xff, 0xff])]));
    let message = "";
    try {
      expected(bad);
    } catch (e) {
      message = (e as Error).message;
    }
    assert.ok(message, "the library rejects the truncated file too");
    await page.setInputFiles($("file-input"), bad);
    await page.waitForSelector(`${$("error")}:visible`);
    const shown = (await page.textContent($("error")))!;
    assert.ok(shown.includes("broken.onnx") && shown.includes(message), shown);
    await screenshot(page, "error");
    await loadFile(page, join(ONNX, "resnet18.onnx"));
    assert.equal(await page.isVisible($("error")), false);
    assert.deepEqual(await totals(page), totalsOf(expected(join(ONNX, "resnet18.onnx"))));
  });

  test("10,000 layers: the table stays virtual and scrolls to the end; the graph lays out a window", async () => {
    const path = join(tmp, "deep-10000.json");
    writeFileSync(path, deepSpec(10_000));
    await page.click($("tab-graph"));
    await loadFile(page, path);
    assert.equal((await totals(page)).layers, 10_000);
    const rows = page.locator($("layer-row"));
    assert.ok((await rows.count()) < 60);
    await page.locator(".viewport").evaluate((v) => {
      v.scrollTop = v.scrollHeight;
    });
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll('[data-testid="layer-row"]')).some((r) => r.getAttribute("data-index") === "9999"),
    );
    assert.ok((await rows.count()) < 60);
    await page.waitForFunction(
      () => /layout \d+ ms/.test(document.querySelector('[data-testid="graph-status"]')?.textContent ?? ""),
      null,
      {
        timeout: 60_000,
      },
    );
    const status = (await page.textContent($("graph-status")))!;
    // 2,500 conv–bn–relu blocks collapse to one box each, plus 2,500 adds and the input: 5,001 boxes, shown 500 at a time.
    assert.match(status, /boxes 1–500 of 5001, 10000 layers/);
    await screenshot(page, "deep-10000");
  });

  test("no request leaves the page after it has loaded", async () => {
    // Only the page itself, and blob: URLs — objects the page made in its own memory (the
    // layout worker's script, the SVG rasterised for PNG export), which never touch a network.
    assert.equal(s.requests[0], s.url);
    assert.deepEqual(
      s.requests.slice(1).filter((u) => !u.startsWith("blob:null/")),
      [],
    );
    assert.deepEqual(s.problems, []);
  });
});
