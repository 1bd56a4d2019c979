import type { Node } from "../core/graph.js";
import { grouped } from "../core/grouped.js";
import { add, mul, numel, type Shape } from "../core/shape.js";
import type { Cost } from "../ops/index.js";
import type { LayerState } from "./shapes.js";

/**
 * A counting convention turns a layer's arithmetic into the single number a tool or paper
 * publishes. Every convention reads the same `Cost` plus the layer's geometry (kernel,
 * affinity, whether an operand is a weight), so the numbers differ only by what each one
 * includes — which `includes` says in one line, and `measure` says per layer with the
 * values substituted (what `--explain` prints).
 *
 * Counts are for the whole tensor (all of the batch), like `Cost`; the report divides by
 * the batch. Tools that count per run of a batch-1 input (ptflops, the seed) therefore
 * give the per-image figure, and tools that count the whole batch (thop, Netscope) give
 * the per-batch one in `batch_totals`.
 */
export interface Convention {
  name: string;
  /** Who counts this way. */
  used: string;
  /** One line on what is counted. */
  includes: string;
  /** The layer's count with its formula, or null when a size it needs is unknown. */
  measure(c: Cost, layer: LayerState): Count | null;
  /** The value alone, where it is cheaper than `measure` (the report asks it of every layer). */
  count?(c: Cost, layer: LayerState): number | null;
  /** Why this layer's count is an approximation (the file does not say what the tool would see), or null when exact. */
  approximated?(layer: LayerState): string | null;
}

/** A count and how it was obtained, with the values substituted (`macs + bias = 1 + 2`; built only when asked). */
export interface Count {
  value: number;
  how: () => string;
}

/** Netscope's per-layer columns: it reports `macc` as the headline and the rest apart. */
export interface NetscopeParts {
  macc: number;
  comp: number;
  add: number;
  div: number;
  exp: number;
}

export const fmt = (n: number): string => grouped(n);

const none = (why: string): Count => ({ value: 0, how: () => `0 (${why})` });

// ── Layer facts the Cost does not carry ────────────────────────────────────────────────

function shapeIn(l: LayerState, i = 0): Shape | undefined {
  return l.ctx.inputs[i]?.shape;
}
function numelIn(l: LayerState, i = 0): number | null {
  const s = shapeIn(l, i);
  return s ? numel(s) : null;
}
function numelOut(l: LayerState): number | null {
  const s = l.ctx.outputs[0]?.shape;
  return s ? numel(s) : null;
}

/** Product of a pooling window (`kernel_shape`). */
function kernelProduct(l: LayerState): number {
  return mul(...l.ctx.attrs.ints("kernel_shape"));
}

/**
 * Whether a normalization has a learned scale and shift (PyTorch's `affine`, Caffe's
 * BatchNorm followed by a Scale layer). ONNX always carries γ and β; only when a reader
 * gives them as known constants 1 and 0 (or omits them) is the layer not affine.
 */
export function isAffine(l: LayerState): boolean {
  const scale = l.ctx.inputs[1];
  const bias = l.ctx.inputs[2];
  if (!scale) return false;
  const ones = scale.value?.every((v) => v === 1) ?? false;
  const zeros = bias === undefined || (bias.value?.every((v) => v === 0) ?? false);
  return !(ones && zeros);
}

/** Transposed-conv geometry as other tools see it: batch, C_in, C_out, group, Πk, Π output spatial, Π stride. */
function transposeFacts(l: LayerState) {
  const w = shapeIn(l, 1);
  const y = l.ctx.outputs[0]?.shape;
  const x = shapeIn(l, 0);
  if (!w || !y || !x) return null;
  const g = l.ctx.attrs.int("group", 1);
  const cin = w[0];
  const cout = y[1];
  const kernel = numel(w, 2);
  const outSpatial = numel(y, 2);
  const batch = y[0];
  if (typeof cin !== "number" || typeof cout !== "number" || typeof batch !== "number" || kernel === null || outSpatial === null) {
    return null;
  }
  const strides = l.ctx.attrs.ints("strides", new Array(w.length - 2).fill(1));
  return { batch, cin, cout, g, kernel, outSpatial, stride: mul(...strides) };
}

const NORMS = new Set(["BatchNormalization", "InstanceNormalization", "LayerNormalization", "GroupNormalization"]);

// ── Conventions ───────────────────────────────────────────────────────────────────────

const macs: Convention = {
  name: "macs",
  used: 'torchvision, fvcore, mmengine, most papers\' "FLOPs"',
  includes:
    "multiply–accumulates of conv, transposed conv (on the input), fully-connected and matmul; no bias, norm, activation or pooling",
  measure: (c) => ({ value: c.macs, how: () => (c.macs ? `macs = ${fmt(c.macs)}` : "0 (no multiply–accumulates)") }),
  count: (c) => c.macs,
};

const flops: Convention = {
  name: "flops",
  used: "torch.utils.flop_counter, DeepSpeed, calflops (2·MAC), plus every other op",
  includes: "2 per MAC, plus each bias add, norm, activation, pooling and element-wise operation",
  count: (c) => flopCount(c),
  measure(c) {
    const value = flopCount(c);
    if (value === 0) return none("no arithmetic");
    const how = () => {
      const terms = (["bias", "add", "mul", "div", "exp", "cmp"] as const).filter((k) => c[k]);
      const names = [...(c.macs ? ["2·macs"] : []), ...terms];
      const nums = [...(c.macs ? [`2·${fmt(c.macs)}`] : []), ...terms.map((k) => fmt(c[k]))];
      return `${names.join(" + ")} = ${nums.join(" + ")}`;
    };
    return { value, how };
  },
};

function flopCount(c: Cost): number {
  return add(mul(2, c.macs), c.bias, c.add, c.mul, c.div, c.exp, c.cmp);
}

// ── A zero Pad written before an average pool ─────────────────────────────────────────

