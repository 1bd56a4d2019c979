import type { Report } from "../src/core/report.js";

/** One box of the drawn graph: a layer, a graph input, or a collapsed chain of layers. */
export interface GraphBox {
  id: string;
  /** Indices into report.layers (empty for a graph input). */
  layers: number[];
  label: string;
  /** The ops inside, e.g. `Conv+BatchNormalization+Relu`. */
  ops: string;
}

export interface BoxGraph {
  boxes: GraphBox[];
  edges: [string, string][];
  /** How the graph was simplified for drawing. */
  collapsed: "none" | "conv-chains" | "linear-chains";
}

/** Above this many layers, Conv–BN–activation chains are drawn as one box. */
export const COLLAPSE_CHAINS_ABOVE = 150;
/** Above this many boxes after that, every single-in single-out chain becomes one box. */
export const COLLAPSE_LINEAR_ABOVE = 1500;

const HEADS = new Set(["conv", "linear"]);
const TAILS = new Set(["norm", "activation"]);

/**
 * The DAG the graph view lays out: layers joined by the activation tensors between them
 * (weights are not boxes). Big models are simplified so a layout stays quick: first the
 * Conv–BN–activation chains, then, if still large, every linear chain.
 */
export function boxGraph(r: Report): BoxGraph {
  const n = r.layers.length;
  const producer = new Map<string, number>();
  const consumers = new Map<string, number>();
  r.layers.forEach((l, i) => {
    for (const o of l.outputs) producer.set(o, i);
    for (const t of l.inputs) if (r.tensors[t]) consumers.set(t, (consumers.get(t) ?? 0) + 1);
  });
  const inputs = new Set(r.inputs.map((i) => i.name));
  /** The one activation tensor a layer reads, when it reads exactly one and is its only reader. */
  const soleParent = (j: number): number | undefined => {
    const ins = r.layers[j].inputs.filter((t) => r.tensors[t] && (producer.has(t) || inputs.has(t)));
    if (ins.length !== 1) return undefined;
    const p = producer.get(ins[0]);
    if (p === undefined || consumers.get(ins[0]) !== 1) return undefined;
    return r.layers[p].outputs.filter((o) => consumers.has(o)).length === 1 ? p : undefined;
  };

  const group = new Int32Array(n).map((_, i) => i);
  const merge = (mayJoin: (head: number, j: number) => boolean) => {
    for (let j = 0; j < n; j++) {
      const p = soleParent(j);
      if (p !== undefined && mayJoin(group[p], j)) group[j] = group[p];
    }
  };
  let collapsed: BoxGraph["collapsed"] = "none";
  if (n > COLLAPSE_CHAINS_ABOVE) {
    collapsed = "conv-chains";
    merge((head, j) => HEADS.has(r.layers[head].family) && TAILS.has(r.layers[j].family));
    if (new Set(group).size > COLLAPSE_LINEAR_ABOVE) {
      collapsed = "linear-chains";
      merge(() => true);
    }
  }

  const members = new Map<number, number[]>();
  group.forEach((g, i) => {
    const m = members.get(g);
    if (m) m.push(i);
    else members.set(g, [i]);
  });
  const boxes: GraphBox[] = r.inputs.map((i) => ({ id: `in:${i.name}`, layers: [], label: i.name, ops: `input ${i.shape.join("×")}` }));
  for (const [g, layers] of members) {
    const ops = layers.map((i) => r.layers[i].op);
    boxes.push({
      id: `g${g}`,
      layers,
      label: layers.length > 1 && collapsed === "linear-chains" ? `${r.layers[g].name} …(${layers.length})` : r.layers[g].name,
      ops: ops.length > 4 ? `${ops.slice(0, 3).join("+")}+…${ops.length - 3}` : ops.join("+"),
    });
  }
  const seen = new Set<string>();
  const edges: [string, string][] = [];
  r.layers.forEach((l, j) => {
    for (const t of l.inputs) {
      const p = producer.get(t);
      const from = p !== undefined ? `g${group[p]}` : inputs.has(t) ? `in:${t}` : undefined;
      const to = `g${group[j]}`;
      if (!from || from === to) continue;
      const key = `${from}>${to}`;
      if (!seen.has(key)) {
        seen.add(key);
        edges.push([from, to]);
      }
    }
  });
  return { boxes, edges, collapsed };
}

/** The most boxes laid out at once: ELK's layered layout recurses along long chains. */
export const MAX_LAID_OUT = 500;

/**
 * A contiguous slice of the boxes (in execution order) and the edges inside it: how a
 * graph too big to lay out whole is shown lazily, one window at a time.
 */
export function windowOf(g: BoxGraph, start: number, size = MAX_LAID_OUT): BoxGraph & { start: number; end: number } {
  const s = Math.max(0, Math.min(start, g.boxes.length - size));
  const boxes = g.boxes.slice(s, s + size);
  const ids = new Set(boxes.map((b) => b.id));
  return { ...g, boxes, edges: g.edges.filter(([a, b]) => ids.has(a) && ids.has(b)), start: s, end: s + boxes.length };
}
