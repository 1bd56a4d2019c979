import { sharedList } from "../core/lists.js";
import { type Dim, type Shape, symFloorDiv } from "../core/shape.js";
import { type Attrs, type Field, layerError, type RuleContext } from "./rule.js";

/**
 * Sliding-window geometry shared by convolution and pooling (the role of tfjs-layers'
 * conv_utils): kernel, stride, dilation and begin/end padding per spatial axis, with
 * ONNX `auto_pad` resolved against the input size.
 */
export interface Window {
  kernel: readonly number[];
  stride: readonly number[];
  dilation: readonly number[];
  padBegin: Dim[];
  padEnd: Dim[];
  ceil: boolean;
  /** `NOTSET`, `VALID`, `SAME_UPPER`, `SAME_LOWER`. */
  autoPad: string;
}

export function readWindow(ctx: RuleContext, attrs: Attrs, kernel: readonly number[], spatial: Dim[]): Window {
  const n = kernel.length;
  const stride = attrs.ints("strides", sharedOnes(n));
  const dilation = attrs.ints("dilations", sharedOnes(n));
  const pads = attrs.ints("pads", sharedZeros(2 * n));
  const autoPad = attrs.str("auto_pad", "NOTSET");
  const ceil = attrs.int("ceil_mode", 0) === 1;
  if (stride.length !== n || dilation.length !== n || pads.length !== 2 * n) {
    layerError(ctx, `strides/dilations/pads do not match the ${n}-d kernel`);
  }
  if (atMost(kernel, 0)) layerError(ctx, `kernel size must be positive, got ${kernel.join("×")}`);
  if (atMost(stride, 0)) layerError(ctx, `stride must be positive, got ${stride.join("×")}`);
  if (atMost(dilation, 0)) layerError(ctx, `dilation must be positive, got ${dilation.join("×")}`);
  if (negative(pads)) layerError(ctx, `padding must not be negative, got ${pads.join(",")}`);
  const [padBegin, padEnd] = autoPad === "VALID" ? halvesOf(sharedZeros(2 * n)) : halvesOf(pads);
  const w: Window = { kernel, stride, dilation, padBegin, padEnd, ceil, autoPad };
  if (autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER") {
    w.padBegin = new Array(n);
    w.padEnd = new Array(n);
    for (let i = 0; i < n; i++) {
      const size = spatial[i];
      if (typeof size !== "number") {
        w.padBegin[i] = `same_pad(${size})`;
        w.padEnd[i] = `same_pad(${size})`;
        continue;
      }
      const keff = effKernel(w, i);
      const total = Math.max((Math.ceil(size / stride[i]) - 1) * stride[i] + keff - size, 0);
      const small = Math.floor(total / 2);
      w.padBegin[i] = autoPad === "SAME_UPPER" ? small : total - small;
      w.padEnd[i] = total - (w.padBegin[i] as number);
    }
  } else if (autoPad !== "NOTSET" && autoPad !== "VALID") {
    layerError(ctx, `unknown auto_pad '${autoPad}'`);
  }
  return w;
}

export function effKernel(w: Window, i: number): number {
  return w.dilation[i] * (w.kernel[i] - 1) + 1;
}

/** Output size along axis i; errors when the kernel does not fit the padded input. */
export function windowOutput(ctx: RuleContext, w: Window, size: Dim, i: number): Dim {
  const keff = effKernel(w, i);
  const pb = w.padBegin[i];
  const pe = w.padEnd[i];
  const s = w.stride[i];
  const same = w.autoPad === "SAME_UPPER" || w.autoPad === "SAME_LOWER";
  if (typeof size !== "number") {
    // Symbolic: SAME gives ⌈S/s⌉; otherwise ⌊(S + p − k)/s⌋ + 1 (ceil mode: + s − 1 more, exact
    // when no last window can start in the end padding, i.e. pe + s ≤ k). Simplified in core/shape.ts.
    if (same) return symFloorDiv(size, s - 1, s);
    if (typeof pb === "number" && typeof pe === "number" && (!w.ceil || pe + s <= keff)) {
      return symFloorDiv(size, pb + pe - keff + s + (w.ceil ? s - 1 : 0), s);
    }
    return `out(${size})`;
  }
  if (typeof pb !== "number" || typeof pe !== "number") return `out(${size})`;
  if (same) return Math.ceil(size / s);
  const span = size + pb + pe - keff;
  if (span < 0) {
    layerError(ctx, `kernel ${keff} is larger than the padded input ${size + pb + pe} on spatial axis ${i}`);
  }
  let out = (w.ceil ? Math.ceil(span / w.stride[i]) : Math.floor(span / w.stride[i])) + 1;
  // ceil mode: a last window that starts in the end padding is dropped (PyTorch, ONNX Runtime, Caffe).
  if (w.ceil && (out - 1) * w.stride[i] >= size + pb) out--;
  return out;
}

export function windowOutputs(ctx: RuleContext, w: Window, spatial: Dim[]): Dim[] {
  return spatial.map((d, i) => windowOutput(ctx, w, d, i));
}

/** Receptive-field geometry of a window; symbolic padding (SAME on unknown size) is not resolvable. */
export function windowField(ctx: RuleContext, w: Window): Field {
  const padBegin = w.padBegin.map((p) => {
    if (typeof p !== "number") layerError(ctx, "padding depends on an unknown input size");
    return p;
  });
  return { kind: "window", kernel: w.kernel, stride: w.stride, padBegin, dilation: w.dilation };
}

/** The spatial dims (after batch and channel) of an NC… shape. */
export function spatialOf(ctx: RuleContext, shape: Shape, minRank = 3): Dim[] {
  if (shape.length < minRank) layerError(ctx, `expects an input of rank ≥ ${minRank} (N, C, spatial…), got ${shape.length}`);
  return shape.slice(2);
}

/** ones(n) and zeros(n) as one shared list per length: defaults a window keeps, read only. */
const ONES: (readonly number[])[] = [];
const ZEROS: (readonly number[])[] = [];
/**
 * A pads list's begin and end halves, made once per list: the ONNX reader shares equal
 * attribute lists, so a graph's convs with equal pads share these too. Shared lists (SAME
 * padding makes lists of its own).
 */
const HALVES = new WeakMap<readonly number[], [Dim[], Dim[]]>();
function halvesOf(pads: readonly number[]): [Dim[], Dim[]] {
  let h = HALVES.get(pads);
  if (h === undefined) {
    const n = pads.length / 2;
    h = [sharedList<Dim>(pads.slice(0, n)), sharedList<Dim>(pads.slice(n))];
    HALVES.set(pads, h);
  }
  return h;
}

/** Some item is ≤ max (a loop: `some` with a closure allocated per conv until the code is optimised). */
function atMost(list: readonly number[], max: number): boolean {
  for (let i = 0; i < list.length; i++) if (list[i] <= max) return true;
  return false;
}

function negative(list: readonly number[]): boolean {
  for (let i = 0; i < list.length; i++) if (list[i] < 0) return true;
  return false;
}

function sharedOnes(n: number): readonly number[] {
  ONES[n] ??= sharedList(ones(n));
  return ONES[n];
}
function sharedZeros(n: number): readonly number[] {
  ZEROS[n] ??= sharedList(zeros(n));
  return ZEROS[n];
}

export function ones(n: number): number[] {
  return new Array(n).fill(1);
}
export function zeros(n: number): number[] {
  return new Array(n).fill(0);
}
