import { byteSize, type DType, onnxDType } from "../../core/dtype.js";
import { ConvscopeError } from "../../core/errors.js";
import type { AttrValue, Graph, Initializer, ModuleFrame, Node, Region, Tensor } from "../../core/graph.js";
import type { Shape } from "../../core/shape.js";
import { Attrs } from "../../ops/rule.js";
import type { ByteSource } from "../source.js";
import {
  ATTR,
  type Piece,
  type RawAttr,
  type RawDim,
  type RawFunction,
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
  /** `Op at node 'x'` for each node of the main graph holding a graph that is not inlined. */
  controlFlow: string[];
  functions: Map<string, RawFunction>;
  /** Default-domain opset (Scan's inputs changed at 9). */
  opset: number;
  freshDims: number;
}

/** Subgraphs and function bodies inlined deeper than this are rejected (a function calling itself). */
const MAX_INLINE = 32;

export function buildModel(raw: RawModel, src: ByteSource): Graph {
  if (!raw.graph) throw new ConvscopeError("the model has no graph (ModelProto field 7)");
  const opset = raw.opsets.get("") ?? raw.opsets.get("ai.onnx");
  const ctx: Ctx = { src, notes: [], external: new Map(), controlFlow: [], functions: raw.functions, opset: opset ?? 13, freshDims: 0 };
  const g = buildGraph(raw.graph, ctx, true);
  g.opset = opset;
  if (ctx.controlFlow.length > 0) {
    const list = ctx.controlFlow.slice(0, 5).join(", ") + (ctx.controlFlow.length > 5 ? ` and ${ctx.controlFlow.length - 5} more` : "");
    g.notes.push(`control flow (${list}) is not analysed: those layers are reported unknown`);
  }
  g.notes.unshift(...ctx.notes);
  return g;
}

/**
 * Where a (sub)graph's names go. The main graph keeps its names. A subgraph inlined into
 * it (an If branch, a Loop or Scan body, a function body) names its own layers and tensors
 * `prefix + name` (`IfNode/then/conv`); a name it does not define is the enclosing graph's
 * (outer scope), looked up outwards. A function body has no outer scope.
 */
interface Scope {
  prefix: string;
  /** The subgraph's own names → IR names; undefined for the main graph. */
  own?: Map<string, string>;
  parent?: Scope;
  region?: readonly Region[];
  /** A function body: the calling node's attributes (and the function's defaults), for `ref_attr_name`. */
  attrs?: Map<string, RawAttr>;
  depth: number;
}

function resolve(scope: Scope, name: string): string {
  if (name === "") return "";
  for (let s: Scope | undefined = scope; s; s = s.parent) {
    if (!s.own) return name;
    const v = s.own.get(name);
    if (v !== undefined) return v;
  }
  return name;
}

/** Names a tensor the (sub)graph defines. */
function define(scope: Scope, name: string): string {
  if (!scope.own || name === "") return name;
  let v = scope.own.get(name);
  if (v === undefined) {
    v = scope.prefix + name;
    scope.own.set(name, v);
  }
  return v;
}

