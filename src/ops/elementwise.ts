import { onnxDType } from "../core/dtype.js";
import { mul, numel } from "../core/shape.js";
import { broadcastShapes } from "./broadcast.js";
import { type Cost, cost, inputShape, type OpRule, type RuleContext } from "./rule.js";

type PerElement = Partial<Omit<Cost, "macs" | "bias" | "seed">>;

/** Scales a per-element cost by the output's element count. */
function perOutput(ctx: RuleContext, per: PerElement): Cost | null {
  const shape = ctx.outputs[0]?.shape;
  const n = shape ? numel(shape) : null;
  if (n === null) return null;
  const c = cost({});
  for (const [k, v] of Object.entries(per) as [keyof PerElement, number][]) c[k] = mul(n, v);
  return c;
}

/**
 * One-input element-wise ops and what each costs per element. Counting choices
 * (documented so every convention can be traced): a transcendental function is one
 * `exp`; `relu` and `clip` bounds are comparisons.
 */
const UNARY: Record<string, PerElement> = {
  Relu: { cmp: 1 },
  LeakyRelu: { cmp: 1, mul: 1 },
  PRelu: { cmp: 1, mul: 1 },
  Elu: { cmp: 1, exp: 1, add: 1, mul: 1 },
  Selu: { cmp: 1, exp: 1, add: 1, mul: 2 },
  Celu: { cmp: 1, exp: 1, add: 1, mul: 1, div: 1 },
  ThresholdedRelu: { cmp: 1 },
  Sigmoid: { exp: 1, add: 1, div: 1 },
  HardSigmoid: { mul: 1, add: 1, cmp: 2 },
  HardSwish: { mul: 2, add: 1, cmp: 2 },
  Tanh: { exp: 1 },
  Softplus: { exp: 2, add: 1 },
  Softsign: { add: 1, div: 1 },
  Mish: { exp: 3, add: 1, mul: 1 },
  Gelu: { exp: 1, mul: 3, add: 1 },
  Erf: { exp: 1 },
  Neg: { mul: 1 },
  Abs: { cmp: 1 },
  Sqrt: { exp: 1 },
  Exp: { exp: 1 },
  Log: { exp: 1 },
  Reciprocal: { div: 1 },
  Floor: { cmp: 1 },
  Ceil: { cmp: 1 },
  Round: { cmp: 1 },
  Sign: { cmp: 1 },
  Sin: { exp: 1 },
  Cos: { exp: 1 },
  Not: { cmp: 1 },
  IsNaN: { cmp: 1 },
  IsInf: { cmp: 1 },
};

/** Clip (ReLU6 and friends): two comparisons; min and max are values, not parameters (inputs from opset 11). */
export const clip: OpRule = {
  types: ["Clip"],
  family: "activation",
  valueInputs: [1, 2],
  infer: (ctx) => [{ dtype: ctx.inputs[0]?.dtype ?? "float32", shape: ctx.inputs[0]?.shape }],
  cost: (ctx) => perOutput(ctx, { cmp: 2 }),
  inPlace: true,
};

/** Ops that move no arithmetic at inference: copies, casts, dropout. */
const FREE = ["Identity", "Dropout", "Cast", "CastLike"];

export const unary: OpRule = {
  types: Object.keys(UNARY),
  family: "activation",
  infer(ctx) {
    const x = ctx.inputs[0];
    return [{ dtype: ctx.node.op === "Not" ? "bool" : (x?.dtype ?? "float32"), shape: x?.shape }];
  },
  cost: (ctx) => perOutput(ctx, UNARY[ctx.node.op]),
  inPlace: true,
};

export const free: OpRule = {
  types: FREE,
  family: "copy",
  infer(ctx) {
    const x = ctx.inputs[0];
    const dtype = ctx.node.op === "Cast" ? onnxDType(ctx.attrs.int("to")) : (x?.dtype ?? "float32");
    // Dropout's optional mask output is bool of the same shape.
    return ctx.node.outputs.map((_, i) => ({
      dtype: i > 0 ? "bool" : dtype,
      shape: x?.shape,
      value: i === 0 ? x?.value : undefined,
    }));
  },
  inPlace: true,
};

