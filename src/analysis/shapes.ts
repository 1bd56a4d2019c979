import { isFloat } from "../core/dtype.js";
import { ConvscopeError } from "../core/errors.js";
import type { Graph, Initializer, Node, Tensor } from "../core/graph.js";
import { SharedLists } from "../core/lists.js";
import { type Dim, numel, type Shape, symbolsOf } from "../core/shape.js";
import { Attrs, type OpRule, type RuleContext, ruleFor, type TensorState } from "../ops/index.js";
import { type Steps, StepsBuilder } from "./memory.js";
import { topoOrder } from "./order.js";

/** A node with its rule and the context every later pass reads. */
export interface LayerState {
  node: Node;
  /** Position in the topological order. */
  index: number;
  /** Input and output tensors as ids into `ShapeResult.states` (-1 for an omitted one, `""`). */
  ins: number[];
  outs: number[];
  /** Undefined for an op convscope does not know. */
  rule?: OpRule;
  ctx: RuleContext;
  status: "ok" | "unknown";
  /** Every input is a constant, so the outputs are constants too (shape arithmetic, weight transforms). */
  folded: boolean;
}

export interface ShapeResult {
  order: LayerState[];
  /** Final state by name. */
  tensors: TensorLookup;
  /**
   * Every tensor as a small integer (file tensors first, then outputs in order): later passes
   * keep their per-tensor facts in arrays indexed by it rather than in maps keyed by name.
   */
  ids: Map<string, number>;
  /** Final state by id (`states[id] === tensors.get(names[id])`). */
  states: TensorState[];
  names: string[];
  /** The file's own tensor (declared or stored) for each id below its length: file tensors are numbered first. */
  fileTensors: Tensor[];
  /** Each layer's tensors as flat lists (layer k is order[k]), for the memory walks. */
  steps: Steps;
  /** Whether any node lies in a region (an If branch, a loop body): without, the region passes have nothing to do. */
  regions: boolean;
  /** Symbols still unbound after binding (their numbers are unknown). */
  symbols: Set<string>;
  notes: string[];
}

export interface TensorLookup {
  get(name: string): TensorState | undefined;
}

export interface Bindings {
  /** Input name → shape (overrides the declared shape). */
  inputs?: Record<string, Shape>;
  /** Batch size: replaces the first dim of every input. */
  batch?: number;
}

/** Largest constant decoded for shape arithmetic; weights are never this small in practice and are never read. */
const MAX_VALUE_ELEMENTS = 4096;

/**
 * Infers every tensor's shape and dtype in topological order: `order` (topoOrder's), or,
 * when it is not given, the file's own order, checked as it goes. Files nearly always list
 * their nodes in a valid order, and topoOrder's answer is then that order; checking it here,
 * on the ids this pass makes anyway, spares a map of every tensor name that topoOrder builds
 * (a third of a second on a 100,000-node graph). Anything unusual (a node before its input's
 * producer, a tensor produced twice or also stored, control flow) and any error hand over to
 * topoOrder, so its order and its errors, which come first, are unchanged.
 */
export function inferShapes(g: Graph, order: readonly Node[] | undefined, bind: Bindings): ShapeResult {
  if (order) return infer(g, order, bind, false) as ShapeResult;
  let inOrder: ShapeResult | undefined;
  try {
    if (!g.nodes.some((n) => n.region)) inOrder = infer(g, g.nodes, bind, true);
  } catch (e) {
    if (e instanceof ConvscopeError) topoOrder(g);
    throw e;
  }
  return inOrder ?? (infer(g, topoOrder(g), bind, false) as ShapeResult);
}

