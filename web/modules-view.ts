import { type TreeRow, treeRows } from "../src/analysis/modules.js";
import type { ModuleReport, Report } from "../src/core/report.js";
import { png, svgText } from "./charts.js";
import { download, h, s } from "./dom.js";
import { bytes, compact, exact, fieldShort, fileStem, firstOutput, share } from "./format.js";

const W = 760;
const H = 420;
const FONT = "system-ui, -apple-system, Segoe UI, sans-serif";
const COLORS = ["#e4572e", "#3b7dd8", "#3aa17e", "#f3a712", "#8e6cbd", "#29a3a3", "#d1495b", "#6c8ead", "#a0a83b", "#c26d3a"];

type Metric = "value" | "params" | "activation_bytes";

/** One node of the page's tree: a module or a layer, with its rows below. */
interface TreeNode {
  row: TreeRow;
  children: TreeNode[];
}

/**
 * The module tree (analysis/modules.ts) as a collapsible table and a treemap of the top
 * level by compute, parameters or activation memory; a treemap cell opens its module in the
 * table and selects its first layer. The treemap is plain SVG, exported like the charts.
 */
export class ModulesView {
  readonly el: HTMLElement;
  private readonly body: HTMLElement;
  private readonly metric: HTMLSelectElement;
  private report?: Report;
  private visible = false;
  private drawn?: string;
  private readonly open = new Set<string>();

  constructor(private readonly onSelect: (layer: number) => void) {
    this.metric = h(
      "select",
      { testid: "treemap-metric", attrs: { "aria-label": "treemap metric" }, on: { change: () => this.draw(true) } },
      h("option", { attrs: { value: "value" } }, "compute"),
      h("option", { attrs: { value: "params" } }, "parameters"),
      h("option", { attrs: { value: "activation_bytes" } }, "activation memory"),
    );
    this.body = h("div", { class: "modules" });
    this.el = h("div", { class: "modules-view", testid: "modules-view" }, this.body);
  }

  setVisible(v: boolean): void {
    this.visible = v;
    this.draw();
  }

  setReport(r: Report): void {
    this.report = r;
    this.open.clear();
    this.draw(true);
  }

  private draw(force = false): void {
    const r = this.report;
    if (!r || !this.visible) return;
    const key = `${r.model.name}:${this.metric.value}:${[...this.open].join(",")}`;
    if (!force && this.drawn === key) return;
    this.drawn = key;
    if (!r.modules || r.modules.length === 0) {
      this.body.replaceChildren(
        h("p", { class: "muted", testid: "modules-none" }, "This model's layer names carry no module hierarchy: every layer is top level."),
      );
      return;
    }
    const svg = this.treemap(r, this.metric.value as Metric);
    const stem = fileStem(r.model.name);
    this.body.replaceChildren(
      h(
        "figure",
        { class: "chart", testid: "chart-treemap" },
        h(
          "figcaption",
          {},
          "Modules by ",
          this.metric,
          h(
            "button",
            {
              testid: "export-treemap-svg",
              on: { click: () => download(`${stem}-treemap.svg`, new Blob([svgText(svg)], { type: "image/svg+xml" })) },
            },
            "SVG",
          ),
          h(
            "button",
            { testid: "export-treemap-png", on: { click: () => void png(svg).then((b) => download(`${stem}-treemap.png`, b)) } },
            "PNG",
          ),
        ),
        svg,
      ),
      this.table(r),
    );
  }

  /** The top-level rows: depth-1 modules and layers outside every module. */
  private top(r: Report): TreeRow[] {
    return treeRows(r, 1);
  }

  private value(r: Report, row: TreeRow, m: Metric): number {
    const x = row.kind === "module" ? (r.modules as ModuleReport[])[row.index] : r.layers[row.index];
    return x[m] ?? 0;
  }

