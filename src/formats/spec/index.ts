import { ConvscopeError } from "../../core/errors.js";
import type { Graph } from "../../core/graph.js";
import type { Shape } from "../../core/shape.js";
import { NetBuilder, type PoolOptions, type T } from "../../zoo/builder.js";
import { type ByteSource, readText } from "../source.js";

/**
 * convscope's own model format: JSON describing a DAG of layers, for networks that live
 * in no framework file. Documented in the README ("Describe a network in JSON").
 */
interface SpecLayer {
  name: string;
  type: string;
  inputs?: string[];
  [key: string]: unknown;
}

type Build = (b: NetBuilder, name: string, xs: T[], l: Field) => T;

/** Layer types and how each is built. */
const TYPES: Record<string, Build> = {
  conv: (b, name, [x], l) =>
    b.conv(x, {
      name,
      out: l.int("out"),
      kernel: l.pair("kernel"),
      stride: l.pair("stride", 1),
      pad: l.pads("pad"),
      dilation: l.pair("dilation", 1),
      groups: l.int("groups", 1),
      bias: l.bool("bias", true),
    }),
  maxpool: (b, name, [x], l) => b.maxPool(x, poolOptions(name, l)),
  avgpool: (b, name, [x], l) => b.avgPool(x, poolOptions(name, l)),
  globalavgpool: (b, name, [x]) => b.globalAvgPool(x, name),
  globalmaxpool: (b, name, [x]) => b.node("GlobalMaxPool", name, [x]),
  fc: (b, name, [x], l) => b.fc(x, { name, out: l.int("out"), bias: l.bool("bias", true) }),
  bn: (b, name, [x]) => b.bn(x, name),
  lrn: (b, name, [x], l) =>
    b.lrn(x, name, { size: l.int("size", 5), alpha: l.num("alpha", 1e-4), beta: l.num("beta", 0.75), bias: l.num("k", 1) }),
  relu: (b, name, [x]) => b.relu(x, name),
  relu6: (b, name, [x]) => b.relu6(x, name),
  sigmoid: (b, name, [x]) => b.node("Sigmoid", name, [x]),
  tanh: (b, name, [x]) => b.node("Tanh", name, [x]),
  hardswish: (b, name, [x]) => b.node("HardSwish", name, [x]),
  softmax: (b, name, [x]) => b.softmax(x, name),
  dropout: (b, name, [x]) => b.dropout(x, name),
  flatten: (b, name, [x]) => b.flatten(x, name),
  add: (b, name, xs) => b.node("Add", name, xs),
  mul: (b, name, xs) => b.node("Mul", name, xs),
  concat: (b, name, xs, l) => b.concat(xs, name, l.int("axis", 1)),
};

/** Pooling fields: the stride defaults to the kernel, as in most frameworks. */
function poolOptions(name: string, l: Field): PoolOptions {
  return { name, kernel: l.pair("kernel"), stride: l.pair("stride", l.pair("kernel")), pad: l.pads("pad"), ceil: l.bool("ceil", false) };
}

export function readSpec(src: ByteSource): Graph {
  let doc: unknown;
  try {
    doc = JSON.parse(readText(src));
  } catch (e) {
    throw new ConvscopeError(`not valid JSON (${(e as Error).message})`);
  }
  return buildSpec(doc);
}

