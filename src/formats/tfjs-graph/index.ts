import { ConvscopeError } from "../../core/errors.js";
import type { Graph } from "../../core/graph.js";
import type { Dim } from "../../core/shape.js";
import { checkJson, type JsonShape } from "../json-check.js";
import { nhwcToNchw } from "../layout.js";
import { type ByteSource, readText } from "../source.js";
import { ChannelsLastGraph, type Val } from "../tflite/channels-last.js";
import { NodeAttrs, type TfNode, tfDType } from "./attrs.js";
import { CONTROL_FLOW, translate } from "./ops.js";
import { decodeInts, type ManifestEntry, readManifest, readWeightBytes } from "./weights.js";

/**
 * TensorFlow.js graph models (model.json, "format": "graph-model"): the GraphDef as JSON
 * into the channels-first IR. Weight shapes come from the weightsManifest; the .bin shards
 * are opened only for small integer constants (axes, shape targets, pads). Ops without a
 * translation — and control flow — stay as `tf::Op` layers reported unknown.
 */
export function readTfjsGraph(src: ByteSource): Graph {
  let json: {
    format?: string;
    modelTopology?: { node?: TfNode[]; library?: { function?: unknown[] } };
    weightsManifest?: unknown;
    signature?: Signature;
    userDefinedMetadata?: { signature?: Signature };
  };
  try {
    json = JSON.parse(readText(src));
  } catch (e) {
    throw new ConvscopeError(`not valid JSON: ${(e as Error).message}`);
  }
  const nodes = json.modelTopology?.node;
  if (!Array.isArray(nodes)) throw new ConvscopeError("modelTopology has no node list (not a TF.js graph model)");
  checkJson(json, MODEL_JSON, "model.json", (path, v) => (/node\[\d+\]$/.test(path) ? String((v as TfNode).name) : undefined));
  const manifest = readManifest(json.weightsManifest, src.name);
  const name = src.name.replace(/^.*[\\/]/, "").replace(/\.json$/i, "") || "model";
  const e = new ChannelsLastGraph(name, "tfjs-graph");
  const r = new TfjsReader(e, src, manifest);
  const order = r.order(nodes);
  for (const n of order) r.node(n);
  if ((json.modelTopology?.library?.function?.length ?? 0) > 0) e.graph.notes.push("functions in the graph library are not analysed");
  if (r.controlFlow.size > 0) {
    e.graph.notes.push(`control flow (${[...r.controlFlow].join(", ")}) is not analysed: those parts are reported as unknown layers`);
  }
  if (r.binMissing) e.graph.notes.push("the weights file (.bin) was not found: shapes that depend on constant values are unknown");
  const sig = json.signature ?? json.userDefinedMetadata?.signature;
  const declared = Object.values(sig?.outputs ?? {}).flatMap((o) => (o.name ? [o.name] : []));
  e.graph.outputs = r.outputs(declared, r.inputsFixed() ? sig : undefined);
  return e.graph;
}

/** What the reader walks in model.json, by type (a hostile file fails here, naming the field). */
const SHAPE: JsonShape = { object: { dim: { array: { object: { size: "int" } } }, unknownRank: "boolean" } };
const ATTR: JsonShape = {
  object: {
    i: "int",
    f: "int",
    b: "boolean",
    s: "string",
    type: "string",
    shape: SHAPE,
    list: {
      object: { i: { array: "int" }, s: { array: "string" }, f: { array: "int" }, type: { array: "string" }, shape: { array: SHAPE } },
    },
    tensor: { object: { dtype: "string", tensorShape: SHAPE, intVal: { array: "int" }, int64Val: { array: "int" } } },
  },
};
const MODEL_JSON: JsonShape = {
  object: {
    modelTopology: {
      object: {
        node: { array: { object: { name: "string", op: "string", input: { array: "string" }, attr: { record: ATTR } } } },
        library: { object: { function: { array: "any" } } },
      },
    },
    weightsManifest: {
      array: {
        object: {
          paths: { array: "string" },
          weights: {
            array: { object: { name: "string", shape: { array: "int" }, dtype: "string", quantization: { object: { dtype: "string" } } } },
          },
        },
      },
    },
    signature: { object: { outputs: { record: { object: { name: "string", tensorShape: SHAPE } } } } },
    userDefinedMetadata: { object: { signature: { object: { outputs: { record: { object: { name: "string", tensorShape: SHAPE } } } } } } },
  },
};

/** The SavedModel signature the converter keeps: output names and their declared (NHWC) shapes. */
interface Signature {
  outputs?: Record<string, { name?: string; tensorShape?: { dim?: { size?: string | number }[]; unknownRank?: boolean } }>;
}

/** Ops that produce no data (or only side effects). */
const NO_OUTPUT = new Set(["NoOp", "Assert", "SaveV2", "RestoreV2"]);

export class TfjsReader {
  readonly vals = new Map<string, Val>();
  readonly controlFlow = new Set<string>();
  binMissing = false;
  /** Outputs referenced per node (`name:k`), so an unknown op declares all of them. */
  readonly outputCount = new Map<string, number>();
  private readonly consumed = new Set<string>();

