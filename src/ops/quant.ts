import type { DType } from "../core/dtype.js";
import type { Node } from "../core/graph.js";
import { numel } from "../core/shape.js";
import { dtypeOf } from "./args.js";
import { conv } from "./conv.js";
import { binary, softmax, unary } from "./elementwise.js";
import { gemm, matmul } from "./linear.js";
import { globalPool, pool } from "./pool.js";
import { type Cost, cost, type Field, layerError, type OpRule, type OutputState, type RuleContext } from "./rule.js";
import { concat } from "./tensor-shape.js";

/**
 * Quantized operators (ONNX QDQ and QOperator forms, and the `com.microsoft` ops
 * onnxruntime's quantizer writes). A quantized op does the float op's arithmetic on
 * integers: its MACs, shape and receptive field are the float op's, so each rule here runs
 * the float rule on the operands that carry data, and only says which inputs are what:
 *
 * - `weightInputs`: integer tensors that stand for real weights (an int8 conv kernel, an
 *   int32 bias): parameters whatever their dtype, stored at their own size.
 * - `quantInputs`: scales and zero points: reported apart (`totals.quant_params`), never
 *   parameters.
 *
 * The rescaling around the integer arithmetic (x·scale, + zero point) is not counted for
 * the QOperator ops, as the float model has none of it; QuantizeLinear, DequantizeLinear and
 * DynamicQuantizeLinear, where the conversion is the op, count it per element.
 */

/** Op types under both the default domain and onnxruntime's (`com.microsoft::…`). */
function both(...ops: string[]): string[] {
  return ops.flatMap((op) => [op, `com.microsoft::${op}`]);
}

interface Inner {
  ctx: RuleContext;
}

/**
 * A rule that runs `float` on the inputs `map` picks (by position; a missing one stays
 * omitted), as op `op`. `dtype` gives the output dtype (by default the float rule's).
 */
function quantized(spec: {
  types: string[];
  float: OpRule;
  op: string;
  map: (ctx: RuleContext) => number[];
  quantInputs: readonly number[] | ((ctx: RuleContext) => readonly number[]);
  weightInputs?: readonly number[];
  dtype?: (ctx: RuleContext) => DType;
  extraCost?: (ctx: RuleContext, c: Cost) => Cost | null;
  family?: string;
}): OpRule {
  const inner = (ctx: RuleContext): RuleContext => {
    const m = ctx.memo as Inner | undefined;
    if (m) {
      m.ctx.outputs = ctx.outputs;
      return m.ctx;
    }
    const idx = spec.map(ctx);
    const node: Node = { ...ctx.node, op: spec.op, inputs: idx.map((i) => ctx.node.inputs[i] ?? "") };
    const ictx: RuleContext = { node, inputs: idx.map((i) => ctx.inputs[i]), outputs: ctx.outputs, attrs: ctx.attrs, opset: ctx.opset };
    ctx.memo = { ctx: ictx } satisfies Inner;
    return ictx;
  };
  return {
    types: spec.types,
    family: spec.family ?? spec.float.family,
    weightInputs: spec.weightInputs,
    quantInputs: spec.quantInputs,
    infer(ctx) {
      const ictx = inner(ctx);
      const outs = spec.float.infer(ictx);
      const dtype = spec.dtype?.(ctx);
      // An integer result is not the float rule's folded value.
      return outs.map((o, i): OutputState => (i === 0 && dtype ? { dtype, shape: o.shape } : o));
    },
    cost(ctx) {
      const ictx = inner(ctx);
      const c = spec.float.cost ? spec.float.cost(ictx) : cost({});
      return c && spec.extraCost ? spec.extraCost(ctx, c) : c;
    },
    field(ctx): Field {
      const ictx = inner(ctx);
      return spec.float.field ? spec.float.field(ictx) : { kind: "pointwise" };
    },
  };
}

/** The dtype of a zero-point input, else `def` (ONNX: uint8 when the zero point is omitted). */
function zpType(i: number, def: DType = "uint8") {
  return (ctx: RuleContext): DType => ctx.inputs[i]?.dtype ?? def;
}

