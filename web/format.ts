import type { AxisFieldJson, FieldJson, Report } from "../src/core/report.js";

/**
 * Small display helpers the page shares; the exact/compact/bytes formatting itself is the
 * library's (src/render/format.ts), so the page and the CLI print numbers the same way.
 */
export { bytes, compact, exact, fieldShort, firstOutput, perImageShape, share } from "../src/render/format.js";

/** The spatial (local) part of a field, whether the tensor is global or not. */
export function localField(rf: FieldJson | undefined): AxisFieldJson | undefined {
  if (!rf) return undefined;
  if ("global" in rf) return rf.local;
  return rf;
}

/** The last tensor (in layer order) that still has a spatial field: "the last feature map". */
export function lastFeatureMap(r: Report): string | undefined {
  for (let i = r.layers.length - 1; i >= 0; i--) {
    for (const o of r.layers[i].outputs) if (localField(r.tensors[o]?.rf)) return o;
  }
  return r.inputs.find((i) => localField(r.tensors[i.name]?.rf))?.name;
}

/** A name safe to save a file under. */
export function fileStem(name: string): string {
  return name.replace(/\.[a-z0-9]+$/i, "").replace(/[^A-Za-z0-9._-]+/g, "_") || "model";
}
