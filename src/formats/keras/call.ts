import type { DType } from "../../core/dtype.js";
import { ConvscopeError } from "../../core/errors.js";
import type { Dim, Shape } from "../../core/shape.js";
import type { Cfg, Json, JsonObject } from "./config.js";
import type { Emitter } from "./emit.js";

/** One call of a Keras layer, as the translators see it. */
export interface Call {
  em: Emitter;
  cls: string;
  cfg: Cfg;
  /** Node name: the Keras layer name, suffixed `_1`, `_2` … for later calls of a shared layer. */
  name: string;
  /** Prefix of the layer's weight names, the same for every call. */
  wname: string;
  inputs: string[];
  /** False when the layer (or a model containing it) is frozen. */
  trainable: boolean;
  /** Storage type of the layer's variables. */
  wdtype: DType;
  /** Keras 3 serialization (changes a few defaults, e.g. hard_sigmoid's slope). */
  keras3: boolean;
  /**
   * Keras 3: this call's positional arguments as serialized, tensors (`__keras_tensor__`,
   * in order the same as `inputs`) mixed with literals (`x + 3.0` has `[tensor, 3.0]`).
   */
  args?: Json[];
  /** Keras 3: this call's keyword arguments as serialized. */
  kwargs?: JsonObject;
  /** Tensors passed by keyword (`value=` of a Keras 2 MultiHeadAttention, `y=` of a TFOpLambda). */
  kwInputs?: Record<string, string>;
  /** This call's inbound node as serialized (Keras 2 list or Keras 3 object). */
  node?: Json;
}

/** Translates one call into IR nodes; returns the IR tensors of the layer's outputs. */
export type Translate = (c: Call) => string[];

export function fail(c: Call, message: string): never {
  throw new ConvscopeError(message, { layer: c.name });
}

/** The single input of a one-input layer. */
export function one(c: Call): string {
  if (c.inputs.length !== 1) fail(c, `${c.cls} takes one input, got ${c.inputs.length}`);
  return c.inputs[0];
}

/** The Keras-view shape of input `x`, checked to have `rank` dims when that is given and known. */
export function kshape(c: Call, x: string, rank?: number): Shape | undefined {
  const s = c.em.kshape(x);
  if (s && rank !== undefined && s.length !== rank) fail(c, `${c.cls} expects a ${rank}-d input, got ${s.length}-d (${s.join("×")})`);
  return s;
}

/** Keras' channel axis of a rank-`rank` tensor (last, or 1 for channels_first models). */
export function channelAxis(c: Call, rank: number): number {
  return c.em.channelsFirst ? 1 : rank - 1;
}

/**
 * A dim a weight shape needs. Unknown only when an earlier op had no shape rule: the
 * weight then gets a symbolic dim, so its count is reported unknown rather than wrong.
 */
export function weightDim(c: Call, d: Dim | undefined, what: string): Dim {
  if (typeof d === "number") return d;
  const note = `layer '${c.name}': its input shape is unknown (an earlier layer could not be inferred), so its weights are not counted`;
  if (!c.em.g.notes.includes(note)) c.em.g.notes.push(note);
  return `${c.name}.${what}`;
}

/** d·k for a weight dim that may be symbolic. */
export function times(d: Dim, k: number): Dim {
  return typeof d === "number" ? d * k : k === 1 ? d : `${d}·${k}`;
}

/** A weight of this layer, named `<layer>/<suffix>` as Keras names it. */
export function weight(c: Call, suffix: string, ir: Shape, keras: Shape, trainable = c.trainable): string {
  return c.em.weight(`${c.wname}/${suffix}`, ir, keras, trainable, c.wdtype);
}

/** Refuses a layer whose data_format differs from the model's (one layout per model). */
export function checkLayout(c: Call): void {
  if (!c.cfg.has("data_format")) return;
  const first = c.cfg.str("data_format") === "channels_first";
  if (first !== c.em.channelsFirst) {
    fail(c, `is ${c.cfg.str("data_format")} in a model whose other layers are not; convscope reads one layout per model`);
  }
}
