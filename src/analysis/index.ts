import { byteSize, SIZE_DTYPES, type SizeDType } from "../core/dtype.js";
import { ConvscopeError } from "../core/errors.js";
import type { Graph } from "../core/graph.js";
import { SharedLists, SharedRecords } from "../core/lists.js";
import { type FieldJson, type FieldRegion, type LayerReport, type Report, setTensorSource, type TensorReport } from "../core/report.js";
import { addKnown, mul, numel, type Shape } from "../core/shape.js";
import { type Cost, ZERO_COST } from "../ops/index.js";
import { byConventionRecord, CONVENTIONS, countIn, convention as findConvention, markPaddedPools } from "./conventions.js";
import { fieldJson, fieldRegion, receptiveFields, type TensorField } from "./field.js";
import { memoryFigures } from "./memory.js";
import { modulePaths, moduleTree } from "./modules.js";
import { countParams } from "./params.js";
import { knownTotals } from "./partial.js";
import { RegionTotals } from "./regions.js";
import { type Bindings, inferShapes } from "./shapes.js";
import { type TrainingOptions, trainingBytes } from "./training.js";

export interface AnalyzeOptions extends Bindings {
  /** Headline convention (default `macs`). */
  convention?: string;
  /** Dtype for parameter sizes (default fp32). */
  dtype?: SizeDType;
  /** Estimate training memory (`totals.training_bytes`) for this optimizer and precision. */
  training?: TrainingOptions;
  /** Build the module tree (`report.modules`). */
  modules?: boolean;
  /**
   * Where each tensor's fields fall on the image (`tensors[*].rf_region`; default true).
   * The table, CSV and Markdown never show it: the command skips it for them, about 20
   * objects per tensor that a 100,000-node graph would otherwise build and keep.
   */
  regions?: boolean;
}

/** Runs every pass (order → shapes → params → cost → memory → receptive field) into a Report. */
export function analyze(g: Graph, opts: AnalyzeOptions = {}): Report {
  try {
    return run(g, opts);
  } catch (e) {
    if (e instanceof ConvscopeError && !e.file && g.file) throw new ConvscopeError(e.message, { file: g.file, layer: e.layer });
    throw e;
  }
}

