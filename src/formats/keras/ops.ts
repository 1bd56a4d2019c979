import { castCode } from "../../core/dtype.js";
import type { AttrValue } from "../../core/graph.js";
import type { Dim, Shape } from "../../core/shape.js";
import { activation } from "./activation.js";
import { type Call, fail, type Translate } from "./call.js";
import { Cfg, isKerasTensor, isObject, type Json, type LayerSpec } from "./config.js";

/**
 * Keras 3 operation nodes: a functional model that calls `keras.ops.*` (or writes `x + 3.0`
 * on a Keras tensor) serializes each call as a node with `module: "keras.src.ops.numpy"`
 * (`.nn`, `.math`, `.core`), the class name of the Operation (`Add`, `Multiply`,
 * `Reshape`, `Argmax`, …), the constructor arguments as its config and the call's
 * arguments — tensors and literals such as `3.0` — in `inbound_nodes[].args`.
 * The class names clash with layers (`Add`, `Reshape`, `Concatenate`) whose semantics
 * differ (layers.Add takes one list; ops.add two operands, either may be a number), so
 * these nodes get their own table. Each maps onto the canonical ops; literals become
 * rank-0 constants (values, never parameters). Operations have no weights.
 *
 * Layout: convscope shows channels-last tensors of rank ≥ 3 channels-first. Ops that
 * name axes map them (`Emitter.axis`); ops that change the rank (reductions without
 * keepdims, expand_dims, squeeze, argmax) end with a Transpose `<node>/layout` when the
 * axes they keep would otherwise not be in the channels-first order of their result.
 */

/** True for a Keras 3 operation node rather than a layer. */
export function isOperation(spec: LayerSpec, node: Json | undefined): boolean {
  if (spec.module !== undefined) return /^keras\.(src\.)?ops(\.|$)/.test(spec.module);
  // Legacy .h5 files written by Keras 3 drop `module`. Layers always serialize `trainable`
  // and `dtype` (Layer.get_config); an Operation's config holds only its own arguments.
  return isObject(node) && Array.isArray(node.args) && !("trainable" in spec.config) && !("dtype" in spec.config);
}

/** One positional argument: a tensor (an input of the call), a literal, or absent. */
type Arg = { tensor: string } | { literal: number[]; shape: number[] } | undefined;

/** The call's positional arguments, tensors paired with `c.inputs` in order. */
function positional(c: Call): Arg[] {
  if (!c.args) return c.inputs.map((tensor) => ({ tensor }));
  let next = 0;
  const read = (v: Json): Arg => {
    if (isKerasTensor(v)) return { tensor: c.inputs[next++] };
    if (typeof v === "number") return { literal: [v], shape: [] };
    if (typeof v === "boolean") return { literal: [v ? 1 : 0], shape: [] };
    if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "number" || Array.isArray(x))) {
      const flat: number[] = [];
      const shape: number[] = [];
      const walk = (x: Json, depth: number) => {
        if (typeof x === "number") {
          flat.push(x);
          return;
        }
        if (!Array.isArray(x)) fail(c, `an operand is not a tensor or a number: ${JSON.stringify(x)}`);
        if (shape.length <= depth) shape.push(x.length);
        for (const y of x) walk(y, depth + 1);
      };
      walk(v, 0);
      return { literal: flat, shape };
    }
    // null, or a structured argument an op reads itself (GetItem's key): not an operand.
    return undefined;
  };
  return c.args.map(read);
}

/** The tensors of a list argument (`keras.ops.concatenate([a, b])`) or of all positional arguments. */
function tensorList(c: Call): string[] {
  return c.inputs;
}

/** The IR tensor of an argument; literals become `<node>/operand<i>` constants. */
function operand(c: Call, a: Arg, i: number): string {
  if (!a) return fail(c, `operand ${i} is missing`);
  if ("tensor" in a) return a.tensor;
  return c.em.floats(`${c.name}/operand${i}`, a.literal, a.shape.length ? c.em.toIR(a.shape).map(Number) : []);
}

