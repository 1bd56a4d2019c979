import { mul, numel, type Shape } from "../core/shape.js";
import { dtypeOf, normAxis, sameAsInput } from "./args.js";
import { cost, type Field, inputShape, layerError, type OpRule, type RuleContext } from "./rule.js";

function elements(ctx: RuleContext): number | null {
  const s = ctx.outputs[0]?.shape;
  return s ? numel(s) : null;
}

/**
 * Batch normalization at inference: y = (x − mean)/√(var + ε)·γ + β, folded into one
 * multiply and one add per element (what runtimes execute). γ and β are parameters; the
 * running mean and variance (inputs 3 and 4) are non-trainable buffers. In training mode
 * (opset 14+) the extra outputs are the updated running statistics, of shape [C].
 */
export const batchNorm: OpRule = {
  types: ["BatchNormalization"],
  family: "norm",
  bufferInputs: [3, 4],
  infer(ctx) {
    const x = inputShape(ctx, 0);
    if (x && x.length < 2) layerError(ctx, `expects an input of rank ≥ 2 (N, C, …), got ${x.length}`);
    const c = x?.[1];
    for (let i = 1; i < Math.min(ctx.inputs.length, 5); i++) {
      const p = ctx.inputs[i]?.shape;
      if (p && typeof c === "number" && (p.length !== 1 || (typeof p[0] === "number" && p[0] !== c))) {
        layerError(ctx, `input ${i} has shape ${p.join("×")}, expected ${c} (one per channel)`);
      }
    }
    return ctx.node.outputs.map((_, i) => ({ dtype: dtypeOf(ctx), shape: i === 0 ? x : c === undefined ? undefined : [c] }));
  },
  cost(ctx) {
    const n = elements(ctx);
    return n === null ? null : cost({ mul: n, add: n });
  },
  inPlace: true,
};

/**
 * Local response normalization across `size` channels: y = x / (bias + α/size·Σx²)^β.
 * Per element: `size` squares, `size` adds, one scale, one power and one division.
 * Channels mix but positions do not: pointwise for the receptive field.
 */
export const lrn: OpRule = {
  types: ["LRN"],
  family: "norm",
  infer: sameAsInput,
  cost(ctx) {
    const n = elements(ctx);
    const size = ctx.attrs.int("size");
    if (size <= 0) layerError(ctx, `size must be positive, got ${size}`);
    return n === null ? null : cost({ mul: mul(n, size + 1), add: mul(n, size), exp: n, div: n });
  },
};

/** The axes one statistic is computed over, and the shape indexing the groups. */
function statAxes(ctx: RuleContext, x: Shape): { reduced: number[]; groups: Shape } {
  const op = ctx.node.op;
  if (op === "LayerNormalization") {
    const axis = normAxis(ctx, ctx.attrs.int("axis", -1), x.length);
    return { reduced: x.map((_, i) => i).filter((i) => i >= axis), groups: x.slice(0, axis) };
  }
  if (x.length < 3) layerError(ctx, `expects an input of rank ≥ 3 (N, C, spatial…), got ${x.length}`);
  const spatial = x.map((_, i) => i).filter((i) => i >= 2);
  if (op === "GroupNormalization") {
    const g = ctx.attrs.int("num_groups");
    if (g <= 0 || (typeof x[1] === "number" && x[1] % g !== 0)) layerError(ctx, `${x[1]} channels cannot form ${g} groups`);
    return { reduced: [1, ...spatial], groups: [x[0], g] };
  }
  return { reduced: spatial, groups: x.slice(0, 2) };
}

/**
 * Normalizations whose statistics are computed at run time (instance, layer, group).
 * Per element: two adds for the sums of x and x², a subtract, a square, a scale and the
 * affine multiply–add (4 add, 3 mul); per group two divisions and a square root.
 * LayerNormalization's optional outputs (mean, inverse std-dev) keep the leading dims
 * and set the normalized ones to 1.
 */
export const statNorm: OpRule = {
  types: ["InstanceNormalization", "LayerNormalization", "GroupNormalization"],
  family: "norm",
  infer(ctx) {
    const x = inputShape(ctx, 0);
    const outs: { dtype: ReturnType<typeof dtypeOf>; shape?: Shape }[] = [{ dtype: dtypeOf(ctx), shape: x }];
    const reduced = x ? statAxes(ctx, x).reduced : [];
    for (let i = 1; i < ctx.node.outputs.length; i++) {
      outs.push({ dtype: "float32", shape: x?.map((d, j) => (reduced.includes(j) ? 1 : d)) });
    }
    return outs;
  },
  cost(ctx) {
    const x = inputShape(ctx, 0);
    const n = elements(ctx);
    const groups = x ? numel(statAxes(ctx, x).groups) : null;
    if (n === null || groups === null) return null;
    return cost({ add: mul(n, 4), mul: mul(n, 3), div: mul(groups, 2), exp: groups });
  },
  /** Every output depends on all positions of the axes its statistic covers. */
  field(ctx): Field {
    const x = inputShape(ctx, 0);
    if (!x) return { kind: "global" };
    return { kind: "axes", map: x.map((_, i) => i), mixed: statAxes(ctx, x).reduced };
  },
};

/**
 * Lp normalization along `axis` (p = 1 or 2): per element one |x| or x² and one add for
 * the norm, one division; per normalized vector one root (p = 2).
 */
export const lpNorm: OpRule = {
  types: ["LpNormalization"],
  family: "norm",
  infer: sameAsInput,
  cost(ctx) {
    const x = inputShape(ctx, 0);
    const n = elements(ctx);
    if (!x || n === null) return null;
    const axis = normAxis(ctx, ctx.attrs.int("axis", -1), x.length);
    const vectors = numel(x.filter((_, i) => i !== axis));
    if (vectors === null) return null;
    const p = ctx.attrs.int("p", 2);
    if (p !== 1 && p !== 2) layerError(ctx, `p must be 1 or 2, got ${p}`);
    return p === 2 ? cost({ mul: n, add: n, div: n, exp: vectors }) : cost({ cmp: n, add: n, div: n });
  },
  field(ctx): Field {
    const rank = inputShape(ctx, 0)?.length ?? 0;
    return {
      kind: "axes",
      map: Array.from({ length: rank }, (_, i) => i),
      mixed: rank ? [normAxis(ctx, ctx.attrs.int("axis", -1), rank)] : [],
    };
  },
};
