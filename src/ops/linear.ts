import type { Dim, Shape } from "../core/shape.js";
import { mul, numel } from "../core/shape.js";
import { dtypeOf } from "./args.js";
import { broadcastShapes } from "./broadcast.js";
import { cost, type Field, inputShape, layerError, type OpRule, type RuleContext } from "./rule.js";

/**
 * Gemm (fully-connected): Y = α·A'·B' + β·C with A' [M, K], B' [K, N]. MACs M·K·N; one
 * bias add per output when C is present; one multiply per output for α ≠ 1 and for β ≠ 1.
 * Seed: (K + 1)·N per row, the +1 being the bias.
 */
export const gemm: OpRule = {
  types: ["Gemm"],
  family: "linear",
  infer(ctx) {
    const d = gemmDims(ctx);
    return [{ dtype: dtypeOf(ctx), shape: d && [d.m, d.n] }];
  },
  cost(ctx) {
    const d = gemmDims(ctx);
    if (!d || typeof d.m !== "number" || typeof d.k !== "number" || typeof d.n !== "number") return null;
    const outputs = mul(d.m, d.n);
    const hasC = ctx.inputs[2] !== undefined;
    const scales = (ctx.attrs.float("alpha", 1) !== 1 ? 1 : 0) + (hasC && ctx.attrs.float("beta", 1) !== 1 ? 1 : 0);
    return cost({ macs: mul(outputs, d.k), bias: hasC ? outputs : 0, mul: mul(outputs, scales), seed: mul(outputs, d.k + 1) });
  },
  /** Input 0's K axis is contracted; its M axis becomes output axis 0. */
  field(ctx): Field {
    return ctx.attrs.int("transA", 0) ? { kind: "axes", map: [null, 0], mixed: [0] } : { kind: "axes", map: [0, null], mixed: [1] };
  },
  /** B is [K, N] ([N, K] with transB): K is input A's feature count, N the weight's own. */
  weightShape(ctx, i) {
    const a = ctx.inputs[0]?.shape;
    const b = ctx.inputs[1]?.shape;
    if (i !== 1 || !a || !b || a.length !== 2 || b.length !== 2) return undefined;
    const k = ctx.attrs.int("transA", 0) ? a[0] : a[1];
    return ctx.attrs.int("transB", 0) ? [b[0], k] : [k, b[1]];
  },
};

function gemmDims(ctx: RuleContext): { m: Dim; k: Dim; n: Dim } | undefined {
  const a = inputShape(ctx, 0);
  const b = inputShape(ctx, 1);
  if (!a || !b) return undefined;
  if (a.length !== 2 || b.length !== 2) layerError(ctx, `Gemm needs 2-d inputs, got ${a.length}-d and ${b.length}-d`);
  const [m, k] = ctx.attrs.int("transA", 0) ? [a[1], a[0]] : [a[0], a[1]];
  const [k2, n] = ctx.attrs.int("transB", 0) ? [b[1], b[0]] : [b[0], b[1]];
  if (typeof k === "number" && typeof k2 === "number" && k !== k2) {
    layerError(ctx, `inner dimensions differ: the input has ${k} features, the weight expects ${k2}`);
  }
  const c = ctx.inputs[2]?.shape;
  if (c) broadcastShapes(ctx, [c, [m, n]]);
  return { m, k, n };
}

/**
 * MatMul with numpy semantics: 1-d operands are promoted, leading dims broadcast.
 * MACs = batch·M·K·N (the seed counts the same).
 */
export const matmul: OpRule = {
  types: ["MatMul"],
  family: "linear",
  infer(ctx) {
    return [{ dtype: dtypeOf(ctx), shape: matmulDims(ctx)?.shape }];
  },
  cost(ctx) {
    const d = matmulDims(ctx);
    const b = d ? numel(d.batch) : null;
    if (!d || b === null || typeof d.m !== "number" || typeof d.k !== "number" || typeof d.n !== "number") return null;
    const macs = mul(b, d.m, d.k, d.n);
    return cost({ macs, seed: macs });
  },
  /** Input 0's last axis is contracted; its batch axes and M axis map through. */
  field(ctx): Field {
    const d = matmulDims(ctx);
    const rank = inputShape(ctx, 0)?.length ?? 0;
    if (!d || rank < 2) return { kind: "axes", map: new Array(rank).fill(null), mixed: rank ? [rank - 1] : [] };
    const shift = d.batch.length - (rank - 2);
    const map = Array.from({ length: rank }, (_, i) => (i === rank - 1 ? null : i + shift));
    return { kind: "axes", map, mixed: [rank - 1] };
  },
};

function matmulDims(ctx: RuleContext) {
  const a0 = inputShape(ctx, 0);
  const b0 = inputShape(ctx, 1);
  if (!a0 || !b0) return undefined;
  if (a0.length === 0 || b0.length === 0) layerError(ctx, "MatMul operands must have rank ≥ 1");
  const a = a0.length === 1 ? [1, a0[0]] : a0;
  const b = b0.length === 1 ? [b0[0], 1] : b0;
  const m = a[a.length - 2];
  const k = a[a.length - 1];
  const k2 = b[b.length - 2];
  const n = b[b.length - 1];
  if (typeof k === "number" && typeof k2 === "number" && k !== k2) layerError(ctx, `inner dimensions differ: ${k} vs ${k2}`);
  const batch = broadcastShapes(ctx, [a.slice(0, -2), b.slice(0, -2)]);
  const shape = [...batch];
  if (a0.length > 1) shape.push(m);
  if (b0.length > 1) shape.push(n);
  return { batch, m, k, n, shape };
}

