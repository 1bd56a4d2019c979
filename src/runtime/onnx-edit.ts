import { ConvscopeError } from "../core/errors.js";

/**
 * Rewrites an ONNX model for onnxruntime: fills the initializers a graph-only file leaves
 * out (absent or external data) with generated values of the right shape and dtype, keeps
 * out graph outputs to a chosen set of tensors (dropping the nodes nothing needs), rebinds
 * input dims, and swaps op types. Only the fields it changes are decoded: every other field
 * of the model, graph, node and attribute is copied byte for byte, so the runtime sees the
 * file's own graph. Hand-written (a few varints) rather than protobufjs + onnx.proto: the
 * reader in src/formats/onnx is hand-written for the same reason (no schema compiler, no
 * copy of the weights), and this module only needs the graph's outer fields.
 *
 * Field numbers from onnx.proto: ModelProto.graph = 7; GraphProto node 1, initializer 5,
 * input 11, output 12, value_info 13; NodeProto input 1, output 2, name 3, op_type 4,
 * attribute 5, domain 7; TensorProto dims 1, data_type 2, float_data 4, int32_data 5,
 * string_data 6, int64_data 7, name 8, raw_data 9, double_data 10, uint64_data 11,
 * external_data 13, data_location 14; ValueInfoProto name 1, type 2; TypeProto.tensor_type 1;
 * Tensor elem_type 1, shape 2; TensorShapeProto dim 1; Dimension dim_value 1, dim_param 2.
 */

export interface Field {
  field: number;
  wire: number;
  /** Offset of the tag. */
  at: number;
  /** Body: [start, end) (for varints, the varint's bytes). */
  start: number;
  end: number;
  /** Offset of the length varint of a length-delimited field. */
  lenAt?: number;
}

/** The top-level fields of an encoded message; a one-line error for a malformed one. */
export function readFields(b: Uint8Array, from: number, to: number): Field[] {
  const out: Field[] = [];
  let p = from;
  const varint = (): number => {
    let v = 0;
    for (let s = 0; ; s += 7) {
      if (p >= to) throw new ConvscopeError(`byte ${p}: truncated varint`);
      const x = b[p++];
      v += (x & 0x7f) * 2 ** s;
      if (x < 0x80) return v;
    }
  };
  while (p < to) {
    const at = p;
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (wire === 0) {
      const start = p;
      varint();
      out.push({ field, wire, at, start, end: p });
    } else if (wire === 2) {
      const lenAt = p;
      const n = varint();
      if (p + n > to) throw new ConvscopeError(`byte ${at}: field ${field} runs past its message`);
      out.push({ field, wire, at, start: p, end: p + n, lenAt });
      p += n;
    } else if (wire === 5 || wire === 1) {
      const n = wire === 5 ? 4 : 8;
      out.push({ field, wire, at, start: p, end: p + n });
      p += n;
    } else throw new ConvscopeError(`byte ${at}: unsupported wire type ${wire}`);
  }
  return out;
}

/** The varints packed in [from, to). */
export function varintsIn(b: Uint8Array, from: number, to: number): number[] {
  const out: number[] = [];
  let v = 0;
  let s = 0;
  for (let p = from; p < to; p++) {
    v += (b[p] & 0x7f) * 2 ** s;
    s += 7;
    if (b[p] < 0x80) {
      out.push(v);
      v = 0;
      s = 0;
    }
  }
  return out;
}

const dec = new TextDecoder();
const enc = new TextEncoder();

