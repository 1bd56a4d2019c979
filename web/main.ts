import { CONVENTIONS } from "../src/analysis/conventions.js";
import { type AnalyzeOptions, analyze } from "../src/analysis/index.js";
import { OPTIMIZERS, type Optimizer, PRECISIONS, type Precision } from "../src/analysis/training.js";
import { SIZE_DTYPES, type SizeDType } from "../src/core/dtype.js";
import { ConvscopeError } from "../src/core/errors.js";
import type { Graph } from "../src/core/graph.js";
import type { Report } from "../src/core/report.js";
import { parseShape } from "../src/core/shape.js";
import { readModel } from "../src/formats/index.js";
import { readModelLazily } from "../src/formats/lazy.js";
import { Ranges, sparseSource } from "../src/formats/source.js";
import { RENDERERS } from "../src/render/index.js";
import { ZOO } from "../src/zoo/index.js";
import { Charts } from "./charts.js";
import { CompareView } from "./compare-view.js";
import { download, fill, h } from "./dom.js";
import { fileStem } from "./format.js";
import { GraphView } from "./graph-view.js";
import { ModulesView } from "./modules-view.js";
import { RfView } from "./rf-view.js";
import { RooflineChart } from "./roofline.js";
import { SizeView } from "./size-view.js";
import { renderSummary } from "./summary.js";
import { LayerTable } from "./table.js";

/**
 * The page: a model comes in (file picker, drop, zoo, or embedded by `convscope serve`),
 * is read by the same readers and analysed by the same passes as the CLI, and every view
 * re-renders from the Report whenever a control changes. Nothing leaves the page.
 */

interface Loaded {
  graph: Graph;
  /** The first input's declared shape, to reset the shape control. */
  shape: string;
}

let loaded: Loaded | undefined;
let report: Report | undefined;
let selected = -1;

const errorBox = h("div", { class: "error", testid: "error", attrs: { role: "alert", hidden: true } });
const summary = h("section", { class: "panel summary", testid: "summary", attrs: { "aria-label": "summary" } });
const table = new LayerTable((i) => select(i));
const graphView = new GraphView((i) => select(i));
const rfView = new RfView();
const charts = new Charts((i) => select(i));
const roofChart = new RooflineChart((i) => select(i));
charts.el.append(roofChart.el);
const modulesView = new ModulesView((i) => select(i));
const compareView = new CompareView();
const sizeView = new SizeView();

const fileInput = h("input", {
  testid: "file-input",
  attrs: { type: "file", class: "visually-hidden", accept: ".onnx,.prototxt,.pbtxt,.json,.h5,.keras,.tflite,.bin,.txt" },
  on: { change: () => void openFile(fileInput.files?.[0]) },
});
const zooSelect = h(
  "select",
  { testid: "zoo-select", attrs: { "aria-label": "zoo model" }, on: { change: () => zooSelect.value && openZoo(zooSelect.value) } },
  h("option", { attrs: { value: "" } }, "zoo model…"),
  ...Object.entries(ZOO).map(([name, z]) => h("option", { attrs: { value: name, title: z.description } }, name)),
);
const shapeInput = h("input", { testid: "input-shape", attrs: { type: "text", size: 16, spellcheck: false, "aria-label": "input shape" } });
const batchInput = h("input", {
  testid: "batch",
  attrs: { type: "number", min: 1, step: 1, placeholder: "model's", "aria-label": "batch" },
});
const conventionSelect = h(
  "select",
  { testid: "convention", attrs: { "aria-label": "convention" } },
  ...CONVENTIONS.map((c) => h("option", { attrs: { value: c.name, title: c.includes } }, c.name)),
);
const dtypeSelect = h(
  "select",
  { testid: "dtype", attrs: { "aria-label": "dtype" } },
  ...Object.keys(SIZE_DTYPES).map((d) => h("option", { attrs: { value: d } }, d)),
);
const trainingSelect = h(
  "select",
  { testid: "training", attrs: { "aria-label": "training estimate", title: "memory of one training step" } },
  h("option", { attrs: { value: "" } }, "inference"),
  ...OPTIMIZERS.map((o) => h("option", { attrs: { value: o } }, `train: ${o}`)),
);
const precisionSelect = h(
  "select",
  { testid: "precision", attrs: { "aria-label": "training precision" } },
  ...PRECISIONS.map((p) => h("option", { attrs: { value: p } }, p)),
);
for (const c of [shapeInput, batchInput, conventionSelect, dtypeSelect, trainingSelect, precisionSelect])
  c.addEventListener("change", rerun);

