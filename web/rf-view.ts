import type { Report } from "../src/core/report.js";
import { h } from "./dom.js";
import { centre, extent, type FieldView, fieldView, span, unitAt } from "./rf-geometry.js";
import { sampleImage } from "./sample-image.js";

const KNOWN_KEYS = new Set(["size", "stride", "padding", "aligned", "global", "local", "unknown", "phases"]);
const MAX_CSS = 620;

/**
 * The receptive-field view: one unit's field drawn over a picture in input pixels, with
 * the lattice of every unit's centre, the region of units that see no padding, and the
 * padding itself hatched. The pointer picks the unit; the canvas carries the unit and its
 * field in data attributes so tests can read what was drawn.
 */
export class RfView {
  readonly el: HTMLElement;
  private readonly select: HTMLSelectElement;
  private readonly uy: HTMLInputElement;
  private readonly ux: HTMLInputElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly info: HTMLElement;
  private readonly toggles: Record<"lattice" | "valid" | "padding", HTMLInputElement>;
  private report?: Report;
  private tensor = "";
  private unit: [number, number] = [0, 0];
  private fv?: FieldView;
  private picture?: CanvasImageSource & { width: number; height: number };
  private sample?: HTMLCanvasElement;
  /** CSS px = origin + scale·(input coordinate + ½). */
  private map = { scale: 1, ox: 0, oy: 0 };
  private visible = false;

  constructor() {
    this.select = h("select", {
      testid: "rf-tensor",
      attrs: { "aria-label": "tensor" },
      on: { change: () => this.setTensor(this.select.value) },
    });
    const num = (label: string, axis: 0 | 1) =>
      h("input", {
        testid: `rf-unit-${label}`,
        attrs: { type: "number", min: 0, step: 1, value: 0, "aria-label": `unit ${label}` },
        on: {
          change: (e) => {
            const v = Number((e.target as HTMLInputElement).value);
            const u: [number, number] = [...this.unit];
            u[axis] = Number.isFinite(v) ? Math.round(v) : 0;
            this.setUnit(u);
          },
        },
      });
    this.uy = num("y", 0);
    this.ux = num("x", 1);
    const toggle = (name: string) =>
      h("input", { testid: `rf-show-${name}`, attrs: { type: "checkbox", checked: true }, on: { change: () => this.draw() } });
    this.toggles = { lattice: toggle("lattice"), valid: toggle("valid"), padding: toggle("padding") };
    const picture = h("input", {
      testid: "rf-picture",
      attrs: { type: "file", accept: "image/*", class: "visually-hidden" },
      on: { change: () => this.usePicture(picture.files?.[0]) },
    });
    this.canvas = h("canvas", {
      testid: "rf-canvas",
      attrs: { tabindex: 0, "aria-label": "receptive field; move the pointer to pick a unit" },
    });
    this.canvas.addEventListener("pointermove", (e) => this.pointer(e));
    this.canvas.addEventListener("pointerdown", (e) => this.pointer(e));
    this.canvas.addEventListener("keydown", (e) => this.key(e));
    this.info = h("div", { class: "rf-info", testid: "rf-info" });
    this.el = h(
      "div",
      { class: "rf-view" },
      h(
        "div",
        { class: "toolbar" },
        h("label", {}, "tensor ", this.select),
        h("label", {}, "unit y ", this.uy),
        h("label", {}, "x ", this.ux),
        h("label", {}, this.toggles.lattice, " stride lattice"),
        h("label", {}, this.toggles.valid, " valid region"),
        h("label", {}, this.toggles.padding, " padding"),
        h("label", { class: "button" }, "your picture…", picture),
        h("button", { on: { click: () => this.usePicture(undefined) } }, "sample picture"),
      ),
      this.canvas,
      this.info,
    );
  }

  setVisible(v: boolean): void {
    this.visible = v;
    if (v) this.draw();
  }

  setReport(r: Report, preferred?: string): void {
    this.report = r;
    const candidates: { name: string; label: string }[] = [];
    const seen = new Set<string>();
    const add = (name: string, layer?: string) => {
      const fv = seen.has(name) ? undefined : fieldView(r, name);
      if (!fv) return;
      const rf = fv.field;
      seen.add(name);
      candidates.push({ name, label: `${layer ? `${layer} → ` : ""}${name} · ${rf.size.join("×")}/${rf.stride.join("×")}` });
    };
    for (const i of r.inputs) add(i.name);
    for (const l of r.layers) for (const o of l.outputs) add(o, l.name === o ? undefined : l.name);
    this.select.replaceChildren(...candidates.map((c) => h("option", { attrs: { value: c.name } }, c.label)));
    const keep = preferred && seen.has(preferred) ? preferred : seen.has(this.tensor) ? this.tensor : candidates.at(-1)?.name;
    this.sample = undefined;
    this.setTensor(keep ?? "");
  }

