import type { Graph } from "../../core/graph.js";
import { DATA_TYPES, dataTops } from "./data.js";
import { Emitter } from "./emit.js";
import { Fields } from "./fields.js";
import { LAYERS, type LayerCtx } from "./layers.js";
import { type PbMessage, positionOf } from "./text-format.js";

/** V1 `layers { type: CONVOLUTION }` enum values (name, number) and today's type names. */
const V1_TYPES: [string, number, string][] = [
  ["NONE", 0, ""],
  ["ACCURACY", 1, "Accuracy"],
  ["BNLL", 2, "BNLL"],
  ["CONCAT", 3, "Concat"],
  ["CONVOLUTION", 4, "Convolution"],
  ["DATA", 5, "Data"],
  ["DROPOUT", 6, "Dropout"],
  ["EUCLIDEAN_LOSS", 7, "EuclideanLoss"],
  ["FLATTEN", 8, "Flatten"],
  ["HDF5_DATA", 9, "HDF5Data"],
  ["HDF5_OUTPUT", 10, "HDF5Output"],
  ["IM2COL", 11, "Im2col"],
  ["IMAGE_DATA", 12, "ImageData"],
  ["INFOGAIN_LOSS", 13, "InfogainLoss"],
  ["INNER_PRODUCT", 14, "InnerProduct"],
  ["LRN", 15, "LRN"],
  ["MULTINOMIAL_LOGISTIC_LOSS", 16, "MultinomialLogisticLoss"],
  ["POOLING", 17, "Pooling"],
  ["RELU", 18, "ReLU"],
  ["SIGMOID", 19, "Sigmoid"],
  ["SOFTMAX", 20, "Softmax"],
  ["SOFTMAX_LOSS", 21, "SoftmaxWithLoss"],
  ["SPLIT", 22, "Split"],
  ["TANH", 23, "TanH"],
  ["WINDOW_DATA", 24, "WindowData"],
  ["ELTWISE", 25, "Eltwise"],
  ["POWER", 26, "Power"],
  ["SIGMOID_CROSS_ENTROPY_LOSS", 27, "SigmoidCrossEntropyLoss"],
  ["HINGE_LOSS", 28, "HingeLoss"],
  ["MEMORY_DATA", 29, "MemoryData"],
  ["ARGMAX", 30, "ArgMax"],
  ["THRESHOLD", 31, "Threshold"],
  ["DUMMY_DATA", 32, "DummyData"],
  ["SLICE", 33, "Slice"],
  ["MVN", 34, "MVN"],
  ["ABSVAL", 35, "AbsVal"],
  ["SILENCE", 36, "Silence"],
  ["CONTRASTIVE_LOSS", 37, "ContrastiveLoss"],
  ["EXP", 38, "Exp"],
  ["DECONVOLUTION", 39, "Deconvolution"],
];

/**
 * Layers left out of the deploy view: they score against labels (losses, accuracy) or
 * only sink blobs. A deploy.prototxt has none; a train_val one analysed as deployed
 * should not count them.
 */
function trainingOnly(type: string): boolean {
  return type === "Accuracy" || type.endsWith("Loss") || type === "Silence" || type === "HDF5Output";
}

/** The state a deployed net runs in: TEST phase, the file's level and stages. */
interface NetState {
  phase: string;
  level: number;
  stages: string[];
}

/** Caffe's NetStateRule: every condition the rule sets must hold. */
function meets(rule: Fields, s: NetState): boolean {
  if (rule.has("phase") && rule.enumName("phase", ["TRAIN", "TEST"], "TEST") !== s.phase) return false;
  if (rule.has("min_level") && s.level < rule.int("min_level", 0, true)) return false;
  if (rule.has("max_level") && s.level > rule.int("max_level", 0, true)) return false;
  if (rule.all("stage").some((st) => !s.stages.includes(String(st)))) return false;
  if (rule.all("not_stage").some((st) => s.stages.includes(String(st)))) return false;
  return true;
}

/** With `include` rules a layer needs one to hold; otherwise no `exclude` rule may hold. */
function included(f: Fields, s: NetState): boolean {
  const inc = f.subs("include");
  if (inc.length > 0) return inc.some((r) => meets(r, s));
  return !f.subs("exclude").some((r) => meets(r, s));
}

/**
 * NetParameter → Graph. Blobs are SSA-renamed: a top that names an existing blob (an
 * in-place ReLU: top = bottom) becomes a new tensor named after the layer, so every
 * tensor has one producer and later bottoms read the newest version.
 */
