import { ConvscopeError } from "../../core/errors.js";
import type { AttrValue } from "../../core/graph.js";
import { nhwcToNchw } from "../layout.js";
import { type ChannelsLastGraph, lastDim, lastPerm, type Val } from "../tflite/channels-last.js";
import { castTo, padsOf, stridedSliceOf, transposePerm } from "../tflite/tf-common.js";
import type { NodeAttrs, TfNode } from "./attrs.js";
import type { TfjsReader } from "./index.js";

/**
 * TensorFlow ops → canonical (ONNX) ops on the channels-first IR. Each translator returns
 * the node's outputs, or undefined when it cannot translate this instance (the node is
 * then an unknown `tf::Op` layer, reported, never counted as zero).
 */

/** Control-flow ops: reported as unsupported parts of the graph. */
export const CONTROL_FLOW = new Set([
  "Enter",
  "Exit",
  "Merge",
  "Switch",
  "NextIteration",
  "LoopCond",
  "While",
  "StatelessWhile",
  "If",
  "StatelessIf",
  "TensorListReserve",
  "TensorListFromTensor",
  "TensorListGetItem",
  "TensorListSetItem",
  "TensorListStack",
]);

interface Ctx {
  r: TfjsReader;
  e: ChannelsLastGraph;
  n: TfNode;
  a: NodeAttrs;
  ins: Val[];
}

type Translate = (c: Ctx) => Val[] | undefined;

export function translate(r: TfjsReader, n: TfNode, a: NodeAttrs, ins: Val[]): Val[] | undefined {
  const t = OPS[n.op];
  return t ? t({ r, e: r.e, n, a, ins }) : undefined;
}

function arg(c: Ctx, k: number, what: string): Val {
  const v = c.ins[k];
  if (!v) throw new ConvscopeError(`${what} (input ${k}) is missing`, { layer: c.n.name });
  return v;
}

/** Emits one op writing the node's own output name; `rank`/`first` describe the result. */
function emit(
  c: Ctx,
  op: string,
  inputs: string[],
  attrs: Record<string, AttrValue>,
  rank: number | undefined,
  first: boolean,
  name = c.n.name,
): Val {
  c.e.node(op, name, inputs, [name], attrs, c.n.op);
  return c.e.out(name, rank, first);
}

/** `v` with its file last-axis size recorded when known. */
function sized(v: Val, channels: number | undefined): Val {
  if (channels !== undefined) v.channels = channels;
  return v;
}

/** Last-axis size of a broadcast result: the one operand size above 1, or 1 when all are 1. */
function broadcastChannels(vals: Val[]): number | undefined {
  const sizes = vals.filter((v) => v.rank !== 0).map(lastDim);
  const big = sizes.find((d) => d !== undefined && d !== 1);
  if (big !== undefined) return big;
  return sizes.every((d) => d === 1) && sizes.length > 0 ? 1 : undefined;
}

/** Unary op keeping the input's layout. */
function same(c: Ctx, op: string, attrs: Record<string, AttrValue> = {}): Val[] {
  const x = arg(c, 0, "input");
  const name = x.constShape ? c.e.toFirst(x) : x.name;
  const first = x.constShape ? (x.rank ?? 0) >= 3 : x.first;
  const out = sized(emit(c, op, [name], attrs, x.rank, first), lastDim(x));
  return [x.fileFirst ? nchwVal(out) : out];
}

/** Marks a result whose file tensor is channels-first (held and shown in file order). */
function nchwVal(v: Val): Val {
  v.fileFirst = true;
  delete v.channels;
  return v;
}

function binary(c: Ctx, op: string): Val[] {
  if (c.ins.some((v) => v.fileFirst) && !c.ins.some((v) => v.first)) {
    // Operands of an NCHW graph: numpy broadcasting in the file's own order is exact.
    const ranks = c.ins.map((v) => v.rank ?? v.constShape?.length);
    const rank = ranks.every((r) => r !== undefined) ? Math.max(...(ranks as number[])) : undefined;
    return [
      nchwVal(
        emit(
          c,
          op,
          c.ins.map((v) => c.e.toLast(v)),
          {},
          rank,
          false,
        ),
      ),
    ];
  }
  const b = c.e.broadcast(c.ins);
  return [sized(emit(c, op, b.names, {}, b.rank, b.first), broadcastChannels(c.ins))];
}

function clip(c: Ctx, lo: number, hi: number): Val[] {
  const x = arg(c, 0, "input");
  const out = emit(
    c,
    "Clip",
    [c.e.toFirst(x), c.e.scalar(`${c.n.name}/min`, lo), c.e.scalar(`${c.n.name}/max`, hi)],
    {},
    x.rank,
    x.first || (x.rank ?? 0) >= 3,
  );
  return [sized(out, lastDim(x))];
}

/** Data format NHWC (default) or NCHW; NCHW tensors are used in the file's order, which is already channels-first. */
function nchw(c: Ctx): boolean {
  return c.a.str("data_format", "NHWC").startsWith("NC");
}

/** strides/dilations/ksize lists are in the data format's order; returns the spatial [h, w]. */
function spatial(c: Ctx, key: string): number[] {
  const l = c.a.ints(key) ?? [1, 1, 1, 1];
  if (l.length !== 4) return [1, 1];
  return nchw(c) ? [l[2], l[3]] : [l[1], l[2]];
}

