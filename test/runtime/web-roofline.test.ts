import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { DEVICES, roofline } from "../../src/analysis/roofline.js";
import { ZOO } from "../../src/zoo/index.js";
import { openPage, type Session, SKIP } from "../web/browser.js";

const $ = (id: string) => `[data-testid="${id}"]`;

describe("the page's roofline chart", { skip: SKIP }, () => {
  let s: Session;
  before(async () => {
    s = await openPage();
  });
  after(async () => {
    await s?.close();
  });

  test("zoo ResNet-18: one point per layer with FLOPs, the library's estimate for each device", async () => {
    const { page } = s;
    const n = await page.evaluate(() => Number(document.body.dataset.analyses ?? "0"));
    await page.selectOption($("zoo-select"), "resnet18");
    await page.waitForFunction((n) => Number(document.body.dataset.analyses ?? "0") > n, n);
    await page.click($("tab-charts"));
    const r = analyze(ZOO.resnet18.build());
    for (const name of ["a100", "rpi5"]) {
      await page.selectOption($("roofline-device"), name);
      const rf = roofline(r, DEVICES.find((d) => d.name === name) ?? assert.fail(), "fp32");
      const points = rf.layers.filter((l) => (l.intensity ?? 0) > 0 && (l.flops ?? 0) > 0);
      assert.equal(await page.locator(`${$("chart-roofline")} circle`).count(), points.length);
      const memory = points.filter((l) => l.bound === "memory").length;
      assert.equal(await page.locator(`${$("chart-roofline")} circle[fill="#3b7dd8"]`).count(), memory);
      const note = (await page.textContent(`${$("chart-roofline")} .roofline-note`)) ?? "";
      assert.ok(note.includes(`Estimated total ${((rf.total_time as number) * 1e3).toFixed(3)} ms`), note);
    }
    assert.deepEqual(s.problems, []);
  });
});
