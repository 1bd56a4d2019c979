import type { AttrValue } from "../../core/graph.js";
import type { Dim } from "../../core/shape.js";
import { fusedActivation } from "./activation.js";
import { type Call, channelAxis, checkLayout, fail, kshape, one, type Translate, times, weight, weightDim } from "./call.js";

/**
 * Keras' weighted layers: convolutions (plain, grouped, depthwise, separable, transposed)
 * and Dense. Weights get ONNX's shapes ([M, C/group, k…]) so the canonical rules check
 * them; their Keras shapes ([k…, C/group, M]) are kept for the weights-manifest check.
 * Element counts are the same, so parameters equal Keras' `count_params()`.
 */

type Kind = "conv" | "depthwise" | "separable" | "transpose";

/** Keras `padding` as ONNX window attributes; `same` is TensorFlow's SAME (extra pixel at the end) = SAME_UPPER. */
function padding(c: Call, kernel: number[], dilation: number[]): Record<string, AttrValue> {
  const p = c.cfg.str("padding", "valid").toLowerCase();
  const n = kernel.length;
  if (p === "valid") return { pads: new Array(2 * n).fill(0) };
  if (p === "same") return { auto_pad: "SAME_UPPER" };
  if (p === "causal" && n === 1) return { pads: [dilation[0] * (kernel[0] - 1), 0] };
  return fail(c, `padding '${p}' is not supported`);
}

function convolution(d: number, kind: Kind): Translate {
  return (c) => {
    checkLayout(c);
    const x = one(c);
    const ks = kshape(c, x, d + 2);
    const cin = weightDim(c, ks?.[channelAxis(c, d + 2)], "in_channels");
    const kernel = c.cfg.tuple("kernel_size", d);
    const strides = c.cfg.tuple("strides", d, 1);
    const dilations = c.cfg.tuple("dilation_rate", d, 1);
    const bias = c.cfg.bool("use_bias", true);
    const ones = new Array(d).fill(1);
    const window = { kernel_shape: kernel, strides, dilations };
    const conv = (name: string, inputs: string[], attrs: Record<string, AttrValue>) => c.em.node("Conv", name, inputs, attrs, c.cls)[0];
    let y: string;
    if (kind === "conv") {
      const filters = c.cfg.int("filters");
      const groups = c.cfg.int("groups", 1);
      if (typeof cin === "number" && cin % groups !== 0) fail(c, `${cin} input channels are not divisible by ${groups} groups`);
      const cg: Dim = typeof cin === "number" ? cin / groups : cin;
      const inputs = [x, weight(c, "kernel", [filters, cg, ...kernel], [...kernel, cg, filters])];
      if (bias) inputs.push(weight(c, "bias", [filters], [filters]));
      y = conv(c.name, inputs, { ...window, ...padding(c, kernel, dilations), group: groups });
    } else if (kind === "depthwise" || kind === "separable") {
      // Depthwise: one k×k filter per input channel and multiplier (group = C_in).
      const dm = c.cfg.int("depth_multiplier", 1);
      const m = times(cin, dm);
      const group = typeof cin === "number" ? cin : 1;
      const inputs = [x, weight(c, "depthwise_kernel", [m, 1, ...kernel], [...kernel, cin, dm])];
      if (kind === "depthwise") {
        if (bias) inputs.push(weight(c, "bias", [m], [m]));
        y = conv(c.name, inputs, { ...window, ...padding(c, kernel, dilations), group });
      } else {
        // Separable: the depthwise step (no bias) then a 1×1 pointwise conv with the bias, as Keras computes it.
        const dw = conv(`${c.name}/depthwise`, inputs, { ...window, ...padding(c, kernel, dilations), group });
        const filters = c.cfg.int("filters");
        const pw = [dw, weight(c, "pointwise_kernel", [filters, m, ...ones], [...ones, m, filters])];
        if (bias) pw.push(weight(c, "bias", [filters], [filters]));
        y = conv(c.name, pw, { kernel_shape: ones, strides: ones, dilations: ones, pads: new Array(2 * d).fill(0), group: 1 });
      }
    } else {
      const filters = c.cfg.int("filters");
      const inputs = [x, weight(c, "kernel", [cin, filters, ...kernel], [...kernel, filters, cin])];
      if (bias) inputs.push(weight(c, "bias", [filters], [filters]));
      y = c.em.node("ConvTranspose", c.name, inputs, { ...window, ...transposePadding(c, kernel, strides, dilations), group: 1 }, c.cls)[0];
    }
    return [fusedActivation(c, y)];
  };
}

