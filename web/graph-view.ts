import workerSource from "elk-worker-source";
import ElkModule, { type ELKConstructorArguments, type ELK as ElkApi, type ElkNode } from "elkjs/lib/elk-api.js";
import type { Report } from "../src/core/report.js";
import { h, s } from "./dom.js";
import { compact, exact } from "./format.js";
import { type BoxGraph, boxGraph, MAX_LAID_OUT, windowOf } from "./graph-model.js";

const BOX_H = 36;
const MAX_LABEL = 28;

/** The API class (a CommonJS default export, which the bundler unwraps). */
const ELK = ElkModule as unknown as new (args: ELKConstructorArguments) => ElkApi;
let elk: ElkApi | undefined;
let workerUrl: string | undefined;
/** One ELK instance, its layout running in a Web Worker started from the inlined source. */
function layoutEngine(): ElkApi {
  if (!elk) {
    workerUrl ??= URL.createObjectURL(new Blob([workerSource], { type: "text/javascript" }));
    const url = workerUrl;
    elk = new ELK({ workerFactory: () => new Worker(url) });
  }
  return elk;
}

const clip = (t: string) => (t.length > MAX_LABEL ? `${t.slice(0, MAX_LABEL - 1)}…` : t);

interface Placed {
  graph: BoxGraph;
  /** Layer names joined: the layout is reused while the structure is the same. */
  key: string;
  nodes: Map<string, { x: number; y: number; w: number; h: number }>;
  edges: { points: { x: number; y: number }[] }[];
  width: number;
  height: number;
}

/**
 * The network as a DAG, laid out by ELK (layered, top to bottom) in a worker so a big
 * model never freezes the page. Laid out only when shown; clicking a box selects its
 * first layer, and selecting a layer elsewhere highlights and centres its box.
 */
export class GraphView {
  readonly el: HTMLElement;
  private readonly svg: SVGSVGElement;
  private readonly status: HTMLElement;
  private report?: Report;
  private placed?: Placed;
  private pending?: string;
  /** The whole box graph of the current structure; laid out whole, or window by window when large. */
  private full?: { key: string; graph: BoxGraph };
  private windowStart = 0;
  private readonly earlier: HTMLButtonElement;
  private readonly later: HTMLButtonElement;
  private visible = false;
  private selected = -1;
  private view = { x: 0, y: 0, w: 100, h: 100 };
  private boxEls = new Map<string, SVGGElement>();
  private layerBox = new Map<number, string>();

  constructor(private readonly onSelect: (layer: number) => void) {
    this.svg = s("svg", { class: "graph", "data-testid": "graph-svg", role: "img", "aria-label": "network graph" });
    this.status = h("span", { class: "muted", testid: "graph-status" });
    const move = (dir: number) => {
      this.windowStart = Math.max(0, this.windowStart + (dir * MAX_LAID_OUT) / 2);
      void this.ensureLayout();
    };
    this.earlier = h("button", { testid: "graph-earlier", attrs: { hidden: true }, on: { click: () => move(-1) } }, "◀ earlier");
    this.later = h("button", { testid: "graph-later", attrs: { hidden: true }, on: { click: () => move(1) } }, "later ▶");
    this.el = h(
      "div",
      { class: "graph-view" },
      h(
        "div",
        { class: "toolbar" },
        h("button", { on: { click: () => this.fit() } }, "fit"),
        h("button", { on: { click: () => this.zoom(0.8) } }, "+"),
        h("button", { on: { click: () => this.zoom(1.25) } }, "−"),
        this.earlier,
        this.later,
        this.status,
      ),
      this.svg,
    );
    this.panZoom();
  }

  setVisible(v: boolean): void {
    this.visible = v;
    if (v) this.ensureLayout();
  }

  setReport(r: Report): void {
    this.report = r;
    if (this.full?.key === structureKey(r) && this.placed) this.draw();
    else {
      // Another network: never leave the previous one's drawing up while this one is laid out.
      this.placed = undefined;
      this.svg.replaceChildren();
      this.status.textContent = "";
      if (this.visible) void this.ensureLayout();
    }
  }

  select(layer: number): void {
    this.selected = layer;
    const boxes = this.full?.graph.boxes;
    if (boxes && boxes.length > MAX_LAID_OUT && layer >= 0) {
      // A layer outside the laid-out window: move the window there, lay it out, then highlight.
      const at = boxes.findIndex((b) => b.layers.includes(layer));
      const w = windowOf(this.full!.graph, this.windowStart);
      if (at >= 0 && (at < w.start || at >= w.end)) {
        this.windowStart = at - MAX_LAID_OUT / 2;
        void this.ensureLayout();
        return;
      }
    }
    this.highlight(true);
  }