/**
 * Operands of an element-wise op, so that IR broadcasting matches Keras': Keras aligns
 * trailing axes; once a channels-last operand of rank ≥ 3 is shown channels-first, a
 * lower-rank operand ([C], or [W, C]) is reshaped (`<node>/operand<i>/align`) to its
 * Keras broadcast shape [1, …, 1, dims] in IR order.
 */
function elementwiseOperands(c: Call, n: number): string[] {
  const args = positional(c);
  if (args.filter((a) => a !== undefined).length < n) fail(c, `${c.cls} needs ${n} operands, got ${args.filter(Boolean).length}`);
  const ts = args.slice(0, n).map((a, i) => operand(c, a, i));
  const shapes = ts.map((t) => c.em.kshape(t));
  const rank = Math.max(...shapes.map((s) => s?.length ?? 0));
  if (c.em.channelsFirst || rank < 3) return ts;
  return ts.map((t, i) => {
    const s = shapes[i];
    if (!s || s.length === 0 || s.length === rank) return t;
    const padded = [...new Array<Dim>(rank - s.length).fill(1), ...s];
    if (!padded.every((d) => typeof d === "number")) fail(c, `operand ${i} (${s.join("×")}) has unknown dims to broadcast`);
    const shape = c.em.ints(`${c.name}/operand${i}/shape`, c.em.toIR(padded).map(Number));
    return c.em.node("Reshape", `${c.name}/operand${i}/align`, [t, shape], {}, c.cls)[0];
  });
}

function binary(op: string, then?: string): Translate {
  return (c) => {
    const y = c.em.node(op, then ? `${c.name}/${op.toLowerCase()}` : c.name, elementwiseOperands(c, 2), {}, c.cls);
    return then ? c.em.node(then, c.name, y, {}, c.cls) : y;
  };
}

function unary(op: string, attrs: Record<string, AttrValue> = {}): Translate {
  return (c) => c.em.node(op, c.name, [operand(c, positional(c)[0], 0)], attrs, c.cls);
}

/** keras.ops.nn activations with no arguments: the same nodes as the `activation=` argument. */
function act(name: string): Translate {
  return (c) => [activation(c, operand(c, positional(c)[0], 0), name, c.name)];
}

/** Keras axis of each IR axis of a rank-`rank` tensor. */
function kerasAxisOfIR(c: Call, rank: number): number[] {
  const out = new Array<number>(rank);
  for (let k = 0; k < rank; k++) out[c.em.axis(k, rank, c.name)] = k;
  return out;
}

/**
 * `t` holds, at IR axis i, Keras output axis `order[i]`. When that is not the channels-first
 * order of the result, a Transpose `<node>/layout` puts it right.
 */
function reorder(c: Call, t: string, order: number[]): string[] {
  const rank = order.length;
  const perm = new Array<number>(rank);
  order.forEach((k, i) => {
    perm[c.em.axis(k, rank, c.name)] = i;
  });
  if (perm.every((p, i) => p === i)) return [t];
  return c.em.node("Transpose", `${c.name}/layout`, [t], { perm }, c.cls);
}

/** The single tensor operand and its rank (which must be known). */
function tensorAndRank(c: Call): { x: string; rank: number } {
  const x = operand(c, positional(c)[0], 0);
  const rank = c.em.shape(x)?.length;
  if (rank === undefined) fail(c, "input shape is unknown (an earlier layer could not be inferred)");
  return { x, rank };
}

/** Keras axes (int, list or null = all) as sorted non-negative Keras axes. */
function kerasAxes(c: Call, key: string, rank: number): number[] {
  const v = c.cfg.c[key];
  if (v === undefined || v === null) return Array.from({ length: rank }, (_, i) => i);
  const axes = c.cfg.ints(key, []).map((a) => (a < 0 ? a + rank : a));
  if (axes.some((a) => a < 0 || a >= rank)) fail(c, `axis ${JSON.stringify(v)} is out of range for rank ${rank}`);
  return [...new Set(axes)].sort((a, b) => a - b);
}

