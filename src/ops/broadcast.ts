import type { Dim, Shape } from "../core/shape.js";
import { layerError, type RuleContext } from "./rule.js";

/** Numpy-style multidirectional broadcasting; errors name the layer. */
export function broadcastShapes(ctx: RuleContext, shapes: Shape[]): Shape {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const e = s[s.length - rank + i] ?? 1;
      if (e === 1) continue;
      if (d === 1) d = e;
      else if (typeof d === "number" && typeof e === "number" && d !== e) {
        layerError(ctx, `shapes ${shapes.map((x) => x.join("×")).join(" and ")} do not broadcast`);
      } else if (typeof d !== "number" && typeof e === "number") d = e;
    }
    out.push(d);
  }
  return out;
}