/** Builds a Graph from a parsed spec document. */
export function buildSpec(doc: unknown): Graph {
  if (!isObject(doc)) throw new ConvscopeError("the spec must be a JSON object");
  const name = typeof doc.name === "string" ? doc.name : "model";
  const b = new NetBuilder(name);
  const tensors = new Map<string, T>();
  const inputs = doc.inputs;
  if (!isObject(inputs) || Object.keys(inputs).length === 0) {
    throw new ConvscopeError('"inputs" must map each input name to its shape, e.g. {"data": [1, 3, 224, 224]}');
  }
  for (const [n, shape] of Object.entries(inputs)) tensors.set(n, b.input(n, checkShape(n, shape)));
  if (!Array.isArray(doc.layers) || doc.layers.length === 0) throw new ConvscopeError('"layers" must be a non-empty list');

  let last = [...tensors.values()][tensors.size - 1];
  doc.layers.forEach((raw: unknown, i: number) => {
    if (!isObject(raw) || typeof raw.name !== "string" || raw.name === "") {
      throw new ConvscopeError(`layer #${i + 1} needs a "name"`);
    }
    const layer = raw as SpecLayer;
    const build = TYPES[String(layer.type).toLowerCase()];
    if (!build) {
      throw new ConvscopeError(`unknown layer type '${layer.type}' (known: ${Object.keys(TYPES).join(", ")})`, { layer: layer.name });
    }
    if (layer.inputs !== undefined && (!Array.isArray(layer.inputs) || layer.inputs.some((x) => typeof x !== "string"))) {
      throw new ConvscopeError('"inputs" must be a list of layer or input names', { layer: layer.name });
    }
    const xs = (layer.inputs ?? [last.name]).map((n) => {
      const t = tensors.get(n);
      if (!t) throw new ConvscopeError(`reads '${n}', which is neither an input nor an earlier layer`, { layer: layer.name });
      return t;
    });
    if (tensors.has(layer.name)) throw new ConvscopeError("duplicate layer name", { layer: layer.name });
    last = build(b, layer.name, xs, new Field(layer));
    tensors.set(layer.name, last);
  });

  const outputs = Array.isArray(doc.outputs) ? doc.outputs : [last.name];
  return b.build(
    ...outputs.map((o: unknown) => {
      const t = typeof o === "string" ? tensors.get(o) : undefined;
      if (!t) throw new ConvscopeError(`output '${String(o)}' is not a layer`);
      return t;
    }),
  );
}

/** Typed access to a layer's fields with one-line errors. */
class Field {
  constructor(private readonly l: SpecLayer) {}
  int(key: string, def?: number): number {
    const v = this.l[key] ?? def;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0) this.bad(key, "a positive integer", v);
    return v;
  }
  num(key: string, def: number): number {
    const v = this.l[key] ?? def;
    if (typeof v !== "number" || !Number.isFinite(v)) this.bad(key, "a number", v);
    return v;
  }
  bool(key: string, def: boolean): boolean {
    const v = this.l[key] ?? def;
    if (typeof v !== "boolean") this.bad(key, "true or false", v);
    return v;
  }
  pair(key: string, def?: number | [number, number]): [number, number] {
    const v = this.l[key] ?? def;
    const arr = typeof v === "number" ? [v, v] : v;
    if (!Array.isArray(arr) || arr.length !== 2 || !arr.every((x) => Number.isSafeInteger(x) && x > 0)) {
      this.bad(key, "a positive integer or [h, w]", v);
    }
    return arr as [number, number];
  }
  pads(key: string): [number, number, number, number] {
    const v = this.l[key] ?? 0;
    const arr = typeof v === "number" ? [v, v, v, v] : Array.isArray(v) && v.length === 2 ? [v[0], v[1], v[0], v[1]] : v;
    if (!Array.isArray(arr) || arr.length !== 4 || !arr.every((x) => Number.isSafeInteger(x) && x >= 0)) {
      this.bad(key, "a non-negative integer, [h, w] or [top, left, bottom, right]", v);
    }
    return arr as [number, number, number, number];
  }
  private bad(key: string, what: string, v: unknown): never {
    throw new ConvscopeError(`"${key}" must be ${what}, got ${JSON.stringify(v)}`, { layer: this.l.name });
  }
}

function checkShape(name: string, shape: unknown): Shape {
  if (
    !Array.isArray(shape) ||
    shape.length === 0 ||
    !shape.every((d) => (Number.isSafeInteger(d) && d > 0) || (typeof d === "string" && d !== ""))
  ) {
    throw new ConvscopeError(`input '${name}' needs a shape of positive integers or symbol names, got ${JSON.stringify(shape)}`);
  }
  return shape;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}
