import { add } from "../core/shape.js";
import { MinHeap } from "./order.js";
import type { LayerState } from "./shapes.js";

export interface PeakMemory {
  /** Largest sum of live activation bytes, or null when a size is unknown. */
  peak: number | null;
  /** The layer running at that moment. */
  layer?: string;
  /** Tensors live at the peak. */
  live: string[];
}

/**
 * Per-tensor facts by id (the numbering `inferShapes` gives in `ShapeResult.ids`): the
 * liveness walks and the ordering heuristic run on arrays, not on name lookups.
 */
export interface TensorTable {
  names: readonly string[];
  /** Bytes of each tensor, or null when unknown. */
  bytes: readonly (number | null)[];
  /** Stored constants (weights) are not activations. */
  constant: readonly boolean[];
}

/**
 * Each layer's tensors for the walks, in flat typed arrays (the walks run over every layer
 * several times; arrays of small arrays and the layer objects themselves cost more to reach
 * than the arithmetic): layer k — the k-th of the list the steps were made from — has its
 * distinct inputs, in order and without the omitted ones, at `ins[inAt[k]] … ins[inAt[k + 1] − 1]`,
 * its outputs likewise.
 */
export interface Steps {
  inAt: Int32Array;
  ins: Int32Array;
  outAt: Int32Array;
  outs: Int32Array;
  /** The layer's first input as written (−1 when it has none or it is omitted): the buffer an in-place op may take. */
  first: Int32Array;
  folded: Uint8Array;
  inPlace: Uint8Array;
}

/**
 * Makes Steps one layer at a time, as the layers are made: inferShapes adds each layer
 * while it has the layer's lists at hand. Made afterwards from the 100,000 layer objects of
 * a large graph, the same arrays cost 50–80 ms, the profile putting nearly all of it on the
 * first read of each layer's fields (likely cache misses: the layers are spread over the heap).
 */
export class StepsBuilder {
  private layers = 0;
  private inAt = new Int32Array(1024);
  private ins = new Int32Array(1024);
  private inCount = 0;
  private outAt = new Int32Array(1024);
  private outs = new Int32Array(1024);
  private outCount = 0;
  private first = new Int32Array(1024);
  private folded = new Uint8Array(1024);
  private inPlace = new Uint8Array(1024);

  add(l: Pick<LayerState, "ins" | "outs" | "folded" | "rule">): void {
    const { ins, outs } = l;
    const k = this.layers++;
    if (k + 1 >= this.first.length) this.growLayers();
    if (this.inCount + ins.length > this.ins.length) this.ins = grown(this.ins, this.inCount + ins.length);
    if (this.outCount + outs.length > this.outs.length) this.outs = grown(this.outs, this.outCount + outs.length);
    for (let j = 0; j < ins.length; j++) if (ins[j] >= 0 && ins.indexOf(ins[j]) === j) this.ins[this.inCount++] = ins[j];
    for (let j = 0; j < outs.length; j++) if (outs[j] >= 0) this.outs[this.outCount++] = outs[j];
    this.inAt[k + 1] = this.inCount;
    this.outAt[k + 1] = this.outCount;
    this.first[k] = ins.length > 0 ? ins[0] : -1;
    this.folded[k] = l.folded ? 1 : 0;
    this.inPlace[k] = l.rule?.inPlace ? 1 : 0;
  }

  done(): Steps {
    const m = this.layers;
    return {
      inAt: this.inAt.slice(0, m + 1),
      ins: this.ins.slice(0, this.inCount),
      outAt: this.outAt.slice(0, m + 1),
      outs: this.outs.slice(0, this.outCount),
      first: this.first.slice(0, m),
      folded: this.folded.slice(0, m),
      inPlace: this.inPlace.slice(0, m),
    };
  }

  private growLayers(): void {
    const size = this.layers + 1;
    this.inAt = grown(this.inAt, size);
    this.outAt = grown(this.outAt, size);
    this.first = grown(this.first, size);
    this.folded = grown(this.folded, size);
    this.inPlace = grown(this.inPlace, size);
  }
}

/** A copy of `a` with room for at least `size` items (twice as many). */
function grown<T extends Int32Array | Uint8Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(Math.max(2 * a.length, size));
  b.set(a);
  return b;
}

