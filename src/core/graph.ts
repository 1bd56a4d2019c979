import type { DType } from "./dtype.js";
import type { Shape } from "./shape.js";

/**
 * The core IR: a DAG of nodes joined by named tensors. Readers build it from a file,
 * the builder builds it from code; analysis passes read it and never change it.
 *
 * Op types and attribute names are canonical and follow ONNX (`Conv` with
 * `kernel_shape`, `strides`, `pads`, `dilations`, `group`; layout NCHW): every reader
 * translates its own vocabulary into these, so each formula is written once.
 */

/** Where a stored tensor's bytes live. Payloads are read only when a value is needed. */
export interface Initializer {
  /** Bytes the payload takes in its file (0 when the file does not hold it). */
  byteLength: number;
  /** `inline`: in the model file; `external`: in another file; `absent`: not stored (built in code). */
  location: "inline" | "external" | "absent";
  /** The file of an external payload, relative to the model. */
  externalFile?: string;
  /** Decodes the elements on demand (shape constants only; weights are never read). */
  read?: () => readonly number[];
  /** False for buffers that training does not update (batch-norm running statistics). */
  trainable?: boolean;
  /**
   * The integers stand for real numbers through a scale and zero point (TFLite int8 weights,
   * their int32 biases, uint8-quantized TF.js weights): parameters, unlike integer shape constants.
   */
  quantized?: boolean;
}

export interface Tensor {
  name: string;
  dtype: DType;
  /** Declared shape (graph inputs, initializers, value_info); passes infer the rest. */
  shape?: Shape;
  /** Set for stored constants: weights, biases, shape constants. */
  initializer?: Initializer;
  /** Element values known without reading a file (small constants made by a reader or the builder). */
  value?: readonly number[];
}

export type AttrValue = number | string | boolean | readonly number[] | readonly string[] | Tensor | Graph;

export interface Node {
  /** Unique, human-readable layer name. */
  name: string;
  /** Canonical op type (ONNX vocabulary). */
  op: string;
  /** The op as the file calls it (`Convolution`, `CONV_2D`), when it differs. */
  source?: string;
  /** Input tensor names by position; `""` marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
  /**
   * The module hierarchy the layer was written in, outermost first, when the file says it
   * (a `.pt2`'s `nn_module_stack`, dynamo ONNX `metadata_props`, Keras nested models):
   * `path` is the module's full dotted path (`layer1.0.conv1`), `type` its class (`Conv2d`).
   */
  module?: ModuleFrame[];
  /** Per-node metadata the file carries as key/value strings (ONNX `metadata_props`). */
  meta?: Record<string, string>;
}

export interface ModuleFrame {
  path: string;
  type?: string;
}

export interface Graph {
  name: string;
  /** `builder`, `spec`, `onnx`, `caffe`, … */
  format: string;
  /** Path of the file it was read from. */
  file?: string;
  /** Size of that file in bytes. */
  fileBytes?: number;
  /** ONNX default-domain opset the rules should follow. */
  opset?: number;
  /** Graph input tensor names (constants excluded). */
  inputs: string[];
  outputs: string[];
  /** Nodes in the file's order (not necessarily topological). */
  nodes: Node[];
  tensors: Map<string, Tensor>;
  /** Things the reader wants the user to know (weights file not read, defaults assumed…). */
  notes: string[];
  /** What the reader had to work around (a file its own framework would refuse), shown as warnings. */
  warnings?: string[];
}
