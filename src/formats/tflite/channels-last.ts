import type { DType } from "../../core/dtype.js";
import { ConvscopeError } from "../../core/errors.js";
import type { AttrValue, Graph, Initializer, Node } from "../../core/graph.js";
import type { Dim, Shape } from "../../core/shape.js";
import { nhwcAxis, nhwcToNchw } from "../layout.js";

/**
 * Building a channels-first IR graph from a channels-last file (TFLite, TensorFlow.js).
 *
 * Every tensor of rank ≥ 3 whose rank is known is stored in the IR as its channels-first
 * permutation (`first`), so op rules only see N, C, spatial…. A tensor whose rank the
 * reader cannot tell (TF.js graphs declare few shapes) stays in the file's order (`last`),
 * and a Transpose is inserted only where an op needs the other order — never a guess.
 * Constants keep the file's shape until a consumer claims the IR shape it needs (a conv
 * weight [O, kh, kw, I] becomes [O, I, kh, kw], a per-channel bias becomes [1, C, 1, 1]);
 * a second, different claim gets a folded Reshape view, so the stored tensor is counted once.
 */

/** A tensor as the reader sees it. */
export interface Val {
  /** IR tensor name. */
  name: string;
  /** Rank in the file's (channels-last) terms; undefined when unknown. */
  rank?: number;
  /** The IR tensor holds the channels-first permutation (rank ≥ 3 only). */
  first: boolean;
  /** For stored constants: the shape in the file, before any claim. */
  constShape?: number[];
  /** Element values known at read time (small integer constants). */
  values?: number[];
  /**
   * The file's own tensor is channels-first (an NCHW input, the output of an NCHW op, a
   * Transpose to NCHW): held in file order and shown as the file has it.
   */
  fileFirst?: boolean;
  /** Length of a 1-d vector when known (shape arithmetic: Shape, Pack, ConcatV2). */
  len?: number;
  /**
   * Size of the file's last axis (the channels of an NHWC tensor) when the reader can tell:
   * a TF Conv2D's group is input channels ÷ the filter's in-channels, and the IR needs it.
   */
  channels?: number;
}

/** Size of the file's last axis: tracked channels, or a stored constant's last dim. */
export function lastDim(v: Val): number | undefined {
  return v.channels ?? v.constShape?.at(-1);
}

/** ir axis i = file axis perm[i]: [0, r−1, 1, …, r−2] for rank ≥ 3, identity below. */
export function firstPerm(rank: number): number[] {
  const ids = [...Array(rank).keys()];
  return rank < 3 ? ids : [0, rank - 1, ...ids.slice(1, -1)];
}

/** Inverse of firstPerm: file axis i = ir axis perm[i]. */
export function lastPerm(rank: number): number[] {
  const q = firstPerm(rank);
  const inv = new Array<number>(rank);
  q.forEach((a, i) => {
    inv[a] = i;
  });
  return inv;
}

export class ChannelsLastGraph {
  readonly graph: Graph;
  private readonly used = new Set<string>();
  private readonly claims = new Map<string, string>();
  private readonly views = new Map<string, string>();

  constructor(name: string, format: string) {
    this.graph = { name, format, opset: 18, inputs: [], outputs: [], nodes: [], tensors: new Map(), notes: [] };
    this.graph.notes.push(`${format} is channels-last (NHWC); shapes are shown channels-first (NCHW) like every format`);
  }

  /** A fresh name starting with `base`. */
  unique(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name) || this.graph.tensors.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Declares a non-constant tensor from its file (channels-last) shape, stored channels-first when the rank allows. */
  declare(name: string, dtype: DType, shape?: Shape, rank = shape?.length, channelsFirst = rank !== undefined && rank >= 3): Val {
    const first = channelsFirst && rank !== undefined && rank >= 3;
    this.used.add(name);
    this.graph.tensors.set(name, { name, dtype, ...(shape ? { shape: first ? nhwcToNchw(shape) : [...shape] } : {}) });
    const c = shape?.at(-1);
    return { name, rank, first, ...(typeof c === "number" && c >= 0 ? { channels: c } : {}) };
  }

