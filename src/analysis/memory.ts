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

/** Each layer's tensors for the walks, by layer index: distinct inputs in order and outputs, omitted ones left out. */
export interface Steps {
  ins: number[][];
  outs: number[][];
}

function stepsOf(layers: readonly LayerState[]): Steps {
  const steps: Steps = { ins: [], outs: [] };
  for (const l of layers) {
    let clean = true;
    for (let k = 0; k < l.ins.length && clean; k++) if (l.ins[k] < 0 || l.ins.indexOf(l.ins[k]) !== k) clean = false;
    steps.ins[l.index] = clean ? l.ins : l.ins.filter((t, k) => t >= 0 && l.ins.indexOf(t) === k);
    steps.outs[l.index] = l.outs.includes(-1) ? l.outs.filter((t) => t >= 0) : l.outs;
  }
  return steps;
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
  steps: Steps = stepsOf(layers),
): PeakMemory {
  const keep = new Set(outputs);
  const n = table.bytes.length;
  const lastUse = new Int32Array(n).fill(-1);
  layers.forEach((l, i) => {
    for (const t of steps.ins[l.index]) lastUse[t] = i;
  });
  const owned = new Uint8Array(n);
  if (!countInputs) for (const t of inputs) owned[t] = 1;
  const bytes = (t: number): number | null => (owned[t] ? 0 : table.bytes[t]);

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
      const b = bytes(t);
      if (b === null) return { peak: null, step: -1, alive };
      if (!alive[t]) current = add(current, b);
      alive[t] = 1;
      live[t] = b;
    }
    let peak = current;
    let step = -1;
    // Made once per walk, not per layer: a closure per step is 100,000 allocations on a large graph.
    const dies = (t: number, i: number) => alive[t] === 1 && lastUse[t] === i && !keep.has(t);
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i];
      if (l.folded) continue;
      const lins = steps.ins[l.index];
      const louts = steps.outs[l.index];
      let reused = -1;
      const first = l.ins.length > 0 ? l.ins[0] : -1;
      for (const o of louts) {
        if (table.constant[o]) continue;
        const b = bytes(o);
        if (b === null) return { peak: null, step: -1, alive };
        if (l.rule?.inPlace && reused < 0 && first >= 0 && dies(first, i) && live[first] === b) {
          // The output takes over the input's buffer.
          reused = first;
          alive[first] = 0;
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
      for (const t of lins) {
        if (t === reused || !dies(t, i)) continue;
        current -= live[t];
        alive[t] = 0;
      }
      // Outputs nobody reads (and that are not graph outputs) die at once.
      for (const o of louts) {
        if (alive[o] && lastUse[o] < 0 && !keep.has(o)) {
          current -= live[o];
          alive[o] = 0;
        }
      }
    }
    return { peak, step, alive };
  };

  const found = walk(-1);
  if (found.peak === null) return { peak: null, live: [] };
  if (found.step < 0) return { peak: found.peak, live: inputs.map((t) => table.names[t]) };
  const at = walk(found.step);
  const live: string[] = [];
  for (let t = 0; t < n; t++) if (at.alive[t]) live.push(table.names[t]);
  return { peak: found.peak, layer: layers[found.step].node.name, live };
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
export function minMemoryOrder(
  layers: readonly LayerState[],
  outputs: readonly number[],
  table: TensorTable,
  steps: Steps = stepsOf(layers),
): LayerState[] | null {
  const keep = new Set(outputs);
  const n = table.bytes.length;
  const producer = new Int32Array(n).fill(-1);
  const outs = layers.map((l) => steps.outs[l.index]);
  outs.forEach((st, i) => {
    if (layers[i].folded) return;
    for (const o of st) if (!table.constant[o]) producer[o] = i;
  });
  const inputsOf = layers.map((l) => (l.folded ? [] : steps.ins[l.index].filter((t) => !table.constant[t])));
  const remaining = new Int32Array(n);
  const consumers: number[][] = layers.map(() => []);
  const indegree = new Int32Array(layers.length);
  for (let i = 0; i < inputsOf.length; i++) {
    for (const t of inputsOf[i]) {
      remaining[t]++;
      const p = producer[t];
      if (p >= 0) {
        indegree[i]++;
        consumers[p].push(i);
      }
    }
  }
  const outBytes: number[] = [];
  for (let i = 0; i < layers.length; i++) {
    let b = 0;
    for (const o of outs[i]) {
      if (layers[i].folded || table.constant[o]) continue;
      const size = table.bytes[o];
      if (size === null) return null;
      b += size;
    }
    outBytes.push(b);
  }
  const score = (i: number): number => {
    let freed = 0;
    for (const t of inputsOf[i]) if (remaining[t] === 1 && !keep.has(t)) freed += table.bytes[t] ?? 0;
    // An in-place op allocates nothing but keeps its input's buffer: the same net figure.
    return outBytes[i] - freed;
  };

  const order: LayerState[] = layers.filter((l) => l.folded);
  const ready = new MinHeap();
  indegree.forEach((d, i) => {
    if (d === 0 && !layers[i].folded) ready.push(i);
  });
  const picked: number[] = [];
  while (ready.size > 0) {
    picked.length = 0;
    while (picked.length < WINDOW && ready.size > 0) picked.push(ready.pop());
    let best = picked[0];
    let bestScore = score(best);
    for (let k = 1; k < picked.length; k++) {
      const sc = score(picked[k]);
      if (sc < bestScore) {
        best = picked[k];
        bestScore = sc;
      }
    }
    for (const i of picked) if (i !== best) ready.push(i);
    order.push(layers[best]);
    for (const t of inputsOf[best]) remaining[t]--;
    for (const c of consumers[best]) if (--indegree[c] === 0) ready.push(c);
  }
  return order;
}

/** Memory figures for inference, whole batch. */
export interface MemoryFigures {
  /** Peak in the file's order, graph inputs included. */
  file: PeakMemory;
  /** Peak in the file's order with the graph inputs owned by the caller (not counted). */
  fileWithoutInput: PeakMemory;
  /** Peak in the memory-minimising order (never above `file`: the file's order is kept when the heuristic does worse). */
  minOrder: PeakMemory;
}

/** Peaks in the file's order (with and without the input) and in a memory-minimising order. */
export function memoryFigures(
  inputs: readonly number[],
  outputs: readonly number[],
  layers: readonly LayerState[],
  table: TensorTable,
): MemoryFigures {
  const steps = stepsOf(layers);
  const file = peakMemory(inputs, outputs, layers, table, true, steps);
  const fileWithoutInput = peakMemory(inputs, outputs, layers, table, false, steps);
  const order = file.peak === null ? null : minMemoryOrder(layers, outputs, table, steps);
  const greedy = order ? peakMemory(inputs, outputs, order, table, true, steps) : file;
  const better = greedy.peak !== null && file.peak !== null && greedy.peak < file.peak;
  return { file, fileWithoutInput, minOrder: better ? greedy : file };
}
