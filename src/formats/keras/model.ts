import type { DType } from "../../core/dtype.js";
import { ConvscopeError } from "../../core/errors.js";
import type { Graph } from "../../core/graph.js";
import type { Dim, Shape } from "../../core/shape.js";
import type { Call } from "./call.js";
import {
  Cfg,
  callInputs,
  isObject,
  type Json,
  type JsonObject,
  type LayerSpec,
  layerSpec,
  type TensorRef,
  tensorRefs,
  variableDtype,
} from "./config.js";
import { Emitter } from "./emit.js";
import { translatorFor } from "./layers.js";
import { isOperation, operationFor } from "./ops.js";

/** Where a (possibly nested) model's layers go: name prefixes and the inherited trainable flag. */
interface Scope {
  nodePrefix: string;
  weightPrefix: string;
  trainable: boolean;
}

const MODEL_CLASSES = new Set(["Functional", "Model", "Sequential"]);

function isModel(spec: { cls: string; config: JsonObject }): boolean {
  return MODEL_CLASSES.has(spec.cls) && (Array.isArray(spec.config.layers) || spec.cls === "Sequential");
}

/**
 * Reads a Keras model config (`{class_name, config}`) into a Graph. Sequential and
 * Functional models are walked call by call; a nested model is inlined under its name
 * (`outer/inner_layer`); a layer called several times has one set of weights and one
 * node per call (`name`, `name_1`, …), so its parameters count once.
 */
export function readKerasModel(
  model: JsonObject,
  format: string,
  kerasVersion?: string,
): { graph: Graph /** Each weight's shape as Keras stores it (for a weights-manifest check). */; weights: ReadonlyMap<string, Shape> } {
  if (typeof model.class_name !== "string" || !(isObject(model.config) || Array.isArray(model.config))) {
    throw new ConvscopeError('not a Keras model config (needs "class_name" and "config")');
  }
  const layers = allLayerConfigs(model);
  const keras3 = typeof model.module === "string" || /^3\./.test(kerasVersion ?? "") || layers.some((l) => "module" in l.entry);
  const formats = new Set(layers.map((l) => l.config.data_format).filter((f) => typeof f === "string"));
  const name = isObject(model.config) && typeof model.config.name === "string" ? model.config.name : "model";
  const em = new Emitter(name, format, formats.has("channels_first") && !formats.has("channels_last"));
  const reader = new ModelReader(em, keras3);
  const spec = { cls: model.class_name, config: isObject(model.config) ? model.config : { layers: model.config } };
  if (!MODEL_CLASSES.has(spec.cls)) throw new ConvscopeError(`the top-level class is ${spec.cls}, not a Sequential or Functional model`);
  em.g.outputs = reader.model(spec, undefined, { nodePrefix: "", weightPrefix: "", trainable: true });
  em.g.notes.push(
    em.channelsFirst
      ? "the model's layers are channels_first: shapes are as Keras shows them"
      : "Keras tensors are channels-last: shapes here are shown channels-first (N, C, spatial…), the same sizes reordered",
    `read from the ${keras3 ? "Keras 3" : "Keras 2"} config${kerasVersion ? ` (keras ${kerasVersion})` : ""}; weight values are not read`,
  );
  return { graph: em.g, weights: em.weights() };
}

/** Every layer entry, nested models included (to decide the layout and the Keras version). */
function allLayerConfigs(model: JsonObject): { entry: JsonObject; config: JsonObject }[] {
  const out: { entry: JsonObject; config: JsonObject }[] = [];
  const walk = (config: Json | undefined) => {
    const list = Array.isArray(config) ? config : isObject(config) && Array.isArray(config.layers) ? config.layers : [];
    for (const e of list) {
      if (!isObject(e)) continue;
      const c = isObject(e.config) ? e.config : {};
      out.push({ entry: e, config: c });
      walk(c);
    }
  };
  walk(model.config);
  return out;
}

class ModelReader {
  constructor(
    private readonly em: Emitter,
    private readonly keras3: boolean,
  ) {}

  /** Runs a Sequential or Functional model on `inputs` (undefined at the top: its InputLayers become graph inputs). */
  model(spec: { cls: string; config: JsonObject }, inputs: string[] | undefined, scope: Scope): string[] {
    return spec.cls === "Sequential" ? this.sequential(spec.config, inputs, scope) : this.functional(spec.config, inputs, scope);
  }

