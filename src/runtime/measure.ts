import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve, sep } from "node:path";
import { type AnalyzeOptions, analyze } from "../analysis/index.js";
import { type Device, layerBytes, type RoofDType, roofline } from "../analysis/roofline.js";
import { fileSource } from "../cli/node-source.js";
import { ConvscopeError } from "../core/errors.js";
import { grouped } from "../core/grouped.js";
import { prng } from "../core/prng.js";
import type { Report } from "../core/report.js";
import { readModel } from "../formats/index.js";
import { exact } from "../render/format.js";
import { type EditModel, ELEMENT_BYTES, parseModel, writeModel } from "./onnx-edit.js";
import { createSession, loadOrt, type OrtTensor, runSession } from "./ort.js";
import { fillInitializers } from "./prepare.js";
import { attribute, kernelTimes, type ProfileEvent, quantile } from "./profile.js";

/**
 * `convscope measure`: the model run in onnxruntime on this machine, beside convscope's own
 * numbers for it. Only ONNX files run (other formats would need an ONNX writer per format).
 */

export interface MeasureOptions extends AnalyzeOptions {
  runs?: number;
  warmup?: number;
  threads?: number;
  /** Roofline device to set the estimate against (default: none). */
  device?: Device;
  dtype?: AnalyzeOptions["dtype"];
  /** Called after each run (done, total) — the progress bar. */
  progress?: (done: number, total: number) => void;
  seed?: number;
}

export interface MeasuredLayer {
  name: string;
  op: string;
  macs: number | null;
  flops: number | null;
  /** Bytes moved at fp32: activation inputs + weights + outputs. */
  bytes: number | null;
  intensity: number | null;
  /** Index into `groups` of the runtime group that executed the layer, or null (not executed). */
  group: number | null;
  /** Roofline estimate on `device`, seconds. */
  estimate: number | null;
  bound: "compute" | "memory" | null;
}

export interface MeasureResult {
  model: string;
  runtime: string;
  threads: number | null;
  runs: number;
  warmup: number;
  /** Seconds per run. */
  latency: { median: number; p10: number; p90: number; min: number; max: number; all: number[] };
  /** Weights generated in memory (the file did not hold them). */
  generated: { initializers: number; elements: number };
  /** Initializers read from external data files beside the model. */
  external_loaded: number;
  memory: {
    /** Peak bytes onnxruntime's arena held for activations during a run (its profiler's figure). */
    arena_peak_bytes: number | null;
    /** The process's peak resident set over the whole command, and its growth from before the session. */
    process_peak_rss_bytes: number;
    rss_growth_bytes: number;
    /** convscope's analytic peak of live activations, for comparison. */
    analytic_peak_activation_bytes: number | null;
    analytic_param_bytes: number | null;
  };
  analytic: { macs: number | null; flops: number | null; bytes: number | null; intensity: number | null };
  layers: MeasuredLayer[];
  groups: { layers: string[]; kernels: { node: string; op: string; time: number }[]; time: number; estimate: number | null }[];
  /** Kernels the runtime added (layout reorders, reshapes): time, seconds. */
  overhead: { node: string; op: string; time: number }[];
  /** Sum over kernels of each kernel's median time across the runs (profiled), seconds: without the gaps between kernels and preempted outliers the whole-run latency keeps. */
  profiled_total: number;
  device?: { name: string; label: string; estimate_total: number | null };
}

/**
 * Weights stored outside the model (ONNX external data) are read from their files when those
 * are there, so the run uses the real values; payloads whose file is missing stay absent
 * and get generated. Returns the number of initializers read.
 */
export function loadExternal(m: EditModel, dir: string): number {
  let n = 0;
  for (const t of m.initializers) {
    if (t.hasData || !t.external?.location) continue;
    const path = resolve(dir, t.external.location);
    if (!path.startsWith(resolve(dir) + sep) || !existsSync(path)) continue;
    const count = t.dims.reduce((a, d) => a * d, 1);
    const size = ELEMENT_BYTES[t.dataType];
    if (size === undefined) continue;
    const len = t.external.length ?? count * size;
    if (len !== count * size) throw new ConvscopeError(`initializer '${t.name}': external length ${len} is not ${count} × ${size} bytes`);
    const buf = new Uint8Array(len);
    const fd = openSync(path, "r");
    try {
      if (readSync(fd, buf, 0, len, t.external.offset) !== len)
        throw new ConvscopeError(`initializer '${t.name}': ${t.external.location} ends before byte ${t.external.offset + len}`);
    } finally {
      closeSync(fd);
    }
    t.fill = buf;
    t.hasData = true;
    n++;
  }
  return n;
}