function buildGraph(raw: RawGraph, ctx: Ctx, main: boolean): Graph {
  const tensors = new Map<string, Tensor>();
  const declare = (v: RawValueInfo, isInput: boolean, name = v.name) => {
    if (v.name === "") throw new ConvscopeError(`byte ${v.at}: a graph input, output or value_info has no name`);
    tensors.set(name, { name, dtype: onnxDType(v.elemType), shape: v.shape && declaredShape(v, isInput, ctx) });
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
  const storeAll = (g: RawGraph, scope: Scope) => {
    for (const ref of g.initializers) {
      if (ref.name === "") throw new ConvscopeError(`byte ${ref.at}: an initializer has no name`);
      const name = define(scope, ref.name);
      store(storedTensor(ref, name, ctx), `byte ${ref.at}`);
    }
    for (const s of g.sparseInitializers) {
      const raw = s.values?.name ?? "";
      if (raw === "") throw new ConvscopeError(`byte ${s.at}: a sparse initializer has no name`);
      store(sparseTensor(s, define(scope, raw)), `byte ${s.at}`);
    }
  };
  const top: Scope = { prefix: "", depth: 0 };
  storeAll(raw, top);

  // Every name in the file, gathered only when one must be made up (exporters usually name every node).
  let names: Set<string> | undefined;
  const taken = new Set<string>();
  const counters = new Map<string, number>();
  /** The node's name, made unique, and taken. */
  const uniqueName = (n: RawNode, scope: Scope): string => {
    if (scope.prefix === "" && n.name !== "") {
      // Taken at once: the set grows when the name was free (one lookup per node, not two).
      const size = taken.size;
      taken.add(n.name);
      if (taken.size > size) return n.name;
    }
    names ??= new Set(raw.nodes.map((x) => x.name));
    let name: string;
    if (scope.prefix !== "") {
      const base = scope.prefix + (n.name || n.opType);
      name = base;
      for (let k = 1; taken.has(name) || names.has(name); k++) name = `${base}_${k}`;
    } else {
      let k = counters.get(n.opType) ?? 0;
      do name = `${n.opType}_${k++}`;
      while (names.has(name) || taken.has(name));
      counters.set(n.opType, k);
    }
    taken.add(name);
    return name;
  };

  const nodes: Node[] = [];

  /** A subgraph's tensors and layers, inlined into the graph under `scope` (inputs already bound by the caller). */
  const inline = (g: RawGraph, scope: Scope) => {
    if (scope.depth > MAX_INLINE) throw new ConvscopeError(`subgraphs and functions nested more than ${MAX_INLINE} deep`);
    storeAll(g, scope);
    for (const n of g.nodes) for (const o of n.outputs) define(scope, o);
    // Shapes the subgraph declares for its own tensors (not for the outer ones it passes on).
    for (const v of [...g.valueInfo, ...g.outputs]) {
      const name = scope.own?.get(v.name);
      if (name === scope.prefix + v.name && !stored.has(name)) declare(v, false, name);
    }
    for (const n of g.nodes) emit(n, scope);
  };

  const emit = (rn0: RawNode, scope: Scope) => {
    const rn = scope.attrs ? withCallerAttrs(rn0, scope.attrs) : rn0;
    const name = uniqueName(rn, scope);
    const standard = DEFAULT_DOMAINS.has(rn.domain);
    if (standard && rn.opType === "Constant") {
      store(constantTensor(rn, name, ctx, define(scope, rn.outputs[0] ?? "")), `layer '${name}'`);
      return;
    }
    const op = standard ? rn.opType : `${rn.domain}::${rn.opType}`;
    const fn = standard ? undefined : ctx.functions.get(op);
    if (fn) return inlineCall(rn, name, fn, scope);
    if (standard && (rn.opType === "If" || rn.opType === "Loop" || (rn.opType === "Scan" && ctx.opset >= 9))) {
      return inlineControl(rn, name, scope);
    }
    const attrs: Record<string, AttrValue> = {};
    for (const a of rn.attrs) {
      const v = attrValue(a, name, ctx);
      if (v !== undefined) attrs[a.name] = v;
      if (main && (a.type === ATTR.GRAPH || a.type === ATTR.GRAPHS)) ctx.controlFlow.push(`${rn.opType} at node '${name}'`);
    }
    const inputs = scope.own ? rn.inputs.map((i) => resolve(scope, i)) : rn.inputs;
    const outputs = scope.own ? rn.outputs.map((o) => define(scope, o)) : rn.outputs;
    const node: Node = { name, op, inputs, outputs, attrs };
    if (scope.region) node.region = scope.region;
    if (rn.meta) {
      node.meta = rn.meta;
      const module = moduleFrames(rn.meta);
      if (module) node.module = module;
    }
    nodes.push(node);
  };

  /** A call of a model-local function: its body inlined, its formal inputs and outputs bound to the call's. */
  const inlineCall = (rn: RawNode, name: string, fn: RawFunction, scope: Scope) => {
    const attrs = new Map<string, RawAttr>();
    for (const a of fn.defaults) attrs.set(a.name, a);
    for (const a of rn.attrs) attrs.set(a.name, a);
    const body: Scope = { prefix: `${name}/`, own: new Map(), region: scope.region, attrs, depth: scope.depth + 1 };
    for (const [i, f] of fn.inputs.entries()) body.own?.set(f, resolve(scope, rn.inputs[i] ?? ""));
    fn.outputs.forEach((f, i) => {
      if (rn.outputs[i]) body.own?.set(f, define(scope, rn.outputs[i]));
    });
    inline({ ...EMPTY_GRAPH, nodes: fn.nodes, at: fn.at }, body);
  };

  const inlineControl = (rn: RawNode, name: string, scope: Scope) => {
    const graphAttr = (key: string): RawGraph => {
      const a = rn.attrs.find((x) => x.name === key && x.type === ATTR.GRAPH);
      if (!a?.value) throw new ConvscopeError(`${rn.opType} has no '${key}' graph`, { layer: name });
      return a.value as RawGraph;
    };
    const region = scope.region ?? [];
    const sub = (suffix: string, r: Region): Scope => ({
      prefix: `${name}/${suffix}/`,
      own: new Map(),
      parent: scope,
      region: [...region, r],
      depth: scope.depth + 1,
    });
    const ins = rn.inputs.map((i) => resolve(scope, i));
    const outs = rn.outputs.map((o) => define(scope, o));
    const join = (op: string, inputs: string[], attrs: Record<string, AttrValue>) =>
      nodes.push({ name, op, inputs, outputs: outs, attrs, ...(scope.region ? { region: scope.region } : {}) });
    const results = (g: RawGraph, s: Scope, from: number) => g.outputs.slice(from).map((o) => resolve(s, o.name));

    if (rn.opType === "If") {
      const cond = ins[0] ?? "";
      if (cond === "") throw new ConvscopeError("If has no condition input", { layer: name });
      const branches = (["then", "else"] as const).map((branch) => {
        const g = graphAttr(`${branch}_branch`);
        const s = sub(branch, { kind: "branch", node: name, branch, cond, when: branch === "then" });
        inline(g, s);
        const r = results(g, s, 0);
        if (r.length !== outs.length) {
          throw new ConvscopeError(`its ${branch} branch has ${r.length} outputs, the If has ${outs.length}`, { layer: name });
        }
        return r;
      });
      join("If", [cond, ...branches[0], ...branches[1]], {});
      return;
    }

    const body = graphAttr("body");
    if (rn.opType === "Loop") {
      const [m = "", enter = "", ...init] = ins;
      const n = init.length;
      if (body.inputs.length !== n + 2 || body.outputs.length < n + 1) {
        throw new ConvscopeError(
          `its body has ${body.inputs.length} inputs and ${body.outputs.length} outputs for ${n} loop-carried values`,
          { layer: name },
        );
      }
      const condIn = body.inputs[1].name;
      const condOut = body.outputs[0].name;
      const passes =
        condOut === condIn || body.nodes.some((x) => x.opType === "Identity" && x.outputs[0] === condOut && x.inputs[0] === condIn);
      const r: Region =
        m === ""
          ? { kind: "loop", node: name, why: "it has no trip count and runs until its body's condition turns false" }
          : !passes
            ? { kind: "loop", node: name, why: `its body computes when to stop (at most '${m}' iterations)` }
            : { kind: "loop", node: name, trips: { tensor: m }, ...(enter ? { enter } : {}) };
      const s = sub("body", r);
      // The iteration number and condition the body reads come from a layer of their own.
      nodes.push({
        name: `${name}/body/iteration`,
        op: "LoopIteration",
        inputs: [],
        outputs: [define(s, body.inputs[0].name), define(s, condIn)],
        attrs: {},
        region: s.region,
      });
      for (const [i, t] of init.entries()) s.own?.set(body.inputs[2 + i].name, t);
      inline(body, s);
      join("Loop", [m, enter, ...init, ...results(body, s, 1)], { carried: n, static_trips: r.trips ? 1 : 0 });
      return;
    }

    // Scan (opset 9+): inputs [states…, scanned…], body inputs [states…, one slice of each scanned…].
    const a = new Attrs({ name, op: "Scan", inputs: [], outputs: [], attrs: {} }, scalarAttrs(rn));
    const s = a.int("num_scan_inputs");
    const n = ins.length - s;
    if (s < 1 || n < 0 || body.inputs.length !== ins.length || body.outputs.length < n) {
      throw new ConvscopeError(`its body's inputs and outputs do not match ${n} states and ${s} scanned inputs`, { layer: name });
    }
    const inAxes = a.ints("scan_input_axes", []);
    const bs = sub("body", { kind: "loop", node: name, trips: { tensor: ins[n], axis: inAxes[0] ?? 0 } });
    for (const [i, t] of ins.slice(0, n).entries()) bs.own?.set(body.inputs[i].name, t);
    // Each iteration reads one slice of every scanned input: Gather index 0 on its scan axis.
    const index = `${name}/body/index0`;
    store({ name: index, dtype: "int64", shape: [], value: [0] }, `layer '${name}'`);
    ins.slice(n).forEach((t, j) => {
      nodes.push({
        name: `${name}/body/slice_${j}`,
        op: "Gather",
        inputs: [t, index],
        outputs: [define(bs, body.inputs[n + j].name)],
        attrs: { axis: inAxes[j] ?? 0 },
        region: bs.region,
      });
    });
    inline(body, bs);
    join("Scan", [...ins, ...results(body, bs, 0)], {
      carried: n,
      scan_inputs: s,
      scan_input_axes: inAxes,
      scan_output_axes: a.ints("scan_output_axes", []),
    });
  };

  for (const rn of raw.nodes) emit(rn, top);

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

const EMPTY_GRAPH: RawGraph = {
  name: "",
  nodes: [],
  initializers: [],
  sparseInitializers: [],
  inputs: [],
  outputs: [],
  valueInfo: [],
  at: 0,
};

/** A function body's node with its `ref_attr_name` attributes given the calling node's values (dropped when the call has none). */
function withCallerAttrs(n: RawNode, caller: Map<string, RawAttr>): RawNode {
  if (!n.attrs.some((a) => a.ref !== undefined)) return n;
  const attrs: RawAttr[] = [];
  for (const a of n.attrs) {
    if (a.ref === undefined) attrs.push(a);
    else {
      const v = caller.get(a.ref);
      if (v) attrs.push({ name: a.name, type: v.type, value: v.value });
    }
  }
  return { ...n, attrs };
}

/** A node's int and int-list attributes, for reading with Attrs. */
function scalarAttrs(n: RawNode): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const a of n.attrs) if (a.type === ATTR.INT || a.type === ATTR.INTS) out[a.name] = a.value as AttrValue;
  return out;
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
  // Indexed loops here and in storedTensor: once per stored tensor, 50,000 times on a large graph.
  for (let k = 0; k < ref.dims.length; k++) {
    const d = ref.dims[k];
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
  let initializer: Initializer;
  if (ref.external) {
    initializer = externalInitializer(ref, name, dtype, count, ctx);
  } else {
    let bytes = 0;
    for (let k = 0; k < ref.pieces.length; k++) {
      const p = ref.pieces[k];
      bytes += p.end - p.start;
      if (p.field === 9 && dtype !== "string" && dtype !== "unknown" && p.end - p.start !== byteSize(count, dtype)) {
        throw new ConvscopeError(
          `byte ${p.start}: tensor '${name}' has ${p.end - p.start} bytes of raw_data, but its dims ${ref.dims.join("×") || "(scalar)"} of ${dtype} need ${byteSize(count, dtype)}`,
        );
      }
    }
    initializer = new InlinePayload(bytes, ref.pieces, dtype, count, name, ctx.src);
  }
  return { name, dtype, shape: ref.dims, initializer };
}

/**
 * A payload in the model file, decoded only when a rule asks for its values (shape
 * constants; weights never). A class rather than an object with a closure: a graph holds
 * one per stored tensor, and a closure would add a function and its scope to each.
 */
class InlinePayload implements Initializer {
  readonly location = "inline";

  constructor(
    readonly byteLength: number,
    private readonly pieces: Piece[],
    private readonly dtype: DType,
    private readonly count: number,
    private readonly name: string,
    private readonly src: ByteSource,
  ) {}

  read(): number[] {
    const what = `tensor '${this.name}'`;
    return checkCount(
      decodePieces(this.pieces, this.dtype, (a, b) => readExactly(this.src, a, b), what),
      this.count,
      what,
    );
  }
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
function constantTensor(n: RawNode, layer: string, ctx: Ctx, out = n.outputs[0]): Tensor {
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
      return v as AttrValue;
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
