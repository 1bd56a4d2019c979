import { randomFillSync } from "node:crypto";
import { closeSync, ftruncateSync, openSync, writeSync } from "node:fs";
import { ELEMENT_BYTES, type Field, readFields, varintsIn } from "../../src/runtime/onnx-edit.js";

/**
 * A tiny ONNX writer for tests and benchmarks, written independently of the reader (its
 * own varints, its own field walk) so a round trip checks the reader against the schema
 * rather than against itself. Large payloads are `fill` parts: their size is known and
 * their bytes are only produced when written, so a 550 MB model streams to disk.
 */

type Part = Uint8Array | { fill: number };

const enc = new TextEncoder();

/** A varint's bytes (negative numbers as 64-bit two's complement, as protobuf writes int64). */
export function varintBytes(v: number | bigint): Uint8Array {
  let x = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x > 0n) b |= 0x80;
    out.push(b);
  } while (x > 0n);
  return Uint8Array.from(out);
}

/** A protobuf message under construction. */
export class Pb {
  readonly parts: Part[] = [];
  length = 0;

  private push(p: Part): this {
    this.parts.push(p);
    this.length += p instanceof Uint8Array ? p.length : p.fill;
    return this;
  }

  /** Appends raw bytes (a hand-made field, or garbage). */
  raw(b: Uint8Array): this {
    return this.push(b);
  }

  tag(field: number, wire: number): this {
    return this.push(varintBytes(field * 8 + wire));
  }

  varint(field: number, v: number | bigint): this {
    return this.tag(field, 0).push(varintBytes(v));
  }

  /** A length-delimited field: text, bytes or a sub-message. */
  len(field: number, body: string | Uint8Array | Pb): this {
    const b = typeof body === "string" ? enc.encode(body) : body;
    this.tag(field, 2).push(varintBytes(b.length));
    if (b instanceof Pb) for (const p of b.parts) this.push(p);
    else this.push(b);
    return this;
  }

  /** A length-delimited field of `n` filler bytes, produced only when written. */
  fill(field: number, n: number): this {
    return this.tag(field, 2).push(varintBytes(n)).push({ fill: n });
  }

  float(field: number, x: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, x, true);
    return this.tag(field, 5).push(b);
  }

  packedVarints(field: number, xs: readonly (number | bigint)[]): this {
    const body = new Pb();
    for (const x of xs) body.push(varintBytes(x));
    return this.len(field, body);
  }

  packedFloats(field: number, xs: readonly number[]): this {
    const b = new Uint8Array(4 * xs.length);
    const v = new DataView(b.buffer);
    for (let i = 0; i < xs.length; i++) v.setFloat32(4 * i, xs[i], true);
    return this.len(field, b);
  }

  /** The message's bytes (filler from a seeded generator, so tests are reproducible). */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    let seed = 12345;
    for (const p of this.parts) {
      if (p instanceof Uint8Array) {
        out.set(p, o);
        o += p.length;
      } else {
        for (let i = 0; i < p.fill; i++) {
          seed = (seed * 1103515245 + 12345) >>> 0;
          out[o++] = seed >>> 24;
        }
      }
    }
    return out;
  }

  /**
   * Streams the message to a file; filler is random bytes (so nothing compresses or stays sparse).
   * `sparse`: filler is left a hole instead (zeros, no disk space, written at once), for files
   * past 2 GB made at test time.
   */
  writeFile(path: string, opts: { sparse?: boolean } = {}): void {
    const fd = openSync(path, "w");
    const chunk = randomFillSync(new Uint8Array(1 << 20));
    try {
      let at = 0;
      for (const p of this.parts) {
        if (p instanceof Uint8Array) at += writeSync(fd, p, 0, p.length, at);
        else if (opts.sparse) at += p.fill;
        else for (let left = p.fill; left > 0; left -= chunk.length) at += writeSync(fd, chunk, 0, Math.min(left, chunk.length), at);
      }
      ftruncateSync(fd, at);
    } finally {
      closeSync(fd);
    }
  }
}

/** ONNX element type codes used by tests. */
export const DT = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, STRING: 8, BOOL: 9, FLOAT16: 10, DOUBLE: 11 } as const;

