import type { DType } from "../../core/dtype.js";
import { ConvscopeError } from "../../core/errors.js";
import type { AttrValue, Graph } from "../../core/graph.js";
import type { Dim } from "../../core/shape.js";
import { nhwcToNchw } from "../layout.js";
import type { ByteSource } from "../source.js";
import { ChannelsLastGraph, type Val } from "./channels-last.js";
import { FlatFile, type Table } from "./flatbuffer.js";
import { ACTIVATIONS, bufferRange, builtinName, readModelTable, readSubgraph, type TflOperator, type TflTensor } from "./schema.js";
import { castTo, padsOf, sliceOf, transposePerm } from "./tf-common.js";

/**
 * TFLite flatbuffers (.tflite) into the channels-first IR. The main subgraph is read;
 * weights stay in the file (only small integer constants — shapes, axes, pads — are
 * decoded). Quantized tensors keep their storage type (int8, uint8, int16, float16), so
 * sizes are real; QUANTIZE and DEQUANTIZE become Casts.
 */
export function readTflite(src: ByteSource): Graph {
  const bytes = src.read(0, src.size);
  if (bytes.length < 8) throw new ConvscopeError(`truncated TFLite file (${bytes.length} bytes)`);
  const f = new FlatFile(bytes);
  const model = readModelTable(f);
  if (model.subgraphs.length === 0) throw new ConvscopeError("TFLite model has no subgraphs");
  const sg = readSubgraph(model.subgraphs[0]);
  const name = src.name.replace(/^.*[\\/]/, "").replace(/\.tflite$/i, "") || "model";
  const e = new ChannelsLastGraph(name, "tflite");
  const reader = new TfliteReader(e, f, model.buffers, sg.tensors);
  for (let i = 1; i < model.subgraphs.length; i++) {
    e.graph.notes.push(`control flow / subgraph ${i} not analysed (only subgraph 0 is read)`);
  }
  reader.inputs(sg.inputs);
  for (const op of sg.operators) {
    const code = model.opcodes[op.opcode];
    if (!code)
      throw new ConvscopeError(`operator ${op.index} uses opcode_index ${op.opcode}, but there are ${model.opcodes.length} operator codes`);
    reader.operator(op, code.custom ? `CUSTOM:${code.custom}` : builtinName(code.code));
  }
  e.graph.outputs = sg.outputs.map((i) => reader.value(i, "subgraph output").name);
  return e.graph;
}

/** Largest integer constant decoded at read time (shapes, axes, pads). */
const MAX_VALUES = 64;

class TfliteReader {
  private readonly vals = new Map<number, Val>();
  private readonly names: string[];

  constructor(
    readonly e: ChannelsLastGraph,
    private readonly f: FlatFile,
    private readonly buffers: Table[],
    private readonly tensors: TflTensor[],
  ) {
    const seen = new Set<string>();
    this.names = tensors.map((t) => {
      let n = t.name;
      if (seen.has(n)) n = `${n}#${t.index}`;
      seen.add(n);
      return n;
    });
  }

  inputs(indices: number[]): void {
    for (const i of indices) {
      const t = this.tensor(i, "subgraph input");
      const shape = (t.signature ?? t.shape).map((d, k): Dim => (d >= 0 ? d : k === 0 ? "N" : `${this.names[i]}_d${k}`));
      this.vals.set(i, this.e.declare(this.names[i], t.type, shape));
      this.e.graph.inputs.push(this.names[i]);
    }
  }

  tensor(i: number, what: string): TflTensor {
    const t = this.tensors[i];
    if (!t) throw new ConvscopeError(`${what} refers to tensor ${i}, but the subgraph has ${this.tensors.length} tensors`);
    return t;
  }

