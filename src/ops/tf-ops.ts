import type { DType } from "../core/dtype.js";
import { numel } from "../core/shape.js";
import { dtypeOf } from "./args.js";
import { broadcastShapes } from "./broadcast.js";
import { perOutput } from "./elementwise.js";
import { type Field, inputShape, layerError, type OpRule } from "./rule.js";
import { foldBroadcast } from "./values.js";

/**
 * Ops TensorFlow graphs (TF.js, TFLite) use that have no ONNX equivalent of the same name.
 */

/**
 * ZerosLike / OnesLike: a constant tensor of the input's shape and dtype. Nothing is
 * computed and no position of the input is read (only its shape), so the field is empty.
 */
export const fillLike: OpRule = {
  types: ["ZerosLike", "OnesLike"],
  family: "shape",
  infer(ctx) {
    const x = ctx.inputs[0];
    const n = x?.shape ? numel(x.shape) : null;
    const fill = ctx.node.op === "OnesLike" ? 1 : 0;
    const value = n !== null && n <= 1024 ? new Array<number>(n).fill(fill) : undefined;
    return [{ dtype: dtypeOf(ctx), shape: x?.shape, value }];
  },
  field(ctx): Field {
    return { kind: "axes", map: (inputShape(ctx, 0) ?? []).map(() => null), mixed: [] };
  },
};

/**
 * Atan2(y, x) with numpy broadcasting: one transcendental function (counted `exp`, as every
 * other one is in elementwise.ts) and one division y/x per output element.
 */
export const atan2: OpRule = {
  types: ["Atan2"],
  family: "elementwise",
  infer(ctx) {
    const [y, x] = [ctx.inputs[0], ctx.inputs[1]];
    if (!y || !x) layerError(ctx, "Atan2 needs two inputs");
    const dtype = dtypeOf(ctx);
    if (!y.shape || !x.shape) return [{ dtype }];
    const shape = broadcastShapes(ctx, [y.shape, x.shape]);
    return [{ dtype, shape, value: foldBroadcast([y, x], shape, ([a, b]) => Math.atan2(a, b)) }];
  },
  cost: (ctx) => perOutput(ctx, { exp: 1, div: 1 }),
};

/**
 * SparseToDense(indices, output_shape, values, default_value): a dense tensor of the shape
 * held by input 1, the default everywhere except at the listed indices. A scatter: no
 * arithmetic. Every output may come from any value, so the field is global.
 */
export const sparseToDense: OpRule = {
  types: ["SparseToDense"],
  family: "shape",
  valueInputs: [1, 3],
  infer(ctx) {
    const dims = ctx.inputs[1]?.value;
    const dtype: DType = ctx.inputs[2]?.dtype ?? "float32";
    if (!dims) return [{ dtype }];
    if (dims.some((d) => !Number.isInteger(d) || d < 0)) layerError(ctx, `output_shape ${dims.join("×")} is not a shape`);
    return [{ dtype, shape: [...dims] }];
  },
  field: () => ({ kind: "global" }),
};
