import { type CompareMetric, type Comparison, compareReports } from "../src/analysis/compare.js";
import { type AnalyzeOptions, analyze } from "../src/analysis/index.js";
import { ConvscopeError } from "../src/core/errors.js";
import type { Graph } from "../src/core/graph.js";
import type { Report } from "../src/core/report.js";
import { bufferSource, readModel } from "../src/formats/index.js";
import { COMPARE_RENDERERS } from "../src/render/compare.js";
import { ZOO } from "../src/zoo/index.js";
import { png, svgText } from "./charts.js";
import { download, h, s } from "./dom.js";
import { bytes, compact, exact } from "./format.js";

const W = 360;
const FONT = "system-ui, -apple-system, Segoe UI, sans-serif";
const COLORS = ["#3b7dd8", "#e4572e", "#3aa17e", "#f3a712", "#8e6cbd", "#29a3a3", "#d1495b", "#6c8ead"];

/**
 * Several models side by side (the CLI's `convscope compare`): the page's current model
 * first, then any files or zoo models added here, analysed with the page's options, each
 * read in the page like the first. A table and a bar chart per metric.
 */
export class CompareView {
  readonly el: HTMLElement;
  private readonly body: HTMLElement;
  private readonly error: HTMLElement;
  private current?: Report;
  /** Added models: their graph (kept, so a change of options re-analyses them) and label. */
  private readonly others: { graph: Graph; label: string }[] = [];
  private reports: Report[] = [];
  private visible = false;
  private options: () => AnalyzeOptions = () => ({});

  constructor() {
    const files = h("input", {
      testid: "compare-files",
      attrs: {
        type: "file",
        multiple: true,
        class: "visually-hidden",
        accept: ".onnx,.prototxt,.pbtxt,.json,.h5,.keras,.tflite,.bin,.txt",
      },
      on: { change: () => void this.addFiles([...(files.files ?? [])]).finally(() => (files.value = "")) },
    });
    const zoo = h(
      "select",
      {
        testid: "compare-zoo",
        attrs: { "aria-label": "add a zoo model to the comparison" },
        on: {
          change: () => {
            if (zoo.value) this.addZoo(zoo.value);
            zoo.value = "";
          },
        },
      },
      h("option", { attrs: { value: "" } }, "add zoo model…"),
      ...Object.keys(ZOO).map((name) => h("option", { attrs: { value: name } }, name)),
    );
    const clear = h(
      "button",
      {
        testid: "compare-clear",
        on: {
          click: () => {
            this.others.length = 0;
            this.rerun();
          },
        },
      },
      "clear",
    );
    const exports = (["md", "csv", "latex", "json"] as const).map((fmt) =>
      h(
        "button",
        {
          testid: `compare-export-${fmt}`,
          on: {
            click: () =>
              this.reports.length > 0 &&
              download(
                `comparison.${fmt === "latex" ? "tex" : fmt}`,
                new Blob([COMPARE_RENDERERS[fmt](this.comparison())], { type: "text/plain" }),
              ),
          },
        },
        fmt === "latex" ? "LaTeX" : fmt.toUpperCase(),
      ),
    );
    this.error = h("div", { class: "error", testid: "compare-error", attrs: { hidden: true } });
    this.body = h("div", { class: "compare-body" });
    this.el = h(
      "div",
      { class: "compare-view", testid: "compare-view" },
      h("div", { class: "toolbar" }, h("label", { class: "button" }, "add model files…", files), zoo, clear, ...exports),
      this.error,
      this.body,
    );
  }

  /** The page's options (convention, dtype, training), applied to every model compared. */
  setOptions(get: () => AnalyzeOptions): void {
    this.options = get;
  }

  setVisible(v: boolean): void {
    this.visible = v;
    this.draw();
  }

  setReport(r: Report): void {
    this.current = r;
    this.rerun();
  }

  private async addFiles(files: File[]): Promise<void> {
    for (const f of files) {
      try {
        const graph = readModel(bufferSource(f.name, new Uint8Array(await f.arrayBuffer())));
        this.others.push({ graph, label: f.name });
      } catch (e) {
        this.showError(e);
      }
    }
    this.rerun();
  }

  private addZoo(name: string): void {
    const z = ZOO[name];
    if (!z) return;
    this.others.push({ graph: z.build(), label: `zoo:${name}` });
    this.rerun();
  }