function windowAttrs(c: Ctx): Record<string, AttrValue> {
  const p = c.a.str("padding", "VALID");
  if (p === "SAME") return { auto_pad: "SAME_UPPER" };
  if (p === "VALID") return { auto_pad: "VALID" };
  if (p === "EXPLICIT") {
    const e = c.a.ints("explicit_paddings") ?? [];
    const [h, w] = nchw(c) ? [2, 3] : [1, 2];
    return { pads: [e[2 * h] ?? 0, e[2 * w] ?? 0, e[2 * h + 1] ?? 0, e[2 * w + 1] ?? 0] };
  }
  throw new ConvscopeError(`unknown padding '${p}'`, { layer: c.n.name });
}

/** The 4-d image input in channels-first IR order. */
function image(c: Ctx, x: Val): string {
  return nchw(c) ? c.e.toLast(x) : c.e.toFirst(x, 4);
}

/** Conv2D / depthwise with optional fused ops (BiasAdd, FusedBatchNorm, then one activation). */
function conv(c: Ctx, depthwise: boolean, fused: string[]): Val[] | undefined {
  const { e } = c;
  const x = arg(c, 0, "input");
  const w = arg(c, 1, "filter");
  if (!w.constShape || w.constShape.length !== 4) return undefined;
  const [kh, kw, ci, co] = w.constShape;
  // HWIO [kh, kw, I, O] → [O, I, kh, kw]; depthwise [kh, kw, C, m] → [C·m, 1, kh, kw] with C groups.
  const wName = depthwise ? e.claim(w, [ci * co, 1, kh, kw]) : e.claim(w, [co, ci, kh, kw]);
  // A grouped Conv2D has a filter of I = C/group in-channels: the group is known only when the
  // input's channel count C is (else 1, and the analysis rejects a mismatch rather than guess).
  const channels = nchw(c) ? undefined : lastDim(x);
  const group = depthwise ? ci : channels !== undefined && channels > ci && channels % ci === 0 ? channels / ci : 1;
  const attrs: Record<string, AttrValue> = {
    kernel_shape: [kh, kw],
    strides: spatial(c, "strides"),
    dilations: spatial(c, "dilations"),
    group,
    ...windowAttrs(c),
  };
  const dil = c.r.dilatedConv.get(c.n.name);
  if (dil) {
    // SpaceToBatchND → this conv → BatchToSpaceND: phase images padded by the conv itself
    // (SAME, stride 1: ⌊(k−1)/2⌋ before, the rest after) are the image padded block× as much,
    // and the crops take outputs off each end: dilation = block, pads = paddings + block·inner − crops.
    const same = c.a.str("padding", "VALID") === "SAME";
    const k = [kh, kw];
    const inner = (i: number, end: boolean) => (same ? (end ? Math.ceil((k[i] - 1) / 2) : Math.floor((k[i] - 1) / 2)) : 0);
    const begin = [0, 1].map((i) => dil.pads[2 * i] + dil.block[i] * inner(i, false) - dil.crops[2 * i]);
    const end = [0, 1].map((i) => dil.pads[2 * i + 1] + dil.block[i] * inner(i, true) - dil.crops[2 * i + 1]);
    if ([...begin, ...end].some((p) => p < 0))
      throw new ConvscopeError("SpaceToBatchND / BatchToSpaceND crop more than they pad", { layer: c.n.name });
    delete attrs.auto_pad;
    attrs.dilations = dil.block;
    attrs.pads = [...begin, ...end];
  }
  const inputs = [image(c, x), wName];
  const rest = c.ins.slice(2);
  let k = 0;
  const steps = [...fused];
  if (steps[0] === "BiasAdd") {
    const b = rest[k++];
    if (b) inputs.push(e.toLast(b));
    steps.shift();
  }
  const out = chain(c, "Conv", inputs, attrs, steps, rest.slice(k));
  return [nchw(c) ? nchwVal(out) : sized(out, depthwise ? ci * co : co)];
}

/** Emits the main op then the fused steps; the last one writes the node's output. */
function chain(c: Ctx, op: string, inputs: string[], attrs: Record<string, AttrValue>, steps: string[], args: Val[], rank = 4): Val {
  const { e, n } = c;
  const first = rank === 4 ? !nchw(c) : false;
  const names = steps.map((s) => `${n.name}/${s.toLowerCase()}`);
  let cur = steps.length === 0 ? n.name : e.unique(`${n.name}/${op.toLowerCase()}`);
  e.node(op, n.name, inputs, [cur], attrs, n.op);
  let k = 0;
  steps.forEach((s, i) => {
    const out = i === steps.length - 1 ? n.name : e.unique(names[i]);
    const layer = names[i];
    const perChannel = (v: Val | undefined) => {
      if (!v) throw new ConvscopeError(`fused ${s} is missing an argument`, { layer: n.name });
      if (!v.constShape) return e.toLast(v);
      const count = v.constShape.reduce((a, b) => a * b, 1);
      return rank === 4 ? e.claim(v, [1, count, 1, 1]) : e.claim(v, [count]);
    };
    if (s === "BiasAdd") e.node("Add", layer, [cur, perChannel(args[k++])], [out]);
    else if (s === "FusedBatchNorm" || s === "FusedBatchNormV3") {
      const bn = args
        .slice(k, k + 4)
        .map((v) => (v?.constShape ? e.claim(v, [v.constShape.reduce((a, b) => a * b, 1)]) : e.toLast(v as Val)));
      k += 4;
      e.node("BatchNormalization", layer, [cur, ...bn], [out], { epsilon: c.a.float("epsilon", 1e-3) });
    } else if (s === "Relu") e.node("Relu", layer, [cur], [out]);
    else if (s === "Relu6") e.node("Clip", layer, [cur, e.scalar(`${layer}/min`, 0), e.scalar(`${layer}/max`, 6)], [out]);
    else if (s === "Elu") e.node("Elu", layer, [cur], [out], { alpha: 1 });
    else if (s === "Sigmoid") e.node("Sigmoid", layer, [cur], [out]);
    else if (s === "Tanh") e.node("Tanh", layer, [cur], [out]);
    else if (s === "LeakyRelu") e.node("LeakyRelu", layer, [cur], [out], { alpha: c.a.float("leakyrelu_alpha", 0.2) });
    else if (s === "Prelu") e.node("PRelu", layer, [cur, perChannel(args[k++])], [out]);
    else e.node(`tf::${s}`, layer, [cur], [out], {}, s);
    cur = out;
  });
  return e.out(n.name, rank, first);
}

