import { byteSize, dtypeBits } from "../core/dtype.js";
import { ConvscopeError } from "../core/errors.js";
import type { Graph } from "../core/graph.js";
import { type Dim, mul, numel, type Shape } from "../core/shape.js";
import { type Cost, ZERO_COST } from "../ops/index.js";
import { CONVENTIONS, fmt, markPaddedPools } from "./conventions.js";
import { type AnalyzeOptions, analyze } from "./index.js";
import { topoOrder } from "./order.js";
import { inferShapes, type LayerState } from "./shapes.js";

/** One explained number: name, symbolic formula, the same with values, result. */
interface Line {
  name: string;
  formula?: string;
  values?: string;
  value: number | null;
}

const dot = (xs: readonly (number | string)[]) => xs.join("·");

/** Per-axis names for spatial dims and kernels (2-d: H, W and k_h, k_w). */
function axisNames(rank: number, suffix: string): { dims: string[]; kernel: string[] } {
  const letters =
    rank === 1 ? ["L"] : rank === 2 ? ["H", "W"] : rank === 3 ? ["D", "H", "W"] : Array.from({ length: rank }, (_, i) => `S${i}`);
  return { dims: letters.map((l) => `${l}_${suffix}`), kernel: letters.map((l) => `k_${l.toLowerCase()}`) };
}

function known(s: Shape | undefined): number[] | null {
  return s?.every((d) => typeof d === "number") ? (s as number[]) : null;
}

/** The batch prefix of a formula: nothing for one image, `N·` otherwise. */
function batchTerm(n: number): { f: string; v: string } {
  return n === 1 ? { f: "", v: "" } : { f: "N·", v: `${n}·` };
}

/** macs / params / seed / bias formulas of a convolution (`Conv`, `ConvTranspose`). */
function convLines(l: LayerState, c: Cost): Line[] | null {
  const x = known(l.ctx.inputs[0]?.shape);
  const w = known(l.ctx.inputs[1]?.shape);
  const y = known(l.ctx.outputs[0]?.shape);
  if (!x || !w || !y) return null;
  const g = l.ctx.attrs.int("group", 1);
  const k = w.slice(2);
  const hasBias = l.ctx.inputs[2] !== undefined;
  const b = batchTerm(y[0]);
  const transpose = l.node.op === "ConvTranspose";
  const cin = x[1];
  const cout = y[1];
  const lines: Line[] = [];
  if (!transpose) {
    const n = axisNames(k.length, "out");
    lines.push({
      name: "macs",
      formula: `${b.f}${dot(n.dims)}·C_out · (C_in/g)·${dot(n.kernel)}`,
      values: `${b.v}${dot(y.slice(2))}·${cout} · (${cin}/${g})·${dot(k)}`,
      value: c.macs,
    });
    lines.push({
      name: "params",
      formula: `C_out·(C_in/g)·${dot(n.kernel)}${hasBias ? " + C_out" : ""}`,
      values: `${cout}·(${cin}/${g})·${dot(k)}${hasBias ? ` + ${cout}` : ""}`,
      value: mul(cout, cin / g, ...k) + (hasBias ? cout : 0),
    });
    lines.push({
      name: "seed",
      formula: `${b.f}(${dot(n.kernel)}·C_in/g + 1)·${dot(n.dims)}·C_out`,
      values: `${b.v}(${dot(k)}·${cin}/${g} + 1)·${dot(y.slice(2))}·${cout}`,
      value: c.seed,
    });
  } else {
    const n = axisNames(k.length, "in");
    lines.push({
      name: "macs",
      formula: `${b.f}${dot(n.dims)}·C_in · (C_out/g)·${dot(n.kernel)}  (on the input: each input element is spread over a k-window)`,
      values: `${b.v}${dot(x.slice(2))}·${cin} · (${cout}/${g})·${dot(k)}`,
      value: c.macs,
    });
    lines.push({
      name: "params",
      formula: `C_in·(C_out/g)·${dot(n.kernel)}${hasBias ? " + C_out" : ""}`,
      values: `${cin}·(${cout}/${g})·${dot(k)}${hasBias ? ` + ${cout}` : ""}`,
      value: mul(cin, cout / g, ...k) + (hasBias ? cout : 0),
    });
    lines.push({ name: "seed", formula: "macs + outputs", values: `${fmt(c.macs)} + ${fmt(c.seed - c.macs)}`, value: c.seed });
  }
  if (hasBias) {
    const n = axisNames(k.length, "out");
    lines.push({ name: "bias", formula: `${b.f}${dot(n.dims)}·C_out`, values: `${b.v}${dot(y.slice(2))}·${cout}`, value: c.bias });
  }
  return lines;
}

