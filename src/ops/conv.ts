import type { Dim, Shape } from "../core/shape.js";
import { add, mul, numel, symAffine } from "../core/shape.js";
import { dtypeOf } from "./args.js";
import { type Cost, cost, type Field, inputShape, layerError, memo, type OpRule, type RuleContext } from "./rule.js";
import { effKernel, readWindow, spatialOf, type Window, windowField, windowOutputs } from "./window.js";

/** The kernel: `kernel_shape`, or the weight's trailing dims. */
function kernelOf(ctx: RuleContext, wShape: Shape, spatialRank: number): readonly number[] {
  const fromW = wShape.slice(2);
  const kernel = ctx.attrs.has("kernel_shape")
    ? ctx.attrs.ints("kernel_shape")
    : fromW.map((k) => (typeof k === "number" ? k : layerError(ctx, "kernel size is unknown")));
  if (kernel.length !== spatialRank) layerError(ctx, `kernel_shape has ${kernel.length} axes, input has ${spatialRank}`);
  fromW.forEach((k, i) => {
    if (typeof k === "number" && k !== kernel[i])
      layerError(ctx, `kernel_shape ${kernel.join("×")} does not match the weight ${wShape.join("×")}`);
  });
  return kernel;
}

/** Input X [N, C, …] and weight W, both needed to know the geometry. */
function operands(ctx: RuleContext): { x?: Shape; w: Shape } {
  const w = inputShape(ctx, 1);
  if (!w) layerError(ctx, "weight shape is unknown");
  const x = inputShape(ctx, 0);
  if (x && w.length !== x.length) layerError(ctx, `weight rank ${w.length} does not match input rank ${x.length}`);
  if (w.length < 3) layerError(ctx, `weight must have rank ≥ 3, got ${w.length}`);
  return { x, w };
}

function groupOf(ctx: RuleContext): number {
  const group = ctx.attrs.int("group", 1);
  if (group <= 0) layerError(ctx, `group must be positive, got ${group}`);
  return group;
}

function checkBias(ctx: RuleContext, channels: Dim): void {
  const b = ctx.inputs[2]?.shape;
  if (b && (b.length !== 1 || (typeof b[0] === "number" && typeof channels === "number" && b[0] !== channels))) {
    layerError(ctx, `bias has shape ${b.join("×")}, expected ${channels}`);
  }
}

/** Convolution window from the attributes; the input's spatial size matters only for SAME padding. */
function convWindow(ctx: RuleContext): { win: Window; x?: Shape; w: Shape } {
  return memo(ctx, () => {
    const { x, w } = operands(ctx);
    const spatial = x ? spatialOf(ctx, x) : w.slice(2).map((_, i) => `in${i}`);
    return { win: readWindow(ctx, ctx.attrs, kernelOf(ctx, w, spatial.length), spatial), x, w };
  });
}

/**
 * Convolution: X [N, C, …], W [M, C/group, k…], optional B [M] → [N, M, out…].
 * MACs = output elements · (C/group)·Πk; one bias add per output element when B is present.
 */
export const conv: OpRule = {
  types: ["Conv"],
  family: "conv",
  infer(ctx) {
    const { win, x, w } = convWindow(ctx);
    const group = groupOf(ctx);
    const [m, cPerGroup] = w;
    if (typeof m === "number" && m % group !== 0) layerError(ctx, `${m} output channels are not divisible by group ${group}`);
    checkBias(ctx, m);
    if (!x) return [{ dtype: dtypeOf(ctx) }];
    const c = x[1];
    if (typeof c === "number" && typeof cPerGroup === "number" && c !== cPerGroup * group) {
      layerError(ctx, `input has ${c} channels but the weight expects ${cPerGroup}×${group} (group ${group})`);
    }
    return [{ dtype: dtypeOf(ctx), shape: [x[0], m, ...windowOutputs(ctx, win, x.slice(2))] }];
  },
  cost(ctx) {
    const out = ctx.outputs[0].shape;
    const outN = out ? numel(out) : null;
    const perOut = numel(convWindow(ctx).w, 1); // (C/group)·Πk
    if (outN === null || perOut === null) return null;
    return convCost(outN, perOut, ctx.inputs[2] !== undefined);
  },
  field: (ctx) => windowField(ctx, convWindow(ctx).win),
  /** W is [M, C/group, k…]: C/group follows from the input's channels (a Caffe conv after an unknown layer). */
  weightShape(ctx, i) {
    const c = ctx.inputs[0]?.shape?.[1];
    const w = ctx.inputs[1]?.shape;
    const group = ctx.attrs.int("group", 1);
    if (i !== 1 || !w || typeof c !== "number" || group <= 0 || c % group !== 0) return undefined;
    return [w[0], c / group, ...w.slice(2)];
  },
};

/** MACs = outputs · (C_in/group)·Πk; seed = (Πk·C_in/group + 1) · outputs (the seed counts the +1 with or without a bias). */
export function convCost(outputs: number, perOutput: number, hasBias: boolean): Cost {
  return cost({ macs: mul(outputs, perOutput), bias: hasBias ? outputs : 0, seed: mul(outputs, perOutput + 1) });
}

/** Per spatial axis of a transposed convolution: output size and begin padding. */
interface TransposeAxis {
  out: Dim;
  padBegin: number | undefined;
}