function pool(c: Ctx, op: string): Val[] {
  const x = arg(c, 0, "input");
  const out = emit(
    c,
    op,
    [image(c, x)],
    { kernel_shape: spatial(c, "ksize"), strides: spatial(c, "strides"), ...windowAttrs(c) },
    4,
    !nchw(c),
  );
  return [nchw(c) ? nchwVal(out) : sized(out, lastDim(x))];
}

function matmul(c: Ctx, fused: string[]): Val[] {
  const { e } = c;
  const [x, w] = [arg(c, 0, "a"), arg(c, 1, "b")];
  const inputs = [e.toLast(x), e.toLast(w)];
  const steps = [...fused];
  const rest = c.ins.slice(2);
  let k = 0;
  if (steps[0] === "BiasAdd") {
    const b = rest[k++];
    if (b) inputs.push(e.toLast(b));
    steps.shift();
  }
  const attrs = { transA: c.a.bool("transpose_a", false) ? 1 : 0, transB: c.a.bool("transpose_b", false) ? 1 : 0 };
  const units = attrs.transB ? w.constShape?.[0] : w.constShape?.[1];
  return [sized(chain(c, "Gemm", inputs, attrs, steps, rest.slice(k), 2), units)];
}

function reduce(c: Ctx, op: string, keepKey = "keep_dims"): Val[] | undefined {
  const { e } = c;
  const x = arg(c, 0, "input");
  const axes = c.ins[1]?.values;
  if (!axes) return undefined;
  const keep = c.a.bool(keepKey, false);
  if (keep || x.rank === undefined) {
    const ax = e.ints(
      `${c.n.name}/axes`,
      axes.map((a) => e.axis(x, a)),
    );
    return [emit(c, op, [x.first ? x.name : e.toLast(x), ax], { keepdims: keep ? 1 : 0 }, keep ? x.rank : undefined, keep && x.first)];
  }
  const { irAxes, fix, rank } = e.dropAxes(x, axes);
  const mid = fix ? e.unique(`${c.n.name}/reduced`) : c.n.name;
  e.node(op, c.n.name, [e.toFirst(x), e.ints(`${c.n.name}/axes`, irAxes)], [mid], { keepdims: 0 }, c.n.op);
  e.fixOrder(mid, fix, c.n.name);
  return [e.out(c.n.name, rank)];
}

/** Squeeze/ArgMax-like removal of file axes, with the order fix when needed. */
function dropOp(c: Ctx, op: string, x: Val, axes: number[], extra: string[], attrs: Record<string, AttrValue>, axesAsInput = true): Val {
  const { e } = c;
  const { irAxes, fix, rank } = e.dropAxes(x, axes);
  const mid = fix ? e.unique(`${c.n.name}/pre`) : c.n.name;
  const ins = [x.first ? x.name : e.toLast(x), ...extra];
  if (axesAsInput) ins.push(e.ints(`${c.n.name}/axes`, irAxes));
  e.node(op, c.n.name, ins, [mid], axesAsInput ? attrs : { ...attrs, axis: irAxes[0] }, c.n.op);
  e.fixOrder(mid, fix, c.n.name);
  return e.out(c.n.name, rank);
}

/** Squeeze of file axes `axes` (negative ones count from the end) into `out`, with the order fix when needed. */
function squeeze(c: Ctx, x: Val, axes: number[], out: string, layer: string): Val {
  const { e } = c;
  const { irAxes, fix, rank } = e.dropAxes(x, axes);
  const mid = fix ? e.unique(`${out}/pre`) : out;
  e.node("Squeeze", layer, [x.first ? x.name : e.toLast(x), e.ints(`${layer}/axes`, irAxes)], [mid], {}, c.n.op);
  e.fixOrder(mid, fix, out);
  return e.out(out, rank);
}

function unsqueeze(c: Ctx, x: Val, axes: number[], out: string, layer = c.n.name): Val {
  const { e } = c;
  const { irAxes, fix, rank } = e.addAxes(x, axes);
  const mid = fix ? e.unique(`${out}/pre`) : out;
  e.node("Unsqueeze", layer, [x.first ? x.name : e.toLast(x), e.ints(`${layer}/axes`, irAxes)], [mid], {}, c.n.op);
  e.fixOrder(mid, fix, out);
  return e.out(out, rank);
}

