import { ConvscopeError } from "../core/errors.js";
import { prng } from "../core/prng.js";
import { consumers, type EditInitializer, type EditModel, type EditNode, encodeElements } from "./onnx-edit.js";

/**
 * Gives every initializer values so onnxruntime can run a graph-only file.
 *
 * `random` (for timing): weights the file does not hold become random values of the right
 * shape and dtype, scaled like a trained network's (±√(3/fan-in), so activations stay
 * O(1): no overflow, no denormals to slow the CPU); batch norm becomes (γ 1, β 0, mean 0,
 * var 1). The file's own values are kept when present.
 *
 * `impulse` (for verify-rf): a variant whose response to a single-pixel impulse is nonzero
 * exactly where the receptive field is. Weights (the file's too) become strictly positive,
 * normalised by fan-in so a value stays near the impulse's magnitude however deep the
 * network; biases and additive constants become 0 (a zero image then maps to zeros
 * everywhere); batch norm becomes the identity; activations are made monotone and
 * non-saturating (`impulseActivations`). Max pooling, sigmoid gates (always > 0) and the
 * file's own small constants (ε, √2, 0.5) are kept.
 */
export type FillMode = "random" | "impulse";

const FLOATS = new Set([1, 10, 11, 16]);

type Role = "weight" | "bias" | "bn-scale" | "bn-bias" | "bn-mean" | "bn-var" | "additive" | "scale" | "other";

function roleOf(op: string, index: number): Role {
  switch (op) {
    case "Conv":
    case "ConvTranspose":
      return index === 1 ? "weight" : index === 2 ? "bias" : "other";
    case "Gemm":
      return index === 1 || index === 0 ? "weight" : "bias";
    case "MatMul":
      return "weight";
    case "BatchNormalization":
      return (["other", "bn-scale", "bn-bias", "bn-mean", "bn-var"] as const)[index] ?? "other";
    case "LayerNormalization":
    case "InstanceNormalization":
    case "GroupNormalization":
      return index === 1 ? "bn-scale" : index === 2 ? "bn-bias" : "other";
    case "Add":
    case "Sub":
      return "additive";
    case "Mul":
    case "Div":
    case "PRelu":
      return "scale";
    default:
      return "other";
  }
}

function fanIn(t: EditInitializer, op: string): number {
  const d = t.dims;
  if (d.length < 2) return 1;
  if (op === "MatMul") return d[d.length - 2];
  if (op === "Gemm") return Math.max(1, Math.min(d[0], d[1]));
  return d.slice(1).reduce((a, x) => a * x, 1);
}

export interface FillSummary {
  /** Initializers given generated values. */
  generated: number;
  /** Elements generated. */
  elements: number;
}

export function fillInitializers(m: EditModel, mode: FillMode, seed = 1): FillSummary {
  const use = consumers(m);
  const rand = prng(seed);
  let generated = 0;
  let elements = 0;
  for (const t of m.initializers) {
    const u = use.get(t.name);
    const op = u?.op ?? "";
    const role = u ? roleOf(u.op, u.index) : "other";
    const isFloat = FLOATS.has(t.dataType);
    const mustFill = !t.hasData;
    const rewrite = mode === "impulse" && isFloat && role !== "other" && role !== "scale" && !(role === "additive" && t.hasData);
    if (!mustFill && !rewrite) continue;
    const count = t.dims.reduce((a, x) => a * x, 1);
    if (!isFloat) {
      throw new ConvscopeError(
        `initializer '${t.name}' (${count} integer elements${u ? `, read by layer '${u.node.name}'` : ""}) is not in the file and cannot be made up: the graph needs its values`,
      );
    }
    let value: (i: number) => number;
    const fan = fanIn(t, op);
    switch (role) {
      case "bn-scale":
      case "bn-var":
        value = () => 1;
        break;
      case "bn-bias":
      case "bn-mean":
        value = () => 0;
        break;
      case "bias":
      case "additive":
        value = mode === "impulse" ? () => 0 : () => (rand() - 0.5) * 0.02;
        break;
      case "weight": {
        const a = Math.sqrt(3 / fan);
        value = mode === "impulse" ? () => (0.5 + rand()) / fan : () => (2 * rand() - 1) * a;
        break;
      }
      default:
        value = () => 0.5 + rand();
    }
    t.fill = encodeElements(t.dataType, count, value);
    generated++;
    elements += count;
  }
  return { generated, elements };
}

/** Activations that become √ReLU in the impulse variant. */
const ACTIVATIONS = new Set(["Relu", "Clip", "HardSigmoid", "HardSwish", "Relu6", "LeakyRelu", "Elu", "Selu", "Softplus"]);

/**
 * The impulse variant's node changes. Every ReLU-like activation (Clip/ReLU6, HardSigmoid,
 * HardSwish, …) becomes √ReLU, and SiLU (x·sigmoid(x)) becomes √x: zero stays zero, any
 * positive value stays positive (so the support is the layer's), nothing saturates, and
 * the square root keeps a deep network's values in range — without it the field's border,
 * reached only through each kernel's edge taps (≈1/k² of the mass per layer), falls below
 * float32's smallest value within ~40 layers (DenseNet-121 has 58 3×3 convolutions), and
 * the centre overflows if the weights are scaled up instead. Sigmoid gates elsewhere
 * (squeeze-excitation) stay: a gate is always > 0, so it scales a unit without moving the
 * support. Returns the layers changed.
 */
export function impulseActivations(m: EditModel): string[] {
  const changed: string[] = [];
  const producer = new Map<string, EditNode>();
  for (const n of m.nodes) for (const o of n.outputs) producer.set(o, n);
  const out: EditNode[] = [];
  let k = 0;
  const std = (n: EditNode) => n.domain === "" || n.domain === "ai.onnx";
  for (const n of m.nodes) {
    let x: string | undefined;
    if (std(n) && ACTIVATIONS.has(n.op)) x = n.inputs[0];
    else if (std(n) && n.op === "Mul" && n.inputs.length === 2) {
      const [a, b] = n.inputs;
      const sa = producer.get(a);
      const sb = producer.get(b);
      if (sb?.op === "Sigmoid" && sb.inputs[0] === a) x = a;
      else if (sa?.op === "Sigmoid" && sa.inputs[0] === b) x = b;
    }
    if (x === undefined) {
      out.push(n);
      continue;
    }
    const mid = `${n.outputs[0]}__convscope_relu${k++}`;
    out.push({ name: `${n.name}__relu`, op: "Relu", domain: "", inputs: [x], outputs: [mid], rest: [] });
    out.push({ name: n.name, op: "Sqrt", domain: "", inputs: [mid], outputs: [n.outputs[0]], rest: [] });
    changed.push(n.name);
  }
  m.nodes = out;
  return changed;
}