/**
 * ConvTranspose geometry (ONNX spec): out = s·(in − 1) + output_padding + k_eff − pad_begin − pad_end.
 * With `output_shape` or SAME auto_pad the pads follow from the wanted size: total =
 * s·(in − 1) + output_padding + k_eff − out, SAME_UPPER puts ⌊total/2⌋ at the begin, other
 * modes put the larger half there.
 */
function transposeGeometry(ctx: RuleContext): { axes: TransposeAxis[]; win: Window; x?: Shape; w: Shape } {
  const { x, w } = operands(ctx);
  const rank = w.length - 2;
  const kernel = kernelOf(ctx, w, rank);
  const win = readWindow(ctx, ctx.attrs, kernel, new Array(rank).fill(1));
  const autoPad = ctx.attrs.str("auto_pad", "NOTSET");
  const outPad = ctx.attrs.ints("output_padding", new Array(rank).fill(0));
  if (outPad.length !== rank) layerError(ctx, `output_padding has ${outPad.length} values for ${rank} spatial axes`);
  outPad.forEach((p, i) => {
    if (p < 0 || (p >= win.stride[i] && p >= win.dilation[i])) {
      layerError(ctx, `output_padding ${p} must be non-negative and smaller than the stride or dilation`);
    }
  });
  let wanted = ctx.attrs.has("output_shape") ? ctx.attrs.ints("output_shape") : undefined;
  if (wanted && wanted.length === rank + 2) wanted = wanted.slice(2);
  if (wanted && wanted.length !== rank) layerError(ctx, `output_shape has ${wanted.length} values for ${rank} spatial axes`);
  const pads = ctx.attrs.ints("pads", new Array(2 * rank).fill(0));
  const axes = Array.from({ length: rank }, (_, i): TransposeAxis => {
    const size = x?.[i + 2];
    const keff = effKernel(win, i);
    const s = win.stride[i];
    const target = wanted?.[i] ?? (autoPad.startsWith("SAME") && typeof size === "number" ? size * s : undefined);
    if (wanted || autoPad.startsWith("SAME")) {
      if (target === undefined || typeof size !== "number") return { out: `convT(${size})`, padBegin: undefined };
      const total = s * (size - 1) + outPad[i] + keff - target;
      const half = Math.floor(total / 2);
      return { out: target, padBegin: autoPad === "SAME_UPPER" ? half : total - half };
    }
    const [pb, pe] = autoPad === "VALID" ? [0, 0] : [pads[i], pads[i + rank]];
    // Symbolic: s·(S − 1) + output_padding + k − pads, simplified in core/shape.ts.
    if (typeof size === "string") return { out: symAffine(size, s, outPad[i] + keff - pb - pe - s), padBegin: pb };
    if (size === undefined) return { out: "convT(undefined)", padBegin: pb };
    return { out: s * (size - 1) + outPad[i] + keff - pb - pe, padBegin: pb };
  });
  return { axes, win, x, w };
}

/**
 * Transposed convolution: X [N, C, …], W [C, M/group, k…] → [N, M, out…]. Every input
 * element is multiplied into a k-window of the output, so MACs are counted on the *input*:
 * N·C·Π in · (M/group)·Πk (several tools wrongly use the output size). One bias add per
 * output element; the seed analogue is MACs plus one per output element.
 */
export const convTranspose: OpRule = {
  types: ["ConvTranspose"],
  family: "conv",
  infer(ctx) {
    const { axes, x, w } = transposeGeometry(ctx);
    const group = groupOf(ctx);
    const [c, mPerGroup] = w;
    const m = typeof mPerGroup === "number" ? mPerGroup * group : `${mPerGroup}·${group}`;
    checkBias(ctx, m);
    if (!x) return [{ dtype: dtypeOf(ctx) }];
    if (typeof x[1] === "number" && typeof c === "number" && x[1] !== c) {
      layerError(ctx, `input has ${x[1]} channels but the weight expects ${c}`);
    }
    for (const a of axes) if (typeof a.out === "number" && a.out <= 0) layerError(ctx, `output size ${a.out} is not positive`);
    return [{ dtype: dtypeOf(ctx), shape: [x[0], m, ...axes.map((a) => a.out)] }];
  },
  cost(ctx) {
    const x = inputShape(ctx, 0);
    const out = ctx.outputs[0].shape;
    const inN = x ? numel(x) : null;
    const outN = out ? numel(out) : null;
    const perIn = numel(operands(ctx).w, 1); // (M/group)·Πk
    if (inN === null || outN === null || perIn === null) return null;
    const macs = mul(inN, perIn);
    return cost({ macs, bias: ctx.inputs[2] ? outN : 0, seed: add(macs, outN) });
  },
  /**
   * Output o receives input i through tap j when o = i·s + j·d − p, so it reads inputs
   * ⌈(o + p − (k−1)·d)/s⌉ … ⌊(o + p)/s⌋: resample num 1, den s, lo = p − (k−1)·d + s − 1, hi = p.
   */
  field(ctx): Field {
    const { axes, win } = transposeGeometry(ctx);
    return {
      kind: "resample",
      axes: axes.map((a, i) => {
        if (a.padBegin === undefined) layerError(ctx, "padding depends on an unknown input size");
        const s = win.stride[i];
        return { num: 1, den: s, lo: a.padBegin - (effKernel(win, i) - 1) + s - 1, hi: a.padBegin };
      }),
    };
  },
};