  private treemap(r: Report, m: Metric): SVGSVGElement {
    const rows = this.top(r)
      .map((row) => ({ row, v: this.value(r, row, m) }))
      .filter((x) => x.v > 0);
    const svg = s("svg", {
      xmlns: "http://www.w3.org/2000/svg",
      width: W,
      height: H,
      viewBox: `0 0 ${W} ${H}`,
      "font-family": FONT,
      "data-testid": "treemap",
    });
    svg.append(s("rect", { width: W, height: H, fill: "#ffffff" }));
    const total = rows.reduce((a, x) => a + x.v, 0);
    const fmt = m === "activation_bytes" ? bytes : compact;
    squarify(
      rows.map((x) => x.v),
      { x: 0, y: 0, w: W, h: H },
    ).forEach((cell, k) => {
      const { row, v } = rows[k];
      const label = row.kind === "module" ? (r.modules as ModuleReport[])[row.index].name : r.layers[row.index].name;
      const g = s("g", { "data-module": row.name, "data-kind": row.kind, class: "treemap-cell" });
      g.append(
        s(
          "rect",
          {
            x: cell.x + 1,
            y: cell.y + 1,
            width: Math.max(0, cell.w - 2),
            height: Math.max(0, cell.h - 2),
            fill: COLORS[k % COLORS.length],
            "fill-opacity": 0.85,
          },
          s("title", {}, `${row.name}: ${exact(v)} (${((100 * v) / total).toFixed(1)}%)`),
        ),
      );
      if (cell.w > 40 && cell.h > 18)
        g.append(
          s(
            "text",
            { x: cell.x + 5, y: cell.y + 15, "font-size": 12, fill: "#fff", "font-weight": 600, "pointer-events": "none" },
            label.length > cell.w / 7 ? `${label.slice(0, Math.max(1, Math.floor(cell.w / 7) - 1))}…` : label,
          ),
        );
      if (cell.w > 50 && cell.h > 34)
        g.append(
          s(
            "text",
            { x: cell.x + 5, y: cell.y + 30, "font-size": 10, fill: "#fff", "pointer-events": "none" },
            `${fmt(v)} · ${((100 * v) / total).toFixed(1)}%`,
          ),
        );
      g.addEventListener("click", () => this.reveal(r, row));
      svg.append(g);
    });
    return svg;
  }

  /** Opens a module's row in the table and selects its first layer. */
  private reveal(r: Report, row: TreeRow): void {
    if (row.kind === "module") {
      const m = (r.modules as ModuleReport[])[row.index];
      this.open.add(m.path);
      this.draw(true);
      this.body.querySelector(`[data-path="${CSS.escape(m.path)}"]`)?.scrollIntoView({ block: "nearest" });
      if (m.first !== undefined) this.onSelect(m.first);
    } else this.onSelect(row.index);
  }

  private table(r: Report): HTMLElement {
    const mods = r.modules as ModuleReport[];
    const nodes = buildTree(r, mods);
    const head = h(
      "tr",
      {},
      ...["module / layer", "type", "layers", "params", r.convention, "activations", "share", "rf r/S"].map((t) => h("th", {}, t)),
    );
    const body = h("tbody", {});
    const add = (n: TreeNode) => {
      const { row } = n;
      const isMod = row.kind === "module";
      const m = isMod ? mods[row.index] : undefined;
      const l = isMod ? undefined : r.layers[row.index];
      const open = isMod && this.open.has(row.name);
      // A layer under a module shows the rest of its name (`conv1` of `layer1.0.conv1`).
      const owner = row.depth > 1 ? mods.find((x) => x.own_layers.includes(row.index)) : undefined;
      const full = l?.name ?? "";
      const name = m ? m.name : owner && full.startsWith(`${owner.path}.`) ? full.slice(owner.path.length + 1) : full;
      const toggle = isMod
        ? h(
            "button",
            {
              class: "tree-toggle",
              testid: "tree-toggle",
              attrs: { "aria-expanded": String(open), "aria-label": `${open ? "collapse" : "expand"} ${row.name}` },
              on: {
                click: (e) => {
                  e.stopPropagation();
                  if (this.open.has(row.name)) this.open.delete(row.name);
                  else this.open.add(row.name);
                  this.draw(true);
                },
              },
            },
            open ? "▾" : "▸",
          )
        : h("span", { class: "tree-leaf" }, "·");
      const x = m ?? l;
      const tr = h(
        "tr",
        {
          class: isMod ? "tree-module" : "tree-layer",
          testid: isMod ? "tree-module" : "tree-layer",
          attrs: { "data-path": row.name, "data-depth": row.depth },
          on: { click: () => (isMod ? m?.first !== undefined && this.onSelect(m.first) : this.onSelect(row.index)) },
        },
        h("td", { class: `tree-name depth-${Math.min(row.depth, 8)}` }, toggle, " ", name),
        h("td", {}, m ? (m.type ?? "") : (l?.op ?? "")),
        h("td", { class: "num" }, m ? m.layers : 1),
        h("td", { class: "num" }, x?.params ? compact(x.params) : ""),
        h("td", { class: "num" }, x?.value ? compact(x.value) : x?.value === null ? "?" : ""),
        h("td", { class: "num" }, x?.activation_bytes ? bytes(x.activation_bytes) : ""),
        h("td", { class: "num" }, share(x?.value ?? null, r.totals.value)),
        h("td", {}, fieldShort(m ? m.rf : l ? firstOutput(r, l)?.rf : undefined)),
      );
      tr.querySelector("td")?.setAttribute("data-indent", String(row.depth - 1));
      const first = tr.querySelector("td") as HTMLElement;
      first.style.paddingLeft = `${(row.depth - 1) * 16 + 4}px`;
      body.append(tr);
      if (open) for (const c of n.children) add(c);
    };
    for (const n of nodes) add(n);
    return h("table", { class: "module-tree", testid: "module-tree" }, h("thead", {}, head), body);
  }
}