export function caffeGraph(net: PbMessage, fileName?: string): Graph {
  const root: Fields = new Fields(net, "");
  const v2 = root.subs("layer");
  const v1 = root.subs("layers");
  if (v1.some((l) => l.has("layer"))) {
    root.fail("layers", "holds V0 'layer { … }' definitions; upgrade the file with Caffe's upgrade_net_proto_text first");
  }
  const legacyOf = new Set(v1.map((l) => l.msg));
  // A file mixing both (hand-merged nets do) is read in the order it lists them; Caffe
  // itself refuses it, so a warning says so.
  const layers = v1.length === 0 ? v2 : v2.length === 0 ? v1 : [...v2, ...v1].sort((a, b) => before(a.msg, b.msg));
  const warnings: string[] = [];
  if (v1.length > 0 && v2.length > 0) {
    warnings.push(
      `the file mixes ${v2.length} 'layer' and ${v1.length} legacy 'layers' entries; Caffe refuses such a net, convscope reads both in file order`,
    );
  }

  const strings = (f: Fields, k: string) => f.all(k).map(String);
  const names = new Set<string>(strings(root, "input"));
  for (const l of layers) for (const b of [...strings(l, "bottom"), ...strings(l, "top")]) names.add(b);
  const name = root.has("name") ? root.str("name") : (fileName?.replace(/^.*[\\/]/, "").replace(/\.[^.]*$/, "") ?? "caffe");
  const e = new Emitter(name, names);
  const st = root.sub("state");
  const state: NetState = { phase: "TEST", level: st.int("level", 0, true), stages: strings(st, "stage") };

  /** Blob name → the tensor holding its newest version. */
  const current = new Map<string, string>();
  const consumed = new Set<string>();
  const produced: string[] = [];
  const labels = new Set<string>();

  netInputs(root, e, current, produced);

  const dropped: string[] = [];
  const skipped: string[] = [];
  const renamed = new Map<string, string>();
  const implicit: string[] = [];
  const unknownTypes = new Map<string, string[]>();
  layers.forEach((lf, index) => {
    const source = typeName(lf);
    const legacy = legacyOf.has(lf.msg);
    const v1Type = legacy ? V1_TYPES.find(([n, i]) => n === source || String(i) === source)?.[2] : undefined;
    const type = v1Type ?? canonicalType(source);
    if (!v1Type && type !== source) renamed.set(source, type);
    const layerName = lf.has("name") && lf.str("name") !== "" ? lf.str("name") : `${type || "layer"}_${index + 1}`;
    const f: Fields = new Fields(lf.msg, layerName);
    if (!included(f, state)) {
      skipped.push(layerName);
      return;
    }
    const bottoms = strings(f, "bottom");
    const tops = strings(f, "top");
    if (type === "implicit" && tops.length === 0) {
      // Netscope's presets mark a net's end with a top-less `implicit` layer, a display hint
      // Caffe does not know; it computes nothing.
      implicit.push(layerName);
      return;
    }
    if (trainingOnly(type)) {
      dropped.push(`${layerName} (${type})`);
      return;
    }
    if (DATA_TYPES.has(type)) {
      const d = dataTops(f, type, tops.length);
      if (d.note) e.note(d.note);
      tops.forEach((t, i) => {
        const tensor = current.has(t) ? e.fresh(`${t}/${layerName}`) : t;
        e.input(tensor, d.shapes[i]);
        current.set(t, tensor);
        produced.push(tensor);
        if (i > 0) labels.add(tensor);
      });
      return;
    }
    const inputs = bottoms.map((b) => {
      const t = current.get(b);
      if (t === undefined) f.fail("bottom", `'${b}' is not produced by any earlier layer or input`);
      consumed.add(t);
      return t;
    });
    if (type === "Split") {
      // Caffe's Split shares its bottom's data with every top: the tops are that tensor.
      if (inputs.length !== 1) f.fail("bottom", `needs 1, got ${inputs.length}`);
      for (const t of tops) current.set(t, inputs[0]);
      return;
    }
    const outputs = tops.map((t) => {
      if (!current.has(t) && !e.has(t)) return t;
      return e.fresh(e.isFree(layerName) ? layerName : `${t}/${layerName}`);
    });
    const ctx: LayerCtx = { e, name: layerName, type, source, f, bottoms: inputs, tops: outputs };
    const translate = LAYERS[type];
    if (translate) translate(ctx);
    else unknownLayer(ctx, unknownTypes);
    tops.forEach((t, i) => {
      current.set(t, outputs[i]);
      produced.push(outputs[i]);
    });
  });

  const g = e.graph;
  // Label tops nobody reads are not inputs of the deployed net.
  g.inputs = g.inputs.filter((i) => !labels.has(i) || consumed.has(i));
  for (const l of labels) if (!consumed.has(l)) g.tensors.delete(l);
  // Caffe's net outputs: blobs that no later layer reads.
  g.outputs = produced.filter((t) => !consumed.has(t) && !g.inputs.includes(t) && !labels.has(t));
  if (skipped.length > 0) e.note(`layers not in the TEST phase, left out: ${skipped.join(", ")}`);
  if (implicit.length > 0) e.note(`Netscope's top-less 'implicit' marker layers left out: ${implicit.join(", ")}`);
  if (renamed.size > 0) e.note(`legacy type names read as today's: ${[...renamed].map(([a, b]) => `'${a}' as ${b}`).join(", ")}`);
  for (const [t, names] of unknownTypes) {
    e.note(
      `${names.length} layer${names.length > 1 ? "s" : ""} of type ${t} convscope does not know (${names.join(", ")}): nothing is counted for ${names.length > 1 ? "them" : "it"}, ${names.length > 1 ? "their" : "its"} learned blobs are unknown, and shapes after ${names.length > 1 ? "them" : "it"} stay unknown`,
    );
  }
  if (warnings.length > 0) g.warnings = [...(g.warnings ?? []), ...warnings];
  if (dropped.length > 0) e.note(`training-only layers left out of the deployed net: ${dropped.join(", ")}`);
  e.note("weights live in the .caffemodel, which is not read: parameter counts follow from the layer definitions");
  return g;
}

