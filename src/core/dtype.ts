/** Element types, named as ONNX names them, with their storage size in bits. */
export type DType =
  | "float32"
  | "float16"
  | "bfloat16"
  | "float64"
  | "float8"
  | "int4"
  | "uint4"
  | "int8"
  | "uint8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "uint64"
  | "bool"
  | "string"
  | "complex64"
  | "complex128"
  | "unknown";

const BITS: Record<DType, number> = {
  float32: 32,
  float16: 16,
  bfloat16: 16,
  float64: 64,
  float8: 8,
  int4: 4,
  uint4: 4,
  int8: 8,
  uint8: 8,
  int16: 16,
  uint16: 16,
  int32: 32,
  uint32: 32,
  int64: 64,
  uint64: 64,
  bool: 8,
  string: 0,
  complex64: 64,
  complex128: 128,
  unknown: 32,
};

export function dtypeBits(t: DType): number {
  return BITS[t];
}

export function isFloat(t: DType): boolean {
  return t === "float32" || t === "float16" || t === "bfloat16" || t === "float64" || t === "float8";
}

/** Bytes needed for `count` elements of `t` (sub-byte types round up). */
export function byteSize(count: number, t: DType): number {
  return Math.ceil((count * BITS[t]) / 8);
}

/** The storage types a user can ask sizes in (`--dtype`). */
export const SIZE_DTYPES = { fp32: "float32", fp16: "float16", bf16: "bfloat16", int8: "int8", int4: "int4" } as const;
export type SizeDType = keyof typeof SIZE_DTYPES;

/** ONNX TensorProto.DataType codes, the canonical numbering for `Cast.to` and readers. */
const ONNX_CODES: Record<number, DType> = {
  1: "float32",
  2: "uint8",
  3: "int8",
  4: "uint16",
  5: "int16",
  6: "int32",
  7: "int64",
  8: "string",
  9: "bool",
  10: "float16",
  11: "float64",
  12: "uint32",
  13: "uint64",
  14: "complex64",
  15: "complex128",
  16: "bfloat16",
  17: "float8",
  18: "float8",
  19: "float8",
  20: "float8",
  21: "uint4",
  22: "int4",
};

export function onnxDType(code: number): DType {
  return ONNX_CODES[code] ?? "unknown";
}

/** The ONNX code a reader writes in `Cast(to=…)` for an element type it casts to (Keras `cast`, a `.pt2`'s `_to_copy`); undefined for the others. */
export function castCode(t: string): number | undefined {
  return Object.hasOwn(CAST_CODES, t) ? CAST_CODES[t as keyof typeof CAST_CODES] : undefined;
}

const CAST_CODES = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
  bfloat16: 16,
} as const;
