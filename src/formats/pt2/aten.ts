import { castCode, type DType } from "../../core/dtype.js";
import type { AttrValue } from "../../core/graph.js";
import type { Args, Emitter, Origin } from "./emit.js";
import { bad, scalarType } from "./schema.js";

/**
 * ATen ops (both the high-level ones torch.export keeps by default and the core ATen set
 * after `run_decompositions()`) onto convscope's canonical ONNX-vocabulary rules, so every
 * metric comes from the one rule set. `x` is the op name without namespace and overload
 * (`conv2d`, `_native_batch_norm_legit_no_training`).
 */
export interface Call {
  em: Emitter;
  a: Args;
  /** Layer name of the principal IR node. */
  name: string;
  /** IR names of the call's outputs (`""` for an output nobody reads). */
  outs: string[];
  from: Origin;
}

type Translate = (c: Call) => void;

const UNARY: Record<string, string> = {
  relu: "Relu",
  relu_: "Relu",
  hardswish: "HardSwish",
  hardswish_: "HardSwish",
  sigmoid: "Sigmoid",
  sigmoid_: "Sigmoid",
  tanh: "Tanh",
  tanh_: "Tanh",
  exp: "Exp",
  log: "Log",
  sqrt: "Sqrt",
  abs: "Abs",
  neg: "Neg",
  reciprocal: "Reciprocal",
  erf: "Erf",
  floor: "Floor",
  ceil: "Ceil",
  sin: "Sin",
  cos: "Cos",
  mish: "Mish",
  softplus: "Softplus",
};

const BINARY: Record<string, string> = {
  add: "Add",
  add_: "Add",
  sub: "Sub",
  sub_: "Sub",
  mul: "Mul",
  mul_: "Mul",
  div: "Div",
  div_: "Div",
  pow: "Pow",
  maximum: "Max",
  minimum: "Min",
};

/** Ops that copy or alias their input at inference. */
const COPIES = new Set([
  "clone",
  "contiguous",
  "alias",
  "detach",
  "lift_fresh_copy",
  "_assert_tensor_metadata",
  "dropout",
  "dropout_",
  "feature_dropout",
  "alpha_dropout",
]);

function single(c: Call, op: string, inputs: string[], attrs: Record<string, AttrValue> = {}): void {
  c.em.node(op, c.name, inputs, [c.outs[0]], attrs, c.from);
}

/** A per-axis list from aten's possibly shortened form (`[2]` for `[2, 2]`). */
function perAxis(v: number[], n: number, what: string, c: Call): number[] {
  if (v.length === n) return v;
  if (v.length === 1) return new Array(n).fill(v[0]);
  bad(`${what} has ${v.length} values for ${n} spatial axes`, c.name);
}

function convolution(
  c: Call,
  transposed: boolean,
  args: { stride: string; padding: string; dilation: string; groups: string; outputPadding?: string },
): void {
  const { a, em } = c;
  const w = a.tensorKey("weight");
  const wShape = em.shape(w);
  if (!wShape) bad("the weight has no sizes", c.name);
  const n = wShape.length - 2;
  if (n < 1) bad(`the weight has rank ${wShape.length}`, c.name);
  const attrs: Record<string, AttrValue> = {
    strides: perAxis(a.knownInts(args.stride, [1]), n, "stride", c),
    dilations: perAxis(a.knownInts(args.dilation, [1]), n, "dilation", c),
    group: a.int(args.groups, 1),
  };
  const ks = wShape.slice(2);
  if (ks.every((k) => typeof k === "number")) attrs.kernel_shape = ks as number[];
  const padArg = a.node.inputs.find((i) => i.name === args.padding)?.arg;
  if (padArg && typeof padArg.as_string === "string") {
    const mode = padArg.as_string;
    if (mode === "same") attrs.auto_pad = "SAME_UPPER";
    else if (mode !== "valid") bad(`padding '${mode}' is not 'same' or 'valid'`, c.name);
  } else {
    const p = perAxis(a.knownInts(args.padding, [0]), n, "padding", c);
    attrs.pads = [...p, ...p];
  }
  if (transposed && args.outputPadding) {
    const op = perAxis(a.knownInts(args.outputPadding, [0]), n, "output_padding", c);
    if (op.some((v) => v !== 0)) attrs.output_padding = op;
  }
  const inputs = [a.tensor("input"), a.tensor("weight")];
  if (a.has("bias")) inputs.push(a.tensor("bias"));
  single(c, transposed ? "ConvTranspose" : "Conv", inputs, attrs);
}

