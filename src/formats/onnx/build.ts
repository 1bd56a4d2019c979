import { byteSize, type DType, onnxDType } from "../../core/dtype.js";
import { ConvscopeError } from "../../core/errors.js";
import type { AttrValue, Graph, Initializer, ModuleFrame, Node, Tensor } from "../../core/graph.js";
import type { Shape } from "../../core/shape.js";
import type { ByteSource } from "../source.js";
import {
  ATTR,
  type RawAttr,
  type RawDim,
  type RawGraph,
  type RawModel,
  type RawNode,
  type RawValueInfo,
  type SparseRef,
  type TensorRef,
} from "./proto.js";
import { decodePieces, decodeRaw } from "./tensor-data.js";

/**
 * Maps the parsed ONNX structures to the IR.
 *
 * Domains: ops of the default domain (`` or `ai.onnx`) keep their op_type; any other
 * domain's op becomes `domain::OpType` (`com.microsoft::FusedConv`), so a vendor op that
 * shares a standard op's name is never analysed by the standard rule: it is reported
 * `unknown`, the honest answer for semantics convscope does not know.
 */

const DEFAULT_DOMAINS = new Set(["", "ai.onnx"]);

/** State shared by a model's graph and its nested graphs. */
interface Ctx {
  src: ByteSource;
  notes: string[];
  /** Weights files already checked, by location. */
  external: Map<string, boolean>;
  /** `If at node 'x'` for each control-flow node of the main graph. */
  controlFlow: string[];
  /** Nodes calling model-local functions. */
  functionCalls: string[];
  functions: Set<string>;
  freshDims: number;
}

export function buildModel(raw: RawModel, src: ByteSource): Graph {
  if (!raw.graph) throw new ConvscopeError("the model has no graph (ModelProto field 7)");
  const ctx: Ctx = { src, notes: [], external: new Map(), controlFlow: [], functionCalls: [], functions: raw.functions, freshDims: 0 };
  const g = buildGraph(raw.graph, ctx, true);
  g.opset = raw.opsets.get("") ?? raw.opsets.get("ai.onnx");
  if (ctx.controlFlow.length > 0) {
    const list = ctx.controlFlow.slice(0, 5).join(", ") + (ctx.controlFlow.length > 5 ? ` and ${ctx.controlFlow.length - 5} more` : "");
    g.notes.push(`control flow (${list}) is not analysed: those layers are reported unknown`);
  }
  if (ctx.functionCalls.length > 0) {
    g.notes.push(`model-local functions are not expanded (${ctx.functionCalls.slice(0, 5).join(", ")}): those layers are reported unknown`);
  }
  g.notes.unshift(...ctx.notes);
  return g;
}

