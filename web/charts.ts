import type { Report } from "../src/core/report.js";
import { download, h, s } from "./dom.js";
import { bytes, compact, exact, fileStem } from "./format.js";

const W = 760;
const PANEL_H = 120;
const LEFT = 64;
const FONT = "system-ui, -apple-system, Segoe UI, sans-serif";

interface Series {
  label: string;
  color: string;
  value: (i: number) => number | null;
  fmt: (n: number) => string;
}

/**
 * The charts: per-layer compute, parameters and activation memory (the seed article's
 * distribution figure: where the FLOPs are is not where the weights are), and each op
 * type's share. Plain SVG with presentation attributes, so an exported file looks the same
 * outside the page; PNG export rasterises that same SVG.
 */
export class Charts {
  readonly el: HTMLElement;
  private readonly body: HTMLElement;
  private report?: Report;
  private visible = false;
  private drawn?: Report;

  constructor(private readonly onSelect: (layer: number) => void) {
    this.body = h("div", { class: "charts" });
    this.el = h("div", { class: "charts-view" }, this.body);
  }

  setVisible(v: boolean): void {
    this.visible = v;
    this.draw();
  }

  setReport(r: Report): void {
    this.report = r;
    this.draw();
  }

  private draw(): void {
    const r = this.report;
    if (!r || !this.visible || this.drawn === r) return;
    this.drawn = r;
    const stem = fileStem(r.model.name);
    this.body.replaceChildren(
      this.figure(`${stem}-per-layer`, "Per layer", this.perLayer(r)),
      this.figure(`${stem}-by-op`, "Share by op type", this.byOp(r)),
    );
  }

  private figure(name: string, title: string, svg: SVGSVGElement): HTMLElement {
    return h(
      "figure",
      { class: "chart", testid: `chart-${name.endsWith("by-op") ? "by-op" : "per-layer"}` },
      h(
        "figcaption",
        {},
        title,
        h(
          "button",
          { testid: "export-svg", on: { click: () => download(`${name}.svg`, new Blob([svgText(svg)], { type: "image/svg+xml" })) } },
          "SVG",
        ),
        h("button", { testid: "export-png", on: { click: () => void png(svg).then((b) => download(`${name}.png`, b)) } }, "PNG"),
      ),
      svg,
    );
  }

  private perLayer(r: Report): SVGSVGElement {
    const n = r.layers.length;
    const series: Series[] = [
      { label: r.convention, color: "#e4572e", value: (i) => r.layers[i].value, fmt: compact },
      { label: "params", color: "#3b7dd8", value: (i) => r.layers[i].params, fmt: compact },
      { label: "activations", color: "#3aa17e", value: (i) => r.layers[i].activation_bytes, fmt: bytes },
    ];
    const plotW = W - LEFT - 10;
    // One bar per layer while they fit; otherwise each bar is the largest layer of its bin.
    const bins = Math.min(n, Math.floor(plotW / 2));
    const per = n / Math.max(1, bins);
    const barW = plotW / Math.max(1, bins);
    // Few layers: name each bar, as the seed article's figure does.
    const names = n <= 40;
    const height = series.length * PANEL_H + (names ? 90 : 40);
    const svg = s("svg", { xmlns: "http://www.w3.org/2000/svg", width: W, height, viewBox: `0 0 ${W} ${height}`, "font-family": FONT });
    svg.append(s("rect", { width: W, height, fill: "#ffffff" }));
    series.forEach((ser, k) => {
      const top = 10 + k * PANEL_H;
      const ph = PANEL_H - 30;
      const binMax: { v: number; i: number }[] = [];
      for (let b = 0; b < bins; b++) {
        let best = { v: 0, i: Math.floor(b * per) };
        for (let i = Math.floor(b * per); i < Math.min(n, Math.floor((b + 1) * per)); i++) {
          const v = ser.value(i) ?? 0;
          if (v > best.v) best = { v, i };
        }
        binMax.push(best);
      }
      const max = Math.max(1, ...binMax.map((x) => x.v));
      svg.append(
        s("text", { x: 4, y: top + 12, "font-size": 12, "font-weight": 600, fill: "#222" }, ser.label),
        s("text", { x: LEFT - 6, y: top + 26, "font-size": 10, fill: "#555", "text-anchor": "end" }, ser.fmt(max)),
        s("line", { x1: LEFT, x2: W - 10, y1: top + ph + 20, y2: top + ph + 20, stroke: "#999" }),
      );
      binMax.forEach((x, b) => {
        if (x.v <= 0) return;
        const bh = Math.max(1, (x.v / max) * ph);
        const rect = s(
          "rect",
          {
            x: LEFT + b * barW,
            y: top + ph + 20 - bh,
            width: Math.max(1, barW - (barW > 3 ? 1 : 0)),
            height: bh,
            fill: ser.color,
            "data-layer": x.i,
          },
          s("title", {}, `${r.layers[x.i].name} (${r.layers[x.i].op}): ${exact(x.v)}`),
        );
        rect.addEventListener("click", () => this.onSelect(x.i));
        svg.append(rect);
      });
    });
    if (names) {
      const base = 14 + series.length * PANEL_H;
      r.layers.forEach((l, i) => {
        const x = LEFT + (i + 0.5) * barW;
        const label = l.name.length > 14 ? `${l.name.slice(0, 13)}…` : l.name;
        svg.append(
          s("text", { x, y: base, "font-size": 9, fill: "#444", "text-anchor": "end", transform: `rotate(-55 ${x} ${base})` }, label),
        );
      });
    }
    if (!names)
      svg.append(
        s("text", { x: LEFT, y: height - 8, "font-size": 10, fill: "#555" }, `layer 1`),
        s(
          "text",
          { x: W - 10, y: height - 8, "font-size": 10, fill: "#555", "text-anchor": "end" },
          `layer ${n}${bins < n ? ` (largest per ${per.toFixed(1)} layers)` : ""}`,
        ),
      );
    return svg;
  }