/**
 * Exporters write `avg_pool2d(padding=p)` (count_include_pad) as a zero `Pad` and an unpadded
 * `AveragePool`. The tools saw one pooling over the unpadded input: a rule that counts the
 * pool's input (ptflops) takes the Pad's input, not the padded tensor.
 */
const BEFORE_PAD = new WeakMap<LayerState, Shape>();

/** Records, for every average pool fed only by a zero constant Pad, the shape before the Pad. */
export function markPaddedPools(order: readonly LayerState[]): void {
  // Most graphs have no average pool: then there is nothing to index.
  if (!order.some((l) => l.node.op === "AveragePool")) return;
  const producer = new Map<number, LayerState>();
  const consumers = new Map<number, number>();
  for (const l of order) {
    for (const o of l.outs) if (o >= 0) producer.set(o, l);
    for (const i of l.ins) if (i >= 0) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  }
  for (const l of order) {
    if (l.node.op !== "AveragePool" || l.ins[0] < 0 || consumers.get(l.ins[0]) !== 1) continue;
    const pad = producer.get(l.ins[0]);
    if (!pad || pad.node.op !== "Pad" || !isZeroPad(pad)) continue;
    const before = pad.ctx.inputs[0]?.shape;
    if (before) BEFORE_PAD.set(l, before);
  }
}

function isZeroPad(pad: LayerState): boolean {
  if (pad.ctx.attrs.str("mode", "constant") !== "constant") return false;
  const fill = pad.ctx.inputs[2];
  if (fill && fill.value === undefined) return false; // a fill value not known here
  const value = fill?.value?.[0] ?? (pad.ctx.attrs.has("value") ? pad.ctx.attrs.float("value") : 0);
  const pads = pad.ctx.inputs[1]?.value ?? (pad.ctx.attrs.has("pads") ? pad.ctx.attrs.ints("pads") : undefined);
  return value === 0 && pads !== undefined && pads.every((p) => p >= 0);
}

/** A pooling layer's input element count, before the exporter's zero Pad when there was one. */
function poolInput(l: LayerState): { n: number | null; padded: boolean } {
  const before = BEFORE_PAD.get(l);
  return before ? { n: numel(before), padded: true } : { n: numelIn(l), padded: false };
}

// ── Where a layer came from: module class, aten op, Python call ───────────────────────
//
// ptflops and thop count by nn.Module *class* (forward hooks registered on exact types) and,
// ptflops, by which torch.nn.functional / torch function the code called. A `.pt2` says
// both for every node (`nn_module_stack`, `torch_fn`); an ONNX file from the dynamo exporter
// says the module (`pkg.torch.onnx.class_hierarchy`), the aten op and the rewrites applied
// (`FuseBatchNormIntoConv`). Other files say neither: the rules below then assume the layer
// was the standard torch module and say so (`approximated`).

/** What the file says about a layer's origin. */
export interface Provenance {
  /** The file gives module classes for its layers. */
  known: boolean;
  /** Fully-qualified class of the innermost module (`torch.nn.modules.activation.ReLU`). */
  leaf?: string;
  /** The aten op, without namespace and overload (`relu_`, `conv2d`, `scaled_dot_product_attention`). */
  aten?: string;
  /** The Python callable the code invoked (a `.pt2`'s `torch_fn`): kind and name (`function`, `relu`). */
  call?: { kind: string; fn: string };
  /** A node the reader made besides the principal one of an aten call (weight transpose, bias add, attention steps). */
  part?: string;
  /** An ONNX Conv that absorbed the batch norm after it. */
  foldedBn: boolean;
}

const PROVENANCE = new WeakMap<Node, Provenance>();
const NOTHING_KNOWN: Provenance = Object.freeze({ known: false, foldedBn: false });

export function provenance(node: Node): Provenance {
  // Most files say nothing of where a layer came from: one shared answer, no cache entry per node.
  if (!node.meta && !node.module) return NOTHING_KNOWN;
  let p = PROVENANCE.get(node);
  if (p) return p;
  const meta = node.meta ?? {};
  const frames = node.module ?? [];
  p = { known: frames.length > 0, foldedBn: false };
  if (frames.length) p.leaf = frames[frames.length - 1].type;
  const target = meta["pt2.target"] ?? onnxAten(meta["pkg.torch.onnx.class_hierarchy"]);
  if (target) p.aten = target.replace(/^aten\./, "").replace(/\.[^.]*$/, "");
  const fn = meta["pt2.torch_fn"]?.split(";").pop();
  if (fn) {
    const dot = fn.lastIndexOf(".");
    p.call = { kind: fn.slice(0, dot), fn: fn.slice(dot + 1) };
  }
  if (meta["pt2.part"]) p.part = meta["pt2.part"];
  if (node.op === "Conv" && /FuseBatchNormIntoConv/.test(meta["pkg.onnxscript.rewriter.rule_name"] ?? "")) p.foldedBn = true;
  PROVENANCE.set(node, p);
  return p;
}

/** The last entry of the dynamo exporter's class hierarchy is the aten op (`'aten.relu.default'`). */
function onnxAten(hierarchy: string | undefined): string | undefined {
  const m = hierarchy ? /'(aten\.[^']+)'\s*\]\s*$/.exec(hierarchy) : null;
  return m?.[1];
}

const TORCH_NN = "torch.nn.modules.";
const nn = (names: string): string[] => names.split(" ").map((n) => `${TORCH_NN}${n}`);