  /** The Val of tensor i: a constant (declared on first use) or an op output seen before. */
  value(i: number, layer: string): Val {
    const known = this.vals.get(i);
    if (known) return known;
    const t = this.tensor(i, `layer '${layer}'`);
    const buf = t.buffer > 0 ? this.buffers[t.buffer] : undefined;
    if (t.buffer > 0 && !buf) throw new ConvscopeError(`tensor '${t.name}' uses buffer ${t.buffer}, which does not exist`, { layer });
    const range = buf ? bufferRange(buf) : undefined;
    if (!range) throw new ConvscopeError(`reads tensor '${t.name}', which no operator produces and which holds no data`, { layer });
    this.f.check(range.offset, range.length, `buffer ${t.buffer} of tensor '${t.name}'`);
    const count = t.shape.reduce((a, b) => a * b, 1);
    const values = count <= MAX_VALUES && (t.type === "int32" || t.type === "int64") ? this.ints(range.offset, count, t) : undefined;
    const v = this.e.constant(
      this.names[i],
      t.type,
      t.shape,
      { byteLength: range.length, location: "inline", quantized: t.quantized },
      values,
    );
    this.vals.set(i, v);
    return v;
  }

  private ints(offset: number, count: number, t: TflTensor): number[] {
    const size = t.type === "int64" ? 8 : 4;
    this.f.check(offset, count * size, `data of tensor '${t.name}'`);
    return Array.from({ length: count }, (_, k) =>
      size === 8 ? Number(this.f.bb.readInt64(offset + 8 * k)) : this.f.bb.readInt32(offset + 4 * k),
    );
  }

  operator(op: TflOperator, kind: string): void {
    const outs = op.outputs.map((i) => this.tensor(i, `operator ${op.index}`));
    const layer = outs[0] ? this.names[outs[0].index] : `op_${op.index}`;
    const ins = op.inputs.map((i) => (i < 0 ? undefined : this.value(i, layer)));
    const out0 = outs[0];
    const ctx: OpCtx = { op, kind, layer, ins, outs, o: op.options };
    const handler = OPS[kind];
    if (handler && out0 && handler(this, ctx) !== false) return;
    // Unknown: a layer with the file's declared output shapes, nothing counted.
    const names = outs.map((t) => {
      const v = this.e.declare(this.names[t.index], t.type, t.shape);
      this.vals.set(t.index, v);
      return v.name;
    });
    this.e.node(
      `tflite::${kind}`,
      layer,
      ins.map((v) => (v ? v.name : "")),
      names,
      {},
      kind,
    );
  }

  /** Declares output k of the op (its file shape, channels-first) and returns the Val. */
  output(c: OpCtx, k = 0): Val {
    const t = c.outs[k];
    const v = this.e.declare(this.names[t.index], t.type, t.shape);
    this.vals.set(t.index, v);
    return v;
  }

  /** Emits `op` writing output 0, followed by the fused activation when there is one. */
  emit(c: OpCtx, op: string, inputs: string[], attrs: Record<string, AttrValue>, fusedField?: number): void {
    const out = this.output(c);
    const act = fusedField === undefined ? 0 : (c.o?.int8(fusedField, "fused_activation_function") ?? 0);
    if (act === 0) {
      this.e.node(op, c.layer, inputs, [out.name], attrs, c.kind);
      return;
    }
    const pre = this.e.unique(`${out.name}/pre_act`);
    this.e.graph.tensors.set(pre, { ...(this.e.graph.tensors.get(out.name) ?? { name: pre, dtype: "float32" }), name: pre });
    this.e.node(op, c.layer, inputs, [pre], attrs, c.kind);
    const name = ACTIVATIONS[act]?.toLowerCase() ?? `act${act}`;
    this.activation(`${c.layer}/${name}`, act, pre, out.name);
  }

  private activation(layer: string, act: number, x: string, out: string): void {
    const e = this.e;
    if (act === 1) e.node("Relu", layer, [x], [out]);
    else if (act === 2) e.node("Clip", layer, [x, e.scalar(`${layer}/min`, -1), e.scalar(`${layer}/max`, 1)], [out]);
    else if (act === 3) e.node("Clip", layer, [x, e.scalar(`${layer}/min`, 0), e.scalar(`${layer}/max`, 6)], [out]);
    else if (act === 4) e.node("Tanh", layer, [x], [out]);
    else e.node(`tflite::${ACTIVATIONS[act] ?? `ACTIVATION_${act}`}`, layer, [x], [out]);
  }