  private byOp(r: Report): SVGSVGElement {
    const agg = new Map<string, { value: number; params: number; act: number; count: number }>();
    for (const l of r.layers) {
      const a = agg.get(l.op) ?? { value: 0, params: 0, act: 0, count: 0 };
      a.value += l.value ?? 0;
      a.params += l.params ?? 0;
      a.act += l.activation_bytes ?? 0;
      a.count++;
      agg.set(l.op, a);
    }
    const totals = { value: 0, params: 0, act: 0 };
    for (const a of agg.values()) {
      totals.value += a.value;
      totals.params += a.params;
      totals.act += a.act;
    }
    const rows = [...agg.entries()]
      .sort((a, b) => b[1].value - a[1].value || b[1].params - a[1].params || b[1].act - a[1].act)
      .slice(0, 14);
    const rowH = 22;
    const nameW = 150;
    const colW = (W - nameW - 20) / 3;
    const height = 40 + rows.length * rowH;
    const svg = s("svg", { xmlns: "http://www.w3.org/2000/svg", width: W, height, viewBox: `0 0 ${W} ${height}`, "font-family": FONT });
    svg.append(s("rect", { width: W, height, fill: "#ffffff" }));
    // A null total: the shares are of the counted layers only, and the label says so.
    const part = (n: number | null) => (n === null ? " (of counted)" : "");
    const t = r.totals;
    const cols = [
      { key: "value" as const, label: `${r.convention} share${part(t.value)}`, color: "#e4572e" },
      { key: "params" as const, label: `params share${part(t.params)}`, color: "#3b7dd8" },
      { key: "act" as const, label: `activation share${part(t.activation_bytes)}`, color: "#3aa17e" },
    ];
    cols.forEach((c, k) => {
      svg.append(s("text", { x: nameW + k * colW, y: 16, "font-size": 11, "font-weight": 600, fill: "#222" }, c.label));
    });
    rows.forEach(([op, a], i) => {
      const y = 30 + i * rowH;
      svg.append(
        s("text", { x: 4, y: y + 13, "font-size": 11, fill: "#222" }, `${op.length > 20 ? `${op.slice(0, 19)}…` : op} ×${a.count}`),
      );
      cols.forEach((c, k) => {
        const frac = totals[c.key] > 0 ? a[c.key] / totals[c.key] : 0;
        const x = nameW + k * colW;
        svg.append(
          s("rect", { x, y: y + 3, width: colW - 60, height: 12, fill: "#eef0f4" }),
          s("rect", { x, y: y + 3, width: Math.max(0, (colW - 60) * frac), height: 12, fill: c.color }),
          s("text", { x: x + colW - 56, y: y + 13, "font-size": 10, fill: "#333" }, `${(100 * frac).toFixed(1)}%`),
        );
      });
    });
    return svg;
  }
}

export function svgText(svg: SVGSVGElement): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(svg)}`;
}

/** Rasterises an SVG at 2× (through a blob: image, which the CSP allows). */
export async function png(svg: SVGSVGElement): Promise<Blob> {
  const url = URL.createObjectURL(new Blob([svgText(svg)], { type: "image/svg+xml" }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const c = document.createElement("canvas");
    const w = Number(svg.getAttribute("width"));
    const hh = Number(svg.getAttribute("height"));
    c.width = w * 2;
    c.height = hh * 2;
    const g = c.getContext("2d")!;
    g.scale(2, 2);
    g.drawImage(img, 0, 0, w, hh);
    return await new Promise<Blob>((res, rej) => c.toBlob((b) => (b ? res(b) : rej(new Error("PNG encoding failed"))), "image/png"));
  } finally {
    URL.revokeObjectURL(url);
  }
}