const exportButtons = h(
  "span",
  { class: "exports" },
  ...(
    [
      ["json", "JSON", "application/json"],
      ["csv", "CSV", "text/csv"],
      ["md", "Markdown", "text/markdown"],
    ] as const
  ).map(([fmt, label, type]) =>
    h(
      "button",
      {
        testid: `export-${fmt}`,
        attrs: { disabled: true },
        on: {
          click: () =>
            report && download(`${fileStem(report.model.name)}.${fmt}`, new Blob([RENDERERS[fmt](plainReport(report))], { type })),
        },
      },
      label,
    ),
  ),
);

const tabs = { graph: graphView, rf: rfView, charts, modules: modulesView, compare: compareView, size: sizeView } as const;
type Tab = keyof typeof tabs;
let tab: Tab = "graph";
const tabButtons = (Object.keys(tabs) as Tab[]).map((t) =>
  h(
    "button",
    { testid: `tab-${t}`, attrs: { role: "tab" }, on: { click: () => showTab(t) } },
    { graph: "Graph", rf: "Receptive field", charts: "Charts", modules: "Modules", compare: "Compare", size: "Input size" }[t],
  ),
);
const tabBody = h("div", { class: "tab-body" }, graphView.el, rfView.el, charts.el, modulesView.el, compareView.el, sizeView.el);

const empty = h(
  "div",
  { class: "empty", testid: "empty" },
  h(
    "p",
    {},
    "Drop a model file anywhere on this page (ONNX, Caffe prototxt, Keras, TF.js, TFLite or convscope JSON), choose one, or pick a zoo model.",
  ),
  h("p", { class: "muted" }, "The file is read here, in this page: nothing is uploaded, and the page makes no network request."),
  h("button", { on: { click: () => openZoo("alexnet") } }, "try zoo:alexnet"),
);
const results = h(
  "div",
  { class: "results", attrs: { hidden: true } },
  summary,
  h(
    "div",
    { class: "split" },
    table.el,
    h("section", { class: "panel side" }, h("div", { class: "tabs", attrs: { role: "tablist" } }, ...tabButtons), tabBody),
  ),
);

document.body.append(
  h(
    "header",
    {},
    h("h1", {}, "convscope"),
    h("label", { class: "button primary" }, "open model…", fileInput),
    zooSelect,
    h(
      "span",
      { class: "controls" },
      h("label", {}, "input ", shapeInput),
      h("label", {}, "batch ", batchInput),
      h("label", {}, "convention ", conventionSelect),
      h("label", {}, "dtype ", dtypeSelect),
      trainingSelect,
      precisionSelect,
    ),
    exportButtons,
  ),
  errorBox,
  h("main", {}, empty, results),
  h("div", { class: "drop-overlay" }, "drop the model file"),
);
showTab("graph");

function showTab(t: Tab): void {
  tab = t;
  tabButtons.forEach((b, i) => {
    b.setAttribute("aria-selected", String(Object.keys(tabs)[i] === t));
  });
  for (const [name, view] of Object.entries(tabs)) {
    view.el.hidden = name !== t;
    if (report) view.setVisible(name === t);
  }
}

function showError(e: unknown): void {
  const msg = e instanceof ConvscopeError ? e.oneLine() : `internal error: ${(e as Error)?.message ?? String(e)}`;
  errorBox.hidden = false;
  fill(
    errorBox,
    h("strong", {}, "Cannot show this model: "),
    msg,
    h("button", { class: "close", attrs: { "aria-label": "dismiss" }, on: { click: () => (errorBox.hidden = true) } }, "×"),
  );
}

async function openFile(file: File | undefined): Promise<void> {
  if (!file) return;
  performance.mark("convscope:open");
  try {
    // Never the whole file: the reader's ranges through Blob.slice (a 2 GB model's weights
    // stay on disk, and a file past an ArrayBuffer's limit opens too).
    performance.mark("convscope:bytes");
    const { graph } = await readModelLazily(file.name, file.size, async (o, n) => new Uint8Array(await file.slice(o, o + n).arrayBuffer()));
    performance.mark("convscope:read");
    open(graph);
  } catch (e) {
    showError(e);
  } finally {
    fileInput.value = "";
  }
}

function openZoo(name: string): void {
  performance.mark("convscope:open");
  try {
    const z = ZOO[name];
    if (!z) throw new ConvscopeError(`no zoo model '${name}'`);
    open(z.build());
  } catch (e) {
    showError(e);
  }
  zooSelect.value = "";
}

/** A freshly read model: reset the controls to its own input shape and analyse. */
function open(graph: Graph): void {
  const first = graph.inputs[0];
  const shape = first ? graph.tensors.get(first)?.shape : undefined;
  loaded = { graph, shape: shape ? shape.join("x") : "" };
  sizeView.setGraph(graph);
  shapeInput.value = loaded.shape;
  batchInput.value = "";
  selected = -1;
  if (!rerun()) loaded = undefined;
}

