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
 * Peak live activation memory over an execution order: a layer's outputs are allocated
 * while its inputs are still live; a tensor is freed after its last consumer. An
 * in-place op (ReLU, BN, Add) writes into its first input when that input dies there and
 * has the same size. Constants (weights) are not activations and are counted apart. With
 * `countInputs` false the graph inputs are taken as owned by the caller and cost nothing.
 */
export function peakMemory(inputs: string[], outputs: string[], layers: LayerState[], sizes: TensorSizes, countInputs = true): PeakMemory {
  const inputSet = new Set(inputs);
  const bytes = countInputs ? sizes.bytes : (t: string) => (inputSet.has(t) ? 0 : sizes.bytes(t));
  const lastUse = new Map<string, number>();
  layers.forEach((l, i) => {
    for (const t of l.node.inputs) if (t !== "") lastUse.set(t, i);
  });
  const keep = new Set(outputs);

  /**
   * One walk over the order. The first finds the peak and the step it happens at; the live
   * set is copied only by a second walk that stops there, so a graph whose live set grows
   * at every step (thousands of parallel branches) stays linear.
   */
  const walk = (stopAt: number): { peak: number | null; step: number; live: Map<string, number> } => {
    const live = new Map<string, number>();
    let current = 0;
    for (const name of inputs) {
      const b = bytes(name);
      if (b === null) return { peak: null, step: -1, live };
      live.set(name, b);
      current = add(current, b);
    }
    let peak = current;
    let step = -1;
    for (const [i, l] of layers.entries()) {
      if (l.folded) continue;
      const dying = new Set(l.node.inputs.filter((t) => live.has(t) && lastUse.get(t) === i && !keep.has(t)));
      let reused: string | undefined;
      const first = l.node.inputs[0];
      for (const o of l.node.outputs) {
        if (o === "" || sizes.isConstant(o)) continue;
        const b = bytes(o);
        if (b === null) return { peak: null, step: -1, live };
        if (l.rule?.inPlace && reused === undefined && dying.has(first) && live.get(first) === b) {
          // The output takes over the input's buffer.
          reused = first;
          live.delete(first);
          live.set(o, b);
          continue;
        }
        live.set(o, b);
        current = add(current, b);
      }
      if (current > peak) {
        peak = current;
        step = i;
      }
      if (i === stopAt) break;
      for (const t of dying) {
        if (t === reused) continue;
        current -= live.get(t) ?? 0;
        live.delete(t);
      }
      // Outputs nobody reads (and that are not graph outputs) die at once.
      for (const o of l.node.outputs) {
        if (live.has(o) && !lastUse.has(o) && !keep.has(o)) {
          current -= live.get(o) ?? 0;
          live.delete(o);
        }
      }
    }
    return { peak, step, live };
  };

  const first = walk(-1);
  if (first.peak === null) return { peak: null, live: [] };
  if (first.step < 0) return { peak: first.peak, live: [...inputs] };
  const at = walk(first.step);
  return { peak: first.peak, layer: layers[first.step].node.name, live: [...at.live.keys()] };
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
  const keep = new Set(outputs);
  const producer = new Map<string, number>();
  layers.forEach((l, i) => {
    if (l.folded) return;
    for (const o of l.node.outputs) if (o !== "" && !sizes.isConstant(o)) producer.set(o, i);
  });
  const inputsOf = layers.map((l) => (l.folded ? [] : [...new Set(l.node.inputs.filter((t) => t !== "" && !sizes.isConstant(t)))]));
  const remaining = new Map<string, number>();
  const consumers: number[][] = layers.map(() => []);
  const indegree = new Array<number>(layers.length).fill(0);
  for (const [i, ins] of inputsOf.entries()) {
    for (const t of ins) {
      remaining.set(t, (remaining.get(t) ?? 0) + 1);
      const p = producer.get(t);
      if (p !== undefined) {
        indegree[i]++;
        consumers[p].push(i);
      }
    }
  }
  const outBytes: number[] = [];
  for (const l of layers) {
    let b = 0;
    for (const o of l.node.outputs) {
      if (o === "" || l.folded || sizes.isConstant(o)) continue;
      const s = sizes.bytes(o);
      if (s === null) return null;
      b += s;
    }
    outBytes.push(b);
  }
  const score = (i: number): number => {
    let freed = 0;
    for (const t of inputsOf[i]) if (remaining.get(t) === 1 && !keep.has(t)) freed += sizes.bytes(t) ?? 0;
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
    for (const i of picked.slice(1)) {
      const s = score(i);
      if (s < bestScore) {
        best = i;
        bestScore = s;
      }
    }
    for (const i of picked) if (i !== best) ready.push(i);
    order.push(layers[best]);
    for (const t of inputsOf[best]) remaining.set(t, (remaining.get(t) ?? 1) - 1);
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