  private sequential(config: JsonObject, inputs: string[] | undefined, scope: Scope): string[] {
    const entries = Array.isArray(config.layers) ? config.layers : [];
    if (inputs && inputs.length !== 1) throw new ConvscopeError(`a Sequential model takes one input, got ${inputs.length}`);
    let x = inputs?.[0];
    entries.forEach((entry, i) => {
      const spec = layerSpec(entry, `layer ${i} of the Sequential model`);
      if (spec.cls === "InputLayer") {
        x ??= this.input(spec, spec.config, scope);
        return;
      }
      if (x === undefined) {
        // Keras 2 / TF.js put the input shape on the first layer; Keras 3 on the model or in build_config.
        const shape = spec.config.batch_input_shape ?? spec.config.batch_shape ?? config.build_input_shape ?? spec.buildInputShape ?? null;
        if (shape === null) throw new ConvscopeError("the Sequential model declares no input shape", { layer: spec.name });
        x = this.input({ ...spec, name: `${spec.name}_input` }, { batch_shape: shape, dtype: spec.config.dtype ?? "float32" }, scope);
      }
      x = this.call(spec, 0, [x], scope, 1)[0];
    });
    if (x === undefined) throw new ConvscopeError("the Sequential model has no layers");
    return [x];
  }

  private functional(config: JsonObject, inputs: string[] | undefined, scope: Scope): string[] {
    const specs = (Array.isArray(config.layers) ? config.layers : []).map((e, i) => layerSpec(e, `layer ${i}`));
    const byName = new Map(specs.map((s) => [s.name, s]));
    const produced = new Map<string, string>();
    const key = (r: { layer: string; node: number; tensor: number }) => `${r.layer}\u0000${r.node}\u0000${r.tensor}`;
    const inputRefs = tensorRefs(config.input_layers, "input_layers");
    const outputRefs = tensorRefs(config.output_layers, "output_layers");
    if (inputs && inputs.length !== inputRefs.length) {
      throw new ConvscopeError(`a nested model takes ${inputRefs.length} inputs, called with ${inputs.length}`);
    }
    inputRefs.forEach((ref, i) => {
      const spec = byName.get(ref.layer);
      if (!spec) throw new ConvscopeError(`input layer '${ref.layer}' is not among the model's layers`);
      produced.set(key(ref), inputs ? inputs[i] : this.input(spec, spec.config, scope));
    });

    // How many outputs each call has (an unknown layer's outputs are only known from their uses).
    const calls: { spec: LayerSpec; index: number; refs: TensorRef[] }[] = [];
    for (const spec of specs) {
      if (spec.cls === "InputLayer") continue;
      spec.inbound.forEach((n, index) => {
        calls.push({ spec, index, refs: callInputs(n, spec.name) });
      });
    }
    const outputCount = new Map<string, number>();
    for (const r of [...calls.flatMap((c) => c.refs), ...outputRefs]) {
      const k = `${r.layer}\u0000${r.node}`;
      outputCount.set(k, Math.max(outputCount.get(k) ?? 1, r.tensor + 1));
    }

    // Keras' own order: a call runs once all its inputs exist (a shared layer's later call may come after layers listed below it).
    let pending = calls;
    while (pending.length > 0) {
      const waiting: typeof calls = [];
      for (const c of pending) {
        if (!c.refs.every((r) => produced.has(key(r)))) {
          waiting.push(c);
          continue;
        }
        const ins = c.refs.map((r) => {
          const t = produced.get(key(r)) as string;
          if (r.shape) this.em.declare(t, r.shape);
          return t;
        });
        const outs = this.call(
          c.spec,
          c.index,
          ins,
          scope,
          outputCount.get(`${c.spec.name}\u0000${c.index}`) ?? 1,
          c.refs.map((r) => r.kw),
        );
        outs.forEach((t, k) => {
          produced.set(key({ layer: c.spec.name, node: c.index, tensor: k }), t);
        });
      }
      if (waiting.length === pending.length) {
        const c = waiting[0];
        const missing = c.refs.find((r) => !produced.has(key(r))) as TensorRef;
        const why = byName.has(missing.layer)
          ? `call ${missing.node} of '${missing.layer}', which never runs`
          : `'${missing.layer}', which is not a layer of the model`;
        throw new ConvscopeError(`reads output ${missing.tensor} of ${why}`, { layer: scope.nodePrefix + c.spec.name });
      }
      pending = waiting;
    }

    return outputRefs.map((r) => {
      const t = produced.get(key(r));
      if (t === undefined)
        throw new ConvscopeError(`the model output is output ${r.tensor} of call ${r.node} of '${r.layer}', which does not exist`);
      return t;
    });
  }