/** inferShapes over `order`; with `check`, undefined as soon as the order is not one topoOrder would keep. */
function infer(g: Graph, order: readonly Node[], bind: Bindings, check: boolean): ShapeResult | undefined {
  const ids = new Map<string, number>();
  const states: TensorState[] = [];
  const names: string[] = [];
  const newId = (name: string): number => {
    const id = states.length;
    ids.set(name, id);
    names.push(name);
    states.push(undefined as unknown as TensorState);
    return id;
  };
  const idOf = (name: string): number => ids.get(name) ?? newId(name);
  const setState = (name: string, t: TensorState): number => {
    const id = idOf(name);
    states[id] = t;
    return id;
  };
  const tensors: TensorLookup = {
    get(name) {
      const id = ids.get(name);
      return id === undefined ? undefined : states[id];
    },
  };
  const notes: string[] = [];
  const fileTensors: Tensor[] = [];
  // The map's names are distinct and the ids still empty: each takes the next id, no lookup first.
  g.tensors.forEach((t, name) => {
    states[newId(name)] = initialState(t);
    fileTensors.push(t);
  });

  for (const name of Object.keys(bind.inputs ?? {})) {
    if (!g.inputs.includes(name)) {
      throw new ConvscopeError(`--input names '${name}', but the model's inputs are ${g.inputs.map((i) => `'${i}'`).join(", ")}`);
    }
  }
  const bound = new Map<string, number>();
  for (const name of g.inputs) {
    const t = tensors.get(name) ?? { name, dtype: "float32" as const, constant: false };
    let shape: Shape | undefined = bind.inputs?.[name] ?? t.shape;
    if (bind.inputs?.[name]) shape = fileOrder(g, name, bind.inputs[name], t.shape, notes);
    if (shape && bind.batch !== undefined && !bind.inputs?.[name] && shape.length > 0) shape = [bind.batch, ...shape.slice(1)];
    if (shape && typeof shape[0] === "string" && shape.length > 1) {
      notes.push(`input '${name}': batch dim '${shape[0]}' was not bound; using 1 (set it with --input or --batch)`);
      shape = [1, ...shape.slice(1)];
    }
    if (shape) {
      for (const d of shape) {
        if (typeof d === "number" && (!Number.isSafeInteger(d) || d <= 0)) {
          throw new ConvscopeError(`input '${name}' has an invalid dimension ${d}`);
        }
      }
    }
    // A symbol bound here (N → 1) is bound wherever the file declares it (value_info, Keras 3 shapes).
    t.shape?.forEach((d, i) => {
      if (typeof d === "string" && typeof shape?.[i] === "number") bound.set(d, shape[i] as number);
    });
    setState(name, { ...t, shape, constant: false });
  }
  const declared = (tensor: string): Shape | undefined =>
    g.tensors.get(tensor)?.shape?.map((d) => (typeof d === "string" ? (bound.get(d) ?? d) : d));
  // For `check`: the file's tensors a node may read before any node made them (inputs,
  // stored constants: topoOrder's "available"); a declared one becomes usable once made.
  const fileCount = states.length;
  const usable = new Uint8Array(check ? fileCount : 0);
  if (check) {
    for (let id = 0; id < fileCount; id++) {
      const t = id < fileTensors.length ? fileTensors[id] : undefined;
      usable[id] = t === undefined || t.initializer !== undefined || t.value !== undefined ? 1 : 0;
    }
    for (const name of g.inputs) usable[ids.get(name) as number] = 1;
  }

  const symbols = new Set<string>();
  const shapes = new SharedLists();
  const layers: LayerState[] = [];
  const steps = new StepsBuilder();
  // If layers whose condition is known: their untaken branch is not analysed.
  const skipped = new Map<string, string>();
  const opset = g.opset ?? 13;
  let nextStored = 0;
  let regions = false;
  for (const node of order) {
    if (node.region) {
      regions = true;
      if (!taken(node, tensors, skipped)) continue;
    }
    const rule = ruleFor(node.op);
    const ins: number[] = new Array(node.inputs.length);
    const inputs: (TensorState | undefined)[] = new Array(ins.length);
    for (let k = 0; k < ins.length; k++) {
      const n = node.inputs[k];
      // Before the name map (whose lookups miss the cache on a large graph): the two usual
      // answers, the last tensor made (a chain's previous layer) and the stored tensor after
      // the last one read (weights are mostly stored in the order the layers use them).
      let id: number;
      if (n === "") id = -1;
      else if (names[names.length - 1] === n) id = names.length - 1;
      else if (names[nextStored] === n) id = nextStored++;
      else {
        id = ids.get(n) ?? -1;
        if (id >= 0 && id < fileCount) nextStored = id + 1;
      }
      // Checking: a tensor no node before this one made, and not an input or a constant.
      if (check && n !== "" && (id < 0 || (id < fileCount && !usable[id]))) return undefined;
      ins[k] = id;
      inputs[k] = id < 0 ? undefined : states[id];
    }
    // `memo` in the literal: a rule's memo added later would move the context's properties out of line.
    const ctx: RuleContext = { node, inputs, outputs: [], attrs: new Attrs(node), opset, memo: undefined };
    if (rule?.weightShape) sizeWeights(rule, ctx, ins, states, fileTensors);
    // Outputs of a node whose inputs are all constants are constants (a Constant node has none).
    let folded = inputs.length > 0 || node.op === "Constant";
    for (let k = 0; k < inputs.length; k++) if (inputs[k]?.constant === false) folded = false;
    if (!rule) {
      // Unknown op: its outputs keep whatever shape the file declares, and nothing is guessed.
      ctx.outputs = node.outputs.map((o) => ({ dtype: g.tensors.get(o)?.dtype ?? "unknown", shape: declared(o) }));
    } else {
      ctx.outputs = rule.infer(ctx);
      let named = 0;
      for (let k = 0; k < node.outputs.length; k++) if (node.outputs[k] !== "") named++;
      if (ctx.outputs.length < named) {
        throw new ConvscopeError(`has ${node.outputs.length} outputs, the ${node.op} rule gives ${ctx.outputs.length}`, {
          layer: node.name,
        });
      }
    }
    const outs: number[] = new Array(node.outputs.length);
    for (let i = 0; i < outs.length; i++) {
      const name = node.outputs[i];
      if (name === "") {
        outs[i] = -1;
        continue;
      }
      let id = ids.get(name);
      if (check && id !== undefined) {
        // Checking: made twice, or also an input or a stored constant (topoOrder decides).
        if (id >= fileCount || usable[id]) return undefined;
        usable[id] = 1;
      }
      const out = ctx.outputs[i];
      // A shape the rule could not infer may still be declared in the file (value_info).
      // Equal shapes are one shared list: a stage's tensors all have the same.
      let shape = out.shape ?? declared(name);
      if (shape) {
        checkDims(node, name, shape);
        shape = shapes.of(shape as Dim[]);
      }
      out.shape = shape;
      if (shape)
        for (let k = 0; k < shape.length; k++)
          if (typeof shape[k] === "string") for (const sym of symbolsOf(shape[k] as string)) symbols.add(sym);
      id ??= newId(name);
      const state: TensorState = { name, dtype: out.dtype, shape, value: out.value, constant: folded && rule !== undefined };
      states[id] = state;
      // The state stands for the rule's output from here on (it holds the same dtype, shape
      // and value): one object per output kept for the analysis, not two.
      ctx.outputs[i] = state;
      outs[i] = id;
    }
    const layer: LayerState = {
      node,
      index: layers.length,
      ins,
      outs,
      rule,
      ctx,
      status: rule ? "ok" : "unknown",
      folded: folded && rule !== undefined,
    };
    layers.push(layer);
    steps.add(layer);
  }
  for (const [node, branch] of skipped) {
    notes.push(`If '${node}': its condition is known, so its ${branch} branch is not taken and not analysed`);
  }
  return { order: layers, tensors, ids, states, names, fileTensors, steps: steps.done(), regions, symbols, notes };
}