function run(g: Graph, opts: AnalyzeOptions): Report {
  const conventionName = opts.convention ?? "macs";
  const conv = findConvention(conventionName);
  if (!conv) throw new ConvscopeError(`unknown convention '${conventionName}' (known: ${CONVENTIONS.map((c) => c.name).join(", ")})`);
  const dtypeName = opts.dtype ?? "fp32";
  if (!Object.hasOwn(SIZE_DTYPES, dtypeName))
    throw new ConvscopeError(`unknown dtype '${dtypeName}' (known: ${Object.keys(SIZE_DTYPES).join(", ")})`);
  if (opts.batch !== undefined && (!Number.isSafeInteger(opts.batch) || opts.batch <= 0)) {
    throw new ConvscopeError(`batch must be a positive integer, got ${opts.batch}`);
  }

  // inferShapes orders the nodes itself (it checks the file's own order and falls back on topoOrder).
  const shapes = inferShapes(g, undefined, opts);
  markPaddedPools(shapes.order);
  const { tensors } = shapes;
  const firstInput = g.inputs.length > 0 ? tensors.get(g.inputs[0])?.shape : undefined;
  const batch = typeof firstInput?.[0] === "number" && firstInput.length > 1 ? firstInput[0] : 1;
  const perImage = (n: number | null): number | null => (n === null || n % batch !== 0 ? null : n / batch);

  const { ids, states, names } = shapes;
  // Sizes are asked for many times (per layer, three liveness walks, the tensor table): once
  // each, by tensor id. Constants are weights, not activations: no pass asks their size.
  // One pass over the states for both: a pass over the 150,000 state objects of a 100,000-node graph costs 20–25 ms.
  const bytes: (number | null)[] = new Array(states.length);
  const constant: boolean[] = new Array(states.length);
  for (let id = 0; id < states.length; id++) {
    const t = states[id];
    constant[id] = t.constant;
    const n = t.constant || !t.shape ? null : numel(t.shape);
    bytes[id] = n === null ? null : byteSize(n, t.dtype);
  }
  const inputIds = g.inputs.map((name) => ids.get(name) as number);
  const { perLayer, totals: paramTotals } = countParams(shapes.order, shapes.fileTensors, shapes.states.length, opts.modules);
  const { fields, warnings } = receptiveFields(inputIds, shapes.order, states);

  const layers: LayerReport[] = [];
  let activations: number | null = 0;
  // Per convention: why some layers' counts are approximations (reason → layers), for the conventions table.
  const approx = new Map(CONVENTIONS.map((c) => [c.name, new Map<string, number>()]));
  const regions = new RegionTotals(
    shapes.order,
    tensors,
    CONVENTIONS.map((c) => c.name),
    shapes.regions,
  );
  const unknownTypes = new Map<string, number>();
  // The layer that produces each tensor, by id.
  const producer: (string | undefined)[] = new Array(states.length);
  const approxOf = CONVENTIONS.map((c) => approx.get(c.name) as Map<string, number>);
  // The layer's count per convention, reused from layer to layer (the row gets a record of it).
  const counts: (number | null)[] = new Array(CONVENTIONS.length).fill(null);
  // Rows share equal records (frozen): the layers of a stage repeat their counts.
  const byConventions = new SharedRecords<Record<string, number | null>>();
  const costs = new SharedRecords<NonNullable<LayerReport["cost"]>>();
  const costParts: number[] = new Array(7);
  const order = shapes.order;
  for (let li = 0; li < order.length; li++) {
    const layer = order[li];
    const { node, rule, ctx, outs } = layer;
    // Indexed loops over the outputs: no iterator per layer.
    for (let k = 0; k < outs.length; k++) if (outs[k] >= 0) producer[outs[k]] = node.name;
    let c: Cost | null = ZERO_COST;
    if (!rule) {
      c = null;
      unknownTypes.set(node.op, (unknownTypes.get(node.op) ?? 0) + 1);
    } else if (!layer.folded && rule.cost) c = rule.cost(ctx);
    // Every convention once per layer (counted on the whole tensor, i.e. the batch, and
    // summed so); the layer rows are per image. macs, flops and seed are conventions too.
    // A loop body's layer counts every iteration (one when the count is unknown; the totals then are too).
    const repeats = regions.repeats[layer.index];
    for (let k = 0; k < CONVENTIONS.length; k++) {
      const cv = CONVENTIONS[k];
      const once = c === null ? null : countIn(cv, c, layer);
      const v = once === null || repeats === null ? once : mul(once, repeats);
      counts[k] = perImage(v);
      regions.add(layer, k, repeats === null ? null : v);
      const why = v && cv.approximated ? cv.approximated(layer) : null;
      if (why) approxOf[k].set(why, (approxOf[k].get(why) ?? 0) + 1);
    }
    let act: number | null = 0;
    if (!layer.folded) {
      for (let k = 0; k < outs.length; k++) if (outs[k] >= 0) act = addKnown(act, bytes[outs[k]]);
    }
    activations = addKnown(activations, act);
    const byConvention = byConventions.of(counts, byConventionRecord);
    let cost: LayerReport["cost"] = null;
    if (c) {
      costParts[0] = c.macs;
      costParts[1] = c.bias;
      costParts[2] = c.add;
      costParts[3] = c.mul;
      costParts[4] = c.div;
      costParts[5] = c.exp;
      costParts[6] = c.cmp;
      cost = costs.of(costParts, costRecord);
    }
    const p = perLayer[layer.index];
    // One object literal, not spreads of optional parts: a spread makes V8 build each of
    // 100,000 layer objects through its slow generic path.
    const row: LayerReport = {
      name: node.name,
      op: node.op,
      family: rule?.family ?? "unknown",
      status: layer.status,
      inputs: node.inputs,
      outputs: node.outputs,
      params: p ? p.params : null,
      trainable_params: p ? p.trainable : null,
      macs: byConvention.macs,
      flops: byConvention.flops,
      seed: byConvention.seed,
      value: byConvention[conv.name],
      by_convention: byConvention,
      cost,
      activation_bytes: perImage(act),
    };
    const shown = node.source && node.source !== node.op ? withSource(row, node.source) : row;
    if (node.region?.some((r) => r.kind === "loop")) shown.repeats = repeats;
    layers.push(shown);
  }
  const flow = regions.totals(conv.name);
  const byConv = flow.byConvention;
  // Only a layer in an If's branch can be left out of the totals.
  if (regions.any)
    shapes.order.forEach((l, i) => {
      const branch = regions.uncountedBranch(l.index);
      if (branch) layers[i].uncounted_branch = branch;
    });

  const outputIds = g.outputs.map((name) => ids.get(name)).filter((id) => id !== undefined);
  const memory = memoryFigures(inputIds, outputIds, shapes.order, { names, bytes, constant }, shapes.steps);
  const peak = memory.file;
  let inputBytes: number | null = 0;
  for (const i of inputIds) inputBytes = addKnown(inputBytes, bytes[i]);

  // The image whose pixels fields are measured in: the first input with spatial axes.
  const image = inputIds.map((i) => states[i].shape).find((s) => s && s.length >= 3);
  const regionsWanted = opts.regions ?? true;
  /**
   * A tensor's entry of the report (none for a constant). Given `views` and `lists`, tensors
   * share a field object along a chain of pointwise layers: its JSON (and, for the same
   * shape, its region) is made once and shared by their entries, and equal lists are one.
   */
  const entry = (id: number, views?: FieldViews, lists?: SharedLists): TensorReport | undefined => {
    const t = states[id];
    if (t.constant) return undefined;
    const by = producer[id];
    const f = fields[id];
    let view: FieldView | undefined;
    if (f) {
      view = views?.get(f);
      if (!view || (regionsWanted && !sameShape(view.shape, t.shape))) {
        view = {
          json: view?.json ?? fieldJson(f, lists),
          shape: t.shape,
          region: regionsWanted ? fieldRegion(f, t.shape, image, lists) : undefined,
        };
        views?.set(f, view);
      }
    }
    // The common cases in one literal (keys added one by one move the object's properties
    // out of line, an allocation more per tensor).
    if (by !== undefined && view?.region) {
      return { shape: t.shape, dtype: t.dtype, bytes: bytes[id], producer: by, rf: view.json, rf_region: view.region };
    }
    if (by !== undefined && view) return { shape: t.shape, dtype: t.dtype, bytes: bytes[id], producer: by, rf: view.json };
    const report: TensorReport = { shape: t.shape, dtype: t.dtype, bytes: bytes[id] };
    if (by !== undefined) report.producer = by;
    if (view) {
      report.rf = view.json;
      if (view.region) report.rf_region = view.region;
    }
    return report;
  };
  // The tensor table is made when first read (by code that reads `report.tensors`). The
  // renderers never read it: the table, CSV and Markdown ask for one tensor per row
  // (tensorOf) and the JSON report writes each entry as it is made (tensorEntries). On a
  // 100,000-node graph the table is 100,000 entries and their fields' JSON, kept to the end
  // of the run: it cost the command 0.6 s (table) to 1.2 s (JSON), mostly the garbage
  // collector copying them.
  // Once it exists (made, or set by the caller), tensorOf and tensorEntries read it.
  let tensorTable: Record<string, TensorReport> | undefined;
  const keep = (table: Record<string, TensorReport>) => {
    tensorTable = table;
    setTensorSource(report, undefined);
  };
  const allTensors = (): Record<string, TensorReport> => {
    if (tensorTable) return tensorTable;
    const table = nameTable<TensorReport>();
    const views = new Map<TensorField, FieldView>();
    const lists = new SharedLists();
    for (let id = 0; id < states.length; id++) {
      const e = entry(id, views, lists);
      if (e) table[names[id]] = e;
    }
    keep(table);
    return table;
  };

  // A total never sums part of the weights: any weight of unknown size makes every parameter figure null.
  const paramsKnown = paramTotals.unknown.length === 0;
  const whenKnown = (n: number): number | null => (paramsKnown ? n : null);
  const sizeBytes = Object.fromEntries(
    Object.entries(SIZE_DTYPES).map(([k, t]) => [k, whenKnown(byteSize(paramTotals.params, t))]),
  ) as Record<SizeDType, number | null>;
  const unknownLayers = [...unknownTypes.values()].reduce((a, b) => a + b, 0);
  const notes = [...g.notes, ...shapes.notes, ...flow.notes, ...flow.partial];
  if (g.warnings) warnings.unshift(...g.warnings);
  const symbols = [...shapes.symbols];
  if (symbols.length > 0)
    notes.push(`dims ${symbols.join(", ")} are unbound: numbers that depend on them are unknown (bind them with --input)`);
  if (batch > 1) notes.push(`compute and activation figures are per image; the graph runs a batch of ${batch}`);
  // Only a graph with a null total pays for the known-part walk.
  const anyNull = activations === null || !paramsKnown || Object.values(byConv).some((v) => v === null);
  const known =
    anyNull &&
    knownTotals(
      layers,
      CONVENTIONS.map((c) => c.name),
      conv.name,
      paramTotals,
      symbols,
    );
  const report: Report = {
    model: {
      name: g.name,
      format: g.format,
      ...(g.file ? { file: g.file } : {}),
      ...(g.fileBytes !== undefined ? { file_bytes: g.fileBytes } : {}),
    },
    convention: conv.name,
    batch,
    inputs: g.inputs.map((name) => ({ name, shape: tensors.get(name)?.shape ?? [], dtype: tensors.get(name)?.dtype ?? "unknown" })),
    outputs: g.outputs.map((name) => ({ name, shape: tensors.get(name)?.shape })),
    layers,
    get tensors() {
      return allTensors();
    },
    set tensors(table) {
      keep(table);
    },
    totals: {
      params: whenKnown(paramTotals.params),
      trainable_params: whenKnown(paramTotals.trainable),
      non_trainable_params: whenKnown(paramTotals.params - paramTotals.trainable),
      param_bytes: sizeBytes[dtypeName],
      param_dtype: dtypeName,
      stored_param_bytes: whenKnown(paramTotals.storedBytes),
      stored_param_bytes_by_dtype: paramsKnown
        ? Object.fromEntries(
            Object.entries(paramTotals.byDtype).map(([t, n]) => [t, byteSize(n as number, t as keyof typeof paramTotals.byDtype)]),
          )
        : {},
      size_bytes: sizeBytes,
      ...(paramTotals.quant > 0 ? { quant_params: paramTotals.quant, quant_param_bytes: paramTotals.quantBytes } : {}),
      macs: perImage(byConv.macs),
      flops: perImage(byConv.flops),
      seed: perImage(byConv.seed),
      value: perImage(byConv[conv.name]),
      by_convention: Object.fromEntries(Object.entries(byConv).map(([k, v]) => [k, perImage(v)])),
      activation_bytes: perImage(activations),
      input_bytes: perImage(inputBytes),
      peak_activation_bytes: perImage(peak.peak),
      ...(peak.layer ? { peak_layer: peak.layer, peak_live: peak.live } : {}),
      peak_activation_bytes_without_input: perImage(memory.fileWithoutInput.peak),
      peak_activation_bytes_min_order: perImage(memory.minOrder.peak),
      ...(memory.minOrder.layer ? { peak_layer_min_order: memory.minOrder.layer, peak_live_min_order: memory.minOrder.live } : {}),
      ...(opts.training ? { training_bytes: trainingBytes(shapes.order, tensors, paramTotals, batch, opts.training) } : {}),
      layers: layers.length,
      unknown_layers: unknownLayers,
      ...(unknownLayers > 0 || flow.partial.length > 0
        ? {
            partial: `partial: ${[
              ...(unknownLayers > 0
                ? [
                    `${unknownLayers} layer${unknownLayers > 1 ? "s" : ""} of type${unknownTypes.size > 1 ? "s" : ""} ${[...unknownTypes.keys()].join(", ")} not counted`,
                  ]
                : []),
              ...flow.partial,
            ].join("; ")}`,
          }
        : {}),
      ...(known ? { known } : {}),
    },
    batch_totals: {
      macs: byConv.macs,
      flops: byConv.flops,
      by_convention: byConv,
      activation_bytes: activations,
      peak_activation_bytes: peak.peak,
      peak_activation_bytes_min_order: memory.minOrder.peak,
    },
    conventions: CONVENTIONS.map((c) => {
      const why = [...(approx.get(c.name) ?? [])].map(([reason, n]) => `${n} layer${n === 1 ? "" : "s"}: ${reason}`);
      return {
        name: c.name,
        used: c.used,
        includes: c.includes,
        value: perImage(byConv[c.name]),
        ...(why.length ? { approximated: why.join("; ") } : {}),
      };
    }),
    symbols,
    notes,
    warnings,
  };
  // The renderers ask for the layers' outputs in layer order: a layer's output usually has
  // the id after the last one asked for (checked before the name map, whose lookups are
  // cache misses on a large graph), and the outputs along a chain of pointwise layers share
  // one field, whose JSON is then made once.
  let next = 0;
  const lastAsked = new LastView();
  setTensorSource(report, {
    get(name) {
      const id = names[next] === name ? next : ids.get(name);
      if (id === undefined) return undefined;
      next = id + 1;
      return entry(id, lastAsked);
    },
    *entries() {
      // Entries made one at a time and dropped once written. A chain of pointwise layers
      // shares one field: its JSON is made again only when the field changes.
      const last = new LastView();
      for (let id = 0; id < states.length; id++) {
        const e = entry(id, last);
        if (e) yield [names[id], e];
      }
    },
  });
  if (opts.modules) {
    const types = new Map<string, string>();
    for (const { node } of shapes.order) for (const f of node.module ?? []) if (f.type) types.set(f.path, f.type);
    report.modules = moduleTree(report, {
      paths: modulePaths(shapes.order.map(({ node }) => node)),
      types,
      weights: shapes.order.map((l) => perLayer[l.index]?.weights ?? []),
    });
  }
  return report;
}

