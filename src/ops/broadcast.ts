import type { Dim, Shape } from "../core/shape.js";
import { layerError, type RuleContext } from "./rule.js";

/** Numpy-style multidirectional broadcasting; errors name the layer. */
export function broadcastShapes(ctx: RuleContext, shapes: Shape[]): Shape {
  // Indexed loops, no spread: every Add and Mul of a graph comes here.
  let rank = 0;
  for (let k = 0; k < shapes.length; k++) if (shapes[k].length > rank) rank = shapes[k].length;
  const out: Dim[] = new Array(rank);
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (let k = 0; k < shapes.length; k++) {
      const s = shapes[k];
      const e = s[s.length - rank + i] ?? 1;
      if (e === 1) continue;
      if (d === 1) d = e;
      else if (typeof d === "number" && typeof e === "number" && d !== e) {
        layerError(ctx, `shapes ${shapes.map((x) => x.join("×")).join(" and ")} do not broadcast`);
      } else if (typeof d !== "number" && typeof e === "number") d = e;
    }
    out[i] = d;
  }
  return out;
}