/** A 1-d shape-like vector permuted to IR order for a rank-`rank` tensor. */
function vectorToIr(c: Ctx, v: Val, rank: number): string {
  const { e } = c;
  if (rank < 3) return e.toLast(v);
  if (v.values) return e.ints(`${c.n.name}/${v.name.split("/").pop()}_nchw`, nhwcToNchw(v.values) as number[]);
  return e.op(
    "Gather",
    e.unique(`${c.n.name}/nchw_order`),
    [e.toLast(v), e.ints(`${c.n.name}/nchw_idx`, nhwcToNchw([...Array(rank).keys()]) as number[])],
    { axis: 0 },
  );
}

const UNARY: Record<string, string> = {
  Relu: "Relu",
  Elu: "Elu",
  Selu: "Selu",
  Sigmoid: "Sigmoid",
  Tanh: "Tanh",
  Exp: "Exp",
  Log: "Log",
  Sqrt: "Sqrt",
  Reciprocal: "Reciprocal",
  Neg: "Neg",
  Abs: "Abs",
  Floor: "Floor",
  Ceil: "Ceil",
  Round: "Round",
  Sign: "Sign",
  Sin: "Sin",
  Cos: "Cos",
  Erf: "Erf",
  Softplus: "Softplus",
  LogicalNot: "Not",
  Identity: "Identity",
  StopGradient: "Identity",
  Snapshot: "Identity",
};

const BINARY: Record<string, string> = {
  Add: "Add",
  AddV2: "Add",
  BiasAdd: "Add",
  Sub: "Sub",
  Mul: "Mul",
  RealDiv: "Div",
  Div: "Div",
  Maximum: "Max",
  Minimum: "Min",
  Pow: "Pow",
  FloorMod: "Mod",
  Equal: "Equal",
  Less: "Less",
  LessEqual: "LessOrEqual",
  Greater: "Greater",
  GreaterEqual: "GreaterOrEqual",
  LogicalAnd: "And",
  LogicalOr: "Or",
  Prelu: "PRelu",
  AddN: "Sum",
  SelectV2: "Where",
  Select: "Where",
};

