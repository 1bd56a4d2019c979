import { ConvscopeError } from "../core/errors.js";
import type { Graph, Node } from "../core/graph.js";

/**
 * Topological order of the nodes, keeping the file's order wherever the graph allows
 * (Kahn's algorithm with the lowest file index first). Errors: a node reading a tensor
 * nobody produces, two producers of one tensor, a cycle.
 */
export function topoOrder(g: Graph): Node[] {
  const producer = new Map<string, number>();
  g.nodes.forEach((n, i) => {
    for (const t of n.outputs) {
      if (t === "") continue;
      if (producer.has(t)) {
        throw new ConvscopeError(`tensor '${t}' is produced twice (also by '${g.nodes[producer.get(t) as number].name}')`, {
          layer: n.name,
        });
      }
      producer.set(t, i);
    }
  });
  const inputs = new Set<string>(g.inputs);
  const available = (name: string) => {
    const t = g.tensors.get(name);
    return inputs.has(name) || (t !== undefined && (t.initializer !== undefined || t.value !== undefined));
  };

  // Files are nearly always written in a valid order already; then that order is the answer
  // (the lowest-index-first order of a graph whose own order is valid is that order).
  let inOrder = true;
  g.nodes.forEach((n, i) => {
    for (const t of deps(n)) {
      if (t === "") continue;
      const p = producer.get(t);
      if (p === undefined) {
        if (!available(t)) throw new ConvscopeError(`reads tensor '${t}', which no layer produces and is not an input`, { layer: n.name });
      } else if (p >= i) inOrder = false;
    }
  });
  if (inOrder) return [...g.nodes];

  const indegree = new Array<number>(g.nodes.length).fill(0);
  const consumers: number[][] = g.nodes.map(() => []);
  g.nodes.forEach((n, i) => {
    for (const t of deps(n)) {
      const p = t === "" ? undefined : producer.get(t);
      if (p === undefined) continue;
      indegree[i]++;
      consumers[p].push(i);
    }
  });

  const ready = new MinHeap();
  indegree.forEach((d, i) => {
    if (d === 0) ready.push(i);
  });
  const order: Node[] = [];
  while (ready.size > 0) {
    const i = ready.pop();
    order.push(g.nodes[i]);
    for (const c of consumers[i]) if (--indegree[c] === 0) ready.push(c);
  }
  if (order.length !== g.nodes.length) {
    const stuck = g.nodes.filter((_, i) => indegree[i] > 0).map((n) => n.name);
    throw new ConvscopeError(`the graph has a cycle through ${stuck.slice(0, 5).join(" → ")}${stuck.length > 5 ? " …" : ""}`, {
      layer: stuck[0],
    });
  }
  return order;
}

/** A node's inputs, and the conditions of the If branches it lies in (read before it runs, to skip an untaken branch). */
function deps(n: Node): readonly string[] {
  if (!n.region) return n.inputs;
  const conds = n.region.flatMap((r) => (r.kind === "branch" ? [r.cond] : []));
  return conds.length > 0 ? [...n.inputs, ...conds] : n.inputs;
}

/** A binary min-heap of indices (ready layers by file position): keeps walks O(n log n) on 100,000-node graphs. */
export class MinHeap {
  private a: number[] = [];
  get size(): number {
    return this.a.length;
  }
  push(x: number): void {
    const a = this.a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p] <= a[i]) break;
      const t = a[p];
      a[p] = a[i];
      a[i] = t;
      i = p;
    }
  }
  pop(): number {
    const a = this.a;
    const top = a[0];
    const last = a.pop() as number;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l] < a[m]) m = l;
        if (r < a.length && a[r] < a[m]) m = r;
        if (m === i) break;
        const t = a[m];
        a[m] = a[i];
        a[i] = t;
        i = m;
      }
    }
    return top;
  }
}
