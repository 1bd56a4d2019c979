import type { Dim, Shape } from "../core/shape.js";
import { normAxis } from "./args.js";
import { type Field, layerError, type OpRule, type OutputState, type RuleContext, type TensorState } from "./rule.js";

/**
 * Control flow, after a reader has inlined the subgraphs (ONNX If branches, Loop and Scan
 * bodies): the body layers are ordinary layers of the graph, tagged with their region
 * (`Node.region`), and these rules are the layers that join the regions' results. They
 * compute nothing themselves; the analysis repeats a loop body's cost by its trip count
 * and counts one branch of an If (analysis/regions.ts).
 */

/** Same shape, dim by dim. */
function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * If, inlined: inputs [cond, then-outputs…, else-outputs…] (k each), k outputs. A known
 * condition picks its branch's tensors (values included, so shape arithmetic under an If
 * still folds); otherwise an output has a shape when both branches agree on it.
 */
export const ifMerge: OpRule = {
  types: ["If"],
  family: "control",
  infer(ctx) {
    const n = ctx.node.inputs.length - 1;
    if (n < 0 || n % 2 !== 0) layerError(ctx, `If joins two branches of equal arity, got ${n} branch outputs`);
    const k = n / 2;
    const c = ctx.inputs[0]?.value?.[0];
    return Array.from({ length: k }, (_, i): OutputState => {
      const t = ctx.inputs[1 + i];
      const e = ctx.inputs[1 + k + i];
      if (c !== undefined) {
        const pick = c ? t : e;
        return pick ? { dtype: pick.dtype, shape: pick.shape, value: pick.value } : { dtype: "unknown" };
      }
      const dtype = t?.dtype ?? e?.dtype ?? "unknown";
      const shape = t?.shape && e?.shape && sameShape(t.shape, e.shape) ? t.shape : undefined;
      return { dtype, shape };
    });
  },
};

/** Trip count of a loop from its inputs, when known. */
function loopTrips(ctx: RuleContext): number | undefined {
  if (!ctx.attrs.int("static_trips", 0)) return undefined;
  const m = ctx.inputs[0]?.value?.[0];
  const enter = ctx.inputs[1];
  if (m === undefined || (enter && enter.value === undefined)) return undefined;
  return enter?.value?.[0] === 0 ? 0 : m;
}

/** Stacks a per-iteration tensor `trips` times along `axis` (a scan output). */
function stacked(ctx: RuleContext, el: TensorState | undefined, trips: Dim, axis: number): OutputState {
  if (!el) return { dtype: "unknown" };
  if (!el.shape) return { dtype: el.dtype };
  const a = normAxis(ctx, axis, el.shape.length + 1);
  return { dtype: el.dtype, shape: [...el.shape.slice(0, a), trips, ...el.shape.slice(a)] };
}

/** A loop-carried result: the body's last state (its shape does not change between iterations). */
function carried(out: TensorState | undefined, init: TensorState | undefined): OutputState {
  const t = out ?? init;
  return t ? { dtype: t.dtype, shape: t.shape ?? init?.shape } : { dtype: "unknown" };
}

/**
 * Loop, inlined: inputs [M, cond, initial states… (N = `carried`), body's final states…,
 * body's per-iteration scan outputs…]; outputs: the N final states, then each scan output
 * stacked over the iterations. With `static_trips` (the body passes its condition through)
 * the count is M; otherwise scan outputs have a symbolic length.
 */
export const loopMerge: OpRule = {
  types: ["Loop"],
  family: "control",
  infer(ctx) {
    const n = ctx.attrs.int("carried");
    const k = ctx.node.inputs.length - 2 - 2 * n;
    if (n < 0 || k < 0) layerError(ctx, `Loop has ${ctx.node.inputs.length} inputs for ${n} carried states`);
    const trips: Dim = loopTrips(ctx) ?? `trips(${ctx.node.name})`;
    return [
      ...Array.from({ length: n }, (_, i) => carried(ctx.inputs[2 + n + i], ctx.inputs[2 + i])),
      ...Array.from({ length: k }, (_, j) => stacked(ctx, ctx.inputs[2 + 2 * n + j], trips, 0)),
    ];
  },
  /** The first carried state's field after every iteration (pointwise when the count is unknown). */
  field(ctx): Field {
    const n = ctx.attrs.int("carried");
    const trips = loopTrips(ctx);
    return n > 0 && trips !== undefined ? { kind: "repeat", from: 2, to: 2 + n, times: trips } : { kind: "pointwise" };
  },
};

/**
 * Scan, inlined: inputs [initial states… (N = `carried`), scanned inputs… (S =
 * `scan_inputs`), body's final states…, body's per-iteration outputs…]. The trip count is
 * the first scanned input's length along its scan axis; each scan output stacks along its
 * `scan_output_axes` entry (default 0).
 */
export const scanMerge: OpRule = {
  types: ["Scan"],
  family: "control",
  infer(ctx) {
    const n = ctx.attrs.int("carried");
    const s = ctx.attrs.int("scan_inputs");
    const k = ctx.node.inputs.length - 2 * n - s;
    if (n < 0 || s < 1 || k < 0) layerError(ctx, `Scan has ${ctx.node.inputs.length} inputs for ${n} states and ${s} scanned inputs`);
    const first = ctx.inputs[n]?.shape;
    const inAxes = ctx.attrs.ints("scan_input_axes", []);
    const outAxes = ctx.attrs.ints("scan_output_axes", []);
    const trips: Dim = first ? first[normAxis(ctx, inAxes[0] ?? 0, first.length)] : `trips(${ctx.node.name})`;
    return [
      ...Array.from({ length: n }, (_, i) => carried(ctx.inputs[n + s + i], ctx.inputs[i])),
      ...Array.from({ length: k }, (_, j) => stacked(ctx, ctx.inputs[2 * n + s + j], trips, outAxes[j] ?? 0)),
    ];
  },
  /** The first carried state's field after every step (pointwise when the length is unknown). */
  field(ctx): Field {
    const n = ctx.attrs.int("carried");
    const s = ctx.attrs.int("scan_inputs");
    const first = ctx.inputs[n]?.shape;
    const d = first?.[normAxis(ctx, ctx.attrs.ints("scan_input_axes", [])[0] ?? 0, first.length)];
    return n > 0 && typeof d === "number" ? { kind: "repeat", from: 0, to: n + s, times: d } : { kind: "pointwise" };
  },
};

/** The iteration number (int64 scalar) and condition (bool scalar) a loop body reads; known only at run time. */
export const loopIteration: OpRule = {
  types: ["LoopIteration"],
  family: "control",
  infer: () => [
    { dtype: "int64", shape: [] },
    { dtype: "bool", shape: [] },
  ],
};
