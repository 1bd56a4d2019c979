import { parseArgs } from "node:util";
import { compareReports } from "../analysis/compare.js";
import { type AnalyzeOptions, analyze } from "../analysis/index.js";
import { OPTIMIZERS, PRECISIONS } from "../analysis/training.js";
import { ConvscopeError } from "../core/errors.js";
import type { Graph } from "../core/graph.js";
import { COMPARE_RENDERERS } from "../render/compare.js";
import { oneOf, parseFlags, parseInputs, positiveInt } from "./args.js";

export const COMPARE_HELP = `usage: convscope compare <model> <model> [<model> …] [options]
  one table, a column per model (any formats mixed, zoo:NAME too): params, MACs in the chosen
  convention, FLOPs, peak activation memory, training memory (--train), the last feature map's
  receptive field, the input, and each value's ratio to the first model

options:
  --format table|md|csv|json|latex   (default table; latex is a booktabs table: M params, G MACs)
  --convention NAME                  headline count (default macs)
  --input NAME=SHAPE                 bind an input's shape in every model that has that input (repeatable)
  --batch N                          batch size for every model
  --train [--optimizer O] [--precision P]   add the training-memory row
  --label NAME                       a column's title, in model order (repeatable; default the file name)
`;

/** `convscope compare a.onnx b.prototxt zoo:resnet50 …`; returns the exit code. */
export function compareCommand(argv: string[], out: (s: string) => void, withModel: <R>(model: string, use: (g: Graph) => R) => R): number {
  const { values: v, positionals } = parseFlags(parse, argv, "convscope compare --help", "compare: ");
  if (v.help) {
    out(COMPARE_HELP);
    return 0;
  }
  if (positionals.length < 2) throw new ConvscopeError(`compare takes two models or more, got ${positionals.length}`);
  const format = v.json ? "json" : (v.format ?? "table");
  const render = COMPARE_RENDERERS[format];
  if (!render) throw new ConvscopeError(`compare: unknown format '${format}' (known: ${Object.keys(COMPARE_RENDERERS).join(", ")})`);
  const inputs = parseInputs(v.input ?? []);
  const opts: AnalyzeOptions = {};
  if (v.convention !== undefined) opts.convention = v.convention;
  if (v.batch !== undefined) opts.batch = positiveInt("--batch", v.batch);
  if (v.train || v.optimizer !== undefined || v.precision !== undefined) {
    opts.training = {
      optimizer: oneOf("--optimizer", v.optimizer ?? "adam", OPTIMIZERS),
      precision: oneOf("--precision", v.precision ?? "fp32", PRECISIONS),
    };
  }
  const reports = positionals.map((m) =>
    withModel(m, (g) => {
      const own = Object.fromEntries(Object.entries(inputs).filter(([k]) => g.inputs.includes(k)));
      return analyze(g, { ...opts, inputs: own });
    }),
  );
  const labels = positionals.map((p, i) => v.label?.[i] ?? (p.startsWith("zoo:") ? p : (p.split(/[\\/]/).pop() ?? p)));
  out(render(compareReports(reports, labels)));
  return 0;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      format: { type: "string" },
      json: { type: "boolean" },
      convention: { type: "string" },
      input: { type: "string", multiple: true },
      batch: { type: "string" },
      train: { type: "boolean" },
      optimizer: { type: "string" },
      precision: { type: "string" },
      label: { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  });
}