/** The Keras axes kept by dropping `dropped` from a rank-`rank` tensor, in IR order, renumbered. */
function keptOrder(c: Call, rank: number, dropped: number[]): number[] {
  const kept = kerasAxisOfIR(c, rank).filter((k) => !dropped.includes(k));
  return kept.map((k) => k - dropped.filter((d) => d < k).length);
}

function reduce(op: string): Translate {
  return (c) => {
    const { x, rank } = tensorAndRank(c);
    const axes = kerasAxes(c, "axis", rank);
    const keep = c.cfg.bool("keepdims", false);
    const ir = axes.map((a) => c.em.axis(a, rank, c.name)).sort((a, b) => a - b);
    const inputs = [x, c.em.ints(`${c.name}/axes`, ir)];
    const y = c.em.node(op, c.name, inputs, { keepdims: 1 }, c.cls)[0];
    if (keep) return [y];
    const sq = c.em.node("Squeeze", `${c.name}/squeeze`, [y, c.em.ints(`${c.name}/squeeze_axes`, ir)], {}, c.cls)[0];
    return reorder(c, sq, keptOrder(c, rank, axes));
  };
}

function argReduce(op: "ArgMax" | "ArgMin"): Translate {
  return (c) => {
    let { x, rank } = tensorAndRank(c);
    const keep = c.cfg.bool("keepdims", false);
    if (!c.cfg.has("axis")) {
      // axis=None: over the flattened tensor.
      x = c.em.node("Reshape", `${c.name}/flatten`, [x, c.em.ints(`${c.name}/flat_shape`, [-1])], {}, c.cls)[0];
      const y = c.em.node(op, c.name, [x], { axis: 0, keepdims: 0 }, c.cls)[0];
      if (!keep) return [y];
      return c.em.node("Reshape", `${c.name}/keepdims`, [y, c.em.ints(`${c.name}/keep_shape`, new Array(rank).fill(1))], {}, c.cls);
    }
    const axis = kerasAxes(c, "axis", rank)[0];
    const y = c.em.node(op, c.name, [x], { axis: c.em.axis(axis, rank, c.name), keepdims: keep ? 1 : 0 }, c.cls)[0];
    return keep ? [y] : reorder(c, y, keptOrder(c, rank, [axis]));
  };
}

/**
 * keras.ops.reshape(x, newshape): `newshape` includes the batch axis; a leading −1 or None
 * (the batch) becomes ONNX's 0 (copy). As for the Reshape layer, the target is given in IR
 * order: the element order differs from Keras' channels-last reshape, every size is the same.
 */
const reshape: Translate = (c) => {
  const x = operand(c, positional(c)[0], 0);
  const raw = c.cfg.c.newshape ?? c.cfg.c.new_shape ?? c.cfg.c.shape;
  if (!Array.isArray(raw) || !raw.every((d) => d === null || (typeof d === "number" && Number.isInteger(d)))) {
    return fail(c, `reshape's "newshape" must be a list of integers, got ${JSON.stringify(raw)}`);
  }
  const dims = (raw as (number | null)[]).map((d) => (d === null ? -1 : d));
  const inRank = c.em.shape(x)?.length;
  if (dims.length > 1 && dims[0] === -1 && dims.slice(1).every((d) => d >= 0) && inRank !== undefined && inRank > 0) dims[0] = 0;
  const shape = c.em.toIR(dims).map(Number);
  return c.em.node("Reshape", c.name, [x, c.em.ints(`${c.name}/shape`, shape)], {}, c.cls);
};

/** keras.ops.transpose(x, axes): perm[ir(j)] = ir(axes[j]); no axes reverses them. */
const transpose: Translate = (c) => {
  const { x, rank } = tensorAndRank(c);
  const axes = c.cfg.has("axes") ? c.cfg.ints("axes", []).map((a) => (a < 0 ? a + rank : a)) : [...Array(rank).keys()].reverse();
  if (axes.length !== rank || [...axes].sort((a, b) => a - b).some((a, i) => a !== i))
    fail(c, `axes ${axes.join(",")} are not a permutation of 0…${rank - 1}`);
  const perm = new Array<number>(rank);
  axes.forEach((a, j) => {
    perm[c.em.axis(j, rank, c.name)] = c.em.axis(a, rank, c.name);
  });
  return c.em.node("Transpose", c.name, [x], { perm }, c.cls);
};

