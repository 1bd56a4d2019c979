import type { AnalyzeOptions } from "../src/analysis/index.js";
import { parseSweep, type SweepResult, sweep, sweepInput } from "../src/analysis/sweep.js";
import { ConvscopeError } from "../src/core/errors.js";
import type { Graph } from "../src/core/graph.js";
import { closedFormLines } from "../src/render/sweep.js";
import { png, svgText } from "./charts.js";
import { download, h, s } from "./dom.js";
import { bytes, compact, exact, fileStem } from "./format.js";

const W = 760;
const PANEL_H = 150;
const LEFT = 70;
const FONT = "system-ui, -apple-system, Segoe UI, sans-serif";

/**
 * Cost against input size (analysis/sweep.ts): the model analysed exactly at each size of
 * a sweep, as a table and a chart, with the closed forms in H and W checked against them.
 * It runs when asked (each size is a whole analysis).
 */
export class SizeView {
  readonly el: HTMLElement;
  private readonly spec: HTMLInputElement;
  private readonly body: HTMLElement;
  private graph?: Graph;
  private options: () => AnalyzeOptions = () => ({});

  constructor() {
    this.spec = h("input", {
      testid: "sweep-spec",
      attrs: { type: "text", size: 22, spellcheck: false, value: "S=128:1024:64", "aria-label": "sizes to sweep" },
    });
    const run = h("button", { testid: "sweep-run", on: { click: () => this.run() } }, "sweep");
    this.spec.addEventListener("keydown", (e) => {
      if (e.key === "Enter") this.run();
    });
    this.body = h("div", { class: "sweep-body" });
    this.el = h(
      "div",
      { class: "size-view", testid: "size-view" },
      h(
        "div",
        { class: "toolbar" },
        h("label", {}, "sizes ", this.spec),
        run,
        h("span", { class: "muted" }, " H=…, W=…, S=… (both), FROM:TO:STEP or a list"),
      ),
      this.body,
    );
  }

  setOptions(get: () => AnalyzeOptions): void {
    this.options = get;
  }

  setGraph(g: Graph): void {
    this.graph = g;
    this.body.replaceChildren(h("p", { class: "muted", testid: "sweep-idle" }, "Sweep the input size to see how compute and memory grow."));
  }

  setVisible(_v: boolean): void {}

  setReport(): void {}

  private run(): void {
    const g = this.graph;
    if (!g) return;
    try {
      const input = sweepInput(g);
      const specs = this.spec.value.trim().split(/\s+/).filter(Boolean);
      const opts = this.options();
      const r = sweep(g, parseSweep(specs, input), { convention: opts.convention, dtype: opts.dtype });
      this.show(g, r);
      document.body.dataset.sweeps = String(Number(document.body.dataset.sweeps ?? "0") + 1);
    } catch (e) {
      const msg = e instanceof ConvscopeError ? e.oneLine() : `internal error: ${(e as Error)?.message ?? String(e)}`;
      this.body.replaceChildren(h("div", { class: "error", testid: "sweep-error" }, msg));
    }
  }

