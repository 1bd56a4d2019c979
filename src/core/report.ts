import type { DType } from "./dtype.js";
import type { Shape } from "./shape.js";

/**
 * The analysis result as plain data: what every renderer and front end reads. Counts
 * are exact integers; `null` means unknown (an unbound symbolic dim, an unknown op).
 * Compute and activation figures are per image; `batch` holds the whole-batch ones.
 */
export interface Report {
  model: { name: string; format: string; file?: string; file_bytes?: number };
  /** The convention `macs`-style headline numbers follow. */
  convention: string;
  /** Batch size of the analysed graph (first dim of the first input). */
  batch: number;
  inputs: { name: string; shape: Shape; dtype: DType }[];
  outputs: { name: string; shape?: Shape }[];
  layers: LayerReport[];
  /**
   * Every non-constant tensor by name, in the order the analysis met them. A report from
   * analyze() makes this table when it is first read; tensorOf and tensorEntries give one
   * entry, or each in turn, without making it.
   */
  tensors: Record<string, TensorReport>;
  totals: Totals;
  /** Whole-batch figures (equal to totals when batch is 1). */
  batch_totals: {
    macs: number | null;
    flops: number | null;
    /** Every convention for the whole batch (what thop and Netscope print for a batched input). */
    by_convention: Record<string, number | null>;
    activation_bytes: number | null;
    peak_activation_bytes: number | null;
    peak_activation_bytes_min_order: number | null;
  };
  /** `approximated`: which layers' counts the file cannot make exact (module types unknown …) and why. */
  conventions: { name: string; used: string; includes: string; value: number | null; approximated?: string }[];
  /** Dims left symbolic: numbers that depend on them are null. */
  symbols: string[];
  notes: string[];
  warnings: string[];
  /** The module tree, when asked (`analyze(g, { modules: true })`, `--depth N`): see analysis/modules.ts. */
  modules?: ModuleReport[];
}

/** One module of the tree: the sums of the layers written inside it (per image, like the layer rows). */
export interface ModuleReport {
  /** Full path (`layer1.0`, `model/block_1`). */
  path: string;
  /** Last segment of the path (`0` of `layer1.0`). */
  name: string;
  /** The module's class when the file says it (`BasicBlock`). */
  type?: string;
  /** 1 = top level. */
  depth: number;
  parent: string | null;
  /** Layers inside it at any depth. */
  layers: number;
  /** Rows of `layers` whose innermost module this is. */
  own_layers: number[];
  /** First and last row of its layers. */
  first?: number;
  last?: number;
  /** Elements of the distinct weights its layers use (a shared weight counts once). */
  params: number | null;
  trainable_params: number | null;
  macs: number | null;
  flops: number | null;
  value: number | null;
  by_convention: Record<string, number | null>;
  /** Sum of its layers' output bytes. */
  activation_bytes: number | null;
  /** Bytes its layers' outputs hold at the file-order peak. */
  peak_live_bytes: number | null;
  /** Its `value` over the total's, 0…1. */
  share: number | null;
  /** The last tensor it hands out, and that tensor's receptive field. */
  output?: string;
  rf?: FieldJson;
}

export interface LayerReport {
  name: string;
  op: string;
  /** The op as the file names it, when it differs from `op`. */
  source?: string;
  family: string;
  /** `unknown`: convscope has no rule for this op and counted nothing for it. */
  status: "ok" | "unknown";
  inputs: string[];
  outputs: string[];
  params: number | null;
  trainable_params: number | null;
  macs: number | null;
  flops: number | null;
  seed: number | null;
  /** The headline number in the report's convention. */
  value: number | null;
  /** The layer in every convention (per image). */
  by_convention: Record<string, number | null>;
  cost: { macs: number; bias: number; add: number; mul: number; div: number; exp: number; cmp: number } | null;
  activation_bytes: number | null;
  /** A loop body's layer: how many times it runs (its counts above include every run), null when unknown (they are one run's). */
  repeats?: number | null;
  /**
   * In a branch of an If whose condition is known only at run time, when the totals count the
   * other, costlier branch: that branch (`IfNode/else`). Its counts above are its own.
   */
  uncounted_branch?: string;
}

