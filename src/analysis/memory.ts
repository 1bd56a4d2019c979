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
 * Each layer's tensors for the walks, by layer index, in flat typed arrays (the walks run
 * six times over every layer; arrays of small arrays and the layer objects themselves cost
 * more to reach than the arithmetic): layer k's distinct inputs, in order and without the
 * omitted ones, are `ins[inAt[k]] … ins[inAt[k + 1] − 1]`, its outputs likewise.
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

function stepsOf(layers: readonly LayerState[]): Steps {
  let count = 0;
  // Indexed loops: this runs once per analysis, cold, and a for…of makes a result object per step until optimised.
  for (let i = 0; i < layers.length; i++) count = Math.max(count, layers[i].index + 1);
  const inCount = new Int32Array(count);
  const outCount = new Int32Array(count);
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i];
    for (let k = 0; k < l.ins.length; k++) if (l.ins[k] >= 0 && l.ins.indexOf(l.ins[k]) === k) inCount[l.index]++;
    for (let k = 0; k < l.outs.length; k++) if (l.outs[k] >= 0) outCount[l.index]++;
  }
  const inAt = new Int32Array(count + 1);
  const outAt = new Int32Array(count + 1);
  for (let k = 0; k < count; k++) {
    inAt[k + 1] = inAt[k] + inCount[k];
    outAt[k + 1] = outAt[k] + outCount[k];
  }
  const steps: Steps = {
    inAt,
    ins: new Int32Array(inAt[count]),
    outAt,
    outs: new Int32Array(outAt[count]),
    first: new Int32Array(count).fill(-1),
    folded: new Uint8Array(count),
    inPlace: new Uint8Array(count),
  };
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i];
    const k = l.index;
    let p = inAt[k];
    for (let j = 0; j < l.ins.length; j++) if (l.ins[j] >= 0 && l.ins.indexOf(l.ins[j]) === j) steps.ins[p++] = l.ins[j];
    p = outAt[k];
    for (let j = 0; j < l.outs.length; j++) if (l.outs[j] >= 0) steps.outs[p++] = l.outs[j];
    if (l.ins.length > 0) steps.first[k] = l.ins[0];
    if (l.folded) steps.folded[k] = 1;
    if (l.rule?.inPlace) steps.inPlace[k] = 1;
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
  const n = table.bytes.length;
  const keep = new Uint8Array(n);
  for (const t of outputs) keep[t] = 1;
  const { inAt, ins, outAt, outs, first, folded, inPlace } = steps;
  // The layer index of each step of the order.
  const at = new Int32Array(layers.length);
  for (let i = 0; i < layers.length; i++) at[i] = layers[i].index;
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

  const found = walk(-1);
  if (found.peak === null) return { peak: null, live: [] };
  if (found.step < 0) return { peak: found.peak, live: inputs.map((t) => table.names[t]) };
  const stop = walk(found.step);
  const live: string[] = [];
  for (let t = 0; t < n; t++) if (stop.alive[t]) live.push(table.names[t]);
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
  const n = table.bytes.length;
  const keep = new Uint8Array(n);
  for (const t of outputs) keep[t] = 1;
  const { inAt, ins, outAt, outs, folded } = steps;
  const m = layers.length;
  const at = new Int32Array(m);
  for (let i = 0; i < m; i++) at[i] = layers[i].index;
  // By position in `layers`: who produces each activation, and each step's activation
  // inputs (folded layers read and make only constants) as a flat list.
  const producer = new Int32Array(n).fill(-1);
  const outBytes = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const k = at[i];
    if (folded[k]) continue;
    let b = 0;
    for (let j = outAt[k]; j < outAt[k + 1]; j++) {
      const o = outs[j];
      if (table.constant[o]) continue;
      producer[o] = i;
      const size = table.bytes[o];
      if (size === null) return null;
      b += size;
    }
    outBytes[i] = b;
  }
  const remaining = new Int32Array(n);
  const indegree = new Int32Array(m);
  // Consumers of step p, flat: consumers[consumerAt[p] … consumerAt[p + 1] − 1] (counted first, then placed).
  const consumerAt = new Int32Array(m + 1);
  for (let i = 0; i < m; i++) {
    const k = at[i];
    if (folded[k]) continue;
    for (let j = inAt[k]; j < inAt[k + 1]; j++) {
      const t = ins[j];
      if (table.constant[t]) continue;
      remaining[t]++;
      const p = producer[t];
      if (p >= 0) {
        indegree[i]++;
        consumerAt[p + 1]++;
      }
    }
  }
  for (let i = 0; i < m; i++) consumerAt[i + 1] += consumerAt[i];
  const consumers = new Int32Array(consumerAt[m]);
  const fill = consumerAt.slice(0, m);
  for (let i = 0; i < m; i++) {
    const k = at[i];
    if (folded[k]) continue;
    for (let j = inAt[k]; j < inAt[k + 1]; j++) {
      const t = ins[j];
      const p = table.constant[t] ? -1 : producer[t];
      if (p >= 0) consumers[fill[p]++] = i;
    }
  }
  const score = (i: number): number => {
    let freed = 0;
    const k = at[i];
    for (let j = inAt[k]; j < inAt[k + 1]; j++) {
      const t = ins[j];
      if (!table.constant[t] && remaining[t] === 1 && !keep[t]) freed += table.bytes[t] ?? 0;
    }
    // An in-place op allocates nothing but keeps its input's buffer: the same net figure.
    return outBytes[i] - freed;
  };

  const order: LayerState[] = layers.filter((l) => l.folded);
  const ready = new MinHeap();
  for (let i = 0; i < m; i++) if (indegree[i] === 0 && !folded[at[i]]) ready.push(i);
  const picked: number[] = [];
  while (ready.size > 0) {
    picked.length = 0;
    while (picked.length < WINDOW && ready.size > 0) picked.push(ready.pop());
    let best = picked[0];
    let bestScore = score(best);
    for (let q = 1; q < picked.length; q++) {
      const sc = score(picked[q]);
      if (sc < bestScore) {
        best = picked[q];
        bestScore = sc;
      }
    }
    for (const i of picked) if (i !== best) ready.push(i);
    order.push(layers[best]);
    const k = at[best];
    for (let j = inAt[k]; j < inAt[k + 1]; j++) if (!table.constant[ins[j]]) remaining[ins[j]]--;
    for (let j = consumerAt[best]; j < consumerAt[best + 1]; j++) if (--indegree[consumers[j]] === 0) ready.push(consumers[j]);
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