/** ptflops' MODULES_MAPPING (pytorch_ops.py), by hook. Exact classes: `type(module) in MODULES_MAPPING`. */
const PT_CONV = new Set(nn("conv.Conv1d conv.Conv2d conv.Conv3d"));
const PT_CONVT = new Set(nn("conv.ConvTranspose1d conv.ConvTranspose2d conv.ConvTranspose3d"));
const PT_RELU = new Set(nn("activation.ReLU activation.PReLU activation.ELU activation.LeakyReLU activation.ReLU6 activation.GELU"));
const PT_POOL = new Set(
  nn(
    "pooling.MaxPool1d pooling.MaxPool2d pooling.MaxPool3d pooling.AvgPool1d pooling.AvgPool2d pooling.AvgPool3d pooling.AdaptiveMaxPool1d pooling.AdaptiveMaxPool2d pooling.AdaptiveMaxPool3d pooling.AdaptiveAvgPool1d pooling.AdaptiveAvgPool2d pooling.AdaptiveAvgPool3d",
  ),
);
const PT_NORM = new Set(
  nn(
    "batchnorm.BatchNorm1d batchnorm.BatchNorm2d batchnorm.BatchNorm3d instancenorm.InstanceNorm1d instancenorm.InstanceNorm2d instancenorm.InstanceNorm3d normalization.GroupNorm normalization.LayerNorm",
  ),
);
const PT_LINEAR = `${TORCH_NN}linear.Linear`;
const PT_UPSAMPLE = `${TORCH_NN}upsampling.Upsample`;

/** IR ops that carry a module's hook (the compute op of the module's forward, not its reshapes). */
const POOL_OPS = new Set([
  "MaxPool",
  "AveragePool",
  "LpPool",
  "GlobalAveragePool",
  "GlobalMaxPool",
  "GlobalLpPool",
  "ReduceMean",
  "ReduceMax",
]);
const ACT_OPS = new Set(["Relu", "PRelu", "Elu", "LeakyRelu", "Clip", "Gelu"]);

/**
 * torch.nn.functional calls ptflops patches (pytorch_engine.py `patch_functional`; F.linear's
 * patch is commented out): each adds input.numel() (interpolate its own formula) whether the
 * model code or a module's forward made the call. `function` is a Python function in
 * torch.nn.functional; the few that are C builtins there are listed apart, so `torch.relu`
 * (a builtin, not patched) is told from `F.relu`.
 */
const F_FUNCTIONS = new Set([
  "relu",
  "elu",
  "relu6",
  "silu",
  "softmax",
  "interpolate",
  "upsample",
  "max_pool1d",
  "max_pool2d",
  "max_pool3d",
  "adaptive_avg_pool2d",
  "adaptive_avg_pool3d",
  "adaptive_max_pool1d",
  "adaptive_max_pool2d",
  "adaptive_max_pool3d",
]);
const F_BUILTINS = new Set(["gelu", "prelu", "avg_pool1d", "avg_pool2d", "avg_pool3d", "adaptive_avg_pool1d"]);
/** Modules whose forward calls a patched functional (ReLU → F.relu …); ReLU6 and LeakyReLU call F.hardtanh / F.leaky_relu, which are not. */
const CALLS_PATCHED_F = new Set([
  ...nn("activation.ReLU activation.ELU activation.PReLU activation.GELU activation.SiLU activation.Softmax"),
  ...PT_POOL,
  PT_UPSAMPLE,
]);
/** The aten ops a patched functional issues (default export and core ATen), by name. */
const F_ATEN =
  /^(relu_?|elu_?|prelu|_prelu_kernel|gelu_?|silu_?|hardtanh_?|relu6|_?softmax|(max|avg)_pool[123]d(_with_indices)?|_?adaptive_(avg|max)_pool[123]d|mean|upsample_\w+)$/;
/** The IR ops a patched functional becomes. */
const F_OPS = new Set(["Relu", "Elu", "PRelu", "Gelu", "Softmax", "Resize", "Upsample", ...POOL_OPS]);
/** torch functions and Tensor methods ptflops patches (`patch_tensor_ops`), by the aten op they issue. */
const TENSOR_OPS = new Set(["matmul", "mm", "bmm", "addmm", "baddbmm", "mul", "add"]);

function numelOf(s: Shape | undefined): number | null {
  return s ? numel(s) : null;
}

/** ptflops' functional hook for a layer made by a patched call: input numel (interpolate: its own rule). */
function ptflopsFunctional(l: LayerState): Count | null {
  const op = l.node.op;
  if (op === "Resize" || op === "Upsample") {
    const x = shapeIn(l);
    const y = l.ctx.outputs[0]?.shape;
    if (!x || !y) return null;
    if (l.node.inputs[3]) {
      // size given: ptflops adds prod(size) — the output's spatial sizes only.
      const n = numelOf(y.slice(2));
      return n === null ? null : { value: n, how: () => `F.interpolate prod(size) = ${fmt(n)}` };
    }
    // scale given: input.numel() · scale ** len(input), len(input) being the batch size.
    const n = numelIn(l);
    const [b, hi, ho] = [x[0], x[2], y[2]];
    if (n === null || typeof b !== "number" || typeof hi !== "number" || typeof ho !== "number") return null;
    const value = mul(n, (ho / hi) ** b);
    return { value, how: () => `F.interpolate numel(x)·scale^len(x) = ${fmt(n)}·${ho / hi}^${b}` };
  }
  const n = op === "Mul" ? numelOut(l) : poolInput(l).n; // silu: the Mul of x·sigmoid(x)
  return n === null ? null : { value: n, how: () => `F numel(x) = ${fmt(n)}` };
}

/** Whether a patched torch.nn.functional call made this layer; `approx` when the file does not say. */
function viaFunctional(l: LayerState, p: Provenance): { yes: boolean; approx: boolean } {
  const op = l.node.op;
  if (p.call) {
    const { kind, fn } = p.call;
    const yes = (kind === "function" && F_FUNCTIONS.has(fn)) || (kind === "builtin_function_or_method" && F_BUILTINS.has(fn));
    return { yes, approx: false };
  }
  const silu = p.aten === "silu" || p.aten === "silu_";
  if (!F_OPS.has(op) && !(silu && op === "Mul")) return { yes: false, approx: false };
  // An aten op no patched functional issues (attention's softmax, a mean written in model code).
  if (p.aten && !F_ATEN.test(p.aten)) return { yes: false, approx: false };
  // ReduceMean is an adaptive average pool only inside one.
  if (op === "ReduceMean" || op === "ReduceMax") return { yes: p.leaf !== undefined && PT_POOL.has(p.leaf), approx: !p.known };
  if (p.leaf?.startsWith(TORCH_NN)) return { yes: CALLS_PATCHED_F.has(p.leaf), approx: false };
  // In the model's own code: F.relu, torch.relu or x.relu() — assumed F.*.
  return { yes: true, approx: true };
}

