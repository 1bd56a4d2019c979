import { byteSize, type DType, isFloat } from "../core/dtype.js";
import type { Tensor } from "../core/graph.js";
import { add, addKnown, numel } from "../core/shape.js";
import type { LayerState } from "./shapes.js";

export interface LayerParams {
  params: number | null;
  trainable: number | null;
}

export interface ParamTotals {
  /**
   * Elements of floating-point stored tensors, each counted once however many layers use it.
   * When `unknown` lists tensors this is only the known part (a lower bound).
   */
  params: number;
  trainable: number;
  /** Bytes of those tensors in the file's own storage types. */
  storedBytes: number;
  /** Elements per storage dtype. */
  byDtype: Partial<Record<DType, number>>;
  /** Weights whose element count is unknown (a symbolic dim): the sums above leave them out. */
  unknown: string[];
}

/**
 * Parameters: floating-point (or quantized) constants a layer consumes, except inputs its rule reads as
 * values (shapes, pads, scales). Buffers (batch-norm running statistics, tensors the file
 * marks frozen) are non-trainable. Totals count each stored tensor once; a per-layer
 * figure is given for every user.
 */
export function countParams(
  layers: LayerState[],
  fileTensors: readonly Tensor[],
  tensorCount: number,
): { perLayer: LayerParams[]; totals: ParamTotals } {
  // Marks by tensor id; the file's tensors have the ids below fileTensors.length, the rest
  // (outputs of folded layers: a cast or transposed weight) are not stored.
  const n = fileTensors.length;
  const asWeight = new Uint8Array(tensorCount);
  const buffer = new Uint8Array(tensorCount);
  const perLayer: LayerParams[] = [];
  const partOfUnknown = new Uint8Array(tensorCount);
  for (const layer of layers) {
    let params: number | null = 0;
    let trainable: number | null = 0;
    if (!layer.folded) {
      const { ins } = layer;
      for (let i = 0; i < ins.length; i++) {
        const id = ins[i];
        const t = layer.ctx.inputs[i];
        if (!t || !t.constant || layer.rule?.valueInputs?.includes(i)) continue;
        const stored = id < n ? fileTensors[id] : undefined;
        if (!isWeight(stored, t.dtype) || isLiteral(stored)) continue;
        asWeight[id] = 1;
        const count = t.shape ? numel(t.shape) : null;
        const isBuffer = layer.rule?.bufferInputs?.includes(i) || stored?.initializer?.trainable === false;
        if (isBuffer) buffer[id] = 1;
        params = addKnown(params, count);
        if (!isBuffer) trainable = addKnown(trainable, count);
      }
    }
    perLayer[layer.index] = { params, trainable };
    // A layer whose count is unknown contributes none of its weights to the known part either.
    if (params === null) for (const id of layer.ins) if (id >= 0 && asWeight[id]) partOfUnknown[id] = 1;
  }

  // Constants reaching a weight through folded layers (Identity, Cast, weight transforms)
  // are the stored weights: walk backwards once so each is found in O(layers).
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i];
    if (!layer.folded || !layer.outs.some((o) => o >= 0 && asWeight[o])) continue;
    layer.ctx.inputs.forEach((t, j) => {
      const id = layer.ins[j];
      if (t && id >= 0 && isWeight(id < n ? fileTensors[id] : undefined, t.dtype)) asWeight[id] = 1;
    });
  }

  const totals: ParamTotals = { params: 0, trainable: 0, storedBytes: 0, byDtype: {}, unknown: [] };
  for (let id = 0; id < n; id++) {
    const t = fileTensors[id];
    if (!asWeight[id] || !t.initializer || !isWeight(t, t.dtype)) continue;
    const count = t.shape ? numel(t.shape) : null;
    // A weight of unknown size is named, never summed in part: the exact totals become null.
    if (count === null || partOfUnknown[id]) {
      totals.unknown.push(t.name);
      continue;
    }
    totals.params = add(totals.params, count);
    if (!buffer[id] && t.initializer.trainable !== false) totals.trainable = add(totals.trainable, count);
    totals.storedBytes = add(totals.storedBytes, byteSize(count, t.dtype));
    totals.byDtype[t.dtype] = add(totals.byDtype[t.dtype] ?? 0, count);
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
