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

export const fmt = (n: number): string => n.toLocaleString("en-US");

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
  const kernel = numel(w.slice(2));
  const outSpatial = numel(y.slice(2));
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

/**
 * ptflops (sovrasov/flops-counter.pytorch, `backend="pytorch"`): module hooks on a batch-1
 * input. Conv and Linear: MACs + one per output element with a bias; ReLU-family and GELU:
 * output numel; every pooling (adaptive included): *input* numel; batch/instance/group/layer
 * norm: input numel, doubled when affine; upsampling and softmax: output numel. Transposed
 * conv goes through the conv hook, so it is counted on the *output* positions
 * (k·C_in·C_out/g per output position) — wrong, reproduced only here. `x + y` written as an
 * operator (torchvision's residual adds) is invisible to it; other ops count 0.
 */
/** ptflops' hooks that count the output's elements, and those that count the input's (every pooling). */
const PTFLOPS_OUTPUT_NUMEL = new Set(["Relu", "PRelu", "Elu", "LeakyRelu", "Clip", "Gelu", "Resize", "Upsample", "Softmax", "LogSoftmax"]);
const PTFLOPS_INPUT_NUMEL = new Set(["MaxPool", "AveragePool", "LpPool", "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"]);

const ptflops: Convention = {
  name: "ptflops",
  used: 'ptflops (pytorch backend; its "GMac")',
  includes:
    "MACs + 1 per biased output, ReLU-family numel, pooling input numel, norms numel (×2 affine), upsample/softmax numel; transposed conv on the output size (ptflops' error); element-wise ops 0",
  measure(c, l) {
    const op = l.node.op;
    if (op === "Conv" || op === "Gemm") {
      if (!c.bias) return { value: c.macs, how: () => `macs = ${fmt(c.macs)}` };
      return { value: add(c.macs, c.bias), how: () => `macs + bias = ${fmt(c.macs)} + ${fmt(c.bias)}` };
    }
    if (op === "MatMul") return { value: c.macs, how: () => `macs = ${fmt(c.macs)}` };
    if (op === "ConvTranspose") {
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
    if (PTFLOPS_OUTPUT_NUMEL.has(op)) {
      const n = numelOut(l);
      return n === null ? null : { value: n, how: () => `numel(y) = ${fmt(n)}` };
    }
    if (PTFLOPS_INPUT_NUMEL.has(op)) {
      const n = numelIn(l);
      return n === null ? null : { value: n, how: () => `numel(x) = ${fmt(n)}` };
    }
    if (NORMS.has(op)) {
      const n = numelIn(l);
      if (n === null) return null;
      return isAffine(l)
        ? { value: mul(2, n), how: () => `2·numel(x) (affine) = 2·${fmt(n)}` }
        : { value: n, how: () => `numel(x) = ${fmt(n)}` };
    }
    return none("ptflops has no hook for this op");
  },
};

/** thop's per-element cost of up-sampling by mode (its calculate_upsample). */
function thopUpsample(l: LayerState): number {
  const mode = l.ctx.attrs.str("mode", "nearest").toLowerCase();
  const rank = l.ctx.outputs[0]?.shape?.length ?? 4;
  if (mode === "linear" || mode === "bilinear") return rank === 3 ? 5 : rank === 5 ? 31 : 11;
  if (mode === "cubic" || mode === "bicubic") return 224 + 35;
  return 1;
}

/**
 * thop (pytorch-OpCounter, pip 0.1.1): module hooks counting the whole batch. Conv:
 * output numel·(C_in/g)·Πk, no bias — and transposed conv through the same formula, so on
 * the output size (wrong, reproduced only here). Linear: in_features·output numel.
 * Normalizations: 2·numel, ×2 when affine. ReLU/ReLU6 and max pooling 0; LeakyReLU and
 * PReLU numel; average pooling output numel; adaptive/global average (Πk + 1)·output numel;
 * softmax rows·(3·features − 1); upsampling output numel × 1 (nearest), 5 (linear), 11
 * (bilinear), 31 (trilinear), 259 (bicubic). Functional ops (`+`, `torch.matmul` of two
 * activations) are not modules and count 0.
 */
const thop: Convention = {
  name: "thop",
  used: "thop / pytorch-OpCounter (profile)",
  includes:
    "MACs without bias, norms 2·numel (×2 affine), avg pool output numel, global avg (HW+1)·C, softmax, upsample; ReLU and max pool 0; transposed conv on the output size (thop's error)",
  measure(c, l) {
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
      return n === null ? null : { value: n, how: () => `numel(y) = ${fmt(n)}` };
    }
    if (op === "GlobalAveragePool") {
      const x = shapeIn(l);
      const n = numelOut(l);
      const k = x ? numel(x.slice(2)) : null;
      if (n === null || k === null) return null;
      return { value: mul(k + 1, n), how: () => `(Π(in spatial) + 1)·numel(y) = (${fmt(k)} + 1)·${fmt(n)}` };
    }
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
  const out = () => numelOut(l);
  const inp = () => numelIn(l);
  if (op === "Conv" || op === "Gemm" || op === "MatMul") p.macc = c.macs;
  else if (op === "ConvTranspose") {
    const t = transposeFacts(l);
    if (!t) return null;
    const perImage = Math.round((t.cin * t.cout * t.outSpatial * t.kernel) / t.stride);
    p.macc = mul(t.batch, perImage);
  } else if (op === "MaxPool" || op === "AveragePool") {
    const n = out();
    if (n === null) return null;
    p[op === "MaxPool" ? "comp" : "add"] = mul(n, kernelProduct(l));
  } else if (op === "GlobalMaxPool" || op === "GlobalAveragePool") {
    const n = inp();
    if (n === null) return null;
    p[op === "GlobalMaxPool" ? "comp" : "add"] = n;
  } else if (op === "BatchNormalization") {
    const n = inp();
    if (n === null) return null;
    p.add = n;
    p.div = n;
    if (isAffine(l)) p.macc = n;
  } else if (op === "LRN") {
    const n = inp();
    if (n === null) return null;
    p.macc = mul(n, l.ctx.attrs.int("size"));
    p.add = n;
    p.exp = n;
    p.div = mul(2, n);
  } else if (NETSCOPE_COMP.has(op)) {
    const n = inp();
    if (n === null) return null;
    p.comp = n;
  } else if (op === "Softmax") {
    const n = inp();
    if (n === null) return null;
    p.exp = n;
    p.add = n;
    p.div = n;
  } else if (op === "Add" || op === "Sum" || op === "Sub" || op === "Mul" || op === "Max") {
    const n = out();
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

export const CONVENTIONS: readonly Convention[] = [macs, flops, ptflops, thop, netscope, seed];

export function convention(name: string): Convention | undefined {
  return CONVENTIONS.find((c) => c.name === name);
}

/** The layer's count in a convention (whole batch), or null when a size is unknown. */
export function countIn(cv: Convention, c: Cost, layer: LayerState): number | null {
  return cv.count ? cv.count(c, layer) : (cv.measure(c, layer)?.value ?? null);
}
