import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { attr, graph, inlineWeights, model, node, type Pb, tensor, valueInfo } from "../test/formats/onnx-writer.js";
import { machine, writeSection } from "./benchmarks-md.js";

/**
 * ONNX reading benchmark (`npm run bench`, after `npm run build`): whole `convscope FILE
 * --json` processes on models with their weights inside the file, and on synthetic graphs
 * of growing size, side by side with `cat FILE > /dev/null`. Writes the "ONNX reading"
 * section of BENCHMARKS.md. Models are made in a temp dir and deleted afterwards.
 */

const ROOT = new URL("../", import.meta.url).pathname;
const CLI = join(ROOT, "bin/convscope.cjs");
const FIXTURES = join(ROOT, "test/fixtures/onnx");
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

/** onnx's own C++ (under Python): load the file and infer every shape — issue 13's yardstick (PY_INFER: a process of it). */
const ONNX_PASS = "m = onnx.load(sys.argv[1]); onnx.shape_inference.infer_shapes(m)";
const PY_INFER = `import sys, onnx; ${ONNX_PASS}`;

/** The graphs issue 13's goals compare with onnx. */
const ISSUE_GRAPHS = ["synthetic, 10,000 nodes", "synthetic, 100,000 nodes"];

/**
 * The python3 that has `onnx`, as the interpreter's own path (sys.executable), or undefined.
 * `python3` on PATH may be a version manager's shim: pyenv's is a shell script that costs
 * 100–150 ms a run on this machine before Python starts, which is not onnx's time.
 */
function pythonWithOnnx(): string | undefined {
  const r = spawnSync("python3", ["-c", "import sys, onnx; print(sys.executable)"], { encoding: "utf8" });
  const exe = r.status === 0 ? r.stdout.trim() : "";
  return exe === "" ? undefined : exe;
}

/** One process's figures. */
interface Run {
  /** Wall time. */
  ms: number;
  /** User + system CPU time: what contention from other processes does not inflate. */
  cpuMs: number;
  rssMB: number;
}

