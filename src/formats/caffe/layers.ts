import type { AttrValue } from "../../core/graph.js";
import { numel, type Shape } from "../../core/shape.js";
import type { Emitter } from "./emit.js";
import type { Fields } from "./fields.js";

/**
 * Caffe layer types translated into canonical (ONNX-named, NCHW) ops, so that every
 * formula in src/ops applies. A layer becomes one node named after it, plus helper nodes
 * named `<layer>.<role>` where ONNX needs several ops (flatten before a fully-connected
 * layer, scale then shift). Learned blobs become weight tensors `<layer>.weight`,
 * `<layer>.bias` … with the element counts of Caffe's own blobs.
 */
export interface LayerCtx {
  e: Emitter;
  /** Node name for the layer's main node (the Caffe layer name). */
  name: string;
  /** Type in today's spelling (`Convolution`, also for a V1 `CONVOLUTION`). */
  type: string;
  /** Type as the file spells it, kept as the node's `source`. */
  source: string;
  f: Fields;
  /** Input tensor names, one per `bottom`. */
  bottoms: string[];
  /** Output tensor names to produce, one per `top`. */
  tops: string[];
}

type Translate = (l: LayerCtx) => void;

/** One op of a multi-op translation; the `main` step (default: the last) takes the layer name. */
interface Step {
  role: string;
  op: string;
  /** Extra inputs after the running tensor (weights, constants). */
  extra?: string[];
  attrs?: Record<string, AttrValue>;
  main?: boolean;
}

/** Emits steps applied one after the other to `x`, the last one writing the layer's top. */
function chain(l: LayerCtx, x: string, steps: Step[], top = l.tops[0]): void {
  if (steps.length === 0) steps = [{ role: "copy", op: "Identity" }];
  const main = steps.some((s) => s.main) ? steps.findIndex((s) => s.main) : steps.length - 1;
  let cur = x;
  steps.forEach((s, i) => {
    const last = i === steps.length - 1;
    const out = last ? top : l.e.fresh(`${l.name}.${s.role}`);
    const name = i === main ? l.name : `${l.name}.${s.role}`;
    l.e.node(name, s.op, [cur, ...(s.extra ?? [])], [out], s.attrs ?? {}, l.source);
    cur = out;
  });
}

/** A one-op layer: op(bottoms…) → top. */
function simple(op: string, attrs: (l: LayerCtx) => Record<string, AttrValue> = () => ({})): Translate {
  return (l) => {
    arity(l, 1, 1);
    l.e.node(l.name, op, [l.bottoms[0]], [l.tops[0]], attrs(l), l.source);
  };
}

function arity(l: LayerCtx, bottoms: number, tops: number, maxBottoms = bottoms): void {
  if (l.bottoms.length < bottoms || l.bottoms.length > maxBottoms) {
    l.f.fail("bottom", `needs ${bottoms === maxBottoms ? bottoms : `${bottoms}–${maxBottoms}`}, got ${l.bottoms.length}`);
  }
  if (tops >= 0 && l.tops.length !== tops) l.f.fail("top", `needs ${tops}, got ${l.tops.length}`);
}

const scalar = (l: LayerCtx, role: string, v: number) => l.e.constant(`${l.name}.${role}`, "float32", [v], []);
const int64s = (l: LayerCtx, role: string, v: number[]) => l.e.constant(`${l.name}.${role}`, "int64", v);
const ones = (n: number) => new Array<number>(Math.max(n, 0)).fill(1);
const zeros = (n: number) => new Array<number>(Math.max(n, 0)).fill(0);

/** Normalizes a Caffe axis (negative counts from the end) against a known rank. */
function axisOf(l: LayerCtx, field: string, axis: number, rank: number, extra = 0): number {
  const a = axis < 0 ? axis + rank + extra : axis;
  if (a < 0 || a >= rank + extra) l.f.fail(field, `${axis} is out of range for a ${rank}-d input`);
  return a;
}

/** Shape of a tensor; a note says so when it is unknown (after a layer convscope does not know). */
function shapeOf(l: LayerCtx, tensor: string): Shape | undefined {
  const s = l.e.shape(tensor);
  if (!s) l.e.note(`layer '${l.name}': input shape unknown (after a layer convscope does not know), so its parameters are not counted`);
  return s;
}

// ---- convolution ----

/**
 * Per-axis window values of a ConvolutionParameter: `kernel_h`/`kernel_w` (2-D) or a
 * repeated `kernel_size` with one value for all axes or one per axis.
 */
function perAxis(p: Fields, name: string, h: string, w: string, n: number, def?: number): number[] {
  if (p.has(h) || p.has(w)) {
    if (n !== 2) p.fail(h, `${h}/${w} apply to 2-d convolutions only`);
    return [p.int(h, def), p.int(w, def)];
  }
  const v = p.ints(name);
  if (v.length === 0) {
    if (def === undefined) p.fail(name, "is required");
    return new Array(n).fill(def);
  }
  if (v.length === 1) return new Array(n).fill(v[0]);
  if (v.length !== n) p.fail(name, `has ${v.length} values for ${n} spatial axes`);
  return v;
}

