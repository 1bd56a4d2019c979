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
  /**
   * The file itself declares this tensor a learned weight or buffer (a Caffe blob, a Keras
   * weight, a `.pt2` parameter or buffer): a parameter whatever its size, never taken for a
   * literal (Caffe's channel-shared Normalize scale is one learned element).
   */
  learned?: boolean;
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
  /**
   * The control-flow regions the node lies in, outermost first, when a reader inlined a
   * subgraph (an ONNX If branch, a Loop or Scan body). The analysis keeps only the taken
   * branch of an If whose condition is known, counts the costliest branch of one whose
   * condition is not, and repeats a loop body's cost by its trip count.
   */
  region?: readonly Region[];
}

/**
 * One level of control flow around a node. `node` names the layer that joins the region's
 * results (the `If`, `Loop` or `Scan` layer).
 * - `branch`: runs when tensor `cond` (a boolean scalar) equals `when`.
 * - `loop`: runs `trips` times: the value of scalar tensor `trips.tensor`, or its dim
 *   `trips.axis`; `enter` is a boolean scalar that must be true for any iteration to run.
 *   Without `trips`, `why` says why the count cannot be known.
 */
export type Region =
  | { kind: "branch"; node: string; branch: string; cond: string; when: boolean }
  | { kind: "loop"; node: string; trips?: { tensor: string; axis?: number }; enter?: string; why?: string };

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
  /**
   * Inputs the file declares channels-last (NHWC), shown channels-first: `--input` may give
   * their shape in either order. Unset: every input of a channels-last Keras model, else none.
   */
  channelsLastInputs?: string[];
  /** What the reader had to work around (a file its own framework would refuse), shown as warnings. */
  warnings?: string[];
}