function buildGraph(raw: RawGraph, ctx: Ctx, main: boolean): Graph {
  const tensors = new Map<string, Tensor>();
  const declare = (v: RawValueInfo, isInput: boolean) => {
    if (v.name === "") throw new ConvscopeError(`byte ${v.at}: a graph input, output or value_info has no name`);
    tensors.set(v.name, { name: v.name, dtype: onnxDType(v.elemType), shape: v.shape && declaredShape(v, isInput, ctx) });
  };
  for (const v of raw.valueInfo) declare(v, false);
  for (const v of raw.outputs) declare(v, false);
  for (const v of raw.inputs) declare(v, true);

  const stored = new Set<string>();
  const store = (t: Tensor, at: string) => {
    if (stored.has(t.name)) throw new ConvscopeError(`${at}: tensor '${t.name}' is stored twice`);
    stored.add(t.name);
    tensors.set(t.name, t);
  };
  for (const ref of raw.initializers) {
    if (ref.name === "") throw new ConvscopeError(`byte ${ref.at}: an initializer has no name`);
    store(storedTensor(ref, ref.name, ctx), `byte ${ref.at}`);
  }
  for (const s of raw.sparseInitializers) {
    const t = sparseTensor(s, s.values?.name ?? "");
    if (t.name === "") throw new ConvscopeError(`byte ${s.at}: a sparse initializer has no name`);
    store(t, `byte ${s.at}`);
  }

  // Every name in the file, gathered only when one must be made up (exporters usually name every node).
  let names: Set<string> | undefined;
  const taken = new Set<string>();
  const counters = new Map<string, number>();
  const uniqueName = (n: RawNode): string => {
    if (n.name !== "" && !taken.has(n.name)) return n.name;
    names ??= new Set(raw.nodes.map((x) => x.name));
    let k = counters.get(n.opType) ?? 0;
    let name: string;
    do name = `${n.opType}_${k++}`;
    while (names.has(name) || taken.has(name));
    counters.set(n.opType, k);
    return name;
  };

  const nodes: Node[] = [];
  for (const rn of raw.nodes) {
    const name = uniqueName(rn);
    taken.add(name);
    const standard = DEFAULT_DOMAINS.has(rn.domain);
    if (standard && rn.opType === "Constant") {
      store(constantTensor(rn, name, ctx), `layer '${name}'`);
      continue;
    }
    const op = standard ? rn.opType : `${rn.domain}::${rn.opType}`;
    const attrs: Record<string, AttrValue> = {};
    for (const a of rn.attrs) {
      const v = attrValue(a, name, ctx);
      if (v !== undefined) attrs[a.name] = v;
      if (main && (a.type === ATTR.GRAPH || a.type === ATTR.GRAPHS)) ctx.controlFlow.push(`${rn.opType} at node '${name}'`);
    }
    if (!standard && ctx.functions.has(op)) ctx.functionCalls.push(`${op} at node '${name}'`);
    const node: Node = { name, op, inputs: exact(rn.inputs), outputs: exact(rn.outputs), attrs };
    if (rn.meta) {
      node.meta = rn.meta;
      const module = moduleFrames(rn.meta);
      if (module) node.module = module;
    }
    nodes.push(node);
  }

  return {
    name: raw.name || "model",
    format: "onnx",
    inputs: raw.inputs.map((v) => v.name).filter((n) => !stored.has(n)),
    outputs: raw.outputs.map((v) => v.name),
    nodes,
    tensors,
    notes: [],
  };
}

/** A declared shape: symbols stay symbols; a dim with neither value nor name gets a fresh symbol. */
function declaredShape(v: RawValueInfo, isInput: boolean, ctx: Ctx): Shape {
  return (v.shape as RawDim[]).map((d) => {
    if (typeof d === "string") return d;
    if (d === null || (d < 0 && !isInput)) return `?${++ctx.freshDims}`;
    if (d < 0) throw new ConvscopeError(`byte ${v.at}: input '${v.name}' declares the negative dimension ${d}`);
    if (!Number.isSafeInteger(d)) throw new ConvscopeError(`byte ${v.at}: tensor '${v.name}' declares dimension ${d}, beyond 2^53`);
    return d;
  });
}

/** Checks stored dims and returns the element count. */
function checkDims(ref: TensorRef, name: string): number {
  let n = 1;
  for (const d of ref.dims) {
    if (d < 0) throw new ConvscopeError(`byte ${ref.at}: tensor '${name}' has the negative dimension ${d}`);
    if (!Number.isSafeInteger(d)) throw new ConvscopeError(`byte ${ref.at}: tensor '${name}' has dimension ${d}, beyond 2^53`);
    n *= d;
    if (!Number.isSafeInteger(n)) {
      throw new ConvscopeError(`byte ${ref.at}: tensor '${name}' has ${ref.dims.join("×")} elements, beyond 2^53`);
    }
  }
  return n;
}

/** A stored tensor (initializer, Constant value, tensor attribute): dims now, values only on demand. */
function storedTensor(ref: TensorRef, name: string, ctx: Ctx): Tensor {
  const count = checkDims(ref, name);
  const dtype = onnxDType(ref.dataType);
  const what = `tensor '${name}'`;
  let initializer: Initializer;
  if (ref.external) {
    initializer = externalInitializer(ref, name, dtype, count, ctx);
  } else {
    let bytes = 0;
    for (const p of ref.pieces) {
      bytes += p.end - p.start;
      if (p.field === 9 && dtype !== "string" && dtype !== "unknown" && p.end - p.start !== byteSize(count, dtype)) {
        throw new ConvscopeError(
          `byte ${p.start}: ${what} has ${p.end - p.start} bytes of raw_data, but its dims ${ref.dims.join("×") || "(scalar)"} of ${dtype} need ${byteSize(count, dtype)}`,
        );
      }
    }
    const src = ctx.src;
    const pieces = exact(ref.pieces);
    initializer = {
      byteLength: bytes,
      location: "inline",
      read: () =>
        checkCount(
          decodePieces(pieces, dtype, (a, b) => readExactly(src, a, b), `tensor '${name}'`),
          count,
          `tensor '${name}'`,
        ),
    };
  }
  return { name, dtype, shape: exact(ref.dims), initializer };
}

