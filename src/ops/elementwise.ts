import { type DType, onnxDType } from "../core/dtype.js";
import { mul, numel } from "../core/shape.js";
import { dtypeOf, normAxis } from "./args.js";
import { broadcastShapes } from "./broadcast.js";
import { type Cost, cost, type OpRule, type RuleContext } from "./rule.js";
import { castValues, foldBroadcast, isIntegral } from "./values.js";

type PerElement = Partial<Omit<Cost, "macs" | "bias" | "seed">>;

/** Scales a per-element cost by the output's element count (null when it is unknown). */
export function perOutput(ctx: RuleContext, per: PerElement, times = 1): Cost | null {
  const shape = ctx.outputs[0]?.shape;
  const n = shape ? numel(shape) : null;
  if (n === null) return null;
  const c = cost({});
  // for…in, not Object.entries: no list of pairs per layer.
  for (const k in per) c[k as keyof PerElement] = mul(n, per[k as keyof PerElement] as number, times);
  return c;
}

interface Unary {
  /** Arithmetic per element. */
  per: PerElement;
  /** Value on known (small) inputs, for shape arithmetic. */
  fold?: (x: number) => number;
}

/** Round half to even, as ONNX Round does. */
function roundEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * One-input element-wise ops and what each costs per element. Counting choices, so every
 * convention can be traced: a transcendental function (exp, log, erf, tanh, sqrt, power)
 * is one `exp`; max(0, x), clamps, abs and rounding are comparisons; a subtraction is an
 * `add`. Gelu is 0.5·x·(1 + erf(x/√2)): erf, 3 mul, 1 add. HardSwish x·clip(x/6 + ½):
 * 2 mul, 1 add, 2 cmp. Mish x·tanh(softplus(x)): 3 transcendental, 1 add, 1 mul.
 * PRelu's slope (input 1) is a learned parameter; LeakyRelu's is an attribute.
 */
const UNARY: Record<string, Unary> = {
  Relu: { per: { cmp: 1 }, fold: (x) => Math.max(x, 0) },
  LeakyRelu: { per: { cmp: 1, mul: 1 } },
  PRelu: { per: { cmp: 1, mul: 1 } },
  Elu: { per: { cmp: 1, exp: 1, add: 1, mul: 1 } },
  Selu: { per: { cmp: 1, exp: 1, add: 1, mul: 2 } },
  Celu: { per: { cmp: 1, exp: 1, add: 1, mul: 1, div: 1 } },
  ThresholdedRelu: { per: { cmp: 1 } },
  Sigmoid: { per: { exp: 1, add: 1, div: 1 } },
  HardSigmoid: { per: { mul: 1, add: 1, cmp: 2 } },
  HardSwish: { per: { mul: 2, add: 1, cmp: 2 } },
  Tanh: { per: { exp: 1 } },
  Softplus: { per: { exp: 2, add: 1 } },
  Softsign: { per: { cmp: 1, add: 1, div: 1 } },
  Mish: { per: { exp: 3, add: 1, mul: 1 } },
  Gelu: { per: { exp: 1, mul: 3, add: 1 } },
  Erf: { per: { exp: 1 } },
  Neg: { per: { mul: 1 }, fold: (x) => -x },
  Abs: { per: { cmp: 1 }, fold: Math.abs },
  Sqrt: { per: { exp: 1 }, fold: Math.sqrt },
  Exp: { per: { exp: 1 }, fold: Math.exp },
  Log: { per: { exp: 1 }, fold: Math.log },
  Reciprocal: { per: { div: 1 }, fold: (x) => 1 / x },
  Floor: { per: { cmp: 1 }, fold: Math.floor },
  Ceil: { per: { cmp: 1 }, fold: Math.ceil },
  Round: { per: { cmp: 1 }, fold: roundEven },
  Sign: { per: { cmp: 1 }, fold: Math.sign },
  Sin: { per: { exp: 1 } },
  Cos: { per: { exp: 1 } },
  Not: { per: { cmp: 1 }, fold: (x) => (x ? 0 : 1) },
  IsNaN: { per: { cmp: 1 } },
  IsInf: { per: { cmp: 1 } },
};

const BOOL_OUT = new Set(["Not", "IsNaN", "IsInf"]);