/** Fully-connected (`Gemm`) and `MatMul` formulas. */
function linearLines(l: LayerState, c: Cost): Line[] | null {
  const y = known(l.ctx.outputs[0]?.shape);
  const a = known(l.ctx.inputs[0]?.shape);
  if (!y || !a) return null;
  if (l.node.op === "Gemm") {
    const [rows, out] = y;
    const inF = l.ctx.attrs.int("transA", 0) ? a[0] : a[1];
    const hasBias = l.ctx.inputs[2] !== undefined;
    const r = rows === 1 ? { f: "", v: "" } : { f: "rows·", v: `${rows}·` };
    return [
      { name: "macs", formula: `${r.f}out·in`, values: `${r.v}${out}·${inF}`, value: c.macs },
      {
        name: "params",
        formula: `out·in${hasBias ? " + out" : ""}`,
        values: `${out}·${inF}${hasBias ? ` + ${out}` : ""}`,
        value: mul(out, inF) + (hasBias ? out : 0),
      },
      { name: "seed", formula: `${r.f}(in + 1)·out`, values: `${r.v}(${inF} + 1)·${out}`, value: c.seed },
      ...(hasBias ? [{ name: "bias", formula: `${r.f}out`, values: `${r.v}${out}`, value: c.bias }] : []),
    ];
  }
  // Every output element is one K-long dot product, whatever the broadcast batch dims.
  return [{ name: "macs", formula: "numel(y)·K", values: `${dot(y)}·${a[a.length - 1]}`, value: c.macs }];
}

/** Pooling formulas: comparisons or adds over each window. */
function poolLines(l: LayerState, c: Cost): Line[] | null {
  const y = known(l.ctx.outputs[0]?.shape);
  const x = known(l.ctx.inputs[0]?.shape);
  if (!y || !x) return null;
  const op = l.node.op;
  if (op.startsWith("Global")) {
    const s = x.slice(2);
    const ch = dot(y.slice(0, 2));
    if (op === "GlobalMaxPool") return [{ name: "cmp", formula: "N·C·(Π(in spatial) − 1)", values: `${ch}·(${dot(s)} − 1)`, value: c.cmp }];
    if (op === "GlobalAveragePool") {
      return [
        { name: "add", formula: "N·C·(Π(in spatial) − 1)", values: `${ch}·(${dot(s)} − 1)`, value: c.add },
        { name: "div", formula: "N·C", values: ch, value: c.div },
      ];
    }
    return null;
  }
  const k = l.ctx.attrs.ints("kernel_shape");
  const outs = dot(y);
  if (op === "MaxPool") return [{ name: "cmp", formula: "numel(y)·(Πk − 1)", values: `${outs}·(${dot(k)} − 1)`, value: c.cmp }];
  if (op === "AveragePool") {
    return [
      { name: "add", formula: "numel(y)·(Πk − 1)", values: `${outs}·(${dot(k)} − 1)`, value: c.add },
      { name: "div", formula: "numel(y)", values: outs, value: c.div },
    ];
  }
  return null;
}

/** The Cost breakdown as per-output-element counts (the fallback for every other op). */
function breakdownLines(l: LayerState, c: Cost): Line[] {
  const y = known(l.ctx.outputs[0]?.shape);
  const n = y ? numel(y) : null;
  const lines: Line[] = [];
  for (const k of ["macs", "bias", "add", "mul", "div", "exp", "cmp"] as const) {
    if (!c[k]) continue;
    if (y && n && c[k] % n === 0) {
      const per = c[k] / n;
      lines.push({ name: k, formula: `numel(y)·${per}`, values: `${dot(y)}·${per}`, value: c[k] });
    } else lines.push({ name: k, value: c[k] });
  }
  if (lines.length === 0) lines.push({ name: "arithmetic", formula: "none (it moves or reinterprets data)", value: 0 });
  return lines;
}

/** Parameters as the sum of the layer's stored float inputs, when no family formula gave them. */
function paramLine(l: LayerState, params: number | null, trainable: number | null): Line | null {
  if (!params) return null;
  const parts = l.node.inputs
    .map((name, i) => ({ name, t: l.ctx.inputs[i] }))
    .filter(({ t, name }, i) => t?.constant && !l.rule?.valueInputs?.includes(i) && name !== "");
  const values = parts.map(({ t }) => (t?.shape ? dot(t.shape) : "?")).join(" + ");
  const names = parts.map(({ name }) => name).join(" + ");
  const frozen = trainable !== null && trainable !== params ? `  (trainable ${fmt(trainable)}; the rest are buffers)` : "";
  return { name: "params", formula: `${names}${frozen}`, values, value: params };
}

/** `how = value`, unless `how` already ends with the value or is a bare "0 (…)". */
function withResult(how: string, value: number): string {
  return how.endsWith(`= ${fmt(value)}`) || how.startsWith("0 (") ? how : `${how} = ${fmt(value)}`;
}

function render(line: Line): string {
  if (line.name === "arithmetic") return `  arithmetic: ${line.formula}`;
  const lhs = `${line.name.padEnd(7)}=`;
  const parts = [line.formula, line.values].filter((p): p is string => !!p && p !== String(line.value));
  const v = line.value === null ? "?" : fmt(line.value);
  return `  ${lhs} ${parts.length ? `${parts.join(" = ")} = ` : ""}${v}`;
}