/** Inserts new Keras axes `raw` into `x` (rank `rank`): an Unsqueeze at the IR end, then the layout fix. */
function expand(c: Call, x: string, rank: number, raw: number[], name: string): string {
  const out = rank + raw.length;
  const axes = raw.map((a) => (a < 0 ? a + out : a)).sort((a, b) => a - b);
  if (axes.some((a) => a < 0 || a >= out)) fail(c, `axis ${raw.join(",")} is out of range for rank ${out}`);
  const kept = Array.from({ length: out }, (_, i) => i).filter((i) => !axes.includes(i));
  const order = [...kerasAxisOfIR(c, rank).map((k) => kept[k]), ...axes];
  const ends = axes.map((_, i) => rank + i);
  const y = c.em.node("Unsqueeze", name, [x, c.em.ints(`${name}/axes`, ends)], {}, c.cls)[0];
  const perm = new Array<number>(out);
  order.forEach((k, i) => {
    perm[c.em.axis(k, out, c.name)] = i;
  });
  if (perm.every((p, i) => p === i)) return y;
  return c.em.node("Transpose", `${name}/layout`, [y], { perm }, c.cls)[0];
}

/** keras.ops.expand_dims. */
const expandDims: Translate = (c) => {
  const { x, rank } = tensorAndRank(c);
  return [expand(c, x, rank, c.cfg.ints("axis", []), c.name)];
};

/** keras.ops.squeeze: axis None drops every known 1. */
const squeeze: Translate = (c) => {
  const { x, rank } = tensorAndRank(c);
  const ks = c.em.kshape(x) as Shape;
  const axes = c.cfg.has("axis") ? kerasAxes(c, "axis", rank) : ks.flatMap((d, i) => (d === 1 ? [i] : []));
  const ir = axes.map((a) => c.em.axis(a, rank, c.name)).sort((a, b) => a - b);
  const y = c.em.node("Squeeze", c.name, [x, c.em.ints(`${c.name}/axes`, ir)], {}, c.cls)[0];
  return reorder(c, y, keptOrder(c, rank, axes));
};

const concatenate: Translate = (c) => {
  const xs = tensorList(c);
  if (xs.length < 1) fail(c, "concatenate has no inputs");
  const rank = c.em.shape(xs[0])?.length;
  const axis = c.cfg.int("axis", 0);
  const ir = rank === undefined ? axis : c.em.axis(axis, rank, c.name);
  return c.em.node("Concat", c.name, xs, { axis: ir }, c.cls);
};

/** keras.ops.stack: each operand gets the new axis (`<node>/expand<i>`), then one Concat. */
const stack: Translate = (c) => {
  const xs = tensorList(c);
  const rank = c.em.shape(xs[0] ?? "")?.length;
  if (rank === undefined) fail(c, "input shape is unknown (an earlier layer could not be inferred)");
  const out = rank + 1;
  const raw = c.cfg.int("axis", 0);
  const axis = raw < 0 ? raw + out : raw;
  const expanded = xs.map((x, i) => expand(c, x, rank, [axis], `${c.name}/expand${i}`));
  return c.em.node("Concat", c.name, expanded, { axis: c.em.axis(axis, out, c.name) }, c.cls);
};

/**
 * keras.ops.matmul: on channels-last tensors of rank ≥ 3 the operands are put back in Keras
 * order (`<node>/lhs`, `<node>/rhs`), multiplied, and the product shown channels-first again.
 */
