import type { DType } from "../../core/dtype.js";
import { ConvscopeError } from "../../core/errors.js";
import type { AttrValue, Graph } from "../../core/graph.js";
import type { Dim } from "../../core/shape.js";
import { nhwcToNchw } from "../layout.js";
import type { ByteSource } from "../source.js";
import { ChannelsLastGraph, firstPerm, lastDim, lastPerm, type Val } from "./channels-last.js";
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
  const kinds = sg.operators.map((op) => {
    const code = model.opcodes[op.opcode];
    return code ? (code.custom ? `CUSTOM:${code.custom}` : builtinName(code.code)) : "";
  });
  reader.setOps(sg.operators);
  reader.planDilated(sg.operators, kinds, sg.outputs);
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

/**
 * TF writes a dilated conv as SPACE_TO_BATCH_ND → CONV_2D (or DEPTHWISE_CONV_2D) →
 * BATCH_TO_SPACE_ND: the image is split into block² phase images, convolved without
 * dilation, and woven back. The three ops are read as the one dilated conv they compute.
 */
interface Dilated {
  s2b: number;
  b2s: number;
  block: number[];
  /** SPACE_TO_BATCH paddings and BATCH_TO_SPACE crops, [[begin, end] per spatial axis] flattened. */
  pads: number[];
  crops: number[];
}