/** Whether message a starts before b in the file. */
function before(a: PbMessage, b: PbMessage): number {
  const pa = positionOf(a);
  const pb = positionOf(b);
  if (!pa || !pb) return 0;
  return pa.line - pb.line || pa.column - pb.column;
}

/**
 * Today's spelling of a type written in another case or with underscores (`convolution`,
 * `inner_product`, `RELU` in old nets): matched against every type convscope reads, else
 * kept as written.
 */
function canonicalType(type: string): string {
  if (LAYERS[type] || DATA_TYPES.has(type) || type === "Split" || type === "Python") return type;
  const key = type.toLowerCase().replace(/_/g, "");
  const known = [...Object.keys(LAYERS), ...DATA_TYPES, ...V1_TYPES.map(([, , t]) => t), "Split", "Python"];
  return known.find((t) => t.toLowerCase() === key) ?? type;
}

/**
 * A layer type convscope has no rule for (a Python layer, a fork's own layer): an unknown
 * node, its `source` naming it (a Python layer by its module and class), with one learned
 * blob of unknown size as input — Caffe layers may own blobs a prototxt does not describe,
 * so the layer's parameters are unknown, not zero, and parameter totals say so.
 */
function unknownLayer(l: LayerCtx, unknownTypes: Map<string, string[]>): void {
  let source = l.source || "unnamed";
  if (l.type === "Python") {
    const p = l.f.sub("python_param");
    const mod = p.has("module") ? p.str("module") : "?";
    const cls = p.has("layer") ? p.str("layer") : "?";
    source = `Python (${mod}.${cls})`;
  }
  const key = l.type === "Python" ? source : l.type || "unnamed";
  unknownTypes.set(key, [...(unknownTypes.get(key) ?? []), l.name]);
  const blobs = l.e.weight(`${l.name}.blobs`, undefined);
  l.e.node(l.name, `caffe::${l.type || "unnamed"}`, [...l.bottoms, blobs], l.tops, {}, source);
}

/** The layer's type as the file spells it (a string, or a V1 enum name or number). */
function typeName(f: Fields): string {
  return f.has("type") ? String(f.all("type").at(-1)) : "";
}

/** `input:` with `input_shape { dim … }` or four `input_dim`s per input. */
function netInputs(root: Fields, e: Emitter, current: Map<string, string>, produced: string[]): void {
  const names = root.all("input").map(String);
  if (names.length === 0) return;
  const shapes = root.subs("input_shape");
  const dims = root.ints("input_dim");
  names.forEach((n, i) => {
    let shape: number[];
    if (shapes.length > 0) {
      if (shapes.length !== names.length) root.fail("input_shape", `gives ${shapes.length} shapes for ${names.length} inputs`);
      shape = shapes[i].ints("dim");
    } else if (dims.length > 0) {
      if (dims.length !== 4 * names.length) root.fail("input_dim", `has ${dims.length} values; needs 4 per input (${4 * names.length})`);
      shape = dims.slice(4 * i, 4 * i + 4);
    } else root.fail("input", `'${n}' has no shape (input_shape or input_dim)`);
    if (shape.length === 0 || shape.some((d) => d === 0)) root.fail("input_shape", `of '${n}' must list positive dims`);
    e.input(n, shape);
    current.set(n, n);
    produced.push(n);
  });
}
