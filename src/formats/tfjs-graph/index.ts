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
  // Constants first (they have no inputs, so any order among sources is valid): the
  // planning below and the inputs' layout read their values.
  const order = r.order(nodes).sort((a, b) => Number(b.op === "Const") - Number(a.op === "Const"));
  for (const n of order) if (n.op === "Const") r.node(n);
  r.planDilated(order);
  r.planLoops(order);
  for (const n of order) if (n.op !== "Const") r.node(n);
  if ((json.modelTopology?.library?.function?.length ?? 0) > 0) e.graph.notes.push("functions in the graph library are not analysed");
  for (const loop of r.loops.values()) {
    const kinds = [...new Set(loop.nodes.map((n) => n.op))].slice(0, 8).join(", ");
    e.graph.notes.push(
      `control flow: loop '${loop.frame}' (${loop.nodes.length} ops: ${kinds}…) runs a number of times known only at run time: it is one layer, tf::While, whose cost is not counted; everything outside it is`,
    );
  }
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

/** A conv read together with the SpaceToBatchND / BatchToSpaceND around it. */
export interface DilatedPlan {
  block: number[];
  /** SpaceToBatchND paddings and BatchToSpaceND crops, [[begin, end] per spatial axis] flattened. */
  pads: number[];
  crops: number[];
}

/** TensorList / TensorArray ops: the lists a loop fills or reads. */
const LIST_OP = /^(TensorList|TensorArray)/;

/** Ops a layout passes through unchanged (searched past to find what the input feeds). */
const PASS_THROUGH = new Set([
  "Identity",
  "Cast",
  "Mul",
  "Sub",
  "Add",
  "AddV2",
  "RealDiv",
  "Div",
  "Maximum",
  "Minimum",
  "Relu",
  "Relu6",
  "Pad",
  "PadV2",
  "MirrorPad",
]);

const DILATABLE = new Set(["Conv2D", "DepthwiseConv2dNative", "_FusedConv2D", "FusedDepthwiseConv2dNative"]);

export class TfjsReader {
  readonly vals = new Map<string, Val>();
  readonly dilatedConv = new Map<string, DilatedPlan>();
  readonly dilatedS2b = new Set<string>();
  readonly dilatedB2s = new Set<string>();
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

  /**
   * TF writes a dilated conv as SpaceToBatchND → Conv2D → BatchToSpaceND (block² phase images
   * convolved without dilation, then woven back): such chains — each tensor read by the next
   * op only, equal constant block shapes, a stride-1 undilated NHWC conv — are read as the
   * one dilated conv they compute.
   */
  /** While loops (Enter … Exit frames) by frame name, each read as one tf::While layer. */
  readonly loops = new Map<string, { frame: string; nodes: TfNode[]; exits: TfNode[]; emitted: boolean }>();
  private readonly loopOf = new Map<string, string>();

  /**
   * A TF1-style while loop is the nodes between its Enter and Exit nodes (Merge, Switch,
   * LoopCond, NextIteration, TensorList*, and the body). How many times the body runs is
   * decided at run time, so the region becomes one layer whose cost is unknown — with its
   * outside inputs and its Exit outputs — and everything outside the loop is counted.
   */
  planLoops(nodes: TfNode[]): void {
    const byFrame = new Map<string, TfNode[]>();
    for (const n of nodes) {
      if (n.op !== "Enter" && n.op !== "RefEnter") continue;
      const frame = new NodeAttrs(n).str("frame_name", n.name);
      byFrame.set(frame, [...(byFrame.get(frame) ?? []), n]);
    }
    for (const [frame, enters] of byFrame) {
      if (this.loopOf.has(enters[0].name)) continue; // nested in a loop already planned
      const inside = new Map<string, TfNode>();
      const queue = [...enters];
      while (queue.length > 0) {
        const n = queue.shift() as TfNode;
        if (inside.has(n.name)) continue;
        inside.set(n.name, n);
        if (n.op === "Exit" || n.op === "RefExit") continue;
        for (const u of this.users.get(n.name) ?? []) if (!inside.has(u.name)) queue.push(u);
      }
      // The TensorLists / TensorArrays the loop fills or reads are made before it and
      // stacked, gathered or sized after it: list ops all of whose readers are in the loop,
      // or that read something the loop makes, belong to it.
      for (let grew = true; grew; ) {
        grew = false;
        for (const n of nodes) {
          if (inside.has(n.name) || !LIST_OP.test(n.op)) continue;
          const readers = this.users.get(n.name) ?? [];
          const feeds = readers.length > 0 && readers.every((u) => inside.has(u.name));
          const reads = (n.input ?? []).some((i) => !i.startsWith("^") && inside.has(splitRef(i).node));
          if (feeds || reads) {
            inside.set(n.name, n);
            grew = true;
          }
        }
      }
      const list = nodes.filter((n) => inside.has(n.name));
      // Results: region nodes read outside it (Exits, stacked lists).
      const exits = list.filter(
        (n) => n.op === "Exit" || n.op === "RefExit" || (this.users.get(n.name) ?? []).some((u) => !inside.has(u.name)),
      );
      this.loops.set(frame, { frame, nodes: list, exits, emitted: false });
      for (const n of list) this.loopOf.set(n.name, frame);
    }
  }

