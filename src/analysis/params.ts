import { byteSize, type DType, isFloat } from "../core/dtype.js";
import type { Graph, Tensor } from "../core/graph.js";
import { add, numel } from "../core/shape.js";
import type { LayerState } from "./shapes.js";

export interface LayerParams {
  params: number | null;
  trainable: number | null;
}

export interface ParamTotals {
  /** Elements of floating-point stored tensors, each counted once however many layers use it. */
  params: number;
  trainable: number;
  /** Bytes of those tensors in the file's own storage types. */
  storedBytes: number;
  /** Elements per storage dtype. */
  byDtype: Partial<Record<DType, number>>;
}

/**
 * Parameters: floating-point (or quantized) constants a layer consumes, except inputs its rule reads as
 * values (shapes, pads, scales). Buffers (batch-norm running statistics, tensors the file
 * marks frozen) are non-trainable. Totals count each stored tensor once; a per-layer
 * figure is given for every user.
 */
export function countParams(g: Graph, layers: LayerState[]): { perLayer: LayerParams[]; totals: ParamTotals } {
  const perLayer: LayerParams[] = [];
  const buffers = new Set<string>();
  const asWeight = new Set<string>();
  for (const layer of layers) {
    let params: number | null = 0;
    let trainable: number | null = 0;
    if (!layer.folded) {
      const { inputs } = layer.node;
      for (let i = 0; i < inputs.length; i++) {
        const name = inputs[i];
        const t = layer.ctx.inputs[i];
        if (!t || !t.constant || layer.rule?.valueInputs?.includes(i)) continue;
        const stored = g.tensors.get(name);
        if (!isWeight(stored, t.dtype) || isLiteral(stored)) continue;
        asWeight.add(name);
        const n = t.shape ? numel(t.shape) : null;
        const isBuffer = layer.rule?.bufferInputs?.includes(i) || stored?.initializer?.trainable === false;
        if (isBuffer) buffers.add(name);
        params = n === null || params === null ? null : add(params, n);
        if (!isBuffer) trainable = n === null || trainable === null ? null : add(trainable, n);
      }
    }
    perLayer[layer.index] = { params, trainable };
  }

  // Constants reaching a weight through folded layers (Identity, Cast, weight transforms)
  // are the stored weights: walk backwards once so each is found in O(layers).
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i];
    if (!layer.folded || !layer.node.outputs.some((o) => asWeight.has(o))) continue;
    layer.ctx.inputs.forEach((t, j) => {
      if (t && isWeight(g.tensors.get(layer.node.inputs[j]), t.dtype)) asWeight.add(layer.node.inputs[j]);
    });
  }

  const totals: ParamTotals = { params: 0, trainable: 0, storedBytes: 0, byDtype: {} };
  for (const [name, t] of g.tensors) {
    if (!t.initializer || !isWeight(t, t.dtype) || !asWeight.has(name) || !t.shape) continue;
    const n = numel(t.shape);
    if (n === null) continue;
    totals.params = add(totals.params, n);
    if (!buffers.has(name) && t.initializer.trainable !== false) totals.trainable = add(totals.trainable, n);
    totals.storedBytes = add(totals.storedBytes, byteSize(n, t.dtype));
    totals.byDtype[t.dtype] = add(totals.byDtype[t.dtype] ?? 0, n);
  }
  return { perLayer, totals };
}

/** Floating-point constants are weights; so are quantized integer ones (not shape constants). */
function isWeight(stored: Tensor | undefined, dtype: DType): boolean {
  return isFloat(dtype) || stored?.initializer?.quantized === true;
}

/** A constant the reader wrote out itself (Eltwise coefficients, Power's scale): a value, not a stored weight. */
function isLiteral(t: Tensor | undefined): boolean {
  return t !== undefined && t.value !== undefined && t.initializer === undefined;
}
