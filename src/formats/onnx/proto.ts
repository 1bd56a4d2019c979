import { EXACT, I32, I64, LEN, type Msg, PEEK, VARINT } from "./wire.js";

/**
 * The ONNX messages convscope needs, walked field by field (field numbers from onnx.proto).
 * Tensor payloads are recorded as byte ranges, never read; everything else is small and
 * decoded into the plain structures below, which build.ts maps to the IR.
 */

/** A byte range holding (part of) a tensor's elements in the model file. */
export interface Piece {
  /** TensorProto field: 9 raw_data, 4 float_data, 5 int32_data, 7 int64_data, 10 double_data, 11 uint64_data. */
  field: number;
  /** True: [start, end) is one packed body (or raw bytes); false: consecutive unpacked fields, tags included. */
  packed: boolean;
  start: number;
  end: number;
}

export interface TensorRef {
  name: string;
  dims: number[];
  dataType: number;
  pieces: Piece[];
  /** `external_data` key/values when `data_location` is EXTERNAL. */
  external?: Record<string, string>;
  /** Byte offset of the TensorProto, for errors. */
  at: number;
}

export interface SparseRef {
  values?: TensorRef;
  indices?: TensorRef;
  dims: number[];
  at: number;
}

/** A dim: a size, a symbol, or null (neither given). */
export type RawDim = number | string | null;

export interface RawValueInfo {
  name: string;
  elemType: number;
  shape?: RawDim[];
  at: number;
}

export type RawAttrValue = number | string | number[] | string[] | TensorRef | TensorRef[] | RawGraph | RawGraph[] | SparseRef;

export interface RawAttr {
  name: string;
  /** AttributeProto.AttributeType; inferred from the field present when the file omits it (IR < 3). */
  type: number;
  value?: RawAttrValue;
  /** Inside a function body: the calling node's attribute this one takes its value from (`ref_attr_name`). */
  ref?: string;
}

export interface RawNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: RawAttr[];
  at: number;
  /** NodeProto.metadata_props (field 9): the dynamo exporter's module path, class hierarchy, rewrite rules. */
  meta?: Record<string, string>;
}

export interface RawGraph {
  name: string;
  nodes: RawNode[];
  initializers: TensorRef[];
  sparseInitializers: SparseRef[];
  inputs: RawValueInfo[];
  outputs: RawValueInfo[];
  valueInfo: RawValueInfo[];
  at: number;
}

export interface RawModel {
  irVersion?: number;
  /** Opset version per domain (`` for the default domain). */
  opsets: Map<string, number>;
  graph?: RawGraph;
  /** Model-local functions by `domain::name`. */
  functions: Map<string, RawFunction>;
}

/** A model-local function (FunctionProto): a graph body called like an op. */
export interface RawFunction {
  name: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  /** Attribute defaults (`attribute_proto`); attributes named only in `attribute` have none. */
  defaults: RawAttr[];
  nodes: RawNode[];
  at: number;
}

/** Nodes up to this size are fetched in one request: a Constant inside holds at most a few hundred numbers. */
const WHOLE_NODE = 1024;
/** Type descriptions hold no payloads; fetched whole up to this size. */
const WHOLE_INFO = 4096;
/** Graphs inside graphs (If/Loop bodies) deeper than this are rejected rather than recursed into. */
const MAX_DEPTH = 32;

export const ATTR = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
  TYPE_PROTO: 13,
  TYPE_PROTOS: 14,
} as const;

