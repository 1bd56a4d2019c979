import type { Node } from "../core/graph.js";
import type { FieldJson, LayerReport, ModuleReport, Report } from "../core/report.js";
import { addKnown } from "../core/shape.js";

/**
 * The module tree: every layer gets the chain of modules it was written in, outermost
 * first, and each module sums its layers (fvcore's `flop_count_table(max_depth=…)`, torchinfo's
 * `depth=`). Where the chain comes from, in order of trust:
 *
 * - `Node.module` (a `.pt2`'s `nn_module_stack`, dynamo ONNX metadata, Keras nested models);
 * - ONNX scope names from the TorchScript exporter: `/layer1/layer1.0/conv1/Conv` — the last
 *   segment is the op, the others are scopes, each either a child's local name (`conv1`) or
 *   already a full dotted path (`layer1.0`): both end as `layer1.0.conv1`;
 * - TF / Caffe / TF.js slash names `a/b/c`: modules `a`, `a/b`; the layer is `c`;
 * - torch-style dotted names `layer1.0.conv1` (the zoo, Keras-from-torch): modules `layer1`,
 *   `layer1.0`; the layer itself is the leaf. Names whose inner segments repeat the op type
 *   (`p2o.Conv.0`, Paddle's exporter) are counters, not paths: no module.
 *
 * A layer's depth is its module chain's length + 1; `--depth N` shows every module and layer
 * whose depth is at most N.
 */