/** The medians of several runs. */
interface Measure extends Run {
  /** Every run's wall time, lowest first (the spread a median hides). */
  walls: number[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Node reads the certificates NODE_EXTRA_CA_CERTS names at every start, before any script
 * runs: on a machine that sets it (this one does, for its proxy) that alone costs ~90 ms.
 * Every process is therefore also timed without it, the way a user's shell runs it.
 */
const CA = process.env.NODE_EXTRA_CA_CERTS;
const PLAIN_ENV: NodeJS.ProcessEnv = { ...process.env };
delete PLAIN_ENV.NODE_EXTRA_CA_CERTS;

/**
 * One process: wall time as bash's `time` sees it (from the fork of a small shell, as a user's
 * shell starts the command: forking this benchmark's own large process would add its page
 * tables to every figure); CPU time and peak RSS from /usr/bin/time.
 */
function timed(cmd: string[], env: NodeJS.ProcessEnv = process.env): Run {
  const quoted = cmd.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const script = `TIMEFORMAT=%3R; time /usr/bin/time -f '%U %S %M' ${quoted} >/dev/null`;
  const r = spawnSync("bash", ["-c", script], { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8", env });
  if (r.status !== 0) throw new Error(`${cmd.join(" ")} failed: ${r.stderr}`);
  const lines = r.stderr.trim().split("\n");
  const wall = Number(lines.pop());
  const [user, sys, kb] = (lines.pop() as string).split(" ").map(Number);
  return { ms: wall * 1000, cpuMs: (user + sys) * 1000, rssMB: kb / 1024 };
}

function medianOf(cmd: string[], runs = RUNS, env: NodeJS.ProcessEnv = process.env): Measure {
  return mediansOf([{ cmd, env }], runs)[0];
}

/**
 * Several commands measured in turn — one run of each per round, `runs` rounds after a
 * warm-up round — so a machine that speeds up or slows down during the benchmark (a
 * neighbour's load, the CPU's clock) shifts all of them alike and their ratios hold.
 */
function mediansOf(cmds: { cmd: string[]; env?: NodeJS.ProcessEnv }[], runs = RUNS): Measure[] {
  for (const { cmd, env } of cmds) timed(cmd, env); // warm the page cache and the module cache
  const all: Run[][] = cmds.map(() => []);
  for (let i = 0; i < runs; i++) for (let k = 0; k < cmds.length; k++) all[k].push(timed(cmds[k].cmd, cmds[k].env));
  return all.map((ms) => ({
    ms: median(ms.map((m) => m.ms)),
    cpuMs: median(ms.map((m) => m.cpuMs)),
    rssMB: median(ms.map((m) => m.rssMB)),
    walls: ms.map((m) => m.ms).sort((a, b) => a - b),
  }));
}

/** Bytes the CLI process read from files (rchar of /proc/self/io at exit, minus node's own start-up). */
function bytesRead(file: string): number {
  const out = join(tmpdir(), `convscope-io-${process.pid}`);
  const probe = `data:text/javascript,import{readFileSync,writeFileSync}from"node:fs";process.on("exit",()=>writeFileSync(process.env.IO_OUT,readFileSync("/proc/self/io","utf8")))`;
  const run = (args: string[]) => {
    spawnSync(process.execPath, ["--import", probe, ...args], { stdio: "ignore", env: { ...process.env, IO_OUT: out } });
    const io = readFileSync(out, "utf8");
    return Number(/rchar: (\d+)/.exec(io)?.[1]);
  };
  const base = run([CLI, "--version"]);
  const total = run([CLI, file, "--json"]);
  rmSync(out, { force: true });
  return total - base;
}

/** A chain of residual blocks (Conv 3×3 → Relu → Conv 3×3 → Add), 4 nodes each, tiny inline weights. */
function synthetic(nodes: number): Pb {
  const blocks = Math.ceil(nodes / 4);
  const ns: Pb[] = [];
  const inits: Pb[] = [];
  let x = "input";
  const conv = (name: string, from: string, to: string) => {
    inits.push(tensor({ name: `${name}.weight`, dims: [4, 4, 3, 3], fill: 4 * 4 * 9 * 4 }));
    ns.push(
      node({
        op: "Conv",
        name: `${name}/Conv`,
        inputs: [from, `${name}.weight`],
        outputs: [to],
        attrs: [attr.ints("kernel_shape", [3, 3]), attr.ints("pads", [1, 1, 1, 1]), attr.ints("strides", [1, 1])],
      }),
    );
  };
  for (let b = 0; b < blocks; b++) {
    const p = `/block${b}`;
    conv(`${p}/conv1`, x, `${p}/conv1/Conv_output_0`);
    ns.push(node({ op: "Relu", name: `${p}/relu/Relu`, inputs: [`${p}/conv1/Conv_output_0`], outputs: [`${p}/relu/Relu_output_0`] }));
    conv(`${p}/conv2`, `${p}/relu/Relu_output_0`, `${p}/conv2/Conv_output_0`);
    ns.push(node({ op: "Add", name: `${p}/Add`, inputs: [`${p}/conv2/Conv_output_0`, x], outputs: [`${p}/Add_output_0`] }));
    x = `${p}/Add_output_0`;
  }
  return model(
    graph({ name: "synthetic", nodes: ns, initializers: inits, inputs: [valueInfo("input", [1, 4, 16, 16])], outputs: [valueInfo(x)] }),
  );
}

function main(): void {
  if (!existsSync(join(ROOT, "dist/cli/convscope.cjs")))
    throw new Error("dist/cli/convscope.cjs is missing: run `npm run build` first (npm run bench does)");
  const start = machine();
  const dir = mkdtempSync(join(tmpdir(), "convscope-bench-"));
  const rows: string[] = [];
  const results = new Map<string, Measure>();
  const plainResults = new Map<string, Measure>();
  const tableResults = new Map<string, Measure>();
  const tablePlainResults = new Map<string, Measure>();
  const pyResults = new Map<string, Measure>();
  try {
    const files: [string, string][] = [];
    for (const [label, fixture] of [
      ["ResNet-50, weights inline", "resnet50"],
      ["VGG-16, weights inline", "vgg16"],
    ]) {
      const path = join(dir, `${fixture}.onnx`);
      inlineWeights(new Uint8Array(readFileSync(join(FIXTURES, `${fixture}.onnx`)))).writeFile(path);
      files.push([label, path]);
    }
    for (const n of [1_000, 10_000, 100_000]) {
      const path = join(dir, `synthetic-${n}.onnx`);
      synthetic(n).writeFile(path);
      files.push([`synthetic, ${n.toLocaleString("en-US")} nodes`, path]);
    }

    const bare = medianOf(["node", "-e", "0"]);
    const barePlain = medianOf(["node", "-e", "0"], RUNS, PLAIN_ENV);
    rows.push(
      `| \`node -e 0\` (start-up alone) | – | ${bare.ms.toFixed(0)} ms | ${bare.cpuMs.toFixed(0)} ms | ${barePlain.ms.toFixed(0)} ms | ${barePlain.cpuMs.toFixed(0)} ms | ${bare.rssMB.toFixed(0)} MB | – | – | – |`,
    );
    const python = pythonWithOnnx();
    for (const [label, path] of files) {
      const size = statSync(path).size;
      // The synthetic graphs take the issue's median of 5 (its comparison with onnx); only
      // the files of hundreds of MB, which take no longer to analyse, run fewer rounds.
      const runs = size > 50e6 ? Math.max(3, RUNS - 2) : RUNS;
      // The table, as a user runs it, is timed on the synthetic graphs (the issue's first goal compares it with onnx).
      const cmds: { cmd: string[]; env?: NodeJS.ProcessEnv }[] = [
        { cmd: ["node", CLI, path, "--json"] },
        { cmd: ["node", CLI, path, "--json"], env: PLAIN_ENV },
        { cmd: ["sh", "-c", `cat '${path}' > /dev/null`] },
      ];
      const pyAt = python ? cmds.push({ cmd: [python, "-c", PY_INFER, path] }) - 1 : -1;
      const tableAt = label.includes("synthetic") ? cmds.push({ cmd: ["node", CLI, path] }) - 1 : -1;
      const tablePlainAt = tableAt >= 0 ? cmds.push({ cmd: ["node", CLI, path], env: PLAIN_ENV }) - 1 : -1;
      const m = mediansOf(cmds, runs);
      const [cs, plain, cat] = m;
      const py = pyAt >= 0 ? m[pyAt] : undefined;
      const table = tableAt >= 0 ? m[tableAt] : undefined;
      if (table) tableResults.set(label, table);
      if (tablePlainAt >= 0) tablePlainResults.set(label, m[tablePlainAt]);
      if (py) pyResults.set(label, py);
      const read = bytesRead(path);
      results.set(label, cs);
      plainResults.set(label, plain);
      rows.push(
        `| ${label} | ${(size / 2 ** 20).toFixed(1)} MB | ${cs.ms.toFixed(0)} ms | ${cs.cpuMs.toFixed(0)} ms | ${plain.ms.toFixed(0)} ms | ${plain.cpuMs.toFixed(0)} ms | ${cs.rssMB.toFixed(0)} MB | ${(read / 2 ** 20).toFixed(2)} MB | ${cat.ms.toFixed(0)} ms | ${py ? `${py.ms.toFixed(0)} ms, ${py.rssMB.toFixed(0)} MB` : "n/a"} |`,
      );
      console.log(rows[rows.length - 1]);
    }
    const phaseRows = files.map(([label, path]) => `- ${label}: ${phases(path)}.`);
    const passRows = files
      .filter(([label]) => ISSUE_GRAPHS.includes(label))
      .map(([label, path]) => `- ${label}: ${passes(path, python, label === ISSUE_GRAPHS[1] ? 3 : RUNS)}.`);
    const [bigLabel, bigPath] = files[files.length - 1];
    const floor = `- ${bigLabel}, the report alone: ${reportCost(bigPath, dir)}.`;
    const verdict = (ok: boolean) => (ok ? "met" : "**missed**");
    const goals = (res: Map<string, Measure>): string[] => {
      const r50 = res.get("ResNet-50, weights inline") as Measure;
      const vgg = res.get("VGG-16, weights inline") as Measure;
      const k1 = res.get("synthetic, 1,000 nodes") as Measure;
      const k10 = res.get("synthetic, 10,000 nodes") as Measure;
      const k100 = res.get("synthetic, 100,000 nodes") as Measure;
      return [
        `  - ResNet-50 under 150 ms and 100 MB: wall ${r50.ms.toFixed(0)} ms (${verdict(r50.ms < 150)}), CPU ${r50.cpuMs.toFixed(0)} ms (${verdict(r50.cpuMs < 150)}), ${r50.rssMB.toFixed(0)} MB (${verdict(r50.rssMB < 100)}).`,
        `  - VGG-16 (${(statSync(join(dir, "vgg16.onnx")).size / statSync(join(dir, "resnet50.onnx")).size).toFixed(1)}× the bytes) within 1.5× of ResNet-50: wall ×${(vgg.ms / r50.ms).toFixed(2)}, CPU ×${(vgg.cpuMs / r50.cpuMs).toFixed(2)}, RSS ×${(vgg.rssMB / r50.rssMB).toFixed(2)} — ${verdict(vgg.cpuMs < 1.5 * r50.cpuMs && vgg.rssMB < 1.5 * r50.rssMB)}.`,
        `  - 100,000 nodes: wall ${k100.ms.toFixed(0)} ms, CPU ${k100.cpuMs.toFixed(0)} ms, peak RSS ${k100.rssMB.toFixed(0)} MB (goal under 400 MB: ${verdict(k100.rssMB < 400)}). CPU growth: 1k → 10k ×${(k10.cpuMs / k1.cpuMs).toFixed(1)}, 10k → 100k ×${(k100.cpuMs / k10.cpuMs).toFixed(1)} (start-up dominates the small graph).`,
      ];
    };
    const goalLines = [
      "- Without NODE_EXTRA_CA_CERTS (how a user's shell starts node):",
      ...goals(plainResults),
      `- With this machine's environment${CA ? " (NODE_EXTRA_CA_CERTS set)" : ""}:`,
      ...goals(results),
    ];
    const ratioLines: string[] = [];
    // The medians' ratio can flip between runs of the bench when the runs of the two tools
    // overlap: every run's wall time is listed under the table.
    const spread = (m: Measure) => m.walls.map((w) => w.toFixed(0)).join(", ");
    const spreadLines: string[] = [];
    for (const label of ISSUE_GRAPHS) {
      const py = pyResults.get(label);
      const table = tableResults.get(label) as Measure;
      const json = results.get(label) as Measure;
      const tablePlain = tablePlainResults.get(label) as Measure;
      const jsonPlain = plainResults.get(label) as Measure;
      if (!py) continue;
      const r = (m: Measure, k: "ms" | "cpuMs") => m[k] / py[k];
      ratioLines.push(
        `| ${label} | ${py.ms.toFixed(0)} ms / ${py.cpuMs.toFixed(0)} ms, ${py.rssMB.toFixed(0)} MB | ${table.ms.toFixed(0)} ms / ${table.cpuMs.toFixed(0)} ms, ${table.rssMB.toFixed(0)} MB | ×${r(table, "ms").toFixed(2)} / ×${r(table, "cpuMs").toFixed(2)} (goal ≤ 1: ${verdict(r(table, "ms") <= 1)}) | ${json.ms.toFixed(0)} ms / ${json.cpuMs.toFixed(0)} ms, ${json.rssMB.toFixed(0)} MB | ×${r(json, "ms").toFixed(2)} / ×${r(json, "cpuMs").toFixed(2)} (goal ≤ 1.5: ${verdict(r(json, "ms") <= 1.5)}) | ×${r(tablePlain, "ms").toFixed(2)} / ×${r(jsonPlain, "ms").toFixed(2)} |`,
      );
      spreadLines.push(`- ${label}: onnx ${spread(py)}; table ${spread(table)}; --json ${spread(json)}.`);
    }
    const versusOnnx = python
      ? [
          `Against onnx's own C++, in this run (issue 13): \`python3 -c "${PY_INFER}" FILE\``,
          `(python3 run as the interpreter itself, ${python}: a version manager's \`python3\` shim would add its own start to onnx's time)`,
          "beside `convscope FILE` (the table) and `convscope FILE --json`, same files, median of the same whole-process runs (wall / CPU, peak RSS; this machine's env).",
          "The goals are judged in this machine's environment; the last column gives the wall-time ratios of the same commands without NODE_EXTRA_CA_CERTS (which python does not read), as a user's shell runs them.",
          "",
          "| graph | onnx.load + infer_shapes | convscope (table) | table ÷ onnx | convscope --json | --json ÷ onnx | table / --json ÷ onnx, no CA var |",
          "|---|---|---|---|---|---|---|",
          ...ratioLines,
          "",
          "Every run's wall time in ms, lowest first (this machine's env), against which to read the medians' ratios:",
          "",
          ...spreadLines,
          "",
        ]
      : ["python3 here has no `onnx` package (`pip install onnx`): the comparison with onnx's C++ is skipped.", ""];
    const md = [
      "## ONNX reading",
      "",
      `Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench\` (bench/onnx.ts): ${start}.`,
      `Each figure is the median of ${RUNS} whole processes (3 for the files over 50 MB) after one warm-up run, files in the page cache; the commands for one file run in turn, one of each per round, so a drift in the machine's speed shifts them alike.`,
      "`convscope` is `node bin/convscope.cjs FILE --json`, the installed command (the bundled CLI, loaded through the V8 code cache the build stores) (stdout to /dev/null); peak RSS from `/usr/bin/time -f %M`;",
      '"read" is the bytes the process read from files (`rchar` of /proc/self/io) beyond what `convscope --version` reads.',
      CA
        ? "This machine sets NODE_EXTRA_CA_CERTS (a proxy's certificates), which Node loads at every start before any script runs; the \"no CA var\" columns run the same command without it, as a user's shell would."
        : 'NODE_EXTRA_CA_CERTS is not set here, so the "no CA var" columns equal the others.',
      python ? "" : "python3 here has no `onnx` package, so the `onnx.load + infer_shapes` column is empty.",
      "",
      "| model | file | convscope wall | convscope CPU | wall, no CA var | CPU, no CA var | peak RSS | read | `cat FILE > /dev/null` | `onnx.load` + `infer_shapes` |",
      "|---|---|---|---|---|---|---|---|---|---|",
      ...rows,
      "",
      ...versusOnnx,
      `The same work again within one process, ${PASSES} times (medians of ${RUNS} processes, 3 at 100,000 nodes, convscope's and onnx's in turn; this machine's env):`,
      "a convscope pass is the command's run on the file (the table, to /dev/null) after Node's start-up and the bundle's load; an onnx pass is",
      "`onnx.load` + `infer_shapes` after `import onnx`. convscope's first pass runs while V8 is still compiling its code (the command's case);",
      "each later pass runs more of it optimised. onnx's passes are C++ from the first.",
      "",
      ...passRows,
      "",
      "Goals:",
      "",
      ...goalLines,
      "",
      "Where one process's wall time goes (ms, one run each without NODE_EXTRA_CA_CERTS, `performance.now()` inside the process):",
      "",
      ...phaseRows,
      floor,
      "",
      "Reading is the ONNX reader's share; start-up is Node's own, import is loading convscope's modules (here the separate",
      "modules of dist/; the command itself loads one bundle through its code cache, which the table above measures), analyse and",
      "render are the analysis passes and the JSON renderer (its pieces, as the command writes them). The `node -e 0` row is Node's start-up alone on this machine.",
      'The reader asks for no payload byte (test/formats/onnx-lazy.test.ts); "read" counts what node-source.ts\'s',
      "read-ahead fetches around the graph's fields: 64 KiB blocks while reading on, 4 KiB after a skipped payload.",
      "",
    ].join("\n");
    writeSection(md);
    console.log(md);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Passes timed within one process: convscope's command (the table) and onnx's load + infer_shapes, each run three times. */
const PASSES = 3;

/**
 * The same work again in one process, convscope and onnx in turn for `rounds` rounds (medians):
 * what a run costs once V8 has optimised convscope's code, against its first pass, which runs
 * while V8 is still compiling. convscope is the installed command's own load (the bin's
 * flags and code cache) and its `main` (table written to /dev/null); onnx is timed from
 * `import onnx` on. Both in this machine's environment.
 */
function passes(path: string, python: string | undefined, rounds: number): string {
  const node = `
    const start = performance.now();
    const { cli, cached } = require(${JSON.stringify(CLI)}).load(true);
    const loaded = performance.now();
    const fs = require("node:fs");
    const fd = fs.openSync("/dev/null", "w");
    const put = (s) => fs.writeSync(fd, s);
    const ms = [];
    for (let i = 0; i < ${PASSES}; i++) {
      const t = performance.now();
      if (cli.main([${JSON.stringify(path)}], put, put) !== 0) process.exit(1);
      ms.push(performance.now() - t);
    }
    console.log(JSON.stringify({ start, load: loaded - start, ms, cached }));`;
  const py = [
    "import json, sys, time",
    "t = time.perf_counter()",
    "import onnx",
    "imp = (time.perf_counter() - t) * 1e3",
    "ms = []",
    `for i in range(${PASSES}):`,
    "    t = time.perf_counter()",
    `    ${ONNX_PASS}`,
    "    ms.append((time.perf_counter() - t) * 1e3)",
    'print(json.dumps({"import": imp, "ms": ms}))',
  ].join("\n");
  const cs: { start: number; load: number; ms: number[]; cached: boolean }[] = [];
  const ox: { import: number; ms: number[] }[] = [];
  for (let i = 0; i < rounds; i++) {
    const r = spawnSync(process.execPath, ["-e", node], { encoding: "utf8" });
    if (r.status !== 0) return `failed: ${r.stderr.split("\n")[0]}`;
    cs.push(JSON.parse(r.stdout));
    if (python) {
      const p = spawnSync(python, ["-c", py, path], { encoding: "utf8" });
      if (p.status !== 0) return `onnx failed: ${p.stderr.split("\n")[0]}`;
      ox.push(JSON.parse(p.stdout));
    }
  }
  const at = (xs: { ms: number[] }[], k: number) => median(xs.map((x) => x.ms[k]));
  const list = (xs: { ms: number[] }[]) => xs[0].ms.map((_, k) => at(xs, k).toFixed(0)).join(" / ");
  const last = PASSES - 1;
  const parts = [
    `convscope: Node's start-up ${median(cs.map((c) => c.start)).toFixed(0)}, load ${median(cs.map((c) => c.load)).toFixed(0)}${cs.every((c) => c.cached) ? "" : " (code cache not used)"}, passes ${list(cs)} ms`,
  ];
  if (ox.length > 0) {
    parts.push(`onnx: import ${median(ox.map((o) => o.import)).toFixed(0)}, passes ${list(ox)} ms`);
    parts.push(
      `first pass ÷ onnx's first ×${(at(cs, 0) / at(ox, 0)).toFixed(2)}, pass ${PASSES} ÷ onnx's pass ${PASSES} ×${(at(cs, last) / at(ox, last)).toFixed(2)}`,
    );
  }
  return parts.join("; ");
}

/** Where one process's wall time goes: Node's start-up, importing convscope, read, analyse, render. */
function phases(path: string): string {
  const script = `
    const t = [performance.now()];
    const { readModel } = await import("${ROOT}dist/formats/index.js");
    const { analyze } = await import("${ROOT}dist/analysis/index.js");
    const { jsonChunks } = await import("${ROOT}dist/render/index.js");
    const { fileSource } = await import("${ROOT}dist/cli/node-source.js");
    t.push(performance.now());
    const src = fileSource(${JSON.stringify(path)});
    const g = readModel(src); t.push(performance.now());
    const r = analyze(g); t.push(performance.now());
    let json = 0;
    for (const piece of jsonChunks(r)) json += piece.length;
    t.push(performance.now());
    src.close();
    console.log(JSON.stringify({ t, json }));`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", env: PLAIN_ENV });
  if (r.status !== 0) return `failed: ${r.stderr.split("\n")[0]}`;
  const { t, json } = JSON.parse(r.stdout) as { t: number[]; json: number };
  const d = (i: number) => (t[i] - t[i - 1]).toFixed(0);
  return `start-up ${t[0].toFixed(0)}, import ${d(1)}, read ${d(2)}, analyse ${d(3)}, render ${d(4)} (${(json / 2 ** 20).toFixed(1)} MB of JSON)`;
}

/**
 * What the report alone costs, for scale: in a fresh process, JSON.parse of the command's own
 * output (native code making the report's objects from its text) and jsonChunks over the result.
 */
function reportCost(path: string, dir: string): string {
  const out = join(dir, "report.json");
  const made = spawnSync("bash", ["-c", `'${process.execPath}' '${CLI}' '${path}' --json > '${out}'`], { env: PLAIN_ENV });
  if (made.status !== 0) return "failed";
  const script = `
    import { readFileSync } from "node:fs";
    const { jsonChunks } = await import("${ROOT}dist/render/index.js");
    const text = readFileSync(${JSON.stringify(out)}, "utf8");
    let t = performance.now();
    const r = JSON.parse(text);
    const parse = performance.now() - t;
    t = performance.now();
    let n = 0;
    for (const piece of jsonChunks(r)) n += piece.length;
    console.log(JSON.stringify({ parse, render: performance.now() - t, mb: n / 2 ** 20 }));`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", env: PLAIN_ENV });
  rmSync(out, { force: true });
  if (r.status !== 0) return "failed";
  const m = JSON.parse(r.stdout) as { parse: number; render: number; mb: number };
  const both = m.parse + m.render;
  return [
    `JSON.parse of its ${m.mb.toFixed(0)} MB report (V8 scanning the text and allocating the report's objects, natively) ${m.parse.toFixed(0)} ms,`,
    `writing them again ${m.render.toFixed(0)} ms: together ${both.toFixed(0)} ms before a byte of the model is read.`,
    "For scale: making and printing a report of this size costs about that much on this machine, whatever computes it",
  ].join("\n  ");
}

main();