export function parseModel(m: Msg): RawModel {
  const model: RawModel = { opsets: new Map(), functions: new Map() };
  while (m.next()) {
    switch (m.field) {
      case 1:
        model.irVersion = m.int("ir_version");
        break;
      case 7:
        model.graph = parseGraph(m.sub("GraphProto", PEEK), 0);
        break;
      case 8: {
        const o = m.sub("OperatorSetIdProto", PEEK, true);
        let domain = "";
        let version = 0;
        while (o.next()) {
          if (o.field === 1) domain = o.name("domain");
          else if (o.field === 2) version = o.int("version");
        }
        model.opsets.set(domain, version);
        break;
      }
      case 25: {
        const f = parseFunction(m.sub("FunctionProto", PEEK));
        model.functions.set(`${f.domain}::${f.name}`, f);
        break;
      }
    }
  }
  return model;
}

/** FunctionProto: name 1, input 4, output 5, node 7, domain 10, attribute_proto 11 (opsets and value_info are not needed). */
function parseFunction(m: Msg): RawFunction {
  const f: RawFunction = { name: "", domain: "", inputs: [], outputs: [], defaults: [], nodes: [], at: m.begin };
  while (m.next()) {
    switch (m.field) {
      case 1:
        f.name = m.name("name");
        break;
      case 4:
        f.inputs.push(m.name("input"));
        break;
      case 5:
        f.outputs.push(m.name("output"));
        break;
      case 7:
        f.nodes.push(parseNode(m.sub("NodeProto", PEEK), 0));
        break;
      case 10:
        f.domain = m.name("domain");
        break;
      case 11:
        f.defaults.push(parseAttr(m.sub("AttributeProto", m.reach), 0));
        break;
    }
  }
  return f;
}

function parseGraph(m: Msg, depth: number): RawGraph {
  if (depth > MAX_DEPTH) throw m.error(m.begin, `graphs nested more than ${MAX_DEPTH} deep`);
  const g: RawGraph = {
    name: "",
    nodes: [],
    initializers: [],
    sparseInitializers: [],
    inputs: [],
    outputs: [],
    valueInfo: [],
    at: m.begin,
  };
  while (m.next()) {
    switch (m.field) {
      case 1:
        g.nodes.push(parseNode(m.end - m.start <= WHOLE_NODE ? m.sub("NodeProto", PEEK, true) : m.sub("NodeProto", PEEK), depth));
        break;
      case 2:
        g.name = m.name("name");
        break;
      case 5:
        g.initializers.push(parseTensor(m.sub("TensorProto", EXACT)));
        break;
      case 11:
        g.inputs.push(parseValueInfo(subInfo(m)));
        break;
      case 12:
        g.outputs.push(parseValueInfo(subInfo(m)));
        break;
      case 13:
        g.valueInfo.push(parseValueInfo(subInfo(m)));
        break;
      case 15:
        g.sparseInitializers.push(parseSparse(m.sub("SparseTensorProto", EXACT)));
        break;
    }
  }
  return g;
}

function subInfo(m: Msg): Msg {
  return m.sub("ValueInfoProto", PEEK, m.end - m.start <= WHOLE_INFO);
}

/*
 * Lists a message grows field by field (a node's inputs, an attribute's ints, a tensor's dims)
 * are copied to their exact size when the message ends: V8 gives a grown array room for 16,
 * and the parsed graph is kept whole until the IR is built from it, so every such array
 * would survive the garbage collector's young generation (copied twice, then marked) only
 * to be thrown away — a third of the file's memory on a 100,000-node graph. The grown one
 * dies at once, young. The IR then takes these lists as they are.
 */
function parseNode(m: Msg, depth: number): RawNode {
  const n: RawNode = { name: "", opType: "", domain: "", inputs: [], outputs: [], attrs: [], at: m.begin };
  while (m.next()) {
    switch (m.field) {
      case 1:
        n.inputs.push(m.name("input"));
        break;
      case 2:
        n.outputs.push(m.name("output"));
        break;
      case 3:
        n.name = m.name("name");
        break;
      case 4:
        n.opType = m.word("op_type");
        break;
      case 5:
        n.attrs.push(parseAttr(m.sub("AttributeProto", m.reach), depth));
        break;
      case 7:
        n.domain = m.word("domain");
        break;
      case 9: {
        const e = m.sub("StringStringEntryProto", EXACT);
        let key = "";
        let value = "";
        while (e.next()) {
          if (e.field === 1) key = e.name("key");
          else if (e.field === 2) value = e.name("value");
        }
        n.meta ??= {};
        n.meta[key] = value;
        break;
      }
    }
  }
  if (n.opType === "") throw m.error(m.begin, "a node has no op_type");
  n.inputs = n.inputs.slice();
  n.outputs = n.outputs.slice();
  n.attrs = n.attrs.slice();
  return n;
}