export interface TensorSpec {
  name: string;
  dims: number[];
  dataType?: number;
  /** Elements as raw little-endian bytes. */
  raw?: Uint8Array;
  /** `n` filler bytes of raw_data (a weight whose values do not matter). */
  fill?: number;
  floats?: number[];
  int64s?: number[];
  int32s?: number[];
  /** Stored in another file. */
  external?: { location: string; offset?: number; length?: number };
}

/** TensorProto, fields in onnx.proto order as protobuf serialisers write them. */
export function tensor(t: TensorSpec): Pb {
  const m = new Pb();
  for (const d of t.dims) m.varint(1, d);
  m.varint(2, t.dataType ?? DT.FLOAT);
  if (t.floats) m.packedFloats(4, t.floats);
  if (t.int32s) m.packedVarints(5, t.int32s);
  if (t.int64s) m.packedVarints(7, t.int64s);
  m.len(8, t.name);
  if (t.raw) m.len(9, t.raw);
  if (t.fill !== undefined) m.fill(9, t.fill);
  if (t.external) {
    const kv = (k: string, v: string) => new Pb().len(1, k).len(2, v);
    m.len(13, kv("location", t.external.location));
    if (t.external.offset !== undefined) m.len(13, kv("offset", String(t.external.offset)));
    if (t.external.length !== undefined) m.len(13, kv("length", String(t.external.length)));
    m.varint(14, 1);
  }
  return m;
}

/** AttributeProto builders, one per type (type codes from onnx.proto). */
export const attr = {
  f: (name: string, x: number) => new Pb().len(1, name).float(2, x).varint(20, 1),
  i: (name: string, x: number | bigint) => new Pb().len(1, name).varint(3, x).varint(20, 2),
  s: (name: string, s: string) => new Pb().len(1, name).len(4, s).varint(20, 3),
  t: (name: string, t: Pb) => new Pb().len(1, name).len(5, t).varint(20, 4),
  g: (name: string, g: Pb) => new Pb().len(1, name).len(6, g).varint(20, 5),
  floats: (name: string, xs: number[]) => {
    const m = new Pb().len(1, name);
    for (const x of xs) m.float(7, x);
    return m.varint(20, 6);
  },
  /** INTS, unpacked as onnx.proto (proto2) writes them. */
  ints: (name: string, xs: (number | bigint)[]) => {
    const m = new Pb().len(1, name);
    for (const x of xs) m.varint(8, x);
    return m.varint(20, 7);
  },
  strings: (name: string, xs: string[]) => {
    const m = new Pb().len(1, name);
    for (const x of xs) m.len(9, x);
    return m.varint(20, 8);
  },
  tensors: (name: string, ts: Pb[]) => {
    const m = new Pb().len(1, name);
    for (const t of ts) m.len(10, t);
    return m.varint(20, 9);
  },
  graphs: (name: string, gs: Pb[]) => {
    const m = new Pb().len(1, name);
    for (const g of gs) m.len(11, g);
    return m.varint(20, 10);
  },
};

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attrs?: Pb[];
}

export function node(n: NodeSpec): Pb {
  const m = new Pb();
  for (const i of n.inputs) m.len(1, i);
  for (const o of n.outputs) m.len(2, o);
  if (n.name !== undefined) m.len(3, n.name);
  m.len(4, n.op);
  for (const a of n.attrs ?? []) m.len(5, a);
  if (n.domain !== undefined) m.len(7, n.domain);
  return m;
}

/** ValueInfoProto of a tensor; dims: a size, a symbol, or null (neither). */
export function valueInfo(name: string, dims?: (number | string | null)[], elemType: number = DT.FLOAT): Pb {
  const tt = new Pb().varint(1, elemType);
  if (dims) {
    const shape = new Pb();
    for (const d of dims) {
      const dim = new Pb();
      if (typeof d === "number") dim.varint(1, d);
      else if (typeof d === "string") dim.len(2, d);
      shape.len(1, dim);
    }
    tt.len(2, shape);
  }
  return new Pb().len(1, name).len(2, new Pb().len(1, tt));
}

export interface GraphSpec {
  name?: string;
  nodes: Pb[];
  initializers?: Pb[];
  inputs: Pb[];
  outputs: Pb[];
  valueInfo?: Pb[];
}

