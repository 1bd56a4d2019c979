import type { Dim, Shape } from "../core/shape.js";
import { mul, numel, symAffine } from "../core/shape.js";
import { dtypeOf, normAxes } from "./args.js";
import { cost, type Field, inputShape, layerError, type OpRule, type Resample, type RuleContext } from "./rule.js";

/** A scale out/in as the fraction p/q. */
interface Ratio {
  p: number;
  q: number;
}

/** The fraction with the smallest denominator (≤ 1000) within float32 precision of x. */
function toRatio(x: number): Ratio | undefined {
  for (let q = 1; q <= 1000; q++) {
    const p = Math.round(x * q);
    if (p > 0 && Math.abs(p / q - x) <= 1e-6 * Math.max(1, x)) return { p, q };
  }
  return undefined;
}

/** One axis of a resize: sizes and the scale the runtime uses for coordinates. */
interface Axis {
  in: Dim;
  out: Dim;
  scale?: Ratio;
}

/**
 * Scales and sizes by op and opset. Upsample: `scales` attribute (opset 7–8; `height_scale`/
 * `width_scale` in opset 1) or input 1 (opset 9). Resize opset 10: scales in input 1;
 * opset 11+: roi (1), scales (2), sizes (3), an empty scales input meaning "use sizes";
 * opset 18+: `axes` restricts them and `keep_aspect_ratio_policy` may rescale sizes.
 * Undefined when a needed value is unknown.
 */
function resizeAxes(ctx: RuleContext, x: Shape): Axis[] | undefined {
  const rank = x.length;
  let scales: readonly number[] | undefined;
  let sizes: readonly number[] | undefined;
  const val = (i: number) => {
    const t = ctx.inputs[i];
    if (!t) return null;
    return t.value ?? (t.shape && numel(t.shape) === 0 ? null : undefined);
  };
  if (ctx.node.op === "Upsample") {
    if (ctx.attrs.has("scales")) scales = ctx.node.attrs.scales as number[];
    else if (ctx.attrs.has("height_scale")) scales = [1, 1, ctx.attrs.float("height_scale"), ctx.attrs.float("width_scale")];
    else {
      const v = val(1);
      if (v === undefined) return undefined;
      scales = v ?? layerError(ctx, "scales are missing");
    }
  } else if (ctx.opset < 11) {
    const v = val(1);
    if (v === undefined) return undefined;
    scales = v ?? layerError(ctx, "scales are missing");
  } else {
    const s = val(2);
    const z = val(3);
    if (s === undefined && z === undefined) return undefined;
    if (s && s.length > 0) scales = s;
    else if (z && z.length > 0) sizes = z;
    else if (s === undefined || z === undefined) return undefined;
    else layerError(ctx, "neither scales nor sizes is given");
  }
  const axes = ctx.attrs.has("axes") ? normAxes(ctx, ctx.attrs.ints("axes"), rank) : x.map((_, i) => i);
  const given = scales ?? sizes ?? [];
  if (given.length !== axes.length) layerError(ctx, `${scales ? "scales" : "sizes"} has ${given.length} values for ${axes.length} axes`);
  const result: Axis[] = x.map((d) => ({ in: d, out: d, scale: { p: 1, q: 1 } }));
  if (scales) {
    axes.forEach((a, i) => {
      const s = given[i];
      if (!(s > 0)) layerError(ctx, `scale ${s} must be positive`);
      const d = x[a];
      // Runtimes multiply in float32: floor(fround(scale·in)).
      const out =
        typeof d === "number" ? Math.floor(Math.fround(s * d)) : s === 1 ? d : Number.isInteger(s) ? symAffine(d, s, 0) : `${d}·${s}`;
      result[a] = { in: d, out, scale: toRatio(s) };
    });
  } else {
    const policy = ctx.attrs.str("keep_aspect_ratio_policy", "stretch");
    let common: number | undefined;
    if (policy !== "stretch") {
      const ratios = axes.map((a, i) => {
        const d = x[a];
        return typeof d === "number" ? given[i] / d : undefined;
      });
      if (ratios.some((r) => r === undefined)) return undefined;
      const rs = ratios as number[];
      if (policy === "not_larger") common = Math.min(...rs);
      else if (policy === "not_smaller") common = Math.max(...rs);
      else layerError(ctx, `unknown keep_aspect_ratio_policy '${policy}'`);
    }
    axes.forEach((a, i) => {
      const d = x[a];
      const out = common !== undefined && typeof d === "number" ? Math.round(common * d) : given[i];
      if (out <= 0) layerError(ctx, `output size ${out} must be positive`);
      result[a] = { in: d, out, scale: typeof d === "number" ? reduce({ p: out, q: d }) : undefined };
    });
  }
  for (const r of result) if (typeof r.out === "number" && r.out <= 0) layerError(ctx, `output size ${r.out} must be positive`);
  return result;
}

function gcd(a: number, b: number): number {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b) [a, b] = [b, a % b];
  return a;
}

function reduce(r: Ratio): Ratio {
  const g = gcd(r.p, r.q) || 1;
  return { p: r.p / g, q: r.q / g };
}

/** The interpolation mode: nearest, linear or cubic (Upsample's `bilinear`/`trilinear` are linear). */
function modeOf(ctx: RuleContext): "nearest" | "linear" | "cubic" {
  const m = ctx.attrs.str("mode", "nearest");
  if (m === "nearest" || m === "cubic") return m;
  if (m === "linear" || m === "bilinear" || m === "trilinear") return "linear";
  layerError(ctx, `unknown resize mode '${m}'`);
}

