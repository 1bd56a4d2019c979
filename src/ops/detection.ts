import { numel, symProduct } from "../core/shape.js";
import { dtypeOf } from "./args.js";
import { cost, type Field, inputShape, layerError, type OpRule, type RuleContext } from "./rule.js";

/**
 * Detection heads as SSD and Faster R-CNN write them (Caffe's SSD fork; OpenVINO keeps the
 * same op names): prior boxes, box decoding + NMS, and region-of-interest max pooling.
 * None of them multiplies-accumulates; what they do that depends on the data (how many
 * boxes survive NMS, how large each ROI is) is not counted, and each says so below.
 */

/**
 * PriorBox: the anchor boxes of one feature map, [1, 2, H·W·P·4] (boxes, then variances),
 * P priors per position. P = |aspect ratios|·|min sizes| + |max sizes|, the aspect ratios
 * being 1, then each listed ratio not already present (and its inverse with `flip`), as
 * Caffe SSD's prior_box_layer.cpp builds them. The boxes follow from the sizes alone, not
 * from the pixels: no arithmetic is counted on the data and the output depends on no pixel.
 */
export const priorBox: OpRule = {
  types: ["PriorBox"],
  family: "detection",
  infer(ctx) {
    const x = inputShape(ctx, 0);
    if (!x) return [{ dtype: "float32" }];
    if (x.length !== 4) layerError(ctx, `PriorBox needs a 4-d feature map, got ${x.length}-d`);
    const p = priorsPerPosition(floats(ctx, "min_size").length, floats(ctx, "max_size").length, aspectRatios(ctx));
    if (p <= 0) layerError(ctx, "PriorBox needs at least one min_size");
    return [{ dtype: "float32", shape: [1, 2, symProduct([x[2], x[3], p * 4])] }];
  },
  field(): Field {
    return { kind: "global" };
  },
};

function aspectRatios(ctx: RuleContext): number[] {
  const listed = floats(ctx, "aspect_ratio");
  const flip = ctx.attrs.int("flip", 1) === 1;
  const ars = [1];
  for (const ar of listed) {
    if (ars.some((a) => Math.abs(a - ar) < 1e-6)) continue;
    ars.push(ar);
    if (flip) ars.push(1 / ar);
  }
  return ars;
}

/** Priors per feature-map position: every aspect ratio per min size, plus one per max size. */
export function priorsPerPosition(minSizes: number, maxSizes: number, ars: number[]): number {
  return ars.length * minSizes + maxSizes;
}

/** A list attribute of positive numbers (sizes, ratios; not necessarily integers). */
function floats(ctx: RuleContext, name: string): number[] {
  const raw = ctx.node.attrs[name] ?? [];
  const list = typeof raw === "number" ? [raw] : raw;
  if (!Array.isArray(list) || !list.every((r) => typeof r === "number" && r > 0)) {
    layerError(ctx, `${name} must be a list of positive numbers`);
  }
  return list as number[];
}

/**
 * DetectionOutput: decodes the location predictions against the priors, keeps boxes whose
 * confidence passes the threshold, runs NMS per class and keeps the best `keep_top_k` per
 * image: [1, 1, D, 7] (image, label, score, box). D depends on the data; the shape given is
 * its upper bound N·keep_top_k. Counted: one comparison per confidence (the threshold
 * test); box decoding is a few operations per prior and NMS depends on how many boxes
 * survive — neither is counted. Inputs: loc [N, P·4], conf [N, P·classes], priors [1, 2, P·4].
 */
export const detectionOutput: OpRule = {
  types: ["DetectionOutput"],
  family: "detection",
  infer(ctx) {
    const loc = inputShape(ctx, 0);
    const n = loc?.[0];
    const keep = ctx.attrs.int("keep_top_k", -1);
    const conf = inputShape(ctx, 1);
    const classes = ctx.attrs.int("num_classes");
    // keep_top_k −1 keeps everything: every prior of every class.
    const perImage = keep > 0 ? keep : conf && conf.length >= 2 ? symProduct(conf.slice(1)) : undefined;
    if (n === undefined || perImage === undefined) return [{ dtype: dtypeOf(ctx) }];
    if (classes <= 0) layerError(ctx, `num_classes must be positive, got ${classes}`);
    return [{ dtype: dtypeOf(ctx), shape: [1, 1, symProduct([n, perImage]), 7] }];
  },
  cost(ctx) {
    const conf = inputShape(ctx, 1);
    const n = conf ? numel(conf) : null;
    return n === null ? null : cost({ cmp: n });
  },
  field(): Field {
    return { kind: "global" };
  },
};

/**
 * MaxRoiPool (ONNX; Caffe's ROIPooling): each ROI [batch index, x1, y1, x2, y2] is scaled by
 * `spatial_scale`, split into pooled_h × pooled_w bins, and each bin max-pooled:
 * [R, C, pooled_h, pooled_w]. When the number of ROIs is unknown (they come from a
 * proposal layer convscope does not know) it stays the symbol `rois`, so the layers after
 * still have their channel and bin sizes. The comparisons inside a bin depend on each ROI's
 * size, which is data: not counted. Every output sees a box anywhere in the image: global.
 */
export const maxRoiPool: OpRule = {
  types: ["MaxRoiPool"],
  // Not "pool": it has no sliding window for the pooling formulas to read.
  family: "detection",
  infer(ctx) {
    const x = inputShape(ctx, 0);
    const rois = ctx.inputs[1]?.shape;
    const [ph, pw] = ctx.attrs.ints("pooled_shape");
    if (!(ph > 0 && pw > 0)) layerError(ctx, "pooled_shape must be two positive sizes");
    if (!x) return [{ dtype: dtypeOf(ctx) }];
    if (x.length !== 4) layerError(ctx, `MaxRoiPool needs a 4-d input, got ${x.length}-d`);
    if (rois && (rois.length !== 2 || (typeof rois[1] === "number" && rois[1] !== 5))) {
      layerError(ctx, `rois must be [num_rois, 5], got [${rois.join(", ")}]`);
    }
    return [{ dtype: dtypeOf(ctx), shape: [rois?.[0] ?? "rois", x[1], ph, pw] }];
  },
  field(): Field {
    return { kind: "global" };
  },
};
