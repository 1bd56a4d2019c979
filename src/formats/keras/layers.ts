import type { AttrValue } from "../../core/graph.js";
import type { Dim } from "../../core/shape.js";
import { ACTIVATION_LAYERS } from "./activation.js";
import { BLOCK_LAYERS } from "./blocks.js";
import { type Call, checkLayout, fail, kshape, one, type Translate, weight, weightDim } from "./call.js";
import { CONV_LAYERS } from "./conv.js";
import { tfOpLambda } from "./ops.js";

/**
 * Every Keras layer class convscope translates, by class name (Keras 2, Keras 3 and
 * TensorFlow.js use the same names). A class not listed becomes an unknown `keras::Class`
 * node. Pads, shapes, scales and slice bounds are int64/float constant operands, as
 * ONNX passes them.
 */

/** Keras rank-`rank` axes as sorted, non-negative indices. */
function kerasAxes(c: Call, axes: number[], rank: number): number[] {
  const out = axes.map((a) => (a < 0 ? a + rank : a));
  if (out.some((a) => a < 0 || a >= rank)) fail(c, `axis ${axes.join(",")} is out of range for rank ${rank}`);
  return [...new Set(out)].sort((a, b) => a - b);
}

function needShape(c: Call, x: string, rank?: number) {
  const s = kshape(c, x, rank);
  if (!s) fail(c, "input shape is unknown (an earlier layer could not be inferred)");
  return s;
}

function windowPadding(c: Call, n: number): Record<string, AttrValue> {
  const p = c.cfg.str("padding", "valid").toLowerCase();
  if (p === "valid") return { pads: new Array(2 * n).fill(0) };
  if (p === "same") return { auto_pad: "SAME_UPPER" };
  return fail(c, `padding '${p}' is not supported`);
}

function pooling(d: number, op: "MaxPool" | "AveragePool"): Translate {
  return (c) => {
    checkLayout(c);
    const x = one(c);
    kshape(c, x, d + 2);
    const kernel = c.cfg.tuple("pool_size", d, 2);
    const strides = c.cfg.has("strides") ? c.cfg.tuple("strides", d) : kernel;
    return c.em.node(op, c.name, [x], { kernel_shape: kernel, strides, ...windowPadding(c, d) }, c.cls);
  };
}

/** Global pooling; without keepdims Keras drops the spatial axes, here a Flatten `<layer>/squeeze`. */
function globalPooling(d: number, op: "GlobalAveragePool" | "GlobalMaxPool"): Translate {
  return (c) => {
    checkLayout(c);
    const x = one(c);
    kshape(c, x, d + 2);
    const y = c.em.node(op, c.name, [x], {}, c.cls);
    if (c.cfg.bool("keepdims", false)) return y;
    return c.em.node("Flatten", `${c.name}/squeeze`, y, { axis: 1 }, c.cls);
  };
}

/** Batch norm: gamma and beta (if scale/center) follow the layer's trainable flag; moving statistics never train. */
const batchNorm: Translate = (c) => {
  const x = one(c);
  const ks = needShape(c, x);
  const axes = kerasAxes(c, c.cfg.ints("axis", [-1]), ks.length);
  const k = axes.map((a) => weightDim(c, ks[a], "features"));
  const ir = [k.reduce<Dim>((p, d) => (typeof p === "number" && typeof d === "number" ? p * d : `${p}·${d}`), 1)];
  const inputs = [
    x,
    c.cfg.bool("scale", true) ? weight(c, "gamma", ir, k) : "",
    c.cfg.bool("center", true) ? weight(c, "beta", ir, k) : "",
    weight(c, "moving_mean", ir, k, false),
    weight(c, "moving_variance", ir, k, false),
  ];
  return c.em.node("BatchNormalization", c.name, inputs, { epsilon: c.cfg.num("epsilon", 1e-3) }, c.cls);
};

/**
 * Layer norm over the Keras `axis` list. ONNX normalizes a trailing block of axes; when the
 * axes are not trailing in the IR (the channel axis of a channels-last tensor) the node is
 * wrapped in Transposes `<layer>/to_last`, `<layer>/from_last`, so the receptive field sees
 * a per-position normalization, which is what Keras computes.
 */
