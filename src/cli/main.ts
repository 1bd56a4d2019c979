import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { CONVENTIONS } from "../analysis/conventions.js";
import { explainLayer } from "../analysis/explain.js";
import { type AnalyzeOptions, analyze } from "../analysis/index.js";
import { firstReaching, unitBox, unitsSeeing } from "../analysis/rf-query.js";
import { parseSweep, sweep, sweepInput } from "../analysis/sweep.js";
import { OPTIMIZERS, PRECISIONS } from "../analysis/training.js";
import { SIZE_DTYPES, type SizeDType } from "../core/dtype.js";
import { ConvscopeError } from "../core/errors.js";
import type { Graph } from "../core/graph.js";
import type { Report } from "../core/report.js";
import { readModel } from "../formats/index.js";
import { jsonChunks, RENDERERS, renderRfTable, tableChunks } from "../render/index.js";
import { SWEEP_RENDERERS, sizeFunctionLines } from "../render/sweep.js";
import { depthArg, TREE_RENDERERS } from "../render/tree.js";
import { ZOO } from "../zoo/index.js";
import { failure, oneOf, parseFlags, parseInputs, positiveInt } from "./args.js";
import { compareCommand } from "./compare.js";
import { fileSource } from "./node-source.js";
import { deviceRoofline, RUNTIME_COMMANDS, RUNTIME_HELP, runtimeMain } from "./runtime-cli.js";
import { serve } from "./serve.js";

const HELP = `convscope — receptive field, compute, parameters and memory of a convolutional network

usage: convscope <model> [options]
       convscope serve [model] [--port N] [--no-open]   the offline web page on 127.0.0.1
       convscope compare <model> <model> …  [--format table|md|csv|json|latex]  models side by side (compare --help)
  <model>                 a model file (ONNX, Caffe prototxt, Keras, TF.js, TFLite, convscope JSON)
                          or zoo:NAME (see --list-zoo)

options:
  --format table|json|csv|md   output format (default table); --json is --format json
  --input NAME=1x3x224x224     bind an input's shape (repeatable; symbols allowed: Nx3xHxW)
  --batch N                    batch size (replaces every input's first dim)
  --convention NAME            headline count: ${CONVENTIONS.map((c) => c.name).join(", ")} (default macs)
  --dtype ${Object.keys(SIZE_DTYPES).join("|")}        dtype for parameter sizes (default fp32)
  --explain LAYER              every number of one layer with its formula and values
  --train                      add a training-memory estimate (weights, gradients, optimizer, activations)
  --optimizer ${OPTIMIZERS.join("|")}     optimizer for --train (default adam)
  --precision ${PRECISIONS.join("|")}  precision for --train (default fp32)
  --rf TENSOR@y,x              the input box a unit of TENSOR sees (unclipped, clipped, centre)
  --rf-pixel y,x --rf-tensor T which units of tensor T see input pixel (y, x)
  --rf-min N                   the first tensor whose field reaches N pixels
  --rf-table                   the per-tensor receptive-field table (r, S, P per axis)
  --sweep H=128:1024:64        cost against input size: exact figures per size (H=…, W=…, S=… both, or lists
                               H=224,320) and closed forms in H and W checked against them
  --depth N                    roll layers up into modules to depth N (0: the flat table); JSON gains "modules"
  --list-zoo                   list the built-in models
  --help, --version

exit status: 0 on success, 2 on bad input (one line on stderr naming the file, layer and problem)
`;

/** Runs the CLI; returns the exit code (exported for tests). */
export function main(argv: string[], out: (s: string) => void, err: (s: string) => void): number {
  try {
    if (argv[0] === "serve") return serve(argv.slice(1), out, err);
    if (argv[0] === "compare") return compareCommand(argv.slice(1), out, withModel);
    return run(argv, out);
  } catch (e) {
    return failure(e, err);
  }
}

