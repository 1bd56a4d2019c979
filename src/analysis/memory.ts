import { add } from "../core/shape.js";
import type { LayerState } from "./shapes.js";

export interface PeakMemory {
  /** Largest sum of live activation bytes (graph inputs included), or null when a size is unknown. */
  peak: number | null;
  /** The layer running at that moment. */
  layer?: string;
  /** Tensors live at the peak. */
  live: string[];
}

/**
 * Peak live activation memory over an execution order: a layer's outputs are allocated
 * while its inputs are still live; a tensor is freed after its last consumer. An
 * in-place op (ReLU, BN, Add) writes into its first input when that input dies there and
 * has the same size. Constants (weights) are not activations and are counted apart.
 */
export function peakMemory(
  inputs: string[],
  outputs: string[],
  layers: LayerState[],
  bytes: (tensor: string) => number | null,
  isConstant: (tensor: string) => boolean,
): PeakMemory {
  const lastUse = new Map<string, number>();
  layers.forEach((l, i) => {
    for (const t of l.node.inputs) if (t !== "") lastUse.set(t, i);
  });
  const keep = new Set(outputs);
  const live = new Map<string, number>();
  let current = 0;
  for (const name of inputs) {
    const b = bytes(name);
    if (b === null) return { peak: null, live: [] };
    live.set(name, b);
    current = add(current, b);
  }
  let best: PeakMemory = { peak: current, live: [...live.keys()] };

  for (const [i, l] of layers.entries()) {
    if (l.folded) continue;
    const dying = new Set(l.node.inputs.filter((t) => live.has(t) && lastUse.get(t) === i && !keep.has(t)));
    let reused: string | undefined;
    const first = l.node.inputs[0];
    for (const o of l.node.outputs) {
      if (o === "" || isConstant(o)) continue;
      const b = bytes(o);
      if (b === null) return { peak: null, live: [] };
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
    if (best.peak === null || current > best.peak) best = { peak: current, layer: l.node.name, live: [...live.keys()] };
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
  return best;
}
