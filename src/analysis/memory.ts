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

/** Bytes of a tensor (null when unknown) and whether it is a stored constant. */
export interface TensorSizes {
  bytes: (tensor: string) => number | null;
  isConstant: (tensor: string) => boolean;
}

/**
 * Tensors as small integers, sizes and constness looked up once per analysis: the three
 * liveness walks and the ordering heuristic then run on arrays, not on name lookups.
 * Keyed by the `sizes` object, which one analysis passes to every walk.
 */
interface Index {
  id: Map<string, number>;
  bytes: (number | null)[];
  constant: boolean[];
  layers: WeakMap<LayerState, { ins: number[]; outs: number[] }>;
}
const INDEXES = new WeakMap<TensorSizes, Index>();

function indexOf(sizes: TensorSizes): Index {
  let ix = INDEXES.get(sizes);
  if (!ix) {
    ix = { id: new Map(), bytes: [], constant: [], layers: new WeakMap() };
    INDEXES.set(sizes, ix);
  }
  return ix;
}

function tensorId(ix: Index, sizes: TensorSizes, name: string): number {
  let id = ix.id.get(name);
  if (id === undefined) {
    id = ix.bytes.length;
    ix.id.set(name, id);
    ix.bytes.push(sizes.bytes(name));
    ix.constant.push(sizes.isConstant(name));
  }
  return id;
}

/** A layer's inputs (distinct, in order) and outputs as tensor ids, "" left out. */
function layerIds(ix: Index, sizes: TensorSizes, l: LayerState): { ins: number[]; outs: number[] } {
  let ids = ix.layers.get(l);
  if (!ids) {
    const ins: number[] = [];
    for (const t of l.node.inputs) {
      if (t === "") continue;
      const id = tensorId(ix, sizes, t);
      if (!ins.includes(id)) ins.push(id);
    }
    const outs = l.node.outputs.filter((o) => o !== "").map((o) => tensorId(ix, sizes, o));
    ids = { ins, outs };
    ix.layers.set(l, ids);
  }
  return ids;
}

/**
 * Peak live activation memory over an execution order: a layer's outputs are allocated
 * while its inputs are still live; a tensor is freed after its last consumer. An
 * in-place op (ReLU, BN, Add) writes into its first input when that input dies there and
 * has the same size. Constants (weights) are not activations and are counted apart. With
 * `countInputs` false the graph inputs are taken as owned by the caller and cost nothing.
 */
export function peakMemory(inputs: string[], outputs: string[], layers: LayerState[], sizes: TensorSizes, countInputs = true): PeakMemory {
  const ix = indexOf(sizes);
  const steps = layers.map((l) => layerIds(ix, sizes, l));
  const inputIds = inputs.map((t) => tensorId(ix, sizes, t));
  const keep = new Set(outputs.map((t) => tensorId(ix, sizes, t)));
  const n = ix.bytes.length;
  const lastUse = new Int32Array(n).fill(-1);
  steps.forEach((st, i) => {
    for (const t of st.ins) lastUse[t] = i;
  });
  const bytes = (t: number): number | null => (!countInputs && inputIds.includes(t) ? 0 : ix.bytes[t]);

  /**
   * One walk over the order. The first finds the peak and the step it happens at; the live
   * set is listed only by a second walk that stops there, so a graph whose live set grows
   * at every step (thousands of parallel branches) stays linear.
   */
  const walk = (stopAt: number): { peak: number | null; step: number; live: Float64Array; alive: Uint8Array } => {
    const live = new Float64Array(n);
    const alive = new Uint8Array(n);
    let current = 0;
    for (const t of inputIds) {
      const b = bytes(t);
      if (b === null) return { peak: null, step: -1, live, alive };
      if (!alive[t]) current = add(current, b);
      alive[t] = 1;
      live[t] = b;
    }
    let peak = current;
    let step = -1;
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i];
      if (l.folded) continue;
      const { ins, outs } = steps[i];
      const dies = (t: number) => alive[t] === 1 && lastUse[t] === i && !keep.has(t);
      let reused = -1;
      const first = l.node.inputs[0] ? ins[0] : -1;
      for (const o of outs) {
        if (ix.constant[o]) continue;
        const b = bytes(o);
        if (b === null) return { peak: null, step: -1, live, alive };
        if (l.rule?.inPlace && reused < 0 && first >= 0 && dies(first) && live[first] === b) {
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
      for (const t of ins) {
        if (t === reused || !dies(t)) continue;
        current -= live[t];
        alive[t] = 0;
      }
      // Outputs nobody reads (and that are not graph outputs) die at once.
      for (const o of outs) {
        if (alive[o] && lastUse[o] < 0 && !keep.has(o)) {
          current -= live[o];
          alive[o] = 0;
        }
      }
    }
    return { peak, step, live, alive };
  };

  const found = walk(-1);
  if (found.peak === null) return { peak: null, live: [] };
  if (found.step < 0) return { peak: found.peak, live: [...inputs] };
  const at = walk(found.step);
  const live: string[] = [];
  for (const [name, id] of ix.id) if (at.alive[id]) live.push(name);
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
export function minMemoryOrder(layers: LayerState[], outputs: string[], sizes: TensorSizes): LayerState[] | null {
  const ix = indexOf(sizes);
  const steps = layers.map((l) => layerIds(ix, sizes, l));
  const keep = new Set(outputs.map((t) => tensorId(ix, sizes, t)));
  const n = ix.bytes.length;
  const producer = new Int32Array(n).fill(-1);
  steps.forEach((st, i) => {
    if (layers[i].folded) return;
    for (const o of st.outs) if (!ix.constant[o]) producer[o] = i;
  });
  const inputsOf = steps.map((st, i) => (layers[i].folded ? [] : st.ins.filter((t) => !ix.constant[t])));
  const remaining = new Int32Array(n);
  const consumers: number[][] = layers.map(() => []);
  const indegree = new Int32Array(layers.length);
  for (const [i, ins] of inputsOf.entries()) {
    for (const t of ins) {
      remaining[t]++;
      const p = producer[t];
      if (p >= 0) {
        indegree[i]++;
        consumers[p].push(i);
      }
    }
  }
  const outBytes: number[] = [];
  for (const [i, l] of layers.entries()) {
    let b = 0;
    for (const o of steps[i].outs) {
      if (l.folded || ix.constant[o]) continue;
      const size = ix.bytes[o];
      if (size === null) return null;
      b += size;
    }
    outBytes.push(b);
  }
  const score = (i: number): number => {
    let freed = 0;
    for (const t of inputsOf[i]) if (remaining[t] === 1 && !keep.has(t)) freed += ix.bytes[t] ?? 0;
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
export function memoryFigures(inputs: string[], outputs: string[], layers: LayerState[], sizes: TensorSizes): MemoryFigures {
  const file = peakMemory(inputs, outputs, layers, sizes);
  const fileWithoutInput = peakMemory(inputs, outputs, layers, sizes, false);
  const order = file.peak === null ? null : minMemoryOrder(layers, outputs, sizes);
  const greedy = order ? peakMemory(inputs, outputs, order, sizes) : file;
  const better = greedy.peak !== null && file.peak !== null && greedy.peak < file.peak;
  return { file, fileWithoutInput, minOrder: better ? greedy : file };
}