  /** One call of a layer: a nested model is inlined, a known class translated, anything else an unknown node. */
  private call(spec: LayerSpec, index: number, all: string[], scope: Scope, outputs: number, kws: (string | undefined)[] = []): string[] {
    // Tensors passed by keyword go to `kwInputs`; the translators' `inputs` are the positional ones.
    const inputs = all.filter((_, i) => kws[i] === undefined);
    const kwInputs: Record<string, string> = {};
    all.forEach((t, i) => {
      const k = kws[i];
      if (k !== undefined) kwInputs[k] = t;
    });
    const nodeName = `${scope.nodePrefix}${spec.name}${index > 0 ? `_${index}` : ""}`;
    const trainable = scope.trainable && spec.config.trainable !== false;
    if (isModel(spec)) {
      return this.model(spec, inputs, { nodePrefix: `${nodeName}/`, weightPrefix: `${scope.weightPrefix}${spec.name}/`, trainable });
    }
    const node = spec.inbound[index];
    const c: Call = {
      em: this.em,
      cls: spec.cls,
      cfg: new Cfg(spec.config, nodeName),
      name: nodeName,
      wname: `${scope.weightPrefix}${spec.name}`,
      inputs,
      trainable,
      wdtype: variableDtype(spec.config.dtype),
      keras3: this.keras3,
      args: isObject(node) && Array.isArray(node.args) ? node.args : undefined,
      kwargs: isObject(node) && isObject(node.kwargs) ? node.kwargs : undefined,
      kwInputs,
      node,
    };
    if (isOperation(spec, node)) {
      // A Keras 3 operation node (`x + 3.0`, keras.ops.reshape): same class names as layers, other semantics.
      const op = operationFor(spec.cls);
      if (!op) return this.em.node(`keras::ops.${spec.cls}`, nodeName, all, {}, `ops.${spec.cls}`, outputs);
      return op(c);
    }
    const translate = translatorFor(spec.cls);
    if (!translate) return this.em.node(`keras::${spec.cls}`, nodeName, all, {}, spec.cls, outputs);
    const outs = translate(c);
    if (outs.length < outputs)
      throw new ConvscopeError(`${spec.cls} has one output, the model reads output ${outputs - 1}`, { layer: nodeName });
    return outs;
  }

  /** An InputLayer as a graph input: None batch → `N`, other None dims → named symbols. */
  private input(spec: LayerSpec, config: JsonObject, scope: Scope): string {
    const raw =
      config.batch_shape ?? config.batch_input_shape ?? (Array.isArray(config.input_shape) ? [null, ...config.input_shape] : undefined);
    if (!Array.isArray(raw) || !raw.every((d) => d === null || (typeof d === "number" && Number.isInteger(d) && d > 0))) {
      throw new ConvscopeError("the input layer has no valid batch_shape / batch_input_shape", { layer: spec.name });
    }
    const name = `${scope.nodePrefix}${spec.name}`;
    const spatial = SPATIAL[raw.length - 2] ?? [];
    // A second input's unknown dims get their own names: equal names would claim equal sizes.
    const prefix = this.em.g.inputs.length > 0 ? `${name}_` : "";
    const keras: Dim[] = raw.map((d, i) => {
      if (d !== null) return d as number;
      if (i === 0) return "N";
      const sym = this.em.channelsFirst ? (i === 1 ? "C" : spatial[i - 2]) : i === raw.length - 1 ? "C" : spatial[i - 1];
      return `${prefix}${sym ?? `d${i}`}`;
    });
    return this.em.input(name, this.em.toIR(keras), inputDtype(config.dtype));
  }
}

const SPATIAL: Record<number, string[]> = { 1: ["L"], 2: ["H", "W"], 3: ["D", "H", "W"] };

function inputDtype(v: Json | undefined): DType {
  const name =
    typeof v === "string" ? v : isObject(v) && isObject(v.config) && typeof v.config.name === "string" ? v.config.name : "float32";
  const known: DType[] = ["float32", "float16", "bfloat16", "float64", "int8", "uint8", "int16", "int32", "int64", "bool"];
  return known.includes(name as DType) ? (name as DType) : "float32";
}