function convolution(kind: "conv" | "deconv" | "depthwise"): Translate {
  return (l) => {
    const p = l.f.sub("convolution_param");
    if (l.bottoms.length === 0 || l.bottoms.length !== l.tops.length) l.f.fail("top", "must match the bottoms one to one");
    if (p.int("axis", 1, true) !== 1) p.fail("axis", "other than 1 (channels) is not supported");
    const m = p.int("num_output");
    // No note when the shape is unknown here: the analysis sizes C/group from the bound input (Conv's weightShape).
    const xs = l.e.shape(l.bottoms[0]);
    const n = xs ? xs.length - 2 : Math.max(p.ints("kernel_size").length, 2);
    if (n < 1) l.f.fail("bottom", `has rank ${xs?.length}: a convolution needs N, C and at least one spatial axis`);
    const kernel = perAxis(p, "kernel_size", "kernel_h", "kernel_w", n);
    const stride = perAxis(p, "stride", "stride_h", "stride_w", n, 1);
    const pad = perAxis(p, "pad", "pad_h", "pad_w", n, 0);
    const dilation = perAxis(p, "dilation", "dilation_h", "dilation_w", n, 1);
    const c = xs?.[1];
    const group = kind === "depthwise" ? (typeof c === "number" ? c : 1) : p.int("group", 1);
    if (group <= 0) p.fail("group", `must be positive, got ${group}`);
    // After an unknown layer C is unknown: the weight keeps a symbol, its count stays unknown.
    let wShape: Shape = kind === "deconv" ? ["C", `${m}/${group}`, ...kernel] : [m, `C/${group}`, ...kernel];
    if (typeof c === "number") {
      const perGroup = kind === "deconv" ? m : c;
      if (perGroup % group !== 0 || (kind !== "deconv" && m % group !== 0)) {
        p.fail("group", `${group} does not divide ${c} input and ${m} output channels`);
      }
      // Caffe's blob: [num_output, C/group, k…]; Deconvolution's: [C, num_output/group, k…] (ONNX's too).
      wShape = kind === "deconv" ? [c, m / group, ...kernel] : [m, c / group, ...kernel];
    }
    const w = l.e.weight(`${l.name}.weight`, wShape);
    const weights = [w];
    if (p.bool("bias_term", true)) weights.push(l.e.weight(`${l.name}.bias`, [m]));
    const attrs = { kernel_shape: kernel, strides: stride, pads: [...pad, ...pad], dilations: dilation, group };
    const op = kind === "deconv" ? "ConvTranspose" : "Conv";
    // Several bottoms share one set of weights, each giving its own top.
    l.bottoms.forEach((x, i) => {
      l.e.node(i === 0 ? l.name : `${l.name}#${i + 1}`, op, [x, ...weights], [l.tops[i]], attrs, l.source);
    });
  };
}

// ---- pooling ----

/**
 * Pooling attributes giving Caffe's output size: ceil((n + 2p − k)/s) + 1, then — only
 * when there is padding — a last window starting in the end padding is dropped. With
 * padding that is exactly ONNX's ceil mode (windowOutput drops such a window). Without
 * padding Caffe keeps a last window that starts past the input when kernel < stride
 * (ONNX drops it); ceil((n − k)/s) = floor((n − k + s − 1)/s), so floor mode with s − 1
 * of end padding gives Caffe's size for every n, and the begin padding (what the
 * receptive field uses) stays 0.
 */
export function caffePoolAttrs(kernel: number[], stride: number[], pad: number[], floor: boolean): Record<string, AttrValue> {
  const base = { kernel_shape: kernel, strides: stride };
  if (floor) return { ...base, pads: [...pad, ...pad], ceil_mode: 0 };
  if (pad.every((x) => x === 0) && kernel.some((k, i) => k < stride[i])) {
    return { ...base, pads: [...pad, ...stride.map((s) => s - 1)], ceil_mode: 0 };
  }
  return { ...base, pads: [...pad, ...pad], ceil_mode: 1 };
}

const pooling: Translate = (l) => {
  arity(l, 1, -1);
  if (l.tops.length > 2) l.f.fail("top", `needs 1 or 2 (output and max mask), got ${l.tops.length}`);
  const p = l.f.sub("pooling_param");
  const method = p.enumName("pool", ["MAX", "AVE", "STOCHASTIC"], "MAX");
  if (method === "STOCHASTIC") {
    l.e.note(`layer '${l.name}': stochastic pooling is counted as average pooling (its test-time form is a weighted average)`);
  }
  const x = l.bottoms[0];
  if (p.bool("global_pooling", false)) {
    l.e.node(l.name, method === "MAX" ? "GlobalMaxPool" : "GlobalAveragePool", [x], [l.tops[0]], {}, l.source);
    return;
  }
  const kernel = pair(p, "kernel_size", "kernel_h", "kernel_w");
  const stride = pair(p, "stride", "stride_h", "stride_w", 1);
  const pad = pair(p, "pad", "pad_h", "pad_w", 0);
  const floor = p.enumName("round_mode", ["CEIL", "FLOOR"], "CEIL") === "FLOOR";
  const attrs = caffePoolAttrs(kernel, stride, pad, floor);
  if (attrs.ceil_mode === 0 && !floor) {
    l.e.note(
      `layer '${l.name}': Caffe keeps a last pooling window that starts past the input (no padding, kernel < stride); represented as ${stride.map((s) => s - 1).join("×")} end padding with floor rounding`,
    );
  }
  l.e.node(l.name, method === "MAX" ? "MaxPool" : "AveragePool", [x], l.tops, attrs, l.source);
};

