import type { DType } from "../../core/dtype.js";
import type { AttrValue, Graph, ModuleFrame, Node, Tensor } from "../../core/graph.js";
import type { Shape } from "../../core/shape.js";
import { type Argument, bad, type Pt2Node, shapeOf, type TensorMeta } from "./schema.js";

/**
 * Builds the IR graph from an ExportedProgram's nodes: one aten call becomes one canonical
 * node (or a few, for linear on more than two dims and attention), named by the module path
 * it was written in. Every node carries `meta["pt2.target"]` (the aten op) and the module
 * stack; nodes made besides the principal one carry `meta["pt2.part"]` so that conventions
 * count an aten call once.
 */
export class Emitter {
  readonly graph: Graph;
  /** Graph names (arguments) → IR tensor names (parameters go by their state_dict name). */
  private readonly alias = new Map<string, string>();
  private readonly taken = new Set<string>();
  private literals = 0;
  /** Symbolic ints made by `aten.sym_size.int(tensor, dim)`: which tensor's which size they are. */
  readonly symSizes = new Map<string, { tensor: string; dim: number }>();

  constructor(
    name: string,
    private readonly values: Record<string, TensorMeta>,
  ) {
    this.graph = { name, format: "pt2", opset: 17, inputs: [], outputs: [], nodes: [], tensors: new Map(), notes: [] };
  }

  setAlias(from: string, to: string): void {
    this.alias.set(from, to);
  }

  /** The IR name of a graph tensor. */
  ref(name: string): string {
    return this.alias.get(name) ?? name;
  }

  meta(name: string): TensorMeta | undefined {
    return this.values[name];
  }

  shape(name: string): Shape | undefined {
    return shapeOf(this.values[name]);
  }

  rank(name: string, layer: string): number {
    const m = this.values[name];
    if (!m) bad(`tensor '${name}' has no sizes in tensor_values`, layer);
    return m.sizes.length;
  }

  declare(t: Tensor): void {
    this.graph.tensors.set(t.name, t);
  }

  /** A small constant the reader writes itself (axes, shapes, scalars): a value, never a parameter. */
  literal(values: readonly number[], dtype: DType = "int64", shape: Shape = [values.length]): string {
    const name = `__pt2_const_${this.literals++}`;
    this.declare({ name, dtype, shape, value: values });
    return name;
  }

  uniqueName(base: string): string {
    let name = base;
    for (let k = 1; this.taken.has(name); k++) name = `${base}_${k}`;
    this.taken.add(name);
    return name;
  }

  node(op: string, name: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue>, from: Origin, part?: string): Node {
    const meta: Record<string, string> = { ...from.meta };
    if (part) meta["pt2.part"] = part;
    const n: Node = { name, op, inputs, outputs, attrs, meta };
    if (from.module.length) n.module = from.module;
    if (from.target !== op) n.source = from.target;
    this.graph.nodes.push(n);
    return n;
  }
}

/** Where an IR node came from: the aten target, the module stack, the file's metadata. */
export interface Origin {
  target: string;
  module: ModuleFrame[];
  meta: Record<string, string>;
}

/** Named arguments of one aten call with typed access and one-line errors. */
export class Args {
  private readonly byName = new Map<string, Argument>();
  constructor(
    readonly node: Pt2Node,
    readonly layer: string,
    private readonly em: Emitter,
  ) {
    for (const a of node.inputs) this.byName.set(a.name, a.arg);
  }

  has(name: string): boolean {
    const a = this.byName.get(name);
    return a !== undefined && !("as_none" in a);
  }

  tensor(name: string): string {
    const a = this.byName.get(name);
    const t = a?.as_tensor as { name?: string } | undefined;
    if (!t?.name) bad(`argument '${name}' is not a tensor`, this.layer);
    return this.em.ref(t.name);
  }

  /** The graph (not IR) name of a tensor argument, for its tensor_values entry. */
  tensorKey(name: string): string {
    const t = this.byName.get(name)?.as_tensor as { name?: string } | undefined;
    if (!t?.name) bad(`argument '${name}' is not a tensor`, this.layer);
    return t.name;
  }

  optTensor(name: string): string {
    return this.has(name) ? this.tensor(name) : "";
  }

  tensors(name: string): string[] {
    const a = this.byName.get(name);
    const ts = a?.as_tensors as { name: string }[] | undefined;
    if (!Array.isArray(ts)) bad(`argument '${name}' is not a tensor list`, this.layer);
    return ts.map((t) => this.em.ref(t.name));
  }