  first(v: Val | undefined, c: OpCtx, what: string): string {
    if (!v) throw new ConvscopeError(`${what} is missing`, { layer: c.layer });
    return this.e.toFirst(v);
  }
}

interface OpCtx {
  op: TflOperator;
  kind: string;
  layer: string;
  ins: (Val | undefined)[];
  outs: TflTensor[];
  o?: Table;
}

type Handler = (r: TfliteReader, c: OpCtx) => boolean | undefined;

function padding(c: OpCtx): string {
  return (c.o?.int8(0, "padding") ?? 0) === 0 ? "SAME_UPPER" : "VALID";
}

function need(c: OpCtx, k: number, what: string): Val {
  const v = c.ins[k];
  if (!v) throw new ConvscopeError(`${what} (input ${k}) is missing`, { layer: c.layer });
  return v;
}

function weightShape(c: OpCtx, k: number, rank: number): number[] {
  const w = need(c, k, "weight");
  if (!w.constShape || w.constShape.length !== rank) {
    throw new ConvscopeError(`weight must be a stored ${rank}-d tensor`, { layer: c.layer });
  }
  return w.constShape;
}

function conv(r: TfliteReader, c: OpCtx, depthwise: boolean): boolean {
  const e = r.e;
  const x = need(c, 0, "input");
  const w = need(c, 1, "weight");
  const [a, kh, kw, b] = weightShape(c, 1, 4);
  const inC = c.outs.length > 0 ? r.tensor(c.op.inputs[0], c.layer).shape[3] : undefined;
  const o = c.o;
  // Conv2DOptions: padding 0, stride_w 1, stride_h 2, fused 3, dilation_w 4, dilation_h 5.
  // DepthwiseConv2DOptions: padding 0, stride_w 1, stride_h 2, depth_multiplier 3, fused 4, dilation_w 5, dilation_h 6.
  const strides = [o?.int32(2, "stride_h", 1) ?? 1, o?.int32(1, "stride_w", 1) ?? 1];
  const dil = depthwise
    ? [o?.int32(6, "dilation_h_factor", 1) ?? 1, o?.int32(5, "dilation_w_factor", 1) ?? 1]
    : [o?.int32(5, "dilation_h_factor", 1) ?? 1, o?.int32(4, "dilation_w_factor", 1) ?? 1];
  let wName: string;
  let group = 1;
  if (depthwise) {
    // [1, kh, kw, C·dm] → [C·dm, 1, kh, kw], one group per input channel.
    group = inC && inC > 0 ? inC : b;
    wName = e.claim(w, [b, 1, kh, kw]);
  } else {
    // [O, kh, kw, I] → [O, I, kh, kw]; fewer weight input channels than the input has means a grouped conv.
    if (inC && inC > 0 && inC !== b && inC % b === 0) group = inC / b;
    wName = e.claim(w, [a, b, kh, kw]);
  }
  const inputs = [r.first(x, c, "input"), wName];
  const bias = c.ins[2];
  if (bias) inputs.push(e.toLast(bias));
  const attrs: Record<string, AttrValue> = { kernel_shape: [kh, kw], strides, dilations: dil, auto_pad: padding(c), group };
  r.emit(c, "Conv", inputs, attrs, depthwise ? 4 : 3);
  return true;
}

const ELEMENTWISE: Record<string, string> = {
  ADD: "Add",
  SUB: "Sub",
  MUL: "Mul",
  DIV: "Div",
  MAXIMUM: "Max",
  MINIMUM: "Min",
  POW: "Pow",
  SQUARED_DIFFERENCE: "tflite::SQUARED_DIFFERENCE",
  LESS: "Less",
  GREATER: "Greater",
  EQUAL: "Equal",
  GREATER_EQUAL: "GreaterOrEqual",
  LESS_EQUAL: "LessOrEqual",
};

