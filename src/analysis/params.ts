import { byteSize, type DType, isFloat } from "../core/dtype.js";
import type { Tensor } from "../core/graph.js";
import { add, addKnown, numel, type Shape } from "../core/shape.js";
import type { OpRule } from "../ops/index.js";
import type { LayerState } from "./shapes.js";

export interface LayerParams {
  params: number | null;
  trainable: number | null;
  /** The weights counted, by tensor id (when asked: the module tree counts a shared weight once). */
  weights?: { key: number; count: number | null; trainable: boolean }[];
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
  /** Elements of quantization scales and zero points (each stored tensor once): not parameters. */
  quant: number;
  /** Their bytes in the file's storage types. */
  quantBytes: number;
  /** Weights whose element count is unknown (a symbolic dim): the sums above leave them out. */
  unknown: string[];
}

/**
 * Parameters: floating-point (or quantized) constants a layer consumes, except inputs its rule reads as
 * values (shapes, pads, scales). Buffers (batch-norm running statistics, tensors the file
 * marks frozen) are non-trainable. Totals count each stored tensor once; a per-layer
 * figure is given for every user.
 *
 * Parameters are learned tensors: a rank-0 constant (an epsilon, `x * 0.5`) and a
 * single-element operand of an element-wise op (an attention scale) are literals of the
 * computation, not parameters. Integer tensors a rule names as weights (`weightInputs`: a
 * quantized kernel, an int32 bias) are parameters at their stored size, found however long
 * the dequantize chain before the layer; scales and zero points (`quantInputs`) are
 * counted apart.
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
  // 1: a weight if floating-point (or marked quantized by its reader); 2: a weight by its rule.
  const asWeight = new Uint8Array(tensorCount);
  const buffer = new Uint8Array(tensorCount);
  const quant = new Uint8Array(tensorCount);
  // Tensors that are quantization scales or zero points computed at run time.
  const scaleOf = new Uint8Array(tensorCount);
  const perLayer: LayerParams[] = [];
  const partOfUnknown = new Uint8Array(tensorCount);
  // Indexed loops where a layer's lists are walked: a for…of makes an iterator per list
  // (and a result per step until optimised), several per layer of a 100,000-layer graph.
  for (let li = 0; li < layers.length; li++) {
    const layer = layers[li];
    let params: number | null = 0;
    let trainable: number | null = 0;
    const weights: LayerParams["weights"] = withWeights ? [] : undefined;
    const { ins, rule } = layer;
    let quantIns = quantInputsOf(layer);
    const quantOuts = rule?.quantOutputs ?? NONE;
    for (let k = 0; k < quantOuts.length; k++) if (layer.outs[quantOuts[k]] >= 0) scaleOf[layer.outs[quantOuts[k]]] = 1;
    // Arithmetic on scales and constants alone (x_scale · w_scale, before a ConvInteger's
    // output is rescaled) gives a scale; its constant operands are scales too.
    if (
      rule?.literalScalars &&
      ins.some((id) => id >= 0 && scaleOf[id]) &&
      ins.every((id, i) => id < 0 || scaleOf[id] || layer.ctx.inputs[i]?.constant)
    ) {
      quantIns = ins.map((_, i) => i);
      for (const o of layer.outs) if (o >= 0) scaleOf[o] = 1;
    }
    for (let k = 0; k < quantIns.length; k++) {
      const i = quantIns[k];
      if (ins[i] >= 0 && layer.ctx.inputs[i]?.constant) quant[ins[i]] = 1;
    }
    if (!layer.folded) {
      for (let i = 0; i < ins.length; i++) {
        const id = ins[i];
        const t = layer.ctx.inputs[i];
        if (!t || !t.constant || rule?.valueInputs?.includes(i) || quantIns.includes(i)) continue;
        const stored = id < n ? fileTensors[id] : undefined;
        const byRule = rule?.weightInputs?.includes(i) === true;
        if (
          (!byRule && !isWeight(stored, t.dtype)) ||
          isLiteral(stored) ||
          (isScalarLiteral(t.shape, rule) && !stored?.initializer?.learned)
        )
          continue;
        asWeight[id] = Math.max(asWeight[id], byRule ? 2 : 1);
        const count = t.shape ? numel(t.shape) : null;
        const isBuffer = rule?.bufferInputs?.includes(i) || stored?.initializer?.trainable === false;
        if (isBuffer) buffer[id] = 1;
        params = addKnown(params, count);
        if (!isBuffer) trainable = addKnown(trainable, count);
        weights?.push({ key: id, count, trainable: !isBuffer });
      }
    }
    perLayer[layer.index] = weights ? { params, trainable, weights } : { params, trainable };
    // A layer whose count is unknown contributes none of its weights to the known part either.
    if (params === null) for (let k = 0; k < ins.length; k++) if (ins[k] >= 0 && asWeight[ins[k]]) partOfUnknown[ins[k]] = 1;
  }

  // Constants reaching a weight through folded layers (Identity, Cast, DequantizeLinear,
  // weight transforms) are the stored weights: walk backwards once so each is found in O(layers).
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i];
    if (!layer.folded || !layer.outs.some((o) => o >= 0 && asWeight[o])) continue;
    const { rule } = layer;
    const quantIns = quantInputsOf(layer);
    layer.ctx.inputs.forEach((t, j) => {
      const id = layer.ins[j];
      if (!t || id < 0 || quantIns.includes(j) || rule?.valueInputs?.includes(j)) return;
      if (rule?.weightInputs?.includes(j)) asWeight[id] = 2;
      else if (isWeight(id < n ? fileTensors[id] : undefined, t.dtype)) asWeight[id] = Math.max(asWeight[id], 1);
    });
  }

  if (withWeights) resolveWeights(layers, fileTensors, perLayer, asWeight, buffer);

  const totals: ParamTotals = { params: 0, trainable: 0, storedBytes: 0, byDtype: {}, quant: 0, quantBytes: 0, unknown: [] };
  for (let id = 0; id < n; id++) {
    const t = fileTensors[id];
    if (quant[id] && !asWeight[id] && t.shape && (t.initializer || t.value)) {
      const count = numel(t.shape);
      if (count === null) continue;
      totals.quant = add(totals.quant, count);
      totals.quantBytes = add(totals.quantBytes, byteSize(count, t.dtype));
      continue;
    }
    if (!asWeight[id] || !t.initializer || (asWeight[id] === 1 && !isWeight(t, t.dtype))) continue;
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

/** The inputs a layer's rule reads as quantization scales and zero points. */
function quantInputsOf(layer: LayerState): readonly number[] {
  const q = layer.rule?.quantInputs;
  if (!q) return NONE;
  return typeof q === "function" ? q(layer.ctx) : q;
}

const NONE: readonly number[] = [];

/** A rank-0 constant, or a single-element operand of an op whose rule says so: a literal, not a parameter. */
function isScalarLiteral(shape: Shape | undefined, rule: OpRule | undefined): boolean {
  if (!shape) return false;
  return shape.length === 0 || (rule?.literalScalars === true && shape.every((d) => d === 1));
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
      if (!asWeight[id] || !t.initializer || (asWeight[id] === 1 && !isWeight(t, t.dtype)) || !t.shape) continue;
      p.weights.push({ key: id, count: numel(t.shape), trainable: !buffer[id] && t.initializer.trainable !== false });
    }
  }
}