  int(name: string, def?: number): number {
    const a = this.byName.get(name);
    if (a === undefined || "as_none" in a) {
      if (def === undefined) bad(`missing argument '${name}'`, this.layer);
      return def;
    }
    const v =
      a.as_int ?? (a.as_sym_int as { as_int?: number } | undefined)?.as_int ?? (a.as_bool === undefined ? undefined : a.as_bool ? 1 : 0);
    if (typeof v !== "number") bad(`argument '${name}' is not an integer`, this.layer);
    return clampInt(v);
  }

  /** An int list; symbolic elements (`as_sym_ints` naming a symbol) come back as null. */
  ints(name: string, def?: number[]): (number | null)[] {
    const a = this.byName.get(name);
    if (a === undefined || "as_none" in a) {
      if (def === undefined) bad(`missing argument '${name}'`, this.layer);
      return def;
    }
    if (Array.isArray(a.as_ints)) return (a.as_ints as number[]).map(clampInt);
    if (typeof a.as_int === "number") return [clampInt(a.as_int)];
    if (Array.isArray(a.as_sym_ints)) {
      return (a.as_sym_ints as { as_int?: number }[]).map((s) => (typeof s.as_int === "number" ? clampInt(s.as_int) : null));
    }
    bad(`argument '${name}' is not an integer list`, this.layer);
  }

  /** The names of the symbolic elements of an int list (`as_sym_ints` entries `{as_name}`), by position. */
  symNames(name: string): (string | undefined)[] {
    const a = this.byName.get(name);
    const list = a?.as_sym_ints as { as_name?: string }[] | undefined;
    return Array.isArray(list) ? list.map((s) => s.as_name) : [];
  }

  knownInts(name: string, def?: number[]): number[] {
    const v = this.ints(name, def);
    if (v.some((x) => x === null)) bad(`argument '${name}' has symbolic sizes, which this op does not support`, this.layer);
    return v as number[];
  }

  float(name: string, def?: number): number {
    const a = this.byName.get(name);
    if (a === undefined || "as_none" in a) {
      if (def === undefined) bad(`missing argument '${name}'`, this.layer);
      return def;
    }
    const v = a.as_float ?? a.as_int ?? (a.as_scalar as { as_float?: number; as_int?: number } | undefined)?.as_float;
    if (typeof v !== "number") bad(`argument '${name}' is not a number`, this.layer);
    return v;
  }

  optFloat(name: string): number | undefined {
    return this.has(name) ? this.float(name) : undefined;
  }

  floats(name: string): number[] | undefined {
    const a = this.byName.get(name);
    if (a === undefined || "as_none" in a) return undefined;
    if (Array.isArray(a.as_floats)) return a.as_floats as number[];
    return undefined;
  }

  bool(name: string, def: boolean): boolean {
    const a = this.byName.get(name);
    if (a === undefined || "as_none" in a) return def;
    if (typeof a.as_bool === "boolean") return a.as_bool;
    if (typeof a.as_int === "number") return a.as_int !== 0;
    bad(`argument '${name}' is not a boolean`, this.layer);
  }

  str(name: string, def?: string): string {
    const a = this.byName.get(name);
    if (a === undefined || "as_none" in a) {
      if (def === undefined) bad(`missing argument '${name}'`, this.layer);
      return def;
    }
    if (typeof a.as_string !== "string") bad(`argument '${name}' is not a string`, this.layer);
    return a.as_string;
  }

  /** A tensor or a number (Tensor and Scalar overloads of add, mul …): the number becomes a literal. */
  operand(name: string, dtype: DType): string {
    const a = this.byName.get(name);
    if (a && "as_tensor" in a) return this.tensor(name);
    return this.em.literal([this.float(name)], dtype, []);
  }

  /** The first input's graph name (for its sizes). */
  firstKey(): string {
    const t = this.node.inputs[0]?.arg?.as_tensor as { name?: string } | undefined;
    if (!t?.name) bad("first argument is not a tensor", this.layer);
    return t.name;
  }
}

/** aten's "to the end" (INT64_MAX) arrives as a double in JSON; keep it a safe integer. */
function clampInt(v: number): number {
  if (v > Number.MAX_SAFE_INTEGER) return Number.MAX_SAFE_INTEGER;
  if (v < Number.MIN_SAFE_INTEGER) return Number.MIN_SAFE_INTEGER;
  return v;
}