/** ptflops' module hook for this layer, or null when the layer carries none. */
function ptflopsHook(c: Cost, l: LayerState, cls: string, p: Provenance): Count | null | "none" {
  const op = l.node.op;
  if ((PT_CONV.has(cls) && op === "Conv") || (p.foldedBn && op === "Conv")) {
    // conv_flops_counter_hook: MACs, plus out_channels per output position when the module has a bias.
    // A conv that absorbed a BN (ONNX) got its bias from the BN: the Conv2d before it had none (assumed).
    const bias = p.foldedBn ? 0 : c.bias;
    return bias
      ? { value: add(c.macs, bias), how: () => `macs + bias = ${fmt(c.macs)} + ${fmt(bias)}` }
      : { value: c.macs, how: () => `macs = ${fmt(c.macs)}` };
  }
  if (PT_CONVT.has(cls) && op === "ConvTranspose") return ptflopsTransposed(c, l);
  if (PT_RELU.has(cls) && ACT_OPS.has(op)) {
    const n = numelOut(l);
    return n === null ? null : { value: n, how: () => `${short(cls)} hook numel(y) = ${fmt(n)}` };
  }
  if (PT_POOL.has(cls) && POOL_OPS.has(op)) {
    const { n, padded } = poolInput(l);
    return n === null ? null : { value: n, how: () => `${short(cls)} hook numel(x${padded ? " before the Pad" : ""}) = ${fmt(n)}` };
  }
  if (PT_NORM.has(cls) && NORMS.has(op)) {
    // bn_flops_counter_hook doubles when `module.affine`: LayerNorm has no such attribute (elementwise_affine).
    const n = numelIn(l);
    if (n === null) return null;
    const twice = !cls.endsWith(".LayerNorm") && isAffine(l);
    return twice
      ? { value: mul(2, n), how: () => `${short(cls)} hook 2·numel(x) (affine) = 2·${fmt(n)}` }
      : { value: n, how: () => `${short(cls)} hook numel(x) = ${fmt(n)}` };
  }
  if (cls === PT_LINEAR && (op === "Gemm" || op === "MatMul")) {
    // linear_flops_counter_hook: numel(input)·out_features + out_features if bias (once, not per row).
    const x = numelIn(l);
    const y = l.ctx.outputs[0]?.shape;
    const nOut = y?.[y.length - 1];
    if (x === null || typeof nOut !== "number") return null;
    const bias = op === "Gemm" && l.ctx.inputs[2] ? nOut : 0;
    const value = add(mul(x, nOut), bias);
    return { value, how: () => `numel(x)·out${bias ? " + out" : ""} = ${fmt(x)}·${nOut}${bias ? ` + ${nOut}` : ""}` };
  }
  if (cls === PT_LINEAR && op === "Add") {
    // The bias add of a Linear on more than two dims: the hook's `+ out_features`.
    const y = l.ctx.outputs[0]?.shape;
    const nOut = y?.[y.length - 1];
    return typeof nOut === "number" ? { value: nOut, how: () => `Linear hook bias out = ${nOut}` } : null;
  }
  if (cls === PT_UPSAMPLE && (op === "Resize" || op === "Upsample")) {
    const n = numelOut(l);
    return n === null ? null : { value: n, how: () => `Upsample hook numel(y) = ${fmt(n)}` };
  }
  return "none";
}

function short(cls: string): string {
  return cls.slice(cls.lastIndexOf(".") + 1);
}

function ptflopsTransposed(c: Cost, l: LayerState): Count | null {
  const t = transposeFacts(l);
  if (!t) return null;
  const m = mul(t.batch, t.outSpatial, t.kernel, t.cin, t.cout / t.g);
  const value = add(m, c.bias);
  return {
    value,
    how: () =>
      `N·Π(out)·Πk·C_in·(C_out/g) + bias = ${t.batch}·${fmt(t.outSpatial)}·${t.kernel}·${t.cin}·(${t.cout}/${t.g}) + ${fmt(c.bias)} (counted on the output: ptflops' rule)`,
  };
}

/** Sums counts; null when one is unknown. */
function sum(parts: (Count | null)[]): Count | null {
  if (parts.some((x) => x === null)) return null;
  const ps = parts as Count[];
  if (ps.length === 1) return ps[0];
  return { value: add(...ps.map((x) => x.value)), how: () => ps.map((x) => x.how()).join(" + ") };
}

/** ptflops with module types known: module hook + patched functional + patched tensor op. */
function ptflopsKnown(c: Cost, l: LayerState, p: Provenance): Count | null {
  const parts: (Count | null)[] = [];
  const hook = p.leaf ? ptflopsHook(c, l, p.leaf, p) : "none";
  if (hook !== "none") parts.push(hook);
  if (p.foldedBn) {
    // The BatchNorm2d the exporter folded in: its hook 2·numel (affine, as torchvision's are).
    const n = numelOut(l);
    parts.push(n === null ? null : { value: mul(2, n), how: () => `folded BatchNorm2d hook 2·numel = 2·${fmt(n)}` });
  }
  if (viaFunctional(l, p).yes && !p.part) parts.push(ptflopsFunctional(l));
  if (p.call && TENSOR_OPS.has(p.call.fn) && p.call.kind === "builtin_function_or_method") {
    // torch.matmul / torch.add … (a Tensor method such as x.add(y) and the operator x + y look the
    // same in an export; both are taken as the operator, which ptflops does not see).
    const n = l.node.op === "Gemm" ? add(c.macs, numelIn(l, 2) ?? 0) : l.node.op === "MatMul" ? c.macs : numelOut(l);
    parts.push(n === null ? null : { value: n, how: () => `torch.${p.call?.fn} = ${fmt(n)}` });
  }
  if (parts.length === 0)
    return none(p.part ? "counted with its aten call" : `ptflops has no hook for ${p.leaf ? short(p.leaf) : "this op"} here`);
  return sum(parts);
}

