import type { Shape } from "../core/shape.js";

/**
 * Channels-last formats (Keras, TensorFlow.js, TFLite) are read into the canonical
 * channels-first IR: shapes and axes are translated once, here, so op rules only ever
 * see N, C, spatial… . Reports therefore show NCHW shapes for every format.
 */

/** [N, spatial…, C] → [N, C, spatial…]; ranks below 3 are unchanged. */
export function nhwcToNchw(shape: Shape): Shape {
  if (shape.length < 3) return [...shape];
  return [shape[0], shape[shape.length - 1], ...shape.slice(1, -1)];
}

/** An axis of a channels-last tensor of the given rank, as the matching channels-first axis. */
export function nhwcAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (rank < 3 || a === 0) return a;
  return a === rank - 1 ? 1 : a + 1;
}