  /** Reads a node of a loop region: the region's one layer is made when its first Exit comes. */
  private loopNode(n: TfNode, frame: string): void {
    const loop = this.loops.get(frame);
    if (!loop || !loop.exits.includes(n) || loop.emitted) return;
    loop.emitted = true;
    const names = new Set(loop.nodes.map((m) => m.name));
    const ins: string[] = [];
    for (const m of loop.nodes) {
      for (const i of m.input ?? []) {
        if (i.startsWith("^") || names.has(splitRef(i).node)) continue;
        const v = this.vals.get(TfjsReader.outName(splitRef(i).node, splitRef(i).k));
        if (v && !ins.includes(v.name)) ins.push(this.e.toLast(v));
      }
    }
    const outs = loop.exits.map((x) => {
      const a = new NodeAttrs(x);
      const dtype = a.type("T") ?? a.type("element_dtype") ?? "float32";
      const shape = staticShape(
        x,
        a,
        (x.input ?? []).filter((i) => !i.startsWith("^")).map((i) => this.vals.get(splitRef(i).node) ?? { name: i, first: false }),
      );
      const v = this.e.declare(x.name, dtype, shape);
      this.vals.set(x.name, v);
      return [
        x.name,
        // Further outputs read outside (a TensorArray's flow): unknown shape.
        ...Array.from({ length: (this.outputCount.get(x.name) ?? 1) - 1 }, (_, k) => {
          const o = TfjsReader.outName(x.name, k + 1);
          this.vals.set(o, this.e.declare(o, dtype));
          return o;
        }),
      ];
    });
    this.e.node("tf::While", frame, ins, outs.flat(), {}, "While");
  }

  /** Readers of each node's outputs (set by planDilated). */
  private users = new Map<string, TfNode[]>();
  private firstWhy = "";

  /**
   * Whether an input is channels-first in the file: followed (through element-wise ops and
   * casts) by a Transpose that moves axis 1 to the end, or by an op whose data_format is
   * NCHW. A Transpose the other way, an NHWC op, or nothing telling: channels-last, TF's default.
   */
  channelsFirstInput(name: string): boolean {
    const seen = new Set<string>();
    let frontier = [name];
    for (let depth = 0; depth < 6 && frontier.length > 0; depth++) {
      const next: string[] = [];
      for (const f of frontier) {
        for (const u of this.users.get(f) ?? []) {
          if (seen.has(u.name)) continue;
          seen.add(u.name);
          if (u.op === "Transpose") {
            const perm = this.vals.get(splitRef(u.input?.[1] ?? "").node)?.values;
            const r = perm?.length ?? 0;
            if (!perm || r < 3) continue;
            const toLast = perm[0] === 0 && perm[r - 1] === 1 && perm.slice(1, -1).every((p, i) => p === i + 2);
            if (toLast) this.firstWhy = `'${u.name}' transposes it to channels-last`;
            return toLast;
          }
          const fmt = new NodeAttrs(u).str("data_format", "");
          if (fmt) {
            if (fmt.startsWith("NC")) this.firstWhy = `'${u.name}' has data_format ${fmt}`;
            return fmt.startsWith("NC");
          }
          if (PASS_THROUGH.has(u.op)) next.push(u.name);
        }
      }
      frontier = next;
    }
    return false;
  }