  private rerun(): void {
    const opts = this.options();
    this.error.hidden = true;
    const reports: Report[] = this.current ? [this.current] : [];
    for (const o of this.others) {
      try {
        // Each model keeps its own input shapes; convention, dtype and training follow the page.
        reports.push(analyze(o.graph, { convention: opts.convention, dtype: opts.dtype, training: opts.training }));
      } catch (e) {
        this.showError(e);
      }
    }
    this.reports = reports;
    this.drawn = undefined;
    this.draw();
  }

  private showError(e: unknown): void {
    this.error.hidden = false;
    this.error.textContent = e instanceof ConvscopeError ? e.oneLine() : `internal error: ${(e as Error)?.message ?? String(e)}`;
  }

  private comparison(): Comparison {
    const labels = [this.current?.model.name ?? "", ...this.others.map((o) => o.label)];
    return compareReports(this.reports, labels);
  }

  private drawn?: Report[];
  private draw(): void {
    if (!this.visible || this.drawn === this.reports) return;
    this.drawn = this.reports;
    if (this.reports.length < 2) {
      this.body.replaceChildren(
        h("p", { class: "muted", testid: "compare-empty" }, "Add model files or zoo models to compare them with this one, side by side."),
      );
      return;
    }
    const c = this.comparison();
    const head = h("tr", {}, h("th", {}, ""), ...c.models.map((m) => h("th", {}, m.label)));
    const rows = c.metrics.map((m) =>
      h(
        "tr",
        { attrs: { "data-metric": m.key } },
        h("th", {}, m.label),
        ...c.models.map((_, i) =>
          h(
            "td",
            { class: "num", attrs: { title: exact(m.values[i]) } },
            cell(m, i),
            i > 0 && m.ratios[i] !== null && m.key !== "input_pixels"
              ? h("span", { class: "muted" }, ` ×${(m.ratios[i] as number).toFixed(2)}`)
              : "",
          ),
        ),
      ),
    );
    const charts = c.metrics.filter((m) => m.key !== "input_pixels" && m.values.some((v) => v !== null)).map((m) => this.chart(c, m));
    this.body.replaceChildren(
      h("table", { class: "compare-table", testid: "compare-table" }, h("thead", {}, head), h("tbody", {}, ...rows)),
      h("div", { class: "compare-charts" }, ...charts),
      ...c.notes.map((n) => h("p", { class: "muted" }, n)),
    );
  }

  private chart(c: Comparison, m: CompareMetric): HTMLElement {
    const rowH = 22;
    const nameW = 120;
    const height = 28 + c.models.length * rowH;
    const svg = s("svg", { xmlns: "http://www.w3.org/2000/svg", width: W, height, viewBox: `0 0 ${W} ${height}`, "font-family": FONT });
    svg.append(
      s("rect", { width: W, height, fill: "#ffffff" }),
      s("text", { x: 4, y: 16, "font-size": 12, "font-weight": 600, fill: "#222" }, m.label),
    );
    const max = Math.max(1, ...m.values.map((v) => v ?? 0));
    c.models.forEach((model, i) => {
      const y = 26 + i * rowH;
      const v = m.values[i];
      const bw = v === null ? 0 : ((W - nameW - 80) * v) / max;
      svg.append(
        s(
          "text",
          { x: 4, y: y + 13, "font-size": 11, fill: "#222" },
          model.label.length > 18 ? `${model.label.slice(0, 17)}…` : model.label,
        ),
        s(
          "rect",
          { x: nameW, y: y + 3, width: Math.max(0, bw), height: 13, fill: COLORS[i % COLORS.length], "data-model": i },
          s("title", {}, exact(v)),
        ),
        s("text", { x: nameW + bw + 4, y: y + 13, "font-size": 10, fill: "#333" }, m.key === "rf" ? `${exact(v)} px` : cell(m, i)),
      );
    });
    const name = `compare-${m.key}`;
    return h(
      "figure",
      { class: "chart", testid: "compare-chart", attrs: { "data-metric": m.key } },
      h(
        "figcaption",
        {},
        m.label,
        h("button", { on: { click: () => download(`${name}.svg`, new Blob([svgText(svg)], { type: "image/svg+xml" })) } }, "SVG"),
        h("button", { on: { click: () => void png(svg).then((b) => download(`${name}.png`, b)) } }, "PNG"),
      ),
      svg,
    );
  }
}

function cell(m: CompareMetric, i: number): string {
  const t = m.text?.[i];
  if (t) return t;
  const v = m.values[i];
  return m.unit === "bytes" ? bytes(v) : compact(v);
}