  private show(g: Graph, r: SweepResult): void {
    const svg = this.chart(r);
    const stem = fileStem(g.name);
    const head = h("tr", {}, ...["H×W", "MACs", "FLOPs", "activations", "peak", "field coverage"].map((t) => h("th", {}, t)));
    const rows = r.points.map((p) =>
      h(
        "tr",
        { attrs: { "data-size": `${p.size[0]}x${p.size[1]}` } },
        h("td", {}, `${p.size[0]}×${p.size[1]}`),
        ...(p.error
          ? [h("td", { attrs: { colspan: 5 }, class: "muted" }, `cannot run: ${p.error}`)]
          : [
              h("td", { class: "num", attrs: { "data-value": p.macs ?? "" } }, exact(p.macs)),
              h("td", { class: "num" }, exact(p.flops)),
              h("td", { class: "num" }, bytes(p.activation_bytes)),
              h("td", { class: "num" }, bytes(p.peak_activation_bytes)),
              h("td", { class: "num" }, p.coverage ? p.coverage.map((c) => `${(100 * c).toFixed(1)}%`).join(" × ") : "?"),
            ]),
      ),
    );
    this.body.replaceChildren(
      h("ul", { class: "sweep-closed", testid: "sweep-closed" }, ...closedFormLines(r).map((l) => h("li", {}, l))),
      h(
        "figure",
        { class: "chart", testid: "sweep-chart" },
        h(
          "figcaption",
          {},
          "Cost against input size",
          h("button", { on: { click: () => download(`${stem}-sweep.svg`, new Blob([svgText(svg)], { type: "image/svg+xml" })) } }, "SVG"),
          h("button", { on: { click: () => void png(svg).then((b) => download(`${stem}-sweep.png`, b)) } }, "PNG"),
        ),
        svg,
      ),
      h("table", { class: "compare-table", testid: "sweep-table" }, h("thead", {}, head), h("tbody", {}, ...rows)),
    );
  }

  /** One panel per figure, against H·W (pixels), a dot per size. */
  private chart(r: SweepResult): SVGSVGElement {
    const series = [
      { label: "MACs", color: "#e4572e", get: (i: number) => r.points[i].macs, fmt: compact },
      { label: "activations (sum)", color: "#3aa17e", get: (i: number) => r.points[i].activation_bytes, fmt: bytes },
      { label: "peak activations", color: "#3b7dd8", get: (i: number) => r.points[i].peak_activation_bytes, fmt: bytes },
    ];
    const px = r.points.map((p) => p.size[0] * p.size[1]);
    const maxX = Math.max(1, ...px);
    const height = series.length * PANEL_H + 30;
    const svg = s("svg", { xmlns: "http://www.w3.org/2000/svg", width: W, height, viewBox: `0 0 ${W} ${height}`, "font-family": FONT });
    svg.append(s("rect", { width: W, height, fill: "#ffffff" }));
    const plotW = W - LEFT - 20;
    series.forEach((ser, k) => {
      const top = 10 + k * PANEL_H;
      const ph = PANEL_H - 40;
      const vals = r.points.map((_, i) => ser.get(i));
      const maxY = Math.max(1, ...vals.map((v) => v ?? 0));
      svg.append(
        s("text", { x: 4, y: top + 12, "font-size": 12, "font-weight": 600, fill: "#222" }, ser.label),
        s("text", { x: LEFT - 6, y: top + 26, "font-size": 10, fill: "#555", "text-anchor": "end" }, ser.fmt(maxY)),
        s("line", { x1: LEFT, x2: W - 20, y1: top + ph + 20, y2: top + ph + 20, stroke: "#999" }),
        s("line", { x1: LEFT, x2: LEFT, y1: top + 20, y2: top + ph + 20, stroke: "#999" }),
      );
      const pts = vals
        .map((v, i) => (v === null ? null : [LEFT + (px[i] / maxX) * plotW, top + ph + 20 - (v / maxY) * ph, i]))
        .filter((p): p is number[] => p !== null);
      if (pts.length > 1)
        svg.append(
          s("polyline", { points: pts.map(([x, y]) => `${x},${y}`).join(" "), fill: "none", stroke: ser.color, "stroke-width": 1.5 }),
        );
      for (const [x, y, i] of pts)
        svg.append(
          s(
            "circle",
            { cx: x, cy: y, r: 3, fill: ser.color, "data-point": i },
            s("title", {}, `${r.points[i].size.join("×")}: ${exact(vals[i])}`),
          ),
        );
    });
    svg.append(
      s("text", { x: LEFT, y: height - 6, "font-size": 10, fill: "#555" }, "0"),
      s("text", { x: W - 20, y: height - 6, "font-size": 10, fill: "#555", "text-anchor": "end" }, `${exact(maxX)} pixels (H·W)`),
    );
    return svg;
  }
}
