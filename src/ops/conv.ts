import { mul, numel } from "../core/shape.js";
import { type Cost, cost, inputShape, layerError, type OpRule, type RuleContext } from "./rule.js";
import { readWindow, spatialOf, type Window, windowField, windowOutputs } from "./window.js";

/** Convolution: inputs X [N, C, …], W [M, C/group, k…], optional B [M]. */
function convWindow(ctx: RuleContext): { w: Window; x: (number | string)[]; wShape: (number | string)[] } {
  const x = inputShape(ctx, 0);
  const wShape = inputShape(ctx, 1);
  if (!x || !wShape) layerError(ctx, "input or weight shape is unknown");
  const spatial = spatialOf(ctx, x);
  if (wShape.length !== x.length) layerError(ctx, `weight rank ${wShape.length} does not match input rank ${x.length}`);
  const kernelFromW = wShape.slice(2);
  const kernel = ctx.attrs.ints(
    "kernel_shape",
    kernelFromW.map((k) => (typeof k === "number" ? k : layerError(ctx, "kernel size is unknown"))),
  );
  if (kernel.length !== spatial.length) layerError(ctx, `kernel_shape has ${kernel.length} axes, input has ${spatial.length}`);
  return { w: readWindow(ctx, ctx.attrs, kernel, spatial), x, wShape };
}

export const conv: OpRule = {
  types: ["Conv"],
  family: "conv",
  infer(ctx) {
    const { w, x, wShape } = convWindow(ctx);
    const group = ctx.attrs.int("group", 1);
    const [n, c] = x;
    const [m, cPerGroup] = wShape;
    if (group <= 0) layerError(ctx, `group must be positive, got ${group}`);
    if (typeof c === "number" && typeof cPerGroup === "number" && c !== cPerGroup * group) {
      layerError(ctx, `input has ${c} channels but weight expects ${cPerGroup}×${group} (group ${group})`);
    }
    if (typeof m === "number" && m % group !== 0) layerError(ctx, `${m} output channels are not divisible by group ${group}`);
    const b = ctx.inputs[2];
    if (b?.shape && b.shape.length === 1 && typeof b.shape[0] === "number" && b.shape[0] !== m) {
      layerError(ctx, `bias has ${b.shape[0]} elements, expected ${m}`);
    }
    return [{ dtype: ctx.inputs[0]?.dtype ?? "float32", shape: [n, m, ...windowOutputs(ctx, w, x.slice(2))] }];
  },
  cost(ctx) {
    const out = ctx.outputs[0].shape;
    const wShape = inputShape(ctx, 1);
    if (!out || !wShape) return null;
    const outN = numel(out);
    const perOut = numel(wShape.slice(1)); // (C/group)·Πk
    if (outN === null || perOut === null) return null;
    return convCost(outN, perOut, ctx.inputs[2] !== undefined);
  },
  field(ctx) {
    return windowField(ctx, convWindow(ctx).w);
  },
};

/** MACs = outputs · (C_in/group)·Πk; seed = (Πk·C_in/group + 1) · outputs. */
export function convCost(outputs: number, perOutput: number, hasBias: boolean): Cost {
  return cost({ macs: mul(outputs, perOutput), bias: hasBias ? outputs : 0, seed: mul(outputs, perOutput + 1) });
}
