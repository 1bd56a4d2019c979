import { ConvscopeError } from "../../core/errors.js";

/**
 * Typed access to Keras' JSON serialization, which differs between Keras 2 (tf.keras,
 * TensorFlow.js) and Keras 3 (`module`/`registered_name`, dtype policies as objects,
 * inbound nodes as `{args, kwargs}` with `__keras_tensor__` entries). Everything here
 * normalises the two into one shape so the translation code reads a single vocabulary.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** One layer entry of a model config: `{class_name, config, name?, inbound_nodes?}`. */
export interface LayerSpec {
  cls: string;
  name: string;
  config: JsonObject;
  /** Raw inbound nodes (Functional only), one entry per call of the layer. */
  inbound: Json[];
  /** Keras 3: the layer's input shape as recorded at build time. */
  buildInputShape?: (number | null)[];
  /** Keras 3: the Python module of the class (`keras.layers`, `keras.src.ops.numpy`, …). */
  module?: string;
}

/** A reference to a layer output: the tensor `tensor` of the `node`-th call of `layer`. */
export interface TensorRef {
  layer: string;
  node: number;
  tensor: number;
  /** Keras 3 records each tensor's shape next to the reference. */
  shape?: (number | null)[];
  /** Passed by keyword (`value=`, `y=`), not positionally. */
  kw?: string;
}

/** Reads a layer entry; `where` names the place in the file for the error message. */
export function layerSpec(entry: Json, where: string): LayerSpec {
  if (!isObject(entry) || typeof entry.class_name !== "string") {
    throw new ConvscopeError(`${where}: a layer entry needs "class_name" and "config"`);
  }
  const config = isObject(entry.config) ? entry.config : {};
  const name = typeof entry.name === "string" ? entry.name : typeof config.name === "string" ? config.name : undefined;
  if (name === undefined) throw new ConvscopeError(`${where}: a ${entry.class_name} layer has no name`);
  const build = isObject(entry.build_config) ? entry.build_config.input_shape : undefined;
  return {
    cls: entry.class_name,
    name,
    config,
    inbound: Array.isArray(entry.inbound_nodes) ? entry.inbound_nodes : [],
    buildInputShape: isShape(build) ? build : undefined,
    module: typeof entry.module === "string" ? entry.module : undefined,
  };
}

function isShape(v: Json | undefined): v is (number | null)[] {
  return Array.isArray(v) && v.every((d) => d === null || typeof d === "number");
}

/**
 * The tensors one call of a layer reads, in order. Keras 2 / TF.js: a list of
 * `[layer, node, tensor, kwargs]` (a TFOpLambda writes its one entry unwrapped:
 * `["dense", 0, 0, {"axis": 1}]`); Keras 3: `{args: [...], kwargs: {...}}` with
 * `__keras_tensor__` objects anywhere inside `args` (merge layers pass a list). Tensors
 * passed by keyword (Keras 2 `{"y": ["conv", 0, 0]}`, `{"value": …}`; Keras 3 kwargs) come
 * last, with their keyword in `kw`.
 */
export function callInputs(node: Json, layer: string): TensorRef[] {
  if (Array.isArray(node)) {
    const entries = typeof node[0] === "string" ? [node] : node;
    const refs: TensorRef[] = [];
    const kw: TensorRef[] = [];
    for (const item of entries) {
      if (!Array.isArray(item) || typeof item[0] !== "string") {
        throw new ConvscopeError("an inbound node entry is not [layer, node, tensor]", { layer });
      }
      if (item[0] !== "_CONSTANT_VALUE") refs.push({ layer: item[0], node: intOr(item[1], 0), tensor: intOr(item[2], 0) });
      const kwargs = item[3];
      if (!isObject(kwargs)) continue;
      for (const [key, v] of Object.entries(kwargs)) {
        if (isKeras2Ref(v)) kw.push({ layer: v[0] as string, node: intOr(v[1], 0), tensor: intOr(v[2], 0), kw: key });
      }
    }
    return [...refs, ...kw];
  }
  if (isObject(node)) {
    const refs: TensorRef[] = [];
    collectKerasTensors(node.args ?? [], refs);
    if (isObject(node.kwargs)) {
      for (const [key, v] of Object.entries(node.kwargs)) {
        const one: TensorRef[] = [];
        if (isKerasTensor(v)) collectKerasTensors(v, one);
        refs.push(...one.map((r) => ({ ...r, kw: key })));
      }
    }
    return refs;
  }
  throw new ConvscopeError("an inbound node is neither a list nor {args, kwargs}", { layer });
}