const matmul: Translate = (c) => {
  const [a, b] = elementwiseOperandsRaw(c);
  const toKeras = (t: string, side: string) => {
    const r = c.em.shape(t)?.length ?? 0;
    if (c.em.channelsFirst || r < 3) return t;
    const perm = Array.from({ length: r }, (_, j) => c.em.axis(j, r, c.name));
    return c.em.node("Transpose", `${c.name}/${side}`, [t], { perm }, c.cls)[0];
  };
  const y = c.em.node("MatMul", c.name, [toKeras(a, "lhs"), toKeras(b, "rhs")], {}, c.cls)[0];
  const r = c.em.shape(y)?.length ?? 0;
  if (c.em.channelsFirst || r < 3) return [y];
  return reorder(c, y, [...Array(r).keys()]);
};

function elementwiseOperandsRaw(c: Call): string[] {
  const args = positional(c);
  if (args.length < 2) fail(c, `${c.cls} needs two operands`);
  return [operand(c, args[0], 0), operand(c, args[1], 1)];
}

/**
 * keras.ops.einsum: each operand's subscripts are reordered the way its axes are (a
 * channels-last `bhwc` is shown `bchw`), so the Einsum reads the tensors as convscope holds them.
 */
const einsum: Translate = (c) => {
  const eq = c.cfg.str("subscripts").replace(/\s+/g, "");
  if (eq.includes(".")) fail(c, "einsum with an ellipsis is not supported");
  const [lhs, rhs] = eq.split("->");
  if (rhs === undefined) fail(c, "einsum without an explicit output ('->') is not supported");
  const terms = lhs.split(",");
  const xs = c.inputs;
  if (terms.length !== xs.length) fail(c, `einsum '${eq}' has ${terms.length} operands, the node ${xs.length}`);
  const toIR = (term: string) => (c.em.channelsFirst ? term : (c.em.toIR([...term]) as string[]).join(""));
  const equation = `${terms.map(toIR).join(",")}->${toIR(rhs)}`;
  return c.em.node("Einsum", c.name, xs, { equation }, c.cls);
};

/**
 * `x[key]` (keras.src.ops.numpy GetItem): the key is an int, a slice
 * (`{"class_name": "__slice__", "config": {start, stop, step}}`), an ellipsis or a list of
 * them, one per leading Keras axis. Slices become one ONNX Slice on the IR axes; an int
 * index is a one-wide slice whose axis is then dropped (`<node>/squeeze`, with the layout
 * fix). `None` (a new axis) is not supported.
 */
const getItem: Translate = (c) => {
  const { x, rank } = tensorAndRank(c);
  const raw = c.args?.[1] ?? c.cfg.c.key;
  const key = Array.isArray(raw) ? raw : [raw ?? null];
  const isEllipsis = (k: Json) => isObject(k) && k.class_name === "__ellipsis__";
  const at = key.findIndex(isEllipsis);
  const full: Json[] =
    at < 0
      ? [...key, ...new Array(Math.max(0, rank - key.length)).fill({ class_name: "__slice__", config: {} })]
      : [...key.slice(0, at), ...new Array(rank - key.length + 1).fill({ class_name: "__slice__", config: {} }), ...key.slice(at + 1)];
  if (full.length !== rank) fail(c, `index ${JSON.stringify(raw)} has ${full.length} entries for a rank-${rank} tensor`);
  const MAX = Number.MAX_SAFE_INTEGER;
  const starts: number[] = [];
  const ends: number[] = [];
  const axes: number[] = [];
  const steps: number[] = [];
  const dropped: number[] = [];
  full.forEach((k, i) => {
    const ir = c.em.axis(i, rank, c.name);
    if (typeof k === "number" && Number.isInteger(k)) {
      starts.push(k);
      ends.push(k === -1 ? MAX : k + 1);
      axes.push(ir);
      steps.push(1);
      dropped.push(i);
      return;
    }
    if (isObject(k) && k.class_name === "__slice__") {
      const cfg = isObject(k.config) ? k.config : {};
      const num = (v: Json | undefined) => (typeof v === "number" ? v : undefined);
      const step = num(cfg.step) ?? 1;
      const start = num(cfg.start);
      const stop = num(cfg.stop);
      if (step === 1 && (start === undefined || start === 0) && stop === undefined) return;
      if (step <= 0) fail(c, `slice step ${step} is not supported`);
      starts.push(start ?? 0);
      ends.push(stop ?? MAX);
      axes.push(ir);
      steps.push(step);
      return;
    }
    fail(c, `index entry ${JSON.stringify(k)} is not supported (ints, slices and ... are)`);
  });
  if (axes.length === 0) return c.em.node("Identity", c.name, [x], {}, c.cls);
  const inputs = [x, c.em.ints(`${c.name}/starts`, starts), c.em.ints(`${c.name}/ends`, ends), c.em.ints(`${c.name}/axes`, axes)];
  if (steps.some((st) => st !== 1)) inputs.push(c.em.ints(`${c.name}/steps`, steps));
  const y = c.em.node("Slice", c.name, inputs, {}, c.cls)[0];
  if (dropped.length === 0) return [y];
  const irDropped = dropped.map((a) => c.em.axis(a, rank, c.name)).sort((a, b) => a - b);
  const sq = c.em.node("Squeeze", `${c.name}/squeeze`, [y, c.em.ints(`${c.name}/squeeze_axes`, irDropped)], {}, c.cls)[0];
  return reorder(c, sq, keptOrder(c, rank, dropped));
};