export const unary: OpRule = {
  types: Object.keys(UNARY),
  family: "activation",
  infer(ctx) {
    const x = ctx.inputs[0];
    const dtype: DType = BOOL_OUT.has(ctx.node.op) ? "bool" : dtypeOf(ctx);
    const fold = UNARY[ctx.node.op].fold;
    const value = fold && x ? foldBroadcast([x], x.shape, ([v]) => fold(v)) : undefined;
    return [{ dtype, shape: x?.shape, value: value && castValues(value, dtype) }];
  },
  cost: (ctx) => perOutput(ctx, UNARY[ctx.node.op].per),
  inPlace: true,
};

/**
 * Clip (ReLU6 and friends): two comparisons per element. The bounds are attributes before
 * opset 11 and inputs 1 and 2 from it; either way they are values, never parameters.
 */
export const clip: OpRule = {
  types: ["Clip"],
  family: "activation",
  valueInputs: [1, 2],
  infer(ctx) {
    const x = ctx.inputs[0];
    const lo = ctx.inputs[1]?.value?.[0] ?? (ctx.attrs.has("min") ? ctx.attrs.float("min") : -Infinity);
    const hi = ctx.inputs[2]?.value?.[0] ?? (ctx.attrs.has("max") ? ctx.attrs.float("max") : Infinity);
    const value = x ? foldBroadcast([x], x.shape, ([v]) => Math.min(Math.max(v, lo), hi)) : undefined;
    return [{ dtype: dtypeOf(ctx), shape: x?.shape, value }];
  },
  cost: (ctx) => perOutput(ctx, { cmp: 2 }),
  inPlace: true,
};

/**
 * Ops that do no arithmetic at inference: copies, casts, dropout. Dropout's ratio and
 * training_mode (inputs 1 and 2 from opset 12) are values, not parameters.
 */
export const free: OpRule = {
  types: ["Identity", "Dropout", "Cast", "CastLike"],
  family: "copy",
  valueInputs: [1, 2],
  infer(ctx) {
    const x = ctx.inputs[0];
    const op = ctx.node.op;
    const dtype = op === "Cast" ? onnxDType(ctx.attrs.int("to")) : op === "CastLike" ? dtypeOf(ctx, 1) : dtypeOf(ctx);
    // Dropout's optional mask output is bool of the same shape.
    return ctx.node.outputs.map((_, i) => ({
      dtype: i > 0 ? "bool" : dtype,
      shape: x?.shape,
      value: i === 0 && x?.value ? castValues(x.value, dtype) : undefined,
    }));
  },
  inPlace: true,
};

interface Binary {
  per: PerElement;
  fold?: (a: number, b: number, integral: boolean) => number;
}

/** Binary and variadic element-wise ops with broadcasting: cost per output element per extra operand. */
const BINARY: Record<string, Binary> = {
  Add: { per: { add: 1 }, fold: (a, b) => a + b },
  Sub: { per: { add: 1 }, fold: (a, b) => a - b },
  Mul: { per: { mul: 1 }, fold: (a, b) => a * b },
  Div: { per: { div: 1 }, fold: (a, b, int) => (int ? Math.trunc(a / b) : a / b) },
  Pow: { per: { exp: 1 }, fold: (a, b) => a ** b },
  Max: { per: { cmp: 1 }, fold: (a, b) => Math.max(a, b) },
  Min: { per: { cmp: 1 }, fold: (a, b) => Math.min(a, b) },
  Sum: { per: { add: 1 }, fold: (a, b) => a + b },
  Mean: { per: { add: 1 } },
  Equal: { per: { cmp: 1 }, fold: (a, b) => (a === b ? 1 : 0) },
  Less: { per: { cmp: 1 }, fold: (a, b) => (a < b ? 1 : 0) },
  LessOrEqual: { per: { cmp: 1 }, fold: (a, b) => (a <= b ? 1 : 0) },
  Greater: { per: { cmp: 1 }, fold: (a, b) => (a > b ? 1 : 0) },
  GreaterOrEqual: { per: { cmp: 1 }, fold: (a, b) => (a >= b ? 1 : 0) },
  And: { per: { cmp: 1 }, fold: (a, b) => (a && b ? 1 : 0) },
  Or: { per: { cmp: 1 }, fold: (a, b) => (a || b ? 1 : 0) },
  Xor: { per: { cmp: 1 }, fold: (a, b) => (!a !== !b ? 1 : 0) },
  Mod: { per: { div: 1 } },
};

const COMPARE = new Set(["Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Xor"]);