/** A Keras 2 tensor reference inside kwargs: `["layer", node, tensor]`. */
export function isKeras2Ref(v: Json | undefined): v is [string, number, number] {
  return Array.isArray(v) && v.length === 3 && typeof v[0] === "string" && Number.isInteger(v[1]) && Number.isInteger(v[2]);
}

/** A Keras 3 `__keras_tensor__` reference object (as found in a call's args). */
export function isKerasTensor(v: Json | undefined): v is JsonObject {
  return isObject(v) && v.class_name === "__keras_tensor__" && isObject(v.config);
}

function collectKerasTensors(v: Json, out: TensorRef[]): void {
  if (Array.isArray(v)) {
    for (const x of v) collectKerasTensors(x, out);
    return;
  }
  if (!isObject(v)) return;
  if (v.class_name === "__keras_tensor__" && isObject(v.config)) {
    const h = v.config.keras_history;
    if (Array.isArray(h) && typeof h[0] === "string") {
      const shape = v.config.shape;
      out.push({ layer: h[0], node: intOr(h[1], 0), tensor: intOr(h[2], 0), shape: isShape(shape) ? shape : undefined });
    }
    return;
  }
  for (const x of Object.values(v)) collectKerasTensors(x, out);
}

/**
 * `input_layers` / `output_layers`: a list of `[layer, node, tensor]`, a single one
 * (Keras 3 with one input), or a dict of them (Keras 3 dict inputs).
 */
export function tensorRefs(v: Json | undefined, what: string, depth = 0): TensorRef[] {
  if (v === undefined || v === null) throw new ConvscopeError(`the model config has no "${what}"`);
  if (depth > 16) throw new ConvscopeError(`"${what}" nests deeper than any model's inputs or outputs`);
  if (Array.isArray(v) && typeof v[0] === "string") return [{ layer: v[0], node: intOr(v[1], 0), tensor: intOr(v[2], 0) }];
  const items = Array.isArray(v) ? v : isObject(v) ? Object.values(v) : [];
  return items.flatMap((x) => tensorRefs(x, what, depth + 1));
}

function intOr(v: Json | undefined, def: number): number {
  return typeof v === "number" && Number.isInteger(v) ? v : def;
}

/** Reads config fields with Keras' defaults; errors name the layer. */
export class Cfg {
  constructor(
    readonly c: JsonObject,
    readonly layer: string,
  ) {}

  has(key: string): boolean {
    return this.c[key] !== undefined && this.c[key] !== null;
  }

  num(key: string, def?: number): number {
    const v = this.c[key];
    if (v === undefined || v === null) return this.need(key, def);
    if (typeof v !== "number") this.bad(key, "a number");
    return v;
  }

  int(key: string, def?: number): number {
    const v = this.num(key, def);
    if (!Number.isInteger(v)) this.bad(key, "an integer");
    return v;
  }

  /** Optional number: undefined when absent or null. */
  opt(key: string): number | undefined {
    return this.has(key) ? this.num(key) : undefined;
  }

  str(key: string, def?: string): string {
    const v = this.c[key];
    if (v === undefined || v === null) return this.need(key, def);
    if (typeof v !== "string") this.bad(key, "a string");
    return v;
  }

  bool(key: string, def: boolean): boolean {
    const v = this.c[key];
    if (v === undefined || v === null) return def;
    if (typeof v !== "boolean") this.bad(key, "true or false");
    return v;
  }