const UNARY: Record<string, string> = {
  LOGISTIC: "Sigmoid",
  TANH: "Tanh",
  RELU: "Relu",
  HARD_SWISH: "HardSwish",
  ELU: "Elu",
  EXP: "Exp",
  LOG: "Log",
  SQRT: "Sqrt",
  ABS: "Abs",
  NEG: "Neg",
  FLOOR: "Floor",
  CEIL: "Ceil",
  ROUND: "Round",
  SIN: "Sin",
  COS: "Cos",
  GELU: "Gelu",
  LOGICAL_NOT: "Not",
};

function binary(r: TfliteReader, c: OpCtx, op: string, fused?: number): boolean {
  const e = r.e;
  const ins = c.ins.filter((v): v is Val => v !== undefined);
  const { names } = e.broadcast(ins);
  r.emit(c, op, names, {}, fused);
  return true;
}

function reduce(r: TfliteReader, c: OpCtx, op: string): boolean {
  const e = r.e;
  const x = need(c, 0, "input");
  const axes = need(c, 1, "axes").values;
  if (!axes) return false;
  const keep = c.o?.bool(0, "keep_dims") ?? false;
  const xn = e.toFirst(x);
  if (keep) {
    r.emit(
      c,
      op,
      [
        xn,
        e.ints(
          `${c.layer}/axes`,
          axes.map((a) => e.axis(x, a)),
        ),
      ],
      { keepdims: 1 },
    );
    return true;
  }
  const { irAxes, fix } = e.dropAxes(x, axes);
  const out = r.output(c);
  const mid = fix ? e.unique(`${out.name}/reduced`) : out.name;
  e.node(op, c.layer, [xn, e.ints(`${c.layer}/axes`, irAxes)], [mid], { keepdims: 0 }, c.kind);
  e.fixOrder(mid, fix, out.name);
  return true;
}