/**
 * A receptive field per image axis (H, W …): unit u sees input pixels u·S − P … u·S − P + r − 1.
 * Strides and paddings that are not integers (after up-sampling) are exact strings like "1/2".
 */
export interface AxisFieldJson {
  size: number[];
  stride: (number | string)[];
  padding: (number | string)[];
  /**
   * Present when the field differs by output phase (after up-sampling): per axis, for
   * φ = u mod period, unit u sees u·S − padding[φ] … u·S − padding[φ] + size[φ] − 1.
   * The summary `size` is the largest phase's, `padding` phase 0's. A phase that reads no
   * pixel at all (the holes of a transposed conv whose stride exceeds its kernel) has size 0
   * and padding null.
   */
  phases?: { period: number; size: number[]; padding: (number | string | null)[] }[];
}

export type FieldJson =
  | (AxisFieldJson & { aligned: boolean; unknown?: true })
  | { global: true; local?: AxisFieldJson; aligned: boolean; unknown?: true };

/** Where a tensor's (local) fields fall on the image (input-size aware; phase-0 unit for the centre). */
export interface FieldRegion {
  /** Units along each image axis (the tensor's dims that run along H, W …, whatever its layout). */
  units: number[];
  /** Centre offset of unit 0 per axis: (r − 1)/2 − P. */
  centre: (number | string)[];
  /** Units whose whole field lies inside the image, per axis (first and last index), or null when none. */
  valid: { start: number[]; end: number[] } | null;
  /** Share of the corner unit's (unit 0's) field that falls on padding, 0…1. */
  corner_padding_share: number;
  /**
   * Per axis, the first and last image pixel that at least one unit really reads (a window
   * reaching past its input's last unit reads nothing there); pixels outside are seen by no
   * unit; start > end on an axis where no unit reads any pixel. Absent when not known (a loop
   * on the path, an image size not bound).
   */
  reads?: {
    start: number[];
    end: number[];
    /** The units that read any pixel at all, per axis (first and last); the others see nothing. */
    units_start: number[];
    units_end: number[];
  };
}

export interface TensorReport {
  shape?: Shape;
  dtype: DType;
  bytes: number | null;
  producer?: string;
  rf?: FieldJson;
  rf_region?: FieldRegion;
}

export interface Totals {
  /** Null when some weight's size is unknown (`known.params` holds the known part). */
  params: number | null;
  trainable_params: number | null;
  non_trainable_params: number | null;
  /** Parameter bytes in the dtype asked for (`--dtype`, default fp32). */
  param_bytes: number | null;
  param_dtype: string;
  /** Parameter bytes in the file's own storage types. */
  stored_param_bytes: number | null;
  /** Those bytes per storage dtype of the file (`float32`, `float16`, …). */
  stored_param_bytes_by_dtype: Record<string, number>;
  /** Parameter bytes if every parameter were stored as fp32, fp16, bf16, int8 or int4 (without quantization scales). */
  size_bytes: Record<"fp32" | "fp16" | "bf16" | "int8" | "int4", number | null>;
  /** Elements of quantization scales and zero points (QDQ and QOperator graphs), not parameters; present when there are any. */
  quant_params?: number;
  /** Their bytes in the file's storage types. */
  quant_param_bytes?: number;
  macs: number | null;
  flops: number | null;
  seed: number | null;
  /** The headline number in the report's convention. */
  value: number | null;
  by_convention: Record<string, number | null>;
  /** Sum of every layer's output bytes (what Netscope calls memory; an over-estimate of need). */
  activation_bytes: number | null;
  input_bytes: number | null;
  /** Peak of live activations (inputs included) in the file's execution order. */
  peak_activation_bytes: number | null;
  peak_layer?: string;
  peak_live?: string[];
  /** Peak in the file's order with the graph inputs owned by the caller (not counted). */
  peak_activation_bytes_without_input: number | null;
  /** Peak in a memory-minimising execution order (inputs included; never above the file order's). */
  peak_activation_bytes_min_order: number | null;
  peak_layer_min_order?: string;
  peak_live_min_order?: string[];
  /** Training memory, whole batch, when asked (`--train`). */
  training_bytes?: TrainingReport;
  layers: number;
  unknown_layers: number;
  /** "partial: N layers of types X, Y not counted", when some op is unknown. */
  partial?: string;
  /**
   * Present when some exact total above is null because part of the graph could not be
   * counted (unknown ops, unknown dims): what the known part sums to — a lower bound — and,
   * per figure, what it leaves out.
   */
  known?: KnownTotals;
}