  /** Declares a stored constant; its IR shape is fixed by the first consumer that claims it. */
  constant(name: string, dtype: DType, shape: number[], init: Initializer, values?: number[]): Val {
    this.used.add(name);
    this.graph.tensors.set(name, { name, dtype, shape: [...shape], initializer: init, ...(values ? { value: values } : {}) });
    return { name, rank: shape.length, first: false, constShape: [...shape], ...(values ? { values } : {}) };
  }

  /** A small int64 constant made by the reader (shape targets, axes, pads). */
  ints(base: string, values: readonly number[]): string {
    const name = this.unique(base);
    this.graph.tensors.set(name, { name, dtype: "int64", shape: [values.length], value: [...values] });
    return name;
  }

  /** A float scalar constant made by the reader (clip bounds). */
  scalar(base: string, value: number): string {
    const name = this.unique(base);
    this.graph.tensors.set(name, { name, dtype: "float32", shape: [], value: [value] });
    return name;
  }

  node(op: string, name: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}, source?: string): Node {
    const n: Node = { name, op, inputs, outputs, attrs, ...(source && source !== op ? { source } : {}) };
    this.graph.nodes.push(n);
    return n;
  }

  /** One-output node whose output is a new tensor named after the node. */
  op(op: string, name: string, inputs: string[], attrs: Record<string, AttrValue> = {}, source?: string, out?: string): string {
    const o = out ?? this.unique(name);
    this.node(op, name, inputs, [o], attrs, source);
    return o;
  }

  /**
   * The IR name of a constant given the IR shape a consumer needs. The first claim sets the
   * stored tensor's shape; a different later claim reads it through a folded Reshape.
   */
  claim(v: Val, irShape: readonly number[]): string {
    const key = irShape.join(",");
    const prev = this.claims.get(v.name);
    if (prev === undefined) {
      this.claims.set(v.name, key);
      const t = this.graph.tensors.get(v.name);
      if (t) t.shape = [...irShape];
      return v.name;
    }
    if (prev === key) return v.name;
    const viewKey = `${v.name}\u0000${key}`;
    const seen = this.views.get(viewKey);
    if (seen) return seen;
    const out = this.op("Reshape", this.unique(`${v.name}/view`), [v.name, this.ints(`${v.name}/view_shape`, irShape)]);
    this.views.set(viewKey, out);
    return out;
  }

  /** The IR name of `v` in channels-first order (inserting a Transpose when stored channels-last). */
  toFirst(v: Val, rankHint?: number): string {
    if (v.constShape) return this.claim(v, v.constShape.length >= 3 ? (nhwcToNchw(v.constShape) as number[]) : v.constShape);
    const rank = v.rank ?? rankHint;
    if (v.first || rank === undefined || rank < 3) return v.name;
    const out = this.unique(`${v.name}/to_nchw`);
    return this.op("Transpose", out, [v.name], { perm: firstPerm(rank) }, undefined, out);
  }

  /** The IR name of `v` in the file's channels-last order. */
  toLast(v: Val): string {
    if (v.constShape) return this.claim(v, v.constShape);
    if (!v.first || v.rank === undefined) return v.name;
    const out = this.unique(`${v.name}/to_nhwc`);
    return this.op("Transpose", out, [v.name], { perm: lastPerm(v.rank) }, undefined, out);
  }

  /**
   * An operand of a batched matmul (BatchMatMul, TF.js and TFLite) in the file's order, the
   * last two axes being the matrix: transposed, as a layer named `name`, when its adj_x /
   * adj_y flag is set and its rank is known.
   */
  matrix(v: Val, adjoint: boolean, name: string): string {
    const n = this.toLast(v);
    const rank = v.rank ?? v.constShape?.length;
    if (!adjoint || rank === undefined) return n;
    const perm = [...Array(rank).keys()];
    [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
    return this.op("Transpose", this.unique(name), [n], { perm });
  }

  /** A result in channels-first order when its rank allows, named `name`. */
  out(name: string, rank?: number, first = rank !== undefined && rank >= 3): Val {
    this.used.add(name);
    return { name, rank, first: first && rank !== undefined && rank >= 3 };
  }

  /** The file axis `axis` of a tensor as its IR axis. */
  axis(v: Val, axis: number): number {
    if (!v.first || v.rank === undefined) return axis;
    return nhwcAxis(axis, v.rank);
  }

  /** Operands of an element-wise op with numpy broadcasting, in one consistent order, and the result's layout. */
  broadcast(vals: Val[]): { names: string[]; rank?: number; first: boolean } {
    const ranks = vals.map((v) => v.rank);
    if (ranks.some((r) => r === undefined)) return { names: vals.map((v) => this.toLast(v)), first: false };
    const rank = Math.max(...(ranks as number[]));
    if (rank < 3) return { names: vals.map((v) => this.toLast(v)), rank, first: false };
    const names = vals.map((v) => {
      const r = v.rank as number;
      if (r === rank) return this.toFirst(v);
      if (v.constShape) {
        const padded = [...new Array(rank - r).fill(1), ...v.constShape];
        return this.claim(v, nhwcToNchw(padded) as number[]);
      }
      // Lower-rank computed operand: align its axes to the file's trailing axes, then permute.
      const last = this.toLast(v);
      const lead = this.ints(`${v.name}/lead_axes`, [...Array(rank - r).keys()]);
      const up = this.op("Unsqueeze", this.unique(`${v.name}/expand`), [last, lead]);
      return this.op("Transpose", this.unique(`${v.name}/expand_nchw`), [up], { perm: firstPerm(rank) });
    });
    return { names, rank, first: true };
  }

  /**
   * After an op that removes file axes `removed` (Squeeze, reduction without keep_dims) from a
   * tensor stored as `v`: the IR axes to remove and, when the survivors' IR order is not the
   * output's, the Transpose perm that fixes it.
   */
  dropAxes(v: Val, removed: number[]): { irAxes: number[]; fix?: number[]; rank?: number } {
    if (v.rank === undefined) return { irAxes: removed };
    const r = v.rank;
    const gone = new Set(removed.map((a) => (a < 0 ? a + r : a)));
    const order = v.first ? firstPerm(r) : [...Array(r).keys()];
    const irAxes = order.flatMap((a, i) => (gone.has(a) ? [i] : []));
    const kept = order.filter((a) => !gone.has(a));
    const survivors = [...Array(r).keys()].filter((a) => !gone.has(a));
    const want = firstPerm(survivors.length).map((i) => survivors[i]);
    const fix = want.every((a, i) => a === kept[i]) ? undefined : want.map((a) => kept.indexOf(a));
    return { irAxes, fix, rank: survivors.length };
  }

  /** Like dropAxes for inserted axes (`axes` are positions in the output, as ExpandDims and Unsqueeze give them). */
  addAxes(v: Val, axes: number[]): { irAxes: number[]; fix?: number[]; rank?: number } {
    if (v.rank === undefined) return { irAxes: axes };
    const r = v.rank;
    const outRank = r + axes.length;
    const newAt = new Set(axes.map((a) => (a < 0 ? a + outRank : a)));
    // Labels: old axes 0..r−1 in file order, new axes r, r+1, … at their positions.
    const labels: number[] = [];
    let old = 0;
    let fresh = r;
    for (let i = 0; i < outRank; i++) labels.push(newAt.has(i) ? fresh++ : old++);
    const want = firstPerm(outRank).map((i) => labels[i]);
    const irOrder = v.first ? firstPerm(r) : [...Array(r).keys()];
    // Unsqueeze at the positions the new axes take in the wanted order; old axes keep the IR order.
    const irAxes = want.flatMap((l, i) => (l >= r ? [i] : []));
    const produced: number[] = [];
    let k = 0;
    for (let i = 0; i < outRank; i++) produced.push(want[i] >= r ? want[i] : irOrder[k++]);
    const fix = want.every((a, i) => a === produced[i]) ? undefined : want.map((a) => produced.indexOf(a));
    return { irAxes, fix, rank: outRank };
  }

  /** Applies a `fix` perm from dropAxes/addAxes. */
  fixOrder(name: string, fix: number[] | undefined, out: string): string {
    if (!fix) return name;
    this.op("Transpose", `${out}/to_nchw`, [name], { perm: fix }, undefined, out);
    return out;
  }

  /** Declared dims of a file shape, with −1 as a symbol. */
  static dims(shape: readonly number[], symbol: (i: number) => string): Dim[] {
    return shape.map((d, i) => (d < 0 ? symbol(i) : d));
  }

  /** Throws the reader's one-line error. */
  static fail(message: string, layer?: string): never {
    throw new ConvscopeError(message, { layer });
  }
}