const OPS: Record<string, Handler> = {
  CONV_2D: (r, c) => conv(r, c, false),
  DEPTHWISE_CONV_2D: (r, c) => conv(r, c, true),
  TRANSPOSE_CONV(r, c) {
    const e = r.e;
    // Inputs: output_shape [4] (NHWC), weights [O, kh, kw, I], input, optional bias.
    const [o, kh, kw, i] = weightShape(c, 1, 4);
    const attrs: Record<string, AttrValue> = {
      kernel_shape: [kh, kw],
      strides: [c.o?.int32(2, "stride_h", 1) ?? 1, c.o?.int32(1, "stride_w", 1) ?? 1],
      auto_pad: padding(c),
    };
    const shape = c.ins[0]?.values;
    if (shape && shape.length === 4) attrs.output_shape = [shape[1], shape[2]];
    const inputs = [r.first(c.ins[2], c, "input"), e.claim(need(c, 1, "weight"), [i, o, kh, kw])];
    if (c.ins[3]) inputs.push(e.toLast(c.ins[3]));
    r.emit(c, "ConvTranspose", inputs, attrs, 3);
    return true;
  },
  FULLY_CONNECTED(r, c) {
    const e = r.e;
    const x = need(c, 0, "input");
    const [units, inF] = weightShape(c, 1, 2);
    const keep = c.o?.bool(2, "keep_num_dims") ?? false;
    const w = need(c, 1, "weight");
    const bias = c.ins[2];
    if (keep && x.rank !== 2) {
      // [..., in] · [in, out] on the last axis, then the bias.
      const mm = e.op("MatMul", `${c.layer}/matmul`, [e.toLast(x), e.claim(w, [inF, units])]);
      const mmVal = e.out(mm, x.rank, false);
      if (!bias) {
        r.emit(c, "Identity", [e.toFirst(mmVal)], {}, 0);
        return true;
      }
      r.emit(c, "Add", e.broadcast([mmVal, bias]).names, {}, 0);
      return true;
    }
    let xn = e.toFirst(x);
    if (x.rank !== 2) xn = e.op("Reshape", `${c.layer}/flatten`, [xn, e.ints(`${c.layer}/flatten_shape`, [-1, inF])]);
    const inputs = [xn, e.claim(w, [units, inF])];
    if (bias) inputs.push(e.toLast(bias));
    r.emit(c, "Gemm", inputs, { transB: 1 }, 0);
    return true;
  },
  AVERAGE_POOL_2D: (r, c) => pool(r, c, "AveragePool"),
  MAX_POOL_2D: (r, c) => pool(r, c, "MaxPool"),
  MEAN: (r, c) => reduce(r, c, "ReduceMean"),
  SUM: (r, c) => reduce(r, c, "ReduceSum"),
  REDUCE_MAX: (r, c) => reduce(r, c, "ReduceMax"),
  REDUCE_MIN: (r, c) => reduce(r, c, "ReduceMin"),
  ADD: (r, c) => binary(r, c, "Add", 0),
  SUB: (r, c) => binary(r, c, "Sub", 0),
  MUL: (r, c) => binary(r, c, "Mul", 0),
  DIV: (r, c) => binary(r, c, "Div", 0),
  CONCATENATION(r, c) {
    const e = r.e;
    const ins = c.ins.filter((v): v is Val => v !== undefined);
    const axis = c.o?.int32(0, "axis") ?? 0;
    r.emit(
      c,
      "Concat",
      ins.map((v) => e.toFirst(v)),
      { axis: e.axis(ins[0], axis) },
      1,
    );
    return true;
  },
  RESHAPE(r, c) {
    const e = r.e;
    const x = need(c, 0, "input");
    const outRank = c.outs[0].shape.length;
    const target = c.o?.int32s(0, "new_shape") ?? c.ins[1]?.values;
    let shapeName: string;
    if (target && target.length > 0) shapeName = e.ints(`${c.layer}/shape`, outRank >= 3 ? (nhwcToNchw(target) as number[]) : target);
    else if (c.ins[1]) {
      const s = e.toLast(c.ins[1]);
      shapeName =
        outRank >= 3
          ? e.op(
              "Gather",
              `${c.layer}/shape_nchw`,
              [s, e.ints(`${c.layer}/nchw_order`, nhwcToNchw([...Array(outRank).keys()]) as number[])],
              { axis: 0 },
            )
          : s;
    } else return false;
    r.emit(c, "Reshape", [e.toFirst(x), shapeName], {});
    return true;
  },
  PAD: (r, c) => pad(r, c, "constant"),
  PADV2: (r, c) => pad(r, c, "constant"),
  MIRROR_PAD: (r, c) => pad(r, c, "reflect"),
  RESIZE_BILINEAR: (r, c) => resize(r, c, "linear"),
  RESIZE_NEAREST_NEIGHBOR: (r, c) => resize(r, c, "nearest"),
  SOFTMAX(r, c) {
    const e = r.e;
    const x = need(c, 0, "input");
    r.emit(c, "Softmax", [e.toFirst(x)], { axis: e.axis(x, -1) });
    return true;
  },
  LOG_SOFTMAX(r, c) {
    const e = r.e;
    const x = need(c, 0, "input");
    r.emit(c, "LogSoftmax", [e.toFirst(x)], { axis: e.axis(x, -1) });
    return true;
  },
  RELU6: (r, c) => clip(r, c, 0, 6),
  RELU_N1_TO_1: (r, c) => clip(r, c, -1, 1),
  RELU_0_TO_1: (r, c) => clip(r, c, 0, 1),
  LEAKY_RELU(r, c) {
    r.emit(c, "LeakyRelu", [r.first(c.ins[0], c, "input")], { alpha: c.o?.float32(0, "alpha") ?? 0.2 });
    return true;
  },
  PRELU: (r, c) => binary(r, c, "PRelu"),
  RSQRT(r, c) {
    const e = r.e;
    const s = e.op("Sqrt", `${c.layer}/sqrt`, [r.first(c.ins[0], c, "input")]);
    r.emit(c, "Reciprocal", [s], {});
    return true;
  },
  SQUARE(r, c) {
    const x = r.first(c.ins[0], c, "input");
    r.emit(c, "Mul", [x, x], {});
    return true;
  },
  QUANTIZE: (r, c) => cast(r, c),
  DEQUANTIZE: (r, c) => cast(r, c),
  CAST: (r, c) => cast(r, c),
  SQUEEZE(r, c) {
    const e = r.e;
    const x = need(c, 0, "input");
    const inShape = r.tensor(c.op.inputs[0], c.layer).shape;
    let dims = c.o?.int32s(0, "squeeze_dims") ?? [];
    if (dims.length === 0) dims = inShape.flatMap((d, i) => (d === 1 ? [i] : []));
    const { irAxes, fix } = e.dropAxes(x, dims);
    const out = r.output(c);
    const mid = fix ? e.unique(`${out.name}/squeezed`) : out.name;
    e.node("Squeeze", c.layer, [e.toFirst(x), e.ints(`${c.layer}/axes`, irAxes)], [mid], {}, c.kind);
    e.fixOrder(mid, fix, out.name);
    return true;
  },
  EXPAND_DIMS(r, c) {
    const e = r.e;
    const x = need(c, 0, "input");
    const axis = c.ins[1]?.values;
    if (!axis) return false;
    const { irAxes, fix } = e.addAxes(x, axis);
    const out = r.output(c);
    const mid = fix ? e.unique(`${out.name}/expanded`) : out.name;
    e.node("Unsqueeze", c.layer, [e.toFirst(x), e.ints(`${c.layer}/axes`, irAxes)], [mid], {}, c.kind);
    e.fixOrder(mid, fix, out.name);
    return true;
  },
  TRANSPOSE(r, c) {
    const e = r.e;
    const x = need(c, 0, "input");
    const perm = c.ins[1]?.values;
    if (!perm || x.rank === undefined) return false;
    r.emit(c, "Transpose", [e.toFirst(x)], { perm: transposePerm(perm, x.first) });
    return true;
  },
  STRIDED_SLICE(r, c) {
    const e = r.e;
    const x = need(c, 0, "input");
    const [begin, end, strides] = [c.ins[1]?.values, c.ins[2]?.values, c.ins[3]?.values];
    if (!begin || !end || !strides) return false;
    const o = c.o;
    const masks = {
      begin: o?.int32(0, "begin_mask") ?? 0,
      end: o?.int32(1, "end_mask") ?? 0,
      ellipsis: o?.int32(2, "ellipsis_mask") ?? 0,
      newAxis: o?.int32(3, "new_axis_mask") ?? 0,
      shrink: o?.int32(4, "shrink_axis_mask") ?? 0,
    };
    const s = sliceOf(begin, end, strides, masks);
    if (!s) return false;
    const sliced = s.shrink.length > 0 ? e.unique(`${c.layer}/slice`) : undefined;
    const args = [
      e.toFirst(x),
      e.ints(`${c.layer}/starts`, s.starts),
      e.ints(`${c.layer}/ends`, s.ends),
      e.ints(
        `${c.layer}/axes`,
        s.axes.map((a) => e.axis(x, a)),
      ),
      e.ints(`${c.layer}/steps`, s.steps),
    ];
    if (!sliced) {
      r.emit(c, "Slice", args, {});
      return true;
    }
    e.node("Slice", c.layer, args, [sliced], {}, c.kind);
    const { irAxes, fix } = e.dropAxes(x, s.shrink);
    const out = r.output(c);
    const mid = fix ? e.unique(`${out.name}/squeezed`) : out.name;
    e.node("Squeeze", `${c.layer}/shrink`, [sliced, e.ints(`${c.layer}/shrink_axes`, irAxes)], [mid]);
    e.fixOrder(mid, fix, out.name);
    return true;
  },
  SLICE(r, c) {
    const e = r.e;
    const x = need(c, 0, "input");
    const [begin, size] = [c.ins[1]?.values, c.ins[2]?.values];
    if (!begin || !size) return false;
    const ends = size.map((n, i) => (n < 0 ? Number.MAX_SAFE_INTEGER : begin[i] + n));
    const axes = begin.map((_, i) => e.axis(x, i));
    r.emit(
      c,
      "Slice",
      [e.toFirst(x), e.ints(`${c.layer}/starts`, begin), e.ints(`${c.layer}/ends`, ends), e.ints(`${c.layer}/axes`, axes)],
      {},
    );
    return true;
  },
  GATHER(r, c) {
    const e = r.e;
    const x = need(c, 0, "input");
    const idx = need(c, 1, "indices");
    if (x.first && (idx.rank ?? 1) !== 0) return false;
    r.emit(c, "Gather", [e.toFirst(x), e.toLast(idx)], { axis: e.axis(x, c.o?.int32(0, "axis") ?? 0) });
    return true;
  },
};

