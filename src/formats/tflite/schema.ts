import type { DType } from "../../core/dtype.js";
import type { FlatFile, Table } from "./flatbuffer.js";

/**
 * The parts of the TFLite schema (tensorflow/lite/schema/schema.fbs) convscope reads,
 * as typed views over checked FlatBuffer tables. Field numbers are the schema's
 * declaration order; a union field takes two numbers (its `_type` byte, then the table).
 */

/** BuiltinOperator names by code (schema order); later codes are reported by number. */
const BUILTIN_NAMES = `ADD AVERAGE_POOL_2D CONCATENATION CONV_2D DEPTHWISE_CONV_2D DEPTH_TO_SPACE DEQUANTIZE
EMBEDDING_LOOKUP FLOOR FULLY_CONNECTED HASHTABLE_LOOKUP L2_NORMALIZATION L2_POOL_2D LOCAL_RESPONSE_NORMALIZATION
LOGISTIC LSH_PROJECTION LSTM MAX_POOL_2D MUL RELU RELU_N1_TO_1 RELU6 RESHAPE RESIZE_BILINEAR RNN SOFTMAX
SPACE_TO_DEPTH SVDF TANH CONCAT_EMBEDDINGS SKIP_GRAM CALL CUSTOM EMBEDDING_LOOKUP_SPARSE PAD
UNIDIRECTIONAL_SEQUENCE_RNN GATHER BATCH_TO_SPACE_ND SPACE_TO_BATCH_ND TRANSPOSE MEAN SUB DIV SQUEEZE
UNIDIRECTIONAL_SEQUENCE_LSTM STRIDED_SLICE BIDIRECTIONAL_SEQUENCE_RNN EXP TOPK_V2 SPLIT LOG_SOFTMAX DELEGATE
BIDIRECTIONAL_SEQUENCE_LSTM CAST PRELU MAXIMUM ARG_MAX MINIMUM LESS NEG PADV2 GREATER GREATER_EQUAL LESS_EQUAL
SELECT SLICE SIN TRANSPOSE_CONV SPARSE_TO_DENSE TILE EXPAND_DIMS EQUAL NOT_EQUAL LOG SUM SQRT RSQRT SHAPE POW
ARG_MIN FAKE_QUANT REDUCE_PROD REDUCE_MAX PACK LOGICAL_OR ONE_HOT LOGICAL_AND LOGICAL_NOT UNPACK REDUCE_MIN
FLOOR_DIV REDUCE_ANY SQUARE ZEROS_LIKE FILL FLOOR_MOD RANGE RESIZE_NEAREST_NEIGHBOR LEAKY_RELU SQUARED_DIFFERENCE
MIRROR_PAD ABS SPLIT_V UNIQUE CEIL REVERSE_V2 ADD_N GATHER_ND COS WHERE RANK ELU REVERSE_SEQUENCE MATRIX_DIAG
QUANTIZE MATRIX_SET_DIAG ROUND HARD_SWISH IF WHILE NON_MAX_SUPPRESSION_V4 NON_MAX_SUPPRESSION_V5 SCATTER_ND
SELECT_V2 DENSIFY SEGMENT_SUM BATCH_MATMUL PLACEHOLDER_FOR_GREATER_OP_CODES CUMSUM CALL_ONCE BROADCAST_TO RFFT2D
CONV_3D IMAG REAL COMPLEX_ABS HASHTABLE HASHTABLE_FIND HASHTABLE_IMPORT HASHTABLE_SIZE REDUCE_ALL
CONV_3D_TRANSPOSE VAR_HANDLE READ_VARIABLE ASSIGN_VARIABLE BROADCAST_ARGS RANDOM_STANDARD_NORMAL BUCKETIZE
RANDOM_UNIFORM MULTINOMIAL GELU DYNAMIC_UPDATE_SLICE RELU_0_TO_1`.split(/\s+/);

export function builtinName(code: number): string {
  return BUILTIN_NAMES[code] ?? `BUILTIN_${code}`;
}