/** The whole tree (every depth), in execution order. */
function buildTree(r: Report, mods: ModuleReport[]): TreeNode[] {
  const all = treeRows(r, Number.POSITIVE_INFINITY);
  const root: TreeNode[] = [];
  const stack: TreeNode[] = [];
  for (const row of all) {
    const node: TreeNode = { row, children: [] };
    while (stack.length > 0 && stack[stack.length - 1].row.depth >= row.depth) stack.pop();
    (stack.length > 0 ? stack[stack.length - 1].children : root).push(node);
    if (row.kind === "module") stack.push(node);
  }
  void mods;
  return root;
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Squarified treemap (Bruls, Huizing, van Wijk 2000): cells in input order, sizes ∝ values. */
export function squarify(values: number[], box: Box): Box[] {
  const total = values.reduce((a, b) => a + b, 0);
  const out: Box[] = new Array(values.length);
  if (total <= 0) return values.map(() => ({ x: box.x, y: box.y, w: 0, h: 0 }));
  // Largest first for good aspect ratios; the cells keep their input index.
  const order = values.map((v, i) => i).sort((a, b) => values[b] - values[a]);
  const scale = (box.w * box.h) / total;
  let rest = { ...box };
  let i = 0;
  while (i < order.length) {
    const side = Math.min(rest.w, rest.h);
    const row: number[] = [order[i]];
    let area = values[order[i]] * scale;
    const worst = (rowArea: number, items: number[]) => {
      const s2 = side * side;
      let max = 0;
      for (const k of items) {
        const a = values[k] * scale;
        max = Math.max(max, (s2 * a) / (rowArea * rowArea), (rowArea * rowArea) / (s2 * a));
      }
      return max;
    };
    i++;
    while (i < order.length) {
      const next = values[order[i]] * scale;
      if (worst(area + next, [...row, order[i]]) > worst(area, row)) break;
      row.push(order[i]);
      area += next;
      i++;
    }
    // Lay the row along the shorter side.
    const thick = area / side;
    let pos = 0;
    for (const k of row) {
      const len = (values[k] * scale) / thick;
      out[k] = rest.w >= rest.h ? { x: rest.x, y: rest.y + pos, w: thick, h: len } : { x: rest.x + pos, y: rest.y, w: len, h: thick };
      pos += len;
    }
    rest =
      rest.w >= rest.h
        ? { x: rest.x + thick, y: rest.y, w: rest.w - thick, h: rest.h }
        : { x: rest.x, y: rest.y + thick, w: rest.w, h: rest.h - thick };
  }
  return out;
}