/**
 * Every number of one layer with its formula and the values substituted, e.g.
 * `macs = 55·55·96 · (3/1)·11·11 = 105,415,200`: the per-family formula for convolutions,
 * fully-connected layers and pooling, the arithmetic breakdown (per output element) for any
 * other op, parameters, output bytes, the flops breakdown and each convention's value with
 * what it adds. Figures are per image (the graph is analysed at batch 1 unless an input
 * shape was bound with another batch, which the header then says).
 */
export function explainLayer(g: Graph, name: string, opts: AnalyzeOptions = {}): string {
  const bound: AnalyzeOptions = { ...opts, batch: 1, training: undefined };
  const report = analyze(g, bound);
  const layerReport = report.layers.find((l) => l.name === name);
  if (!layerReport) {
    const near = report.layers.filter((l) => l.name.toLowerCase().includes(name.toLowerCase())).slice(0, 5);
    const hint = near.length
      ? `; did you mean ${near.map((l) => `'${l.name}'`).join(", ")}?`
      : ` (${report.layers.length} layers; list them with --format csv)`;
    throw new ConvscopeError(`no layer named '${name}'${hint}`, { file: g.file });
  }
  const order = inferShapes(g, topoOrder(g), bound).order;
  markPaddedPools(order);
  const layer = order.find((l) => l.node.name === name) as LayerState;
  const batch = report.batch;
  const out: string[] = [];
  const shapeOf = (t: string) => {
    const s = report.tensors[t]?.shape ?? layer.ctx.inputs[layer.node.inputs.indexOf(t)]?.shape;
    return s ? (s as Dim[]).join("×") : "?";
  };
  out.push(
    `${name} (${layer.node.op}${layer.node.source && layer.node.source !== layer.node.op ? ` from ${layer.node.source}` : ""}, ${layerReport.family}) — ${batch === 1 ? "per image" : `whole batch of ${batch}`}`,
  );
  out.push(
    `  in:  ${
      layer.node.inputs
        .filter((t) => t !== "")
        .map((t) => `${t} ${shapeOf(t)}`)
        .join(", ") || "none"
    }`,
  );
  out.push(
    `  out: ${layer.node.outputs
      .filter((t) => t !== "")
      .map((t) => `${t} ${shapeOf(t)}`)
      .join(", ")}`,
  );
  if (layerReport.status === "unknown") {
    out.push(`  convscope has no rule for ${layer.node.op}: nothing is counted for this layer`);
    return `${out.join("\n")}\n`;
  }
  if (layer.folded) {
    out.push("  every input is a constant: the layer is folded (shape arithmetic or a weight transform) and computes nothing at run time");
    return `${out.join("\n")}\n`;
  }
  const cost = layer.rule?.cost ? layer.rule.cost(layer.ctx) : ZERO_COST;
  if (!cost) {
    out.push("  the arithmetic depends on dims that are unknown (bind them with --input)");
    return `${out.join("\n")}\n`;
  }
  const op = layer.node.op;
  let lines: Line[] | null = null;
  if (op === "Conv" || op === "ConvTranspose") lines = convLines(layer, cost);
  else if (op === "Gemm" || op === "MatMul") lines = linearLines(layer, cost);
  else if (layerReport.family === "pool") lines = poolLines(layer, cost);
  lines ??= breakdownLines(layer, cost);
  if (!lines.some((l) => l.name === "params")) {
    const p = paramLine(layer, layerReport.params, layerReport.trainable_params);
    if (p) lines.push(p);
  }
  for (const l of lines) out.push(render(l));
  if (layerReport.repeats !== undefined) {
    out.push(
      layerReport.repeats === null
        ? "  a loop body's layer run an unknown number of times: these are one iteration's figures, the totals leave it out"
        : `  a loop body's layer run ${layerReport.repeats} times: these are one iteration's figures, the report counts ${layerReport.repeats}×`,
    );
  }

  const flops = CONVENTIONS.find((c) => c.name === "flops")?.measure(cost, layer);
  if (flops) out.push(`  flops  = ${withResult(flops.how(), flops.value)}`);
  for (const [i, o] of layer.node.outputs.entries()) {
    const t = layer.ctx.outputs[i];
    const s = known(t?.shape);
    if (o === "" || !t || !s) continue;
    const bits = dtypeBits(t.dtype);
    const size = bits % 8 === 0 ? `${bits / 8} B` : `${bits}/8 B`;
    out.push(
      `  output bytes ${o === name ? "" : `(${o}) `}= ${dot(s)} · ${size} (${t.dtype}) = ${fmt(byteSize(numel(s) as number, t.dtype))}`,
    );
  }
  out.push("  conventions:");
  const w = Math.max(...CONVENTIONS.map((c) => c.name.length));
  for (const cv of CONVENTIONS) {
    const m = cv.measure(cost, layer);
    out.push(`    ${cv.name.padEnd(w)}  ${m ? `${fmt(m.value).padStart(15)}  ${m.how()}` : "?"}`);
    const why = m?.value ? cv.approximated?.(layer) : null;
    if (why) out.push(`    ${"".padEnd(w)}  ${"".padStart(15)}  approximated: ${why}`);
  }
  return `${out.join("\n")}\n`;
}
