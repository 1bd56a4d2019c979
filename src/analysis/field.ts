import type { Shape } from "../core/shape.js";
import type { Field } from "../ops/index.js";
import type { LayerState } from "./shapes.js";

/**
 * Receptive field per spatial axis: unit u of a tensor sees input indices
 * u·S − P … u·S − P + r − 1 (rules in shared/notes/receptive-field.md).
 */
export interface AxisField {
  r: number;
  s: number;
  p: number;
}

export interface TensorField {
  /** The field of the convolutional path; absent when the tensor has no spatial axes left. */
  local?: AxisField[];
  /** Every unit depends on every input position (global pooling, FC, SE gating). */
  global: boolean;
  /** False when a merge joined paths whose strides or centres differ. */
  aligned: boolean;
  /** Some path runs through an op convscope does not know: the field is a lower bound at best. */
  unknown?: boolean;
}

export interface FieldResult {
  fields: Map<string, TensorField>;
  warnings: string[];
}

/**
 * Walks the graph tensor by tensor in topological order, so every path into a merge has
 * been computed before the merge is (never layer-list order, which breaks on residual nets).
 */
export function receptiveFields(inputs: string[], layers: LayerState[], shapes: Map<string, { shape?: Shape }>): FieldResult {
  const fields = new Map<string, TensorField>();
  const warnings: string[] = [];
  for (const name of inputs) {
    const shape = shapes.get(name)?.shape;
    if (shape && shape.length >= 3) {
      fields.set(name, { local: shape.slice(2).map(() => ({ r: 1, s: 1, p: 0 })), global: false, aligned: true });
    }
  }

  for (const layer of layers) {
    const { node, ctx } = layer;
    const ins = node.inputs.map((n) => fields.get(n));
    if (ins.every((f) => f === undefined)) continue;
    const outShape = ctx.outputs[0]?.shape;
    let out: TensorField;
    if (!layer.rule) {
      out = { ...merge(ins.filter((f) => f !== undefined) as TensorField[]), unknown: true };
    } else {
      const field: Field = layer.rule.field ? layer.rule.field(ctx) : { kind: "pointwise" };
      out = apply(field, layer, ins, warnings);
    }
    // A tensor without spatial axes (after flatten, FC) depends on all positions.
    if (out.local && (!outShape || outShape.length - 2 !== out.local.length)) {
      out = { ...out, local: undefined, global: true };
    }
    for (const o of node.outputs) if (o !== "") fields.set(o, out);
  }
  return { fields, warnings };
}

function apply(field: Field, layer: LayerState, ins: (TensorField | undefined)[], warnings: string[]): TensorField {
  if (field.kind === "global") {
    const any = ins.filter((f) => f !== undefined) as TensorField[];
    return { global: true, aligned: any.every((f) => f.aligned), unknown: any.some((f) => f.unknown) || undefined };
  }
  if (field.kind === "window") {
    const x = ins[0];
    if (!x) return merge(ins.filter((f) => f !== undefined) as TensorField[]);
    const local = x.local?.map((a, i) => {
      const keff = field.dilation[i] * (field.kernel[i] - 1) + 1;
      return { r: a.r + (keff - 1) * a.s, s: a.s * field.stride[i], p: a.p + field.padBegin[i] * a.s };
    });
    return { ...x, local };
  }
  // Pointwise: a merge of every spatial input. An input broadcast over the spatial axes
  // (an SE gate of shape N×C×1×1) brings global context but no local geometry.
  const outShape = layer.ctx.outputs[0]?.shape;
  const parts: TensorField[] = [];
  ins.forEach((f, i) => {
    if (!f) return;
    const inShape = layer.ctx.inputs[i]?.shape;
    if (f.local && outShape && inShape && isSpatialBroadcast(inShape, outShape)) {
      parts.push({ global: true, aligned: f.aligned, unknown: f.unknown });
    } else parts.push(f);
  });
  return merge(parts, layer.node.name, warnings);
}

function isSpatialBroadcast(inShape: Shape, outShape: Shape): boolean {
  const a = inShape.slice(2);
  const b = outShape.slice(2);
  return a.length === b.length && a.every((d) => d === 1) && b.some((d) => d !== 1);
}

/**
 * Joins paths at a merge. Aligned (same S and centre offset (r−1)/2 − P on an axis): the
 * largest field. Otherwise the union of the intervals unit 0 sees, and `aligned: false`.
 */
function merge(parts: TensorField[], node?: string, warnings?: string[]): TensorField {
  const global = parts.some((p) => p.global);
  let aligned = parts.every((p) => p.aligned);
  const unknown = parts.some((p) => p.unknown) || undefined;
  const locals = parts.map((p) => p.local).filter((l) => l !== undefined) as AxisField[][];
  if (locals.length === 0) return { global, aligned, unknown };
  const rank = locals[0].length;
  if (locals.some((l) => l.length !== rank)) return { global: true, aligned, unknown };
  const local: AxisField[] = [];
  for (let axis = 0; axis < rank; axis++) {
    const fs = locals.map((l) => l[axis]);
    const ok = fs.every((f) => f.s === fs[0].s && centre(f) === centre(fs[0]));
    if (ok) {
      local.push(fs.reduce((a, b) => (b.r > a.r ? b : a)));
      continue;
    }
    aligned = false;
    warnings?.push(
      `receptive field: paths merged at '${node}' are not aligned on axis ${axis} (strides ${fs.map((f) => f.s).join(", ")}; centres ${fs.map(centre).join(", ")})`,
    );
    const start = Math.min(...fs.map((f) => -f.p));
    const end = Math.max(...fs.map((f) => f.r - 1 - f.p));
    local.push({ r: end - start + 1, s: Math.max(...fs.map((f) => f.s)), p: -start });
  }
  return { local, global, aligned, unknown };
}

function centre(f: AxisField): number {
  return (f.r - 1) / 2 - f.p;
}
