/**
 * Test helper: writes Keras model configs the way `model.to_json()` serializes them, in
 * Keras 2 style (inbound nodes as `[[layer, node, tensor, {}]]`, dtype strings) or Keras 3
 * style (`module`/`registered_name`, DTypePolicy objects, `{args, kwargs}` with
 * `__keras_tensor__`). With it, the Keras Applications architectures below are rebuilt
 * layer for layer from keras/applications/{vgg16,resnet,mobilenet}.py, so the reader can
 * be checked against the published parameter counts.
 */

import assert from "node:assert/strict";
import { analyze } from "../../src/analysis/index.js";
import type { Graph } from "../../src/core/graph.js";
import type { LayerReport, Report } from "../../src/core/report.js";
import { bufferSource, readModel } from "../../src/formats/index.js";
import { MOBILENET_V1_BLOCKS } from "../support/mobilenet-v1.js";

type J = Record<string, unknown>;

/** A reference to an output of a layer call. */
export interface Ref {
  layer: string;
  node: number;
  tensor: number;
  /** Keras 3 writes each referenced tensor's shape; set it to have it written. */
  shape?: (number | null)[];
}

export class KerasConfig {
  private readonly layers: J[] = [];
  private readonly byName = new Map<string, J>();
  private readonly inputs: Ref[] = [];

  constructor(
    private readonly name: string,
    readonly style: 2 | 3,
  ) {}

  input(name: string, batchShape: (number | null)[], dtype = "float32"): Ref {
    const config =
      this.style === 3
        ? { batch_shape: batchShape, dtype, sparse: false, name }
        : { batch_input_shape: batchShape, dtype, sparse: false, ragged: false, name };
    this.push("InputLayer", name, config, []);
    const ref = { layer: name, node: 0, tensor: 0 };
    this.inputs.push(ref);
    return ref;
  }

  /** Adds a layer and calls it on `inputs` (a list for merge layers). */
  layer(cls: string, name: string, config: J, inputs: Ref | Ref[]): Ref {
    this.push(cls, name, { name, trainable: true, dtype: this.dtype(), ...config }, []);
    return this.call(name, inputs);
  }

  /** Calls an existing layer again (a shared layer): one more inbound node. */
  call(name: string, inputs: Ref | Ref[]): Ref {
    const entry = this.byName.get(name);
    if (!entry) throw new Error(`no layer ${name}`);
    const nodes = entry.inbound_nodes as unknown[];
    nodes.push(this.node(inputs));
    return { layer: name, node: nodes.length - 1, tensor: 0 };
  }

  /**
   * A Keras 3 operation node as `to_json()` writes a `keras.ops.*` call (or `x + 3.0`):
   * the Operation's class name and constructor arguments, positional args that are tensors
   * (a list for concatenate) or literals. `module: null` writes it as a legacy .h5 does (no module).
   */
  op(cls: string, name: string, config: J, args: (Ref | Ref[] | number | number[])[], module: string | null = "keras.src.ops.numpy"): Ref {
    const kt = (r: Ref) => ({
      class_name: "__keras_tensor__",
      config: { ...(r.shape ? { shape: r.shape } : {}), dtype: "float32", keras_history: [r.layer, r.node, r.tensor] },
    });
    const isRef = (a: unknown): a is Ref => typeof a === "object" && a !== null && "layer" in a;
    const arg = (a: Ref | Ref[] | number | number[]) =>
      isRef(a) ? kt(a) : Array.isArray(a) ? (a as unknown[]).map((x) => (isRef(x) ? kt(x) : x)) : a;
    const entry: J = {
      ...(module === null ? {} : { module }),
      class_name: cls,
      config: { name, ...config },
      registered_name: cls,
      name,
      inbound_nodes: [{ args: args.map(arg), kwargs: {} }],
    };
    this.layers.push(entry);
    this.byName.set(name, entry);
    return { layer: name, node: 0, tensor: 0 };
  }

  /** Adds a prepared entry (a nested model) and calls it. */
  nested(entry: J, inputs: Ref | Ref[]): Ref {
    const name = (entry.config as J).name as string;
    this.push(entry.class_name as string, name, entry.config as J, [], entry);
    return this.call(name, inputs);
  }

  /** The `{class_name, config, …}` object `to_json()` writes. */
  build(outputs: Ref[], extra: J = {}): J {
    const refs = (rs: Ref[]) => rs.map((r) => [r.layer, r.node, r.tensor]);
    const one = (rs: Ref[]) => (this.style === 3 && rs.length === 1 ? refs(rs)[0] : refs(rs));
    const config = {
      name: this.name,
      trainable: true,
      layers: this.layers,
      input_layers: one(this.inputs),
      output_layers: one(outputs),
      ...extra,
    };
    if (this.style === 2) return { class_name: "Functional", config, keras_version: "2.15.0", backend: "tensorflow" };
    return { module: "keras.src.models.functional", class_name: "Functional", config, registered_name: "Functional" };
  }