function run(argv: string[], out: (s: string) => void): number {
  const { values: v, positionals } = parseFlags(parse, argv);
  if (v.help) {
    out(HELP);
    out(RUNTIME_HELP);
    return 0;
  }
  if (v.version) {
    out(`${version()}\n`);
    return 0;
  }
  if (v["list-zoo"]) {
    const w = Math.max(...Object.keys(ZOO).map((k) => k.length));
    for (const [name, z] of Object.entries(ZOO)) out(`zoo:${name.padEnd(w)}  ${z.description}\n`);
    return 0;
  }
  if (positionals.length !== 1)
    throw new ConvscopeError(positionals.length === 0 ? "no model given (see --help)" : `one model at a time, got ${positionals.length}`);
  const format = v.json ? "json" : (v.format ?? "table");
  const render = RENDERERS[format];
  if (!render) throw new ConvscopeError(`unknown format '${format}' (known: ${Object.keys(RENDERERS).join(", ")})`);
  const opts: AnalyzeOptions = { inputs: parseInputs(v.input ?? []) };
  if (v.batch !== undefined) opts.batch = positiveInt("--batch", v.batch);
  if (v.convention !== undefined) opts.convention = v.convention;
  // analyze() checks the convention and dtype names and says which exist.
  if (v.dtype !== undefined) opts.dtype = v.dtype as SizeDType;
  if (v.train || v.optimizer !== undefined || v.precision !== undefined) {
    opts.training = {
      optimizer: oneOf("--optimizer", v.optimizer ?? "adam", OPTIMIZERS),
      precision: oneOf("--precision", v.precision ?? "fp32", PRECISIONS),
    };
  }
  if (v.explain !== undefined) {
    const layer = v.explain;
    out(withModel(positionals[0], (g) => explainLayer(g, layer, opts)));
    return 0;
  }
  if (v.sweep !== undefined) {
    const renderSweep = SWEEP_RENDERERS[format];
    if (!renderSweep) throw new ConvscopeError(`--sweep: unknown format '${format}' (known: ${Object.keys(SWEEP_RENDERERS).join(", ")})`);
    const specs = v.sweep;
    out(renderSweep(withModel(positionals[0], (g) => sweep(g, parseSweep(specs, sweepInput(g)), opts))));
    return 0;
  }
  const depth = v.depth === undefined ? undefined : depthArg(v.depth);
  if (depth) opts.modules = true;
  // rf_region is read by the JSON report and the --rf queries only (--device's roofline never does).
  if (format !== "json" && v.rf === undefined && v["rf-pixel"] === undefined && v["rf-min"] === undefined) opts.regions = false;
  let sizeLines: string[] = [];
  const report = withModel(positionals[0], (g) => {
    const r = analyze(g, opts);
    // Symbolic H and W: every count is '?'; the closed forms in H and W say what they are.
    if (format === "table" && !depth && r.symbols.length > 0 && v.explain === undefined) sizeLines = sizeFunctionLines(g, opts);
    return r;
  });
  if (v.device !== undefined) {
    out(deviceRoofline(report, v.device, v.dtype, format === "json"));
    return 0;
  }
  const query = rfQuery(report, v);
  if (query !== undefined) out(format === "json" ? `${JSON.stringify(query.result, null, 2)}\n` : query.text);
  else if (v["rf-table"]) out(renderRfTable(report));
  else if (depth && format !== "json") out(TREE_RENDERERS[format](report, depth));
  // A large JSON report goes out in pieces rather than as one string of its whole size.
  else if (format === "json") {
    // --depth N: the modules down to depth N (each row's own_layers still point at the layers).
    if (depth && report.modules) report.modules = report.modules.filter((m) => m.depth <= depth);
    for (const chunk of jsonChunks(report)) out(chunk);
  } else {
    // The table, like the JSON report, goes out in pieces.
    if (format === "table") for (const chunk of tableChunks(report)) out(chunk);
    else out(render(report));
    if (sizeLines.length > 0) out(`${sizeLines.join("\n")}\n`);
  }
  return 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      format: { type: "string" },
      json: { type: "boolean" },
      input: { type: "string", multiple: true },
      batch: { type: "string" },
      convention: { type: "string" },
      dtype: { type: "string" },
      explain: { type: "string" },
      train: { type: "boolean" },
      optimizer: { type: "string" },
      precision: { type: "string" },
      rf: { type: "string" },
      "rf-pixel": { type: "string" },
      "rf-tensor": { type: "string" },
      "rf-min": { type: "string" },
      "rf-table": { type: "boolean" },
      depth: { type: "string" },
      sweep: { type: "string", multiple: true },
      "list-zoo": { type: "boolean" },
      device: { type: "string" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" },
    },
  });
}

/**
 * Runs `use` on a zoo model or a file read by content. The file stays open until `use`
 * returns: analysis may still decode small constants (reshape targets) from it lazily.
 */