const OPS: Record<string, Translate> = {
  BiasAdd(c) {
    const x = arg(c, 0, "value");
    const b = arg(c, 1, "bias");
    if (!nchw(c) || x.first || !b.constShape) return binary(c, "Add");
    // NCHW: the bias runs along axis 1 of the file's own order.
    const count = b.constShape.reduce((p, q) => p * q, 1);
    const rank = x.rank ?? 4;
    const shape = [1, count, ...new Array(Math.max(rank - 2, 0)).fill(1)];
    return [nchwVal(emit(c, "Add", [c.e.toLast(x), c.e.claim(b, shape)], {}, rank, false))];
  },
  Identity(c) {
    const x = arg(c, 0, "input");
    // An Identity of a constant is the constant (frozen graphs route weights this way).
    return x.constShape ? [x] : same(c, "Identity");
  },
  Conv2D: (c) => conv(c, false, []),
  DepthwiseConv2dNative: (c) => conv(c, true, []),
  _FusedConv2D: (c) => conv(c, false, c.a.strs("fused_ops")),
  FusedDepthwiseConv2dNative: (c) => conv(c, true, c.a.strs("fused_ops")),
  MatMul: (c) => matmul(c, []),
  _FusedMatMul: (c) => matmul(c, c.a.strs("fused_ops")),
  MaxPool: (c) => pool(c, "MaxPool"),
  AvgPool: (c) => pool(c, "AveragePool"),
  Relu6: (c) => clip(c, 0, 6),
  LeakyRelu: (c) => same(c, "LeakyRelu", { alpha: c.a.float("alpha", 0.2) }),
  Softmax(c) {
    const x = arg(c, 0, "input");
    return same(c, "Softmax", { axis: c.e.axis(x, -1) });
  },
  Rsqrt(c) {
    const s = c.e.op("Sqrt", `${c.n.name}/sqrt`, [c.e.toFirst(arg(c, 0, "input"))]);
    const x = arg(c, 0, "input");
    return [sized(emit(c, "Reciprocal", [s], {}, x.rank, x.first || (x.rank ?? 0) >= 3), lastDim(x))];
  },
  Square(c) {
    const x = arg(c, 0, "input");
    const n = c.e.toFirst(x);
    return [sized(emit(c, "Mul", [n, n], {}, x.rank, x.first || (x.rank ?? 0) >= 3), lastDim(x))];
  },
  Cast: (c) => same(c, "Cast", { to: castTo(c.a.type("DstT") ?? "float32") }),
  Mean: (c) => reduce(c, "ReduceMean"),
  Sum: (c) => reduce(c, "ReduceSum"),
  Max: (c) => reduce(c, "ReduceMax"),
  Min: (c) => reduce(c, "ReduceMin"),
  Prod: (c) => reduce(c, "ReduceProd"),
  ArgMax(c) {
    const x = arg(c, 0, "input");
    const axis = c.ins[1]?.values;
    if (!axis || axis.length !== 1) return undefined;
    return [dropOp(c, "ArgMax", x, axis, [], { keepdims: 0 }, false)];
  },
  FusedBatchNorm: (c) => batchNorm(c),
  FusedBatchNormV3: (c) => batchNorm(c),
  Pad: (c) => pad(c, "constant"),
  PadV2: (c) => pad(c, "constant"),
  MirrorPad: (c) => pad(c, "reflect"),
  Reshape(c) {
    const { e } = c;
    const x = arg(c, 0, "input");
    const s = arg(c, 1, "shape");
    const rank = s.values?.length ?? s.constShape?.[0] ?? s.len;
    if (rank === undefined) return [emit(c, "Reshape", [e.toLast(x), e.toLast(s)], {}, undefined, false)];
    // A tensor held in the file's order (an NCHW graph, a batched matmul result) is reshaped
    // in that order, exactly; a channels-first one with the target permuted to match.
    if (!x.first && x.rank !== undefined && !x.constShape) {
      const out = emit(c, "Reshape", [x.name, e.toLast(s)], {}, rank, false);
      return [x.fileFirst && rank >= 3 ? nchwVal(out) : out];
    }
    return [emit(c, "Reshape", [x.rank === undefined ? e.toLast(x) : e.toFirst(x), vectorToIr(c, s, rank)], {}, rank, rank >= 3)];
  },
  Squeeze(c) {
    const x = arg(c, 0, "input");
    const dims = c.a.ints("squeeze_dims") ?? c.a.ints("axis") ?? [];
    if (dims.length === 0) return [emit(c, "Squeeze", [c.e.toLast(x)], {}, undefined, false)];
    return [dropOp(c, "Squeeze", x, dims, [], {})];
  },
  ExpandDims(c) {
    const axis = c.ins[1]?.values;
    if (!axis) return undefined;
    return [unsqueeze(c, arg(c, 0, "input"), axis, c.n.name)];
  },
  ConcatV2(c) {
    const { e } = c;
    const axisVal = c.ins[c.ins.length - 1]?.values;
    if (!axisVal) return undefined;
    const parts = c.ins.slice(0, -1);
    const ranked = parts.find((v) => v.rank !== undefined);
    const rank = ranked?.rank;
    if (rank === undefined || parts.some((v) => v.rank === undefined)) {
      return [
        emit(
          c,
          "Concat",
          parts.map((v) => e.toLast(v)),
          { axis: axisVal[0] },
          undefined,
          false,
        ),
      ];
    }
    const names = parts.map((v) => e.toFirst(v));
    const axis = rank >= 3 ? e.axis({ name: "", rank, first: true }, axisVal[0]) : axisVal[0];
    const out = emit(c, "Concat", names, { axis }, rank, rank >= 3);
    // Channels: summed when joining on the last axis, shared otherwise.
    const sizes = parts.map(lastDim);
    const onLast = axisVal[0] === -1 || axisVal[0] === rank - 1;
    if (sizes.every((d) => d !== undefined)) sized(out, onLast ? (sizes as number[]).reduce((a, b) => a + b, 0) : sizes[0]);
    if (rank === 1) {
      const lens = parts.map((v) => v.values?.length ?? v.constShape?.[0] ?? v.len);
      if (lens.every((l) => l !== undefined)) out.len = (lens as number[]).reduce((a, b) => a + b, 0);
    }
    return [out];
  },
  Transpose(c) {
    const x = arg(c, 0, "input");
    const perm = c.ins[1]?.values;
    if (!perm) return undefined;
    // A tensor held in the file's order (an NCHW input, a rank the reader could not tell) is
    // permuted as it is; constants and channels-first tensors through their IR order.
    const r = perm.length;
    const toNchw = r >= 3 && perm[0] === 0 && perm[1] === r - 1 && perm.slice(2).every((p, i) => p === i + 1);
    if (toNchw && !x.fileFirst && (x.first || x.constShape)) {
      // Channels-last → channels-first in the file: the result is the IR order the input is
      // already held in, now the file's own order too.
      const out = emit(c, "Transpose", [c.e.toFirst(x, r)], { perm: [...Array(r).keys()] }, r, false);
      return [nchwVal(out)];
    }
    if (!x.constShape && !x.first) {
      return [emit(c, "Transpose", [x.name], { perm: transposePerm(perm, false) }, perm.length, perm.length >= 3)];
    }
    return [
      emit(c, "Transpose", [c.e.toFirst(x, perm.length)], { perm: transposePerm(perm, perm.length >= 3) }, perm.length, perm.length >= 3),
    ];
  },
  ResizeBilinear: (c) => resize(c, "linear"),
  ResizeNearestNeighbor: (c) => resize(c, "nearest"),
  StridedSlice(c) {
    const { e } = c;
    const x = arg(c, 0, "input");
    const [b, en, st] = [c.ins[1]?.values, c.ins[2]?.values, c.ins[3]?.values];
    if (!b || !en || !st) return undefined;
    const masks = {
      begin: c.a.int("begin_mask", 0),
      end: c.a.int("end_mask", 0),
      ellipsis: c.a.int("ellipsis_mask", 0),
      newAxis: c.a.int("new_axis_mask", 0),
      shrink: c.a.int("shrink_axis_mask", 0),
    };
    const s = stridedSliceOf(b, en, st, masks, x.rank);
    if (!s) return undefined;
    const xn = x.first ? x.name : e.toLast(x);
    const args = [
      xn,
      e.ints(`${c.n.name}/starts`, s.starts),
      e.ints(`${c.n.name}/ends`, s.ends),
      e.ints(
        `${c.n.name}/axes`,
        s.axes.map((a) => e.axis(x, a)),
      ),
      e.ints(`${c.n.name}/steps`, s.steps),
    ];
    // Slice, then Squeeze the shrunk axes, then Unsqueeze the new ones; the last writes the output.
    const more = s.shrink.length > 0 || s.newAxes.length > 0;
    const sliced = e.op("Slice", c.n.name, args, {}, c.n.op, more ? e.unique(`${c.n.name}/slice`) : c.n.name);
    let v = e.out(sliced, x.rank, x.first);
    if (s.shrink.length > 0) {
      const out = s.newAxes.length > 0 ? e.unique(`${c.n.name}/shrunk`) : c.n.name;
      v = squeeze(c, v, s.shrink, out, `${c.n.name}/shrink`);
    }
    if (s.newAxes.length > 0) v = unsqueeze(c, v, s.newAxes, c.n.name, `${c.n.name}/new_axis`);
    return [v];
  },
  Slice(c) {
    const { e } = c;
    const x = arg(c, 0, "input");
    const [b, size] = [c.ins[1]?.values, c.ins[2]?.values];
    if (!b || !size) return undefined;
    const ends = size.map((n, i) => (n < 0 ? Number.MAX_SAFE_INTEGER : b[i] + n));
    const args = [
      x.first ? x.name : e.toLast(x),
      e.ints(`${c.n.name}/starts`, b),
      e.ints(`${c.n.name}/ends`, ends),
      e.ints(
        `${c.n.name}/axes`,
        b.map((_, i) => e.axis(x, i)),
      ),
    ];
    return [emit(c, "Slice", args, {}, x.rank, x.first)];
  },
  Split(c) {
    const axis = c.ins[0]?.values;
    const x = arg(c, 1, "value");
    if (!axis) return undefined;
    return split(c, x, axis[0], c.a.int("num_split", 1), []);
  },
  SplitV(c) {
    const x = arg(c, 0, "value");
    const sizes = arg(c, 1, "size_splits");
    const axis = c.ins[2]?.values;
    if (!axis || !sizes.values) return undefined;
    return split(c, x, axis[0], sizes.values.length, [c.e.ints(`${c.n.name}/split`, sizes.values)]);
  },
  Pack(c) {
    const { e } = c;
    const axis = c.a.int("axis", 0);
    const parts = c.ins.map((v, i) => unsqueeze(c, v, [axis], e.unique(`${c.n.name}/part${i}`), `${c.n.name}/unsqueeze${i}`));
    const rank = parts[0]?.rank;
    const outAxis = rank !== undefined && rank >= 3 ? e.axis({ name: "", rank, first: true }, axis) : axis;
    const out = emit(
      c,
      "Concat",
      parts.map((p) => e.toFirst(p)),
      { axis: outAxis },
      rank,
      (rank ?? 0) >= 3,
    );
    if (rank === 1) out.len = parts.length;
    return [out];
  },
  Unpack(c) {
    // A Split into `num` pieces along `axis`, each squeezed. Both ops take the file axis as it
    // is (negative counts from the end) when the input's rank is unknown and it stays in file order.
    const { e } = c;
    const x = arg(c, 0, "value");
    const num = c.a.int("num", 1);
    const axis = c.a.int("axis", 0);
    const pieces = Array.from({ length: num }, (_, k) => e.unique(`${c.n.name}/piece${k}`));
    const xn = x.first ? x.name : e.toLast(x);
    e.node("Split", `${c.n.name}/split`, [xn], pieces, { axis: e.axis(x, axis), num_outputs: num }, c.n.op);
    return pieces.map((p, k) =>
      squeeze(
        c,
        { name: p, rank: x.rank, first: x.first },
        [axis],
        k === 0 ? c.n.name : `${c.n.name}:${k}`,
        k === 0 ? c.n.name : `${c.n.name}/squeeze${k}`,
      ),
    );
  },
  Shape(c) {
    const { e } = c;
    const x = arg(c, 0, "input");
    if (!x.first || x.rank === undefined) {
      const out = emit(c, "Shape", [e.toLast(x)], {}, 1, false);
      if (x.rank !== undefined) out.len = x.rank;
      return [out];
    }
    const s = e.op("Shape", c.n.name, [x.name], {}, c.n.op, e.unique(`${c.n.name}/nchw`));
    const out = emit(c, "Gather", [s, e.ints(`${c.n.name}/nhwc_idx`, lastPerm(x.rank))], { axis: 0 }, 1, false, c.n.name);
    out.len = x.rank;
    return [out];
  },
  Fill(c) {
    const dims = arg(c, 0, "dims");
    const len = dims.values?.length ?? dims.constShape?.[0] ?? dims.len;
    return [emit(c, "ConstantOfShape", [c.e.toLast(dims)], {}, len, false)];
  },
  Tile(c) {
    const x = arg(c, 0, "input");
    const m = arg(c, 1, "multiples");
    if (x.rank === undefined) return [emit(c, "Tile", [c.e.toLast(x), c.e.toLast(m)], {}, undefined, false)];
    return [emit(c, "Tile", [c.e.toFirst(x), vectorToIr(c, m, x.rank)], {}, x.rank, x.rank >= 3)];
  },
  GatherV2(c) {
    const { e } = c;
    const [x, idx] = [arg(c, 0, "params"), arg(c, 1, "indices")];
    const axis = c.ins[2]?.values?.[0] ?? 0;
    if (c.a.int("batch_dims", 0) !== 0) return undefined;
    if (idx.rank === 0 && x.rank !== undefined) return [dropOp(c, "Gather", x, [axis], [e.toLast(idx)], {}, false)];
    const rank = x.rank !== undefined && idx.rank !== undefined ? x.rank - 1 + idx.rank : undefined;
    return [emit(c, "Gather", [e.toLast(x), e.toLast(idx)], { axis }, rank, false)];
  },
  SquaredDifference(c) {
    // (a − b)²: a Sub then a Mul of the difference with itself.
    const b = c.e.broadcast(c.ins);
    const d = c.e.op("Sub", `${c.n.name}/sub`, b.names, {}, c.n.op);
    return [sized(emit(c, "Mul", [d, d], {}, b.rank, b.first), broadcastChannels(c.ins))];
  },
  GatherNd(c) {
    // ONNX GatherND (batch_dims 0) is TF's GatherNd; both operands in file order. Result rank:
    // indices rank − 1 + params rank − indices' last dim, when those are known here.
    const { e } = c;
    const [x, idx] = [arg(c, 0, "params"), arg(c, 1, "indices")];
    const depth = idx.constShape?.at(-1);
    const rank = x.rank !== undefined && idx.rank !== undefined && depth !== undefined ? idx.rank - 1 + x.rank - depth : undefined;
    return [emit(c, "GatherND", [e.toLast(x), e.toLast(idx)], { batch_dims: 0 }, rank, false)];
  },
  FloorDiv(c) {
    // floor(a / b): a division then a Floor.
    const b = c.e.broadcast(c.ins);
    const q = c.e.op("Div", `${c.n.name}/div`, b.names, {}, c.n.op);
    return [emit(c, "Floor", [q], {}, b.rank, b.first)];
  },
  TopKV2(c) {
    // Along the last file axis; values and indices keep the input's layout.
    const { e } = c;
    const x = arg(c, 0, "input");
    const k = arg(c, 1, "k");
    const outs = [c.n.name, `${c.n.name}:1`];
    e.node("TopK", c.n.name, [x.first ? x.name : e.toLast(x), e.toLast(k)], outs, { axis: e.axis(x, -1) }, c.n.op);
    return outs.map((o) => e.out(o, x.rank, x.first));
  },
  Conv2DBackpropInput(c) {
    // conv2d_transpose: (input_sizes [N, H, W, C] in the data format, filter [kh, kw, out, in], x).
    const { e } = c;
    const sizes = c.ins[0]?.values;
    const w = arg(c, 1, "filter");
    const x = arg(c, 2, "out_backprop");
    if (!w.constShape || w.constShape.length !== 4) return undefined;
    const [kh, kw, co, ci] = w.constShape;
    const attrs: Record<string, AttrValue> = { kernel_shape: [kh, kw], strides: spatial(c, "strides"), dilations: spatial(c, "dilations") };
    const pad = c.a.str("padding", "VALID");
    if (sizes && sizes.length === 4) attrs.output_shape = nchw(c) ? [sizes[2], sizes[3]] : [sizes[1], sizes[2]];
    attrs.auto_pad = pad === "SAME" ? "SAME_UPPER" : "VALID";
    const out = emit(c, "ConvTranspose", [image(c, x), e.claim(w, [ci, co, kh, kw])], attrs, 4, !nchw(c));
    return [nchw(c) ? nchwVal(out) : sized(out, co)];
  },
  DepthToSpace: (c) => depthSpace(c, "DepthToSpace"),
  SpaceToDepth: (c) => depthSpace(c, "SpaceToDepth"),
  SpaceToBatchND(c) {
    // Read with the conv after it as one dilated conv (see TfjsReader.planDilated).
    if (!c.r.dilatedS2b.has(c.n.name)) return undefined;
    return [arg(c, 0, "input")];
  },
  BatchToSpaceND(c) {
    if (!c.r.dilatedB2s.has(c.n.name)) return undefined;
    return [arg(c, 0, "input")];
  },
  BatchMatMul: (c) => batchMatMul(c),
  BatchMatMulV2: (c) => batchMatMul(c),
  BatchMatMulV3: (c) => batchMatMul(c),
  SparseToDense(c) {
    const { e } = c;
    const shape = arg(c, 1, "output_shape");
    const rank = shape.values?.length ?? shape.constShape?.[0] ?? shape.len;
    return [
      emit(
        c,
        "SparseToDense",
        c.ins.map((v) => e.toLast(v)),
        {},
        rank,
        false,
      ),
    ];
  },
  Size: (c) => [emit(c, "Size", [c.e.toLast(arg(c, 0, "input"))], {}, 0, false)],
  BroadcastTo(c) {
    const { e } = c;
    const x = arg(c, 0, "input");
    const s = arg(c, 1, "shape");
    const rank = s.values?.length ?? s.constShape?.[0] ?? s.len;
    // Same rank: broadcasting matches axis for axis in either order; otherwise it aligns the
    // trailing file axes, so the file's order is kept.
    if (rank !== undefined && x.rank === rank) return [emit(c, "Expand", [e.toFirst(x), vectorToIr(c, s, rank)], {}, rank, rank >= 3)];
    return [emit(c, "Expand", [e.toLast(x), e.toLast(s)], {}, rank, false)];
  },
  Atan2: (c) => binary(c, "Atan2"),
  ZerosLike: (c) => same(c, "ZerosLike"),
  OnesLike: (c) => same(c, "OnesLike"),
  Range: (c) => [
    emit(
      c,
      "Range",
      c.ins.map((v) => c.e.toLast(v)),
      {},
      1,
      false,
    ),
  ],
};