/**
 * Resize and Upsample. Nearest copies (no cost). Linear blends 2ⁿ taps over the n resized
 * axes with 2ⁿ − 1 lerps of one multiply and two adds per output element; cubic weighs 4ⁿ
 * taps (4ⁿ multiplies, 4ⁿ − 1 adds). Coordinate arithmetic is not counted.
 */
export const resize: OpRule = {
  types: ["Resize", "Upsample"],
  family: "resize",
  valueInputs: [1, 2, 3],
  infer(ctx) {
    const x = inputShape(ctx, 0);
    const axes = x && resizeAxes(ctx, x);
    return [{ dtype: dtypeOf(ctx), shape: axes?.map((a) => a.out) }];
  },
  cost(ctx) {
    const x = inputShape(ctx, 0);
    const out = ctx.outputs[0].shape;
    const n = out ? numel(out) : null;
    if (!x || !out || n === null) return null;
    const mode = modeOf(ctx);
    if (mode === "nearest") return cost({});
    const resized = x.filter((d, i) => d !== out[i]).length;
    if (mode === "linear") return cost({ mul: mul(n, 2 ** resized - 1), add: mul(n, 2, 2 ** resized - 1) });
    return cost({ mul: mul(n, 4 ** resized), add: mul(n, 4 ** resized - 1) });
  },
  field(ctx): Field {
    const x = inputShape(ctx, 0);
    const axes = x && resizeAxes(ctx, x);
    if (!x || !axes || x.length < 3) return { kind: "pointwise" };
    const mode = modeOf(ctx);
    return { kind: "resample", axes: axes.slice(2).map((a) => resampleAxis(ctx, a, mode)) };
  },
};

/**
 * Exact read window of one axis. The source coordinate is x = (A·o + B)/D:
 * asymmetric o·q/p; half_pixel and pytorch_half_pixel (o + ½)·q/p − ½; align_corners
 * o·(in − 1)/(out − 1); tf_half_pixel_for_nn (o + ½)·q/p. Nearest then reads one index
 * (floor, ceil, round half down/up), linear floor(x) and floor(x) + 1, cubic floor(x) − 1 …
 * floor(x) + 2. Opset 10 Resize and Upsample use asymmetric coordinates and floor when
 * enlarging, ceil when shrinking (ONNX Runtime's behaviour). tf_crop_and_resize is taken
 * with the default roi [0, 1] (align_corners); half_pixel_symmetric as half_pixel.
 */
function resampleAxis(ctx: RuleContext, a: Axis, mode: "nearest" | "linear" | "cubic"): Resample {
  if (a.in === a.out && a.scale?.p === a.scale?.q) return { num: 1, den: 1, lo: 0, hi: 0 };
  const legacy = ctx.node.op === "Upsample" || ctx.opset < 11;
  const ctm = legacy ? "asymmetric" : ctx.attrs.str("coordinate_transformation_mode", "half_pixel");
  let A: number;
  let B: number;
  let D: number;
  if (ctm === "align_corners" || ctm === "tf_crop_and_resize") {
    if (typeof a.in !== "number" || typeof a.out !== "number") layerError(ctx, "align_corners needs known sizes");
    [A, B, D] = a.out === 1 ? [0, 0, 1] : [a.in - 1, 0, a.out - 1];
  } else {
    const s = a.scale ?? (typeof a.in === "number" && typeof a.out === "number" ? reduce({ p: a.out, q: a.in }) : undefined);
    if (!s) layerError(ctx, "the resize scale is not a simple fraction");
    const { p, q } = s;
    if (ctm === "asymmetric") [A, B, D] = [q, 0, p];
    else if (ctm === "half_pixel" || ctm === "half_pixel_symmetric") [A, B, D] = [2 * q, q - p, 2 * p];
    else if (ctm === "pytorch_half_pixel") [A, B, D] = a.out === 1 ? [0, 0, 1] : [2 * q, q - p, 2 * p];
    else if (ctm === "tf_half_pixel_for_nn") [A, B, D] = [2 * q, q, 2 * p];
    else layerError(ctx, `unknown coordinate_transformation_mode '${ctm}'`);
  }
  let r: Resample;
  if (mode === "linear") r = { num: A, den: D, lo: B, hi: B + D };
  else if (mode === "cubic") r = { num: A, den: D, lo: B - D, hi: B + 2 * D };
  else {
    const shrinking = typeof a.in === "number" && typeof a.out === "number" && a.out < a.in;
    const nm = legacy ? (shrinking ? "ceil" : "floor") : ctx.attrs.str("nearest_mode", "round_prefer_floor");
    if (nm === "floor") r = { num: A, den: D, lo: B, hi: B };
    else if (nm === "ceil") r = { num: A, den: D, lo: B + D - 1, hi: B + D - 1 };
    else if (nm === "round_prefer_floor") r = { num: 2 * A, den: 2 * D, lo: 2 * B + D - 1, hi: 2 * B + D - 1 };
    else if (nm === "round_prefer_ceil") r = { num: 2 * A, den: 2 * D, lo: 2 * B + D, hi: 2 * B + D };
    else layerError(ctx, `unknown nearest_mode '${nm}'`);
  }
  const g = [r.num, r.lo, r.hi].reduce(gcd, r.den);
  return g > 1 ? { num: r.num / g, den: r.den / g, lo: r.lo / g, hi: r.hi / g } : r;
}