/** The steps of `layers`, layer k being layers[k]. */
export function stepsOf(layers: readonly LayerState[]): Steps {
  const steps = new StepsBuilder();
  for (let i = 0; i < layers.length; i++) steps.add(layers[i]);
  return steps.done();
}

/** Layers 0 … m − 1: the list the steps were made from, in its own order. */
function inOrder(m: number): Int32Array {
  const at = new Int32Array(m);
  for (let i = 0; i < m; i++) at[i] = i;
  return at;
}

/**
 * Peak live activation memory over an execution order: a layer's outputs are allocated
 * while its inputs are still live; a tensor is freed after its last consumer. An
 * in-place op (ReLU, BN, Add) writes into its first input when that input dies there and
 * has the same size. Constants (weights) are not activations and are counted apart. With
 * `countInputs` false the graph inputs are taken as owned by the caller and cost nothing.
 */
export function peakMemory(
  inputs: readonly number[],
  outputs: readonly number[],
  layers: readonly LayerState[],
  table: TensorTable,
  countInputs = true,
): PeakMemory {
  const walked = peakWalk(inputs, outputs, inOrder(layers.length), table, countInputs, stepsOf(layers));
  return liveAtPeak((k) => layers[k].node.name, table, walked);
}

/** The walk over an order (`at`: the layer of each step), ready to walk again to a step; its first run found the peak. */
interface PeakWalk {
  inputs: readonly number[];
  at: Int32Array;
  walk(stopAt: number): { peak: number | null; step: number; alive: Uint8Array };
  found: { peak: number | null; step: number };
}

/** The peak with the layer running then and the tensors live (listed by a second walk, to the peak's step). */
function liveAtPeak(nameOf: (k: number) => string, table: TensorTable, w: PeakWalk): PeakMemory {
  const { found } = w;
  if (found.peak === null) return { peak: null, live: [] };
  if (found.step < 0) return { peak: found.peak, live: w.inputs.map((t) => table.names[t]) };
  const stop = w.walk(found.step);
  const live: string[] = [];
  for (let t = 0; t < table.bytes.length; t++) if (stop.alive[t]) live.push(table.names[t]);
  return { peak: found.peak, layer: nameOf(w.at[found.step]), live };
}

/** peakMemory's walk over the layers `at` (by their index in `steps`), and its first run. */
function peakWalk(
  inputs: readonly number[],
  outputs: readonly number[],
  at: Int32Array,
  table: TensorTable,
  countInputs: boolean,
  steps: Steps,
): PeakWalk {
  const n = table.bytes.length;
  const keep = new Uint8Array(n);
  for (const t of outputs) keep[t] = 1;
  const { inAt, ins, outAt, outs, first, folded, inPlace } = steps;
  const lastUse = new Int32Array(n).fill(-1);
  for (let i = 0; i < at.length; i++) for (let j = inAt[at[i]]; j < inAt[at[i] + 1]; j++) lastUse[ins[j]] = i;
  const owned = new Uint8Array(n);
  if (!countInputs) for (const t of inputs) owned[t] = 1;
  // Sizes with the caller's inputs at 0; NaN for an unknown size.
  const size = new Float64Array(n);
  for (let t = 0; t < n; t++) size[t] = owned[t] ? 0 : (table.bytes[t] ?? Number.NaN);

  /**
   * One walk over the order. The first finds the peak and the step it happens at; the live
   * set is listed only by a second walk that stops there, so a graph whose live set grows
   * at every step (thousands of parallel branches) stays linear.
   */
  const walk = (stopAt: number): { peak: number | null; step: number; alive: Uint8Array } => {
    const live = new Float64Array(n);
    const alive = new Uint8Array(n);
    let current = 0;
    for (const t of inputs) {
      const b = size[t];
      if (Number.isNaN(b)) return { peak: null, step: -1, alive };
      if (!alive[t]) current = add(current, b);
      alive[t] = 1;
      live[t] = b;
    }
    let peak = current;
    let step = -1;
    for (let i = 0; i < at.length; i++) {
      const k = at[i];
      if (folded[k]) continue;
      let reused = -1;
      const f = first[k];
      for (let j = outAt[k]; j < outAt[k + 1]; j++) {
        const o = outs[j];
        if (table.constant[o]) continue;
        const b = size[o];
        if (Number.isNaN(b)) return { peak: null, step: -1, alive };
        if (inPlace[k] && reused < 0 && f >= 0 && alive[f] === 1 && lastUse[f] === i && !keep[f] && live[f] === b) {
          // The output takes over the input's buffer.
          reused = f;
          alive[f] = 0;
          alive[o] = 1;
          live[o] = b;
          continue;
        }
        alive[o] = 1;
        live[o] = b;
        current = add(current, b);
      }
      if (current > peak) {
        peak = current;
        step = i;
      }
      if (i === stopAt) break;
      for (let j = inAt[k]; j < inAt[k + 1]; j++) {
        const t = ins[j];
        if (t === reused || alive[t] !== 1 || lastUse[t] !== i || keep[t]) continue;
        current -= live[t];
        alive[t] = 0;
      }
      // Outputs nobody reads (and that are not graph outputs) die at once.
      for (let j = outAt[k]; j < outAt[k + 1]; j++) {
        const o = outs[j];
        if (alive[o] && lastUse[o] < 0 && !keep[o]) {
          current -= live[o];
          alive[o] = 0;
        }
      }
    }
    return { peak, step, alive };
  };

  return { inputs, at, walk, found: walk(-1) };
}

