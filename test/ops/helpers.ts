import assert from "node:assert/strict";
import { analyze } from "../../src/analysis/index.js";
import type { DType } from "../../src/core/dtype.js";
import { ConvscopeError } from "../../src/core/errors.js";
import type { AttrValue, Graph, Node, Tensor } from "../../src/core/graph.js";
import type { Report } from "../../src/core/report.js";
import type { Shape } from "../../src/core/shape.js";
import { Attrs, type Cost, type Field, type OutputState, ruleFor } from "../../src/ops/index.js";
import type { RuleContext, TensorState } from "../../src/ops/rule.js";

/** An input of a one-node test: an activation, or a constant (`value` or `weight: true`). */
export interface In {
  shape?: Shape;
  dtype?: DType;
  value?: number[];
  /** A stored weight (a parameter unless the rule reads it as a value). */
  weight?: boolean;
}

export interface RuleRun {
  out: OutputState[];
  /** The rule's cost (undefined when the rule declares none). */
  cost: Cost | null | undefined;
  field: Field | undefined;
}

/** Runs one op's rule directly on inputs (undefined = omitted optional input). */
export function run(
  op: string,
  inputs: (In | undefined)[],
  attrs: Record<string, AttrValue> = {},
  opts: { opset?: number; outputs?: number } = {},
): RuleRun {
  const rule = ruleFor(op);
  assert.ok(rule, `no rule for ${op}`);
  const node: Node = {
    name: "layer",
    op,
    inputs: inputs.map((t, i) => (t ? `in${i}` : "")),
    outputs: Array.from({ length: opts.outputs ?? 1 }, (_, i) => `out${i}`),
    attrs,
  };
  const states: (TensorState | undefined)[] = inputs.map((t, i) =>
    t ? { name: `in${i}`, dtype: t.dtype ?? "float32", shape: t.shape, value: t.value, constant: !!t.value || !!t.weight } : undefined,
  );
  const ctx: RuleContext = { node, inputs: states, outputs: [], attrs: new Attrs(node), opset: opts.opset ?? 13 };
  ctx.outputs = rule.infer(ctx);
  return { out: ctx.outputs, cost: rule.cost ? rule.cost(ctx) : undefined, field: rule.field?.(ctx) };
}

/** Output 0's shape. */
export function shapeOf(op: string, inputs: (In | undefined)[], attrs: Record<string, AttrValue> = {}, opset = 13): Shape | undefined {
  return run(op, inputs, attrs, { opset }).out[0].shape;
}

/** Asserts that running the op throws a ConvscopeError naming the layer whose message matches. */
export function assertLayerError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ConvscopeError, `expected ConvscopeError, got ${e}`);
    assert.match(e.message, message);
    assert.ok(e.layer, "the error names a layer");
    return true;
  });
}

/** A full cost with the given parts and zeros elsewhere. */
export function costOf(parts: Partial<Cost>): Cost {
  return { macs: 0, bias: 0, add: 0, mul: 0, div: 0, exp: 0, cmp: 0, seed: 0, ...parts };
}

/** A graph node for `graph()`. */
export interface GNode {
  op: string;
  name: string;
  inputs: string[];
  outputs?: string[];
  attrs?: Record<string, AttrValue>;
}

/**
 * A small graph: `inputs` are graph inputs (activations), `consts` stored tensors (weights
 * and shape constants), `nodes` in order; the last node's first output is the graph output.
 */
export function graph(inputs: Record<string, Shape>, consts: Record<string, In>, nodes: GNode[], opset = 13): Graph {
  const tensors = new Map<string, Tensor>();
  for (const [name, shape] of Object.entries(inputs)) tensors.set(name, { name, dtype: "float32", shape });
  for (const [name, c] of Object.entries(consts)) {
    const shape = c.shape ?? [c.value?.length ?? 0];
    const value = c.value;
    tensors.set(name, {
      name,
      dtype: c.dtype ?? (value ? "int64" : "float32"),
      shape,
      initializer: { byteLength: 0, location: "absent", ...(value ? { read: () => value } : {}) },
    });
  }
  const ns: Node[] = nodes.map((n) => ({ name: n.name, op: n.op, inputs: n.inputs, outputs: n.outputs ?? [n.name], attrs: n.attrs ?? {} }));
  return {
    name: "test",
    format: "builder",
    opset,
    inputs: Object.keys(inputs),
    outputs: [ns[ns.length - 1].outputs[0]],
    nodes: ns,
    tensors,
    notes: [],
  };
}

/** analyze() on a small graph. */
export function analyzeGraph(...args: Parameters<typeof graph>): Report {
  return analyze(graph(...args));
}

/** The report row of a layer. */
export function layer(r: Report, name: string) {
  const l = r.layers.find((x) => x.name === name);
  assert.ok(l, `no layer ${name}`);
  return l;
}