/** The counted part of totals that are null (see `Totals.known`); every figure is a lower bound. */
export interface KnownTotals {
  params: number;
  trainable_params: number;
  macs: number;
  flops: number;
  seed: number;
  value: number;
  by_convention: Record<string, number>;
  activation_bytes: number;
  /**
   * For each figure whose exact total is null (`params`, `trainable_params`, `value`,
   * `activation_bytes`, or a convention name such as `macs`): the layers it does not count, e.g.
   * "3 layers of type Python not counted".
   */
  missing: Record<string, string>;
}

/** Training-memory estimate for one step, whole batch, in bytes (see analysis/training.ts for what each part holds). */
export interface TrainingReport {
  optimizer: "sgd" | "momentum" | "adam";
  precision: "fp32" | "mixed-fp16" | "mixed-bf16";
  /** Images per step (the analysed graph's batch). */
  batch: number;
  total: number | null;
  /** Trainable weights (fp32; plus a half-precision working copy under mixed precision) and fp32 buffers; null when a weight's size is unknown. */
  weights: number | null;
  /** One gradient per trainable weight (fp32, or half precision under mixed precision). */
  gradients: number | null;
  /** fp32 optimizer state: SGD none, momentum one buffer, Adam two moments. */
  optimizer_state: number | null;
  /** Activations saved for the backward pass, each tensor once, plus pooling indices, dropout masks and norm statistics. */
  activations: number | null;
  /** The largest of the four parts. */
  dominant: "weights" | "gradients" | "optimizer_state" | "activations" | null;
}

/** A report's tensor entries made on demand: one by name, or all in the table's order (see setTensorSource). */
export interface TensorSource {
  get(name: string): TensorReport | undefined;
  entries(): Iterable<[string, TensorReport]>;
}

const sources = new WeakMap<Report, TensorSource>();

/**
 * Lets tensorOf and tensorEntries make a report's tensor entries as they are asked for. The
 * analysis makes the `tensors` table only when it is first read: a 100,000-node graph's is
 * 100,000 entries with their fields' JSON, which the garbage collector would otherwise copy
 * and keep to the end of the run. The table, CSV and Markdown show one tensor per row, and
 * the JSON report writes each entry as it is made: neither needs the table. Once the table
 * exists, the report drops its source (`undefined`) and both read the table.
 */
export function setTensorSource(r: Report, source: TensorSource | undefined): void {
  if (source) sources.set(r, source);
  else sources.delete(r);
}

/** The report's entry for one tensor: `r.tensors[name]`, without making the table when the report can. */
export function tensorOf(r: Report, name: string): TensorReport | undefined {
  const source = sources.get(r);
  if (source) return source.get(name);
  return Object.hasOwn(r.tensors, name) ? r.tensors[name] : undefined;
}

/** The report's tensor entries in the order of `r.tensors`, without making the table when the report can. */
export function* tensorEntries(r: Report): Generator<[string, TensorReport]> {
  const source = sources.get(r);
  if (source) {
    yield* source.entries();
    return;
  }
  const table = r.tensors ?? {};
  for (const name of Object.keys(table)) yield [name, table[name]];
}