  private async ensureLayout(): Promise<void> {
    const r = this.report;
    if (!r) return;
    const skey = structureKey(r);
    if (this.full?.key !== skey) {
      this.full = { key: skey, graph: boxGraph(r) };
      this.windowStart = 0;
    }
    const whole = this.full.graph;
    const windowed = whole.boxes.length > MAX_LAID_OUT;
    const graph = windowed ? windowOf(whole, this.windowStart) : whole;
    if (windowed) this.windowStart = (graph as ReturnType<typeof windowOf>).start;
    const key = `${skey}\u0001${this.windowStart}`;
    if (this.placed?.key === key || this.pending === key) return;
    if (this.pending) {
      // A layout nobody will look at: stop its worker rather than queue behind it.
      elk?.terminateWorker();
      elk = undefined;
    }
    this.pending = key;
    this.earlier.hidden = !windowed || this.windowStart === 0;
    this.later.hidden = !windowed || this.windowStart + graph.boxes.length >= whole.boxes.length;
    this.status.textContent = `laying out ${graph.boxes.length} boxes…`;
    const t0 = performance.now();
    const root: ElkNode = {
      id: "root",
      layoutOptions: {
        "elk.algorithm": "layered",
        "elk.direction": "DOWN",
        "elk.spacing.nodeNode": "14",
        "elk.layered.spacing.nodeNodeBetweenLayers": "26",
        "elk.edgeRouting": graph.boxes.length > 600 ? "POLYLINE" : "ORTHOGONAL",
        "elk.layered.thoroughness": graph.boxes.length > 600 ? "1" : "7",
      },
      children: graph.boxes.map((b) => ({ id: b.id, width: boxWidth(b.label, b.ops), height: BOX_H })),
      edges: graph.edges.map(([a, b], i) => ({ id: `e${i}`, sources: [a], targets: [b] })),
    };
    try {
      const out = await layoutEngine().layout(root);
      if (this.pending !== key) return; // a newer model arrived meanwhile
      const nodes = new Map((out.children ?? []).map((c) => [c.id, { x: c.x ?? 0, y: c.y ?? 0, w: c.width ?? 0, h: c.height ?? 0 }]));
      const edges = (out.edges ?? []).map((e) => ({
        points: (e.sections ?? []).flatMap((sec) => [sec.startPoint, ...(sec.bendPoints ?? []), sec.endPoint]),
      }));
      this.placed = { graph, key, nodes, edges, width: out.width ?? 100, height: out.height ?? 100 };
      this.pending = undefined;
      const note =
        graph.collapsed === "none"
          ? ""
          : graph.collapsed === "conv-chains"
            ? " · Conv–BN–activation chains collapsed"
            : " · linear chains collapsed";
      const range = windowed
        ? `boxes ${this.windowStart + 1}–${this.windowStart + graph.boxes.length} of ${whole.boxes.length}`
        : `${graph.boxes.length} boxes`;
      this.status.textContent = `${range}, ${r.layers.length} layers · layout ${Math.round(performance.now() - t0)} ms${note}`;
      this.draw();
      this.fit();
      this.highlight(true);
    } catch (e) {
      if (this.pending !== key) return;
      this.pending = undefined;
      this.status.textContent = `layout failed: ${(e as Error)?.message ?? String(e)}`;
    }
  }

  private draw(): void {
    const p = this.placed;
    const r = this.report;
    if (!p || !r) return;
    const total = r.totals.value ?? 0;
    const edgeLayer = s("g", { fill: "none", stroke: "#8a93a6", "stroke-width": 1.2 });
    for (const e of p.edges) {
      if (e.points.length < 2) continue;
      edgeLayer.append(s("polyline", { points: e.points.map((q) => `${q.x},${q.y}`).join(" "), "marker-end": "url(#arrow)" }));
    }
    const nodeLayer = s("g", {});
    this.boxEls.clear();
    this.layerBox.clear();
    for (const b of p.graph.boxes) {
      const pos = p.nodes.get(b.id);
      if (!pos) continue;
      for (const l of b.layers) this.layerBox.set(l, b.id);
      let value = 0;
      let params = 0;
      let unknown = false;
      for (const l of b.layers) {
        value += r.layers[l].value ?? 0;
        params += r.layers[l].params ?? 0;
        unknown ||= r.layers[l].status === "unknown";
      }
      const heat = total > 0 ? Math.min(1, Math.sqrt(value / total) * 1.5) : 0;
      const g = s(
        "g",
        {
          transform: `translate(${pos.x},${pos.y})`,
          "data-testid": "graph-node",
          "data-box": b.id,
          "data-layer": b.layers[0] ?? "",
          class: "node",
        },
        s("title", {}, `${b.label}\n${b.ops}${b.layers.length ? `\nparams ${exact(params)}\n${r.convention} ${exact(value)}` : ""}`),
        s("rect", {
          width: pos.w,
          height: pos.h,
          rx: b.layers.length ? 5 : 14,
          fill: b.layers.length ? mix(heat) : "#dfe8f5",
          stroke: unknown ? "#d43d3d" : "#4a5468",
          "stroke-width": unknown ? 2 : 1,
          "stroke-dasharray": unknown ? "4 3" : undefined,
        }),
        s("text", { x: 8, y: 15, "font-size": 11, "font-weight": 600, fill: "#1b2030" }, clip(b.label)),
        s(
          "text",
          { x: 8, y: 29, "font-size": 10, fill: "#4a5468" },
          clip(b.layers.length ? b.ops + (value ? ` · ${compact(value)}` : "") : inputLabel(r, b.label)),
        ),
      );
      g.addEventListener("click", (e) => {
        e.stopPropagation();
        if (b.layers.length) this.onSelect(b.layers[0]);
      });
      this.boxEls.set(b.id, g);
      nodeLayer.append(g);
    }
    const defs = s(
      "defs",
      {},
      s(
        "marker",
        { id: "arrow", viewBox: "0 0 8 8", refX: 8, refY: 4, markerWidth: 6, markerHeight: 6, orient: "auto" },
        s("path", { d: "M0,0 L8,4 L0,8 z", fill: "#8a93a6" }),
      ),
    );
    this.svg.replaceChildren(defs, edgeLayer, nodeLayer);
    this.highlight(false);
  }