/** Re-runs the analysis with the controls' values; returns whether it succeeded. */
function rerun(): boolean {
  if (!loaded) return false;
  try {
    const opts: AnalyzeOptions = { convention: conventionSelect.value, dtype: dtypeSelect.value as SizeDType };
    opts.modules = true;
    compareView.setOptions(() => opts);
    sizeView.setOptions(() => opts);
    precisionSelect.hidden = !trainingSelect.value;
    if (trainingSelect.value)
      opts.training = { optimizer: trainingSelect.value as Optimizer, precision: precisionSelect.value as Precision };
    const first = loaded.graph.inputs[0];
    const batch = batchInput.value.trim() === "" ? undefined : Number(batchInput.value);
    if (batch !== undefined && (!Number.isSafeInteger(batch) || batch <= 0))
      throw new ConvscopeError(`batch must be a positive integer, got '${batchInput.value}'`);
    const text = shapeInput.value.trim();
    if (first && text && text !== loaded.shape) {
      const shape = parseShape(text);
      opts.inputs = { [first]: batch !== undefined && shape.length > 1 ? [batch, ...shape.slice(1)] : shape };
    } else if (batch !== undefined) opts.batch = batch;
    const r = analyze(loaded.graph, opts);
    performance.mark("convscope:analyzed");
    errorBox.hidden = true;
    show(r);
    return true;
  } catch (e) {
    showError(e);
    return false;
  }
}

let analyses = 0;
function show(r: Report): void {
  report = r;
  // A counter tests (and the benchmark) wait on: every finished analysis bumps it.
  document.body.dataset.analyses = String(++analyses);
  if (selected >= r.layers.length) selected = -1;
  empty.hidden = true;
  results.hidden = false;
  for (const b of exportButtons.querySelectorAll("button")) b.disabled = false;
  document.title = `${r.model.name} · convscope`;
  table.setReport(r);
  table.select(selected);
  performance.mark("convscope:table");
  requestAnimationFrame(() => setTimeout(() => performance.mark("convscope:painted")));
  renderSummary(summary, r, (name) => {
    conventionSelect.value = name;
    rerun();
  });
  graphView.setReport(r);
  rfView.setReport(r);
  charts.setReport(r);
  roofChart.setReport(r);
  modulesView.setReport(r);
  compareView.setReport(r);
  for (const [name, view] of Object.entries(tabs)) view.setVisible(name === tab);
  graphView.select(selected);
}

/** One selection shared by the table, the graph and the receptive-field view. */
function select(layer: number): void {
  selected = layer;
  table.select(layer);
  graphView.select(layer);
  const out = report?.layers[layer]?.outputs[0];
  if (out) rfView.setTensor(out);
}

// Drag and drop anywhere on the page.
let depth = 0;
window.addEventListener("dragenter", (e) => {
  e.preventDefault();
  depth++;
  document.body.classList.add("dragging");
});
window.addEventListener("dragleave", () => {
  if (--depth <= 0) {
    depth = 0;
    document.body.classList.remove("dragging");
  }
});
window.addEventListener("dragover", (e) => e.preventDefault());
window.addEventListener("drop", (e) => {
  e.preventDefault();
  depth = 0;
  document.body.classList.remove("dragging");
  void openFile(e.dataTransfer?.files[0]);
});

// A model handed over by `convscope serve`: a data block in the page, never fetched.
const embedded = document.getElementById("convscope-model");
if (embedded) {
  const name = decode(embedded.dataset.name ?? "");
  if (embedded.dataset.zoo) openZoo(decode(embedded.dataset.zoo));
  else {
    try {
      // The ranges of the file its reader needs (src/cli/serve.ts), back at their offsets.
      const bin = atob((embedded.textContent ?? "").trim());
      const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
      const ranges = new Ranges();
      let at = 0;
      for (const r of (embedded.dataset.ranges ?? "").split(",").filter(Boolean)) {
        const [offset, length] = r.split("+").map(Number);
        ranges.add(offset, bytes.subarray(at, at + length));
        at += length;
      }
      open(readModel(sparseSource(name || "model", Number(embedded.dataset.size ?? bytes.length), ranges)));
    } catch (e) {
      showError(e);
    }
  }
}

/** The report as the CLI prints it without --depth: the page's module tree is not part of the exports. */
function plainReport(r: Report): Report {
  const { modules: _modules, ...plain } = r;
  return plain;
}

/** base64 UTF-8 → string (names of files handed over by the server). */
function decode(b64: string): string {
  return new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
}
