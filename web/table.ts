import type { Report } from "../src/core/report.js";
import { h } from "./dom.js";
import { bytes, compact, exact, fieldShort, firstOutput, perImageShape, share } from "./format.js";

/** Fixed row height: what makes virtual scrolling a division instead of a measurement. */
export const ROW_HEIGHT = 26;
/** Rows drawn above and below the visible ones, so fast scrolling never shows a gap. */
const OVERSCAN = 8;

interface Row {
  index: number;
  name: string;
  op: string;
  unknown: boolean;
  shape: string;
  rf: string;
  params: number | null;
  value: number | null;
  act: number | null;
  share: string;
}

interface Column {
  key: keyof Row;
  label: string;
  numeric?: boolean;
  show: (r: Row) => string;
  title?: (r: Row) => string;
}

/**
 * The per-layer table: sortable, filterable, and virtualised — only the rows in view exist
 * in the DOM (one `layer-row` each), so 10,000 layers scroll as fast as 10.
 */
export class LayerTable {
  readonly el: HTMLElement;
  private readonly viewport: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly header: HTMLElement;
  private readonly filterInput: HTMLInputElement;
  private readonly count: HTMLElement;
  private rows: Row[] = [];
  private view: Row[] = [];
  private sortKey: keyof Row = "index";
  private sortDir: 1 | -1 = 1;
  private filter = "";
  private selected = -1;
  private columns: Column[] = [];

  constructor(private readonly onSelect: (layer: number) => void) {
    this.filterInput = h("input", {
      testid: "layer-filter",
      attrs: { type: "search", placeholder: "filter by name or op", "aria-label": "filter layers" },
      on: {
        input: () => {
          this.filter = this.filterInput.value.trim().toLowerCase();
          this.refresh();
        },
      },
    });
    this.count = h("span", { class: "muted" });
    this.header = h("div", { class: "row head", attrs: { role: "row" } });
    this.spacer = h("div", { class: "spacer" });
    this.viewport = h(
      "div",
      { class: "viewport", attrs: { role: "rowgroup", tabindex: 0 }, on: { scroll: () => this.draw() } },
      this.spacer,
    );
    this.viewport.addEventListener("keydown", (e) => this.key(e));
    this.el = h(
      "section",
      { class: "panel table-panel", attrs: { "aria-label": "layers" } },
      h("div", { class: "table-tools" }, h("h2", {}, "Layers"), this.filterInput, this.count),
      h("div", { class: "grid", attrs: { role: "grid" } }, this.header, this.viewport),
    );
  }

  setReport(r: Report): void {
    const conv = r.convention;
    this.columns = [
      { key: "index", label: "#", numeric: true, show: (x) => String(x.index + 1) },
      { key: "name", label: "layer", show: (x) => x.name, title: (x) => x.name },
      { key: "op", label: "op", show: (x) => x.op, title: (x) => x.op },
      { key: "shape", label: "output", show: (x) => x.shape },
      { key: "rf", label: "rf r/S", show: (x) => x.rf },
      { key: "params", label: "params", numeric: true, show: (x) => compact(x.params), title: (x) => exact(x.params) },
      { key: "value", label: conv, numeric: true, show: (x) => compact(x.value), title: (x) => exact(x.value) },
      { key: "share", label: "share", numeric: true, show: (x) => x.share },
      { key: "act", label: "act.", numeric: true, show: (x) => bytes(x.act), title: (x) => `${exact(x.act)} bytes` },
    ];
    this.rows = r.layers.map((l, index) => {
      const out = firstOutput(r, l);
      return {
        index,
        name: l.name,
        op: l.source && l.source !== l.op ? `${l.op} (${l.source})` : l.op,
        unknown: l.status === "unknown",
        shape: perImageShape(out?.shape, r.batch),
        rf: fieldShort(out?.rf),
        params: l.params,
        value: l.value,
        act: l.activation_bytes,
        share: share(l.value, r.totals.value),
      };
    });
    this.drawHeader();
    this.refresh();
  }

