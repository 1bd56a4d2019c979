import type { Dim } from "../../core/shape.js";
import { type Call, fail, kshape, one, type Translate, weight, weightDim } from "./call.js";

/**
 * Layers of Keras 3 and of keras.applications beyond the classic set: LayerScale
 * (ConvNeXt), CustomScaleLayer (InceptionResNetV2), GroupNormalization,
 * UnitNormalization, Embedding and MultiHeadAttention. Weight shapes and names follow the
 * Keras sources (`keras/src/layers/…`, `keras/src/applications/…`), so parameters equal
 * Keras' count_params(); the computation is written with the canonical ops, so MACs come
 * from the one set of op rules.
 */

function needShape(c: Call, x: string) {
  const s = kshape(c, x);
  if (!s) fail(c, "input shape is unknown (an earlier layer could not be inferred)");
  return s;
}

/** A [n] per-channel tensor as it broadcasts against a rank-`rank` IR tensor (channels-first: [n, 1, …]). */
function channelShape(c: Call, n: Dim, rank: number): Dim[] {
  return rank >= 3 && !c.em.channelsFirst ? [n, ...new Array(rank - 2).fill(1)] : [n];
}

/**
 * LayerScale (keras/src/applications/convnext.py): `x * gamma`, gamma a trainable vector
 * of `projection_dim` (the channels). Element-wise: 0 MACs.
 */
const layerScale: Translate = (c) => {
  const x = one(c);
  const ks = needShape(c, x);
  const n = c.cfg.has("projection_dim") ? c.cfg.int("projection_dim") : weightDim(c, ks[ks.length - 1], "projection_dim");
  const gamma = weight(c, "gamma", channelShape(c, n, ks.length), [n]);
  return c.em.node("Mul", c.name, [x, gamma], {}, c.cls);
};

/**
 * CustomScaleLayer (keras/src/applications/inception_resnet_v2.py): `inputs[0] + inputs[1] * scale`,
 * the residual branch scaled by a constant (`<layer>/scale`, then the Add). No weights.
 */
const customScale: Translate = (c) => {
  if (c.inputs.length !== 2) fail(c, `CustomScaleLayer takes two inputs, got ${c.inputs.length}`);
  const s = c.em.floats(`${c.name}/scale_value`, [c.cfg.num("scale")], []);
  const scaled = c.em.node("Mul", `${c.name}/scale`, [c.inputs[1], s], {}, c.cls)[0];
  return c.em.node("Add", c.name, [c.inputs[0], scaled], {}, c.cls);
};

/** The channel axis a normalization must use (convscope shows channels at IR axis 1). */
function channelNormAxis(c: Call, rank: number): void {
  const axis = c.cfg.int("axis", -1);
  if (rank < 3) fail(c, `${c.cls} needs an input of rank ≥ 3 (N, spatial…, C), got rank ${rank}`);
  if (c.em.axis(axis, rank, c.name) !== 1) fail(c, `${c.cls} over axis ${axis} (not the channel axis) is not supported`);
}

/**
 * GroupNormalization (keras/src/layers/normalization/group_normalization.py): statistics per
 * group of C/groups channels over all positions; gamma and beta of C (ONNX
 * GroupNormalization-21's scale and bias shapes).
 */
const groupNorm: Translate = (c) => {
  const x = one(c);
  const ks = needShape(c, x);
  channelNormAxis(c, ks.length);
  const C = weightDim(c, ks[ks.length - 1], "channels");
  const groups = c.cfg.int("groups", 32);
  const g = groups === -1 && typeof C === "number" ? C : groups;
  if (typeof C === "number" && C % g !== 0) fail(c, `${C} channels cannot form ${g} groups`);
  const inputs = [
    x,
    c.cfg.bool("scale", true) ? weight(c, "gamma", [C], [C]) : "",
    c.cfg.bool("center", true) ? weight(c, "beta", [C], [C]) : "",
  ];
  return c.em.node("GroupNormalization", c.name, inputs, { num_groups: g, epsilon: c.cfg.num("epsilon", 1e-3) }, c.cls);
};