/** Binary and variadic element-wise ops with broadcasting; cost per output element per extra operand. */
const BINARY: Record<string, PerElement> = {
  Add: { add: 1 },
  Sub: { add: 1 },
  Mul: { mul: 1 },
  Div: { div: 1 },
  Pow: { exp: 1 },
  Max: { cmp: 1 },
  Min: { cmp: 1 },
  Sum: { add: 1 },
  Mean: { add: 1 },
  Equal: { cmp: 1 },
  Less: { cmp: 1 },
  LessOrEqual: { cmp: 1 },
  Greater: { cmp: 1 },
  GreaterOrEqual: { cmp: 1 },
  And: { cmp: 1 },
  Or: { cmp: 1 },
  Xor: { cmp: 1 },
  Mod: { div: 1 },
};

const COMPARE = new Set(["Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Xor"]);

export const binary: OpRule = {
  types: Object.keys(BINARY),
  family: "elementwise",
  infer(ctx) {
    const present = ctx.inputs.filter((t) => t !== undefined);
    const shapes = present.map((t) => t.shape);
    const dtype = COMPARE.has(ctx.node.op) ? "bool" : (present[0]?.dtype ?? "float32");
    if (shapes.some((s) => s === undefined)) return [{ dtype }];
    const shape = broadcastShapes(ctx, shapes as NonNullable<(typeof shapes)[0]>[]);
    return [{ dtype, shape, value: foldValues(ctx, shape) }];
  },
  cost(ctx) {
    const operands = ctx.inputs.filter((t) => t !== undefined).length;
    const per = BINARY[ctx.node.op];
    const c = perOutput(ctx, per);
    if (!c) return null;
    const times = Math.max(operands - 1, 1);
    for (const k of Object.keys(per) as (keyof PerElement)[]) c[k] = mul(c[k], times);
    // Mean divides once per output by the operand count.
    if (ctx.node.op === "Mean") c.div = perOutput(ctx, { div: 1 })?.div ?? 0;
    return c;
  },
  inPlace: true,
};

/** Integer arithmetic on small known values (shape computations in exported graphs). */
function foldValues(ctx: RuleContext, shape: (number | string)[]): number[] | undefined {
  const vals = ctx.inputs.map((t) => t?.value);
  if (vals.length !== 2 || !vals[0] || !vals[1] || shape.length > 1) return undefined;
  const n = typeof shape[0] === "number" ? shape[0] : shape.length === 0 ? 1 : -1;
  if (n < 0 || n > 64) return undefined;
  const [a, b] = vals as [readonly number[], readonly number[]];
  const at = (v: readonly number[], i: number) => (v.length === 1 ? v[0] : v[i]);
  const f: Record<string, (x: number, y: number) => number> = {
    Add: (x, y) => x + y,
    Sub: (x, y) => x - y,
    Mul: (x, y) => x * y,
    Div: (x, y) => (Number.isInteger(x) && Number.isInteger(y) ? Math.trunc(x / y) : x / y),
    Max: Math.max,
    Min: Math.min,
  };
  const op = f[ctx.node.op];
  if (!op) return undefined;
  return Array.from({ length: n }, (_, i) => op(at(a, i), at(b, i)));
}

/** Softmax and LogSoftmax along one axis: exp, sum, divide (log) per element. */
export const softmax: OpRule = {
  types: ["Softmax", "LogSoftmax"],
  family: "activation",
  infer(ctx) {
    const x = inputShape(ctx, 0);
    return [{ dtype: ctx.inputs[0]?.dtype ?? "float32", shape: x }];
  },
  cost(ctx) {
    const extra = ctx.node.op === "LogSoftmax" ? { exp: 2 } : { exp: 1 };
    return perOutput(ctx, { ...extra, add: 1, div: 1, cmp: 1 });
  },
  field(ctx) {
    // Softmax along a spatial axis mixes all positions.
    const rank = ctx.inputs[0]?.shape?.length ?? 0;
    let axis = ctx.attrs.int("axis", ctx.opset < 13 ? 1 : -1);
    if (axis < 0) axis += rank;
    return axis >= 2 ? { kind: "global" } : { kind: "pointwise" };
  },
};