/**
 * Add, Mul, … with numpy broadcasting. Variadic Sum/Max/Min/Mean cost (operands − 1) per
 * output element; Mean adds one division per output. Known small integer inputs fold (the
 * shape arithmetic of exported graphs); integer Div truncates toward zero as runtimes do.
 * A single-element constant operand (`x * 0.5`, an attention scale) is a literal of the
 * computation, not a parameter.
 */
export const binary: OpRule = {
  types: Object.keys(BINARY),
  family: "elementwise",
  literalScalars: true,
  infer(ctx) {
    const present = ctx.inputs.filter((t) => t !== undefined);
    const dtype: DType = COMPARE.has(ctx.node.op) ? "bool" : (present[0]?.dtype ?? "float32");
    const shapes = present.map((t) => t.shape);
    if (present.length === 0 || shapes.some((s) => s === undefined)) return [{ dtype }];
    const shape = broadcastShapes(ctx, shapes as NonNullable<(typeof shapes)[0]>[]);
    const fold = BINARY[ctx.node.op].fold;
    const integral = isIntegral(present[0].dtype);
    const value = fold ? foldBroadcast(present, shape, (xs) => xs.reduce((a, b) => fold(a, b, integral))) : undefined;
    return [{ dtype, shape, value: value && castValues(value, dtype) }];
  },
  cost(ctx) {
    const operands = ctx.inputs.filter((t) => t !== undefined).length;
    const c = perOutput(ctx, BINARY[ctx.node.op].per, Math.max(operands - 1, 1));
    if (c && ctx.node.op === "Mean") c.div = perOutput(ctx, { div: 1 })?.div ?? 0;
    return c;
  },
  inPlace: true,
};

/**
 * Where(cond, X, Y): a selection with broadcasting. It moves data and computes nothing, so
 * it has no cost; known small inputs fold (exporters build Reshape targets with it).
 */
export const where: OpRule = {
  types: ["Where"],
  family: "elementwise",
  infer(ctx) {
    const [c, x, y] = ctx.inputs;
    const dtype = x?.dtype ?? y?.dtype ?? "float32";
    if (!c?.shape || !x?.shape || !y?.shape) return [{ dtype }];
    const shape = broadcastShapes(ctx, [c.shape, x.shape, y.shape]);
    return [{ dtype, shape, value: foldBroadcast([c, x, y], shape, ([k, a, b]) => (k ? a : b)) }];
  },
};

/**
 * Softmax, LogSoftmax and Hardmax along `axis`. From opset 13 the axis alone is normalized
 * (default −1); before, the input is coerced to 2-d at `axis` (default 1) and every axis
 * from `axis` on is normalized together. Per element: one comparison (running max), two
 * adds (subtract the max, sum), one exp and one division; LogSoftmax replaces the division
 * by a third add (subtract the log-sum) plus one log per normalized row; Hardmax is
 * comparisons only.
 */
export const softmax: OpRule = {
  types: ["Softmax", "LogSoftmax", "Hardmax"],
  family: "activation",
  infer: (ctx) => [{ dtype: dtypeOf(ctx), shape: ctx.inputs[0]?.shape }],
  cost(ctx) {
    const op = ctx.node.op;
    if (op === "Hardmax") return perOutput(ctx, { cmp: 1 });
    if (op === "Softmax") return perOutput(ctx, { cmp: 1, add: 2, exp: 1, div: 1 });
    const c = perOutput(ctx, { cmp: 1, add: 3, exp: 1 });
    const x = ctx.inputs[0]?.shape;
    if (!c || !x) return null;
    const rows = numel(x.filter((_, i) => !softmaxAxes(ctx, x.length).includes(i)));
    if (rows === null) return null;
    c.exp += rows;
    return c;
  },
  field(ctx) {
    const rank = ctx.inputs[0]?.shape?.length ?? 0;
    return { kind: "axes", map: Array.from({ length: rank }, (_, i) => i), mixed: softmaxAxes(ctx, rank) };
  },
};

/** The axes one softmax normalizes together, by opset. */
function softmaxAxes(ctx: RuleContext, rank: number): number[] {
  if (rank === 0) return [];
  const legacy = ctx.opset < 13;
  const axis = normAxis(ctx, ctx.attrs.int("axis", legacy ? 1 : -1), rank);
  if (!legacy) return [axis];
  return Array.from({ length: rank - axis }, (_, i) => axis + i);
}