for (const [k, v] of Object.entries(ELEMENTWISE)) OPS[k] ??= (r, c) => binary(r, c, v);
for (const [k, v] of Object.entries(UNARY)) {
  OPS[k] = (r, c) => {
    r.emit(c, v, [r.first(c.ins[0], c, "input")], v === "Elu" ? { alpha: 1 } : {});
    return true;
  };
}

function pool(r: TfliteReader, c: OpCtx, op: string): boolean {
  const o = c.o;
  // Pool2DOptions: padding 0, stride_w 1, stride_h 2, filter_width 3, filter_height 4, fused 5.
  const attrs: Record<string, AttrValue> = {
    kernel_shape: [o?.int32(4, "filter_height", 1) ?? 1, o?.int32(3, "filter_width", 1) ?? 1],
    strides: [o?.int32(2, "stride_h", 1) ?? 1, o?.int32(1, "stride_w", 1) ?? 1],
    auto_pad: padding(c),
  };
  r.emit(c, op, [r.first(c.ins[0], c, "input")], attrs, 5);
  return true;
}

function clip(r: TfliteReader, c: OpCtx, lo: number, hi: number): boolean {
  const e = r.e;
  r.emit(c, "Clip", [r.first(c.ins[0], c, "input"), e.scalar(`${c.layer}/min`, lo), e.scalar(`${c.layer}/max`, hi)], {});
  return true;
}