/** UnitNormalization: x / ‖x‖₂ over `axis` (default −1); one axis is LpNormalization, several are ReduceL2 then Div. */
const unitNorm: Translate = (c) => {
  const x = one(c);
  const rank = needShape(c, x).length;
  const axes = [...new Set(c.cfg.ints("axis", [-1]).map((a) => c.em.axis(a, rank, c.name)))].sort((a, b) => a - b);
  if (axes.length === 1) return c.em.node("LpNormalization", c.name, [x], { axis: axes[0], p: 2 }, c.cls);
  const norm = c.em.node("ReduceL2", `${c.name}/norm`, [x, c.em.ints(`${c.name}/axes`, axes)], { keepdims: 1 }, c.cls)[0];
  return c.em.node("Div", c.name, [x, norm], {}, c.cls);
};

/**
 * Embedding (keras/src/layers/core/embedding.py): a trainable [input_dim, output_dim] table
 * looked up by index (Gather: 0 MACs). The result [indices…, output_dim] is channels-last
 * in Keras; when it has rank ≥ 3 a Transpose `<layer>/layout` shows it channels-first like
 * every other tensor.
 */
const embedding: Translate = (c) => {
  const x = one(c);
  const rank = needShape(c, x).length;
  const n = c.cfg.int("input_dim");
  const d = c.cfg.int("output_dim");
  const table = weight(c, "embeddings", [n, d], [n, d]);
  const y = c.em.node("Gather", c.name, [table, x], { axis: 0 }, c.cls);
  const out = rank + 1;
  if (out < 3 || c.em.channelsFirst) return y;
  return c.em.node("Transpose", `${c.name}/layout`, y, { perm: [0, out - 1, ...Array.from({ length: out - 2 }, (_, i) => i + 1)] }, c.cls);
};

/**
 * MultiHeadAttention (keras/src/layers/attention/multi_head_attention.py) on [N, T, D]
 * tokens, as Keras builds it: EinsumDense projections query [Dq, H, k] (+ bias [H, k]),
 * key [Dk, H, k], value [Dv, H, v], output [H, v, Do] (+ bias [Do]); the query scaled by
 * 1/√k, scores Q·Kᵀ per head, softmax over the keys, A·V, the output projection. Written
 * as 1×1 convolutions on the channels-first tokens [N, D, T] (exactly a Dense on the last
 * axis), Reshape/Transpose into heads, and two batched MatMuls, so the MACs are the
 * reference's Tq·Dq·H·k + Tv·Dk·H·k + Tv·Dv·H·v + H·Tq·Tv·k + H·Tq·Tv·v + Tq·H·v·Do.
 * Nodes: `<layer>/query`, `/key`, `/value`, `/scale`, `/scores`, `/softmax`, `/context`,
 * and the output projection `<layer>`.
 */
