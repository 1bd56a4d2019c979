import type { DType } from "../core/dtype.js";
import { ConvscopeError } from "../core/errors.js";
import type { AttrValue, Node } from "../core/graph.js";
import type { Shape } from "../core/shape.js";

/** What a pass knows about a tensor when a rule looks at it. */
export interface TensorState {
  name: string;
  dtype: DType;
  shape?: Shape;
  /** Element values, when known (constants, and shape arithmetic like Shape→Gather→Concat). */
  value?: readonly number[];
  /** A stored constant (weight, bias, shape constant). */
  constant: boolean;
}

/** What a rule infers for one output. `shape` undefined means unknown. */
export interface OutputState {
  dtype: DType;
  shape?: Shape;
  value?: readonly number[];
}

/**
 * Arithmetic of one layer, for the whole tensor (all of the batch), split so that every
 * counting convention can be derived from it (see analysis/conventions.ts).
 */
export interface Cost {
  /** Multiply–accumulates of conv, transposed conv, fully-connected, matmul. */
  macs: number;
  /** Bias additions (one per output element that has a bias). */
  bias: number;
  add: number;
  mul: number;
  div: number;
  exp: number;
  cmp: number;
  /** The seed article's count (conv `(k·k·c_in/g+1)·H·W·c_out`, FC `(o1+1)·o2`); 0 for other ops. */
  seed: number;
}

export const ZERO_COST: Cost = { macs: 0, bias: 0, add: 0, mul: 0, div: 0, exp: 0, cmp: 0, seed: 0 };

export function cost(p: Partial<Cost>): Cost {
  return {
    macs: p.macs ?? 0,
    bias: p.bias ?? 0,
    add: p.add ?? 0,
    mul: p.mul ?? 0,
    div: p.div ?? 0,
    exp: p.exp ?? 0,
    cmp: p.cmp ?? 0,
    seed: p.seed ?? 0,
  };
}

/**
 * How output positions relate to input positions, for the receptive-field pass. Fields
 * speak of *tensor axes*; the pass knows which tensor axes are image (spatial) axes, so a
 * layout change (NCHW → NHWC by Transpose) is followed exactly.
 *
 * - `window`: a sliding window over the trailing `kernel.length` axes of input 0 (conv,
 *   pooling, Pad as kernel 1 with padding, Slice crops as negative padding with a step).
 * - `resample`: the general rational window on the trailing `axes.length` axes of input 0:
 *   output index o reads input indices floor((num·o + lo)/den) … floor((num·o + hi)/den).
 *   A window is num = stride, den = 1, lo = −pad, hi = −pad + k_eff − 1; nearest 2× up-sampling
 *   is num 1, den 2, lo = hi = 0; ConvTranspose, linear Resize and DepthToSpace are others.
 * - `pointwise`: each output position sees the same position of every input (activations,
 *   element-wise ops with broadcasting, concat along channels, BN).
 * - `axes`: input 0's axis i becomes output axis `map[i]` (null: removed) and the input axes
 *   in `mixed` are combined (reduced, contracted, flattened, softmaxed); mixing an image axis
 *   makes the output global. Covers Transpose, Squeeze/Unsqueeze, Reshape, Flatten,
 *   ReduceMean, Softmax, MatMul/Gemm on the feature axis, LayerNorm.
 * - `global`: each output depends on all positions (global pooling).
 * - `repeat`: a loop's result after `times` iterations, where input `from` is the state
 *   before the first iteration and input `to` the state after it: each iteration widens
 *   the field as the first did (a loop-carried state keeps its shape, so its stride).
 */
export type Field =
  | { kind: "window"; kernel: readonly number[]; stride: readonly number[]; padBegin: number[]; dilation: readonly number[] }
  | { kind: "resample"; axes: Resample[] }
  | { kind: "pointwise" }
  | { kind: "axes"; map: (number | null)[]; mixed: number[] }
  | { kind: "global" }
  | { kind: "repeat"; from: number; to: number; times: number };

/**
 * One axis of a rational window: output o reads inputs floor((num·o + lo)/den) …
 * floor((num·o + hi)/den), every `step`-th one from the first (a dilated window; default 1).
 */
export interface Resample {
  num: number;
  den: number;
  lo: number;
  hi: number;
  step?: number;
}

export interface RuleContext {
  node: Node;
  /** One entry per node input; undefined for omitted optional inputs. */
  inputs: (TensorState | undefined)[];
  /** Outputs as inferred (available to cost and field). */
  outputs: OutputState[];
  attrs: Attrs;
  opset: number;
  /** The rule's own per-layer scratch: geometry its `infer` worked out, reused by `cost` and `field`. */
  memo?: unknown;
}

