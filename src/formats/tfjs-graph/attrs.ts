import type { DType } from "../../core/dtype.js";
import { ConvscopeError } from "../../core/errors.js";

/**
 * A GraphDef node as TF.js serialises it: protobuf JSON, so int64 values are strings
 * (`{"i": "3"}`), strings are base64 (`{"s": "U0FNRQ=="}`) and lists nest (`{"list": {"i": [...]}}`).
 */
export interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttr>;
}

export interface TfAttr {
  i?: string | number;
  f?: number;
  b?: boolean;
  s?: string;
  type?: string;
  shape?: TfShape;
  list?: { i?: (string | number)[]; s?: string[]; f?: number[]; type?: string[] };
  tensor?: { dtype?: string; tensorShape?: TfShape; intVal?: number[]; int64Val?: (string | number)[] };
}

export interface TfShape {
  dim?: { size?: string | number }[];
  unknownRank?: boolean;
}

const DT: Record<string, DType> = {
  DT_FLOAT: "float32",
  DT_HALF: "float16",
  DT_BFLOAT16: "bfloat16",
  DT_DOUBLE: "float64",
  DT_INT32: "int32",
  DT_INT64: "int64",
  DT_INT16: "int16",
  DT_INT8: "int8",
  DT_UINT8: "uint8",
  DT_UINT16: "uint16",
  DT_UINT32: "uint32",
  DT_UINT64: "uint64",
  DT_BOOL: "bool",
  DT_STRING: "string",
  DT_COMPLEX64: "complex64",
};

/** TF.js weightsManifest dtype names. */
const MANIFEST_DT: Record<string, DType> = {
  float32: "float32",
  float16: "float16",
  int32: "int32",
  int8: "int8",
  uint8: "uint8",
  uint16: "uint16",
  int16: "int16",
  bool: "bool",
  string: "string",
  complex64: "complex64",
};

export function tfDType(name: string | undefined): DType {
  return (name && (DT[name] ?? MANIFEST_DT[name])) || "unknown";
}

/** Typed access to one node's attributes; malformed values are one-line errors naming the node. */
export class NodeAttrs {
  constructor(private readonly node: TfNode) {}

  private get(key: string): TfAttr | undefined {
    return this.node.attr?.[key];
  }

  private num(v: string | number, key: string): number {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new ConvscopeError(`attribute '${key}' is not a number: ${v}`, { layer: this.node.name });
    return n;
  }

  int(key: string, def: number): number {
    const a = this.get(key);
    return a?.i === undefined ? def : this.num(a.i, key);
  }

  float(key: string, def: number): number {
    return this.get(key)?.f ?? def;
  }

  bool(key: string, def: boolean): boolean {
    return this.get(key)?.b ?? def;
  }

  str(key: string, def: string): string {
    const s = this.get(key)?.s;
    return s === undefined ? def : decodeBase64(s);
  }

  ints(key: string): number[] | undefined {
    const l = this.get(key)?.list;
    return l?.i?.map((v) => this.num(v, key));
  }

  strs(key: string): string[] {
    return this.get(key)?.list?.s?.map(decodeBase64) ?? [];
  }

  type(key: string): DType | undefined {
    const t = this.get(key)?.type;
    return t ? tfDType(t) : undefined;
  }

  /** A shape attribute: sizes with −1 for unknown; undefined for unknown rank. */
  shape(key: string): number[] | undefined {
    const s = this.get(key)?.shape;
    if (!s || s.unknownRank) return undefined;
    return (s.dim ?? []).map((d) => this.num(d.size ?? -1, key));
  }

  tensor(key: string): TfAttr["tensor"] {
    return this.get(key)?.tensor;
  }
}

export function decodeBase64(s: string): string {
  let bin: string;
  try {
    bin = atob(s);
  } catch {
    throw new ConvscopeError(`'${s.slice(0, 40)}' is not base64 (string attributes are base64 in model.json)`);
  }
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}