function pool(c: Call, op: "MaxPool" | "AveragePool"): void {
  const { a } = c;
  const kernel = a.knownInts("kernel_size");
  const n = c.em.rank(a.firstKey(), c.name) - 2;
  const k = perAxis(kernel, n, "kernel_size", c);
  const strideArg = a.knownInts("stride", []);
  const attrs: Record<string, AttrValue> = {
    kernel_shape: k,
    strides: strideArg.length ? perAxis(strideArg, n, "stride", c) : k,
    pads: (() => {
      const p = perAxis(a.knownInts("padding", [0]), n, "padding", c);
      return [...p, ...p];
    })(),
    ceil_mode: a.bool("ceil_mode", false) ? 1 : 0,
  };
  if (op === "MaxPool") {
    const d = perAxis(a.knownInts("dilation", [1]), n, "dilation", c);
    if (d.some((v) => v !== 1)) attrs.dilations = d;
  } else {
    attrs.count_include_pad = a.bool("count_include_pad", true) ? 1 : 0;
    if (a.has("divisor_override")) bad("avg_pool with divisor_override is not supported", c.name);
  }
  single(c, op, [a.tensor("self")], attrs);
}

/** adaptive pooling: global when the output is 1×…×1; a fixed window when every input size divides. */
function adaptivePool(c: Call, avg: boolean): void {
  const { a, em } = c;
  const out = a.knownInts("output_size");
  const x = em.shape(a.firstKey());
  if (out.every((v) => v === 1)) {
    single(c, avg ? "GlobalAveragePool" : "GlobalMaxPool", [a.tensor("self")]);
    return;
  }
  const spatial = x?.slice(x.length - out.length);
  if (!spatial || spatial.some((d, i) => typeof d !== "number" || d % out[i] !== 0)) {
    unknown(c, `output ${out.join("×")} does not divide the input ${spatial?.join("×") ?? "?"}`);
    return;
  }
  const k = spatial.map((d, i) => (d as number) / out[i]);
  single(c, avg ? "AveragePool" : "MaxPool", [a.tensor("self")], { kernel_shape: k, strides: k, pads: new Array(2 * k.length).fill(0) });
}

function batchNorm(c: Call): void {
  const { a, em } = c;
  const mean = a.tensor("running_mean");
  const channels = em.shape(a.tensorKey("running_mean"))?.[0];
  const filler = (v: number) => {
    if (typeof channels !== "number") bad("batch norm without weight needs known channels", c.name);
    return em.literal(new Array(channels).fill(v), "float32");
  };
  const scale = a.has("weight") ? a.tensor("weight") : filler(1);
  const shift = a.has("bias") ? a.tensor("bias") : filler(0);
  if (a.bool("training", false)) em.graph.notes.push(`layer '${c.name}': batch norm in training mode is counted as at inference`);
  c.em.node(
    "BatchNormalization",
    c.name,
    [a.tensor("input"), scale, shift, mean, a.tensor("running_var")],
    [c.outs[0]],
    { epsilon: a.float("eps", 1e-5) },
    c.from,
  );
}

