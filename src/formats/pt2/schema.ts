import type { DType } from "../../core/dtype.js";
import { ConvscopeError } from "../../core/errors.js";
import type { Dim, Shape } from "../../core/shape.js";

/**
 * The parts of torch.export's serialized ExportedProgram (torch/_export/serde/schema.py,
 * schema 8.x) that convscope reads: the graph's nodes with their named arguments, every
 * tensor's sizes and dtype, the graph signature (which inputs are parameters, buffers,
 * constants or user inputs) and the range constraints of symbolic sizes.
 */
export interface ExportedProgram {
  graph_module: {
    graph: {
      inputs?: Argument[];
      outputs?: Argument[];
      nodes: Pt2Node[];
      tensor_values: Record<string, TensorMeta>;
    };
    signature: { input_specs: InputSpec[]; output_specs: OutputSpec[] };
  };
  range_constraints?: Record<string, { min_val?: number | null; max_val?: number | null }>;
  schema_version?: { major: number; minor: number };
  torch_version?: string;
}

export interface TensorMeta {
  dtype: number;
  sizes: SymInt[];
  requires_grad?: boolean;
}

export type SymInt = { as_int: number } | { as_expr: { expr_str: string; hint?: { as_int?: number } } } | { as_name: string };

/** One argument of a node, tagged by kind (`as_tensor`, `as_ints`, `as_float`, `as_none` …). */
export type Argument = Record<string, unknown>;

export interface Pt2Node {
  target: string;
  name?: string;
  inputs: { name: string; arg: Argument; kind?: number }[];
  outputs: Argument[];
  metadata?: Record<string, string>;
}

export type InputSpec = Record<
  string,
  { arg?: Argument & { name?: string }; parameter_name?: string; buffer_name?: string; tensor_constant_name?: string }
>;
export type OutputSpec = Record<string, { arg?: Argument }>;

/** torch's ScalarType as the serializer numbers it (schema.py `ScalarType`). */
const SCALAR_TYPES: Record<number, DType> = {
  1: "uint8",
  2: "int8",
  3: "int16",
  4: "int32",
  5: "int64",
  6: "float16",
  7: "float32",
  8: "float64",
  9: "complex64", // complex32 has no IR type; nothing in a CNN uses it
  10: "complex64",
  11: "complex128",
  12: "bool",
  13: "bfloat16",
  28: "uint16",
  29: "float8",
  30: "float8",
  31: "float8",
  32: "float8",
};

export function scalarType(code: number): DType {
  return SCALAR_TYPES[code] ?? "unknown";
}

/**
 * A size: an integer, or a symbol (`s77`) kept by name so that `--input` binds it; a
 * compound expression (`2*s53`) is kept as its text (it is only used where no rule infers the
 * shape itself).
 */
export function dim(s: SymInt): Dim {
  if ("as_int" in s) return s.as_int;
  if ("as_name" in s) return s.as_name;
  const text = s.as_expr.expr_str;
  const sym = /^Symbol\('([^']+)'/.exec(text);
  if (sym) return sym[1];
  return text.replace(/Symbol\('([^']+)'[^)]*\)/g, "$1").replace(/Integer\((-?\d+)\)/g, "$1");
}

export function shapeOf(meta: TensorMeta | undefined): Shape | undefined {
  return meta ? meta.sizes.map(dim) : undefined;
}

/** Parses `nn_module_stack` ("key,path,class;key,path,class…", outermost first). */
export function moduleStack(text: string | undefined): { key: string; path: string; type: string }[] {
  if (!text) return [];
  return text.split(";").flatMap((entry) => {
    const parts = entry.split(",");
    if (parts.length < 3) return [];
    return [{ key: parts[0], path: parts.slice(1, -1).join(","), type: parts[parts.length - 1] }];
  });
}

export function bad(message: string, layer?: string): never {
  throw new ConvscopeError(message, { layer });
}