export function graph(g: GraphSpec): Pb {
  const m = new Pb();
  for (const n of g.nodes) m.len(1, n);
  m.len(2, g.name ?? "g");
  for (const t of g.initializers ?? []) m.len(5, t);
  for (const i of g.inputs) m.len(11, i);
  for (const o of g.outputs) m.len(12, o);
  for (const v of g.valueInfo ?? []) m.len(13, v);
  return m;
}

export function model(g: Pb, opsets: [string, number][] = [["", 13]], irVersion = 8, functions: Pb[] = []): Pb {
  const m = new Pb().varint(1, irVersion).len(2, "convscope-test").len(7, g);
  for (const [domain, version] of opsets) m.len(8, new Pb().len(1, domain).varint(2, version));
  for (const f of functions) m.len(25, f);
  return m;
}

export interface FunctionSpec {
  name: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  /** Attribute names the function takes. */
  attributes?: string[];
  /** Attributes with defaults (`attribute_proto`). */
  defaults?: Pb[];
  nodes: Pb[];
}

/** FunctionProto (ModelProto field 25): name 1, input 4, output 5, attribute 6, node 7, opset_import 9, domain 10, attribute_proto 11. */
export function func(f: FunctionSpec): Pb {
  const m = new Pb().len(1, f.name);
  for (const i of f.inputs) m.len(4, i);
  for (const o of f.outputs) m.len(5, o);
  for (const a of f.attributes ?? []) m.len(6, a);
  for (const n of f.nodes) m.len(7, n);
  m.len(9, new Pb().len(1, "").varint(2, 13));
  m.len(10, f.domain);
  for (const d of f.defaults ?? []) m.len(11, d);
  return m;
}

/** An attribute of a function body's node that takes the calling node's attribute `ref` (`ref_attr_name`), of type `type`. */
export function attrRef(name: string, ref: string, type: number): Pb {
  return new Pb().len(1, name).varint(20, type).len(21, ref);
}

/** A field of an encoded message, as the runtime's rewriter walks it. */
export type RawField = Field;

/** The top-level fields of an encoded message (throws on malformed input; for well-formed fixtures). */
export function fields(b: Uint8Array, from = 0, to = b.length): RawField[] {
  return readFields(b, from, to);
}

/**
 * Rewrites a fixture whose weights are external data (left out) into one holding every
 * weight inline as `raw_data` filler: the benchmark's ResNet-50 and VGG-16 with weights.
 */
export function inlineWeights(b: Uint8Array): Pb {
  const out = new Pb();
  for (const f of fields(b)) {
    if (f.field !== 7) {
      out.raw(b.subarray(f.at, f.end));
      continue;
    }
    const g = new Pb();
    for (const gf of fields(b, f.start, f.end)) {
      if (gf.field !== 5) {
        g.raw(b.subarray(gf.at, gf.end));
        continue;
      }
      const t = new Pb();
      const dims: number[] = [];
      let dataType = 1;
      let external = false;
      for (const tf of fields(b, gf.start, gf.end)) {
        if (tf.field === 13 || tf.field === 14) {
          external = true;
          continue;
        }
        if (tf.field === 1) dims.push(...varintsIn(b, tf.start, tf.end));
        if (tf.field === 2) dataType = varintsIn(b, tf.start, tf.end)[0];
        t.raw(b.subarray(tf.at, tf.end));
      }
      if (external) t.fill(9, dims.reduce((a, d) => a * d, 1) * (ELEMENT_BYTES[dataType] ?? 4));
      g.len(5, t);
    }
    out.len(7, g);
  }
  return out;
}

/** The raw_data ranges of a model's initializers: the bytes a lazy reader must never ask for. */
export function weightPayloads(b: Uint8Array): [number, number][] {
  const out: [number, number][] = [];
  for (const f of fields(b)) {
    if (f.field !== 7) continue;
    for (const gf of fields(b, f.start, f.end)) {
      if (gf.field !== 5) continue;
      for (const tf of fields(b, gf.start, gf.end)) if (tf.field === 9 && tf.end > tf.start) out.push([tf.start, tf.end]);
    }
  }
  return out;
}