/**
 * A weight the file never sized (no bytes stored, a symbolic dim, e.g. a Caffe
 * InnerProduct's K after layers whose output size depended on an unbound input) takes the
 * size its rule derives from the data input, now that the input is bound. The state and the
 * analysis' own copy of the file tensor change; the graph does not.
 */
function sizeWeights(rule: OpRule, ctx: RuleContext, ins: number[], states: TensorState[], fileTensors: Tensor[]): void {
  ctx.inputs.forEach((t, i) => {
    const id = ins[i];
    const stored = id >= 0 && id < fileTensors.length ? fileTensors[id] : undefined;
    if (!t?.constant || !t.shape || !stored || stored.initializer?.location !== "absent") return;
    if (t.shape.every((d) => typeof d === "number")) return;
    const want = rule.weightShape?.(ctx, i);
    if (!want || want.length !== t.shape.length) return;
    const shape = t.shape.map((d, j) => (typeof d === "number" ? d : want[j]));
    if (shape.some((d) => typeof d !== "number")) return;
    const sized = { ...t, shape };
    states[id] = sized;
    ctx.inputs[i] = sized;
    fileTensors[id] = { ...stored, shape };
  });
}

/**
 * False for a node in the branch of an If whose condition is known and selects the other
 * branch (it is recorded in `skipped`, If → untaken branch). Conditions are read before the
 * branch (analysis/order.ts orders them so).
 */