/** How many ready layers the greedy order compares at each step: bounds the work to O(n·W·log n). */
const WINDOW = 16;

/**
 * A memory-minimising execution order (a heuristic: the exact problem is NP-hard). Greedy
 * over the ready layers: run the one that allocates least net of what it frees (its
 * outputs, less an in-place reuse, minus the inputs it is the last consumer of), ties to
 * the file's order. Only the WINDOW earliest ready layers are compared at each step, so
 * a 100,000-node graph orders in well under a second. Returns null when a size is unknown.
 */
export function minMemoryOrder(layers: readonly LayerState[], outputs: readonly number[], table: TensorTable): LayerState[] | null {
  const order = memoryOrder(outputs, table, stepsOf(layers));
  return order && Array.from(order, (k) => layers[k]);
}

/** minMemoryOrder on steps: the layers (by their index in `steps`) in the order found. */
function memoryOrder(outputs: readonly number[], table: TensorTable, steps: Steps): Int32Array | null {
  const n = table.bytes.length;
  const keep = new Uint8Array(n);
  for (const t of outputs) keep[t] = 1;
  const { inAt, ins, outAt, outs, folded } = steps;
  const m = folded.length;
  // Who produces each activation, and each layer's activation inputs (folded layers read
  // and make only constants) as a flat list.
  const producer = new Int32Array(n).fill(-1);
  const outBytes = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    if (folded[k]) continue;
    let b = 0;
    for (let j = outAt[k]; j < outAt[k + 1]; j++) {
      const o = outs[j];
      if (table.constant[o]) continue;
      producer[o] = k;
      const size = table.bytes[o];
      if (size === null) return null;
      b += size;
    }
    outBytes[k] = b;
  }
  const remaining = new Int32Array(n);
  const indegree = new Int32Array(m);
  // Consumers of step p, flat: consumers[consumerAt[p] … consumerAt[p + 1] − 1] (counted first, then placed).
  const consumerAt = new Int32Array(m + 1);
  for (let k = 0; k < m; k++) {
    if (folded[k]) continue;
    for (let j = inAt[k]; j < inAt[k + 1]; j++) {
      const t = ins[j];
      if (table.constant[t]) continue;
      remaining[t]++;
      const p = producer[t];
      if (p >= 0) {
        indegree[k]++;
        consumerAt[p + 1]++;
      }
    }
  }
  for (let i = 0; i < m; i++) consumerAt[i + 1] += consumerAt[i];
  const consumers = new Int32Array(consumerAt[m]);
  const fill = consumerAt.slice(0, m);
  for (let k = 0; k < m; k++) {
    if (folded[k]) continue;
    for (let j = inAt[k]; j < inAt[k + 1]; j++) {
      const t = ins[j];
      const p = table.constant[t] ? -1 : producer[t];
      if (p >= 0) consumers[fill[p]++] = k;
    }
  }
  const score = (k: number): number => {
    let freed = 0;
    for (let j = inAt[k]; j < inAt[k + 1]; j++) {
      const t = ins[j];
      if (!table.constant[t] && remaining[t] === 1 && !keep[t]) freed += table.bytes[t] ?? 0;
    }
    // An in-place op allocates nothing but keeps its input's buffer: the same net figure.
    return outBytes[k] - freed;
  };

  // Folded layers first, in their order (they need no activation memory), then the greedy ones.
  const order = new Int32Array(m);
  let placed = 0;
  for (let k = 0; k < m; k++) if (folded[k]) order[placed++] = k;
  const ready = new MinHeap();
  for (let i = 0; i < m; i++) if (indegree[i] === 0 && !folded[i]) ready.push(i);
  // The layers compared at a step; `count` of them (setting an array's length is a slow builtin call, once a step).
  const picked = new Int32Array(WINDOW);
  while (ready.size > 0) {
    let count = 0;
    while (count < WINDOW && ready.size > 0) picked[count++] = ready.pop();
    let best = picked[0];
    let bestScore = score(best);
    for (let q = 1; q < count; q++) {
      const sc = score(picked[q]);
      if (sc < bestScore) {
        best = picked[q];
        bestScore = sc;
      }
    }
    for (let q = 0; q < count; q++) if (picked[q] !== best) ready.push(picked[q]);
    order[placed++] = best;
    for (let j = inAt[best]; j < inAt[best + 1]; j++) if (!table.constant[ins[j]]) remaining[ins[j]]--;
    for (let j = consumerAt[best]; j < consumerAt[best + 1]; j++) if (--indegree[consumers[j]] === 0) ready.push(consumers[j]);
  }
  return order.subarray(0, placed);
}