  /** Shows a tensor's field (when it has a 2-D one on a known image size); returns whether it could. */
  setTensor(name: string): boolean {
    const fv = this.report ? fieldView(this.report, name) : undefined;
    if (!fv) {
      if (!name) {
        this.fv = undefined;
        this.draw();
      }
      return false;
    }
    this.fv = fv;
    this.tensor = name;
    this.select.value = name;
    this.setUnit([Math.floor((fv.units[0] - 1) / 2), Math.floor((fv.units[1] - 1) / 2)]);
    return true;
  }

  private setUnit(u: [number, number]): void {
    const fv = this.fv;
    if (!fv) return;
    this.unit = [0, 1].map((i) => Math.min(fv.units[i] - 1, Math.max(0, u[i]))) as [number, number];
    this.uy.value = String(this.unit[0]);
    this.ux.value = String(this.unit[1]);
    this.draw();
  }

  private async usePicture(file: File | undefined): Promise<void> {
    this.picture = file ? await createImageBitmap(file) : undefined;
    this.draw();
  }

  private pointer(e: PointerEvent): void {
    if (!this.fv) return;
    const box = this.canvas.getBoundingClientRect();
    const { scale, ox, oy } = this.map;
    const x = (e.clientX - box.left - ox) / scale - 0.5;
    const y = (e.clientY - box.top - oy) / scale - 0.5;
    const u: [number, number] = [unitAt(this.fv, 0, y), unitAt(this.fv, 1, x)];
    if (u[0] !== this.unit[0] || u[1] !== this.unit[1]) this.setUnit(u);
  }

  private key(e: KeyboardEvent): void {
    const d: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const step = d[e.key];
    if (!step) return;
    e.preventDefault();
    this.setUnit([this.unit[0] + step[0], this.unit[1] + step[1]]);
  }

