import type { DType } from "../../core/dtype.js";
import { ConvscopeError } from "../../core/errors.js";
import { bufferSource } from "../source.js";
import type { Piece } from "./proto.js";
import { Cursor, I32, I64, Msg } from "./wire.js";

/**
 * Element values of a stored tensor, decoded only when a rule asks (a Reshape's shape,
 * a Slice's starts, a Resize's scales): weights are never decoded.
 */

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

function half(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return sign * f * 2 ** -24;
  if (e === 31) return f ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + f / 1024) * 2 ** (e - 15);
}

function bfloat(bits: number): number {
  U32[0] = bits << 16;
  return F32[0];
}

/** Little-endian raw bytes (`raw_data`, external data) as numbers. */
export function decodeRaw(b: Uint8Array, dtype: DType, what: string): number[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const read: Partial<Record<DType, [number, (i: number) => number]>> = {
    float32: [4, (i) => v.getFloat32(i, true)],
    float64: [8, (i) => v.getFloat64(i, true)],
    float16: [2, (i) => half(v.getUint16(i, true))],
    bfloat16: [2, (i) => bfloat(v.getUint16(i, true))],
    int8: [1, (i) => v.getInt8(i)],
    uint8: [1, (i) => v.getUint8(i)],
    bool: [1, (i) => (v.getUint8(i) ? 1 : 0)],
    int16: [2, (i) => v.getInt16(i, true)],
    uint16: [2, (i) => v.getUint16(i, true)],
    int32: [4, (i) => v.getInt32(i, true)],
    uint32: [4, (i) => v.getUint32(i, true)],
    int64: [8, (i) => Number(v.getBigInt64(i, true))],
    uint64: [8, (i) => Number(v.getBigUint64(i, true))],
  };
  const r = read[dtype];
  if (!r) throw new ConvscopeError(`${what}: values of type ${dtype} cannot be decoded`);
  const [size, get] = r;
  if (b.length % size !== 0) throw new ConvscopeError(`${what}: ${b.length} bytes are not a whole number of ${dtype} values`);
  const out = new Array<number>(b.length / size);
  for (let i = 0; i < out.length; i++) out[i] = get(i * size);
  return out;
}

/** Values of `int32_data`, which also carries the bits of 16-bit floats and the small integer types. */
function fromInt32(x: number, dtype: DType): number {
  if (dtype === "float16") return half(x & 0xffff);
  if (dtype === "bfloat16") return bfloat(x & 0xffff);
  if (dtype === "bool") return x ? 1 : 0;
  return x;
}

/** Decodes an inline tensor's pieces; `bytes(a, b)` fetches bytes [a, b) of the model file. */
export function decodePieces(pieces: Piece[], dtype: DType, bytes: (a: number, b: number) => Uint8Array, what: string): number[] {
  const out: number[] = [];
  for (const p of pieces) {
    const b = bytes(p.start, p.end);
    if (p.field === 9) {
      for (const x of decodeRaw(b, dtype, what)) out.push(x);
      continue;
    }
    const c = new Cursor(bufferSource(what, b));
    if (p.packed) {
      if (p.field === 4) for (const x of decodeRaw(b, "float32", what)) out.push(x);
      else if (p.field === 10) for (const x of decodeRaw(b, "float64", what)) out.push(x);
      else {
        const vs: number[] = [];
        new Msg(c, 0, b.length, "TensorProto", b.length).varints(vs);
        for (const x of vs) out.push(convert(p.field, x, dtype));
      }
      continue;
    }
    // Unpacked: consecutive fields, tags included.
    const m = new Msg(c, 0, b.length, "TensorProto", b.length);
    while (m.next()) {
      if (m.wire === I32) out.push(decodeRaw(m.bytes(), "float32", what)[0]);
      else if (m.wire === I64) out.push(decodeRaw(m.bytes(), "float64", what)[0]);
      else out.push(convert(p.field, m.value, dtype));
    }
  }
  return out;
}

function convert(field: number, x: number, dtype: DType): number {
  if (field === 5) return fromInt32(x, dtype);
  if (field === 11 && x < 0) return x + 2 ** 64;
  return x;
}
