import { Builder } from "flatbuffers";
import type { DType } from "../../src/core/dtype.js";
import { builtinCode, tensorTypeCode } from "../../src/formats/tflite/schema.js";

/**
 * A small TFLite writer for tests: builds real .tflite flatbuffers (file identifier TFL3)
 * with the `flatbuffers` Builder, following tensorflow/lite/schema/schema.fbs. Weights are
 * zero-filled buffers of the right byte length; integer constants carry their values.
 */

export interface WTensor {
  name: string;
  shape: number[];
  type?: DType;
  /** Integer values (shape, axes, pads constants). */
  ints?: number[];
  /** A weight: a zero-filled buffer of the tensor's byte size. */
  weight?: boolean;
  /** shape_signature (−1 for a dynamic dim). */
  signature?: number[];
  /** Adds quantization parameters (scale 0.5, zero point 0). */
  quantized?: boolean;
}

/** One field of an options table: slot number, kind, value. */
export type WField = [number, "i8" | "i32" | "f32" | "bool" | "i32s", number | boolean | number[]];

export interface WOp {
  op: string;
  inputs: number[];
  outputs: number[];
  /** BuiltinOptions union index (1-based position in the schema's union) and its fields. */
  options?: { type: number; fields: WField[] };
  /** Writes the code only in deprecated_builtin_code (older converters). */
  deprecatedOnly?: boolean;
}

export interface WModel {
  tensors: WTensor[];
  inputs: number[];
  outputs: number[];
  ops: WOp[];
  /** Extra empty subgraphs (control-flow bodies). */
  extraSubgraphs?: number;
}

/** BuiltinOptions union indices used by the tests. */
export const OPT = {
  Conv2D: 1,
  DepthwiseConv2D: 2,
  Pool2D: 5,
  FullyConnected: 8,
  Softmax: 9,
  Concatenation: 10,
  Add: 11,
  ResizeBilinear: 15,
  Reshape: 17,
  Mul: 21,
  Pad: 22,
  Reducer: 27,
  Sub: 28,
  Squeeze: 30,
  StridedSlice: 32,
  TransposeConv: 49,
  ResizeNearestNeighbor: 74,
} as const;

const BITS: Partial<Record<DType, number>> = { float32: 4, float16: 2, int32: 4, int64: 8, int8: 1, uint8: 1, int16: 2 };