/** The code of a builtin name (for the test writer and the reader's switch). */
export function builtinCode(name: string): number {
  const i = BUILTIN_NAMES.indexOf(name);
  if (i < 0) throw new Error(`unknown TFLite builtin ${name}`);
  return i;
}

/** TensorType codes → convscope dtypes. */
const TENSOR_TYPES: DType[] = [
  "float32",
  "float16",
  "int32",
  "uint8",
  "int64",
  "string",
  "bool",
  "int16",
  "complex64",
  "int8",
  "float64",
  "complex128",
  "uint64",
  "unknown",
  "unknown",
  "uint32",
  "uint16",
  "int4",
];

export function tensorType(code: number): DType {
  return TENSOR_TYPES[code] ?? "unknown";
}

export function tensorTypeCode(t: DType): number {
  return TENSOR_TYPES.indexOf(t);
}

export interface TflTensor {
  index: number;
  name: string;
  shape: number[];
  /** shape with −1 for dims unknown until run time (newer converters). */
  signature?: number[];
  type: DType;
  buffer: number;
  /** Carries quantization scales: the integers stand for real numbers. */
  quantized: boolean;
}

export interface TflOperator {
  index: number;
  opcode: number;
  inputs: number[];
  outputs: number[];
  options?: Table;
  /** custom_options bytes (a custom op's own parameters), as a range of the file. */
  custom?: { start: number; length: number };
}

export interface TflSubgraph {
  name?: string;
  tensors: TflTensor[];
  inputs: number[];
  outputs: number[];
  operators: TflOperator[];
}

export interface TflModel {
  version: number;
  /** Effective builtin code per operator code (max of builtin_code and deprecated_builtin_code). */
  opcodes: { code: number; custom?: string }[];
  subgraphs: Table[];
  buffers: Table[];
  description?: string;
}

export function readModelTable(f: FlatFile): TflModel {
  const m = f.root("Model");
  return {
    version: m.uint32(0, "version"),
    opcodes: m.tables(1, "operator_codes").map((c) => {
      const code = Math.max(c.int8(0, "deprecated_builtin_code"), c.int32(3, "builtin_code"));
      const custom = c.string(1, "custom_code");
      return { code, ...(custom ? { custom } : {}) };
    }),
    subgraphs: m.tables(2, "subgraphs"),
    description: m.string(3, "description"),
    buffers: m.tables(4, "buffers"),
  };
}

export function readSubgraph(sg: Table): TflSubgraph {
  return {
    name: sg.string(4, "name"),
    tensors: sg.tables(0, "tensors").map((t, index) => {
      const q = t.table(4, "quantization");
      const signature = t.int32s(7, "shape_signature");
      return {
        index,
        name: t.string(3, "name") ?? `tensor_${index}`,
        shape: t.int32s(0, "shape") ?? [],
        ...(signature && signature.length > 0 ? { signature } : {}),
        type: tensorType(t.int8(1, "type")),
        buffer: t.uint32(2, "buffer"),
        quantized: q !== undefined && q.float32s(2, "scale").length > 0,
      };
    }),
    inputs: sg.int32s(1, "inputs") ?? [],
    outputs: sg.int32s(2, "outputs") ?? [],
    operators: sg.tables(3, "operators").map((o, index) => ({
      index,
      opcode: o.uint32(0, "opcode_index"),
      inputs: o.int32s(1, "inputs") ?? [],
      outputs: o.int32s(2, "outputs") ?? [],
      options: o.table(4, "builtin_options"),
      custom: o.vector(5, "custom_options", 1),
    })),
  };
}

/** A buffer's bytes: inline data, or (models over 2 GB) an offset/size relative to the file start. */
export function bufferRange(b: Table): { offset: number; length: number } | undefined {
  const data = b.vector(0, "data", 1);
  if (data && data.length > 0) return { offset: data.start, length: data.length };
  const offset = b.uint64(1, "offset");
  const size = b.uint64(2, "size");
  return offset > 1 && size > 0 ? { offset, length: size } : undefined;
}

/** Fused activation codes (ActivationFunctionType). */
export const ACTIVATIONS = ["NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT"] as const;
