import type { DType } from "../../core/dtype.js";
import type { AttrValue, Graph, Node } from "../../core/graph.js";
import type { Shape } from "../../core/shape.js";
import { Attrs, ruleFor, type TensorState } from "../../ops/index.js";

/**
 * Assembles the Graph of a Caffe net while tracking tensor shapes. A prototxt never states
 * weight shapes: a convolution's weight is [num_output, C/group, kh, kw] with C read from
 * its input, an InnerProduct's depends on everything before it. So each node's outputs are
 * inferred as it is added, by the same op rules the analysis runs (the way the zoo's
 * builder works), and the weights of the next layer are sized from them. Only weight
 * shapes come from this; the analysis infers every activation shape again from the inputs,
 * so binding another batch size later stays consistent.
 */
export class Emitter {
  readonly graph: Graph;
  private readonly states = new Map<string, TensorState>();
  private readonly nodeNames = new Set<string>();
  /** Names no new tensor may take (every blob named in the file, reserved up front). */
  private readonly reserved: Set<string>;

  constructor(name: string, reserved: Iterable<string>) {
    this.graph = { name, format: "caffe", opset: 18, inputs: [], outputs: [], nodes: [], tensors: new Map(), notes: [] };
    this.reserved = new Set(reserved);
  }

  /** A graph input (data layers, `input:` fields). */
  input(name: string, shape: Shape | undefined, dtype: DType = "float32"): void {
    this.graph.tensors.set(name, { name, dtype, shape });
    this.graph.inputs.push(name);
    this.states.set(name, { name, dtype, shape, constant: false });
  }

  /** A learned blob: its payload lives in the .caffemodel, which is never read. */
  weight(name: string, shape: Shape | undefined, trainable = true): string {
    const n = this.fresh(name);
    this.graph.tensors.set(n, {
      name: n,
      dtype: "float32",
      shape,
      initializer: { byteLength: 0, location: "absent", learned: true, ...(trainable ? {} : { trainable: false }) },
    });
    this.states.set(n, { name: n, dtype: "float32", shape, constant: true });
    return n;
  }

  /** A small constant the reader makes up (shape targets, slice bounds, scale factors). */
  constant(name: string, dtype: DType, values: readonly number[], shape: Shape = [values.length]): string {
    const n = this.fresh(name);
    this.graph.tensors.set(n, { name: n, dtype, shape, value: values });
    this.states.set(n, { name: n, dtype, shape, value: values, constant: true });
    return n;
  }

  /** A tensor exists under this name. */
  has(name: string): boolean {
    return this.states.has(name);
  }

  /** No tensor has or will take this name (blob names of the file are taken). */
  isFree(name: string): boolean {
    return !this.reserved.has(name) && !this.states.has(name);
  }

  /** A tensor name not yet used by anything (`base`, then `base#2`, …). */
  fresh(base: string): string {
    let n = base;
    for (let i = 2; this.reserved.has(n) || this.graph.tensors.has(n) || this.states.has(n); i++) n = `${base}#${i}`;
    this.reserved.add(n);
    return n;
  }

  /** A node name not yet used (Caffe layer names are normally unique; duplicates get `#2`). */
  nodeName(base: string): string {
    let n = base;
    for (let i = 2; this.nodeNames.has(n); i++) n = `${base}#${i}`;
    return n;
  }

  /** Adds a node and infers its outputs (unknown ops leave them unknown). */
  node(name: string, op: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}, source?: string): void {
    const n = this.nodeName(name);
    this.nodeNames.add(n);
    const node: Node = { name: n, op, ...(source ? { source } : {}), inputs, outputs, attrs };
    this.graph.nodes.push(node);
    const ins = inputs.map((i) => (i === "" ? undefined : this.states.get(i)));
    const rule = ruleFor(op);
    // After a layer convscope does not know, shapes are unknown: nothing is inferred.
    const known = ins.every((t, i) => (t ? t.shape !== undefined : inputs[i] === ""));
    const outs = rule && known ? rule.infer({ node, inputs: ins, outputs: [], attrs: new Attrs(node), opset: 18 }) : [];
    outputs.forEach((o, i) => {
      this.reserved.add(o);
      this.states.set(o, { name: o, dtype: outs[i]?.dtype ?? "float32", shape: outs[i]?.shape, value: outs[i]?.value, constant: false });
    });
  }

  shape(tensor: string): Shape | undefined {
    return this.states.get(tensor)?.shape;
  }

  note(text: string): void {
    if (!this.graph.notes.includes(text)) this.graph.notes.push(text);
  }
}