function layerNorm(c: Call): void {
  const { a } = c;
  const normalized = a.knownInts("normalized_shape");
  const inputs = [a.tensor("input")];
  const rank = c.em.rank(a.firstKey(), c.name);
  // LayerNormalization needs a scale: ones when the module has no elementwise affine.
  const n = normalized.reduce((p, v) => p * v, 1);
  inputs.push(a.has("weight") ? a.tensor("weight") : c.em.literal(new Array(n).fill(1), "float32", normalized));
  if (a.has("bias")) inputs.push(a.tensor("bias"));
  c.em.node("LayerNormalization", c.name, inputs, [c.outs[0]], { axis: rank - normalized.length, epsilon: a.float("eps", 1e-5) }, c.from);
}

/** linear on a 2-d input is Gemm; on more dims MatMul by the transposed weight, then the bias Add. */
function linear(c: Call): void {
  const { a, em } = c;
  const x = a.tensor("input");
  const w = a.tensor("weight");
  const rank = em.rank(a.firstKey(), c.name);
  if (rank === 2) {
    const inputs = [x, w];
    if (a.has("bias")) inputs.push(a.tensor("bias"));
    single(c, "Gemm", inputs, { transB: 1 });
    return;
  }
  const wt = `${c.name}:weight_t`;
  em.node("Transpose", `${c.name}:transpose`, [w], [wt], { perm: [1, 0] }, c.from, "weight");
  if (!a.has("bias")) {
    single(c, "MatMul", [x, wt]);
    return;
  }
  const mm = `${c.name}:matmul`;
  em.node("MatMul", c.name, [x, wt], [mm], {}, c.from);
  em.node("Add", `${c.name}:bias`, [mm, a.tensor("bias")], [c.outs[0]], {}, c.from, "bias");
}

/** softmax(Q·Kᵀ·scale + mask)·V, written out in canonical ops; the A·V MatMul is the principal node. */
function attention(c: Call): void {
  const { a, em } = c;
  const q = a.tensor("query");
  const k = a.tensor("key");
  const v = a.tensor("value");
  const qShape = em.shape(a.tensorKey("query"));
  const rank = em.rank(a.tensorKey("key"), c.name);
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  const e = qShape?.[qShape.length - 1];
  const scale = a.optFloat("scale") ?? (typeof e === "number" ? 1 / Math.sqrt(e) : undefined);
  if (scale === undefined) bad("attention needs a known head size or an explicit scale", c.name);
  if (a.bool("is_causal", false)) em.graph.notes.push(`layer '${c.name}': the causal mask of attention is not counted`);
  const kt = `${c.name}:k_t`;
  em.node("Transpose", `${c.name}:transpose_k`, [k], [kt], { perm }, c.from, "attention");
  const s = `${c.name}:scores`;
  em.node("MatMul", `${c.name}:qk`, [q, kt], [s], {}, c.from, "attention");
  let logits = `${c.name}:scaled`;
  em.node("Mul", `${c.name}:scale`, [s, em.literal([scale], "float32", [])], [logits], {}, c.from, "attention");
  if (a.has("attn_mask")) {
    const masked = `${c.name}:masked`;
    em.node("Add", `${c.name}:mask`, [logits, a.tensor("attn_mask")], [masked], {}, c.from, "attention");
    logits = masked;
  }
  const p = `${c.name}:probs`;
  em.node("Softmax", `${c.name}:softmax`, [logits], [p], { axis: -1 }, c.from, "attention");
  single(c, "MatMul", [p, v]);
}

function reshape(c: Call, argName: string): void {
  const { a } = c;
  const self = a.tensorKey("self");
  const names = a.symNames(argName);
  // A size taken from the input's own size at the same position (`x.view(x.size(0), -1)`) is
  // Reshape's 0 (copy the input's dim); one other symbolic size is its -1.
  const sizes = a.ints(argName).map((s, i) => {
    const from = names[i] ? c.em.symSizes.get(names[i] as string) : undefined;
    return s === null && from && from.tensor === self && from.dim === i ? 0 : s;
  });
  const symbolic = sizes.filter((s) => s === null).length;
  if (symbolic > 1 || (symbolic === 1 && sizes.includes(-1))) {
    unknown(c, "a reshape to more than one symbolic size");
    return;
  }
  const target = sizes.map((s) => (s === null ? -1 : s));
  single(c, "Reshape", [a.tensor("self"), c.em.literal(target)]);
}

