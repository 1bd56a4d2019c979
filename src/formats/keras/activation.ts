import { type Call, fail, kshape, one, type Translate, weight, weightDim } from "./call.js";
import { activationName } from "./config.js";

/**
 * Keras activation functions as canonical ops. `linear` adds nothing; swish/silu is
 * Sigmoid then Mul (what it computes); relu6 is Clip(0, 6); hard_sigmoid follows the
 * Keras version (slope 0.2 in Keras 2, 1/6 in Keras 3). The node is named `name` (for
 * swish the Mul; its Sigmoid is `name/sigmoid`).
 */
export function activation(c: Call, x: string, act: string, name: string): string {
  const em = c.em;
  const node = (op: string, attrs = {}, extra: string[] = []) => em.node(op, name, [x, ...extra], attrs, c.cls)[0];
  switch (act) {
    case "linear":
      return x;
    case "relu":
      return node("Relu");
    case "relu6":
      return clip(c, x, name, 0, 6);
    case "sigmoid":
      return node("Sigmoid");
    case "tanh":
      return node("Tanh");
    case "softmax":
    case "log_softmax":
      return node(act === "softmax" ? "Softmax" : "LogSoftmax", { axis: lastAxis(c, x) });
    case "elu":
      return node("Elu", { alpha: 1 });
    case "selu":
      return node("Selu");
    case "softplus":
      return node("Softplus");
    case "softsign":
      return node("Softsign");
    case "exponential":
      return node("Exp");
    case "mish":
      return node("Mish");
    case "gelu":
      return node("Gelu");
    case "leaky_relu":
      return node("LeakyRelu", { alpha: 0.2 });
    case "hard_sigmoid":
      return node("HardSigmoid", { alpha: c.keras3 ? 1 / 6 : 0.2, beta: 0.5 });
    case "hard_swish":
    case "hard_silu":
      return node("HardSwish");
    case "swish":
    case "silu": {
      const s = em.node("Sigmoid", `${name}/sigmoid`, [x], {}, c.cls)[0];
      return em.node("Mul", name, [x, s], {}, c.cls)[0];
    }
    default:
      // An activation convscope does not know: an unknown node, reported as such.
      return node(`keras::${act}`);
  }
}

/** Clip with ONNX's min/max operands (omitted bound: ""). */
function clip(c: Call, x: string, name: string, min: number | undefined, max: number | undefined): string {
  const lo = min === undefined ? "" : c.em.floats(`${name}/min`, [min], []);
  const hi = max === undefined ? "" : c.em.floats(`${name}/max`, [max], []);
  return c.em.node("Clip", name, [x, lo, hi], {}, c.cls)[0];
}

/** Keras' default axis −1 in IR terms (the channel axis of a channels-last tensor). */
function lastAxis(c: Call, x: string, axis = -1): number {
  const s = c.em.shape(x);
  if (!s) return c.em.channelsFirst ? axis : 1;
  return c.em.axis(axis, s.length, c.name);
}

/** The `activation` argument of Conv/Dense layers: an extra node named `<layer>/<activation>`. */
export function fusedActivation(c: Call, y: string): string {
  const act = activationName(c.cfg.c.activation);
  return activation(c, y, act, `${c.name}/${act}`);
}

/** Activation, ReLU, LeakyReLU, PReLU, ELU, ThresholdedReLU, Softmax layers. */
export const ACTIVATION_LAYERS: Record<string, Translate> = {
  Activation(c) {
    const x = one(c);
    const act = activationName(c.cfg.c.activation);
    if (act === "linear") return c.em.node("Identity", c.name, [x], {}, c.cls);
    return [activation(c, x, act, c.name)];
  },
  ReLU(c) {
    const x = one(c);
    const max = c.cfg.opt("max_value");
    const slope = c.cfg.num("negative_slope", 0);
    const threshold = c.cfg.num("threshold", 0);
    if (threshold !== 0) {
      if (slope !== 0 || max !== undefined) fail(c, "ReLU with a threshold and a slope or maximum is not supported");
      return c.em.node("ThresholdedRelu", c.name, [x], { alpha: threshold }, c.cls);
    }
    if (slope === 0) return [max === undefined ? activation(c, x, "relu", c.name) : clip(c, x, c.name, 0, max)];
    const y = c.em.node("LeakyRelu", c.name, [x], { alpha: slope }, c.cls)[0];
    return [max === undefined ? y : clip(c, y, `${c.name}/max`, undefined, max)];
  },
  LeakyReLU(c) {
    const alpha = c.cfg.num("negative_slope", c.cfg.num("alpha", 0.3));
    return c.em.node("LeakyRelu", c.name, [one(c)], { alpha }, c.cls);
  },
  PReLU(c) {
    // alpha has the input's shape without the batch dim, 1 on `shared_axes` (1-based, Keras axes).
    const x = one(c);
    const ks = kshape(c, x);
    if (!ks) return c.em.node("PRelu", c.name, [x, weight(c, "alpha", [weightDim(c, undefined, "alpha")], [])], {}, c.cls);
    const shared = new Set(c.cfg.ints("shared_axes", []).map((a) => (a < 0 ? a + ks.length : a)));
    const k = ks.slice(1).map((d, i) => (shared.has(i + 1) ? 1 : weightDim(c, d, "alpha")));
    const ir = c.em.toIR([1, ...k]).slice(1);
    return c.em.node("PRelu", c.name, [x, weight(c, "alpha", ir, k)], {}, c.cls);
  },
  ELU(c) {
    return c.em.node("Elu", c.name, [one(c)], { alpha: c.cfg.num("alpha", 1) }, c.cls);
  },
  ThresholdedReLU(c) {
    return c.em.node("ThresholdedRelu", c.name, [one(c)], { alpha: c.cfg.num("theta", 1) }, c.cls);
  },
  Softmax(c) {
    const x = one(c);
    const axes = c.cfg.ints("axis", [-1]);
    if (axes.length !== 1) fail(c, `Softmax over ${axes.length} axes is not supported`);
    return c.em.node("Softmax", c.name, [x], { axis: lastAxis(c, x, axes[0]) }, c.cls);
  },
};