/**
 * ptflops' pytorch backend without module types (any file but a `.pt2` or dynamo ONNX): every
 * layer is taken as the standard torch module. Conv/Linear: MACs + bias; ReLU, ELU, PReLU,
 * GELU and every pooling twice (the module's hook and the patched F call its forward makes);
 * LeakyReLU and ReLU6 once; norms numel (×2 affine); up-sampling numel(y) + F.interpolate;
 * softmax numel (F.softmax). Transposed conv on the output size (ptflops' error).
 */
function ptflopsAssumed(c: Cost, l: LayerState): Count | null {
  const op = l.node.op;
  if (op === "Conv" || op === "Gemm") {
    if (!c.bias) return { value: c.macs, how: () => `macs = ${fmt(c.macs)}` };
    return { value: add(c.macs, c.bias), how: () => `macs + bias = ${fmt(c.macs)} + ${fmt(c.bias)}` };
  }
  if (op === "MatMul") return { value: c.macs, how: () => `macs = ${fmt(c.macs)}` };
  if (op === "ConvTranspose") return ptflopsTransposed(c, l);
  if (op === "LeakyRelu" || op === "Clip") {
    const n = numelOut(l);
    return n === null ? null : { value: n, how: () => `numel(y) = ${fmt(n)}` };
  }
  if (op === "Relu" || op === "Elu" || op === "PRelu" || op === "Gelu") {
    const n = numelOut(l);
    return n === null
      ? null
      : { value: mul(2, n), how: () => `hook numel(y) + F numel(x) = 2·${fmt(n)} (module and functional both count)` };
  }
  if (PTFLOPS_POOLS.has(op)) {
    const { n, padded } = poolInput(l);
    const x = padded ? "numel(x before the Pad)" : "numel(x)";
    return n === null ? null : { value: mul(2, n), how: () => `hook ${x} + F ${x} = 2·${fmt(n)} (module and functional both count)` };
  }
  if (NORMS.has(op)) {
    const n = numelIn(l);
    if (n === null) return null;
    return isAffine(l)
      ? { value: mul(2, n), how: () => `2·numel(x) (affine) = 2·${fmt(n)}` }
      : { value: n, how: () => `numel(x) = ${fmt(n)}` };
  }
  if (op === "Resize" || op === "Upsample") {
    const n = numelOut(l);
    return sum([n === null ? null : { value: n, how: () => `hook numel(y) = ${fmt(n)}` }, ptflopsFunctional(l)]);
  }
  if (op === "Softmax" || op === "LogSoftmax") {
    const n = numelIn(l);
    return n === null ? null : { value: n, how: () => `F numel(x) = ${fmt(n)}` };
  }
  return none("ptflops has no hook for this op");
}

const PTFLOPS_POOLS = new Set(["MaxPool", "AveragePool", "LpPool", "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"]);

/**
 * ptflops (sovrasov/flops-counter.pytorch, `backend="pytorch"`, count_functional=True): module
 * hooks on a batch-1 input (pytorch_ops.py MODULES_MAPPING, exact classes) plus the patched
 * torch.nn.functional and tensor calls (pytorch_engine.py patch_functional / patch_tensor_ops),
 * so nn.ReLU, nn.MaxPool2d, nn.AdaptiveAvgPool2d … count twice and F.relu in model code once.
 * Exact with module types known; otherwise the layer is assumed to be the standard module.
 */
const ptflops: Convention = {
  name: "ptflops",
  used: 'ptflops (backend="pytorch", count_functional=True; its "GMac")',
  includes:
    "module hooks (conv/linear MACs + bias, ReLU/GELU numel, pooling input numel, norms numel ×2 affine) plus patched F.* calls (nn.ReLU and poolings twice); x + y, F.hardswish, F.layer_norm 0; transposed conv on the output size (ptflops' error)",
  measure(c, l) {
    const p = provenance(l.node);
    return p.known ? ptflopsKnown(c, l, p) : ptflopsAssumed(c, l);
  },
  approximated(l) {
    const p = provenance(l.node);
    const op = l.node.op;
    if (!p.known) {
      if (op === "Relu" || op === "Elu" || op === "PRelu" || op === "Gelu" || PTFLOPS_POOLS.has(op))
        return "module types unknown: taken as an nn module, counted twice (hook + the patched F call in its forward); an F.* call in model code counts once (half), torch.relu or x.relu() 0";
      if (op === "MatMul" && !l.ctx.inputs[1]?.constant)
        return "module types unknown: matmul of activations is taken as torch.matmul; written as @ ptflops counts 0";
      return null;
    }
    if (p.foldedBn) return "batch norm folded into the conv: counted as an affine BatchNorm2d (2·numel) after a conv without bias";
    if (!p.call && viaFunctional(l, p).approx) return "call not recorded: taken as F.* (torch.relu or x.relu() would count 0)";
    return null;
  },
};

/** ptflops' aten backend (aten_ops.py ATEN_OPS_MAPPING): convolution, mm, matmul, addmm, bmm only. */
const ptflopsAten: Convention = {
  name: "ptflops-aten",
  used: 'ptflops (backend="aten")',
  includes:
    "aten.convolution and aten.mm/matmul/addmm/bmm only: MACs, conv and addmm with their bias (one add per output); attention through the CPU flash kernel 0; nothing else",
  measure(c, l) {
    const p = provenance(l.node);
    const op = l.node.op;
    if (p.aten === "scaled_dot_product_attention" || p.part === "attention")
      return none("scaled_dot_product_attention runs a flash kernel the aten backend does not count");
    if (op === "Conv" || op === "ConvTranspose") {
      const bias = p.foldedBn ? 0 : c.bias;
      return bias
        ? { value: add(c.macs, bias), how: () => `convolution macs + bias = ${fmt(c.macs)} + ${fmt(bias)}` }
        : { value: c.macs, how: () => `convolution macs = ${fmt(c.macs)}` };
    }
    if (op === "Gemm") {
      if (!c.bias) return { value: c.macs, how: () => `mm macs = ${fmt(c.macs)}` };
      return { value: add(c.macs, c.bias), how: () => `addmm macs + bias = ${fmt(c.macs)} + ${fmt(c.bias)}` };
    }
    if (op === "MatMul") return { value: c.macs, how: () => `mm/bmm macs = ${fmt(c.macs)}` };
    if (op === "Add" && (p.part === "bias" || p.leaf === PT_LINEAR)) {
      // linear on a (contiguous) 3-d input runs as one addmm on the flattened rows: its bias here.
      const n = numelOut(l);
      return n === null ? null : { value: n, how: () => `addmm bias = ${fmt(n)}` };
    }
    if (op === "Einsum") return { value: c.macs, how: () => `bmm macs = ${fmt(c.macs)}` };
    return none("not an aten op the aten backend counts");
  },
};