for (const [k, v] of Object.entries(UNARY)) OPS[k] ??= (c) => same(c, v, v === "Elu" ? { alpha: 1 } : {});
for (const [k, v] of Object.entries(BINARY)) OPS[k] ??= (c) => binary(c, v);

function batchNorm(c: Ctx): Val[] {
  const { e } = c;
  const x = arg(c, 0, "input");
  const params = c.ins.slice(1, 5).map((v) => (v.constShape ? e.claim(v, [v.constShape.reduce((a, b) => a * b, 1)]) : e.toLast(v)));
  const out = emit(c, "BatchNormalization", [image(c, x), ...params], { epsilon: c.a.float("epsilon", 1e-3) }, 4, !nchw(c));
  return [nchw(c) ? nchwVal(out) : sized(out, lastDim(x))];
}

function pad(c: Ctx, mode: string): Val[] | undefined {
  const { e } = c;
  const x = arg(c, 0, "input");
  const p = c.ins[1]?.values;
  if (!p) return undefined;
  if (x.fileFirst && !x.first) {
    // An NCHW tensor (a graph from ONNX/PyTorch) is padded in the file's own order.
    const inputs = [x.name, e.ints(`${c.n.name}/pads`, padsOf(x, p))];
    if (c.ins[2]) inputs.push(e.toLast(c.ins[2]));
    return [nchwVal(emit(c, "Pad", inputs, { mode }, p.length / 2, false))];
  }
  const xv: Val = x.rank === undefined ? { ...x, rank: p.length / 2, first: false } : x;
  const inputs = [e.toFirst(xv), e.ints(`${c.n.name}/pads`, padsOf({ ...xv, first: xv.rank !== undefined && xv.rank >= 3 }, p))];
  if (c.ins[2]) inputs.push(e.toLast(c.ins[2]));
  const rank = p.length / 2;
  const ch = lastDim(x);
  const padded = ch === undefined || rank === 0 ? undefined : ch + p[2 * rank - 2] + p[2 * rank - 1];
  return [sized(emit(c, "Pad", inputs, { mode }, rank, rank >= 3), padded)];
}