/** Reads the model, fills what it lacks, binds inputs. Throws a one-line error for formats other than ONNX. */
export function loadForRuntime(file: string, opts: AnalyzeOptions): { report: Report; model: EditModel; bytes: Uint8Array } {
  const src = fileSource(file);
  let report: Report;
  try {
    const g = readModel(src);
    if (g.format !== "onnx")
      throw new ConvscopeError(`onnxruntime runs ONNX files; this is a ${g.format} model (convert it to ONNX first)`, { file });
    report = analyze(g, opts);
  } finally {
    src.close();
  }
  const bytes = new Uint8Array(readFileSync(file));
  const model = parseModel(bytes);
  // Inputs at the bound shapes (what the analysis used), so a symbolic dim gets its value.
  for (const v of model.inputs) {
    const r = report.inputs.find((i) => i.name === v.name);
    if (!r) continue;
    if (r.shape.some((d) => typeof d !== "number"))
      throw new ConvscopeError(`input '${v.name}' has shape ${r.shape.join("×")}: bind every dim with --input ${v.name}=…`, { file });
    if (r.dtype !== "float32") throw new ConvscopeError(`input '${v.name}' is ${r.dtype}: only float32 inputs can be generated`, { file });
    v.dims = r.shape as number[];
    v.elemType = 1;
  }
  return { report, model, bytes };
}

export function randomInput(ort: Awaited<ReturnType<typeof loadOrt>>, dims: readonly number[], seed: number): OrtTensor {
  const n = dims.reduce((a, d) => a * d, 1);
  const r = prng(seed);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = r() * 2 - 1;
  return new ort.Tensor("float32", data, dims);
}