function upsample(c: Call, mode: "nearest" | "linear" | "cubic"): void {
  const { a, em } = c;
  const x = a.firstKey();
  const shape = em.shape(x);
  const rank = em.rank(x, c.name);
  const attrs: Record<string, AttrValue> = { mode };
  const align = a.has("align_corners") && a.bool("align_corners", false);
  attrs.coordinate_transformation_mode = mode === "nearest" ? "asymmetric" : align ? "align_corners" : "pytorch_half_pixel";
  if (mode === "nearest") attrs.nearest_mode = "floor";
  const size = a.has("output_size") ? a.ints("output_size") : undefined;
  const factors =
    a.floats("scale_factors") ?? (["scales_d", "scales_h", "scales_w"].filter((n) => a.has(n)).map((n) => a.float(n)) as number[]);
  const x0 = a.tensor(a.node.inputs[0].name);
  if (size?.every((s) => s !== null) && shape && typeof shape[0] === "number" && typeof shape[1] === "number") {
    const sizes = em.literal([shape[0], shape[1], ...(size as number[])]);
    single(c, "Resize", [x0, "", "", sizes], attrs);
    return;
  }
  if (factors.length === rank - 2) {
    single(c, "Resize", [x0, "", em.literal([1, 1, ...factors], "float32")], attrs);
    return;
  }
  unknown(c, "up-sampling without a known size or scale");
}

/** An op without a translation: kept under its aten name, its outputs shaped as the file declares. */
function unknown(c: Call, why?: string): void {
  const inputs = c.a.node.inputs.flatMap((i) => {
    const t = i.arg.as_tensor as { name?: string } | undefined;
    return t?.name ? [c.em.ref(t.name)] : [];
  });
  c.em.node(`aten::${c.from.target.replace(/^aten\./, "").replace(/\.[^.]*$/, "")}`, c.name, inputs, c.outs, {}, c.from);
  if (why) c.em.graph.notes.push(`layer '${c.name}': ${why}; reported as an unknown op`);
}