function externalInitializer(ref: TensorRef, name: string, dtype: DType, count: number, ctx: Ctx): Initializer {
  const ext = ref.external as Record<string, string>;
  const location = ext.location;
  const what = `tensor '${name}'`;
  if (!location) throw new ConvscopeError(`byte ${ref.at}: ${what} is stored externally but names no location`);
  const offset = externalNumber(ext.offset, 0, ref, what, "offset");
  const length = externalNumber(ext.length, byteSize(count, dtype), ref, what, "length");
  const safe = !location.startsWith("/") && !/^[A-Za-z]:/.test(location) && !location.split(/[\\/]/).includes("..");
  if (!ctx.external.has(location)) {
    const sib = safe ? ctx.src.sibling?.(location) : undefined;
    (sib as { close?: () => void } | undefined)?.close?.();
    ctx.external.set(location, sib !== undefined);
    ctx.notes.push(
      !safe
        ? `weights file '${location}' lies outside the model's folder and was not read; analysis needs only shapes`
        : sib
          ? `weights file '${location}' was not read: analysis needs only shapes`
          : `weights file '${location}' was not read (not found); analysis needs only shapes`,
    );
  }
  const src = ctx.src;
  const init: Initializer = { byteLength: length, location: "external", externalFile: location };
  // Without the file, values are unknown: a rule that needs them leaves its output unknown.
  if (!ctx.external.get(location)) return init;
  init.read = () => {
    const sib = src.sibling?.(location);
    if (!sib) throw new ConvscopeError(`${what}: its values are needed, but weights file '${location}' can no longer be read`);
    try {
      return checkCount(decodeRaw(readExactly(sib, offset, offset + length), dtype, what), count, what);
    } finally {
      (sib as { close?: () => void }).close?.();
    }
  };
  return init;
}

function externalNumber(text: string | undefined, def: number, ref: TensorRef, what: string, key: string): number {
  if (text === undefined) return def;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) {
    throw new ConvscopeError(`byte ${ref.at}: ${what} has external ${key} '${text}', not a byte count`);
  }
  return n;
}

function readExactly(src: ByteSource, a: number, b: number): Uint8Array {
  const bytes = src.read(a, b - a);
  if (bytes.length !== b - a) throw new ConvscopeError(`byte ${a}: ${src.name} ends before the ${b - a} bytes of a tensor`);
  return bytes;
}

function checkCount(values: number[], count: number, what: string): number[] {
  if (values.length !== count) throw new ConvscopeError(`${what} holds ${values.length} values, its dims need ${count}`);
  return values;
}

function sparseTensor(s: SparseRef, name: string): Tensor {
  const dims: TensorRef = { name, dims: s.dims, dataType: s.values?.dataType ?? 0, pieces: [], at: s.at };
  checkDims(dims, name);
  let bytes = 0;
  for (const part of [s.values, s.indices]) for (const p of part?.pieces ?? []) bytes += p.end - p.start;
  return { name, dtype: onnxDType(dims.dataType), shape: [...s.dims], initializer: { byteLength: bytes, location: "inline" } };
}

/** A `Constant` node becomes the stored tensor it holds, so its weights count like an initializer's. */
function constantTensor(n: RawNode, layer: string, ctx: Ctx): Tensor {
  const out = n.outputs[0];
  if (!out) throw new ConvscopeError("a Constant with no output", { layer });
  for (const a of n.attrs) {
    const v = a.value;
    if (v === undefined) continue;
    switch (a.name) {
      case "value":
        if (a.type === ATTR.TENSOR)
          return (v as TensorRef).dims.length === 0 ? literal(v as TensorRef, out, ctx) : storedTensor(v as TensorRef, out, ctx);
        break;
      case "sparse_value":
        if (a.type === ATTR.SPARSE_TENSOR) return sparseTensor(v as SparseRef, out);
        break;
      case "value_float":
        return { name: out, dtype: "float32", shape: [], value: [v as number] };
      case "value_floats":
        return listed(out, "float32", v as number[], [(v as number[]).length]);
      case "value_int":
        return { name: out, dtype: "int64", shape: [], value: [v as number] };
      case "value_ints":
        return listed(out, "int64", v as number[], [(v as number[]).length]);
      case "value_string":
        return { name: out, dtype: "string", shape: [], initializer: { byteLength: (v as string).length, location: "inline" } };
      case "value_strings":
        return {
          name: out,
          dtype: "string",
          shape: [(v as string[]).length],
          initializer: { byteLength: (v as string[]).join("").length, location: "inline" },
        };
    }
  }
  throw new ConvscopeError("a Constant without a value attribute", { layer });
}

