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

/** ONNX Slice arguments on file axes, then the axes to squeeze and to insert. */
export interface StridedSlice {
  starts: number[];
  ends: number[];
  /** Input axes sliced; negative ones (after an ellipsis, rank unknown) count from the end. */
  axes: number[];
  steps: number[];
  /** Input axes removed afterwards (shrink_axis_mask); negative as `axes`. */
  shrink: number[];
  /** Positions of new size-1 axes in the final output (new_axis_mask); negative count from its end. */
  newAxes: number[];
}

/**
 * TF StridedSlice with constant begin/end/strides, every mask included. Spec entries before
 * the ellipsis (one is implied at the end when there is none) take input axes from the
 * front; entries after it take them from the back, so no rank is needed: with `rank` the
 * axes come out non-negative. A new-axis entry consumes no input axis and takes precedence
 * over its other bits, as in TensorFlow. Undefined for a spec TensorFlow rejects (a zero
 * stride, two ellipses, more sliced axes than `rank`).
 */
export function stridedSliceOf(
  begin: readonly number[],
  end: readonly number[],
  strides: readonly number[],
  m: SliceMasks,
  rank?: number,
): StridedSlice | undefined {
  const n = begin.length;
  const bits = (mask: number) => [...Array(n).keys()].filter((i) => mask & (1 << i));
  const ellipses = bits(m.ellipsis);
  if (ellipses.length > 1) return undefined;
  const ell = ellipses[0] ?? n;
  const out: StridedSlice = { starts: [], ends: [], axes: [], steps: [], shrink: [], newAxes: [] };
  const entry = (i: number, axis: number): boolean => {
    const step = strides[i] ?? 1;
    if (step === 0) return false;
    const bit = 1 << i;
    let s = begin[i];
    let t = end[i];
    if (m.shrink & bit) {
      t = s === -1 ? FAR : s + 1;
      out.shrink.push(axis);
    } else {
      if (m.begin & bit) s = step > 0 ? 0 : FAR;
      if (m.end & bit) t = step > 0 ? FAR : -FAR;
    }
    out.starts.push(s);
    out.ends.push(t);
    out.axes.push(axis);
    out.steps.push(m.shrink & bit ? 1 : step);
    return true;
  };
  // Before the ellipsis: input axes 0, 1, … and output positions 0, 1, ….
  let axis = 0;
  let pos = 0;
  for (let i = 0; i < ell; i++) {
    if (m.newAxis & (1 << i)) out.newAxes.push(pos++);
    else {
      if (!entry(i, axis++)) return undefined;
      if (!(m.shrink & (1 << i))) pos++;
    }
  }
  // After it, walking backwards: input axes −1, −2, … and output positions −1, −2, ….
  let back = -1;
  let backPos = -1;
  for (let i = n - 1; i > ell; i--) {
    if (m.newAxis & (1 << i)) out.newAxes.push(backPos--);
    else {
      if (!entry(i, back--)) return undefined;
      if (!(m.shrink & (1 << i))) backPos--;
    }
  }
  if (rank === undefined) return out;
  if (axis - back - 1 > rank) return undefined;
  const outRank = rank - out.shrink.length + out.newAxes.length;
  const norm = (r: number) => (a: number) => (a < 0 ? a + r : a);
  return {
    ...out,
    axes: out.axes.map(norm(rank)),
    shrink: out.shrink.map(norm(rank)),
    newAxes: out.newAxes.map(norm(outRank)),
  };
}

/**
 * StridedSlice without ellipsis or new axes (what the TFLite reader translates): the spec
 * entries are the input's leading axes. Undefined otherwise (the caller reports the op unknown).
 */
export function sliceOf(
  begin: readonly number[],
  end: readonly number[],
  strides: readonly number[],
  m: SliceMasks,
): Omit<StridedSlice, "newAxes"> | undefined {
  if (m.ellipsis !== 0 || m.newAxis !== 0) return undefined;
  return stridedSliceOf(begin, end, strides, m);
}