/** A parsed Einsum equation: one letter list per operand (`.` stands for one ellipsis dim) and the output's. */
interface Equation {
  inputs: string[][];
  output: string[];
  /** Letter → size. */
  sizes: Map<string, Dim>;
}

/**
 * Einsum with one or two operands, each letter appearing at most once per operand, with
 * `...` for broadcast batch dims: matmul-like forms ('bij,bjk->bik', 'ij,jk->ik',
 * 'bhqd,bhkd->bhqk'), transpositions and sums. Two operands with a summed letter cost
 * MACs = Π of every letter's size (batch·M·K·N for a matmul); without one (an outer or
 * element-wise product) one multiply per output. One operand: Π all − Π output adds.
 */
export const einsum: OpRule = {
  types: ["Einsum"],
  family: "linear",
  infer(ctx) {
    const eq = parseEinsum(ctx);
    return [{ dtype: dtypeOf(ctx), shape: eq?.output.map((l) => eq.sizes.get(l) as Dim) }];
  },
  cost(ctx) {
    const eq = parseEinsum(ctx);
    if (!eq) return null;
    const all = numel([...eq.sizes.values()]);
    const out = numel(eq.output.map((l) => eq.sizes.get(l) as Dim));
    if (all === null || out === null) return null;
    if (eq.inputs.length === 1) return cost({ add: all - out });
    const summed = [...eq.sizes.keys()].some((l) => !eq.output.includes(l));
    return summed ? cost({ macs: all, seed: all }) : cost({ mul: all });
  },
  /** Input 0's letters that are summed are contracted; the others map to their output position. */
  field(ctx): Field {
    const eq = parseEinsum(ctx);
    if (!eq) return { kind: "global" };
    const first = eq.inputs[0];
    const map = first.map((l) => (eq.output.includes(l) ? eq.output.indexOf(l) : null));
    return { kind: "axes", map, mixed: first.flatMap((l, i) => (eq.output.includes(l) ? [] : [i])) };
  },
};

function parseEinsum(ctx: RuleContext): Equation | undefined {
  const text = ctx.attrs.str("equation").replace(/\s+/g, "");
  const present = ctx.inputs.filter((t) => t !== undefined);
  const [lhs, rhs] = text.includes("->") ? text.split("->") : [text, undefined];
  const terms = lhs.split(",");
  if (terms.length !== present.length) layerError(ctx, `equation '${text}' has ${terms.length} operands, the node has ${present.length}`);
  if (terms.length > 2) layerError(ctx, `Einsum with ${terms.length} operands is not supported (at most 2)`);
  const shapes = present.map((t) => t.shape);
  if (shapes.some((s) => s === undefined)) return undefined;
  const sizes = new Map<string, Dim>();
  const ellipsis: Shape[] = [];
  const inputs = terms.map((term, j) => {
    const shape = shapes[j] as Shape;
    if (!/^[A-Za-z]*(\.\.\.)?[A-Za-z]*$/.test(term)) layerError(ctx, `equation term '${term}' is not supported`);
    const named = term.replace("...", "");
    if (new Set(named).size !== named.length) layerError(ctx, `equation term '${term}' repeats a letter (diagonals are not supported)`);
    const extra = shape.length - named.length;
    if (extra < 0 || (extra > 0 && !term.includes("...")))
      layerError(ctx, `term '${term}' does not match an operand of rank ${shape.length}`);
    const letters = term.replace("...", ".".repeat(extra)).split("");
    ellipsis.push(shape.slice(term.indexOf("."), term.indexOf(".") + extra));
    letters.forEach((l, i) => {
      if (l === ".") return;
      const d = shape[i];
      const prev = sizes.get(l);
      if (prev === undefined || prev === 1) sizes.set(l, d);
      else if (typeof prev === "number" && typeof d === "number" && d !== prev && d !== 1) {
        layerError(ctx, `letter '${l}' has size ${prev} in one operand and ${d} in another`);
      }
    });
    return letters;
  });
  // Ellipsis dims broadcast together and are named by position from the right.
  const dots = broadcastShapes(ctx, ellipsis);
  dots.forEach((d, i) => {
    sizes.set(`.${dots.length - i}`, d);
  });
  const named = inputs.map((ls) => {
    let k = ls.filter((l) => l === ".").length;
    return ls.map((l) => (l === "." ? `.${k--}` : l));
  });
  const dotNames = dots.map((_, i) => `.${dots.length - i}`);
  let output: string[];
  if (rhs === undefined) {
    const counts = new Map<string, number>();
    for (const l of named.flat()) if (!l.startsWith(".")) counts.set(l, (counts.get(l) ?? 0) + 1);
    output = [
      ...dotNames,
      ...[...counts]
        .filter(([, c]) => c === 1)
        .map(([l]) => l)
        .sort(),
    ];
  } else {
    if (!/^[A-Za-z]*(\.\.\.)?[A-Za-z]*$/.test(rhs)) layerError(ctx, `equation output '${rhs}' is not supported`);
    output = rhs
      .replace("...", "\u0000")
      .split("")
      .flatMap((l) => (l === "\u0000" ? dotNames : [l]));
    for (const l of output) if (!sizes.has(l)) layerError(ctx, `output letter '${l}' appears in no operand`);
  }
  return { inputs: named, output, sizes };
}