const TRANSLATE: Record<string, Translate> = {
  conv1d: (c) => convolution(c, false, { stride: "stride", padding: "padding", dilation: "dilation", groups: "groups" }),
  conv2d: (c) => convolution(c, false, { stride: "stride", padding: "padding", dilation: "dilation", groups: "groups" }),
  conv3d: (c) => convolution(c, false, { stride: "stride", padding: "padding", dilation: "dilation", groups: "groups" }),
  convolution: (c) =>
    convolution(c, c.a.bool("transposed", false), {
      stride: "stride",
      padding: "padding",
      dilation: "dilation",
      groups: "groups",
      outputPadding: "output_padding",
    }),
  conv_transpose1d: (c) =>
    convolution(c, true, { stride: "stride", padding: "padding", dilation: "dilation", groups: "groups", outputPadding: "output_padding" }),
  conv_transpose2d: (c) =>
    convolution(c, true, { stride: "stride", padding: "padding", dilation: "dilation", groups: "groups", outputPadding: "output_padding" }),
  conv_transpose3d: (c) =>
    convolution(c, true, { stride: "stride", padding: "padding", dilation: "dilation", groups: "groups", outputPadding: "output_padding" }),
  linear,
  addmm: (c) => {
    const { a } = c;
    single(c, "Gemm", [a.tensor("mat1"), a.tensor("mat2"), a.tensor("self")], { alpha: a.float("alpha", 1), beta: a.float("beta", 1) });
  },
  mm: (c) => single(c, "MatMul", [c.a.tensor("self"), c.a.tensor("mat2")]),
  bmm: (c) => single(c, "MatMul", [c.a.tensor("self"), c.a.tensor("mat2")]),
  matmul: (c) => single(c, "MatMul", [c.a.tensor("self"), c.a.tensor("other")]),
  scaled_dot_product_attention: attention,
  batch_norm: batchNorm,
  _native_batch_norm_legit_no_training: batchNorm,
  layer_norm: layerNorm,
  native_layer_norm: layerNorm,
  group_norm: (c) => {
    const { a } = c;
    const inputs = [a.tensor("input"), a.optTensor("weight"), a.optTensor("bias")];
    single(c, "GroupNormalization", inputs, { num_groups: a.int("num_groups"), epsilon: a.float("eps", 1e-5) });
  },
  max_pool1d: (c) => pool(c, "MaxPool"),
  max_pool2d: (c) => pool(c, "MaxPool"),
  max_pool3d: (c) => pool(c, "MaxPool"),
  max_pool2d_with_indices: (c) => pool(c, "MaxPool"),
  max_pool3d_with_indices: (c) => pool(c, "MaxPool"),
  avg_pool1d: (c) => pool(c, "AveragePool"),
  avg_pool2d: (c) => pool(c, "AveragePool"),
  avg_pool3d: (c) => pool(c, "AveragePool"),
  adaptive_avg_pool1d: (c) => adaptivePool(c, true),
  adaptive_avg_pool2d: (c) => adaptivePool(c, true),
  _adaptive_avg_pool2d: (c) => adaptivePool(c, true),
  adaptive_avg_pool3d: (c) => adaptivePool(c, true),
  adaptive_max_pool2d: (c) => adaptivePool(c, false),
  mean: (c) => {
    const { a } = c;
    const axes = a.knownInts("dim", []);
    const attrs: Record<string, AttrValue> = { keepdims: a.bool("keepdim", false) ? 1 : 0 };
    if (axes.length) attrs.axes = axes;
    single(c, "ReduceMean", [a.tensor("self")], attrs);
  },
  sum: (c) => {
    const { a } = c;
    const axes = a.knownInts("dim", []);
    const inputs = [a.tensor("self")];
    if (axes.length) inputs.push(c.em.literal(axes));
    single(c, "ReduceSum", inputs, { keepdims: a.bool("keepdim", false) ? 1 : 0 });
  },
  gelu: (c) => single(c, "Gelu", [c.a.tensor("self")], c.a.str("approximate", "none") === "tanh" ? { approximate: "tanh" } : {}),
  hardsigmoid: (c) => single(c, "HardSigmoid", [c.a.tensor("self")], { alpha: 1 / 6, beta: 0.5 }),
  hardsigmoid_: (c) => single(c, "HardSigmoid", [c.a.tensor("self")], { alpha: 1 / 6, beta: 0.5 }),
  silu: silu,
  silu_: silu,
  leaky_relu: (c) => single(c, "LeakyRelu", [c.a.tensor("self")], { alpha: c.a.float("negative_slope", 0.01) }),
  leaky_relu_: (c) => single(c, "LeakyRelu", [c.a.tensor("self")], { alpha: c.a.float("negative_slope", 0.01) }),
  elu: (c) => single(c, "Elu", [c.a.tensor("self")], { alpha: c.a.float("alpha", 1) }),
  hardtanh: clamp("min_val", "max_val", -1, 1),
  hardtanh_: clamp("min_val", "max_val", -1, 1),
  relu6: (c) => single(c, "Clip", [c.a.tensor("self"), c.em.literal([0], "float32", []), c.em.literal([6], "float32", [])]),
  clamp: clamp("min", "max"),
  clamp_: clamp("min", "max"),
  softmax: (c) => single(c, "Softmax", [c.a.tensor("self")], { axis: c.a.int("dim") }),
  _softmax: (c) => single(c, "Softmax", [c.a.tensor("self")], { axis: c.a.int("dim") }),
  log_softmax: (c) => single(c, "LogSoftmax", [c.a.tensor("self")], { axis: c.a.int("dim") }),
  _log_softmax: (c) => single(c, "LogSoftmax", [c.a.tensor("self")], { axis: c.a.int("dim") }),
  view: (c) => reshape(c, "size"),
  reshape: (c) => reshape(c, "shape"),
  _unsafe_view: (c) => reshape(c, "size"),
  flatten: (c) => {
    const { a, em } = c;
    const rank = em.rank(a.firstKey(), c.name);
    let start = a.int("start_dim", 0);
    let end = a.int("end_dim", -1);
    if (start < 0) start += rank;
    if (end < 0) end += rank;
    // ONNX Flatten always makes 2-d: it is torch.flatten only from axis 1 to the end.
    if (start === 1 && end === rank - 1) {
      single(c, "Flatten", [a.tensor("self")], { axis: 1 });
      return;
    }
    const target = [...new Array(start).fill(0), -1, ...new Array(rank - 1 - end).fill(0)];
    single(c, "Reshape", [a.tensor("self"), em.literal(target)]);
  },
  permute: (c) => single(c, "Transpose", [c.a.tensor("self")], { perm: c.a.knownInts("dims") }),
  t: (c) => single(c, "Transpose", [c.a.tensor("self")], { perm: [1, 0] }),
  transpose: (c) => {
    const { a } = c;
    const rank = c.em.rank(a.firstKey(), c.name);
    const norm = (d: number) => (d < 0 ? d + rank : d);
    const perm = Array.from({ length: rank }, (_, i) => i);
    const d0 = norm(a.int("dim0"));
    const d1 = norm(a.int("dim1"));
    [perm[d0], perm[d1]] = [perm[d1], perm[d0]];
    single(c, "Transpose", [a.tensor("self")], { perm });
  },
  unsqueeze: (c) => single(c, "Unsqueeze", [c.a.tensor("self"), c.em.literal([c.a.int("dim")])]),
  squeeze: (c) => {
    const { a } = c;
    const dims = a.has("dim") ? [a.int("dim")] : a.has("dims") ? a.knownInts("dims") : [];
    single(c, "Squeeze", dims.length ? [a.tensor("self"), c.em.literal(dims)] : [a.tensor("self")]);
  },
  cat: (c) => single(c, "Concat", c.a.tensors("tensors"), { axis: c.a.int("dim", 0) }),
  concat: (c) => single(c, "Concat", c.a.tensors("tensors"), { axis: c.a.int("dim", 0) }),
  expand: (c) => {
    const { a } = c;
    const sizes = a.ints("size");
    // -1 keeps the input's size: 1 in an ONNX Expand shape broadcasts to it.
    if (sizes.some((s) => s === null)) {
      unknown(c, "expand to a symbolic size");
      return;
    }
    single(c, "Expand", [a.tensor("self"), c.em.literal((sizes as number[]).map((s) => (s === -1 ? 1 : s)))]);
  },
  select: (c) => single(c, "Gather", [c.a.tensor("self"), c.em.literal([c.a.int("index")], "int64", [])], { axis: c.a.int("dim") }),
  unbind: (c) => {
    const { a, em } = c;
    const axis = a.int("dim", 0);
    c.outs.forEach((o, i) => {
      if (o === "") return;
      em.node(
        "Gather",
        i === 0 ? c.name : em.uniqueName(`${c.name}:${i}`),
        [a.tensor("self"), em.literal([i], "int64", [])],
        [o],
        { axis },
        c.from,
        i === 0 ? undefined : "unbind",
      );
    });
  },
  slice: (c) => {
    const { a, em } = c;
    const start = a.has("start") ? a.int("start") : 0;
    const end = a.has("end") ? a.int("end") : Number.MAX_SAFE_INTEGER;
    single(c, "Slice", [
      a.tensor("self"),
      em.literal([start]),
      em.literal([end]),
      em.literal([a.int("dim", 0)]),
      em.literal([a.int("step", 1)]),
    ]);
  },
  _to_copy: (c) => {
    const { a } = c;
    const dtypeArg = a.node.inputs.find((i) => i.name === "dtype")?.arg;
    const code = typeof dtypeArg?.as_scalar_type === "number" ? castCode(scalarType(dtypeArg.as_scalar_type as number)) : undefined;
    single(c, code === undefined ? "Identity" : "Cast", [a.tensor("self")], code === undefined ? {} : { to: code });
  },
  constant_pad_nd: (c) => {
    const { a, em } = c;
    const pad = a.knownInts("pad");
    const rank = em.rank(a.firstKey(), c.name);
    // torch lists (begin, end) pairs from the last axis backwards; ONNX all begins, then all ends.
    const begins = new Array(rank).fill(0);
    const ends = new Array(rank).fill(0);
    for (let i = 0; i < pad.length / 2; i++) {
      begins[rank - 1 - i] = pad[2 * i];
      ends[rank - 1 - i] = pad[2 * i + 1];
    }
    single(c, "Pad", [a.tensor("self"), em.literal([...begins, ...ends]), em.literal([a.float("value", 0)], "float32", [])]);
  },
  pixel_shuffle: (c) => single(c, "DepthToSpace", [c.a.tensor("self")], { blocksize: c.a.int("upscale_factor"), mode: "CRD" }),
  upsample_nearest1d: (c) => upsample(c, "nearest"),
  upsample_nearest2d: (c) => upsample(c, "nearest"),
  upsample_nearest3d: (c) => upsample(c, "nearest"),
  upsample_bilinear2d: (c) => upsample(c, "linear"),
  upsample_linear1d: (c) => upsample(c, "linear"),
  upsample_trilinear3d: (c) => upsample(c, "linear"),
  upsample_bicubic2d: (c) => upsample(c, "cubic"),
};