  private dtype(): unknown {
    return this.style === 3
      ? { module: "keras", class_name: "DTypePolicy", config: { name: "float32" }, registered_name: null }
      : "float32";
  }

  private node(inputs: Ref | Ref[]): unknown {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (this.style === 2) return list.map((r) => [r.layer, r.node, r.tensor, {}]);
    const kt = (r: Ref) => ({
      class_name: "__keras_tensor__",
      config: { ...(r.shape ? { shape: r.shape } : {}), dtype: "float32", keras_history: [r.layer, r.node, r.tensor] },
    });
    return { args: Array.isArray(inputs) ? [list.map(kt)] : [kt(list[0])], kwargs: {} };
  }

  private push(cls: string, name: string, config: J, inbound: unknown[], base: J = {}): void {
    if (this.byName.has(name)) throw new Error(`duplicate layer ${name}`);
    const entry: J =
      this.style === 3
        ? { module: "keras.layers", class_name: cls, ...base, config, registered_name: null, name, inbound_nodes: inbound }
        : { class_name: cls, ...base, config, name, inbound_nodes: inbound };
    this.layers.push(entry);
    this.byName.set(name, entry);
  }
}

const conv = (filters: number, k: number, o: J = {}) => ({
  filters,
  kernel_size: [k, k],
  strides: [1, 1],
  padding: "valid",
  data_format: "channels_last",
  dilation_rate: [1, 1],
  groups: 1,
  activation: "linear",
  use_bias: true,
  ...o,
});
const bn = (o: J = {}) => ({ axis: -1, momentum: 0.99, epsilon: 0.001, center: true, scale: true, ...o });

/** keras.applications.VGG16(include_top=True): 138,357,544 parameters. */
export function vgg16(style: 2 | 3 = 2): J {
  const m = new KerasConfig("vgg16", style);
  let x = m.input("input_1", [null, 224, 224, 3]);
  const blocks = [
    [64, 2],
    [128, 2],
    [256, 3],
    [512, 3],
    [512, 3],
  ];
  blocks.forEach(([filters, n], b) => {
    for (let i = 1; i <= n; i++)
      x = m.layer("Conv2D", `block${b + 1}_conv${i}`, conv(filters, 3, { padding: "same", activation: "relu" }), x);
    x = m.layer(
      "MaxPooling2D",
      `block${b + 1}_pool`,
      { pool_size: [2, 2], padding: "valid", strides: [2, 2], data_format: "channels_last" },
      x,
    );
  });
  x = m.layer("Flatten", "flatten", { data_format: "channels_last" }, x);
  x = m.layer("Dense", "fc1", { units: 4096, activation: "relu", use_bias: true }, x);
  x = m.layer("Dense", "fc2", { units: 4096, activation: "relu", use_bias: true }, x);
  x = m.layer("Dense", "predictions", { units: 1000, activation: "softmax", use_bias: true }, x);
  return m.build([x]);
}

/** keras.applications.ResNet50(include_top=True) (ResNet v1: stride on the first 1×1 conv of a stage). */
export function resnet50(style: 2 | 3 = 2): J {
  const m = new KerasConfig("resnet50", style);
  const bnr = { axis: 3, epsilon: 1.001e-5 };
  let x = m.input("input_1", [null, 224, 224, 3]);
  x = m.layer(
    "ZeroPadding2D",
    "conv1_pad",
    {
      padding: [
        [3, 3],
        [3, 3],
      ],
      data_format: "channels_last",
    },
    x,
  );
  x = m.layer("Conv2D", "conv1_conv", conv(64, 7, { strides: [2, 2] }), x);
  x = m.layer("BatchNormalization", "conv1_bn", bn(bnr), x);
  x = m.layer("Activation", "conv1_relu", { activation: "relu" }, x);
  x = m.layer(
    "ZeroPadding2D",
    "pool1_pad",
    {
      padding: [
        [1, 1],
        [1, 1],
      ],
      data_format: "channels_last",
    },
    x,
  );
  x = m.layer("MaxPooling2D", "pool1_pool", { pool_size: [3, 3], padding: "valid", strides: [2, 2], data_format: "channels_last" }, x);
  const block = (input: Ref, filters: number, stride: number, shortcutConv: boolean, name: string): Ref => {
    let shortcut = input;
    if (shortcutConv) {
      shortcut = m.layer("Conv2D", `${name}_0_conv`, conv(4 * filters, 1, { strides: [stride, stride] }), input);
      shortcut = m.layer("BatchNormalization", `${name}_0_bn`, bn(bnr), shortcut);
    }
    let y = m.layer("Conv2D", `${name}_1_conv`, conv(filters, 1, { strides: [stride, stride] }), input);
    y = m.layer("BatchNormalization", `${name}_1_bn`, bn(bnr), y);
    y = m.layer("Activation", `${name}_1_relu`, { activation: "relu" }, y);
    y = m.layer("Conv2D", `${name}_2_conv`, conv(filters, 3, { padding: "SAME" }), y);
    y = m.layer("BatchNormalization", `${name}_2_bn`, bn(bnr), y);
    y = m.layer("Activation", `${name}_2_relu`, { activation: "relu" }, y);
    y = m.layer("Conv2D", `${name}_3_conv`, conv(4 * filters, 1), y);
    y = m.layer("BatchNormalization", `${name}_3_bn`, bn(bnr), y);
    y = m.layer("Add", `${name}_add`, {}, [shortcut, y]);
    return m.layer("Activation", `${name}_out`, { activation: "relu" }, y);
  };
  const stacks: [number, number, number, string][] = [
    [64, 3, 1, "conv2"],
    [128, 4, 2, "conv3"],
    [256, 6, 2, "conv4"],
    [512, 3, 2, "conv5"],
  ];
  for (const [filters, blocks, stride, name] of stacks) {
    x = block(x, filters, stride, true, `${name}_block1`);
    for (let i = 2; i <= blocks; i++) x = block(x, filters, 1, false, `${name}_block${i}`);
  }
  x = m.layer("GlobalAveragePooling2D", "avg_pool", { data_format: "channels_last", keepdims: false }, x);
  x = m.layer("Dense", "predictions", { units: 1000, activation: "softmax", use_bias: true }, x);
  return m.build([x]);
}