export function modulePath(node: Pick<Node, "name" | "op" | "source" | "module" | "meta">): string[] {
  const scopes = node.module ? undefined : node.meta?.["pkg.torch.onnx.name_scopes"];
  if (scopes) {
    // Dynamo ONNX: `['', 'layer1', 'layer1.0', 'layer1.0.relu', 'relu_1']` — the root, the module
    // paths, then the op's own name (when the reader has not turned it into Node.module).
    const list = [...scopes.matchAll(/'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] ?? m[2]);
    return list.slice(0, -1).filter((s) => s !== "");
  }
  if (node.module && node.module.length > 0) {
    const out: string[] = [];
    for (const f of node.module) if (f.path && f.path !== out[out.length - 1]) out.push(f.path);
    // A frame naming the layer itself (a leaf module that is one op) is the leaf, not a parent.
    if (out.length > 0 && out[out.length - 1] === node.name) out.pop();
    return out;
  }
  const name = node.name;
  if (name.startsWith("/")) {
    const segs = name.split("/").filter((s) => s !== "");
    segs.pop(); // the op's own name (`Conv`, `Conv_1`)
    // A scope is a child's local name (`conv1`), or its parent's scope plus the index
    // (`layer1.0` under `layer1`, `downsample.0` under `downsample`).
    const out: string[] = [];
    let p = "";
    let prev = "";
    for (const s of segs) {
      if (p === "") p = s;
      else if (s.startsWith(`${prev}.`)) p += s.slice(prev.length);
      else p = `${p}.${s}`;
      prev = s;
      out.push(p);
    }
    return out;
  }
  if (name.includes("/")) {
    const segs = name.split("/");
    const out: string[] = [];
    for (let i = 1; i < segs.length; i++) out.push(segs.slice(0, i).join("/"));
    return out.filter((s) => s !== "");
  }
  if (name.includes(".")) {
    const segs = name.split(".");
    const ops = new Set([node.op.toLowerCase(), (node.source ?? node.op).toLowerCase()]);
    if (segs.some((s, i) => s === "" || (i < segs.length - 1 && ops.has(s.toLowerCase())))) return [];
    const out: string[] = [];
    for (let i = 1; i < segs.length; i++) out.push(segs.slice(0, i).join("."));
    return out;
  }
  return [];
}

/**
 * Every layer's module chain. A layer named like a module other layers sit in (the zoo's `fc`
 * with its `fc.flatten`) is that module's own layer, not its sibling.
 */
export function modulePaths(nodes: readonly Pick<Node, "name" | "op" | "source" | "module" | "meta">[]): string[][] {
  const paths = nodes.map(modulePath);
  const modules = new Set<string>();
  for (const p of paths) for (const m of p) modules.add(m);
  nodes.forEach((n, i) => {
    const p = paths[i];
    if (modules.has(n.name) && p[p.length - 1] !== n.name) paths[i] = [...p, n.name];
  });
  return paths;
}

/** What the tree pass needs per layer beyond its report row. */
export interface ModuleInputs {
  /** The module chain of each layer (report row order). */
  paths: readonly string[][];
  /** Module class names by path, when the file gives them. */
  types?: ReadonlyMap<string, string>;
  /** Each layer's weights: a stable key per stored tensor and its element count and trainability. */
  weights: readonly (readonly { key: number; count: number | null; trainable: boolean }[])[];
}

/**
 * Sums every module of the tree. Parameters are counted by tensor: a module holds each weight
 * its layers use once, so a weight shared by layers of two sibling modules counts in both
 * siblings and once in their parent (the children's sum can exceed the parent's). Compute
 * and activation sums are plain sums of the layers. `peak_live_bytes` is the part of the
 * file-order peak held by the module's layers' outputs.
 */
export function moduleTree(r: Report, input: ModuleInputs): ModuleReport[] {
  const byPath = new Map<string, ModuleReport & { _w: Set<number> }>();
  const list: (ModuleReport & { _w: Set<number> })[] = [];
  const peakLive = new Set(r.totals.peak_live ?? []);
  const producerIndex = new Map<string, number>();
  r.layers.forEach((l, i) => {
    for (const o of l.outputs) if (o) producerIndex.set(o, i);
  });

  r.layers.forEach((layer, i) => {
    const chain = input.paths[i];
    // A layer of the branch the totals leave out counts in the modules inside that branch only.
    const branch = layer.uncounted_branch;
    for (let d = 0; d < chain.length; d++) {
      const path = chain[d];
      let m = byPath.get(path);
      if (!m) {
        const parent = d > 0 ? chain[d - 1] : null;
        m = {
          path,
          name: shortName(path, parent),
          ...(input.types?.get(path) ? { type: input.types.get(path) } : {}),
          depth: d + 1,
          parent,
          layers: 0,
          own_layers: [],
          params: 0,
          trainable_params: 0,
          macs: 0,
          flops: 0,
          value: 0,
          by_convention: Object.fromEntries(Object.keys(layer.by_convention).map((k) => [k, 0])),
          activation_bytes: 0,
          peak_live_bytes: 0,
          share: null,
          _w: new Set(),
        };
        byPath.set(path, m);
        list.push(m);
      }
      const inBranch = !branch || path === branch || path.startsWith(`${branch}/`) || path.startsWith(`${branch}.`);
      // Its weights are stored whichever branch runs: they count everywhere, its compute only inside its branch.
      addLayer(m, layer, i, input.weights[i], inBranch);
      if (d === chain.length - 1) m.own_layers.push(i);
    }
  });

  for (const m of list) {
    m.share = m.value === null || !r.totals.value ? null : m.value / r.totals.value;
    // Peak share: outputs of the module's layers live at the peak.
    let live: number | null = 0;
    for (const t of peakLive) {
      const p = producerIndex.get(t);
      if (p !== undefined && input.paths[p].includes(m.path)) live = addKnown(live, r.tensors[t]?.bytes ?? null);
    }
    m.peak_live_bytes = live;
  }

  // The module's output: the last tensor (in execution order) its layers make and a layer
  // outside it (or the graph's caller) reads. Its field is the module's field.
  const consumers = new Map<string, number[]>();
  r.layers.forEach((l, i) => {
    for (const t of l.inputs) if (t) (consumers.get(t) ?? consumers.set(t, []).get(t))?.push(i);
  });
  const graphOutputs = new Set(r.outputs.map((o) => o.name));
  const lastOut = new Map<string, string>();
  r.layers.forEach((l, i) => {
    for (const path of input.paths[i]) {
      for (const t of l.outputs) {
        if (!t) continue;
        const leaves = graphOutputs.has(t) || (consumers.get(t) ?? []).some((c) => !input.paths[c].includes(path));
        if (leaves) lastOut.set(path, t);
      }
    }
  });
  for (const m of list) {
    const t = lastOut.get(m.path);
    if (t) {
      m.output = t;
      const rf = r.tensors[t]?.rf;
      if (rf) m.rf = rf as FieldJson;
    }
  }
  for (const m of list) delete (m as Partial<typeof m>)._w;
  return list;
}

function addLayer(
  m: ModuleReport & { _w: Set<number> },
  l: LayerReport,
  i: number,
  weights: readonly { key: number; count: number | null; trainable: boolean }[],
  counted = true,
): void {
  for (const w of weights) {
    if (m._w.has(w.key)) continue;
    m._w.add(w.key);
    m.params = addKnown(m.params, w.count);
    if (w.trainable) m.trainable_params = addKnown(m.trainable_params, w.count);
  }
  if (l.params === null) m.params = null;
  m.layers++;
  if (m.first === undefined) m.first = i;
  m.last = i;
  // Activations are summed over every layer reported, as the totals sum them (both branches).
  m.activation_bytes = addKnown(m.activation_bytes, l.activation_bytes);
  if (!counted) return;
  m.macs = addKnown(m.macs, l.macs);
  m.flops = addKnown(m.flops, l.flops);
  m.value = addKnown(m.value, l.value);
  for (const [k, v] of Object.entries(l.by_convention)) m.by_convention[k] = addKnown(m.by_convention[k] ?? 0, v);
}

/** `layer1.0.conv1` under `layer1.0` → `conv1`; `a/b` under `a` → `b`. */
function shortName(path: string, parent: string | null): string {
  if (parent && path.startsWith(parent) && (path[parent.length] === "." || path[parent.length] === "/"))
    return path.slice(parent.length + 1);
  return path;
}

/** One row of a depth-limited view: a module or a layer, with its depth (1 = top level). */
export interface TreeRow {
  kind: "module" | "layer";
  depth: number;
  /** Module path or layer name. */
  name: string;
  /** Index into `report.modules` or `report.layers`. */
  index: number;
}

/**
 * The rows of a `--depth N` view, in execution order: every module whose depth is at most N,
 * and every layer whose own depth (its module chain + 1) is at most N. The rows at one level
 * under a module sum to that module (parameters aside: see moduleTree).
 */
export function treeRows(r: Report, maxDepth: number): TreeRow[] {
  const modules = r.modules ?? [];
  const index = new Map(modules.map((m, i) => [m.path, i]));
  const children = new Map<string | null, { at: number; row: TreeRow }[]>();
  const push = (parent: string | null, at: number, row: TreeRow) =>
    (children.get(parent) ?? children.set(parent, []).get(parent))?.push({ at, row });
  modules.forEach((m, i) => {
    push(m.parent, m.first ?? 0, { kind: "module", depth: m.depth, name: m.path, index: i });
  });
  const ownerOf = new Map<number, string>();
  for (const m of modules) for (const l of m.own_layers) ownerOf.set(l, m.path);
  r.layers.forEach((l, i) => {
    const owner = ownerOf.get(i) ?? null;
    const depth = owner === null ? 1 : (modules[index.get(owner) as number].depth ?? 0) + 1;
    push(owner, i, { kind: "layer", depth, name: l.name, index: i });
  });
  const out: TreeRow[] = [];
  const walk = (parent: string | null) => {
    const kids = (children.get(parent) ?? []).sort((a, b) => a.at - b.at);
    for (const { row } of kids) {
      if (row.depth > maxDepth) continue;
      out.push(row);
      if (row.kind === "module") walk(row.name);
    }
  };
  walk(null);
  return out;
}
