import type { EditNode } from "./onnx-edit.js";

/**
 * Maps onnxruntime's profile (one event per executed kernel, named after the node of the
 * *optimized* graph) back onto the file's nodes. The optimizer fuses (Conv+BN+ReLU →
 * FusedConv, a residual Add into the Conv, x·sigmoid(x) → QuickGelu, the GELU and LayerNorm
 * chains), renames (the NCHWc layout pass names a node after an output tensor plus
 * `_nchwc`) and inserts nodes (layout reorders, reshapes around Gemm). So:
 *
 * 1. each runtime node claims the file's nodes it names: the node of its exact name, the
 *    longest file node name it starts with (`…/Mul/QuickGeluFusion/`), the producer of the
 *    tensor its name carries (`…_output_0_nchwc`), else the producers of its outputs that
 *    are file tensors (a layout reorder back to NCHW claims the producer of that tensor);
 * 2. file nodes no runtime node claims were fused away: each joins the group of a
 *    neighbour along a tensor only they share (a producer whose output it alone reads,
 *    first; then a consumer that alone reads its output) — the pattern every fusion has;
 * 3. runtime nodes that claim nothing (reorders into the blocked layout, reshapes the
 *    optimizer adds) are reported apart, as runtime overhead.
 *
 * A group is a set of file nodes with the runtime nodes that executed them; its time is the
 * sum of those kernels' times.
 */

export interface ProfileEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: Record<string, unknown>;
}

export interface KernelTime {
  /** Runtime node name. */
  node: string;
  op: string;
  /** Median over the measured runs, seconds. */
  time: number;
}

export interface Group {
  /** File node names, in file order. */
  nodes: string[];
  /** Runtime nodes that executed them. */
  kernels: KernelTime[];
  /** Seconds (median run). */
  time: number;
}

export interface Attribution {
  groups: Group[];
  /** Group index of each file node (absent: not executed, e.g. not on any output's path). */
  groupOf: Map<string, number>;
  /** Kernels that claim no file node. */
  overhead: KernelTime[];
  /** Largest bytes the runtime's arena held during a run (from the profile), or null. */
  arenaPeak: number | null;
}

/** Per node, the median of its kernel times over the runs whose `model_run` windows are given. */
export function kernelTimes(
  events: ProfileEvent[],
  runs: { ts: number; dur: number }[],
): { kernels: Map<string, KernelTime>; arenaPeak: number | null } {
  const per = new Map<string, { op: string; times: number[] }>();
  let arenaPeak: number | null = null;
  for (const e of events) {
    if (e.cat !== "Node" || !e.name.endsWith("_kernel_time")) continue;
    if (!runs.some((r) => e.ts >= r.ts && e.ts <= r.ts + r.dur)) continue;
    const node = e.name.slice(0, -"_kernel_time".length);
    const op = String(e.args?.op_name ?? "?");
    const rec = per.get(node) ?? { op, times: [] };
    rec.times.push(e.dur / 1e6);
    per.set(node, rec);
    const peak = Number(e.args?.mem_in_use_peak ?? e.args?.mem_arena_held);
    if (Number.isFinite(peak)) arenaPeak = Math.max(arenaPeak ?? 0, peak);
  }
  const kernels = new Map<string, KernelTime>();
  for (const [node, r] of per) {
    // A node that runs once per run has `runs.length` events; sum repeated ones per run.
    const k = Math.max(1, Math.round(r.times.length / runs.length));
    const perRun: number[] = [];
    for (let i = 0; i + k <= r.times.length; i += k) perRun.push(r.times.slice(i, i + k).reduce((a, b) => a + b, 0));
    kernels.set(node, { node, op: r.op, time: median(perRun) });
  }
  return { kernels, arenaPeak };
}

export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/** Linear-interpolated quantile (q in 0…1). */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const p = (s.length - 1) * q;
  const lo = Math.floor(p);
  const hi = Math.ceil(p);
  return s[lo] + (s[hi] - s[lo]) * (p - lo);
}