const layerNorm: Translate = (c) => {
  const x = one(c);
  const ks = needShape(c, x);
  const rank = ks.length;
  const axes = kerasAxes(c, c.cfg.ints("axis", [-1]), rank);
  const k = axes.map((a) => weightDim(c, ks[a], "features"));
  const rms = c.cfg.bool("rms_scaling", false);
  const scale = c.cfg.bool("scale", true) || rms ? weight(c, "gamma", k, k) : "";
  const center = c.cfg.bool("center", true) && !rms ? weight(c, "beta", k, k) : "";
  const irAxes = axes.map((a) => c.em.axis(a, rank, c.name)).sort((a, b) => a - b);
  const first = rank - irAxes.length;
  const attrs = { axis: first, epsilon: c.cfg.num("epsilon", 1e-3) };
  if (irAxes.every((a, i) => a === first + i)) return c.em.node("LayerNormalization", c.name, [x, scale, center], attrs, c.cls);
  const perm = [...Array.from({ length: rank }, (_, i) => i).filter((i) => !irAxes.includes(i)), ...irAxes];
  const inverse = perm.map((_, i) => perm.indexOf(i));
  const t = c.em.node("Transpose", `${c.name}/to_last`, [x], { perm }, c.cls);
  const y = c.em.node("LayerNormalization", c.name, [t[0], scale, center], attrs, c.cls);
  return c.em.node("Transpose", `${c.name}/from_last`, y, { perm: inverse }, c.cls);
};

/** Add, Multiply, … : element-wise over two or more inputs (ONNX's variadic form when it has one). */
function merge(op: string, many = op): Translate {
  return (c) => {
    if (c.inputs.length < 2) fail(c, `${c.cls} needs at least two inputs, got ${c.inputs.length}`);
    return c.em.node(c.inputs.length > 2 ? many : op, c.name, c.inputs, {}, c.cls);
  };
}

const concatenate: Translate = (c) => {
  if (c.inputs.length < 1) fail(c, "Concatenate has no inputs");
  const rank = c.em.shape(c.inputs[0])?.length;
  const axis = c.cfg.int("axis", -1);
  const ir = rank === undefined ? (c.em.channelsFirst ? axis : 1) : c.em.axis(axis, rank, c.name);
  return c.em.node("Concat", c.name, c.inputs, { axis: ir }, c.cls);
};

/** Begin/end amounts per spatial axis from `key` (ZeroPadding's padding, Cropping's cropping). */
function spatialPairs(c: Call, key: string, d: number): [number, number][] {
  const pairs = c.cfg.pairs(key, d, key === "padding" ? 1 : 0);
  if (pairs.some(([a, b]) => a < 0 || b < 0)) fail(c, `${key} must not be negative`);
  return pairs;
}

/** ZeroPadding → Pad with ONNX pads [0, 0, begins…, 0, 0, ends…] (spatial axes are 2… in the IR). */
function zeroPadding(d: number): Translate {
  return (c) => {
    checkLayout(c);
    const x = one(c);
    kshape(c, x, d + 2);
    const p = spatialPairs(c, "padding", d);
    const pads = c.em.ints(`${c.name}/pads`, [0, 0, ...p.map((q) => q[0]), 0, 0, ...p.map((q) => q[1])]);
    return c.em.node("Pad", c.name, [x, pads], { mode: "constant" }, c.cls);
  };
}

/** Cropping → Slice on the spatial axes; an end crop on an unknown size is a negative end. */
function cropping(d: number): Translate {
  return (c) => {
    checkLayout(c);
    const x = one(c);
    kshape(c, x, d + 2);
    const p = spatialPairs(c, "cropping", d);
    const ir = c.em.shape(x);
    const ends = p.map(([, e], i) => {
      const size = ir?.[i + 2];
      if (typeof size === "number") return size - e;
      return e > 0 ? -e : Number.MAX_SAFE_INTEGER;
    });
    const axes = p.map((_, i) => i + 2);
    const inputs = [
      x,
      c.em.ints(
        `${c.name}/starts`,
        p.map((q) => q[0]),
      ),
      c.em.ints(`${c.name}/ends`, ends),
      c.em.ints(`${c.name}/axes`, axes),
    ];
    return c.em.node("Slice", c.name, inputs, {}, c.cls);
  };
}

const RESIZE_MODES: Record<string, string> = { nearest: "nearest", bilinear: "linear", bicubic: "cubic" };