/** A row's cost from its parts in costParts' order (as byConventionRecord from the counts). */
function costRecord(v: readonly number[]): NonNullable<LayerReport["cost"]> {
  return { macs: v[0], bias: v[1], add: v[2], mul: v[3], div: v[4], exp: v[5], cmp: v[6] };
}

/**
 * An empty object for thousands of names as keys, already in V8's dictionary mode (deleting
 * a property other than the last one added switches it): otherwise V8 makes a hidden class
 * for each name it adds before it gives up on them, 10,000s of them on a large graph.
 */
function nameTable<T>(): Record<string, T> {
  const o: Record<string, unknown> = { a: 0, b: 0 };
  delete o.a;
  delete o.b;
  return o as Record<string, T>;
}

/** The row with the op as the file names it, right after `op` (the order the JSON report lists them in). */
function withSource(row: LayerReport, source: string): LayerReport {
  const { name, op, ...rest } = row;
  return { name, op, source, ...rest };
}

/** A field's JSON, and its region on the image for a tensor of `shape`. */
interface FieldView {
  json: FieldJson;
  shape?: Shape;
  region?: FieldRegion;
}

/** Fields' views kept for the tensors that come after: all of them (a Map) or the last one. */
interface FieldViews {
  get(f: TensorField): FieldView | undefined;
  set(f: TensorField, view: FieldView): unknown;
}

/** The last field's view only: what entries made one at a time reuse. */
class LastView implements FieldViews {
  private field: TensorField | undefined;
  private view: FieldView | undefined;
  get(f: TensorField): FieldView | undefined {
    return f === this.field ? this.view : undefined;
  }
  set(f: TensorField, view: FieldView): void {
    this.field = f;
    this.view = view;
  }
}

function sameShape(a: Shape | undefined, b: Shape | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.length === b.length && a.every((d, i) => d === b[i]));
}