export function attribute(
  file: EditNode[],
  optimized: EditNode[],
  kernels: Map<string, KernelTime>,
  arenaPeak: number | null,
): Attribution {
  const byName = new Map(file.map((n) => [n.name, n]));
  const producer = new Map<string, EditNode>();
  const readers = new Map<string, EditNode[]>();
  for (const n of file) {
    for (const o of n.outputs) producer.set(o, n);
    for (const i of n.inputs) if (i) readers.set(i, [...(readers.get(i) ?? []), n]);
  }
  // Union-find over file nodes.
  const parent = new Map<EditNode, EditNode>();
  const find = (n: EditNode): EditNode => {
    let r = n;
    while (parent.get(r) !== r) r = parent.get(r) as EditNode;
    parent.set(n, r);
    return r;
  };
  for (const n of file) parent.set(n, n);
  const claimed = new Set<EditNode>();
  // Per group (by root), kernels by op not yet matched by a file node of that op
  // (FusedConv counts as Conv): one kernel runs one convolution.
  const slots = new Map<EditNode, Map<string, number>>();
  const slot = (r: EditNode, op: string, delta: number) => {
    const m = slots.get(r) ?? new Map<string, number>();
    m.set(op, (m.get(op) ?? 0) + delta);
    slots.set(r, m);
  };
  const union = (a: EditNode, b: EditNode) => {
    const ra = find(a);
    const rb = find(b);
    if (ra === rb) return;
    parent.set(ra, rb);
    for (const [op, n] of slots.get(ra) ?? []) slot(rb, op, n);
  };

  const claimsOf = (k: EditNode): EditNode[] => {
    const exact = byName.get(k.name);
    if (exact) return [exact];
    // The longest file node name the runtime name extends at a separator.
    let best: EditNode | undefined;
    for (let i = k.name.length - 1; i > 0; i--) {
      if (k.name[i] !== "/" && k.name[i] !== "_") continue;
      const n = byName.get(k.name.slice(0, i));
      if (n) {
        best = n;
        break;
      }
    }
    if (best) return [best];
    if (k.name.endsWith("_nchwc")) {
      const p = producer.get(k.name.slice(0, -"_nchwc".length));
      if (p) return [p];
    }
    return k.outputs.map((o) => producer.get(o)).filter((n): n is EditNode => n !== undefined);
  };

  const kernelClaims = new Map<string, EditNode[]>();
  const overhead: KernelTime[] = [];
  for (const k of optimized) {
    const c = claimsOf(k);
    const kt = kernels.get(k.name);
    if (c.length === 0) {
      if (kt) overhead.push(kt);
      continue;
    }
    kernelClaims.set(k.name, c);
    for (const n of c) claimed.add(n);
    for (let i = 1; i < c.length; i++) union(c[0], c[i]);
    const r = find(c[0]);
    slot(r, k.op.replace(/^Fused/, ""), 1);
    for (const n of c) slot(r, n.op, -1);
  }
  // Kernels that ran but are missing from the optimized graph file (should not happen): overhead.
  const known = new Set(optimized.map((k) => k.name));
  for (const [name, kt] of kernels) if (!known.has(name)) overhead.push(kt);

  const hasClaim = (n: EditNode) => {
    const r = find(n);
    for (const m of claimed) if (find(m) === r) return true;
    return false;
  };
  // Fused-away nodes join a neighbour across a tensor only the two of them touch: first a
  // group whose kernel has the node's own op (a Conv the runtime named after the batch norm
  // it absorbed), then a producer, then a consumer.
  // A kernel with an op none of its claimed nodes has (a Conv named after the ReLU or the
  // batch norm it absorbed) ran that op upstream: walk back through unclaimed nodes whose
  // output only the chain reads to the nearest node of that op.
  for (const c of [...claimed]) {
    const free = slots.get(find(c));
    if (!free) continue;
    for (const [op, n] of free) {
      if (n <= 0) continue;
      let cur: EditNode | undefined = c;
      for (let depth = 0; cur && depth < 6; depth++) {
        const x: string | undefined = cur.inputs.find((i) => i && producer.has(i) && (readers.get(i) ?? []).length === 1);
        const p: EditNode | undefined = x ? producer.get(x) : undefined;
        if (!p || claimed.has(p)) break;
        if (p.op === op) {
          union(p, c);
          claimed.add(p);
          slot(find(c), op, -1);
          break;
        }
        cur = p;
      }
    }
  }
  const unclaimed = file.filter((n) => !claimed.has(n));
  // Repeatedly: a neighbour already in a claimed group first (producer, then consumer);
  // failing that, an unclaimed neighbour, so a fused chain joins up and then its kernel.
  for (let pass = 0; pass < 12; pass++) {
    let changed = false;
    for (const n of unclaimed) {
      if (hasClaim(n)) continue;
      const back = n.inputs.filter((i) => i && (readers.get(i) ?? []).length === 1).map((i) => producer.get(i));
      const fwd = n.outputs.flatMap((o) => ((readers.get(o) ?? []).length === 1 ? (readers.get(o) as EditNode[]) : []));
      const near = [...back, ...fwd].filter((x): x is EditNode => x !== undefined && find(x) !== find(n));
      const pick = near.find(hasClaim) ?? (pass > 0 ? near[0] : undefined);
      if (pick) {
        union(n, pick);
        changed = true;
      }
    }
    if (!changed && pass > 0) break;
  }

  const index = new Map<EditNode, number>();
  const groups: Group[] = [];
  const groupOf = new Map<string, number>();
  for (const n of file) {
    if (!hasClaim(n)) continue;
    const r = find(n);
    let g = index.get(r);
    if (g === undefined) {
      g = groups.length;
      index.set(r, g);
      groups.push({ nodes: [], kernels: [], time: 0 });
    }
    groups[g].nodes.push(n.name);
    groupOf.set(n.name, g);
  }
  for (const [k, c] of kernelClaims) {
    const kt = kernels.get(k);
    if (!kt) continue;
    const g = index.get(find(c[0])) as number;
    groups[g].kernels.push(kt);
    groups[g].time += kt.time;
  }
  return { groups, groupOf, overhead, arenaPeak };
}