/** torch.utils.flop_counter.FlopCounterMode: 2 per MAC of conv, mm, bmm, addmm, baddbmm and attention; no bias. */
const torchFlops: Convention = {
  name: "torch",
  used: "torch.utils.flop_counter.FlopCounterMode (attention under SDPBackend.MATH)",
  includes: "2 per MAC of convolution, mm/addmm/bmm/matmul and scaled-dot-product attention; no bias, norm, activation or pooling",
  measure: (c) =>
    c.macs
      ? { value: mul(2, c.macs), how: () => `2·macs = 2·${fmt(c.macs)}` }
      : none("FlopCounterMode counts only matmuls and convolutions"),
  count: (c) => mul(2, c.macs),
};

/** thop's per-element cost of up-sampling by mode (its calculate_upsample). */
function thopUpsample(l: LayerState): number {
  const mode = l.ctx.attrs.str("mode", "nearest").toLowerCase();
  const rank = l.ctx.outputs[0]?.shape?.length ?? 4;
  if (mode === "linear" || mode === "bilinear") return rank === 3 ? 5 : rank === 5 ? 31 : 11;
  if (mode === "cubic" || mode === "bicubic") return 224 + 35;
  return 1;
}

/** thop's register_hooks (profile.py): exact module classes and their rules (vision/basic_hooks.py, calc_func.py). */
const TH_CONV = new Set(nn("conv.Conv1d conv.Conv2d conv.Conv3d conv.ConvTranspose1d conv.ConvTranspose2d conv.ConvTranspose3d"));
const TH_BN = new Set(nn("batchnorm.BatchNorm1d batchnorm.BatchNorm2d batchnorm.BatchNorm3d batchnorm.SyncBatchNorm"));
const TH_ZERO = new Set(
  nn(
    "activation.ReLU activation.ReLU6 pooling.MaxPool1d pooling.MaxPool2d pooling.MaxPool3d pooling.AdaptiveMaxPool1d pooling.AdaptiveMaxPool2d pooling.AdaptiveMaxPool3d dropout.Dropout padding.ZeroPad2d",
  ),
);
const TH_AVG = new Set(nn("pooling.AvgPool1d pooling.AvgPool2d pooling.AvgPool3d"));
const TH_ADAPTIVE_AVG = new Set(nn("pooling.AdaptiveAvgPool1d pooling.AdaptiveAvgPool2d pooling.AdaptiveAvgPool3d"));
const TH_UPSAMPLE = new Set(nn("upsampling.Upsample upsampling.UpsamplingBilinear2d upsampling.UpsamplingNearest2d"));

/** count_adap_avgpool: (Π(in/out) + 1)·numel(y), the ratio in floating point, truncated at the end. */
function thopAdaptive(l: LayerState): Count | null {
  const x = shapeIn(l);
  const y = l.ctx.outputs[0]?.shape;
  const n = numelOut(l);
  if (!x || !y || n === null) return null;
  const spatial = x.length - 2;
  const outSpatial = y.length === x.length ? y.slice(2) : new Array(spatial).fill(1); // ReduceMean without keepdims
  let k = 1;
  for (let i = 0; i < spatial; i++) {
    const a = x[2 + i];
    const b = outSpatial[i];
    if (typeof a !== "number" || typeof b !== "number") return null;
    k *= a / b;
  }
  const value = Math.trunc((k + 1) * n);
  return { value, how: () => `(Π(in/out) + 1)·numel(y) = (${fmt(k)} + 1)·${fmt(n)}` };
}

function thopKnown(c: Cost, l: LayerState, p: Provenance): Count | null {
  const op = l.node.op;
  const cls = p.leaf ?? "";
  if (p.foldedBn) {
    // Conv2d (MACs, no bias) and the BatchNorm2d folded into it (2·numel, ×2 affine).
    const n = numelOut(l);
    if (n === null) return null;
    return { value: add(c.macs, mul(4, n)), how: () => `macs + folded BatchNorm2d 2·numel·2 = ${fmt(c.macs)} + 4·${fmt(n)}` };
  }
  if (TH_CONV.has(cls) && (op === "Conv" || op === "ConvTranspose")) return thopAssumed(c, l);
  if (TH_BN.has(cls) && op === "BatchNormalization") return thopAssumed(c, l);
  if (cls === `${TORCH_NN}activation.LeakyReLU` && op === "LeakyRelu") return thopAssumed(c, l);
  if (TH_AVG.has(cls) && op === "AveragePool") {
    const n = numelOut(l);
    return n === null ? null : { value: n, how: () => `numel(y) = ${fmt(n)}` };
  }
  if (TH_ADAPTIVE_AVG.has(cls) && POOL_OPS.has(op)) return thopAdaptive(l);
  if (cls === PT_LINEAR && (op === "Gemm" || op === "MatMul")) {
    // count_linear: in_features · numel(y), no bias.
    const n = numelOut(l);
    const x = shapeIn(l);
    const fin = x?.[x.length - 1];
    if (n === null || typeof fin !== "number") return null;
    return { value: mul(fin, n), how: () => `in_features·numel(y) = ${fin}·${fmt(n)}` };
  }
  if (TH_UPSAMPLE.has(cls) && (op === "Resize" || op === "Upsample")) return thopAssumed(c, l);
  if (TH_ZERO.has(cls)) return none(`thop counts ${short(cls)} as zero`);
  return none(p.part ? "counted with its aten call" : `thop has no rule for ${cls ? short(cls) : "functional calls"}`);
}

