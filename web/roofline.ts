import { DEVICES, type Roofline, roofline } from "../src/analysis/roofline.js";
import type { Report } from "../src/core/report.js";
import { h, s } from "./dom.js";

const W = 760;
const H = 360;
const LEFT = 70;
const BOTTOM = 40;
const TOP = 16;
const RIGHT = 16;
const FONT = "system-ui, -apple-system, Segoe UI, sans-serif";
/** More layers than this: only the ones with the most FLOPs are drawn (the rest barely move the total). */
const MAX_POINTS = 3000;

/**
 * The roofline (src/analysis/roofline.ts) for a chosen device preset: log–log, arithmetic
 * intensity (FLOP per byte moved) across, attainable FLOP/s up; the two roofs meet at the
 * ridge; each layer is a point on the roof at its intensity (area ∝ its FLOPs), red when
 * compute-bound, blue when memory-bound. Clicking a point selects the layer.
 */
export class RooflineChart {
  readonly el: HTMLElement;
  private readonly body: HTMLElement;
  private readonly deviceSelect: HTMLSelectElement;
  private report?: Report;

  constructor(private readonly onSelect: (layer: number) => void) {
    this.deviceSelect = h(
      "select",
      { testid: "roofline-device", on: { change: () => this.draw() } },
      ...DEVICES.map((d) => h("option", { attrs: { value: d.name } }, d.label)),
    );
    this.body = h("div", {});
    this.el = h(
      "figure",
      { class: "chart", testid: "chart-roofline" },
      h("figcaption", {}, "Roofline (fp32, a lower bound per layer) on ", this.deviceSelect),
      this.body,
    );
  }

  setReport(r: Report): void {
    this.report = r;
    this.draw();
  }

  private draw(): void {
    const r = this.report;
    if (!r) return;
    const dev = DEVICES.find((d) => d.name === this.deviceSelect.value) ?? DEVICES[0];
    const rf = roofline(r, dev, "fp32");
    this.body.replaceChildren(this.svg(rf), h("p", { class: "roofline-note" }, this.note(rf)));
  }

  private note(rf: Roofline): string {
    const t = rf.total_time === null ? "unknown (some layer's size is unknown)" : `${(rf.total_time * 1e3).toFixed(3)} ms`;
    const mem = rf.layers.filter((l) => l.bound === "memory").length;
    const comp = rf.layers.filter((l) => l.bound === "compute").length;
    return `Estimated total ${t}; ${comp} layers compute-bound, ${mem} memory-bound; ridge at ${rf.ridge.toFixed(1)} FLOP/B. Source: ${rf.device.source}.`;
  }

  private svg(rf: Roofline): SVGSVGElement {
    const svg = s("svg", { xmlns: "http://www.w3.org/2000/svg", width: W, height: H, viewBox: `0 0 ${W} ${H}`, "font-family": FONT });
    svg.append(s("rect", { width: W, height: H, fill: "#ffffff" }));
    const pts = rf.layers
      .map((l, i) => ({ l, i }))
      .filter(({ l }) => l.intensity !== null && l.intensity > 0 && (l.flops ?? 0) > 0)
      .sort((a, b) => (b.l.flops as number) - (a.l.flops as number))
      .slice(0, MAX_POINTS);
    const xs = pts.map((p) => p.l.intensity as number);
    const xmin = 10 ** Math.floor(Math.log10(Math.min(rf.ridge / 10, ...xs)));
    const xmax = 10 ** Math.ceil(Math.log10(Math.max(rf.ridge * 10, ...xs)));
    const ymax = 10 ** Math.ceil(Math.log10(rf.peak));
    const ymin = 10 ** Math.floor(Math.log10(Math.min(rf.peak / 1e3, xmin * rf.bandwidth)));
    const px = (x: number) => LEFT + ((Math.log10(x) - Math.log10(xmin)) / (Math.log10(xmax) - Math.log10(xmin))) * (W - LEFT - RIGHT);
    const py = (y: number) => TOP + (1 - (Math.log10(y) - Math.log10(ymin)) / (Math.log10(ymax) - Math.log10(ymin))) * (H - TOP - BOTTOM);
    // Axes with decade ticks.
    for (let e = Math.log10(xmin); e <= Math.log10(xmax); e++) {
      const x = px(10 ** e);
      svg.append(
        s("line", { x1: x, x2: x, y1: TOP, y2: H - BOTTOM, stroke: "#eee" }),
        s("text", { x, y: H - BOTTOM + 14, "font-size": 10, fill: "#555", "text-anchor": "middle" }, `1e${e}`),
      );
    }
    for (let e = Math.log10(ymin); e <= Math.log10(ymax); e++) {
      const y = py(10 ** e);
      svg.append(
        s("line", { x1: LEFT, x2: W - RIGHT, y1: y, y2: y, stroke: "#eee" }),
        s("text", { x: LEFT - 6, y: y + 3, "font-size": 10, fill: "#555", "text-anchor": "end" }, `1e${e}`),
      );
    }
    svg.append(
      s(
        "text",
        { x: (LEFT + W - RIGHT) / 2, y: H - 6, "font-size": 11, fill: "#222", "text-anchor": "middle" },
        "arithmetic intensity (FLOP / byte moved)",
      ),
      s(
        "text",
        {
          x: 14,
          y: (TOP + H - BOTTOM) / 2,
          "font-size": 11,
          fill: "#222",
          "text-anchor": "middle",
          transform: `rotate(-90 14 ${(TOP + H - BOTTOM) / 2})`,
        },
        "FLOP/s",
      ),
    );
    // The roofs: bandwidth × intensity up to the ridge, then the peak.
    const roof = `M ${px(xmin)} ${py(xmin * rf.bandwidth)} L ${px(rf.ridge)} ${py(rf.peak)} L ${px(xmax)} ${py(rf.peak)}`;
    svg.append(s("path", { d: roof, fill: "none", stroke: "#222", "stroke-width": 2, "data-roof": "1" }));
    const total = pts.reduce((a, p) => a + (p.l.flops as number), 0) || 1;
    for (const { l, i } of pts) {
      const x = l.intensity as number;
      const y = Math.min(rf.peak, x * rf.bandwidth);
      const radius = Math.max(2, Math.sqrt((l.flops as number) / total) * 40);
      const c = s(
        "circle",
        {
          cx: px(x),
          cy: py(y),
          r: radius,
          fill: l.bound === "compute" ? "#e4572e" : "#3b7dd8",
          "fill-opacity": 0.55,
          stroke: "#333",
          "stroke-width": 0.5,
          "data-layer": i,
        },
        s("title", {}, `${l.name} (${l.op}): ${x.toFixed(1)} FLOP/B, ${l.bound}-bound, est. ${((l.time ?? 0) * 1e3).toFixed(4)} ms`),
      );
      c.addEventListener("click", () => this.onSelect(i));
      svg.append(c);
    }
    return svg;
  }
}