function resize(c: Ctx, mode: string): Val[] {
  const { e } = c;
  const x = arg(c, 0, "input");
  const size = arg(c, 1, "size");
  const align = c.a.bool("align_corners", false);
  const half = c.a.bool("half_pixel_centers", false);
  const ctm = align ? "align_corners" : half ? (mode === "linear" ? "half_pixel" : "tf_half_pixel_for_nn") : "asymmetric";
  const attrs: Record<string, AttrValue> = { mode, coordinate_transformation_mode: ctm, axes: [2, 3] };
  if (mode === "nearest") attrs.nearest_mode = align ? "round_prefer_ceil" : "floor";
  return [sized(emit(c, "Resize", [e.toFirst(x, 4), "", "", e.toLast(size)], attrs, 4, true), lastDim(x))];
}

function depthSpace(c: Ctx, op: string): Val[] {
  // TF's NHWC channel order of the moved pixels is ONNX's DCR mode on the channels-first tensor.
  const x = arg(c, 0, "input");
  const b = c.a.int("block_size", 2);
  const attrs: Record<string, AttrValue> = op === "DepthToSpace" ? { blocksize: b, mode: "DCR" } : { blocksize: b };
  const ch = lastDim(x);
  const out = emit(c, op, [image(c, x)], attrs, 4, !nchw(c));
  if (nchw(c)) return [nchwVal(out)];
  if (ch === undefined) return [out];
  return [sized(out, op === "DepthToSpace" ? ch / (b * b) : ch * b * b)];
}

