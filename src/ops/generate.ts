import { type DType, isFloat } from "../core/dtype.js";
import type { AttrValue, Tensor } from "../core/graph.js";
import type { Dim, Shape } from "../core/shape.js";
import { numel } from "../core/shape.js";
import { dtypeOf, isKnown, listArg, scalarArg } from "./args.js";
import { broadcastShapes } from "./broadcast.js";
import { type Field, inputShape, layerError, type OpRule, type OutputState, type RuleContext } from "./rule.js";
import { broadcastOffset, castValues, smallCount, unravel, VALUE_LIMIT } from "./values.js";

/** Output that depends on no position of the input (its shape only): every axis removed, none mixed. */
function shapeOnly(ctx: RuleContext): Field {
  return { kind: "axes", map: (inputShape(ctx, 0) ?? []).map(() => null), mixed: [] };
}

/** Shape (with opset-15 `start`/`end`): the dims as an int64 vector, known when every dim is. */
export const shape: OpRule = {
  types: ["Shape"],
  family: "shape",
  infer(ctx) {
    const x = inputShape(ctx, 0);
    if (!x) return [{ dtype: "int64" }];
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + x.length : v, 0), x.length);
    const dims = x.slice(clamp(ctx.attrs.int("start", 0)), clamp(ctx.attrs.int("end", x.length)));
    return [{ dtype: "int64", shape: [dims.length], value: isKnown(dims) ? dims : undefined }];
  },
  field: shapeOnly,
};

/** Size: the element count as an int64 scalar. */
export const size: OpRule = {
  types: ["Size"],
  family: "shape",
  infer(ctx) {
    const x = inputShape(ctx, 0);
    const n = x ? numel(x) : null;
    return [{ dtype: "int64", shape: [], value: n === null ? undefined : [n] }];
  },
  field: shapeOnly,
};

function isTensor(v: AttrValue | undefined): v is Tensor {
  return typeof v === "object" && v !== null && !Array.isArray(v) && "dtype" in v;
}

/** Values of a stored tensor when it is small enough to be a shape constant (weights are never decoded). */
function tensorValue(t: Tensor): readonly number[] | undefined {
  if (t.value) return t.value;
  const n = t.shape ? numel(t.shape) : null;
  if (!t.initializer?.read || n === null || n > VALUE_LIMIT || (isFloat(t.dtype) && n > 16)) return undefined;
  return t.initializer.read();
}

/**
 * Constant: its `value` tensor, or `value_float(s)` / `value_int(s)`. Readers normally turn
 * these into stored tensors; the rule covers graphs that keep them.
 */
export const constant: OpRule = {
  types: ["Constant"],
  family: "shape",
  infer(ctx): OutputState[] {
    const attrs = ctx.node.attrs;
    const v = attrs.value ?? attrs.sparse_value;
    if (isTensor(v)) return [{ dtype: v.dtype, shape: v.shape, value: tensorValue(v) }];
    for (const [name, dtype] of [
      ["value_float", "float32"],
      ["value_int", "int64"],
    ] as const) {
      if (ctx.attrs.has(name)) return [{ dtype, shape: [], value: [ctx.attrs.float(name)] }];
    }
    for (const [name, dtype] of [
      ["value_floats", "float32"],
      ["value_ints", "int64"],
    ] as const) {
      const list = attrs[name];
      if (Array.isArray(list)) return [{ dtype, shape: [list.length], value: list as number[] }];
    }
    if (ctx.attrs.has("value_string") || ctx.attrs.has("value_strings")) return [{ dtype: "string" }];
    layerError(ctx, "Constant has no value attribute");
  },
};

/** ConstantOfShape: a tensor of the shape held by input 0, filled with `value` (default float32 0). */
export const constantOfShape: OpRule = {
  types: ["ConstantOfShape"],
  family: "shape",
  valueInputs: [0],
  infer(ctx) {
    const fill = ctx.node.attrs.value;
    const dtype: DType = isTensor(fill) ? fill.dtype : "float32";
    const fillValue = isTensor(fill) ? (tensorValue(fill)?.[0] ?? 0) : 0;
    const dims = ctx.inputs[0]?.value;
    if (!dims) return [{ dtype }];
    if (dims.some((d) => d < 0)) layerError(ctx, `negative dimension in shape ${dims.join("×")}`);
    const n = smallCount([...dims]);
    return [{ dtype, shape: [...dims], value: n === undefined ? undefined : new Array(n).fill(fillValue) }];
  },
};

/** Range(start, limit, delta): ⌈(limit − start)/delta⌉ elements (at least 0), carried as values when small. */
export const range: OpRule = {
  types: ["Range"],
  family: "shape",
  valueInputs: [0, 1, 2],
  infer(ctx) {
    const dtype = dtypeOf(ctx);
    const [start, limit, delta] = [0, 1, 2].map((i) => scalarArg(ctx, `_${i}`, i));
    if (typeof start !== "number" || typeof limit !== "number" || typeof delta !== "number") return [{ dtype }];
    if (delta === 0) layerError(ctx, "delta must not be 0");
    const n = Math.max(Math.ceil((limit - start) / delta), 0);
    const value =
      n <= VALUE_LIMIT
        ? castValues(
            Array.from({ length: n }, (_, i) => start + i * delta),
            dtype,
          )
        : undefined;
    return [{ dtype, shape: [n], value }];
  },
};

/** Expand: broadcast input 0 to the shape in input 1 (bidirectionally, as numpy). A copy: no cost. */
export const expand: OpRule = {
  types: ["Expand"],
  family: "shape",
  valueInputs: [1],
  infer(ctx) {
    const x = inputShape(ctx, 0);
    const target = ctx.inputs[1]?.value;
    if (!x || !target) return [{ dtype: dtypeOf(ctx) }];
    if (target.some((d) => d < 0)) layerError(ctx, `negative dimension in shape ${target.join("×")}`);
    const out = broadcastShapes(ctx, [x, [...target]]);
    const v = ctx.inputs[0]?.value;
    const n = smallCount(out);
    const value =
      v && n !== undefined && isKnown(x)
        ? Array.from({ length: n }, (_, flat) => v[broadcastOffset(unravel(flat, out as number[]), x)])
        : undefined;
    return [{ dtype: dtypeOf(ctx), shape: out, value }];
  },
};

/** Tile: each dim times `repeats` (input 1). A copy: no cost; the field is that of one tile (pointwise). */
export const tile: OpRule = {
  types: ["Tile"],
  family: "shape",
  valueInputs: [1],
  infer(ctx) {
    const x = inputShape(ctx, 0);
    const repeats = listArg(ctx, "repeats", 1);
    if (!x || repeats === undefined || repeats === "unknown") return [{ dtype: dtypeOf(ctx) }];
    if (repeats.length !== x.length) layerError(ctx, `repeats has ${repeats.length} values for rank ${x.length}`);
    if (repeats.some((r) => r < 0)) layerError(ctx, `repeats must not be negative, got ${repeats.join(",")}`);
    const out: Shape = x.map((d, i): Dim => (typeof d === "number" ? d * repeats[i] : repeats[i] === 1 ? d : `${d}·${repeats[i]}`));
    const v = ctx.inputs[0]?.value;
    const n = smallCount(out);
    const value =
      v && n !== undefined && isKnown(x)
        ? Array.from({ length: n }, (_, flat) => {
            const idx = unravel(flat, out as number[]).map((k, i) => k % x[i]);
            return v[idx.reduce((acc, k, i) => acc * x[i] + k, 0)];
          })
        : undefined;
    return [{ dtype: dtypeOf(ctx), shape: out, value }];
  },
};