/**
 * Keras' transposed-conv output length (conv_utils.deconv_output_length) as ONNX attributes:
 * without output_padding, `valid` gives n·s + max(k_eff − s, 0) (ONNX: output_padding
 * max(s − k_eff, 0)) and `same` gives n·s (ONNX SAME_UPPER); with it, pads are k_eff//2 for
 * `same` and 0 for `valid` on both sides.
 */
function transposePadding(c: Call, kernel: number[], strides: number[], dilations: number[]): Record<string, AttrValue> {
  const p = c.cfg.str("padding", "valid").toLowerCase();
  if (p !== "valid" && p !== "same") fail(c, `padding '${p}' is not supported`);
  const n = kernel.length;
  const keff = kernel.map((k, i) => dilations[i] * (k - 1) + 1);
  if (!c.cfg.has("output_padding")) {
    if (p === "same") return { auto_pad: "SAME_UPPER" };
    const extra = keff.map((k, i) => Math.max(strides[i] - k, 0));
    return { pads: new Array(2 * n).fill(0), ...(extra.some((e) => e > 0) ? { output_padding: extra } : {}) };
  }
  const out = c.cfg.tuple("output_padding", n);
  const pad = keff.map((k) => (p === "same" ? Math.floor(k / 2) : 0));
  return { pads: [...pad, ...pad], output_padding: out };
}

/**
 * Dense on the last axis. On a 2-d input it is Gemm. On a channels-last tensor of rank ≥ 3
 * the last Keras axis is the IR's channel axis, so it is exactly a 1×1 convolution (same
 * weights, MACs and field); on a channels-first model it is MatMul plus a bias Add.
 */
const dense: Translate = (c) => {
  const x = one(c);
  const ks = kshape(c, x);
  const units = c.cfg.int("units");
  const bias = c.cfg.bool("use_bias", true);
  const rank = ks?.length ?? 2;
  const fin = weightDim(c, ks?.[rank - 1], "in_features");
  const b = () => weight(c, "bias", [units], [units]);
  let y: string;
  if (rank === 2) {
    const inputs = [x, weight(c, "kernel", [fin, units], [fin, units])];
    if (bias) inputs.push(b());
    y = c.em.node("Gemm", c.name, inputs, {}, c.cls)[0];
  } else if (!c.em.channelsFirst) {
    const ones = new Array(rank - 2).fill(1);
    const inputs = [x, weight(c, "kernel", [units, fin, ...ones], [fin, units])];
    if (bias) inputs.push(b());
    y = c.em.node(
      "Conv",
      c.name,
      inputs,
      { kernel_shape: ones, strides: ones, dilations: ones, pads: new Array(2 * ones.length).fill(0) },
      c.cls,
    )[0];
  } else {
    y = c.em.node("MatMul", c.name, [x, weight(c, "kernel", [fin, units], [fin, units])], {}, c.cls)[0];
    if (bias) y = c.em.node("Add", `${c.name}/bias`, [y, b()], {}, c.cls)[0];
  }
  return [fusedActivation(c, y)];
};

export const CONV_LAYERS: Record<string, Translate> = {
  Conv1D: convolution(1, "conv"),
  Conv2D: convolution(2, "conv"),
  Conv3D: convolution(3, "conv"),
  DepthwiseConv1D: convolution(1, "depthwise"),
  DepthwiseConv2D: convolution(2, "depthwise"),
  SeparableConv1D: convolution(1, "separable"),
  SeparableConv2D: convolution(2, "separable"),
  Conv1DTranspose: convolution(1, "transpose"),
  Conv2DTranspose: convolution(2, "transpose"),
  Conv3DTranspose: convolution(3, "transpose"),
  Dense: dense,
};