function parseAttr(m: Msg, depth: number): RawAttr {
  let name = "";
  let type = 0;
  // The value as its fields arrive, and the type those fields say (only one is set in a valid file).
  let value: RawAttrValue | undefined;
  let given = 0;
  let ref: string | undefined;
  while (m.next()) {
    // A repeated field appends to the list of its type: a new one when the fields switch type.
    const repeated = REPEATED[m.field];
    if (repeated !== undefined && given !== repeated) {
      given = repeated;
      value = [];
    }
    switch (m.field) {
      case 1:
        name = m.word("name");
        break;
      case 2:
        given = ATTR.FLOAT;
        value = m.float32("f");
        break;
      case 3:
        given = ATTR.INT;
        value = m.int("i");
        break;
      case 4:
        given = ATTR.STRING;
        value = m.name("s");
        break;
      case 5:
        given = ATTR.TENSOR;
        value = parseTensor(m.sub("TensorProto", EXACT));
        break;
      case 6:
        given = ATTR.GRAPH;
        value = parseGraph(m.sub("GraphProto", PEEK), depth + 1);
        break;
      case 7:
        m.floats("floats", value as number[]);
        break;
      case 8:
        m.ints("ints", value as number[]);
        break;
      case 9:
        (value as string[]).push(m.name("strings"));
        break;
      case 10:
        (value as TensorRef[]).push(parseTensor(m.sub("TensorProto", EXACT)));
        break;
      case 11:
        (value as RawGraph[]).push(parseGraph(m.sub("GraphProto", PEEK), depth + 1));
        break;
      case 20:
        type = m.int("type");
        break;
      case 21:
        ref = m.name("ref_attr_name");
        break;
      case 22:
        given = ATTR.SPARSE_TENSOR;
        value = parseSparse(m.sub("SparseTensorProto", EXACT));
        break;
    }
  }
  if (name === "") throw m.error(m.begin, "an attribute has no name");
  // IR < 3 has no `type`: the field present says it. A type whose field is absent has protobuf's default.
  if (type === 0) type = given;
  else if (type !== given) value = DEFAULTS[type]?.();
  if (Array.isArray(value)) {
    // Exact-size lists (grown ones keep spare slots); short integer lists shared (see SharedLists).
    value = type === ATTR.INTS ? m.c.lists.copyOf(value as number[]) : value.slice();
  }
  return ref === undefined ? { name, type, value } : { name, type, value, ref };
}

/** AttributeProto's repeated fields (floats 7, ints 8, strings 9, tensors 10, graphs 11): the type of each. */
const REPEATED: Readonly<Record<number, number>> = {
  7: ATTR.FLOATS,
  8: ATTR.INTS,
  9: ATTR.STRINGS,
  10: ATTR.TENSORS,
  11: ATTR.GRAPHS,
};

const DEFAULTS: Record<number, () => RawAttrValue> = {
  [ATTR.FLOAT]: () => 0,
  [ATTR.INT]: () => 0,
  [ATTR.STRING]: () => "",
  [ATTR.FLOATS]: () => [],
  [ATTR.INTS]: () => [],
  [ATTR.STRINGS]: () => [],
  [ATTR.TENSORS]: () => [],
  [ATTR.GRAPHS]: () => [],
};