  constructor(
    readonly e: ChannelsLastGraph,
    private readonly src: ByteSource,
    private readonly manifest: Map<string, ManifestEntry>,
  ) {}

  /** Data inputs of a node: control inputs (`^x`) dropped, loop back edges (NextIteration → Merge) cut. */
  dataInputs(n: TfNode, byName: Map<string, TfNode>): string[] {
    return (n.input ?? []).filter((i) => {
      if (i.startsWith("^")) return false;
      if (n.op !== "Merge" && n.op !== "RefMerge") return true;
      return byName.get(splitRef(i).node)?.op !== "NextIteration";
    });
  }

  /** Nodes in an order where every data input comes first (Kahn; file order among the ready). */
  order(nodes: TfNode[]): TfNode[] {
    const byName = new Map<string, TfNode>();
    for (const n of nodes) {
      if (typeof n?.name !== "string" || typeof n.op !== "string") throw new ConvscopeError("a node has no name or op");
      if (byName.has(n.name)) throw new ConvscopeError(`node '${n.name}' appears twice`);
      byName.set(n.name, n);
    }
    const pending = new Map<string, number>();
    const users = new Map<string, TfNode[]>();
    for (const n of nodes) {
      const deps = new Set<string>();
      for (const i of this.dataInputs(n, byName)) {
        const { node, k } = splitRef(i);
        if (!byName.has(node)) throw new ConvscopeError(`reads '${i}', which no node produces`, { layer: n.name });
        this.outputCount.set(node, Math.max(this.outputCount.get(node) ?? 1, k + 1));
        this.consumed.add(node);
        deps.add(node);
      }
      pending.set(n.name, deps.size);
      for (const d of deps) users.set(d, [...(users.get(d) ?? []), n]);
    }
    const out: TfNode[] = [];
    const ready = nodes.filter((n) => pending.get(n.name) === 0);
    while (ready.length > 0) {
      const n = ready.shift() as TfNode;
      out.push(n);
      for (const u of users.get(n.name) ?? []) {
        const left = (pending.get(u.name) ?? 0) - 1;
        pending.set(u.name, left);
        if (left === 0) ready.push(u);
      }
    }
    if (out.length !== nodes.length) {
      const stuck = nodes.filter((n) => (pending.get(n.name) ?? 0) > 0).map((n) => n.name);
      throw new ConvscopeError(`the graph has a cycle through ${stuck.slice(0, 3).join(" → ")}`, { layer: stuck[0] });
    }
    return out;
  }

  /** The Val a reference (`name`, `name:1`) points at. */
  input(ref: string, layer: string): Val {
    const { node, k } = splitRef(ref);
    const v = this.vals.get(k === 0 ? node : `${node}:${k}`);
    if (!v) throw new ConvscopeError(`reads '${ref}', which is not available`, { layer });
    return v;
  }

  /** IR tensor name of output k of a node. */
  static outName(node: string, k: number): string {
    return k === 0 ? node : `${node}:${k}`;
  }

  node(n: TfNode): void {
    const a = new NodeAttrs(n);
    if (n.op === "Placeholder" || n.op === "PlaceholderWithDefault") {
      if (n.op === "PlaceholderWithDefault") {
        this.vals.set(n.name, this.input((n.input ?? [])[0] ?? "", n.name));
        return;
      }
      const shape = a.shape("shape");
      const dims = shape?.map((d, i): Dim => (d >= 0 ? d : i === 0 ? "N" : (["N", "H", "W", "C"][i] ?? `d${i}`)));
      const v = this.e.declare(n.name, a.type("dtype") ?? "float32", dims);
      this.vals.set(n.name, v);
      this.e.graph.inputs.push(n.name);
      return;
    }
    if (n.op === "Const") {
      this.vals.set(n.name, this.constant(n, a));
      return;
    }
    if (NO_OUTPUT.has(n.op)) return;
    const ins = (n.input ?? []).filter((i) => !i.startsWith("^"));
    // A loop's Merge also reads its NextIteration, which comes later: that back edge is cut.
    const data = n.op === "Merge" ? ins.filter((i) => this.vals.has(TfjsReader.outName(splitRef(i).node, splitRef(i).k))) : ins;
    const vals = data.map((i) => this.input(i, n.name));
    if (CONTROL_FLOW.has(n.op)) this.controlFlow.add(n.op);
    const outs = CONTROL_FLOW.has(n.op) ? undefined : translate(this, n, a, vals);
    if (outs) {
      outs.forEach((v, k) => {
        this.vals.set(TfjsReader.outName(n.name, k), v);
      });
      return;
    }
    this.unknown(n, vals);
  }

  /** A layer convscope does not translate: `tf::Op`, its outputs of unknown shape. */
  unknown(n: TfNode, vals: Val[]): void {
    const count = this.outputCount.get(n.name) ?? 1;
    const names = Array.from({ length: count }, (_, k) => TfjsReader.outName(n.name, k));
    const a = new NodeAttrs(n);
    const dtype = a.type("T") ?? a.type("dtype") ?? a.type("element_dtype") ?? "float32";
    const known = staticShape(n, a, vals);
    names.forEach((o, k) => {
      this.vals.set(o, this.e.declare(o, dtype, k === 0 ? known : undefined));
    });
    this.e.node(
      `tf::${n.op}`,
      n.name,
      vals.map((v) => this.e.toLast(v)),
      names,
      {},
      n.op,
    );
  }