export async function measure(file: string, opts: MeasureOptions = {}): Promise<MeasureResult> {
  const ort = await loadOrt();
  const runs = opts.runs ?? 10;
  const warmup = opts.warmup ?? 2;
  const { report, model } = loadForRuntime(file, opts);
  const fromFile = loadExternal(model, dirname(file));
  const gen = fillInitializers(model, "random", opts.seed ?? 1);
  const bytes = writeModel(model);
  const dir = mkdtempSync(join(tmpdir(), "convscope-measure-"));
  const rssBefore = process.memoryUsage().rss;
  try {
    const session = await createSession(
      ort,
      bytes,
      {
        ...(opts.threads ? { intraOpNumThreads: opts.threads } : {}),
        enableProfiling: true,
        profileFilePrefix: join(dir, "profile"),
        optimizedModelFilePath: join(dir, "optimized.onnx"),
      },
      file,
    );
    const feeds: Record<string, OrtTensor> = {};
    model.inputs.forEach((v, i) => {
      feeds[v.name] = randomInput(ort, v.dims as number[], (opts.seed ?? 1) + 100 + i);
    });
    const times: number[] = [];
    const total = warmup + runs;
    for (let i = 0; i < total; i++) {
      const t = performance.now();
      await runSession(session, feeds, file);
      const dt = (performance.now() - t) / 1e3;
      if (i >= warmup) times.push(dt);
      opts.progress?.(i + 1, total);
    }
    session.endProfiling();
    await session.release();
    const profileFile = readdirSync(dir).find((f) => f.startsWith("profile") && f.endsWith(".json"));
    const events: ProfileEvent[] = profileFile ? JSON.parse(readFileSync(join(dir, profileFile), "utf8")) : [];
    const runWindows = events.filter((e) => e.cat === "Session" && e.name === "model_run").slice(warmup);
    const { kernels, arenaPeak } = kernelTimes(events, runWindows);
    const optimized = parseModel(new Uint8Array(readFileSync(join(dir, "optimized.onnx"))));
    const attr = attribute(model.nodes, optimized.nodes, kernels, arenaPeak);

    const dtype: RoofDType = "fp32";
    const roof = opts.device ? roofline(report, opts.device, dtype) : undefined;
    const byOutput = new Map<string, number>();
    model.nodes.forEach((n, i) => {
      for (const o of n.outputs) byOutput.set(o, i);
    });
    const layerOfNode = new Map<string, string>();
    const layers: MeasuredLayer[] = report.layers.map((l, i) => {
      const ni = l.outputs.map((o) => byOutput.get(o)).find((x) => x !== undefined);
      const node = ni === undefined ? undefined : model.nodes[ni];
      if (node) layerOfNode.set(node.name, l.name);
      const b = layerBytes(report, l, dtype);
      const rl = roof?.layers[i];
      return {
        name: l.name,
        op: l.op,
        macs: l.macs,
        flops: l.flops,
        bytes: b,
        intensity: b && l.flops !== null ? l.flops / b : null,
        group: node ? (attr.groupOf.get(node.name) ?? null) : null,
        estimate: rl?.time ?? null,
        bound: rl?.bound ?? null,
      };
    });
    const groups = attr.groups.map((g) => {
      const members = layers.filter((_, i) => layers[i].group !== null && attr.groups[layers[i].group as number] === g);
      const est = members.reduce<number | null>((a, l) => (a === null || l.estimate === null ? null : a + l.estimate), roof ? 0 : null);
      return { layers: g.nodes.map((n) => layerOfNode.get(n) ?? n), kernels: g.kernels, time: g.time, estimate: est };
    });
    const profiledTotal = groups.reduce((a, g) => a + g.time, 0) + attr.overhead.reduce((a, k) => a + k.time, 0);
    const ru = process.resourceUsage();
    const flopsSum = report.layers.reduce<number | null>((a, l) => (a === null || l.flops === null ? null : a + l.flops), 0);
    const bytesSum = layers.reduce<number | null>((a, l) => (a === null || l.bytes === null ? null : a + l.bytes), 0);
    return {
      model: file,
      runtime: `onnxruntime-node ${ort.env.versions?.common ?? "?"} (CPU)`,
      threads: opts.threads ?? null,
      runs,
      warmup,
      latency: {
        median: quantile(times, 0.5),
        p10: quantile(times, 0.1),
        p90: quantile(times, 0.9),
        min: Math.min(...times),
        max: Math.max(...times),
        all: times,
      },
      generated: { initializers: gen.generated, elements: gen.elements },
      external_loaded: fromFile,
      memory: {
        arena_peak_bytes: attr.arenaPeak,
        process_peak_rss_bytes: ru.maxRSS * 1024,
        rss_growth_bytes: Math.max(0, ru.maxRSS * 1024 - rssBefore),
        analytic_peak_activation_bytes: report.totals.peak_activation_bytes,
        analytic_param_bytes: report.totals.param_bytes,
      },
      analytic: {
        macs: report.totals.macs,
        flops: flopsSum,
        bytes: bytesSum,
        intensity: flopsSum !== null && bytesSum ? flopsSum / bytesSum : null,
      },
      layers,
      groups,
      overhead: attr.overhead,
      profiled_total: profiledTotal,
      device: roof ? { name: roof.device.name, label: roof.device.label, estimate_total: roof.total_time } : undefined,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Human-readable report of a measurement. */
export function renderMeasure(m: MeasureResult): string {
  const ms = (s: number | null) => (s === null ? "?" : (s * 1e3).toFixed(3));
  const mb = (b: number | null) => (b === null ? "?" : `${(b / 2 ** 20).toFixed(1)} MiB`);
  const lines: string[] = [];
  lines.push(`${m.model} on ${m.runtime}, ${m.threads ?? "default"} threads, ${m.warmup} warm-up + ${m.runs} runs`);
  if (m.generated.initializers > 0)
    lines.push(
      `weights: ${m.generated.initializers} initializers (${grouped(m.generated.elements)} values) not in the file, generated at random`,
    );
  lines.push(`latency: median ${ms(m.latency.median)} ms, p10 ${ms(m.latency.p10)} ms, p90 ${ms(m.latency.p90)} ms`);
  lines.push(
    `memory: onnxruntime arena peak ${mb(m.memory.arena_peak_bytes)} (convscope's peak live activations ${mb(m.memory.analytic_peak_activation_bytes)}); process peak RSS ${mb(m.memory.process_peak_rss_bytes)}, +${mb(m.memory.rss_growth_bytes)} while running (weights ${mb(m.memory.analytic_param_bytes)})`,
  );
  lines.push(
    `analytic: ${exact(m.analytic.macs)} MACs, ${exact(m.analytic.bytes)} bytes moved (fp32), intensity ${m.analytic.intensity?.toFixed(1) ?? "?"} FLOP/B`,
  );
  if (m.device) lines.push(`roofline on ${m.device.label}: lower bound ${ms(m.device.estimate_total)} ms`);
  lines.push("");
  const w = Math.min(56, Math.max(5, ...m.layers.map((l) => l.name.length)));
  lines.push(
    `${"layer".padEnd(w)}  ${"op".padEnd(14)} ${"MACs".padStart(13)} ${"bytes".padStart(11)} ${"FLOP/B".padStart(7)} ${"ms".padStart(9)}${m.device ? `${"est. ms".padStart(9)} bound  ` : "  "}runtime group`,
  );
  const shown = new Set<number>();
  for (const l of m.layers) {
    const g = l.group === null ? undefined : m.groups[l.group];
    const first = l.group !== null && !shown.has(l.group);
    if (l.group !== null) shown.add(l.group);
    const time = g ? (first ? ms(g.time) : "〃") : "-";
    const fused =
      g && g.layers.length > 1
        ? `${first ? "" : "in "}#${l.group} (${g.layers.length} layers fused)`
        : g
          ? `#${l.group}`
          : "not run (folded by the optimizer)";
    lines.push(
      `${l.name.slice(0, w).padEnd(w)}  ${l.op.slice(0, 14).padEnd(14)} ${String(l.macs ?? "?").padStart(13)} ${String(l.bytes ?? "?").padStart(11)} ${(l.intensity === null ? "-" : l.intensity.toFixed(1)).padStart(7)} ${time.padStart(9)}${m.device ? `${ms(l.estimate).padStart(9)} ${(l.bound ?? "?").padEnd(6)}` : " "} ${fused}`,
    );
  }
  const oh = m.overhead.reduce((a, k) => a + k.time, 0);
  lines.push("");
  lines.push(
    `kernels (each its median over the runs): ${ms(m.profiled_total)} ms, of which ${ms(oh)} ms in ${m.overhead.length} kernels the runtime added (layout reorders, reshapes)`,
  );
  return `${lines.join("\n")}\n`;
}