function silu(c: Call): void {
  const s = `${c.name}:sigmoid`;
  c.em.node("Sigmoid", `${c.name}:sigmoid`, [c.a.tensor("self")], [s], {}, c.from, "silu");
  single(c, "Mul", [c.a.tensor("self"), s]);
}

function clamp(lo: string, hi: string, defLo?: number, defHi?: number): Translate {
  return (c) => {
    const { a, em } = c;
    const bound = (n: string, def: number | undefined) => {
      const v = a.has(n) ? a.float(n) : def;
      return v === undefined ? "" : em.literal([v], "float32", []);
    };
    single(c, "Clip", [a.tensor("self"), bound(lo, defLo), bound(hi, defHi)]);
  };
}

/** Translates one aten call; returns false when the op is unknown (kept as `aten::op`). */
export function translate(c: Call, op: string, dtype: DType): boolean {
  const t = TRANSLATE[op];
  if (t) {
    t(c);
    return true;
  }
  if (COPIES.has(op)) {
    single(c, op.startsWith("dropout") || op.endsWith("dropout") ? "Dropout" : "Identity", [c.a.tensor(c.a.node.inputs[0].name)]);
    return true;
  }
  if (UNARY[op]) {
    single(c, UNARY[op], [c.a.tensor("self")]);
    return true;
  }
  if (BINARY[op]) {
    const { a } = c;
    let other = a.operand("other", dtype);
    const alpha = a.has("alpha") ? a.float("alpha") : 1;
    if (alpha !== 1) {
      const scaled = `${c.name}:alpha`;
      c.em.node("Mul", `${c.name}:alpha`, [other, c.em.literal([alpha], dtype, [])], [scaled], {}, c.from, "alpha");
      other = scaled;
    }
    const self = a.node.inputs.find((i) => i.name === "self")?.arg;
    const x = self && "as_tensor" in self ? a.tensor("self") : a.operand("self", dtype);
    single(c, BINARY[op], [x, other]);
    return true;
  }
  unknown(c);
  return false;
}