const cast: Translate = (c) => {
  const dtype = c.cfg.str("dtype", "float32");
  const to = castCode(dtype);
  if (to === undefined) fail(c, `cast to '${dtype}' is not supported`);
  return c.em.node("Cast", c.name, [operand(c, positional(c)[0], 0)], { to }, c.cls);
};

const softmax =
  (op: "Softmax" | "LogSoftmax"): Translate =>
  (c) => {
    const { x, rank } = tensorAndRank(c);
    const axis = c.cfg.has("axis") ? c.cfg.int("axis") : -1;
    return c.em.node(op, c.name, [x], { axis: c.em.axis(axis, rank, c.name) }, c.cls);
  };

const clipOp: Translate = (c) => {
  const x = operand(c, positional(c)[0], 0);
  const lo = c.cfg.opt("x_min");
  const hi = c.cfg.opt("x_max");
  const min = lo === undefined ? "" : c.em.floats(`${c.name}/min`, [lo], []);
  const max = hi === undefined ? "" : c.em.floats(`${c.name}/max`, [hi], []);
  return c.em.node("Clip", c.name, [x, min, max], {}, c.cls);
};

/** Every operation class convscope reads (keras.src.ops.numpy / nn / math / core names). */
export const OPERATIONS: Record<string, Translate> = {
  Add: binary("Add"),
  Subtract: binary("Sub"),
  Multiply: binary("Mul"),
  Divide: binary("Div"),
  TrueDivide: binary("Div"),
  FloorDivide: binary("Div", "Floor"),
  Power: binary("Pow"),
  Maximum: binary("Max"),
  Minimum: binary("Min"),
  Mod: binary("Mod"),
  Equal: binary("Equal"),
  NotEqual: binary("Equal", "Not"),
  Greater: binary("Greater"),
  GreaterEqual: binary("GreaterOrEqual"),
  Less: binary("Less"),
  LessEqual: binary("LessOrEqual"),
  LogicalAnd: binary("And"),
  LogicalOr: binary("Or"),
  LogicalNot: unary("Not"),
  Absolute: unary("Abs"),
  Negative: unary("Neg"),
  Sqrt: unary("Sqrt"),
  Exp: unary("Exp"),
  Log: unary("Log"),
  Reciprocal: unary("Reciprocal"),
  Floor: unary("Floor"),
  Ceil: unary("Ceil"),
  Round: unary("Round"),
  Sign: unary("Sign"),
  Sin: unary("Sin"),
  Cos: unary("Cos"),
  Tanh: unary("Tanh"),
  Erf: unary("Erf"),
  StopGradient: unary("Identity"),
  Copy: unary("Identity"),
  Square: (c) => {
    const x = operand(c, positional(c)[0], 0);
    return c.em.node("Mul", c.name, [x, x], {}, c.cls);
  },
  Rsqrt: (c) => {
    const s = c.em.node("Sqrt", `${c.name}/sqrt`, [operand(c, positional(c)[0], 0)], {}, c.cls);
    return c.em.node("Reciprocal", c.name, s, {}, c.cls);
  },
  Relu: act("relu"),
  Relu6: act("relu6"),
  Sigmoid: act("sigmoid"),
  Silu: act("silu"),
  Swish: act("silu"),
  HardSigmoid: act("hard_sigmoid"),
  HardSilu: act("hard_silu"),
  HardSwish: act("hard_silu"),
  Softplus: act("softplus"),
  Softsign: act("softsign"),
  Selu: act("selu"),
  Gelu: (c) => {
    const approximate = c.cfg.bool("approximate", true);
    return c.em.node("Gelu", c.name, [operand(c, positional(c)[0], 0)], approximate ? { approximate: "tanh" } : {}, c.cls);
  },
  Elu: (c) => c.em.node("Elu", c.name, [operand(c, positional(c)[0], 0)], { alpha: c.cfg.num("alpha", 1) }, c.cls),
  LeakyRelu: (c) => c.em.node("LeakyRelu", c.name, [operand(c, positional(c)[0], 0)], { alpha: c.cfg.num("negative_slope", 0.2) }, c.cls),
  Softmax: softmax("Softmax"),
  LogSoftmax: softmax("LogSoftmax"),
  Mean: reduce("ReduceMean"),
  Sum: reduce("ReduceSum"),
  Max: reduce("ReduceMax"),
  Amax: reduce("ReduceMax"),
  Min: reduce("ReduceMin"),
  Amin: reduce("ReduceMin"),
  Prod: reduce("ReduceProd"),
  Argmax: argReduce("ArgMax"),
  Argmin: argReduce("ArgMin"),
  Reshape: reshape,
  Transpose: transpose,
  ExpandDims: expandDims,
  Squeeze: squeeze,
  Concatenate: concatenate,
  Stack: stack,
  Matmul: matmul,
  Einsum: einsum,
  Cast: cast,
  Clip: clipOp,
  GetItem: getItem,
};

