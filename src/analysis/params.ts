import { byteSize, type DType, isFloat } from "../core/dtype.js";
import type { Tensor } from "../core/graph.js";
import { add, addKnown, numel } from "../core/shape.js";
import type { LayerState } from "./shapes.js";

export interface LayerParams {
  params: number | null;
  trainable: number | null;
  /** The weights counted, by tensor id (when asked: the module tree counts a shared weight once). */
  weights?: { key: number; count: number | null; trainable: boolean }[];
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
export function countParams(
  layers: LayerState[],
  fileTensors: readonly Tensor[],
  tensorCount: number,
  withWeights = false,
): { perLayer: LayerParams[]; totals: ParamTotals } {
  // Marks by tensor id; the file's tensors have the ids below fileTensors.length, the rest
  // (outputs of folded layers: a cast or transposed weight) are not stored.
  const n = fileTensors.length;
  const asWeight = new Uint8Array(tensorCount);
  const buffer = new Uint8Array(tensorCount);
  const perLayer: LayerParams[] = [];
  for (const layer of layers) {
    let params: number | null = 0;
    let trainable: number | null = 0;
    const weights: LayerParams["weights"] = withWeights ? [] : undefined;
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
        weights?.push({ key: id, count, trainable: !isBuffer });
      }
    }
    perLayer[layer.index] = weights ? { params, trainable, weights } : { params, trainable };
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

  if (withWeights) resolveWeights(layers, fileTensors, perLayer, asWeight, buffer);

  const totals: ParamTotals = { params: 0, trainable: 0, storedBytes: 0, byDtype: {} };
  for (let id = 0; id < n; id++) {
    const t = fileTensors[id];
    if (!asWeight[id] || !t.initializer || !isWeight(t, t.dtype) || !t.shape) continue;
    const count = numel(t.shape);
    if (count === null) continue;
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

/**
 * Each layer's weights as the stored tensors the totals count (a weight reached through a
 * folded Cast or DequantizeLinear is its stored tensor), with the totals' own element counts
 * and trainability: the module tree then sums to the totals exactly, each tensor once.
 */
function resolveWeights(
  layers: LayerState[],
  fileTensors: readonly Tensor[],
  perLayer: LayerParams[],
  asWeight: Uint8Array,
  buffer: Uint8Array,
): void {
  const n = fileTensors.length;
  const producer = new Map<number, LayerState>();
  for (const l of layers) if (l.folded) for (const o of l.outs) if (o >= n) producer.set(o, l);
  const roots = (id: number, out: Set<number>, depth = 0): void => {
    if (id < n) {
      out.add(id);
      return;
    }
    const l = producer.get(id);
    if (!l || depth > 64) return;
    for (const i of l.ins) if (i >= 0 && asWeight[i]) roots(i, out, depth + 1);
  };
  for (const layer of layers) {
    const p = perLayer[layer.index];
    if (!p?.weights || p.weights.length === 0) continue;
    const ids = new Set<number>();
    for (const w of p.weights) roots(w.key, ids);
    p.weights = [];
    for (const id of ids) {
      const t = fileTensors[id];
      if (!asWeight[id] || !t.initializer || !isWeight(t, t.dtype) || !t.shape) continue;
      p.weights.push({ key: id, count: numel(t.shape), trainable: !buffer[id] && t.initializer.trainable !== false });
    }
  }
}