/** UpSampling → Resize with constant scales [1, 1, size…]. */
function upSampling(d: number): Translate {
  return (c) => {
    checkLayout(c);
    const x = one(c);
    kshape(c, x, d + 2);
    const size = c.cfg.tuple("size", d, 2);
    const interpolation = c.cfg.str("interpolation", "nearest");
    const mode = RESIZE_MODES[interpolation];
    if (!mode) fail(c, `interpolation '${interpolation}' is not supported`);
    const scales = c.em.floats(`${c.name}/scales`, [1, 1, ...size]);
    const attrs: Record<string, AttrValue> =
      mode === "nearest"
        ? { mode, coordinate_transformation_mode: "asymmetric", nearest_mode: "floor" }
        : { mode, coordinate_transformation_mode: "half_pixel" };
    return c.em.node("Resize", c.name, [x, "", scales], attrs, c.cls);
  };
}

/**
 * Reshape: Keras' target (without the batch) in IR order, batch copied (ONNX 0). The data
 * order differs from Keras' channels-last reshape, but every shape, size and count is the same.
 */
const reshape: Translate = (c) => {
  const x = one(c);
  const target = c.cfg.ints("target_shape", []);
  if (target.length === 0) fail(c, 'Reshape has no "target_shape"');
  const shape = c.em.toIR([0, ...target]).map((d) => d as number);
  return c.em.node("Reshape", c.name, [x, c.em.ints(`${c.name}/shape`, shape)], {}, c.cls);
};

/** Permute: Keras' 1-based `dims` as an IR Transpose: perm[ir(j)] = ir(dims[j]). */
const permute: Translate = (c) => {
  const x = one(c);
  const dims = [0, ...c.cfg.ints("dims", [])];
  const rank = dims.length;
  if ([...dims].sort((a, b) => a - b).some((d, i) => d !== i))
    fail(c, `dims ${dims.slice(1).join(",")} are not a permutation of 1…${rank - 1}`);
  const perm = new Array<number>(rank);
  dims.forEach((d, j) => {
    perm[c.em.axis(j, rank, c.name)] = c.em.axis(d, rank, c.name);
  });
  return c.em.node("Transpose", c.name, [x], { perm }, c.cls);
};

/** Shape of a per-channel constant broadcast against a rank-`rank` input (scalar when one value). */
function channelConstShape(c: Call, n: number, rank: number | undefined): number[] {
  if (n === 1) return [];
  return rank !== undefined && rank >= 3 && !c.em.channelsFirst ? [n, ...new Array(rank - 2).fill(1)] : [n];
}

/** Rescaling: x·scale (+ offset, node `<layer>/offset`). No weights, as in Keras. */
const rescaling: Translate = (c) => {
  const x = one(c);
  const rank = c.em.shape(x)?.length;
  const scale = c.cfg.numbers("scale") ?? [1];
  const offset = c.cfg.numbers("offset") ?? [0];
  let y = c.em.node("Mul", c.name, [x, c.em.floats(`${c.name}/scale`, scale, channelConstShape(c, scale.length, rank))], {}, c.cls);
  if (offset.some((o) => o !== 0)) {
    const o = c.em.floats(`${c.name}/offset_value`, offset, channelConstShape(c, offset.length, rank));
    y = c.em.node("Add", `${c.name}/offset`, [y[0], o], {}, c.cls);
  }
  return y;
};

/**
 * Normalization: (x − mean) / √variance (invert: x·√variance + mean). Adapted statistics
 * are non-trainable weights shaped like the kept axes; the √ of the stored variance is a
 * folded constant. Keras also stores an int64 `count` that its count_params() includes.
 */
const normalization: Translate = (c) => {
  const x = one(c);
  const ks = needShape(c, x);
  const rank = ks.length;
  const axisValue = c.cfg.c.axis;
  const keep = axisValue === null ? [] : kerasAxes(c, c.cfg.ints("axis", [-1]), rank);
  const k = keep.map((a) => weightDim(c, ks[a], "features"));
  const broadcast = ks.map((_, i) => (keep.includes(i) ? k[keep.indexOf(i)] : 1));
  const ir = c.em.toIR(broadcast).slice(1);
  let mean: string;
  let variance: string;
  const given = c.cfg.numbers("mean");
  if (given) {
    const v = c.cfg.numbers("variance") ?? fail(c, "mean is given without variance");
    const shape = given.length === 1 ? [] : ir;
    mean = c.em.floats(`${c.name}/mean`, given, shape);
    variance = c.em.floats(`${c.name}/variance`, v, shape);
  } else {
    mean = weight(c, "mean", ir, k, false);
    variance = weight(c, "variance", ir, k, false);
    c.em.weight(`${c.wname}/count`, [], [], false, "int64");
    c.em.g.notes.push(
      `layer '${c.name}': Keras also stores an integer 'count' (1 element, unused by the computation) and includes it in count_params(), so Keras reports 1 more parameter; convscope counts floating-point weights only`,
    );
  }
  const root = c.em.node("Sqrt", `${c.name}/sqrt`, [variance], {}, c.cls)[0];
  if (c.cfg.bool("invert", false)) {
    const y = c.em.node("Mul", c.name, [x, root], {}, c.cls)[0];
    return c.em.node("Add", `${c.name}/add`, [y, mean], {}, c.cls);
  }
  const centered = c.em.node("Sub", c.name, [x, mean], {}, c.cls)[0];
  return c.em.node("Div", `${c.name}/div`, [centered, root], {}, c.cls);
};