export interface OpRule {
  /** Canonical op types this rule handles. */
  types: readonly string[];
  /** Family name shown in reports and used by conventions (`conv`, `pool`, `linear`, …). */
  family: string;
  infer(ctx: RuleContext): OutputState[];
  /** Inputs read for their values (shape, pads, scales…), never counted as parameters. */
  valueInputs?: readonly number[];
  /** Inputs that are non-trainable buffers (batch-norm running mean and variance). */
  bufferInputs?: readonly number[];
  /** Inputs that are weights whatever their dtype (a quantized int8 kernel, an int32 bias): parameters at their stored size. */
  weightInputs?: readonly number[];
  /**
   * Scales and zero points of a quantized op: reported apart (`totals.quant_params`), never
   * parameters. A function where they depend on the node (QLinearConcat's variadic inputs).
   */
  quantInputs?: readonly number[] | ((ctx: RuleContext) => readonly number[]);
  /** Outputs that are quantization scales or zero points (DynamicQuantizeLinear's): constants combined with them are too. */
  quantOutputs?: readonly number[];
  /** Single-element constant operands are literals of the computation (x·0.5, an attention scale), not parameters. */
  literalScalars?: boolean;
  /** Arithmetic; omitted means the op computes nothing (reshape, dropout at inference); null when it depends on unknown dims. */
  cost?(ctx: RuleContext): Cost | null;
  /** Geometry for the receptive field; omitted means pointwise. */
  field?(ctx: RuleContext): Field;
  /** Output may overwrite its first input when that input dies here (ReLU, BN, Add). */
  inPlace?: boolean;
  /**
   * The shape weight input `i` must have, given the data inputs: for a weight whose size a
   * file never states (a Caffe InnerProduct's [num_output, K], K the input's features), so
   * the analysis sizes it from the bound input. Undefined when it cannot tell.
   */
  weightShape?(ctx: RuleContext, i: number): Shape | undefined;
}

/** Typed attribute access with defaults and one-line errors naming the layer. */
export class Attrs {
  constructor(
    private readonly node: Node,
    private readonly values: Record<string, AttrValue> = node.attrs,
  ) {}

  has(name: string): boolean {
    return this.values[name] !== undefined;
  }

  int(name: string, def?: number): number {
    const v = this.values[name];
    if (v === undefined) return this.required(name, def);
    if (typeof v === "boolean") return v ? 1 : 0;
    if (typeof v !== "number" || !Number.isInteger(v)) this.bad(name, "an integer");
    return v;
  }

  float(name: string, def?: number): number {
    const v = this.values[name];
    if (v === undefined) return this.required(name, def);
    if (typeof v !== "number") this.bad(name, "a number");
    return v;
  }

  /**
   * The list itself, not a copy (read-only): a conv's window keeps its strides and dilations
   * for the whole analysis, and a copy per layer was that many more lists to keep.
   */
  ints(name: string, def?: readonly number[]): readonly number[] {
    const v = this.values[name];
    if (v === undefined) return this.required(name, def);
    if (typeof v === "number" && Number.isInteger(v)) return [v];
    if (!Array.isArray(v)) this.bad(name, "a list of integers");
    for (let i = 0; i < v.length; i++) if (typeof v[i] !== "number" || !Number.isInteger(v[i])) this.bad(name, "a list of integers");
    return v as number[];
  }

  str(name: string, def?: string): string {
    const v = this.values[name];
    if (v === undefined) return this.required(name, def);
    if (typeof v !== "string") this.bad(name, "a string");
    return v;
  }

  private required<T>(name: string, def: T | undefined): T {
    if (def === undefined) throw new ConvscopeError(`missing attribute '${name}'`, { layer: this.node.name });
    return def;
  }

  private bad(name: string, what: string): never {
    throw new ConvscopeError(`attribute '${name}' must be ${what}`, { layer: this.node.name });
  }
}

/** What `make` works out for this layer, made once: `infer`, `cost` and `field` share it. */
export function memo<T>(ctx: RuleContext, make: () => T): T {
  ctx.memo ??= make();
  return ctx.memo as T;
}

/** Throws the one-line error for a layer. */
export function layerError(ctx: RuleContext, message: string): never {
  throw new ConvscopeError(message, { layer: ctx.node.name });
}

/** The input's shape, or an error naming the layer when it is missing. */
export function inputShape(ctx: RuleContext, i: number): Shape | undefined {
  const t = ctx.inputs[i];
  if (!t) layerError(ctx, `input ${i} is missing`);
  return t.shape;
}