/**
 * A Constant holding one number (0-d) is a literal of the computation — GELU's 0.5 and √2,
 * a LayerNorm's eps, Clip's bounds — which torch.onnx emits for every Python number. It is
 * not a learned weight (those are initializers, or paddle2onnx's Constant tensors, never
 * 0-d), so it carries its value and no stored initializer, and is not a parameter. Its few
 * bytes are decoded now.
 */
function literal(ref: TensorRef, name: string, ctx: Ctx): Tensor {
  const t = storedTensor(ref, name, ctx);
  return { name, dtype: t.dtype, shape: [], value: t.initializer?.read?.() };
}

/** A constant whose numbers sit in the node's attributes (already decoded, a handful at most). */
function listed(name: string, dtype: DType, values: number[], shape: Shape): Tensor {
  return {
    name,
    dtype,
    shape,
    value: values,
    initializer: { byteLength: byteSize(values.length, dtype), location: "inline", read: () => values },
  };
}

function attrValue(a: RawAttr, layer: string, ctx: Ctx): AttrValue | undefined {
  const v = a.value;
  switch (a.type) {
    case ATTR.FLOAT:
    case ATTR.INT:
    case ATTR.STRING:
      return v as AttrValue;
    case ATTR.FLOATS:
    case ATTR.INTS:
    case ATTR.STRINGS:
      return exact(v as unknown[]) as AttrValue;
    case ATTR.TENSOR:
      return v ? storedTensor(v as TensorRef, (v as TensorRef).name || `${layer}.${a.name}`, ctx) : undefined;
    case ATTR.SPARSE_TENSOR:
      return v ? sparseTensor(v as SparseRef, `${layer}.${a.name}`) : undefined;
    case ATTR.GRAPH:
      return v ? buildGraph(v as RawGraph, ctx, false) : undefined;
    default:
      // TENSORS and GRAPHS have no IR form (no standard op needs them); type protos neither.
      return undefined;
  }
}

/**
 * An exact-size copy of a list the parser grew element by element: V8 gives a grown array
 * room for 17 and more, which for the two inputs of a node is most of a graph's memory
 * (a third of it on a 100,000-node file) and of the garbage collector's copying.
 */
function exact<T>(list: T[]): T[] {
  return list.slice();
}

/**
 * The module hierarchy the dynamo exporter (torch.onnx.export(..., dynamo=True)) writes in a
 * node's metadata_props: `pkg.torch.onnx.name_scopes` (['', 'layer1', 'layer1.0', …, op name])
 * and `pkg.torch.onnx.class_hierarchy` (['…ResNet', '…Sequential', …, 'aten.relu.default']),
 * both Python list literals, outermost first; the last entry of each is the aten op, not a module.
 */
export function moduleFrames(meta: Record<string, string>): ModuleFrame[] | undefined {
  const scopes = pyStrings(meta["pkg.torch.onnx.name_scopes"]);
  const classes = pyStrings(meta["pkg.torch.onnx.class_hierarchy"]);
  if (!scopes || !classes || scopes.length !== classes.length || scopes.length < 2) return undefined;
  return scopes.slice(0, -1).map((path, i) => ({ path, type: classes[i] }));
}

/** A Python list of string literals (`['', 'a.b']`), or undefined when the text is not one. */
function pyStrings(text: string | undefined): string[] | undefined {
  if (!text) return undefined;
  const body = text.trim();
  if (!body.startsWith("[") || !body.endsWith("]")) return undefined;
  const out: string[] = [];
  const re = /\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*(,|$)/y;
  const inner = body.slice(1, -1);
  re.lastIndex = 0;
  while (re.lastIndex < inner.length) {
    const m = re.exec(inner);
    if (!m) return undefined;
    out.push((m[1] ?? m[2]).replace(/\\(.)/g, "$1"));
    if (m[3] === "") break;
  }
  return out;
}