/** A protobuf message under construction: a list of byte chunks. */
class Writer {
  chunks: Uint8Array[] = [];
  length = 0;
  bytes(b: Uint8Array): this {
    this.chunks.push(b);
    this.length += b.length;
    return this;
  }
  varintRaw(v: number): this {
    const out: number[] = [];
    let x = v;
    do {
      let byte = x % 128;
      x = Math.floor(x / 128);
      if (x > 0) byte |= 0x80;
      out.push(byte);
    } while (x > 0);
    return this.bytes(Uint8Array.from(out));
  }
  varint(field: number, v: number): this {
    return this.varintRaw(field * 8).varintRaw(v);
  }
  len(field: number, body: string | Uint8Array | Writer): this {
    this.varintRaw(field * 8 + 2);
    if (body instanceof Writer) {
      this.varintRaw(body.length);
      for (const c of body.chunks) this.bytes(c);
      return this;
    }
    const b = typeof body === "string" ? enc.encode(body) : body;
    return this.varintRaw(b.length).bytes(b);
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

export interface EditNode {
  name: string;
  op: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  /** Attribute and other fields, encoded, copied as they are unless `dropAttrs`. */
  rest: Uint8Array[];
  dropAttrs?: boolean;
}

export interface EditInitializer {
  name: string;
  dims: number[];
  /** ONNX TensorProto.DataType code. */
  dataType: number;
  /** True when the file holds the values (raw_data or typed data fields, not external). */
  hasData: boolean;
  /** The TensorProto as stored. */
  raw: Uint8Array;
  /** Replacement raw_data (little-endian elements), set by the caller. */
  fill?: Uint8Array;
  /** Where an external payload lives (ExternalDataProto keys `location`, `offset`, `length`). */
  external?: { location: string; offset: number; length?: number };
}

export interface EditValueInfo {
  name: string;
  raw: Uint8Array;
  /** Replacement dims (a number or a symbol) for a tensor input. */
  dims?: (number | string)[];
  elemType?: number;
}

export interface EditModel {
  nodes: EditNode[];
  initializers: EditInitializer[];
  inputs: EditValueInfo[];
  outputs: EditValueInfo[];
  /** Other model and graph fields, copied as they are. */
  modelRest: Uint8Array[];
  graphRest: Uint8Array[];
}

/** Bytes per element of the ONNX data types a network's weights use. */
export const ELEMENT_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

export function parseModel(b: Uint8Array): EditModel {
  const m: EditModel = { nodes: [], initializers: [], inputs: [], outputs: [], modelRest: [], graphRest: [] };
  let sawGraph = false;
  for (const f of readFields(b, 0, b.length)) {
    if (f.field !== 7 || f.wire !== 2) {
      m.modelRest.push(b.subarray(f.at, f.end));
      continue;
    }
    sawGraph = true;
    for (const g of readFields(b, f.start, f.end)) {
      const body = b.subarray(g.start, g.end);
      if (g.wire !== 2) m.graphRest.push(b.subarray(g.at, g.end));
      else if (g.field === 1) m.nodes.push(parseNode(b, g));
      else if (g.field === 5) m.initializers.push(parseInit(b, g));
      else if (g.field === 11) m.inputs.push({ name: nameOf(b, g), raw: body });
      else if (g.field === 12) m.outputs.push({ name: nameOf(b, g), raw: body });
      else if (g.field === 13)
        continue; // value_info: dropped (optional; stale once inputs are rebound)
      else m.graphRest.push(b.subarray(g.at, g.end));
    }
  }
  if (!sawGraph) throw new ConvscopeError("the model has no graph (ModelProto field 7)");
  return m;
}

function nameOf(b: Uint8Array, f: Field): string {
  for (const x of readFields(b, f.start, f.end)) if (x.field === 1 && x.wire === 2) return dec.decode(b.subarray(x.start, x.end));
  return "";
}

function parseNode(b: Uint8Array, f: Field): EditNode {
  const n: EditNode = { name: "", op: "", domain: "", inputs: [], outputs: [], rest: [] };
  for (const x of readFields(b, f.start, f.end)) {
    const s = () => dec.decode(b.subarray(x.start, x.end));
    if (x.field === 1 && x.wire === 2) n.inputs.push(s());
    else if (x.field === 2 && x.wire === 2) n.outputs.push(s());
    else if (x.field === 3 && x.wire === 2) n.name = s();
    else if (x.field === 4 && x.wire === 2) n.op = s();
    else if (x.field === 7 && x.wire === 2) n.domain = s();
    else n.rest.push(b.subarray(x.at, x.end));
  }
  return n;
}

function parseInit(b: Uint8Array, f: Field): EditInitializer {
  const t: EditInitializer = { name: "", dims: [], dataType: 1, hasData: false, raw: b.subarray(f.start, f.end) };
  let external = false;
  let data = false;
  for (const x of readFields(b, f.start, f.end)) {
    if (x.field === 1) t.dims.push(...varintsIn(b, x.start, x.end));
    else if (x.field === 2) t.dataType = varintsIn(b, x.start, x.end)[0];
    else if (x.field === 8) t.name = dec.decode(b.subarray(x.start, x.end));
    else if (x.field === 14) external = varintsIn(b, x.start, x.end)[0] === 1;
    else if (x.field === 13 && x.wire === 2) {
      let key = "";
      let value = "";
      for (const kv of readFields(b, x.start, x.end)) {
        if (kv.field === 1) key = dec.decode(b.subarray(kv.start, kv.end));
        if (kv.field === 2) value = dec.decode(b.subarray(kv.start, kv.end));
      }
      t.external ??= { location: "", offset: 0 };
      if (key === "location") t.external.location = value;
      if (key === "offset") t.external.offset = Number(value);
      if (key === "length") t.external.length = Number(value);
    } else if (x.field === 9 || x.field === 4 || x.field === 5 || x.field === 6 || x.field === 7 || x.field === 10 || x.field === 11)
      data = true;
  }
  const count = t.dims.reduce((a, d) => a * d, 1);
  t.hasData = !external && (data || count === 0);
  return t;
}

function encodeValueInfo(v: EditValueInfo): Uint8Array | Writer {
  if (!v.dims) return v.raw;
  const shape = new Writer();
  for (const d of v.dims) {
    const dim = new Writer();
    if (typeof d === "number") dim.varint(1, d);
    else dim.len(2, d);
    shape.len(1, dim);
  }
  const tt = new Writer().varint(1, v.elemType ?? 1).len(2, shape);
  return new Writer().len(1, v.name).len(2, new Writer().len(1, tt));
}

/** A graph output of the given name (element type float unless given), shape left to the runtime. */
export function outputInfo(name: string, elemType = 1): EditValueInfo {
  const tt = new Writer().varint(1, elemType);
  return { name, raw: new Writer().len(1, name).len(2, new Writer().len(1, tt)).finish() };
}

export function writeModel(m: EditModel): Uint8Array {
  const g = new Writer();
  for (const n of m.nodes) {
    const w = new Writer();
    for (const i of n.inputs) w.len(1, i);
    for (const o of n.outputs) w.len(2, o);
    if (n.name) w.len(3, n.name);
    w.len(4, n.op);
    if (!n.dropAttrs) for (const r of n.rest) w.bytes(r);
    if (n.domain) w.len(7, n.domain);
    g.len(1, w);
  }
  for (const r of m.graphRest) g.bytes(r);
  for (const t of m.initializers) {
    if (!t.fill) {
      g.len(5, t.raw);
      continue;
    }
    const w = new Writer();
    for (const d of t.dims) w.varint(1, d);
    w.varint(2, t.dataType).len(8, t.name).len(9, t.fill);
    g.len(5, w);
  }
  for (const v of m.inputs) g.len(11, encodeValueInfo(v));
  for (const v of m.outputs) g.len(12, encodeValueInfo(v));
  const out = new Writer();
  for (const r of m.modelRest) out.bytes(r);
  out.len(7, g);
  return out.finish();
}

/**
 * Keeps only the nodes the given outputs need and makes those tensors the graph's outputs
 * (float unless `elemTypes` says otherwise); initializers nothing reads any more are dropped.
 */
export function pruneTo(m: EditModel, outputs: string[]): void {
  const producer = new Map<string, EditNode>();
  for (const n of m.nodes) for (const o of n.outputs) producer.set(o, n);
  const keep = new Set<EditNode>();
  const stack = [...outputs];
  const seen = new Set<string>();
  while (stack.length > 0) {
    const t = stack.pop() as string;
    if (seen.has(t)) continue;
    seen.add(t);
    const n = producer.get(t);
    if (!n || keep.has(n)) continue;
    keep.add(n);
    for (const i of n.inputs) if (i) stack.push(i);
  }
  const known = new Set([...producer.keys(), ...m.inputs.map((i) => i.name), ...m.initializers.map((i) => i.name)]);
  for (const o of outputs) if (!known.has(o)) throw new ConvscopeError(`no tensor '${o}' in the model`);
  m.nodes = m.nodes.filter((n) => keep.has(n));
  m.initializers = m.initializers.filter((t) => seen.has(t.name));
  m.inputs = m.inputs.filter((i) => seen.has(i.name));
  m.outputs = outputs.map((o) => m.outputs.find((x) => x.name === o) ?? outputInfo(o));
}

/** How an initializer is used: the op and input position of its first consumer. */
export function consumers(m: EditModel): Map<string, { op: string; index: number; node: EditNode }> {
  const use = new Map<string, { op: string; index: number; node: EditNode }>();
  for (const n of m.nodes) {
    n.inputs.forEach((i, index) => {
      if (!use.has(i)) use.set(i, { op: n.op, index, node: n });
    });
  }
  return use;
}

/** Raw little-endian bytes of `count` elements of an ONNX type, each `value(i)`. */
export function encodeElements(dataType: number, count: number, value: (i: number) => number): Uint8Array {
  const size = ELEMENT_BYTES[dataType];
  if (size === undefined) throw new ConvscopeError(`cannot make values of ONNX data type ${dataType}`);
  const buf = new Uint8Array(count * size);
  const v = new DataView(buf.buffer);
  for (let i = 0; i < count; i++) {
    const x = value(i);
    switch (dataType) {
      case 1:
        v.setFloat32(i * 4, x, true);
        break;
      case 11:
        v.setFloat64(i * 8, x, true);
        break;
      case 10:
        v.setUint16(i * 2, f16(x), true);
        break;
      case 16:
        v.setUint16(i * 2, new Uint32Array(new Float32Array([x]).buffer)[0] >>> 16, true);
        break;
      case 7:
      case 13:
        v.setBigInt64(i * 8, BigInt(Math.round(x)), true);
        break;
      case 6:
      case 12:
        v.setInt32(i * 4, Math.round(x), true);
        break;
      case 4:
      case 5:
        v.setInt16(i * 2, Math.round(x), true);
        break;
      default:
        buf[i] = Math.round(x) & 0xff;
    }
  }
  return buf;
}

/** IEEE half from a double (round toward zero; enough for generated weights). */
function f16(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const e = ((u >>> 23) & 0xff) - 127 + 15;
  if (e <= 0) return sign;
  if (e >= 31) return sign | 0x7c00;
  return sign | (e << 10) | ((u >>> 13) & 0x3ff);
}

export interface TinyNode {
  op: string;
  inputs: string[];
  outputs: string[];
}

/** A small float32 model built from scratch (the micro-benchmarks' MatMul and Add). */
export function tinyModel(nodes: TinyNode[], inputs: { name: string; dims: number[] }[], outputs: string[], opset = 13): Uint8Array {
  const m: EditModel = {
    nodes: nodes.map((n, i) => ({ name: `n${i}`, op: n.op, domain: "", inputs: n.inputs, outputs: n.outputs, rest: [] })),
    initializers: [],
    inputs: inputs.map((i) => ({ name: i.name, raw: new Uint8Array(), dims: i.dims, elemType: 1 })),
    outputs: outputs.map((o) => outputInfo(o)),
    modelRest: [],
    graphRest: [new Writer().len(2, "convscope-microbench").finish()],
  };
  m.modelRest.push(new Writer().varint(1, 8).finish(), new Writer().len(8, new Writer().len(1, "").varint(2, opset)).finish());
  return writeModel(m);
}