  private highlight(center: boolean): void {
    for (const g of this.svg.querySelectorAll(".node.selected")) g.classList.remove("selected");
    const id = this.layerBox.get(this.selected);
    const g = id ? this.boxEls.get(id) : undefined;
    if (!g) return;
    g.classList.add("selected");
    const pos = this.placed?.nodes.get(id!);
    if (center && pos) {
      const inView =
        pos.x >= this.view.x &&
        pos.y >= this.view.y &&
        pos.x + pos.w <= this.view.x + this.view.w &&
        pos.y + pos.h <= this.view.y + this.view.h;
      if (!inView) {
        this.view.x = pos.x + pos.w / 2 - this.view.w / 2;
        this.view.y = pos.y + pos.h / 2 - this.view.h / 2;
        this.applyView();
      }
    }
  }

  /** Shows the whole graph when it stays legible; otherwise fits the width at the top (drag to scroll). */
  private fit(): void {
    const p = this.placed;
    if (!p) return;
    const box = this.svg.getBoundingClientRect();
    const bw = box.width || 600;
    const bh = box.height || 600;
    const gw = p.width + 20;
    const gh = p.height + 20;
    let scale = Math.min(bw / gw, bh / gh, 1.1);
    if (scale < 0.3) scale = Math.min(bw / gw, 1.1);
    const w = bw / scale;
    this.view = { x: -10 - (w - gw) / 2, y: -10, w, h: bh / scale };
    this.applyView();
  }

  private zoom(f: number, cx = this.view.x + this.view.w / 2, cy = this.view.y + this.view.h / 2): void {
    const v = this.view;
    this.view = { x: cx - (cx - v.x) * f, y: cy - (cy - v.y) * f, w: v.w * f, h: v.h * f };
    this.applyView();
  }

  private applyView(): void {
    const v = this.view;
    this.svg.setAttribute("viewBox", `${v.x} ${v.y} ${v.w} ${v.h}`);
  }

  private panZoom(): void {
    let drag: { x: number; y: number; vx: number; vy: number } | undefined;
    const toGraph = (e: { clientX: number; clientY: number }) => {
      const b = this.svg.getBoundingClientRect();
      return {
        x: this.view.x + ((e.clientX - b.left) / b.width) * this.view.w,
        y: this.view.y + ((e.clientY - b.top) / b.height) * this.view.h,
      };
    };
    this.svg.addEventListener(
      "wheel",
      (e) => {
        e.preventDefault();
        const p = toGraph(e);
        this.zoom(e.deltaY > 0 ? 1.15 : 1 / 1.15, p.x, p.y);
      },
      { passive: false },
    );
    this.svg.addEventListener("pointerdown", (e) => {
      if ((e.target as Element).closest(".node")) return;
      drag = { x: e.clientX, y: e.clientY, vx: this.view.x, vy: this.view.y };
      this.svg.setPointerCapture(e.pointerId);
    });
    this.svg.addEventListener("pointermove", (e) => {
      if (!drag) return;
      const b = this.svg.getBoundingClientRect();
      this.view.x = drag.vx - ((e.clientX - drag.x) / b.width) * this.view.w;
      this.view.y = drag.vy - ((e.clientY - drag.y) / b.height) * this.view.h;
      this.applyView();
    });
    this.svg.addEventListener("pointerup", () => {
      drag = undefined;
    });
  }
}

/** A graph input's box text, from the current report (the input shape is a control). */
function inputLabel(r: Report, name: string): string {
  return `input ${r.inputs.find((i) => i.name === name)?.shape.join("×") ?? ""}`;
}

function structureKey(r: Report): string {
  return `${r.model.name}\u0000${r.layers.length}\u0000${r.layers.map((l) => l.name).join("\u0000")}`;
}

function boxWidth(label: string, ops: string): number {
  return Math.max(70, Math.min(MAX_LABEL, Math.max(label.length, ops.length + 8)) * 6.6 + 18);
}

/** Pale to orange with the box's share of the chosen count. */
function mix(t: number): string {
  const a = [244, 246, 251];
  const b = [255, 138, 91];
  return `rgb(${a.map((v, i) => Math.round(v + (b[i] - v) * t)).join(",")})`;
}