  planDilated(nodes: TfNode[]): void {
    const users = this.users;
    for (const n of nodes) {
      for (const i of n.input ?? []) {
        if (i.startsWith("^")) continue;
        const { node } = splitRef(i);
        users.set(node, [...(users.get(node) ?? []), n]);
      }
    }
    const only = (name: string) => {
      const u = users.get(name) ?? [];
      return u.length === 1 ? u[0] : undefined;
    };
    const ints = (ref: string | undefined) => (ref === undefined ? undefined : this.vals.get(splitRef(ref).node)?.values);
    for (const s2b of nodes) {
      if (s2b.op !== "SpaceToBatchND") continue;
      const conv = only(s2b.name);
      if (!conv || !DILATABLE.has(conv.op) || splitRef(conv.input?.[0] ?? "").node !== s2b.name) continue;
      const b2s = only(conv.name);
      if (!b2s || b2s.op !== "BatchToSpaceND" || splitRef(b2s.input?.[0] ?? "").node !== conv.name) continue;
      const a = new NodeAttrs(conv);
      const ones = (k: string) => (a.ints(k) ?? [1, 1, 1, 1]).every((v) => v === 1);
      if (a.str("data_format", "NHWC") !== "NHWC" || !ones("strides") || !ones("dilations")) continue;
      const [block, pads, block2, crops] = [ints(s2b.input?.[1]), ints(s2b.input?.[2]), ints(b2s.input?.[1]), ints(b2s.input?.[2])];
      if (!block || !pads || !block2 || !crops || block.length !== 2 || block.join() !== block2.join()) continue;
      if (pads.length !== 4 || crops.length !== 4) continue;
      this.dilatedConv.set(conv.name, { block, pads, crops });
      this.dilatedS2b.add(s2b.name);
      this.dilatedB2s.add(b2s.name);
    }
  }

  /** Data inputs of a node: control inputs (`^x`) dropped, loop back edges (NextIteration → Merge) cut. */
  dataInputs(n: TfNode, byName: Map<string, TfNode>): string[] {
    return (n.input ?? []).filter((i) => {
      if (i.startsWith("^")) return false;
      if (n.op !== "Merge" && n.op !== "RefMerge") return true;
      return byName.get(splitRef(i).node)?.op !== "NextIteration";
    });
  }

  private byName = new Map<string, TfNode>();

  /** Nodes in an order where every data input comes first (Kahn; file order among the ready). */
  order(nodes: TfNode[]): TfNode[] {
    const byName = this.byName;
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
      // Layout is read, not assumed: a graph converted from ONNX/PyTorch feeds its NCHW input
      // to a Transpose (or an NCHW conv); such an input is shown as the file declares it.
      const first = shape !== undefined && shape.length >= 3 && this.channelsFirstInput(n.name);
      const names = first ? ["N", "C", "H", "W"] : ["N", "H", "W", "C"];
      const dims = shape?.map((d, i): Dim => (d >= 0 ? d : i === 0 ? "N" : (names[i] ?? `d${i}`)));
      const v = this.e.declare(n.name, a.type("dtype") ?? "float32", dims, shape?.length, !first);
      if (first) {
        v.fileFirst = true;
        delete v.channels;
      }
      this.vals.set(n.name, v);
      this.e.graph.inputs.push(n.name);
      if (first)
        this.e.graph.notes.push(`input '${n.name}' is channels-first in the file (${this.firstWhy}): shown as the file declares it`);
      else if (shape && shape.length >= 3) this.e.graph.channelsLastInputs = [...(this.e.graph.channelsLastInputs ?? []), n.name];
      return;
    }
    if (n.op === "Const") {
      this.vals.set(n.name, this.constant(n, a));
      return;
    }
    if (NO_OUTPUT.has(n.op)) return;
    const frame = this.loopOf.get(n.name);
    if (frame !== undefined) {
      this.loopNode(n, frame);
      return;
    }
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
      // An output the file holds channels-first (an NCHW graph) is shown as the file has it.
      const name = v.fileFirst ? v.name : this.e.toFirst(v, dims?.length);
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