/** The translator of an operation class, or undefined (an unknown `keras::ops.Class` node). */
export function operationFor(cls: string): Translate | undefined {
  return Object.hasOwn(OPERATIONS, cls) ? OPERATIONS[cls] : undefined;
}

/**
 * Keras 2 (tf.keras) `TFOpLambda` layers: a TensorFlow function called on a Keras tensor
 * (`x + 3.0` is `tf.__operators__.add`, `tf.reshape(x, …)` is `reshape`). Config `function`
 * names it; the one inbound entry is `[layer, node, tensor, kwargs]` (or `_CONSTANT_VALUE`
 * with the literal for a constant first operand), every other argument is in kwargs — the
 * second operand `y` as a literal or a `[layer, node, tensor]` reference. Each function is
 * read by the operation translator of the same computation; the TF argument names are
 * renamed to the Keras ones (`perm` → `axes`, `shape` → `newshape`).
 */
interface TfFunction {
  op: string;
  /** The kwarg holding the second operand (`y`, `b`). */
  second?: string;
  /** TF kwargs → the operation's config. */
  cfg?: (kw: Record<string, Json>) => Record<string, Json>;
}

const same = (kw: Record<string, Json>) => kw;
const TF_FUNCTIONS: Record<string, TfFunction> = {
  "__operators__.add": { op: "Add", second: "y" },
  "math.add": { op: "Add", second: "y" },
  "__operators__.sub": { op: "Subtract", second: "y" },
  "math.subtract": { op: "Subtract", second: "y" },
  "math.multiply": { op: "Multiply", second: "y" },
  "__operators__.mul": { op: "Multiply", second: "y" },
  "math.truediv": { op: "Divide", second: "y" },
  "__operators__.truediv": { op: "Divide", second: "y" },
  "math.divide": { op: "Divide", second: "y" },
  "math.maximum": { op: "Maximum", second: "y" },
  "math.minimum": { op: "Minimum", second: "y" },
  "math.pow": { op: "Power", second: "y" },
  "linalg.matmul": { op: "Matmul", second: "b" },
  matmul: { op: "Matmul", second: "b" },
  "nn.relu": { op: "Relu" },
  "nn.relu6": { op: "Relu6" },
  "math.sigmoid": { op: "Sigmoid" },
  "nn.sigmoid": { op: "Sigmoid" },
  "math.tanh": { op: "Tanh" },
  "nn.silu": { op: "Silu" },
  "nn.swish": { op: "Silu" },
  "nn.gelu": { op: "Gelu", cfg: (kw) => ({ approximate: kw.approximate ?? false }) },
  "nn.leaky_relu": { op: "LeakyRelu", cfg: (kw) => ({ negative_slope: kw.alpha ?? 0.2 }) },
  "nn.softmax": { op: "Softmax", cfg: same },
  "math.exp": { op: "Exp" },
  "math.sqrt": { op: "Sqrt" },
  "math.rsqrt": { op: "Rsqrt" },
  "math.square": { op: "Square" },
  "math.abs": { op: "Absolute" },
  "math.negative": { op: "Negative" },
  "math.reciprocal": { op: "Reciprocal" },
  "math.log": { op: "Log" },
  "math.erf": { op: "Erf" },
  identity: { op: "Copy" },
  "math.reduce_mean": { op: "Mean", cfg: same },
  reduce_mean: { op: "Mean", cfg: same },
  "math.reduce_sum": { op: "Sum", cfg: same },
  "math.reduce_max": { op: "Max", cfg: same },
  "math.reduce_min": { op: "Min", cfg: same },
  "math.argmax": { op: "Argmax", cfg: (kw) => ({ axis: kw.axis ?? 0, keepdims: false }) },
  reshape: { op: "Reshape", cfg: (kw) => ({ newshape: kw.shape ?? null }) },
  transpose: { op: "Transpose", cfg: (kw) => ({ axes: kw.perm ?? null }) },
  expand_dims: { op: "ExpandDims", cfg: same },
  squeeze: { op: "Squeeze", cfg: same },
  concat: { op: "Concatenate", cfg: same },
  stack: { op: "Stack", cfg: same },
  cast: { op: "Cast", cfg: same },
  clip_by_value: { op: "Clip", cfg: (kw) => ({ x_min: kw.clip_value_min ?? null, x_max: kw.clip_value_max ?? null }) },
};

