import { parseArgs } from "node:util";
import { type Device, parseDevice, ROOF_DTYPES, type RoofDType, renderRoofline, roofline } from "../analysis/roofline.js";
import { ConvscopeError } from "../core/errors.js";
import type { Report } from "../core/report.js";
import { failure, parseFlags, parseInputs } from "./args.js";

/**
 * The commands that run the model in onnxruntime (`measure`, `verify-rf`) and the
 * `--device` roofline of the analysis command. The runtime modules are imported only when
 * one of these runs, so the rest of the CLI never loads onnxruntime.
 */

export const RUNTIME_COMMANDS = new Set(["measure", "verify-rf"]);

export const RUNTIME_HELP = `
runtime commands (need onnxruntime-node):
  convscope measure <model.onnx> [--runs N] [--warmup N] [--threads N] [--device NAME|peak=…,bw=…] [--input …] [--json]
                          latency (median, p10, p90), per-layer time from onnxruntime's profiler,
                          peak memory, beside MACs, bytes moved and intensity; --device this (the
                          default) measures this machine for the roofline estimate
  convscope verify-rf <model.onnx> [--tensor T]... [--input …] [--json]
                          the analytic receptive field checked by single-pixel impulses
  --device NAME|peak=2T,bw=50G   (analysis command) roofline estimate per layer: ${["this (measure only)", "desktop-cpu", "a100", "h100", "rtx4090", "jetson-orin", "rpi5"].join(", ")}
`;

function count(flag: string, s: string | undefined, dflt: number, min = 1): number {
  if (s === undefined) return dflt;
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < min) throw new ConvscopeError(`${flag} takes an integer ≥ ${min}, got '${s}'`);
  return n;
}

/** A progress bar on stderr, drawn only on a terminal. */
function progressBar(label: string, err: (s: string) => void, tty: boolean): ((done: number, total: number) => void) & { end(): void } {
  let drawn = false;
  const f = (done: number, total: number) => {
    if (!tty) return;
    const w = 30;
    const full = Math.round((done / total) * w);
    err(`\r${label} [${"#".repeat(full)}${"-".repeat(w - full)}] ${done}/${total}`);
    drawn = true;
  };
  f.end = () => {
    if (drawn) err("\r\x1b[K");
  };
  return f;
}

/** Runs `measure` or `verify-rf`; returns the exit code. */
export async function runtimeMain(argv: string[], out: (s: string) => void, err: (s: string) => void, tty = false): Promise<number> {
  try {
    return await run(argv, out, err, tty);
  } catch (e) {
    return failure(e, err);
  }
}

async function run(argv: string[], out: (s: string) => void, err: (s: string) => void, tty: boolean): Promise<number> {
  const [cmd, ...rest] = argv;
  const { values: v, positionals } = parseFlags(parse, rest);
  if (v.help) {
    out(RUNTIME_HELP);
    return 0;
  }
  if (positionals.length !== 1)
    throw new ConvscopeError(positionals.length === 0 ? `${cmd}: no model given` : `${cmd}: one model at a time`);
  const file = positionals[0];
  const inputs = parseInputs(v.input ?? []);
  const threads = v.threads === undefined ? undefined : count("--threads", v.threads, 1);
  if (cmd === "measure") {
    const { measure, renderMeasure } = await import("../runtime/measure.js");
    let device: Device | undefined;
    const spec = v.device ?? "this";
    if (spec === "this") {
      const { measureThisMachine } = await import("../runtime/microbench.js");
      if (tty) err("measuring this machine's peak FLOP/s and bandwidth…");
      device = await measureThisMachine(threads);
      if (tty) err("\r\x1b[K");
    } else if (spec !== "none") device = parseDevice(spec);
    const bar = progressBar("measure", err, tty);
    const m = await measure(file, {
      inputs,
      runs: count("--runs", v.runs, 10),
      warmup: count("--warmup", v.warmup, 2, 0),
      threads,
      device,
      progress: bar,
    });
    bar.end();
    out(v.json ? `${JSON.stringify(m, null, 1)}\n` : renderMeasure(m));
    return 0;
  }
  const { verifyRf, renderVerify } = await import("../runtime/verify-rf.js");
  const bar = progressBar("verify-rf", err, tty);
  const r = await verifyRf(file, { inputs, tensors: v.tensor ?? [], threads, progress: bar });
  bar.end();
  out(v.json ? `${JSON.stringify(r, null, 1)}\n` : renderVerify(r));
  return r.ok ? 0 : 3;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      input: { type: "string", multiple: true },
      runs: { type: "string" },
      warmup: { type: "string" },
      threads: { type: "string" },
      device: { type: "string" },
      tensor: { type: "string", multiple: true },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}

/** `--device` on the analysis command: the roofline table (or its JSON) for the report. */
export function deviceRoofline(report: Report, spec: string, dtype: string | undefined, json: boolean): string {
  if (spec === "this")
    throw new ConvscopeError("--device this is measured by running onnxruntime: use `convscope measure MODEL --device this`");
  const d = dtype ?? "fp32";
  if (!(ROOF_DTYPES as readonly string[]).includes(d))
    throw new ConvscopeError(`the roofline takes --dtype ${ROOF_DTYPES.join(", ")}, got '${d}'`);
  const rf = roofline(report, parseDevice(spec), d as RoofDType);
  return json ? `${JSON.stringify(rf, null, 1)}\n` : renderRoofline(rf);
}
