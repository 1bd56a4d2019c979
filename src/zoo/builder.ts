import type { DType } from "../core/dtype.js";
import { ConvscopeError } from "../core/errors.js";
import type { AttrValue, Graph, Node, Tensor } from "../core/graph.js";
import type { Shape } from "../core/shape.js";
import { Attrs, ruleFor } from "../ops/index.js";

/** A tensor handle returned by every builder call. */
export interface T {
  name: string;
  shape: Shape;
}

type Pair = number | [number, number];

export interface ConvOptions {
  name: string;
  out: number;
  kernel: Pair;
  stride?: Pair;
  /** Symmetric padding per axis, or [top, left, bottom, right]. */
  pad?: Pair | [number, number, number, number];
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
}

export interface PoolOptions {
  name: string;
  kernel: Pair;
  stride?: Pair;
  pad?: Pair | [number, number, number, number];
  ceil?: boolean;
}

const pair = (p: Pair): [number, number] => (typeof p === "number" ? [p, p] : p);
const pads = (p: Pair | [number, number, number, number] = 0): number[] => {
  if (typeof p === "number") return [p, p, p, p];
  return p.length === 2 ? [p[0], p[1], p[0], p[1]] : [...p];
};

/**
 * Builds a Graph layer by layer from TypeScript, for the zoo and for users:
 *
 * ```ts
 * const b = new NetBuilder("tiny");
 * let x = b.input("data", [1, 3, 32, 32]);
 * x = b.relu(b.conv(x, { name: "conv1", out: 16, kernel: 3, pad: 1 }), "relu1");
 * const graph = b.build(b.fc(x, { name: "fc", out: 10 }));
 * ```
 * Shapes are inferred as layers are added (by the same op rules the analysis uses), so
 * weight shapes follow from the input. Weights are shapes only: nothing is allocated.
 */
export class NetBuilder {
  private readonly g: Graph;
  private readonly names = new Set<string>();

  constructor(name: string) {
    this.g = { name, format: "builder", inputs: [], outputs: [], nodes: [], tensors: new Map(), notes: [] };
  }

  input(name: string, shape: Shape, dtype: DType = "float32"): T {
    this.tensor({ name, dtype, shape });
    this.g.inputs.push(name);
    return { name, shape };
  }

  /** A constant with known values (scales, pads, shapes read by a rule, never counted as a weight). */
  constant(name: string, values: readonly number[], shape: Shape = [values.length], dtype: DType = "float32"): T {
    this.tensor({ name, dtype, shape, value: values });
    return { name, shape };
  }

  /** Adds any canonical op. `weights` are created as stored parameters with the given shapes. */
  node(
    op: string,
    name: string,
    inputs: T[],
    attrs: Record<string, AttrValue> = {},
    weights: Record<string, Shape> = {},
    trainable = true,
  ): T {
    const weightNames = Object.entries(weights).map(([suffix, shape]) => {
      const w = `${name}.${suffix}`;
      this.tensor({ name: w, dtype: "float32", shape, initializer: { byteLength: 0, location: "absent", trainable } });
      return w;
    });
    const out = `${name}`;
    const node: Node = { name, op, inputs: [...inputs.map((i) => i.name), ...weightNames], outputs: [out], attrs };
    return this.add(node)[0];
  }

  /** Adds a prepared node and infers its outputs. */
  add(node: Node): T[] {
    if (this.names.has(node.name)) throw new ConvscopeError(`duplicate layer name`, { layer: node.name });
    const rule = ruleFor(node.op);
    if (!rule) throw new ConvscopeError(`unknown op '${node.op}'`, { layer: node.name });
    const inputs = node.inputs.map((n) => {
      if (n === "") return undefined;
      const t = this.g.tensors.get(n);
      if (!t) throw new ConvscopeError(`reads tensor '${n}', which no layer produces and is not an input`, { layer: node.name });
      return { name: n, dtype: t.dtype, shape: t.shape, value: t.value, constant: !!t.initializer || !!t.value };
    });
    const ctx = { node, inputs, outputs: [], attrs: new Attrs(node), opset: 13 };
    const outs = rule.infer(ctx);
    this.g.nodes.push(node);
    this.names.add(node.name);
    return node.outputs.map((name, i) => {
      const shape = outs[i].shape;
      if (!shape) throw new ConvscopeError(`output shape could not be inferred`, { layer: node.name });
      this.tensor({ name, dtype: outs[i].dtype, shape, value: outs[i].value });
      return { name, shape };
    });
  }

