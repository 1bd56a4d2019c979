import { type DType, onnxDType } from "../../core/dtype.js";
import { firstPerm, lastPerm, type Val } from "./channels-last.js";

/**
 * TensorFlow semantics shared by the TFLite and TF.js readers: the same Pad, Transpose and
 * StridedSlice arguments, translated once into ONNX's (channels-first) terms.
 */

/** The ONNX TensorProto code of a dtype, for `Cast.to`. */
export function castTo(t: DType): number {
  for (let code = 1; code <= 22; code++) if (onnxDType(code) === t) return code;
  return 1;
}

/** TF paddings [[begin, end] per file axis] (flattened) → ONNX pads [begins…, ends…] in IR axis order. */
export function padsOf(x: Val, flat: readonly number[]): number[] {
  const rank = flat.length / 2;
  const order = x.first ? firstPerm(rank) : [...Array(rank).keys()];
  return [...order.map((a) => flat[2 * a]), ...order.map((a) => flat[2 * a + 1])];
}

/** A TF perm on file axes → the ONNX perm on the IR tensors (input and output stored channels-first when rank ≥ 3). */
export function transposePerm(perm: readonly number[], inputFirst: boolean): number[] {
  const r = perm.length;
  const q = firstPerm(r);
  const qin = inputFirst ? lastPerm(r) : [...Array(r).keys()];
  // IR output axis i = file output axis q[i] = file input axis perm[q[i]] = IR input axis qin[…].
  return q.map((a) => qin[perm[a]]);
}

export interface SliceMasks {
  begin: number;
  end: number;
  ellipsis: number;
  newAxis: number;
  shrink: number;
}

/** Beyond any real dimension: Slice clamps it to the axis length. */
const FAR = Number.MAX_SAFE_INTEGER;

/**
 * TF StridedSlice with constant begin/end/strides → ONNX Slice arguments on file axes,
 * plus the axes to squeeze afterwards (shrink_axis_mask). Ellipsis and new-axis masks are
 * not translated (undefined: the caller reports the op as unknown).
 */
export function sliceOf(
  begin: readonly number[],
  end: readonly number[],
  strides: readonly number[],
  m: SliceMasks,
): { starts: number[]; ends: number[]; axes: number[]; steps: number[]; shrink: number[] } | undefined {
  if (m.ellipsis !== 0 || m.newAxis !== 0) return undefined;
  const starts: number[] = [];
  const ends: number[] = [];
  const axes: number[] = [];
  const steps: number[] = [];
  const shrink: number[] = [];
  for (let i = 0; i < begin.length; i++) {
    const step = strides[i] ?? 1;
    if (step === 0) return undefined;
    const bit = 1 << i;
    let s = begin[i];
    let t = end[i];
    if (m.shrink & bit) {
      t = s === -1 ? FAR : s + 1;
      shrink.push(i);
    } else {
      if (m.begin & bit) s = step > 0 ? 0 : FAR;
      if (m.end & bit) t = step > 0 ? FAR : -FAR;
    }
    starts.push(s);
    ends.push(t);
    axes.push(i);
    steps.push(m.shrink & bit ? 1 : step);
  }
  return { starts, ends, axes, steps, shrink };
}