  private draw(): void {
    if (!this.visible) return;
    const c = this.canvas;
    const g = c.getContext("2d")!;
    const fv = this.fv;
    if (!fv) {
      c.width = 400;
      c.height = 60;
      c.style.width = "400px";
      c.style.height = "60px";
      g.fillStyle = "#888";
      g.font = "14px system-ui, sans-serif";
      g.fillText("no tensor with a 2-D receptive field", 12, 34);
      this.info.textContent = "";
      delete c.dataset.unit;
      delete c.dataset.field;
      return;
    }
    const [y0, y1] = extent(fv, 0);
    const [x0, x1] = extent(fv, 1);
    const spanX = x1 - x0 + 1;
    const spanY = y1 - y0 + 1;
    const width = Math.min(MAX_CSS, this.el.clientWidth || MAX_CSS);
    const scale = Math.min(width / spanX, (MAX_CSS * 0.9) / spanY);
    const cssW = Math.ceil(spanX * scale);
    const cssH = Math.ceil(spanY * scale);
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.round(cssW * dpr);
    c.height = Math.round(cssH * dpr);
    c.style.width = `${cssW}px`;
    c.style.height = `${cssH}px`;
    // Input pixel index i spans [i, i+1) in this frame; CSS px = origin + scale·coordinate.
    this.map = { scale, ox: -x0 * scale, oy: -y0 * scale };
    c.dataset.map = `${scale} ${this.map.ox} ${this.map.oy}`;
    g.setTransform(dpr * scale, 0, 0, dpr * scale, dpr * this.map.ox, dpr * this.map.oy);

    g.fillStyle = "#1d2230";
    g.fillRect(x0, y0, spanX, spanY);
    if (this.toggles.padding.checked) {
      g.fillStyle = hatch(g, 1 / scale);
      g.fillRect(x0, y0, spanX, spanY);
    }
    const [H, W] = fv.pixels;
    this.sample ??= sampleImage(W, H);
    g.imageSmoothingEnabled = true;
    g.drawImage(this.picture ?? this.sample, 0, 0, W, H);
    g.lineWidth = 1 / scale;
    g.strokeStyle = "#ffffff88";
    g.strokeRect(0, 0, W, H);

    const valid = fv.valid;
    if (this.toggles.valid.checked && valid) {
      g.save();
      g.setLineDash([6 / scale, 4 / scale]);
      g.lineWidth = 2 / scale;
      g.strokeStyle = "#39d98a";
      const sy = span(fv, 0, valid[0][0])[0];
      const sx = span(fv, 1, valid[1][0])[0];
      g.strokeRect(sx, sy, span(fv, 1, valid[1][1])[1] + 1 - sx, span(fv, 0, valid[0][1])[1] + 1 - sy);
      g.restore();
    }
    if (this.toggles.lattice.checked) {
      // At most ~80 dots per axis: every k-th unit beyond that.
      const ky = Math.ceil(fv.units[0] / 80);
      const kx = Math.ceil(fv.units[1] / 80);
      const cy = Array.from({ length: fv.units[0] }, (_, u) => centre(fv, 0, u));
      const cx = Array.from({ length: fv.units[1] }, (_, u) => centre(fv, 1, u));
      const pitch = Math.min(Math.abs((cy[1] ?? cy[0] + 8) - cy[0]), Math.abs((cx[1] ?? cx[0] + 8) - cx[0])) || 8;
      const r = Math.max(1.2, Math.min(3, (pitch * scale) / 4)) / scale;
      const inside = (a: number, u: number) => valid !== null && u >= valid[a][0] && u <= valid[a][1];
      for (let uy = 0; uy < fv.units[0]; uy += ky) {
        for (let ux = 0; ux < fv.units[1]; ux += kx) {
          g.fillStyle = inside(0, uy) && inside(1, ux) ? "#e8f6ffcc" : "#ff9d4dcc";
          g.beginPath();
          g.arc(cx[ux] + 0.5, cy[uy] + 0.5, r, 0, Math.PI * 2);
          g.fill();
        }
      }
    }
    const [uy, ux] = this.unit;
    const [fy0, fy1] = span(fv, 0, uy);
    const [fx0, fx1] = span(fv, 1, ux);
    g.fillStyle = "#ffd23f33";
    g.fillRect(fx0, fy0, fx1 - fx0 + 1, fy1 - fy0 + 1);
    g.lineWidth = 2 / scale;
    g.strokeStyle = "#ffd23f";
    g.strokeRect(fx0, fy0, fx1 - fx0 + 1, fy1 - fy0 + 1);
    const mx = centre(fv, 1, ux) + 0.5;
    const my = centre(fv, 0, uy) + 0.5;
    g.beginPath();
    g.moveTo(mx - 6 / scale, my);
    g.lineTo(mx + 6 / scale, my);
    g.moveTo(mx, my - 6 / scale);
    g.lineTo(mx, my + 6 / scale);
    g.stroke();

    c.dataset.unit = `${uy},${ux}`;
    c.dataset.field = `${fy0},${fx0},${fy1},${fx1}`;
    const rf = this.report?.tensors[this.tensor]?.rf;
    const outside = fy0 < 0 || fx0 < 0 || fy1 > H - 1 || fx1 > W - 1;
    const extra = rf ? Object.entries(rf).filter(([k]) => !KNOWN_KEYS.has(k)) : [];
    this.info.replaceChildren(
      h("strong", {}, `unit (${uy}, ${ux})`),
      ` of ${this.tensor} sees input rows ${fy0}…${fy1}, columns ${fx0}…${fx1} (${fy1 - fy0 + 1}×${fx1 - fx0 + 1})`,
      outside ? " — part of it is padding" : " — all inside the image",
      `. Size ${fv.field.size.join("×")}, stride ${fv.field.stride.join("×")}, padding ${fv.field.padding.join("×")}; `,
      valid ? `units ${valid[0][0]}…${valid[0][1]} × ${valid[1][0]}…${valid[1][1]} see no padding.` : "every unit sees some padding.",
      fv.field.phases
        ? ` The field differs by output phase (period ${fv.field.phases.map((p) => p.period).join("×")}); the box follows the unit's phase.`
        : "",
      rf && "global" in rf ? " This tensor also depends on the whole input (global path); the local path is shown." : "",
      rf && !rf.aligned ? " Paths merged here are not aligned: the union is shown." : "",
      ...extra.map(([k, v]) => ` ${k}: ${JSON.stringify(v)}.`),
    );
  }
}

/** Diagonal hatching for the padding (what a field sees outside the image). */
function hatch(g: CanvasRenderingContext2D, unit: number): CanvasPattern | string {
  const p = document.createElement("canvas");
  p.width = 8;
  p.height = 8;
  const q = p.getContext("2d")!;
  q.fillStyle = "#2a3042";
  q.fillRect(0, 0, 8, 8);
  q.strokeStyle = "#59617a";
  q.lineWidth = 1.5;
  q.beginPath();
  q.moveTo(0, 8);
  q.lineTo(8, 0);
  q.stroke();
  const pattern = g.createPattern(p, "repeat");
  if (!pattern) return "#2a3042";
  pattern.setTransform(new DOMMatrix().scale(unit));
  return pattern;
}