/** PoolingParameter's singular `kernel_size` or `kernel_h` + `kernel_w`, as [h, w]. */
function pair(p: Fields, name: string, h: string, w: string, def?: number): number[] {
  if (p.has(h) || p.has(w)) return [p.int(h, def), p.int(w, def)];
  const v = p.int(name, def);
  return [v, v];
}

// ---- fully connected ----

const innerProduct: Translate = (l) => {
  arity(l, 1, 1);
  const p = l.f.sub("inner_product_param");
  const m = p.int("num_output");
  const x = l.bottoms[0];
  // No note when the shape is unknown here: the analysis sizes K from the bound input (Gemm's weightShape).
  const xs = l.e.shape(x);
  const axisField = p.int("axis", 1, true);
  const rank = xs?.length;
  const a = rank === undefined ? axisField : axisOf(l, "inner_product_param.axis", axisField, rank);
  if (a < 0) p.fail("axis", "is negative and the input rank is unknown");
  const k = xs ? numel(xs, a) : null;
  const transpose = p.bool("transpose", false);
  // Caffe's blob is [num_output, K] ([K, num_output] with transpose), K = the product of dims from `axis` on.
  const kd = k ?? "K";
  const w = l.e.weight(`${l.name}.weight`, transpose ? [kd, m] : [m, kd]);
  const extra = [w];
  if (p.bool("bias_term", true)) extra.push(l.e.weight(`${l.name}.bias`, [m]));
  const gemm: Step = { role: "gemm", op: "Gemm", extra, attrs: { transB: transpose ? 0 : 1 }, main: true };
  const steps: Step[] = [];
  if (rank !== 2 || a !== 1) steps.push({ role: "flatten", op: "Flatten", attrs: { axis: a } });
  steps.push(gemm);
  if (a !== 1) {
    // Gemm gives [M, num_output]; Caffe keeps the dims before `axis`: [d0, …, d(axis−1), num_output].
    const lead = xs ? xs.slice(1, a) : undefined;
    if (a === 0) steps.push({ role: "reshape", op: "Reshape", extra: [int64s(l, "shape", [m])] });
    else if (lead?.every((d) => typeof d === "number")) {
      steps.push({ role: "reshape", op: "Reshape", extra: [int64s(l, "shape", [-1, ...(lead as number[]), m])] });
    } else l.e.note(`layer '${l.name}': output kept flattened (the dims before axis ${a} are unknown)`);
  }
  chain(l, x, steps);
};

// ---- activations and element-wise ----

const relu: Translate = (l) => {
  const slope = l.f.sub("relu_param").num("negative_slope", 0);
  simple(slope === 0 ? "Relu" : "LeakyRelu", (): Record<string, AttrValue> => (slope === 0 ? {} : { alpha: slope }))(l);
};

const prelu: Translate = (l) => {
  arity(l, 1, 1);
  const xs = shapeOf(l, l.bottoms[0]);
  const shared = l.f.sub("prelu_param").bool("channel_shared", false);
  // Caffe's blob: [C] (or one value when channel_shared); as an ONNX slope, [C, 1, 1] broadcasts over space.
  const c = xs?.[1];
  const shape = shared ? [1] : typeof c === "number" && xs ? [c, ...ones(xs.length - 2)] : ["C"];
  const slope = l.e.weight(`${l.name}.slope`, shape);
  l.e.node(l.name, "PRelu", [l.bottoms[0], slope], [l.tops[0]], {}, l.source);
};

/** y = (shift + scale·x)^power. */
const power: Translate = (l) => {
  arity(l, 1, 1);
  const p = l.f.sub("power_param");
  const [pw, scale, shift] = [p.num("power", 1), p.num("scale", 1), p.num("shift", 0)];
  chain(l, l.bottoms[0], affine(l, scale, shift, pw === 1 ? [] : [{ role: "pow", op: "Pow", extra: [scalar(l, "power", pw)] }]));
};

/** Mul by `scale` and Add `shift` when they are not identities, then `rest`. */
function affine(l: LayerCtx, scale: number, shift: number, rest: Step[]): Step[] {
  const steps: Step[] = [];
  if (scale !== 1) steps.push({ role: "scale", op: "Mul", extra: [scalar(l, "scale", scale)] });
  if (shift !== 0) steps.push({ role: "shift", op: "Add", extra: [scalar(l, "shift", shift)] });
  return [...steps, ...rest];
}