  /** Marks a layer and scrolls it into view (clearing a filter that hides it). */
  select(layer: number): void {
    this.selected = layer;
    let pos = this.view.findIndex((r) => r.index === layer);
    if (pos < 0 && layer >= 0 && this.filter) {
      this.filterInput.value = "";
      this.filter = "";
      this.refresh();
      pos = this.view.findIndex((r) => r.index === layer);
    }
    if (pos >= 0) {
      const top = pos * ROW_HEIGHT;
      const vh = this.viewport.clientHeight;
      if (top < this.viewport.scrollTop || top + ROW_HEIGHT > this.viewport.scrollTop + vh) {
        this.viewport.scrollTop = Math.max(0, top - vh / 2);
      }
    }
    this.draw();
  }

  private drawHeader(): void {
    this.header.replaceChildren(
      ...this.columns.map((c) => {
        const sorted = this.sortKey === c.key;
        return h(
          "button",
          {
            class: `cell${c.numeric ? " num" : ""}`,
            testid: `sort-${c.key}`,
            attrs: { role: "columnheader", "aria-sort": sorted ? (this.sortDir === 1 ? "ascending" : "descending") : "none" },
            on: { click: () => this.sortBy(c.key) },
          },
          c.label,
          sorted ? (this.sortDir === 1 ? " ▲" : " ▼") : "",
        );
      }),
    );
  }

  private sortBy(key: keyof Row): void {
    if (this.sortKey === key) this.sortDir = this.sortDir === 1 ? -1 : 1;
    else {
      this.sortKey = key;
      // Numbers read best largest first; names alphabetically.
      this.sortDir = key === "index" || !this.columns.find((c) => c.key === key)?.numeric ? 1 : -1;
    }
    this.drawHeader();
    this.refresh();
  }

  private refresh(): void {
    const f = this.filter;
    const rows = f ? this.rows.filter((r) => r.name.toLowerCase().includes(f) || r.op.toLowerCase().includes(f)) : this.rows.slice();
    const key = this.sortKey;
    const dir = this.sortDir;
    const value = (r: Row): number | string | null => (key === "share" ? r.value : r[key]) as number | string | null;
    rows.sort((a, b) => {
      const x = value(a);
      const y = value(b);
      if (x === y) return a.index - b.index;
      if (x === null) return 1; // unknowns last in either direction
      if (y === null) return -1;
      const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
      return c === 0 ? a.index - b.index : c * dir;
    });
    this.view = rows;
    this.count.textContent = f ? `${rows.length} of ${this.rows.length}` : `${rows.length} layers`;
    this.spacer.style.height = `${rows.length * ROW_HEIGHT}px`;
    this.draw();
  }

  /** Renders only the rows inside the viewport. */
  private draw(): void {
    const top = this.viewport.scrollTop;
    const height = this.viewport.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.view.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    const nodes: HTMLElement[] = [];
    for (let pos = first; pos < last; pos++) nodes.push(this.rowEl(this.view[pos], pos));
    this.spacer.replaceChildren(...nodes);
  }

  private rowEl(r: Row, pos: number): HTMLElement {
    const cls = `row${r.unknown ? " unknown" : ""}${r.index === this.selected ? " selected" : ""}`;
    const row = h(
      "div",
      {
        class: cls,
        testid: "layer-row",
        attrs: { role: "row", "data-index": r.index, "aria-selected": String(r.index === this.selected) },
        on: { click: () => this.onSelect(r.index) },
      },
      ...this.columns.map((c) => {
        const cell = h("span", { class: `cell${c.numeric ? " num" : ""}`, attrs: { role: "gridcell", title: c.title?.(r) } }, c.show(r));
        if (c.key === "op" && r.unknown)
          cell.prepend(
            h("span", { class: "badge", attrs: { title: "unknown op: convscope has no rule for it and counted nothing" } }, "unknown"),
            " ",
          );
        return cell;
      }),
    );
    row.style.transform = `translateY(${pos * ROW_HEIGHT}px)`;
    return row;
  }

  /** Arrow keys move the selection through the rows as shown. */
  private key(e: KeyboardEvent): void {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    e.preventDefault();
    const pos = this.view.findIndex((r) => r.index === this.selected);
    const next = this.view[Math.min(this.view.length - 1, Math.max(0, pos + (e.key === "ArrowDown" ? 1 : -1)))];
    if (next) this.onSelect(next.index);
  }
}