/**
 * Whether the layers (folded ones aside: they hold no activation memory and the walks skip
 * them) can run in their given order only: each reads an output of the one before it. Then
 * the greedy order has one ready layer at every step and is that order, with the same peak.
 */
export function onlyOrder(steps: Steps): boolean {
  const { inAt, ins, outAt, outs, folded } = steps;
  let prev = -1;
  for (let k = 0; k < folded.length; k++) {
    if (folded[k]) continue;
    if (prev >= 0 && !readsFrom(ins, inAt[k], inAt[k + 1], outs, outAt[prev], outAt[prev + 1])) return false;
    prev = k;
  }
  return true;
}

/** Whether any of ins[a, b) is among outs[c, d). */
function readsFrom(ins: Int32Array, a: number, b: number, outs: Int32Array, c: number, d: number): boolean {
  for (let i = a; i < b; i++) for (let j = c; j < d; j++) if (ins[i] === outs[j]) return true;
  return false;
}

/** Memory figures for inference, whole batch. */
export interface MemoryFigures {
  /** Peak in the file's order, graph inputs included. */
  file: PeakMemory;
  /** Peak in the file's order with the graph inputs owned by the caller (not counted): the figure only. */
  fileWithoutInput: Pick<PeakMemory, "peak">;
  /** Peak in the memory-minimising order (never above `file`: the file's order is kept when the heuristic does worse). */
  minOrder: PeakMemory;
}

/** Peaks in the file's order (with and without the input) and in a memory-minimising order; `steps` are the layers'. */
export function memoryFigures(
  inputs: readonly number[],
  outputs: readonly number[],
  layers: readonly LayerState[],
  table: TensorTable,
  steps: Steps,
): MemoryFigures {
  const nameOf = (k: number) => layers[k].node.name;
  const fileOrder = inOrder(layers.length);
  const file = liveAtPeak(nameOf, table, peakWalk(inputs, outputs, fileOrder, table, true, steps));
  // The other two walk to their peak's step and list the tensors live there only when that is shown.
  const fileWithoutInput = { peak: peakWalk(inputs, outputs, fileOrder, table, false, steps).found.peak };
  // A graph that can run in one order only (a chain, residual adds included) has nothing to search.
  const order = file.peak === null || onlyOrder(steps) ? null : memoryOrder(outputs, table, steps);
  const greedy = order ? peakWalk(inputs, outputs, order, table, true, steps) : undefined;
  const better = greedy !== undefined && greedy.found.peak !== null && file.peak !== null && greedy.found.peak < file.peak;
  return { file, fileWithoutInput, minOrder: better ? liveAtPeak(nameOf, table, greedy) : file };
}
