import type { DType } from "../../core/dtype.js";
import { ConvscopeError } from "../../core/errors.js";
import type { AttrValue, Graph, Node, Tensor } from "../../core/graph.js";
import type { Shape } from "../../core/shape.js";
import { Attrs, ruleFor } from "../../ops/index.js";
import { nhwcAxis, nhwcToNchw } from "../layout.js";

/** The ONNX opset whose op forms the reader emits (LayerNormalization 17, Gelu 20). */
const OPSET = 20;

/**
 * The graph under construction. Keras configs give no weight shapes: a kernel's input
 * channels come from the tensor the layer is called on, so each node's outputs are
 * inferred as it is added, by the same op rules the analysis runs (the builder does
 * the same). An op without a rule leaves its outputs' shapes unknown and the reader
 * goes on; weights that depend on them get a symbolic dim, so they show as unknown
 * rather than wrong.
 */
export class Emitter {
  readonly g: Graph;
  private readonly kerasShapes = new Map<string, Shape>();
  /** Layer outputs as inferred while reading; the graph declares only inputs and constants (the analysis infers the rest). */
  private readonly inferred = new Map<string, Tensor>();

  constructor(
    name: string,
    format: string,
    /** True when the model's layers are `channels_first`: shapes are then already NCHW. */
    readonly channelsFirst: boolean,
  ) {
    this.g = { name, format, opset: OPSET, inputs: [], outputs: [], nodes: [], tensors: new Map(), notes: [] };
  }

  /** Keras (channels-last) shape → IR shape. */
  toIR(shape: Shape): Shape {
    return this.channelsFirst ? [...shape] : nhwcToNchw(shape);
  }

  /** IR shape → the shape Keras sees. */
  toKeras(shape: Shape): Shape {
    if (this.channelsFirst || shape.length < 3) return [...shape];
    return [shape[0], ...shape.slice(2), shape[1]];
  }

  /** A Keras axis (negative allowed) of a rank-`rank` tensor as the IR axis. */
  axis(axis: number, rank: number, layer: string): number {
    const a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) throw new ConvscopeError(`axis ${axis} is out of range for rank ${rank}`, { layer });
    return this.channelsFirst ? a : nhwcAxis(a, rank);
  }

  input(name: string, irShape: Shape, dtype: DType): string {
    this.define(name, { name, dtype, shape: irShape });
    this.g.inputs.push(name);
    return name;
  }

  /** The IR shape of a tensor, when known. */
  shape(t: string): Shape | undefined {
    return this.lookup(t)?.shape;
  }

  /** The shape Keras sees for a tensor, when known. */
  kshape(t: string): Shape | undefined {
    const s = this.shape(t);
    return s ? this.toKeras(s) : undefined;
  }

  dtype(t: string): DType {
    return this.lookup(t)?.dtype ?? "float32";
  }

  /**
   * A stored weight (bytes not read). Created on the first call of a layer and reused by
   * later calls, which is what makes a shared layer's parameters count once.
   */
  weight(name: string, irShape: Shape, kerasShape: Shape, trainable: boolean, dtype: DType = "float32"): string {
    if (!this.g.tensors.has(name)) {
      this.define(name, { name, dtype, shape: irShape, initializer: { byteLength: 0, location: "absent", trainable, learned: true } });
      this.kerasShapes.set(name, kerasShape);
    }
    return name;
  }

  /**
   * Declares the shape of a layer output the rules could not infer (an unknown op's), from
   * the shape Keras 3 records next to each tensor reference; None batch → the graph's batch.
   * Later layers then get their weight shapes, and the analysis sees the declared shape.
   */
  declare(name: string, kerasShape: (number | null)[]): void {
    const t = this.inferred.get(name);
    if (!t || t.shape) return;
    const batch = this.shape(this.g.inputs[0] ?? "")?.[0] ?? "N";
    const shape = this.toIR(kerasShape.map((d, i) => (d === null ? (i === 0 ? batch : `${name}.${i}`) : d)));
    t.shape = shape;
    this.g.tensors.set(name, { name, dtype: t.dtype, shape });
  }

  /** Weights with their shapes as Keras stores them, for cross-checking a weights manifest. */
  weights(): ReadonlyMap<string, Shape> {
    return this.kerasShapes;
  }

  /** An int64 constant operand (pads, shapes, slice bounds), as ONNX passes them. */
  ints(name: string, values: number[]): string {
    this.define(name, { name, dtype: "int64", shape: [values.length], value: values });
    return name;
  }

  /** A float constant operand (scales), as ONNX passes them. */
  floats(name: string, values: number[], shape: Shape = [values.length]): string {
    this.define(name, { name, dtype: "float32", shape, value: values });
    return name;
  }

  /** Adds a node whose outputs are named after it (`name`, `name:1`, …) and infers their shapes. */
  node(op: string, name: string, inputs: string[], attrs: Record<string, AttrValue>, source: string, outputs = 1): string[] {
    if (this.g.nodes.some((n) => n.name === name)) throw new ConvscopeError("two layers have this name", { layer: name });
    const outs = Array.from({ length: outputs }, (_, i) => (i === 0 ? name : `${name}:${i}`));
    const node: Node = { name, op, source, inputs, outputs: outs, attrs };
    this.g.nodes.push(node);
    const inferred = this.infer(node);
    outs.forEach((o, i) => {
      if (this.lookup(o)) throw new ConvscopeError(`tensor '${o}' is defined twice`, { layer: name });
      this.inferred.set(o, { name: o, dtype: inferred?.[i]?.dtype ?? this.dtype(inputs[0] ?? ""), shape: inferred?.[i]?.shape });
    });
    return outs;
  }

  private infer(node: Node) {
    const rule = ruleFor(node.op);
    if (!rule) return undefined;
    const inputs = node.inputs.map((n) => {
      if (n === "") return undefined;
      const t = this.lookup(n);
      if (!t) throw new ConvscopeError(`reads tensor '${n}', which no layer produces`, { layer: node.name });
      return { name: n, dtype: t.dtype, shape: t.shape, value: t.value, constant: !!t.initializer || !!t.value };
    });
    if (inputs.some((t) => t && !t.shape)) return undefined;
    return rule.infer({ node, inputs, outputs: [], attrs: new Attrs(node), opset: OPSET });
  }

  private lookup(name: string): Tensor | undefined {
    return this.g.tensors.get(name) ?? this.inferred.get(name);
  }

  private define(name: string, t: Tensor): void {
    if (this.lookup(name)) throw new ConvscopeError(`tensor '${name}' is defined twice`, { layer: name });
    this.g.tensors.set(name, t);
  }
}