  conv(x: T, o: ConvOptions): T {
    const [kh, kw] = pair(o.kernel);
    const groups = o.groups ?? 1;
    const cin = x.shape[1];
    if (typeof cin !== "number") throw new ConvscopeError("input channels must be known", { layer: o.name });
    if (cin % groups !== 0) throw new ConvscopeError(`${cin} input channels are not divisible by ${groups} groups`, { layer: o.name });
    const weights: Record<string, Shape> = { weight: [o.out, cin / groups, kh, kw] };
    if (o.bias ?? true) weights.bias = [o.out];
    const attrs = {
      kernel_shape: [kh, kw],
      strides: pair(o.stride ?? 1),
      pads: pads(o.pad),
      dilations: pair(o.dilation ?? 1),
      group: groups,
    };
    return this.node("Conv", o.name, [x], attrs, weights);
  }

  /** Batch norm with γ, β (trainable) and running mean and variance (buffers). */
  bn(x: T, name: string): T {
    const c = x.shape[1] as number;
    const t = this.node("BatchNormalization", name, [x], { epsilon: 1e-5 }, { weight: [c], bias: [c] });
    const node = this.g.nodes[this.g.nodes.length - 1];
    for (const s of ["running_mean", "running_var"]) {
      const w = `${name}.${s}`;
      this.tensor({ name: w, dtype: "float32", shape: [c], initializer: { byteLength: 0, location: "absent", trainable: false } });
      node.inputs.push(w);
    }
    return t;
  }

  relu(x: T, name: string): T {
    return this.node("Relu", name, [x]);
  }

  relu6(x: T, name: string): T {
    return this.node("Clip", name, [x], { min: 0, max: 6 });
  }

  lrn(x: T, name: string, o: { size: number; alpha?: number; beta?: number; bias?: number }): T {
    return this.node("LRN", name, [x], { size: o.size, alpha: o.alpha ?? 1e-4, beta: o.beta ?? 0.75, bias: o.bias ?? 1 });
  }

  maxPool(x: T, o: PoolOptions): T {
    return this.pool("MaxPool", x, o);
  }

  avgPool(x: T, o: PoolOptions): T {
    return this.pool("AveragePool", x, o);
  }

  /** PyTorch's AdaptiveAvgPool2d as the fixed window it is at this input size (evenly divisible sizes). */
  adaptiveAvgPool(x: T, name: string, out: [number, number]): T {
    const [h, w] = [x.shape[2], x.shape[3]];
    if (out[0] === 1 && out[1] === 1) return this.node("GlobalAveragePool", name, [x]);
    if (typeof h !== "number" || typeof w !== "number" || h % out[0] !== 0 || w % out[1] !== 0) {
      throw new ConvscopeError(`adaptive pooling ${h}×${w} → ${out.join("×")} needs evenly divisible sizes`, { layer: name });
    }
    const stride: [number, number] = [h / out[0], w / out[1]];
    return this.avgPool(x, { name, kernel: stride, stride });
  }

  globalAvgPool(x: T, name: string): T {
    return this.node("GlobalAveragePool", name, [x]);
  }

  /** Fully-connected (Gemm with transposed weight, as PyTorch and Caffe store it); flattens a spatial input first. */
  fc(x: T, o: { name: string; out: number; bias?: boolean }): T {
    let input = x;
    if (x.shape.length > 2) input = this.flatten(x, `${o.name}.flatten`);
    const weights: Record<string, Shape> = { weight: [o.out, input.shape[1]] };
    if (o.bias ?? true) weights.bias = [o.out];
    return this.node("Gemm", o.name, [input], { transB: 1 }, weights);
  }

  flatten(x: T, name: string): T {
    return this.node("Flatten", name, [x], { axis: 1 });
  }

  dropout(x: T, name: string): T {
    return this.node("Dropout", name, [x]);
  }

  softmax(x: T, name: string): T {
    return this.node("Softmax", name, [x], { axis: 1 });
  }

  addT(a: T, b: T, name: string): T {
    return this.node("Add", name, [a, b]);
  }

  mul(a: T, b: T, name: string): T {
    return this.node("Mul", name, [a, b]);
  }

  concat(xs: T[], name: string, axis = 1): T {
    return this.node("Concat", name, xs, { axis });
  }

  build(...outputs: T[]): Graph {
    this.g.outputs = outputs.map((o) => o.name);
    return this.g;
  }

  private pool(op: string, x: T, o: PoolOptions): T {
    const attrs = {
      kernel_shape: pair(o.kernel),
      strides: pair(o.stride ?? 1),
      pads: pads(o.pad),
      ceil_mode: o.ceil ? 1 : 0,
    };
    return this.node(op, o.name, [x], attrs);
  }

  private tensor(t: Tensor): void {
    if (this.g.tensors.has(t.name)) throw new ConvscopeError(`tensor '${t.name}' is defined twice`, { layer: t.name });
    this.g.tensors.set(t.name, t);
  }
}