/** y = base^(shift + scale·x) = exp(ln base · (shift + scale·x)); base −1 means e. */
const exp: Translate = (l) => {
  arity(l, 1, 1);
  const p = l.f.sub("exp_param");
  const lnBase = logBase(p);
  chain(l, l.bottoms[0], affine(l, p.num("scale", 1) * lnBase, p.num("shift", 0) * lnBase, [{ role: "exp", op: "Exp", main: true }]));
};

/** y = log_base(shift + scale·x) = ln(shift + scale·x) / ln base; base −1 means e. */
const log: Translate = (l) => {
  arity(l, 1, 1);
  const p = l.f.sub("log_param");
  const lnBase = logBase(p);
  const tail: Step[] = [{ role: "log", op: "Log", main: true }];
  if (lnBase !== 1) tail.push({ role: "base", op: "Mul", extra: [scalar(l, "inv_ln_base", 1 / lnBase)] });
  chain(l, l.bottoms[0], affine(l, p.num("scale", 1), p.num("shift", 0), tail));
};

function logBase(p: Fields): number {
  const base = p.num("base", -1);
  if (base === -1) return 1;
  if (!(base > 0)) p.fail("base", `must be positive or -1 (e), got ${base}`);
  return Math.log(base);
}

const clip: Translate = (l) => {
  arity(l, 1, 1);
  const p = l.f.sub("clip_param");
  const lo = l.type === "ReLU6" ? 0 : p.num("min");
  const hi = l.type === "ReLU6" ? 6 : p.num("max");
  l.e.node(l.name, "Clip", [l.bottoms[0], scalar(l, "min", lo), scalar(l, "max", hi)], [l.tops[0]], {}, l.source);
};

const eltwise: Translate = (l) => {
  arity(l, 2, 1, Number.POSITIVE_INFINITY);
  const p = l.f.sub("eltwise_param");
  const op = p.enumName("operation", ["PROD", "SUM", "MAX"], "SUM");
  const coeff = p.nums("coeff");
  if (coeff.length > 0 && (op !== "SUM" || coeff.length !== l.bottoms.length)) {
    p.fail("coeff", `needs one value per bottom (${l.bottoms.length}) and operation SUM`);
  }
  const xs = l.bottoms;
  if (op === "MAX") {
    l.e.node(l.name, "Max", xs, [l.tops[0]], {}, l.source);
    return;
  }
  if (op === "PROD") {
    // ONNX Mul is binary: a chain for more than two bottoms.
    chain(
      l,
      xs[0],
      xs.slice(1).map((b, i) => ({ role: `prod${i + 1}`, op: "Mul", extra: [b] })),
    );
    return;
  }
  if (coeff.length === 2 && coeff[0] === 1 && coeff[1] === -1) {
    l.e.node(l.name, "Sub", xs, [l.tops[0]], {}, l.source);
    return;
  }
  const terms = xs.map((b, i) => {
    const c = coeff[i] ?? 1;
    if (c === 1) return b;
    const t = l.e.fresh(`${l.name}.coeff${i}`);
    l.e.node(`${l.name}.coeff${i}`, "Mul", [b, scalar(l, `coeff${i}`, c)], [t], {}, l.source);
    return t;
  });
  l.e.node(l.name, terms.length === 2 ? "Add" : "Sum", terms, [l.tops[0]], {}, l.source);
};

/**
 * Scale (y = x·γ [+ β]) and Bias (y = x + β). The blob covers `num_axes` dims from `axis`
 * (Caffe's shape, so params match); trailing ones make it broadcast the ONNX way. With a
 * second bottom, that bottom is the factor (or the bias) and only β, if any, is learned.
 */