/**
 * thop without module types: each layer taken as the torch module it usually is. Conv:
 * numel(y)·(C_in/g)·Πk, no bias (transposed conv through the same formula, on the output:
 * thop's error). Linear: in_features·numel(y). Normalizations 2·numel, ×2 affine. ReLU/ReLU6
 * and max pooling 0; LeakyReLU and PReLU numel; average pooling numel(y), but a 1×1 stride-1
 * one is an identity adaptive pool as exporters write it: (1 + 1)·numel(y); global average
 * (Πk + 1)·numel(y); softmax rows·(3·features − 1); up-sampling numel(y) × 1 (nearest),
 * 5 (linear), 11 (bilinear), 31 (trilinear), 259 (bicubic). Functional ops count 0.
 */
function thopAssumed(c: Cost, l: LayerState): Count | null {
  const op = l.node.op;
  if (op === "Conv" || op === "Gemm") return { value: c.macs, how: () => `macs = ${fmt(c.macs)} (bias not counted)` };
  if (op === "MatMul") {
    if (l.ctx.inputs[1]?.constant) return { value: c.macs, how: () => `macs = ${fmt(c.macs)} (a Linear layer)` };
    return none("torch.matmul of two activations is not a module");
  }
  if (op === "ConvTranspose") {
    const t = transposeFacts(l);
    const n = numelOut(l);
    if (!t || n === null) return null;
    return {
      value: mul(n, t.cin / t.g, t.kernel),
      how: () => `numel(y)·(C_in/g)·Πk = ${fmt(n)}·(${t.cin}/${t.g})·${t.kernel} (on the output: thop's rule)`,
    };
  }
  if (NORMS.has(op)) {
    const n = numelIn(l);
    if (n === null) return null;
    return isAffine(l)
      ? { value: mul(4, n), how: () => `2·numel(x)·2 (affine) = 2·${fmt(n)}·2` }
      : { value: mul(2, n), how: () => `2·numel(x) = 2·${fmt(n)}` };
  }
  if (op === "LeakyRelu" || op === "PRelu") {
    const n = numelIn(l);
    return n === null ? null : { value: n, how: () => `numel(x) = ${fmt(n)}` };
  }
  if (op === "AveragePool") {
    const n = numelOut(l);
    if (n === null) return null;
    if (isIdentityPool(l)) return { value: mul(2, n), how: () => `(1 + 1)·numel(y) = 2·${fmt(n)} (an identity adaptive pool)` };
    return { value: n, how: () => `numel(y) = ${fmt(n)}` };
  }
  if (op === "GlobalAveragePool") return thopAdaptive(l);
  if (op === "Softmax") {
    const y = l.ctx.outputs[0]?.shape;
    const n = numelOut(l);
    if (!y || n === null || y.length === 0) return null;
    let axis = l.ctx.attrs.int("axis", l.ctx.opset < 13 ? 1 : -1);
    if (axis < 0) axis += y.length;
    const f = l.ctx.opset < 13 ? numel(y.slice(axis)) : y[axis];
    if (typeof f !== "number") return null;
    const rows = n / f;
    return { value: mul(rows, 3 * f - 1), how: () => `rows·(3·features − 1) = ${fmt(rows)}·(3·${fmt(f)} − 1)` };
  }
  if (op === "Resize" || op === "Upsample") {
    const n = numelOut(l);
    const k = thopUpsample(l);
    return n === null ? null : { value: mul(n, k), how: () => `numel(y)·${k} = ${fmt(n)}·${k}` };
  }
  return none("thop has no hook for this op, or counts it 0");
}

/** A 1×1, stride-1, unpadded average pool: what the exporter writes for adaptive_avg_pool2d to the same size. */
function isIdentityPool(l: LayerState): boolean {
  const k = l.ctx.attrs.ints("kernel_shape", []);
  const s = l.ctx.attrs.ints("strides", []);
  const pads = l.ctx.attrs.ints("pads", []);
  return k.length > 0 && k.every((v) => v === 1) && s.every((v) => v === 1) && pads.every((v) => v === 0);
}

/**
 * thop (Lyken17/pytorch-OpCounter, profile.py register_hooks): module hooks on exact classes,
 * counting the whole batch. Exact with module types known; otherwise each layer is taken as
 * the standard module.
 */
const thop: Convention = {
  name: "thop",
  used: "thop / pytorch-OpCounter (profile)",
  includes:
    "conv/linear MACs without bias, BatchNorm 2·numel (×2 affine), avg pool numel(y), adaptive avg (Π(in/out) + 1)·numel(y), upsample; ReLU, max pool 0; modules it has no rule for (LayerNorm, GELU, Hardswish) and functional calls 0; transposed conv on the output size (thop's error)",
  measure(c, l) {
    const p = provenance(l.node);
    return p.known ? thopKnown(c, l, p) : thopAssumed(c, l);
  },
  approximated(l) {
    const p = provenance(l.node);
    const op = l.node.op;
    if (p.known) return p.foldedBn ? "batch norm folded into the conv: counted as an affine BatchNorm2d (4·numel)" : null;
    if (NORMS.has(op) && op !== "BatchNormalization")
      return "module types unknown: taken as a module thop counts; timm's or torch's LayerNorm/GroupNorm count 0 in thop";
    if (op === "Relu" || op === "MaxPool") return null;
    if (op === "Gelu" || op === "HardSwish" || op === "Softmax") return null;
    if (op === "AveragePool" && isIdentityPool(l))
      return "1×1 stride-1 average pool taken as an identity adaptive pool (2·numel); an nn.AvgPool2d(1) counts numel";
    return null;
  },
};