function taken(node: Node, tensors: TensorLookup, skipped: Map<string, string>): boolean {
  for (const r of node.region ?? []) {
    if (r.kind !== "branch") continue;
    const c = tensors.get(r.cond)?.value?.[0];
    if (c !== undefined && !!c !== r.when) {
      skipped.set(r.node, r.branch);
      return false;
    }
  }
  return true;
}

/** Inputs a file declares channels-last (see Graph.channelsLastInputs). */
function channelsLast(g: Graph, name: string): boolean {
  if (g.channelsLastInputs) return g.channelsLastInputs.includes(name);
  return g.format === "keras" && !g.notes.some((n) => n.includes("layers are channels_first"));
}

/**
 * An --input shape for a channels-last input may be given in the file's own order
 * (1x64x64x3) or channels-first (1x3x64x64), as every shape is shown: the order that fits
 * the declared dims is taken (channels-first when both or neither fit), and a note says which.
 */
function fileOrder(g: Graph, name: string, given: Shape, declared: Shape | undefined, notes: string[]): Shape {
  if (given.length < 3 || !channelsLast(g, name)) return given;
  const fits = (s: Shape) =>
    !declared ||
    (declared.length === s.length && declared.every((d, i) => typeof d !== "number" || typeof s[i] !== "number" || d === s[i]));
  const permuted: Shape = [given[0], given[given.length - 1], ...given.slice(1, -1)];
  const text = given.join("×");
  if (!fits(given) && fits(permuted)) {
    notes.push(`--input '${name}' ${text} read in the file's channels-last order (N, spatial…, C): ${permuted.join("×")} channels-first`);
    return permuted;
  }
  notes.push(
    `--input '${name}' ${text} read channels-first (N, C, spatial…), the order shapes are shown in; the file's own channels-last order is accepted too`,
  );
  return given;
}

function checkDims(node: Node, tensor: string, shape: Shape): void {
  // Indexed: a for…of makes an iterator and a result object per step until the code is optimised.
  for (let k = 0; k < shape.length; k++) {
    const d = shape[k];
    if (typeof d !== "number") continue;
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new ConvscopeError(`output '${tensor}' would have dimension ${d}`, { layer: node.name });
    }
    if (d === 0) throw new ConvscopeError(`output '${tensor}' would be empty (a dimension is 0)`, { layer: node.name });
  }
}

/** State of a file tensor; small stored constants decode lazily, only if a rule reads `.value`. */
function initialState(t: Tensor): TensorState {
  const s: TensorState = { name: t.name, dtype: t.dtype, shape: t.shape, constant: !!t.initializer || !!t.value };
  if (t.value) s.value = t.value;
  else if (t.initializer?.read && t.shape) {
    const n = numel(t.shape);
    const init = t.initializer as Required<Pick<Initializer, "read">>;
    if (n !== null && n <= MAX_VALUE_ELEMENTS && !isFloatWeight(t, n)) {
      let cached: readonly number[] | undefined;
      // Called on the initializer (a reader's may be a method).
      Object.defineProperty(s, "value", { get: () => (cached ??= init.read()), enumerable: true });
    }
  }
  return s;
}

/** Float tensors of more than a few elements are weights, not shape constants. */
function isFloatWeight(t: Tensor, n: number): boolean {
  return isFloat(t.dtype) && n > 16;
}

export type { Dim };