function scaleOrBias(kind: "scale" | "bias"): Translate {
  return (l) => {
    arity(l, 1, 1, 2);
    const p = l.f.sub(`${kind}_param`);
    const x = l.bottoms[0];
    const xs = shapeOf(l, x);
    const numAxes = p.int("num_axes", 1, true);
    const rank = xs?.length;
    let blob: Shape | undefined;
    let tail = 0;
    if (xs && rank !== undefined) {
      const a = axisOf(l, `${kind}_param.axis`, p.int("axis", 1, true), rank);
      const operand = l.bottoms[1] ? l.e.shape(l.bottoms[1]) : undefined;
      const n = operand ? operand.length : numAxes === -1 ? rank - a : numAxes;
      if (a + n > rank) p.fail("num_axes", `${n} axes from axis ${a} exceed the ${rank}-d input`);
      blob = xs.slice(a, a + n);
      tail = rank - a - n;
    }
    const broadcast = blob ? [...blob, ...ones(tail)] : undefined;
    const steps: Step[] = [];
    if (l.bottoms[1]) {
      let operand = l.bottoms[1];
      if (tail > 0 && blob) {
        // The second bottom's dims line up at `axis`; trailing ones align them for broadcasting.
        operand = l.e.fresh(`${l.name}.operand`);
        l.e.node(
          `${l.name}.operand`,
          "Reshape",
          [l.bottoms[1], int64s(l, "operand_shape", [...zeros(blob.length), ...ones(tail)])],
          [operand],
        );
      }
      steps.push({ role: kind === "scale" ? "mul" : "add", op: kind === "scale" ? "Mul" : "Add", extra: [operand], main: true });
    } else if (kind === "scale") {
      steps.push({ role: "mul", op: "Mul", extra: [l.e.weight(`${l.name}.weight`, broadcast)], main: true });
    } else {
      steps.push({ role: "add", op: "Add", extra: [l.e.weight(`${l.name}.bias`, broadcast)], main: true });
    }
    if (kind === "scale" && p.bool("bias_term", false)) {
      steps.push({ role: "bias", op: "Add", extra: [l.e.weight(`${l.name}.bias`, broadcast)] });
    }
    chain(l, x, steps);
  };
}

// ---- normalization ----

const batchNorm: Translate = (l) => {
  arity(l, 1, 1);
  const xs = shapeOf(l, l.bottoms[0]);
  const c = xs?.[1];
  const cs = [typeof c === "number" ? c : "C"];
  // Caffe's three blobs — running mean, variance and their moving-average scale factor —
  // are all updated by the layer itself, never by the solver: non-trainable. Caffe's BN
  // has no γ/β (a Scale layer follows), so those ONNX inputs are omitted.
  const mean = l.e.weight(`${l.name}.mean`, cs, false);
  const variance = l.e.weight(`${l.name}.variance`, cs, false);
  const factor = l.e.weight(`${l.name}.scale_factor`, [1], false);
  const eps = l.f.sub("batch_norm_param").num("eps", 1e-5);
  l.e.node(l.name, "BatchNormalization", [l.bottoms[0], "", "", mean, variance, factor], [l.tops[0]], { epsilon: eps }, l.source);
};

const lrn: Translate = (l) => {
  arity(l, 1, 1);
  const p = l.f.sub("lrn_param");
  const size = p.int("local_size", 5);
  const alpha = p.num("alpha", 1);
  const beta = p.num("beta", 0.75);
  const k = p.num("k", 1);
  if (p.enumName("norm_region", ["ACROSS_CHANNELS", "WITHIN_CHANNEL"], "ACROSS_CHANNELS") === "ACROSS_CHANNELS") {
    l.e.node(l.name, "LRN", [l.bottoms[0]], [l.tops[0]], { size, alpha, beta, bias: k }, l.source);
    return;
  }
  // WITHIN_CHANNEL is built by Caffe itself from other layers: x · (1 + α·avgpool(x²))^−β,
  // the pool size×size with stride 1 and padding (size − 1)/2.
  const x = l.bottoms[0];
  const pad = (size - 1) >> 1;
  chain(l, x, [
    { role: "square", op: "Mul", extra: [x] },
    { role: "pool", op: "AveragePool", attrs: caffePoolAttrs([size, size], [1, 1], [pad, pad], false) },
    ...affine(l, alpha, 1, [{ role: "pow", op: "Pow", extra: [scalar(l, "power", -beta)] }]),
    { role: "product", op: "Mul", extra: [x], main: true },
  ]);
};

// ---- shape ops ----

const concat: Translate = (l) => {
  arity(l, 1, 1, Number.POSITIVE_INFINITY);
  const p = l.f.sub("concat_param");
  const axis = p.has("concat_dim") && !p.has("axis") ? p.int("concat_dim") : p.int("axis", 1, true);
  l.e.node(l.name, "Concat", l.bottoms, [l.tops[0]], { axis }, l.source);
};

/** Slice: `slice_point`s (or equal parts) along `axis` → ONNX Split with constant sizes. */
const slice: Translate = (l) => {
  arity(l, 1, -1);
  const p = l.f.sub("slice_param");
  const x = l.bottoms[0];
  const xs = shapeOf(l, x);
  const axisField = p.has("slice_dim") && !p.has("axis") ? p.int("slice_dim") : p.int("axis", 1, true);
  const axis = xs ? axisOf(l, "slice_param.axis", axisField, xs.length) : axisField;
  const points = p.ints("slice_point");
  const k = l.tops.length;
  if (points.length > 0 && points.length !== k - 1) p.fail("slice_point", `has ${points.length} points for ${k} tops (needs ${k - 1})`);
  const dim = xs?.[axis];
  const inputs = [x];
  if (typeof dim === "number") {
    let sizes: number[];
    if (points.length > 0) {
      const bounds = [0, ...points, dim];
      sizes = points.map((_, i) => bounds[i + 1] - bounds[i]).concat(dim - points[points.length - 1]);
    } else {
      if (dim % k !== 0) l.f.fail("top", `${k} tops do not divide axis ${axis} of size ${dim} evenly`);
      sizes = new Array(k).fill(dim / k);
    }
    if (sizes.some((s) => s <= 0)) p.fail("slice_point", `${points.join(", ")} must increase within 1…${dim - 1}`);
    inputs.push(int64s(l, "split", sizes));
  }
  l.e.node(l.name, "Split", inputs, l.tops, { axis }, l.source);
};