function except(n: number, keep: readonly number[]): number[] {
  return Array.from({ length: n }, (_, i) => i).filter((i) => !keep.includes(i));
}

/** Per element of output 0: `per` of each part (QuantizeLinear and friends). */
function perElement(ctx: RuleContext, per: Partial<Cost>): Cost | null {
  const s = ctx.outputs[0]?.shape;
  const n = s ? numel(s) : null;
  if (n === null) return null;
  return cost(Object.fromEntries(Object.entries(per).map(([k, v]) => [k, (v as number) * n])) as Partial<Cost>);
}

/**
 * QuantizeLinear(x, y_scale, y_zero_point) → y = saturate(round(x / scale) + zero_point):
 * per element one division, one add and two comparisons (the saturation). The output type
 * is the zero point's (uint8 when omitted, or `output_dtype` from opset 21).
 */
export const quantizeLinear: OpRule = {
  types: both("QuantizeLinear"),
  family: "quant",
  quantInputs: [1, 2],
  infer(ctx) {
    const x = ctx.inputs[0];
    const dtype = ctx.inputs[2]?.dtype ?? (ctx.attrs.has("output_dtype") ? onnxCode(ctx.attrs.int("output_dtype")) : "uint8");
    return [{ dtype, shape: x?.shape }];
  },
  cost: (ctx) => perElement(ctx, { div: 1, add: 1, cmp: 2 }),
};

/**
 * DequantizeLinear(x, x_scale, x_zero_point) → (x − zero_point)·scale: one add and one
 * multiply per element. On a stored integer weight the layer folds (no cost) and the weight
 * it reads is a parameter at its stored size, however many layers follow.
 */
export const dequantizeLinear: OpRule = {
  types: both("DequantizeLinear"),
  family: "quant",
  quantInputs: [1, 2],
  weightInputs: [0],
  infer(ctx) {
    const x = ctx.inputs[0];
    const dtype = ctx.inputs[1]?.dtype ?? "float32";
    return [{ dtype, shape: x?.shape }];
  },
  cost: (ctx) => perElement(ctx, { add: 1, mul: 1 }),
};

/**
 * DynamicQuantizeLinear(x) → y (uint8), y_scale, y_zero_point (scalars). Per element: two
 * comparisons for the min and max, then the quantization (one division, one add, two
 * comparisons for the saturation).
 */
export const dynamicQuantizeLinear: OpRule = {
  types: both("DynamicQuantizeLinear"),
  family: "quant",
  quantOutputs: [1, 2],
  infer(ctx) {
    const x = ctx.inputs[0];
    return [
      { dtype: "uint8", shape: x?.shape },
      { dtype: dtypeOf(ctx), shape: [] },
      { dtype: "uint8", shape: [] },
    ];
  },
  cost: (ctx) => perElement(ctx, { div: 1, add: 1, cmp: 4 }),
};

/** QLinearConv(x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B): Conv on x, w, B. */
export const qlinearConv = quantized({
  types: both("QLinearConv"),
  float: conv,
  op: "Conv",
  map: () => [0, 3, 8],
  quantInputs: [1, 2, 4, 5, 6, 7],
  weightInputs: [3, 8],
  dtype: zpType(7),
});

/** ConvInteger(x, w, x_zp, w_zp) → int32: Conv on x, w (no bias). */
export const convInteger = quantized({
  types: both("ConvInteger"),
  float: conv,
  op: "Conv",
  map: () => [0, 1],
  quantInputs: [2, 3],
  weightInputs: [1],
  dtype: () => "int32",
});

/** MatMulInteger(A, B, a_zp, b_zp) → int32: MatMul on A, B. */
export const matmulInteger = quantized({
  types: both("MatMulInteger"),
  float: matmul,
  op: "MatMul",
  map: () => [0, 1],
  quantInputs: [2, 3],
  weightInputs: [0, 1],
  dtype: () => "int32",
});