class TfliteReader {
  private readonly vals = new Map<number, Val>();
  private readonly names: string[];
  /** Conv operator index → the SPACE_TO_BATCH / BATCH_TO_SPACE pair around it. */
  private readonly dilated = new Map<number, Dilated>();
  /** SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND operators folded into a dilated conv. */
  private readonly folded = new Set<number>();

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
      if (shape.length >= 3) this.e.graph.channelsLastInputs = [...(this.e.graph.channelsLastInputs ?? []), this.names[i]];
    }
  }

  /**
   * Finds SPACE_TO_BATCH_ND → conv → BATCH_TO_SPACE_ND chains (each tensor between them read
   * by the next op only, equal constant block shapes, a stride-1 undilated conv) to read as
   * one dilated conv.
   */
  planDilated(ops: TflOperator[], kinds: string[], outputs: number[]): void {
    const readers = new Map<number, number[]>();
    ops.forEach((op, k) => {
      for (const i of op.inputs) if (i >= 0) readers.set(i, [...(readers.get(i) ?? []), k]);
    });
    const only = (t: number) => {
      const r = readers.get(t) ?? [];
      return r.length === 1 && !outputs.includes(t) ? r[0] : undefined;
    };
    const ints = (i: number | undefined) => (i === undefined || i < 0 ? undefined : this.constInts(i));
    ops.forEach((s2b, k) => {
      if (kinds[k] !== "SPACE_TO_BATCH_ND") return;
      const ci = only(s2b.outputs[0]);
      if (ci === undefined || (kinds[ci] !== "CONV_2D" && kinds[ci] !== "DEPTHWISE_CONV_2D")) return;
      const cv = ops[ci];
      if (cv.inputs[0] !== s2b.outputs[0]) return;
      const bi = only(cv.outputs[0]);
      if (bi === undefined || kinds[bi] !== "BATCH_TO_SPACE_ND" || ops[bi].inputs[0] !== cv.outputs[0]) return;
      const dw = kinds[ci] === "DEPTHWISE_CONV_2D";
      const o = cv.options;
      const stride = [o?.int32(2, "stride_h", 1) ?? 1, o?.int32(1, "stride_w", 1) ?? 1];
      const dil = dw
        ? [o?.int32(6, "dilation_h_factor", 1) ?? 1, o?.int32(5, "dilation_w_factor", 1) ?? 1]
        : [o?.int32(5, "dilation_h_factor", 1) ?? 1, o?.int32(4, "dilation_w_factor", 1) ?? 1];
      if ([...stride, ...dil].some((v) => v !== 1)) return;
      const [block, pads, block2, crops] = [ints(s2b.inputs[1]), ints(s2b.inputs[2]), ints(ops[bi].inputs[1]), ints(ops[bi].inputs[2])];
      if (!block || !pads || !block2 || !crops || block.length !== 2 || block.join() !== block2.join()) return;
      if (pads.length !== 4 || crops.length !== 4) return;
      this.dilated.set(ci, { s2b: k, b2s: bi, block, pads, crops });
      this.folded.add(k);
      this.folded.add(bi);
    });
  }

  /** Values of a small stored integer tensor (read at planning time, before any op). */
  private constInts(i: number): number[] | undefined {
    const t = this.tensors[i];
    if (!t || t.buffer <= 0 || (t.type !== "int32" && t.type !== "int64")) return undefined;
    const buf = this.buffers[t.buffer];
    const range = buf ? bufferRange(buf) : undefined;
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (!range || count > MAX_VALUES) return undefined;
    return this.ints(range.offset, count, t);
  }

  /**
   * The shape the file declares for an op's output. `shape_signature` wins where it exists:
   * a −1 there is decided at run time, so the batch is 'N' and any other −1 leaves the shape
   * to inference — the placeholder `shape` the converter writes beside it ([1, 1] for a
   * reshape whose target is computed) is never trusted.
   */
  fileShape(t: TflTensor): Dim[] | undefined {
    const sig = t.signature;
    if (!sig || sig.length !== t.shape.length) return t.shape;
    if (sig.slice(1).some((d) => d < 0)) return undefined;
    return sig.map((d): Dim => (d >= 0 ? d : "N"));
  }

  /** The IR name of a file tensor. */
  nameOf(t: TflTensor): string {
    return this.names[t.index];
  }

  /** Size of the file's last axis when static. */
  lastDim(t: TflTensor): number | undefined {
    const d = (t.signature ?? t.shape).at(-1);
    return d !== undefined && d >= 0 ? d : undefined;
  }

  /** Declares tensor t (an op output) with its file shape; `first` false keeps a rank ≥ 3 tensor in file order. */
  declareOut(t: TflTensor, first?: boolean): Val {
    const rank = t.shape.length;
    const v = this.e.declare(this.names[t.index], t.type, this.fileShape(t), rank, first ?? rank >= 3);
    const ch = this.lastDim(t);
    if (ch !== undefined) v.channels = ch;
    this.vals.set(t.index, v);
    return v;
  }

  /**
   * A 1-d shape-like operand (reshape target, tile multiples) for a rank-`rank` result, as
   * an IR name: permuted to channels-first order when `first`, constant values kept constant.
   */
  vector(c: OpCtx, v: Val | undefined, values: readonly number[] | undefined, rank: number, first: boolean): string {
    const e = this.e;
    if (values) return e.ints(`${c.layer}/shape`, first && rank >= 3 ? (nhwcToNchw([...values]) as number[]) : values);
    if (!v) throw new ConvscopeError("the shape operand is missing", { layer: c.layer });
    const s = e.toLast(v);
    if (!first || rank < 3) return s;
    return e.op("Gather", `${c.layer}/shape_nchw`, [s, e.ints(`${c.layer}/nchw_order`, nhwcToNchw([...Array(rank).keys()]) as number[])], {
      axis: 0,
    });
  }

  /** Tensor i now stands for an existing Val (a DEQUANTIZE of a stored weight, a folded op). */
  alias(i: number, v: Val): void {
    this.vals.set(i, v);
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

  /** `count` little-endian int32s at a file offset (a custom op's options). */
  rawInts(offset: number, count: number): number[] {
    this.f.check(offset, count * 4, "custom options");
    return Array.from({ length: count }, (_, k) => this.f.bb.readInt32(offset + 4 * k));
  }

  ints(offset: number, count: number, t: TflTensor): number[] {
    const size = t.type === "int64" ? 8 : 4;
    this.f.check(offset, count * size, `data of tensor '${t.name}'`);
    return Array.from({ length: count }, (_, k) =>
      size === 8 ? Number(this.f.bb.readInt64(offset + 8 * k)) : this.f.bb.readInt32(offset + 4 * k),
    );
  }

  operator(op: TflOperator, kind: string): void {
    if (this.folded.has(op.index)) {
      // SPACE_TO_BATCH_ND: its output is the conv's input as it was; BATCH_TO_SPACE_ND: the conv wrote it.
      if (kind === "SPACE_TO_BATCH_ND") this.alias(op.outputs[0], this.value(op.inputs[0], this.names[op.outputs[0]]));
      return;
    }
    const dil = this.dilated.get(op.index);
    let outs = op.outputs.map((i) => this.tensor(i, `operator ${op.index}`));
    const layer = outs[0] ? this.names[outs[0].index] : `op_${op.index}`;
    if (dil) outs = [this.tensor(this.ops(dil.b2s).outputs[0], layer)];
    const ins = op.inputs.map((i) => (i < 0 ? undefined : this.value(i, layer)));
    const out0 = outs[0];
    const ctx: OpCtx = { op, kind, layer, ins, outs, o: op.options, dilated: dil };
    const handler = OPS[kind];
    if (handler && out0 && handler(this, ctx) !== false) return;
    // Unknown: a layer with the file's declared output shapes, nothing counted.
    const names = outs.map((t) => this.declareOut(t).name);
    this.e.node(
      `tflite::${kind}`,
      layer,
      ins.map((v) => (v ? v.name : "")),
      names,
      {},
      kind,
    );
  }

  /** Declares output k of the op (its file shape, channels-first unless `first` is false) and returns the Val. */
  output(c: OpCtx, k = 0, first?: boolean): Val {
    return this.declareOut(c.outs[k], first);
  }

  /** The operators, for the planned dilated convs. */
  private opsList: TflOperator[] = [];
  setOps(ops: TflOperator[]): void {
    this.opsList = ops;
  }
  ops(i: number): TflOperator {
    return this.opsList[i];
  }

  /** Emits `op` writing output 0, followed by the fused activation when there is one. */
  emit(c: OpCtx, op: string, inputs: string[], attrs: Record<string, AttrValue>, fusedField?: number, first?: boolean): void {
    const out = this.output(c, 0, first);
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
  /** Set on a conv read together with the SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND around it. */
  dilated?: Dilated;
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
  if (c.dilated) {
    // Phase images padded by the conv itself (SAME, stride 1: ⌊(k−1)/2⌋ before, the rest
    // after) are the original image padded block× as much; the BATCH_TO_SPACE crops take
    // outputs off each end. So: dilation = block, pads = paddings + block·inner − crops.
    const { block, pads, crops } = c.dilated;
    const same = padding(c) === "SAME_UPPER";
    const k = [kh, kw];
    const inner = (i: number, end: boolean) => (same ? (end ? Math.ceil((k[i] - 1) / 2) : Math.floor((k[i] - 1) / 2)) : 0);
    const begin = [0, 1].map((i) => pads[2 * i] + block[i] * inner(i, false) - crops[2 * i]);
    const endP = [0, 1].map((i) => pads[2 * i + 1] + block[i] * inner(i, true) - crops[2 * i + 1]);
    if ([...begin, ...endP].some((p) => p < 0))
      throw new ConvscopeError("SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND crop more than they pad", { layer: c.layer });
    delete attrs.auto_pad;
    attrs.dilations = block;
    attrs.pads = [...begin, ...endP];
  }
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
  REDUCE_PROD: (r, c) => reduce(r, c, "ReduceProd"),
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
    const outT = c.outs[0];
    const outRank = outT.shape.length;
    // The shape operand wins over the options' new_shape (a converter may leave a stale one there).
    const s = c.ins[1];
    const target = s ? s.values : c.o?.int32s(0, "new_shape");
    if (!target && !s) return false;
    // Channels-first is the same reshape only when the channel (last) axis passes through
    // untouched: [N,16,2,16,C] → [N,32,16,C] merges spatial axes either way. Anything else
    // (a flatten to [HW, C], tokens back to a map) is reshaped in the file's order.
    const inLast = lastDim(x);
    const outLast = r.lastDim(outT);
    const spatialOnes = (t: readonly number[] | undefined) => t !== undefined && t.length >= 3 && t.slice(1, -1).every((d) => d === 1);
    const keep =
      ((x.rank ?? 0) >= 3 && outRank >= 3 && inLast !== undefined && inLast === outLast && (target?.at(-1) ?? outLast) === outLast) ||
      // [N, C] ↔ [N, 1, 1, C]: the spatial axes are all 1, so either order is the same data.
      ((x.rank ?? 0) < 3 && spatialOnes(target ?? outT.signature ?? outT.shape));
    if (keep) {
      r.emit(c, "Reshape", [e.toFirst(x), r.vector(c, s, target, outRank, true)], {});
      return true;
    }
    // A rank ≥ 3 result is shown channels-first like every other tensor: a Transpose writes it.
    const shapeName = r.vector(c, s, target, outRank, false);
    if (outRank < 3) {
      r.emit(c, "Reshape", [e.toLast(x), shapeName], {}, undefined, false);
      return true;
    }
    const mid = e.op("Reshape", c.layer, [e.toLast(x), shapeName], {}, c.kind, e.unique(`${r.nameOf(outT)}/nhwc`));
    r.emit(c, "Transpose", [mid], { perm: firstPerm(outRank) });
    return true;
  },
  SHAPE(r, c) {
    const e = r.e;
    const x = need(c, 0, "input");
    if (!x.first || x.rank === undefined) {
      r.emit(c, "Shape", [e.toLast(x)], {});
      return true;
    }
    // The IR holds x channels-first: its shape read back in the file's order.
    const sh = e.op("Shape", `${c.layer}/nchw`, [x.name], {}, c.kind);
    r.emit(c, "Gather", [sh, e.ints(`${c.layer}/nhwc_idx`, lastPerm(x.rank))], { axis: 0 });
    return true;
  },
  PACK(r, c) {
    const e = r.e;
    // PackOptions: values_count 0, axis 1.
    const ins = c.ins.filter((v): v is Val => v !== undefined);
    const axis = c.o?.int32(1, "axis") ?? 0;
    const parts = ins.map((v, i) => unsqueezeTo(r, c, v, [axis], e.unique(`${c.layer}/part${i}`), `${c.layer}/unsqueeze${i}`));
    const rank = parts[0]?.rank;
    const first = (rank ?? 0) >= 3;
    const outAxis = first && rank !== undefined ? e.axis({ name: "", rank, first: true }, axis) : axis;
    r.emit(
      c,
      "Concat",
      parts.map((p) => e.toFirst(p)),
      { axis: outAxis },
    );
    return true;
  },
  UNPACK(r, c) {
    const e = r.e;
    const x = need(c, 0, "input");
    // UnpackOptions: num 0, axis 1.
    const axis = c.o?.int32(1, "axis") ?? 0;
    const num = c.outs.length;
    const pieces = c.outs.map((_, k) => e.unique(`${c.layer}/piece${k}`));
    e.node("Split", `${c.layer}/split`, [e.toFirst(x)], pieces, { axis: e.axis(x, axis), num_outputs: num }, c.kind);
    c.outs.forEach((t, k) => {
      const { irAxes, fix } = e.dropAxes(x, [axis]);
      const out = r.output(c, k);
      const mid = fix ? e.unique(`${out.name}/squeezed`) : out.name;
      e.node(
        "Squeeze",
        k === 0 ? c.layer : `${c.layer}/squeeze${k}`,
        [pieces[k], e.ints(`${c.layer}/axes${k}`, irAxes)],
        [mid],
        {},
        c.kind,
      );
      e.fixOrder(mid, fix, out.name);
      void t;
    });
    return true;
  },
  SPLIT(r, c) {
    const axis = c.ins[0]?.values;
    const x = need(c, 1, "input");
    if (!axis) return false;
    return split(r, c, x, axis[0], []);
  },
  SPLIT_V(r, c) {
    const x = need(c, 0, "input");
    const sizes = c.ins[1]?.values;
    const axis = c.ins[2]?.values;
    if (!axis || !sizes) return false;
    return split(r, c, x, axis[0], [r.e.ints(`${c.layer}/split`, sizes)]);
  },
  FILL(r, c) {
    const e = r.e;
    const dims = need(c, 0, "dims");
    r.emit(c, "ConstantOfShape", [e.toLast(dims)], {}, undefined, false);
    return true;
  },
  ZEROS_LIKE(r, c) {
    const x = need(c, 0, "input");
    r.emit(c, "ZerosLike", [r.e.toFirst(x)], {});
    return true;
  },
  TILE(r, c) {
    const e = r.e;
    const x = need(c, 0, "input");
    const m = need(c, 1, "multiples");
    const rank = x.rank ?? 0;
    r.emit(c, "Tile", [e.toFirst(x), r.vector(c, m, m.values, rank, rank >= 3)], {});
    return true;
  },
  BROADCAST_TO(r, c) {
    const e = r.e;
    const x = need(c, 0, "input");
    const s = need(c, 1, "shape");
    const outRank = c.outs[0].shape.length;
    // Same rank: numpy broadcasting matches axis for axis in either order; a lower-rank
    // operand aligns to the trailing file axes, so that case stays in the file's order.
    if (x.rank === outRank) {
      r.emit(c, "Expand", [e.toFirst(x), r.vector(c, s, s.values, outRank, outRank >= 3)], {});
      return true;
    }
    r.emit(c, "Expand", [e.toLast(x), r.vector(c, s, s.values, outRank, false)], {}, undefined, false);
    return true;
  },
  DEPTH_TO_SPACE: (r, c) => depthSpace(r, c, "DepthToSpace"),
  SPACE_TO_DEPTH: (r, c) => depthSpace(r, c, "SpaceToDepth"),
  BATCH_MATMUL(r, c) {
    const e = r.e;
    // BatchMatMulOptions: adj_x 0, adj_y 1. On the file's axes (the last two are the matrix).
    const [a, b] = [need(c, 0, "x"), need(c, 1, "y")];
    const inputs = [
      e.matrix(a, c.o?.bool(0, "adj_x") ?? false, `${c.layer}/adj_x`),
      e.matrix(b, c.o?.bool(1, "adj_y") ?? false, `${c.layer}/adj_y`),
    ];
    r.emit(c, "MatMul", inputs, {}, undefined, false);
    return true;
  },
  TOPK_V2(r, c) {
    const e = r.e;
    const x = need(c, 0, "input");
    const k = need(c, 1, "k");
    // Along the last file axis; values and indices keep the input's layout.
    const outs = c.outs.map((_, i) => r.output(c, i, x.first).name);
    e.node("TopK", c.layer, [x.first ? x.name : e.toLast(x), e.toLast(k)], outs, { axis: e.axis(x, -1) }, c.kind);
    return true;
  },
  ARG_MAX: (r, c) => argReduce(r, c, "ArgMax"),
  ARG_MIN: (r, c) => argReduce(r, c, "ArgMin"),
  SQUARED_DIFFERENCE(r, c) {
    const e = r.e;
    const { names } = e.broadcast(c.ins.filter((v): v is Val => v !== undefined));
    const d = e.op("Sub", `${c.layer}/sub`, names, {}, c.kind);
    r.emit(c, "Mul", [d, d], {});
    return true;
  },
  FLOOR_DIV(r, c) {
    const e = r.e;
    const { names } = e.broadcast(c.ins.filter((v): v is Val => v !== undefined));
    const q = e.op("Div", `${c.layer}/div`, names, {}, c.kind);
    r.emit(c, "Floor", [q], {});
    return true;
  },
  SELECT: (r, c) => binary(r, c, "Where"),
  SELECT_V2: (r, c) => binary(r, c, "Where"),
  ADD_N: (r, c) => binary(r, c, "Sum"),
  FLOOR_MOD: (r, c) => binary(r, c, "Mod"),
  LOGICAL_AND: (r, c) => binary(r, c, "And"),
  LOGICAL_OR: (r, c) => binary(r, c, "Or"),
  NOT_EQUAL(r, c) {
    const e = r.e;
    const { names } = e.broadcast(c.ins.filter((v): v is Val => v !== undefined));
    const q = e.op("Equal", `${c.layer}/equal`, names, {}, c.kind);
    r.emit(c, "Not", [q], {});
    return true;
  },
  RANGE(r, c) {
    const e = r.e;
    r.emit(
      c,
      "Range",
      c.ins.map((v) => (v ? e.toLast(v) : "")),
      {},
    );
    return true;
  },
  GATHER_ND(r, c) {
    const e = r.e;
    const [x, idx] = [need(c, 0, "params"), need(c, 1, "indices")];
    r.emit(c, "GatherND", [e.toLast(x), e.toLast(idx)], { batch_dims: 0 }, undefined, false);
    return true;
  },
  L2_NORMALIZATION(r, c) {
    const e = r.e;
    const x = need(c, 0, "input");
    r.emit(c, "LpNormalization", [e.toFirst(x)], { p: 2, axis: e.axis({ ...x, first: (x.rank ?? 0) >= 3 }, -1) }, 0);
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
  DENSIFY(r, c) {
    // A sparse (pruned) stored weight made dense: the op reads the stored tensor, counted at
    // its dense element count and stored at the sparse buffer's real size.
    const x = need(c, 0, "input");
    if (!x.constShape) return false;
    r.alias(c.op.outputs[0], x);
    return true;
  },
  "CUSTOM:Convolution2DTransposeBias"(r, c) {
    // MediaPipe's transposed conv with bias (selfie segmentation and others): inputs, weights
    // [O, kh, kw, I], bias; custom_options is TfLiteTransposeConvParams, three int32s:
    // padding (1 SAME, 2 VALID), stride_width, stride_height.
    const e = r.e;
    const p = c.op.custom ? r.rawInts(c.op.custom.start, Math.floor(c.op.custom.length / 4)) : [];
    if (p.length < 3) return false;
    const [o, kh, kw, i] = weightShape(c, 1, 4);
    const attrs: Record<string, AttrValue> = {
      kernel_shape: [kh, kw],
      strides: [p[2], p[1]],
      auto_pad: p[0] === 2 ? "VALID" : "SAME_UPPER",
    };
    const inputs = [r.first(c.ins[0], c, "input"), e.claim(need(c, 1, "weight"), [i, o, kh, kw])];
    if (c.ins[2]) inputs.push(e.toLast(c.ins[2]));
    r.emit(c, "ConvTranspose", inputs, attrs);
    return true;
  },
  QUANTIZE: (r, c) => cast(r, c),
  DEQUANTIZE(r, c) {
    // A stored weight (float16, or int8 with scales) dequantized for a float op: the op reads
    // the stored tensor itself, so its elements count once at their real storage size.
    const x = need(c, 0, "input");
    if (x.constShape) {
      r.alias(c.op.outputs[0], x);
      return true;
    }
    return cast(r, c);
  },
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

/** Unsqueeze of file axes `axes` of x into a new tensor `out`, with the order fix when needed. */
function unsqueezeTo(r: TfliteReader, c: OpCtx, x: Val, axes: number[], out: string, layer: string): Val {
  const e = r.e;
  const { irAxes, fix, rank } = e.addAxes(x, axes);
  const mid = fix ? e.unique(`${out}/pre`) : out;
  e.node("Unsqueeze", layer, [e.toFirst(x), e.ints(`${layer}/axes`, irAxes)], [mid], {}, c.kind);
  e.fixOrder(mid, fix, out);
  return e.out(out, rank);
}

function split(r: TfliteReader, c: OpCtx, x: Val, axis: number, extra: string[]): boolean {
  const e = r.e;
  const outs = c.outs.map((_, k) => r.output(c, k, x.first).name);
  e.node(
    "Split",
    c.layer,
    [x.first ? x.name : e.toLast(x), ...extra],
    outs,
    { axis: e.axis(x, axis), ...(extra.length === 0 ? { num_outputs: outs.length } : {}) },
    c.kind,
  );
  return true;
}

function depthSpace(r: TfliteReader, c: OpCtx, op: string): boolean {
  // DepthToSpaceOptions / SpaceToDepthOptions: block_size 0. TF's NHWC order of the moved
  // channels is ONNX's DCR mode on the channels-first tensor.
  const b = c.o?.int32(0, "block_size") ?? 0;
  r.emit(c, op, [r.e.toFirst(need(c, 0, "input"), 4)], op === "DepthToSpace" ? { blocksize: b, mode: "DCR" } : { blocksize: b });
  return true;
}

function argReduce(r: TfliteReader, c: OpCtx, op: string): boolean {
  const e = r.e;
  const x = need(c, 0, "input");
  const axis = c.ins[1]?.values;
  if (!axis) return false;
  const { irAxes, fix } = e.dropAxes(x, axis);
  const out = r.output(c);
  const mid = fix ? e.unique(`${out.name}/reduced`) : out.name;
  e.node(op, c.layer, [e.toFirst(x)], [mid], { axis: irAxes[0], keepdims: 0 }, c.kind);
  e.fixOrder(mid, fix, out.name);
  return true;
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