const multiHeadAttention: Translate = (c) => {
  // Keras 3 passes query, value (and key) positionally; Keras 2 writes value= and key= as keyword tensors.
  const kw = c.kwInputs ?? {};
  const [q, v = kw.value, k = kw.key ?? v] = c.inputs;
  if (c.inputs.length > 3 || q === undefined || v === undefined) {
    fail(c, `MultiHeadAttention takes query, value (and key), got ${c.inputs.length} positional inputs`);
  }
  const qs = needShape(c, q);
  const vs = needShape(c, v);
  const kks = needShape(c, k);
  if (qs.length !== 3 || vs.length !== 3 || kks.length !== 3) {
    fail(c, `MultiHeadAttention on rank-${qs.length} tensors is not supported (only [batch, tokens, features])`);
  }
  if (c.em.channelsFirst) fail(c, "MultiHeadAttention in a channels_first model is not supported");
  const axes = c.cfg.c.attention_axes;
  if (axes !== undefined && axes !== null && !(Array.isArray(axes) && axes.length === 1 && (axes[0] === 1 || axes[0] === -2))) {
    fail(c, `attention_axes ${JSON.stringify(axes)} is not supported (only the token axis)`);
  }
  if (c.cfg.bool("use_gate", false)) fail(c, "MultiHeadAttention with use_gate is not supported");
  const H = c.cfg.int("num_heads");
  const kd = c.cfg.int("key_dim");
  const vd = c.cfg.has("value_dim") ? c.cfg.int("value_dim") : kd;
  const bias = c.cfg.bool("use_bias", true);
  const Dq = weightDim(c, qs[2], "query_features");
  const Dk = weightDim(c, kks[2], "key_features");
  const Dv = weightDim(c, vs[2], "value_features");
  const out = c.cfg.c.output_shape;
  let Do: Dim = Dq;
  if (typeof out === "number") Do = out;
  else if (Array.isArray(out) && out.length === 1 && typeof out[0] === "number") Do = out[0];
  else if (out !== undefined && out !== null) fail(c, `output_shape ${JSON.stringify(out)} is not supported`);
  const em = c.em;
  const conv1 = (name: string, x: string, w: string, b: string | undefined) =>
    em.node("Conv", name, b ? [x, w, b] : [x, w], { kernel_shape: [1], strides: [1], dilations: [1], pads: [0, 0] }, c.cls)[0];
  const proj = (which: "query" | "key" | "value", x: string, din: Dim, per: number) => {
    const w = weight(c, `${which}/kernel`, [H * per, din, 1], [din, H, per]);
    const b = bias ? weight(c, `${which}/bias`, [H * per], [H, per]) : undefined;
    const p = conv1(`${c.name}/${which}`, x, w, b);
    return em.node("Reshape", `${c.name}/${which}/heads`, [p, em.ints(`${c.name}/${which}/heads_shape`, [0, H, per, -1])], {}, c.cls)[0];
  };
  const swap = (name: string, x: string) => em.node("Transpose", name, [x], { perm: [0, 1, 3, 2] }, c.cls)[0];
  const qh = proj("query", q, Dq, kd); // [N, H, k, Tq]
  const kh = proj("key", k, Dk, kd); // [N, H, k, Tv]
  const vh = proj("value", v, Dv, vd); // [N, H, v, Tv]
  const qt = swap(`${c.name}/query/tokens_first`, qh); // [N, H, Tq, k]
  const qscaled = em.node("Mul", `${c.name}/scale`, [qt, em.floats(`${c.name}/scale_value`, [1 / Math.sqrt(kd)], [])], {}, c.cls)[0];
  const scores = em.node("MatMul", `${c.name}/scores`, [qscaled, kh], {}, c.cls)[0]; // [N, H, Tq, Tv]
  const probs = em.node("Softmax", `${c.name}/softmax`, [scores], { axis: 3 }, c.cls)[0];
  const vt = swap(`${c.name}/value/tokens_first`, vh); // [N, H, Tv, v]
  const ctx = em.node("MatMul", `${c.name}/context`, [probs, vt], {}, c.cls)[0]; // [N, H, Tq, v]
  const merged = em.node(
    "Reshape",
    `${c.name}/merge_heads`,
    [swap(`${c.name}/context/features_first`, ctx), em.ints(`${c.name}/merge_shape`, [0, H * vd, -1])],
    {},
    c.cls,
  )[0]; // [N, H·v, Tq]
  const wo = weight(c, "attention_output/kernel", [Do, H * vd, 1], [H, vd, Do]);
  const bo = bias ? weight(c, "attention_output/bias", [Do], [Do]) : undefined;
  return [conv1(c.name, merged, wo, bo)];
};

export const BLOCK_LAYERS: Record<string, Translate> = {
  LayerScale: layerScale,
  CustomScaleLayer: customScale,
  GroupNormalization: groupNorm,
  UnitNormalization: unitNorm,
  Embedding: embedding,
  MultiHeadAttention: multiHeadAttention,
};