/** QLinearMatMul(a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp): MatMul on a, b. */
export const qlinearMatMul = quantized({
  types: both("QLinearMatMul"),
  float: matmul,
  op: "MatMul",
  map: () => [0, 3],
  quantInputs: [1, 2, 4, 5, 6, 7],
  weightInputs: [0, 3],
  dtype: zpType(7),
});

/**
 * MatMulIntegerToFloat(A, B, a_scale, b_scale, a_zp, b_zp, bias) → float (com.microsoft):
 * MatMul on A, B, plus one bias add per output when the bias is given.
 */
export const matmulIntegerToFloat = quantized({
  types: both("MatMulIntegerToFloat"),
  float: matmul,
  op: "MatMul",
  map: () => [0, 1],
  quantInputs: [2, 3, 4, 5],
  weightInputs: [0, 1, 6],
  dtype: (ctx) => ctx.inputs[2]?.dtype ?? "float32",
  extraCost: addBias(6),
});

/**
 * DynamicQuantizeMatMul(A, B, b_scale, b_zp, bias) (com.microsoft): A (float) is quantized
 * on the fly, then MatMul on A, B, plus one bias add per output when the bias is given.
 */
export const dynamicQuantizeMatMul = quantized({
  types: both("DynamicQuantizeMatMul"),
  float: matmul,
  op: "MatMul",
  map: () => [0, 1],
  quantInputs: [2, 3],
  weightInputs: [1, 4],
  dtype: (ctx) => dtypeOf(ctx),
  extraCost: addBias(4),
});

function addBias(i: number) {
  return (ctx: RuleContext, c: Cost): Cost | null => {
    if (!ctx.inputs[i]) return c;
    const s = ctx.outputs[0]?.shape;
    const n = s ? numel(s) : null;
    return n === null ? null : { ...c, bias: c.bias + n };
  };
}

/**
 * QGemm(A, a_scale, a_zp, B, b_scale, b_zp, C, y_scale, y_zp) (com.microsoft): Gemm on A,
 * B, C (C is the int32 bias). Without y_scale the output is float.
 */
export const qgemm = quantized({
  types: both("QGemm"),
  float: gemm,
  op: "Gemm",
  map: () => [0, 3, 6],
  quantInputs: [1, 2, 4, 5, 7, 8],
  weightInputs: [0, 3, 6],
  dtype: (ctx) => (ctx.inputs[7] ? (ctx.inputs[8]?.dtype ?? "uint8") : "float32"),
});

/** QLinearAdd / QLinearMul(A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp) (com.microsoft): Add / Mul on A, B. */
export const qlinearAdd = quantized({
  types: both("QLinearAdd"),
  float: binary,
  op: "Add",
  map: () => [0, 3],
  quantInputs: [1, 2, 4, 5, 6, 7],
  weightInputs: [0, 3],
  dtype: zpType(7),
});

export const qlinearMul = quantized({
  types: both("QLinearMul"),
  float: binary,
  op: "Mul",
  map: () => [0, 3],
  quantInputs: [1, 2, 4, 5, 6, 7],
  weightInputs: [0, 3],
  dtype: zpType(7),
});

/** QLinearSigmoid / QLinearLeakyRelu(X, X_scale, X_zp, Y_scale, Y_zp) (com.microsoft): the activation on X. */
export const qlinearSigmoid = quantized({
  types: both("QLinearSigmoid"),
  float: unary,
  op: "Sigmoid",
  map: () => [0],
  quantInputs: [1, 2, 3, 4],
  dtype: zpType(4),
});

export const qlinearLeakyRelu = quantized({
  types: both("QLinearLeakyRelu"),
  float: unary,
  op: "LeakyRelu",
  map: () => [0],
  quantInputs: [1, 2, 3, 4],
  dtype: zpType(4),
});

/** QLinearSoftmax(X, X_scale, X_zp, Y_scale, Y_zp) (com.microsoft): Softmax on X. */
export const qlinearSoftmax = quantized({
  types: both("QLinearSoftmax"),
  float: softmax,
  op: "Softmax",
  map: () => [0],
  quantInputs: [1, 2, 3, 4],
  dtype: zpType(4),
});