const flatten: Translate = (l) => {
  arity(l, 1, 1);
  const p = l.f.sub("flatten_param");
  const axisField = p.int("axis", 1, true);
  const endField = p.int("end_axis", -1, true);
  const x = l.bottoms[0];
  const xs = l.e.shape(x);
  if (axisField === 1 && endField === -1) {
    l.e.node(l.name, "Flatten", [x], [l.tops[0]], { axis: 1 }, l.source);
    return;
  }
  // Caffe keeps the dims before `axis` and after `end_axis`: a Reshape, 0 copying leading dims.
  if (endField === -1 && axisField >= 0) {
    l.e.node(l.name, "Reshape", [x, int64s(l, "shape", [...zeros(axisField), -1])], [l.tops[0]], {}, l.source);
    return;
  }
  if (!xs) {
    l.e.node(l.name, `caffe::${l.type}`, [x], [l.tops[0]], {}, l.source);
    return;
  }
  const a = axisOf(l, "flatten_param.axis", axisField, xs.length);
  const end = axisOf(l, "flatten_param.end_axis", endField, xs.length);
  const trailing = xs.slice(end + 1);
  if (trailing.some((d) => typeof d !== "number")) l.f.fail("flatten_param", "keeps dims after end_axis that are unknown");
  l.e.node(l.name, "Reshape", [x, int64s(l, "shape", [...zeros(a), -1, ...(trailing as number[])])], [l.tops[0]], {}, l.source);
};

/**
 * Reshape: `shape` replaces the dims [axis, axis + num_axes) of the input; 0 copies the
 * input dim at the same position and −1 is inferred — ONNX's meaning too once the kept
 * leading dims are written as 0s, so the target holds no batch size.
 */
const reshape: Translate = (l) => {
  arity(l, 1, 1);
  const p = l.f.sub("reshape_param");
  const spec = p.sub("shape").ints("dim", true);
  const axisField = p.int("axis", 0, true);
  const numAxes = p.int("num_axes", -1, true);
  const x = l.bottoms[0];
  let target: number[];
  if (axisField === 0 && numAxes === -1) target = spec;
  else {
    const xs = l.e.shape(x);
    if (!xs) {
      l.e.node(l.name, `caffe::${l.type}`, [x], [l.tops[0]], {}, l.source);
      return;
    }
    const start = axisOf(l, "reshape_param.axis", axisField, xs.length, 1);
    const end = numAxes === -1 ? xs.length : start + numAxes;
    if (numAxes < -1 || end > xs.length) p.fail("num_axes", `${numAxes} from axis ${start} exceeds the ${xs.length}-d input`);
    const trailing = xs.slice(end);
    const sameSpot = spec.length === end - start;
    if (!sameSpot && trailing.some((d) => typeof d !== "number")) p.fail("shape", "moves input dims that are unknown");
    target = [...zeros(start), ...spec, ...(sameSpot ? zeros(trailing.length) : (trailing as number[]))];
  }
  l.e.node(l.name, "Reshape", [x, int64s(l, "shape", target)], [l.tops[0]], {}, l.source);
};

/** Crop bottom 0 to bottom 1's size on the axes from `axis` on, starting at `offset` → Slice. */
const crop: Translate = (l) => {
  arity(l, 2, 1);
  const p: Fields = l.f.sub("crop_param");
  const [a, b] = [l.e.shape(l.bottoms[0]), l.e.shape(l.bottoms[1])];
  if (!a || !b) {
    shapeOf(l, l.bottoms[0]);
    l.e.node(l.name, `caffe::${l.type}`, l.bottoms, [l.tops[0]], {}, l.source);
    return;
  }
  const start = axisOf(l, "crop_param.axis", p.int("axis", 2, true), a.length);
  const axes = a.map((_, i) => i).slice(start);
  const offsets = p.ints("offset");
  if (offsets.length > 1 && offsets.length !== axes.length)
    p.fail("offset", `has ${offsets.length} values for ${axes.length} cropped axes`);
  const starts = axes.map((_, i) => (offsets.length === 0 ? 0 : (offsets[i] ?? offsets[0])));
  const ends = axes.map((ax, i) => {
    const size = b[ax];
    if (typeof size !== "number") p.fail("axis", `reference size on axis ${ax} is unknown`);
    const src = a[ax];
    if (typeof src === "number" && starts[i] + size > src) {
      p.fail("offset", `${starts[i]} + ${size} exceeds the input's ${src} on axis ${ax}`);
    }
    return starts[i] + size;
  });
  // The reference bottom only lends its shape: it is not an input of the Slice.
  const inputs = [l.bottoms[0], int64s(l, "starts", starts), int64s(l, "ends", ends), int64s(l, "axes", axes)];
  l.e.node(l.name, "Slice", inputs, [l.tops[0]], {}, l.source);
};

