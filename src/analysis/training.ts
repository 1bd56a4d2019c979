import { byteSize, isFloat } from "../core/dtype.js";
import { ConvscopeError } from "../core/errors.js";
import type { TrainingReport } from "../core/report.js";
import { add, mul, numel } from "../core/shape.js";
import type { LayerState, TensorLookup } from "./shapes.js";

export type Optimizer = TrainingReport["optimizer"];
export type Precision = TrainingReport["precision"];
export const OPTIMIZERS: readonly Optimizer[] = ["sgd", "momentum", "adam"];
export const PRECISIONS: readonly Precision[] = ["fp32", "mixed-fp16", "mixed-bf16"];

export interface TrainingOptions {
  optimizer: Optimizer;
  precision: Precision;
}

export type TrainingBytes = TrainingReport;

/** Optimizer state per trainable parameter, in fp32 values. */
const STATE_VALUES: Record<Optimizer, number> = { sgd: 0, momentum: 1, adam: 2 };

/** Saved for backward: the layer's output (PyTorch keeps `result` for these). */
const SAVES_OUTPUT = new Set(["Relu", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Exp", "Sqrt"]);
/** Saved for backward: nothing (the gradient passes through or is a reshuffle). */
const SAVES_NOTHING = new Set([
  "Add",
  "Sub",
  "Sum",
  "Neg",
  "Concat",
  "Split",
  "Reshape",
  "Flatten",
  "Squeeze",
  "Unsqueeze",
  "Transpose",
  "Identity",
  "Cast",
  "CastLike",
  "Pad",
  "Slice",
  "Gather",
  "Shape",
  "DepthToSpace",
  "SpaceToDepth",
  "Resize",
  "Upsample",
  "Expand",
  "Tile",
]);
const NORMS = new Set(["BatchNormalization", "InstanceNormalization", "LayerNormalization", "GroupNormalization"]);

/**
 * Memory to train the model one step: weights + gradients + optimizer state + the
 * activations autograd keeps for the backward pass (a lower bound: transient gradient
 * buffers and framework workspace come on top).
 *
 * Bytes per trainable parameter, following the ZeRO paper's accounting (Rajbhandari et al.
 * 2020): fp32 training keeps fp32 weights (4) and gradients (4); mixed precision keeps a
 * half-precision working copy (2) and half gradients (2) beside fp32 master weights (4).
 * Optimizer state is always fp32: momentum 4, Adam 8 — so Adam costs 16 B/param either way.
 * Buffers (batch-norm running statistics) stay fp32 and have no gradient.
 *
 * What each op family saves (as PyTorch's autograd does): conv, transposed conv, Gemm and
 * MatMul their activation inputs; ReLU, sigmoid, tanh, softmax, exp, sqrt their output;
 * other activations (clip/ReLU6, leaky ReLU, GELU, swish…) their input; normalizations
 * their input plus two fp32 statistics per normalized group (mean, inverse std);
 * max pooling its input and int64 indices of the output's size; average pooling its
 * input; Mul/Div their activation operands; dropout a one-byte mask; LRN input and
 * output; reshapes, concat, add and the like nothing; anything else its inputs. A tensor
 * two layers save is counted once. Under mixed precision float activations are half
 * precision.
 */
export function trainingBytes(
  layers: LayerState[],
  tensors: TensorLookup,
  params: { params: number; trainable: number; unknown?: readonly string[] },
  batch: number,
  opts: TrainingOptions,
): TrainingBytes {
  if (!OPTIMIZERS.includes(opts.optimizer)) {
    throw new ConvscopeError(`unknown optimizer '${opts.optimizer}' (known: ${OPTIMIZERS.join(", ")})`);
  }
  if (!PRECISIONS.includes(opts.precision)) {
    throw new ConvscopeError(`unknown precision '${opts.precision}' (known: ${PRECISIONS.join(", ")})`);
  }
  const mixed = opts.precision !== "fp32";
  const trainable = params.trainable;
  const buffers = params.params - params.trainable;
  const weights = add(mul(trainable, mixed ? 6 : 4), mul(buffers, 4));
  const gradients = mul(trainable, mixed ? 2 : 4);
  const optimizerState = mul(trainable, 4 * STATE_VALUES[opts.optimizer]);
  const activations = savedActivationBytes(layers, tensors, mixed);
  if (params.unknown && params.unknown.length > 0) {
    // Some weight's size is unknown: no part that counts weights is summed in part.
    return {
      optimizer: opts.optimizer,
      precision: opts.precision,
      batch,
      total: null,
      weights: null,
      gradients: null,
      optimizer_state: null,
      activations,
      dominant: null,
    };
  }
  const parts = { weights, gradients, optimizer_state: optimizerState, activations };
  let dominant: TrainingBytes["dominant"] = null;
  if (activations !== null) {
    dominant = (Object.keys(parts) as (keyof typeof parts)[]).reduce((a, b) => ((parts[b] ?? 0) > (parts[a] ?? 0) ? b : a));
  }
  return {
    optimizer: opts.optimizer,
    precision: opts.precision,
    batch,
    total: activations === null ? null : add(weights, gradients, optimizerState, activations),
    weights,
    gradients,
    optimizer_state: optimizerState,
    activations,
    dominant,
  };
}

/** Bytes of the activations the backward pass needs (whole batch), or null when a size is unknown. */
export function savedActivationBytes(layers: LayerState[], tensors: TensorLookup, mixed: boolean): number | null {
  const saved = new Set<string>();
  let extra = 0;
  let unknown = false;
  const elements = (name: string | undefined): number | null => {
    const s = name ? tensors.get(name)?.shape : undefined;
    return s ? numel(s) : null;
  };
  const isActivation = (name: string) => name !== "" && !tensors.get(name)?.constant;
  for (const l of layers) {
    if (l.folded) continue;
    const op = l.node.op;
    const ins = l.node.inputs.filter(isActivation);
    const out = l.node.outputs[0];
    if (SAVES_NOTHING.has(op)) continue;
    if (op === "Conv" || op === "ConvTranspose" || op === "Gemm") {
      if (ins.includes(l.node.inputs[0])) saved.add(l.node.inputs[0]);
    } else if (SAVES_OUTPUT.has(op)) saved.add(out);
    else if (op === "Dropout") {
      const n = elements(out);
      if (n === null) unknown = true;
      else extra = add(extra, n); // a one-byte mask per element
    } else if (op === "MaxPool" || op === "GlobalMaxPool") {
      saved.add(l.node.inputs[0]);
      const n = elements(out);
      if (n === null) unknown = true;
      else extra = add(extra, mul(8, n)); // int64 argmax indices
    } else if (NORMS.has(op)) {
      saved.add(l.node.inputs[0]);
      const groups = statGroups(l);
      if (groups === null) unknown = true;
      else extra = add(extra, mul(8, groups)); // fp32 mean and inverse std per group
    } else if (op === "LRN") {
      saved.add(l.node.inputs[0]);
      saved.add(out);
    } else for (const t of ins) saved.add(t);
  }
  if (unknown) return null;
  let total = extra;
  for (const name of saved) {
    const t = tensors.get(name);
    const n = elements(name);
    if (!t || n === null) return null;
    total = add(total, mixed && isFloat(t.dtype) ? mul(2, n) : byteSize(n, t.dtype));
  }
  return total;
}

/** Normalized groups of a norm layer: BN per channel, instance per (N, C), group per (N, G), layer norm per row. */
function statGroups(l: LayerState): number | null {
  const x = l.ctx.inputs[0]?.shape;
  if (!x) return null;
  const op = l.node.op;
  if (op === "BatchNormalization") return typeof x[1] === "number" ? x[1] : null;
  if (op === "InstanceNormalization") return numel(x.slice(0, 2));
  if (op === "GroupNormalization") return numel([x[0], l.ctx.attrs.int("num_groups")]);
  let axis = l.ctx.attrs.int("axis", -1);
  if (axis < 0) axis += x.length;
  return numel(x.slice(0, axis));
}