/** QLinearAveragePool(X, x_scale, x_zp, y_scale, y_zp) (com.microsoft): AveragePool on X (NCHW only). */
export const qlinearAveragePool = quantized({
  types: both("QLinearAveragePool"),
  float: pool,
  op: "AveragePool",
  map: (ctx) => {
    if (ctx.attrs.int("channels_last", 0)) layerError(ctx, "channels_last QLinearAveragePool is not supported");
    return [0];
  },
  quantInputs: [1, 2, 3, 4],
  dtype: zpType(4),
});

/**
 * QLinearGlobalAveragePool(X, x_scale, x_zp, y_scale, y_zp) (com.microsoft): global
 * average pooling on X; with `channels_last` X is [N, spatial…, C] and so is the output.
 */
const qgapNchw = quantized({
  types: [],
  float: globalPool,
  op: "GlobalAveragePool",
  map: () => [0],
  quantInputs: [1, 2, 3, 4],
  dtype: zpType(4),
});

export const qlinearGlobalAveragePool: OpRule = {
  types: both("QLinearGlobalAveragePool"),
  family: "pool",
  quantInputs: [1, 2, 3, 4],
  infer(ctx) {
    if (!ctx.attrs.int("channels_last", 0)) return qgapNchw.infer(ctx);
    const x = ctx.inputs[0]?.shape;
    if (x && x.length < 3) layerError(ctx, `input must have rank ≥ 3, got ${x.length}`);
    return [{ dtype: zpType(4)(ctx), shape: x && [x[0], ...x.slice(1, -1).map(() => 1), x[x.length - 1]] }];
  },
  cost(ctx) {
    if (!ctx.attrs.int("channels_last", 0)) return qgapNchw.cost?.(ctx) ?? null;
    const x = ctx.inputs[0]?.shape;
    const o = ctx.outputs[0]?.shape;
    const inN = x ? numel(x) : null;
    const outN = o ? numel(o) : null;
    if (inN === null || outN === null) return null;
    return cost({ add: inN - outN, div: outN });
  },
  field: () => ({ kind: "global" }),
};

/**
 * QLinearConcat(Y_scale, Y_zp, X1, X1_scale, X1_zp, X2, …) (com.microsoft): Concat of
 * X1, X2, … along `axis`.
 */
export const qlinearConcat = quantized({
  types: both("QLinearConcat"),
  float: concat,
  op: "Concat",
  map: (ctx) => {
    const n = ctx.node.inputs.length;
    if (n < 5 || (n - 2) % 3 !== 0) layerError(ctx, `QLinearConcat needs 2 + 3·k inputs, got ${n}`);
    return Array.from({ length: (n - 2) / 3 }, (_, k) => 2 + 3 * k);
  },
  quantInputs: (ctx) =>
    except(
      ctx.node.inputs.length,
      Array.from({ length: (ctx.node.inputs.length - 2) / 3 }, (_, k) => 2 + 3 * k),
    ),
  weightInputs: [],
  dtype: zpType(1),
});

/** ONNX TensorProto codes for QuantizeLinear's `output_dtype`. */
function onnxCode(code: number): DType {
  const t: Record<number, DType> = {
    2: "uint8",
    3: "int8",
    4: "uint16",
    5: "int16",
    21: "uint4",
    22: "int4",
    17: "float8",
    18: "float8",
    19: "float8",
    20: "float8",
  };
  return t[code] ?? "uint8";
}

export const QUANT_RULES: readonly OpRule[] = [
  quantizeLinear,
  dequantizeLinear,
  dynamicQuantizeLinear,
  qlinearConv,
  convInteger,
  matmulInteger,
  qlinearMatMul,
  matmulIntegerToFloat,
  dynamicQuantizeMatMul,
  qgemm,
  qlinearAdd,
  qlinearMul,
  qlinearSigmoid,
  qlinearLeakyRelu,
  qlinearSoftmax,
  qlinearAveragePool,
  qlinearGlobalAveragePool,
  qlinearConcat,
];