/** SSD's Permute: `order` lists the first axes, the others follow in order. */
const permute: Translate = (l) => {
  arity(l, 1, 1);
  const order = l.f.sub("permute_param").ints("order");
  const rank = l.e.shape(l.bottoms[0])?.length ?? order.length;
  const perm = [...order, ...Array.from({ length: rank }, (_, i) => i).filter((i) => !order.includes(i))];
  if (new Set(perm).size !== perm.length || perm.some((i) => i >= rank))
    l.f.fail("permute_param.order", `${order.join(",")} is not a permutation of ${rank} axes`);
  l.e.node(l.name, "Transpose", [l.bottoms[0]], [l.tops[0]], { perm }, l.source);
};

/**
 * DeepLab/PSPNet Interp: bilinear with aligned corners to a size from `height`/`width`,
 * `zoom_factor` (out = in + (in − 1)(zoom − 1)), `shrink_factor` (out = (in − 1)/shrink + 1),
 * both (shrink, then zoom), or a second bottom's size → Resize with constant `sizes` on H, W.
 */
const interp: Translate = (l) => {
  arity(l, 1, 1, 2);
  const p: Fields = l.f.sub("interp_param");
  const xs = l.e.shape(l.bottoms[0]);
  const spatial = xs?.slice(2);
  if (p.int("pad_beg", 0, true) !== 0 || p.int("pad_end", 0, true) !== 0 || !spatial || spatial.length !== 2) {
    shapeOf(l, l.bottoms[0]);
    l.e.node(l.name, `caffe::${l.type}`, [l.bottoms[0]], [l.tops[0]], {}, l.source);
    return;
  }
  const sizes = spatial.map((d, i) => {
    if (typeof d !== "number") return undefined;
    const zoom = p.has("zoom_factor") ? p.int("zoom_factor") : undefined;
    const shrink = p.has("shrink_factor") ? p.int("shrink_factor") : undefined;
    if (shrink !== undefined || zoom !== undefined) {
      let n = shrink !== undefined ? Math.floor((d - 1) / shrink) + 1 : d;
      if (zoom !== undefined) n += (n - 1) * (zoom - 1);
      return n;
    }
    if (p.has("height") && p.has("width")) return i === 0 ? p.int("height") : p.int("width");
    const ref = l.bottoms[1] ? l.e.shape(l.bottoms[1])?.[2 + i] : undefined;
    if (typeof ref !== "number") p.fail("height", "or width, zoom_factor, shrink_factor or a second bottom is required");
    return ref;
  });
  if (sizes.some((s) => s === undefined)) {
    l.e.node(l.name, `caffe::${l.type}`, [l.bottoms[0]], [l.tops[0]], {}, l.source);
    return;
  }
  const attrs = { mode: "linear", coordinate_transformation_mode: "align_corners", axes: [2, 3] };
  l.e.node(l.name, "Resize", [l.bottoms[0], "", "", int64s(l, "sizes", sizes as number[])], [l.tops[0]], attrs, l.source);
};

/**
 * Upsample (YOLO and SegNet ports): nearest-neighbour by `scale` (or `scale_h`/`scale_w`),
 * or to `upsample_h`/`upsample_w`. SegNet's variant takes the pooling mask as a second bottom
 * and un-pools (each output reads at most one input); its shapes are the same, so it is
 * represented as the nearest Resize too and the mask is not an input.
 */
const upsample: Translate = (l) => {
  arity(l, 1, 1, 2);
  const p = l.f.sub("upsample_param");
  const x = l.bottoms[0];
  if (p.has("upsample_h") || p.has("upsample_w")) {
    const sizes = int64s(l, "sizes", [p.int("upsample_h"), p.int("upsample_w")]);
    l.e.node(l.name, "Resize", [x, "", "", sizes], [l.tops[0]], { mode: "nearest", axes: [2, 3] }, l.source);
    return;
  }
  const s = p.int("scale", 2);
  const scales = l.e.constant(`${l.name}.scales`, "float32", [1, 1, p.int("scale_h", s), p.int("scale_w", s)]);
  if (l.bottoms[1]) l.e.note(`layer '${l.name}': max-unpooling (Upsample with a mask) is represented as a nearest-neighbour resize`);
  l.e.node(l.name, "Resize", [x, "", scales], [l.tops[0]], { mode: "nearest" }, l.source);
};

// ---- detection (Caffe SSD fork, py-faster-rcnn) ----

/**
 * SSD's Normalize: x / ‖x‖₂ then a learned scale. `across_spatial` (default true) takes the
 * norm over C·H·W per image, else over C per position; the scale blob is [1] with
 * `channel_shared` (default true), else [C] (broadcast as [C, 1, 1]).
 */