const identity =
  (op: "Dropout" | "Identity"): Translate =>
  (c) =>
    c.em.node(op, c.name, [one(c)], {}, c.cls);

const flatten: Translate = (c) => c.em.node("Flatten", c.name, [one(c)], { axis: 1 }, c.cls);

export const LAYERS: Record<string, Translate> = {
  ...CONV_LAYERS,
  ...ACTIVATION_LAYERS,
  ...BLOCK_LAYERS,
  MaxPooling1D: pooling(1, "MaxPool"),
  MaxPooling2D: pooling(2, "MaxPool"),
  MaxPooling3D: pooling(3, "MaxPool"),
  AveragePooling1D: pooling(1, "AveragePool"),
  AveragePooling2D: pooling(2, "AveragePool"),
  AveragePooling3D: pooling(3, "AveragePool"),
  GlobalAveragePooling1D: globalPooling(1, "GlobalAveragePool"),
  GlobalAveragePooling2D: globalPooling(2, "GlobalAveragePool"),
  GlobalAveragePooling3D: globalPooling(3, "GlobalAveragePool"),
  GlobalMaxPooling1D: globalPooling(1, "GlobalMaxPool"),
  GlobalMaxPooling2D: globalPooling(2, "GlobalMaxPool"),
  GlobalMaxPooling3D: globalPooling(3, "GlobalMaxPool"),
  BatchNormalization: batchNorm,
  LayerNormalization: layerNorm,
  Add: merge("Add", "Sum"),
  Subtract: merge("Sub"),
  Multiply: merge("Mul"),
  Average: merge("Mean"),
  Maximum: merge("Max"),
  Minimum: merge("Min"),
  Concatenate: concatenate,
  ZeroPadding1D: zeroPadding(1),
  ZeroPadding2D: zeroPadding(2),
  ZeroPadding3D: zeroPadding(3),
  Cropping1D: cropping(1),
  Cropping2D: cropping(2),
  Cropping3D: cropping(3),
  UpSampling1D: upSampling(1),
  UpSampling2D: upSampling(2),
  UpSampling3D: upSampling(3),
  Reshape: reshape,
  Flatten: flatten,
  Permute: permute,
  Dropout: identity("Dropout"),
  SpatialDropout1D: identity("Dropout"),
  SpatialDropout2D: identity("Dropout"),
  SpatialDropout3D: identity("Dropout"),
  AlphaDropout: identity("Dropout"),
  GaussianDropout: identity("Dropout"),
  GaussianNoise: identity("Identity"),
  ActivityRegularization: identity("Identity"),
  Rescaling: rescaling,
  Normalization: normalization,
  TFOpLambda: tfOpLambda,
};

/** Keras' alternative class names (Keras 2 aliases kept by saved configs). */
const ALIASES: Record<string, string> = {
  Convolution1D: "Conv1D",
  Convolution2D: "Conv2D",
  Convolution3D: "Conv3D",
  Convolution2DTranspose: "Conv2DTranspose",
  SeparableConvolution2D: "SeparableConv2D",
  MaxPool1D: "MaxPooling1D",
  MaxPool2D: "MaxPooling2D",
  MaxPool3D: "MaxPooling3D",
  AvgPool1D: "AveragePooling1D",
  AvgPool2D: "AveragePooling2D",
  AvgPool3D: "AveragePooling3D",
  GlobalAvgPool1D: "GlobalAveragePooling1D",
  GlobalAvgPool2D: "GlobalAveragePooling2D",
  GlobalAvgPool3D: "GlobalAveragePooling3D",
  GlobalMaxPool1D: "GlobalMaxPooling1D",
  GlobalMaxPool2D: "GlobalMaxPooling2D",
  GlobalMaxPool3D: "GlobalMaxPooling3D",
};

/** The translator for a Keras class, or undefined for a class convscope does not know. */
export function translatorFor(cls: string): Translate | undefined {
  return LAYERS[ALIASES[cls] ?? cls];
}