  private constant(n: TfNode, a: NodeAttrs): Val {
    const w = this.manifest.get(n.name);
    const t = a.tensor("value");
    if (w) {
      let values: number[] | undefined;
      const count = w.shape.reduce((x, y) => x * y, 1);
      if ((w.stored === "int32" || w.stored === "int64") && count <= 64) {
        const bytes = readWeightBytes(this.src, w);
        if (bytes) values = decodeInts(bytes, w.stored);
        else this.binMissing = true;
      }
      // A float stored as uint8/uint16 (weight quantization) is still a parameter.
      const init = { byteLength: w.byteLength, location: "external" as const, externalFile: w.paths[0], quantized: w.stored !== w.dtype };
      return this.e.constant(n.name, w.stored, w.shape, init, values);
    }
    // Not in the manifest: a constant with its content inline (or none).
    const shape = (t?.tensorShape?.dim ?? []).map((d) => Number(d.size ?? 1));
    const ints = t?.intVal ?? t?.int64Val;
    const values = ints ? ints.map(Number) : undefined;
    const full = values && values.length === 1 && shape.length > 0 ? new Array(shape.reduce((x, y) => x * y, 1)).fill(values[0]) : values;
    return this.e.constant(n.name, tfDType(t?.dtype ?? a.type("dtype")), shape, { byteLength: 0, location: "absent" }, full);
  }

  /** Every Placeholder declares a fully known shape (no −1, known rank). */
  inputsFixed(): boolean {
    return this.e.graph.inputs.every((i) => {
      const shape = this.e.graph.tensors.get(i)?.shape;
      return shape?.every((d) => typeof d === "number") === true;
    });
  }

  /**
   * The signature's outputs when declared, else every node output nobody consumes. With `sig`
   * (given only when every input's shape is fixed in the file, so the converter's shapes hold),
   * a fully known declared output shape is recorded on the output tensor: analysis falls back
   * to it where its own inference stops (an op without a rule upstream), and never overrides it.
   */
  outputs(declared: string[], sig?: Signature): string[] {
    const names = declared.map((d) => d.replace(/:0$/, "")).filter((d) => this.vals.has(d) || this.vals.has(splitRef(d).node));
    const refs = names.length > 0 ? names : [...this.vals.keys()].filter((k) => !k.includes(":") && !this.consumed.has(k));
    const shapes = new Map<string, number[]>();
    for (const o of Object.values(sig?.outputs ?? {})) {
      const dims = o.tensorShape?.unknownRank ? undefined : o.tensorShape?.dim?.map((d) => Number(d.size ?? -1));
      if (o.name && dims?.every((d) => Number.isSafeInteger(d) && d > 0)) shapes.set(o.name.replace(/:0$/, ""), dims);
    }
    return refs.flatMap((ref) => {
      const v = this.vals.get(ref) ?? this.vals.get(splitRef(ref).node);
      if (!v || v.constShape) return [];
      let dims = shapes.get(ref);
      if (dims && v.rank !== undefined && v.rank !== dims.length) {
        this.e.graph.notes.push(
          `the signature declares output '${ref}' with rank ${dims.length}, the graph makes rank ${v.rank}: not used`,
        );
        dims = undefined;
      }
      const name = this.e.toFirst(v, dims?.length);
      const t = this.e.graph.tensors.get(name);
      if (dims && !t?.shape) this.e.graph.tensors.set(name, { name, dtype: t?.dtype ?? "float32", shape: nhwcToNchw(dims) });
      return [name];
    });
  }
}

/**
 * The file shape an untranslated op still fixes statically: TensorListStack with a known
 * `num_elements` and a fully known element shape (a `map` loop's result, such as the
 * resized image handtrack's detector runs on) is [num_elements, ...element_shape].
 * Undefined whenever any part is open — never a guess.
 */
function staticShape(n: TfNode, a: NodeAttrs, vals: Val[]): number[] | undefined {
  if (n.op !== "TensorListStack") return undefined;
  const count = a.int("num_elements", -1);
  const elem = vals[1]?.values;
  if (count < 1 || !elem || elem.some((d) => d < 1)) return undefined;
  return [count, ...elem];
}

/** `name:1` → node and output index; `name` → output 0. */
export function splitRef(ref: string): { node: string; k: number } {
  const m = /^(.*):(\d+)$/.exec(ref);
  return m ? { node: m[1], k: Number(m[2]) } : { node: ref, k: 0 };
}

/** A graph model's model.json says "format": "graph-model", or its topology is a GraphDef (has "node"). */
export function sniffTfjsGraph(head: Uint8Array): boolean {
  const text = new TextDecoder().decode(head);
  return /"format"\s*:\s*"graph-model"/.test(text) || /"modelTopology"\s*:\s*\{\s*"node"/.test(text);
}