/** TensorProto: dims, type, name and where the elements are; the elements themselves are skipped. */
export function parseTensor(m: Msg): TensorRef {
  const t: TensorRef = { name: "", dims: [], dataType: 0, pieces: [], at: m.begin };
  let external = false;
  let entries: Record<string, string> | undefined; // made for the external ones only
  while (m.next()) {
    switch (m.field) {
      case 1:
        m.ints("dims", t.dims);
        break;
      case 2:
        t.dataType = m.int("data_type");
        break;
      case 8:
        t.name = m.name("name");
        break;
      case 9:
        m.expect(LEN, "raw_data");
        t.pieces.push({ field: 9, packed: true, start: m.start, end: m.end });
        break;
      case 4:
        piece(m, t.pieces, I32);
        break;
      case 10:
        piece(m, t.pieces, I64);
        break;
      case 5:
      case 7:
      case 11:
        piece(m, t.pieces, VARINT);
        break;
      case 13: {
        const e = m.sub("StringStringEntryProto", EXACT);
        let key = "";
        let value = "";
        while (e.next()) {
          if (e.field === 1) key = e.name("key");
          else if (e.field === 2) value = e.name("value");
        }
        entries ??= {};
        entries[key] = value;
        break;
      }
      case 14:
        external = m.int("data_location") === 1;
        break;
    }
  }
  if (external) t.external = entries ?? {};
  // Shared like attributes' lists: a graph's weights repeat a few shapes.
  t.dims = m.c.lists.copyOf(t.dims);
  t.pieces = t.pieces.slice();
  return t;
}

/** Records a typed data field: one packed body, or unpacked fields merged while they are adjacent. */
function piece(m: Msg, pieces: Piece[], unpackedWire: number): void {
  if (m.wire === LEN) {
    pieces.push({ field: m.field, packed: true, start: m.start, end: m.end });
    return;
  }
  m.expect(unpackedWire, "tensor data");
  const last = pieces[pieces.length - 1];
  if (last && !last.packed && last.field === m.field && last.end === m.at) last.end = m.after;
  else pieces.push({ field: m.field, packed: false, start: m.at, end: m.after });
}

function parseSparse(m: Msg): SparseRef {
  const s: SparseRef = { dims: [], at: m.begin };
  while (m.next()) {
    if (m.field === 1) s.values = parseTensor(m.sub("TensorProto", EXACT));
    else if (m.field === 2) s.indices = parseTensor(m.sub("TensorProto", EXACT));
    else if (m.field === 3) m.ints("dims", s.dims);
  }
  return s;
}

/** ValueInfoProto → name, element type and declared shape (tensor and sparse-tensor types only). */
function parseValueInfo(m: Msg): RawValueInfo {
  const v: RawValueInfo = { name: "", elemType: 0, at: m.begin };
  while (m.next()) {
    if (m.field === 1) v.name = m.name("name");
    else if (m.field === 2) {
      const tp = m.sub("TypeProto", PEEK);
      while (tp.next()) {
        // 1 tensor_type, 8 sparse_tensor_type (same layout); sequences, maps, optionals are left undescribed.
        if (tp.field !== 1 && tp.field !== 8) continue;
        const tt = tp.sub("TypeProto.Tensor", PEEK);
        while (tt.next()) {
          if (tt.field === 1) v.elemType = tt.int("elem_type");
          else if (tt.field === 2) v.shape = parseShape(tt.sub("TensorShapeProto", PEEK));
        }
      }
    }
  }
  return v;
}

function parseShape(m: Msg): RawDim[] {
  const dims: RawDim[] = [];
  while (m.next()) {
    if (m.field !== 1) continue;
    const d = m.sub("TensorShapeProto.Dimension", PEEK);
    let dim: RawDim = null;
    while (d.next()) {
      if (d.field === 1) dim = d.int("dim_value");
      else if (d.field === 2) dim = d.name("dim_param") || null;
    }
    dims.push(dim);
  }
  return dims;
}