/**
 * Netscope's (dgschwend/netscope, Caffe analyzer) columns for one layer, whole batch.
 * Convolution macc = k²·H_out·W_out·C_in·C_out/group (no bias; groups since its PR #11);
 * InnerProduct macc = inputs·outputs; pooling MAX comp / AVE add = output·k² (k², not
 * k² − 1), global pooling input numel; BatchNorm add + div per element, and the Scale layer
 * Caffe pairs with it (our affine BN) a macc per element; LRN macc size·n, add n, exp n,
 * div 2n; ReLU/PReLU/ELU and Dropout comp per element; Softmax exp, add and div per element;
 * Eltwise SUM add, PROD macc, MAX comp per output element. Deconvolution macc =
 * C_in·C_out·H_out·W_out·(k/s)² — on the output size and without groups (wrong, reproduced
 * only here; rounded to an integer). Layers it does not analyse count 0.
 */
/** Layers Netscope counts one comparison per element for: the ReLU family and Dropout. */
const NETSCOPE_COMP = new Set(["Relu", "Clip", "PRelu", "Elu", "LeakyRelu", "Dropout"]);

export function netscopeParts(c: Cost, l: LayerState): NetscopeParts | null {
  const p: NetscopeParts = { macc: 0, comp: 0, add: 0, div: 0, exp: 0 };
  const op = l.node.op;
  if (op === "Conv" || op === "Gemm" || op === "MatMul") p.macc = c.macs;
  else if (op === "ConvTranspose") {
    const t = transposeFacts(l);
    if (!t) return null;
    const perImage = Math.round((t.cin * t.cout * t.outSpatial * t.kernel) / t.stride);
    p.macc = mul(t.batch, perImage);
  } else if (op === "MaxPool" || op === "AveragePool") {
    const n = numelOut(l);
    if (n === null) return null;
    p[op === "MaxPool" ? "comp" : "add"] = mul(n, kernelProduct(l));
  } else if (op === "GlobalMaxPool" || op === "GlobalAveragePool") {
    const n = numelIn(l);
    if (n === null) return null;
    p[op === "GlobalMaxPool" ? "comp" : "add"] = n;
  } else if (op === "BatchNormalization") {
    const n = numelIn(l);
    if (n === null) return null;
    p.add = n;
    p.div = n;
    if (isAffine(l)) p.macc = n;
  } else if (op === "LRN") {
    const n = numelIn(l);
    if (n === null) return null;
    p.macc = mul(n, l.ctx.attrs.int("size"));
    p.add = n;
    p.exp = n;
    p.div = mul(2, n);
  } else if (NETSCOPE_COMP.has(op)) {
    const n = numelIn(l);
    if (n === null) return null;
    p.comp = n;
  } else if (op === "Softmax") {
    const n = numelIn(l);
    if (n === null) return null;
    p.exp = n;
    p.add = n;
    p.div = n;
  } else if (op === "Add" || op === "Sum" || op === "Sub" || op === "Mul" || op === "Max") {
    const n = numelOut(l);
    if (n === null) return null;
    p[op === "Mul" ? "macc" : op === "Max" ? "comp" : "add"] = n;
  }
  return p;
}

const netscope: Convention = {
  name: "netscope",
  used: "Netscope CNN Analyzer (Caffe; its macc column)",
  includes:
    "macc of conv/fc (groups honoured), Scale, Eltwise PROD and LRN; comp/add/div/exp reported apart; deconvolution on the output size (Netscope's error)",
  count: (c, l) => netscopeParts(c, l)?.macc ?? null,
  measure(c, l) {
    const p = netscopeParts(c, l);
    if (!p) return null;
    const apart = () => {
      const rest = (["comp", "add", "div", "exp"] as const).filter((k) => p[k]).map((k) => `${k} ${fmt(p[k])}`);
      return rest.length ? ` (apart: ${rest.join(", ")})` : "";
    };
    if (l.node.op === "ConvTranspose" && p.macc) {
      return {
        value: p.macc,
        how: () => `C_in·C_out·Π(out)·Πk/Πs per image, rounded = ${fmt(p.macc)} (on the output: Netscope's rule)${apart()}`,
      };
    }
    return { value: p.macc, how: () => `macc = ${fmt(p.macc)}${apart()}` };
  },
};

const seed: Convention = {
  name: "seed",
  used: "the seed article (AlexNet by hand)",
  includes: "conv (k·k·c_in/groups + 1)·H·W·c_out and fully-connected (o1 + 1)·o2; nothing else",
  measure: (c) => ({ value: c.seed, how: () => (c.seed ? `seed = ${fmt(c.seed)}` : "0 (only conv and fully-connected count)") }),
  count: (c) => c.seed,
};

export const CONVENTIONS: readonly Convention[] = [macs, flops, ptflops, thop, netscope, seed, ptflopsAten, torchFlops];

/**
 * One layer's count in every convention, as a record in CONVENTIONS' order (`values[k]` is
 * convention k's). Written as one literal: a record filled key by key keeps its later keys
 * out of line, one more object per layer on a 100,000-layer graph.
 */
export function byConventionRecord(v: readonly (number | null)[]): Record<string, number | null> {
  return { macs: v[0], flops: v[1], ptflops: v[2], thop: v[3], netscope: v[4], seed: v[5], "ptflops-aten": v[6], torch: v[7] };
}

{
  const keys = Object.keys(byConventionRecord([])).join();
  if (keys !== CONVENTIONS.map((c) => c.name).join()) throw new Error(`byConventionRecord lists ${keys}, not the conventions`);
}

export function convention(name: string): Convention | undefined {
  return CONVENTIONS.find((c) => c.name === name);
}

/** The layer's count in a convention (whole batch), or null when a size is unknown. */
export function countIn(cv: Convention, c: Cost, layer: LayerState): number | null {
  return cv.count ? cv.count(c, layer) : (cv.measure(c, layer)?.value ?? null);
}