/** keras.applications.MobileNet(alpha=1.0, include_top=True), as Keras 3 writes it (keepdims pooling). */
export function mobilenet(style: 2 | 3 = 3): J {
  const m = new KerasConfig("mobilenet_1.00_224", style);
  let x = m.input("input_layer", [null, 224, 224, 3]);
  x = m.layer("Conv2D", "conv1", conv(32, 3, { padding: "same", strides: [2, 2], use_bias: false }), x);
  x = m.layer("BatchNormalization", "conv1_bn", bn(), x);
  x = m.layer("ReLU", "conv1_relu", { max_value: 6.0, negative_slope: 0.0, threshold: 0.0 }, x);
  const blocks = MOBILENET_V1_BLOCKS;
  blocks.forEach(([filters, stride], i) => {
    const id = i + 1;
    if (stride === 2)
      x = m.layer(
        "ZeroPadding2D",
        `conv_pad_${id}`,
        {
          padding: [
            [0, 1],
            [0, 1],
          ],
          data_format: "channels_last",
        },
        x,
      );
    const dw = {
      kernel_size: [3, 3],
      strides: [stride, stride],
      padding: stride === 1 ? "same" : "valid",
      data_format: "channels_last",
      dilation_rate: [1, 1],
      depth_multiplier: 1,
      activation: "linear",
      use_bias: false,
    };
    x = m.layer("DepthwiseConv2D", `conv_dw_${id}`, dw, x);
    x = m.layer("BatchNormalization", `conv_dw_${id}_bn`, bn(), x);
    x = m.layer("ReLU", `conv_dw_${id}_relu`, { max_value: 6.0, negative_slope: 0.0, threshold: 0.0 }, x);
    x = m.layer("Conv2D", `conv_pw_${id}`, conv(filters, 1, { padding: "same", use_bias: false }), x);
    x = m.layer("BatchNormalization", `conv_pw_${id}_bn`, bn(), x);
    x = m.layer("ReLU", `conv_pw_${id}_relu`, { max_value: 6.0, negative_slope: 0.0, threshold: 0.0 }, x);
  });
  x = m.layer("GlobalAveragePooling2D", "global_average_pooling2d", { data_format: "channels_last", keepdims: true }, x);
  x = m.layer("Dropout", "dropout", { rate: 0.001, seed: null, noise_shape: null }, x);
  x = m.layer("Conv2D", "conv_preds", conv(1000, 1, { padding: "same" }), x);
  x = m.layer("Reshape", "reshape_2", { target_shape: [1000] }, x);
  x = m.layer("Activation", "predictions", { activation: "softmax" }, x);
  return m.build([x]);
}

/**
 * Reads a config through content detection and analyses it: the graph, the report, a layer
 * by name (failing with the names there are) and the IR shape of a tensor by name.
 */
export function analyzeConfig(config: object): {
  g: Graph;
  r: Report;
  layer(name: string): LayerReport;
  tensorShape(name: string): unknown;
} {
  const g = readModel(bufferSource("model.json", new TextEncoder().encode(JSON.stringify(config))));
  const r = analyze(g);
  const layer = (name: string) => {
    const l = r.layers.find((x) => x.name === name);
    assert.ok(l, `no layer ${name} (have ${r.layers.map((x) => x.name).join(", ")})`);
    return l;
  };
  return { g, r, layer, tensorShape: (name: string) => r.tensors[name]?.shape };
}