  /** An int or a list of `n` ints (`kernel_size: 3` or `[3, 3]`). */
  tuple(key: string, n: number, def?: number): number[] {
    const v = this.c[key];
    if (v === undefined || v === null) return new Array(n).fill(this.need(key, def));
    const xs = typeof v === "number" ? new Array(n).fill(v) : v;
    if (!Array.isArray(xs) || xs.length !== n || !xs.every((x) => typeof x === "number" && Number.isInteger(x))) {
      this.bad(key, `an integer or a list of ${n} integers`);
    }
    return xs as number[];
  }

  /** An int or a list of ints (axis arguments). */
  ints(key: string, def: number[]): number[] {
    const v = this.c[key];
    if (v === undefined || v === null) return def;
    const xs = typeof v === "number" ? [v] : v;
    if (!Array.isArray(xs) || !xs.every((x) => typeof x === "number" && Number.isInteger(x)))
      this.bad(key, "an integer or a list of integers");
    return xs as number[];
  }

  /** A number or a list of numbers (Rescaling's scale, Normalization's mean). */
  numbers(key: string): number[] | undefined {
    const v = this.c[key];
    if (v === undefined || v === null) return undefined;
    const flat = (x: Json): number[] => (typeof x === "number" ? [x] : Array.isArray(x) ? x.flatMap(flat) : this.bad(key, "numbers"));
    return flat(v);
  }

  /** Begin/end amounts per spatial axis: `p`, `[a, b]` (one per axis) or `[[b0, e0], [b1, e1]]`. */
  pairs(key: string, n: number, def: number): [number, number][] {
    const v = this.c[key];
    if (v === undefined || v === null) return new Array(n).fill([def, def]);
    if (typeof v === "number") return new Array(n).fill([v, v]);
    if (Array.isArray(v) && n === 1 && v.length === 2 && v.every((x) => typeof x === "number")) return [[v[0] as number, v[1] as number]];
    if (Array.isArray(v) && v.length === n) {
      return v.map((x) => {
        if (typeof x === "number") return [x, x];
        if (Array.isArray(x) && x.length === 2 && typeof x[0] === "number" && typeof x[1] === "number") return [x[0], x[1]];
        return this.bad(key, `an integer, ${n} integers or ${n} pairs`);
      });
    }
    return this.bad(key, `an integer, ${n} integers or ${n} pairs`);
  }

  private need<T>(key: string, def: T | undefined): T {
    if (def === undefined) throw new ConvscopeError(`config has no "${key}"`, { layer: this.layer });
    return def;
  }

  private bad(key: string, what: string): never {
    throw new ConvscopeError(`"${key}" must be ${what}, got ${JSON.stringify(this.c[key])}`, { layer: this.layer });
  }
}

/**
 * An activation argument as a name: Keras 2 and 3 write a string; a serialized function
 * object (`{class_name: "function", config: "relu"}`) or a layer object also occurs.
 */
export function activationName(v: Json | undefined): string {
  if (v === undefined || v === null) return "linear";
  if (typeof v === "string") return v;
  if (isObject(v)) {
    if (typeof v.config === "string") return v.config;
    if (isObject(v.config) && typeof v.config.name === "string" && v.class_name === "function") return v.config.name;
    if (typeof v.class_name === "string") return v.class_name;
  }
  return String(v);
}

/**
 * Storage type of a layer's weights from its dtype or dtype policy: `mixed_float16`
 * keeps float32 variables (that is what the policy means), `float16` stores float16.
 */
export function variableDtype(v: Json | undefined): "float32" | "float16" | "bfloat16" | "float64" {
  let name = "float32";
  if (typeof v === "string") name = v;
  else if (isObject(v) && isObject(v.config) && typeof v.config.name === "string") name = v.config.name;
  if (name.startsWith("mixed_")) return "float32";
  if (name === "float16" || name === "bfloat16" || name === "float64") return name;
  return "float32";
}