function cast(r: TfliteReader, c: OpCtx): boolean {
  r.emit(c, "Cast", [r.first(c.ins[0], c, "input")], { to: castTo(c.outs[0].type as DType) });
  return true;
}

function pad(r: TfliteReader, c: OpCtx, mode: string): boolean {
  const e = r.e;
  const x = need(c, 0, "input");
  const p = c.ins[1]?.values;
  if (!p) return false;
  const inputs = [e.toFirst(x), e.ints(`${c.layer}/pads`, padsOf(x, p))];
  if (c.ins[2]) inputs.push(e.toLast(c.ins[2]));
  r.emit(c, "Pad", inputs, { mode });
  return true;
}

function resize(r: TfliteReader, c: OpCtx, mode: string): boolean {
  const e = r.e;
  const x = need(c, 0, "input");
  const size = c.ins[1]?.values;
  const inShape = r.tensor(c.op.inputs[0], c.layer).shape;
  if (!size || size.length !== 2 || inShape.length !== 4) return false;
  // ResizeBilinearOptions: align_corners 2, half_pixel_centers 3; ResizeNearestNeighborOptions: 0, 1.
  const base = mode === "linear" ? 2 : 0;
  const align = c.o?.bool(base, "align_corners") ?? false;
  const half = c.o?.bool(base + 1, "half_pixel_centers") ?? false;
  const ctm = align ? "align_corners" : half ? (mode === "linear" ? "half_pixel" : "tf_half_pixel_for_nn") : "asymmetric";
  const attrs: Record<string, AttrValue> = { mode, coordinate_transformation_mode: ctm };
  if (mode === "nearest") attrs.nearest_mode = align ? "round_prefer_ceil" : "floor";
  const sizes = e.ints(`${c.layer}/sizes`, [inShape[0], inShape[3], size[0], size[1]]);
  r.emit(c, "Resize", [e.toFirst(x), "", "", sizes], attrs);
  return true;
}

/** A TFLite flatbuffer carries the file identifier "TFL3" at bytes 4–8. */
export function sniffTflite(head: Uint8Array): boolean {
  return head.length >= 8 && new TextDecoder().decode(head.subarray(4, 8)) === "TFL3";
}