const normalize: Translate = (l) => {
  arity(l, 1, 1);
  const p = l.f.sub("norm_param");
  const x = l.bottoms[0];
  const xs = shapeOf(l, x);
  const c = xs?.[1];
  const shared = p.bool("channel_shared", true);
  const scale = l.e.weight(`${l.name}.scale`, shared ? [1] : typeof c === "number" && xs ? [c, ...ones(xs.length - 2)] : ["C", 1, 1]);
  const mulStep: Step = { role: "scale", op: "Mul", extra: [scale] };
  if (!p.bool("across_spatial", true)) {
    chain(l, x, [{ role: "l2", op: "LpNormalization", attrs: { axis: 1, p: 2 }, main: true }, mulStep]);
    return;
  }
  const dims = xs?.slice(1);
  if (!dims?.every((d) => typeof d === "number")) {
    shapeOf(l, x);
    l.e.node(l.name, `caffe::${l.type}`, [x, scale], [l.tops[0]], {}, l.source);
    return;
  }
  chain(l, x, [
    { role: "flatten", op: "Flatten", attrs: { axis: 1 } },
    { role: "l2", op: "LpNormalization", attrs: { axis: 1, p: 2 }, main: true },
    { role: "unflatten", op: "Reshape", extra: [int64s(l, "shape", [0, ...(dims as number[])])] },
    mulStep,
  ]);
};

/** PriorBox: bottoms feature map and image; the sizes and ratios decide the prior count. */
const priorBox: Translate = (l) => {
  arity(l, 2, 1);
  const p = l.f.sub("prior_box_param");
  const minSizes = p.nums("min_size");
  if (minSizes.length === 0) p.fail("min_size", "is required");
  const attrs: Record<string, AttrValue> = {
    min_size: minSizes,
    max_size: p.nums("max_size"),
    aspect_ratio: p.nums("aspect_ratio"),
    flip: p.bool("flip", true) ? 1 : 0,
    clip: p.bool("clip", false) ? 1 : 0,
  };
  // The image bottom only lends its size (the boxes are normalised by it): an input still.
  l.e.node(l.name, "PriorBox", l.bottoms, [l.tops[0]], attrs, l.source);
};

const detectionOutput: Translate = (l) => {
  arity(l, 3, 1, 4);
  const p = l.f.sub("detection_output_param");
  const attrs = {
    num_classes: p.int("num_classes"),
    keep_top_k: p.int("keep_top_k", -1, true),
    confidence_threshold: p.num("confidence_threshold", 0),
  };
  l.e.note(
    `layer '${l.name}' (DetectionOutput): its output holds at most ${attrs.keep_top_k > 0 ? `keep_top_k = ${attrs.keep_top_k} boxes per image` : "every prior of every class"} and is sized so; non-maximum suppression depends on the data and is not counted`,
  );
  l.e.node(l.name, "DetectionOutput", l.bottoms.slice(0, 3), [l.tops[0]], attrs, l.source);
};

/** py-faster-rcnn's ROIPooling: bottoms feature map and rois [R, 5] → ONNX MaxRoiPool. */
const roiPooling: Translate = (l) => {
  arity(l, 2, 1);
  const p = l.f.sub("roi_pooling_param");
  const attrs = { pooled_shape: [p.int("pooled_h"), p.int("pooled_w")], spatial_scale: p.num("spatial_scale", 1) };
  l.e.node(l.name, "MaxRoiPool", l.bottoms, [l.tops[0]], attrs, l.source);
};

/** Every layer type convscope translates, by today's type name. */
export const LAYERS: Record<string, Translate> = {
  Convolution: convolution("conv"),
  Deconvolution: convolution("deconv"),
  ConvolutionDepthwise: convolution("depthwise"),
  DepthwiseConvolution: convolution("depthwise"),
  Pooling: pooling,
  InnerProduct: innerProduct,
  ReLU: relu,
  PReLU: prelu,
  ELU: simple("Elu", (l) => ({ alpha: l.f.sub("elu_param").num("alpha", 1) })),
  Sigmoid: simple("Sigmoid"),
  TanH: simple("Tanh"),
  AbsVal: simple("Abs"),
  BNLL: simple("Softplus"),
  ReLU6: clip,
  Clip: clip,
  Power: power,
  Exp: exp,
  Log: log,
  Dropout: simple("Dropout"),
  LRN: lrn,
  BatchNorm: batchNorm,
  Scale: scaleOrBias("scale"),
  Bias: scaleOrBias("bias"),
  Eltwise: eltwise,
  Concat: concat,
  Slice: slice,
  Softmax: simple("Softmax", (l) => ({ axis: l.f.sub("softmax_param").int("axis", 1, true) })),
  Flatten: flatten,
  Reshape: reshape,
  Crop: crop,
  Permute: permute,
  Interp: interp,
  Upsample: upsample,
  Normalize: normalize,
  PriorBox: priorBox,
  DetectionOutput: detectionOutput,
  ROIPooling: roiPooling,
};