export function withModel<R>(model: string, use: (g: Graph) => R): R {
  if (model.startsWith("zoo:")) {
    const name = model.slice(4);
    const z = ZOO[name];
    if (!z) throw new ConvscopeError(`no zoo model '${name}' (known: ${Object.keys(ZOO).join(", ")})`);
    return use(z.build());
  }
  const src = fileSource(model);
  try {
    return use(readModel(src));
  } finally {
    src.close();
  }
}

/** Runs the receptive-field query the flags ask for, if any. */
function rfQuery(report: Report, v: ReturnType<typeof parse>["values"]): { result: unknown; text: string } | undefined {
  if (v.rf !== undefined) {
    const at = v.rf.lastIndexOf("@");
    if (at <= 0) throw new ConvscopeError(`--rf takes TENSOR@y,x, got '${v.rf}'`);
    const b = unitBox(report, v.rf.slice(0, at), coords("--rf", v.rf.slice(at + 1)));
    const box = (s: number[], e: number[]) => s.map((x, a) => `${x}…${e[a]}`).join(" × ");
    const text = [
      `${b.tensor}@${b.unit.join(",")}${b.local ? " (local path; the tensor is also global)" : ""}`,
      `  sees input ${box(b.start, b.end)}${b.clipped ? `; inside the image ${box(b.clipped.start, b.clipped.end)}` : "; entirely outside the image"}`,
      `  centre ${b.centre.join(", ")}`,
    ];
    return { result: b, text: `${text.join("\n")}\n` };
  }
  if (v["rf-pixel"] !== undefined) {
    if (!v["rf-tensor"]) throw new ConvscopeError("--rf-pixel needs --rf-tensor TENSOR");
    const s = unitsSeeing(report, v["rf-tensor"], coords("--rf-pixel", v["rf-pixel"]));
    const axis = s.ranges.map((rs) => (rs.length === 0 ? "none" : rs.map(([a, b]) => (a === b ? `${a}` : `${a}…${b}`)).join(", ")));
    return { result: s, text: `units of ${s.tensor} that see pixel ${s.pixel.join(",")}: ${axis.join(" × ")}\n` };
  }
  if (v["rf-min"] !== undefined) {
    const n = positiveInt("--rf-min", v["rf-min"]);
    const hit = firstReaching(report, n);
    const text = hit
      ? `${hit.tensor} (layer ${hit.layer}) is the first whose field reaches ${n} px: ${hit.size.join("×")}\n`
      : `no tensor's local field reaches ${n} px\n`;
    return { result: hit ?? null, text };
  }
  return undefined;
}

function coords(flag: string, s: string): number[] {
  if (!/^\d+(,\d+)*$/.test(s)) throw new ConvscopeError(`${flag} takes comma-separated unit indices like 3,4, got '${s}'`);
  return s.split(",").map(Number);
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
  return `convscope ${pkg.version}`;
}

/**
 * The command as a process runs it: output to stdout, errors to stderr, the exit code set.
 * A reader that stops early (`convscope m.onnx --json | head`) closes the pipe: that ends
 * the command quietly, never with a stack trace.
 */
export function runCli(argv: string[]): void {
  if (RUNTIME_COMMANDS.has(argv[0])) {
    void runtimeMain(
      argv,
      (s) => process.stdout.write(s),
      (s) => process.stderr.write(s),
      process.stderr.isTTY === true,
    ).then((code) => {
      process.exitCode = code;
    });
    return;
  }
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
    process.exit(process.exitCode ?? 0);
  });
  process.exitCode = main(
    argv,
    (s) => process.stdout.write(s),
    (s) => process.stderr.write(s),
  );
  // `serve` returns with its server listening; every other command is done here.
  if (argv[0] !== "serve") exitOnceWritten();
}

/**
 * Ends the process as soon as stdout and then stderr have taken everything written to them
 * (a pipe takes large output in pieces: exiting before it has would cut the output short).
 * Left to end by itself, Node first waits for every queued task of V8's background threads
 * (the end of its event loop drains them), and those are mostly optimizing compilations of
 * functions the finished command never calls again: on a 10,000-node graph the main thread
 * sat idle 47–65 ms after its last write (a CPU profile's trailing idle samples; the futex
 * wait under strace), while a background thread compiled. An explicit exit still runs the
 * 'exit' listeners and waits for a compilation already running, but drops the queued ones.
 */
function exitOnceWritten(): void {
  process.stdout.write("", () => process.stderr.write("", () => process.exit()));
}

// `tsx src/cli/main.ts` (npm start); the installed command is bin/convscope.cjs.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) runCli(process.argv.slice(2));