function batchMatMul(c: Ctx): Val[] {
  // On the file's axes (the last two are the matrix): adj_x / adj_y transpose them first.
  const { e } = c;
  const [a, b] = [arg(c, 0, "x"), arg(c, 1, "y")];
  const ranks = [a.rank ?? a.constShape?.length, b.rank ?? b.constShape?.length];
  const rank = ranks.every((r) => r !== undefined) ? Math.max(...(ranks as number[])) : undefined;
  const inputs = [e.matrix(a, c.a.bool("adj_x", false), `${c.n.name}/adj_x`), e.matrix(b, c.a.bool("adj_y", false), `${c.n.name}/adj_y`)];
  return [emit(c, "MatMul", inputs, {}, rank, false)];
}

function split(c: Ctx, x: Val, axis: number, num: number, extra: string[]): Val[] {
  const { e } = c;
  const outs = Array.from({ length: num }, (_, k) => (k === 0 ? c.n.name : `${c.n.name}:${k}`));
  const xn = x.first ? x.name : e.toLast(x);
  e.node("Split", c.n.name, [xn, ...extra], outs, { axis: e.axis(x, axis), ...(extra.length === 0 ? { num_outputs: num } : {}) }, c.n.op);
  return outs.map((o) => e.out(o, x.rank, x.first));
}