const KERAS_TENSOR: Json = { class_name: "__keras_tensor__", config: {} };

export const tfOpLambda: Translate = (c) => {
  const fn = c.cfg.str("function").replace(/^compat\.v1\./, "");
  const spec = Object.hasOwn(TF_FUNCTIONS, fn) ? TF_FUNCTIONS[fn] : undefined;
  const all = [...c.inputs, ...Object.values(c.kwInputs ?? {})];
  if (!spec) return c.em.node(`keras::tf.${fn}`, c.name, all, {}, `tf.${fn}`);
  const node = c.node;
  const entries = Array.isArray(node) ? (typeof node[0] === "string" ? [node] : node) : [];
  const kwargs: Record<string, Json> = {};
  for (const e of entries) if (Array.isArray(e) && isObject(e[3])) Object.assign(kwargs, e[3]);
  // Positional operands: the entries (tensors, or the literal of a _CONSTANT_VALUE), then the second operand.
  const args: Json[] = entries.map((e) => (Array.isArray(e) && e[0] === "_CONSTANT_VALUE" ? (e[2] ?? null) : KERAS_TENSOR));
  const inputs = [...c.inputs];
  if (spec.second !== undefined && kwargs[spec.second] !== undefined) {
    const t = c.kwInputs?.[spec.second];
    if (t !== undefined) inputs.push(t);
    args.push(t !== undefined ? KERAS_TENSOR : kwargs[spec.second]);
  }
  const config = { name: c.name, ...(spec.cfg ? spec.cfg(kwargs) : {}) } as Record<string, Json>;
  const cfg = new Cfg(config, c.name);
  return OPERATIONS[spec.op]({ ...c, cfg, args, inputs, cls: `tf.${fn}` });
};