export function writeTflite(m: WModel): Uint8Array {
  const b = new Builder(1024);
  const intVec = (xs: number[]) => {
    b.startVector(4, xs.length, 4);
    for (let i = xs.length - 1; i >= 0; i--) b.addInt32(xs[i]);
    return b.endVector();
  };
  const offVec = (xs: number[]) => {
    b.startVector(4, xs.length, 4);
    for (let i = xs.length - 1; i >= 0; i--) b.addOffset(xs[i]);
    return b.endVector();
  };

  // Buffers: 0 is the empty sentinel; each constant tensor gets its own.
  const bufferOffsets: number[] = [];
  b.startObject(3);
  bufferOffsets.push(b.endObject());
  const tensorBuffer: number[] = [];
  for (const t of m.tensors) {
    const type = t.type ?? "float32";
    if (!t.ints && !t.weight) {
      tensorBuffer.push(0);
      continue;
    }
    const count = t.shape.reduce((a, x) => a * x, 1);
    const bytes = new Uint8Array(count * (BITS[type] ?? 4));
    const dv = new DataView(bytes.buffer);
    t.ints?.forEach((v, i) => {
      if (type === "int64") dv.setBigInt64(8 * i, BigInt(v), true);
      else dv.setInt32(4 * i, v, true);
    });
    b.startVector(1, bytes.length, 16);
    for (let i = bytes.length - 1; i >= 0; i--) b.addInt8(bytes[i]);
    const data = b.endVector();
    b.startObject(3);
    b.addFieldOffset(0, data, 0);
    tensorBuffer.push(bufferOffsets.length);
    bufferOffsets.push(b.endObject());
  }

  const tensorOffsets = m.tensors.map((t, i) => {
    const name = b.createString(t.name);
    const shape = intVec(t.shape);
    const sig = t.signature ? intVec(t.signature) : 0;
    let quant = 0;
    if (t.quantized) {
      b.startVector(4, 1, 4);
      b.addFloat32(0.5);
      const scale = b.endVector();
      b.startVector(8, 1, 8);
      b.addInt64(0n);
      const zp = b.endVector();
      b.startObject(7);
      b.addFieldOffset(2, scale, 0);
      b.addFieldOffset(3, zp, 0);
      quant = b.endObject();
    }
    b.startObject(9);
    b.addFieldOffset(0, shape, 0);
    b.addFieldInt8(1, tensorTypeCode(t.type ?? "float32"), -1);
    b.addFieldInt32(2, tensorBuffer[i], -1);
    b.addFieldOffset(3, name, 0);
    if (quant) b.addFieldOffset(4, quant, 0);
    if (sig) b.addFieldOffset(7, sig, 0);
    return b.endObject();
  });

  const kinds = [...new Set(m.ops.map((o) => `${o.op}${o.deprecatedOnly ? "!" : ""}`))];
  const opOffsets = m.ops.map((o) => {
    const inputs = intVec(o.inputs);
    const outputs = intVec(o.outputs);
    let opts = 0;
    if (o.options) {
      const vecs = o.options.fields.map(([, kind, v]) => (kind === "i32s" ? intVec(v as number[]) : 0));
      b.startObject(16);
      o.options.fields.forEach(([slot, kind, v], i) => {
        if (kind === "i8") b.addFieldInt8(slot, v as number, -1000);
        else if (kind === "bool") b.addFieldInt8(slot, v ? 1 : 0, -1000);
        else if (kind === "i32") b.addFieldInt32(slot, v as number, -1000);
        else if (kind === "f32") b.addFieldFloat32(slot, v as number, -1000);
        else b.addFieldOffset(slot, vecs[i], 0);
      });
      opts = b.endObject();
    }
    b.startObject(13);
    b.addFieldInt32(0, kinds.indexOf(`${o.op}${o.deprecatedOnly ? "!" : ""}`), -1);
    b.addFieldOffset(1, inputs, 0);
    b.addFieldOffset(2, outputs, 0);
    if (o.options) {
      b.addFieldInt8(3, o.options.type, 0);
      b.addFieldOffset(4, opts, 0);
    }
    return b.endObject();
  });

  const codeOffsets = kinds.map((k) => {
    const deprecatedOnly = k.endsWith("!");
    const code = builtinCode(deprecatedOnly ? k.slice(0, -1) : k);
    b.startObject(4);
    b.addFieldInt8(0, Math.min(code, 127), -1);
    b.addFieldInt32(2, 1, -1);
    if (!deprecatedOnly) b.addFieldInt32(3, code, -1);
    return b.endObject();
  });

  const subgraph = (tensors: number[], inputs: number[], outputs: number[], ops: number[]) => {
    const tv = offVec(tensors);
    const iv = intVec(inputs);
    const ov = intVec(outputs);
    const opv = offVec(ops);
    const name = b.createString("main");
    b.startObject(5);
    b.addFieldOffset(0, tv, 0);
    b.addFieldOffset(1, iv, 0);
    b.addFieldOffset(2, ov, 0);
    b.addFieldOffset(3, opv, 0);
    b.addFieldOffset(4, name, 0);
    return b.endObject();
  };
  const subgraphs = [subgraph(tensorOffsets, m.inputs, m.outputs, opOffsets)];
  for (let i = 0; i < (m.extraSubgraphs ?? 0); i++) subgraphs.push(subgraph([], [], [], []));

  const codes = offVec(codeOffsets);
  const sgs = offVec(subgraphs);
  const bufs = offVec(bufferOffsets);
  const desc = b.createString("convscope test writer");
  b.startObject(8);
  b.addFieldInt32(0, 3, -1);
  b.addFieldOffset(1, codes, 0);
  b.addFieldOffset(2, sgs, 0);
  b.addFieldOffset(3, desc, 0);
  b.addFieldOffset(4, bufs, 0);
  b.finish(b.endObject(), "TFL3");
  return b.asUint8Array();
}
