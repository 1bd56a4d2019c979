import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { ConvscopeError } from "../../src/core/errors.js";
import { bufferSource, readModel } from "../../src/formats/index.js";
import { prng } from "../support/prng.js";
import { attr, DT, fields, graph, model, node, tensor, valueInfo, varintBytes } from "./onnx-writer.js";

/**
 * Mutates small ONNX models (random byte changes, truncations, corrupted length fields,
 * inserted and deleted ranges) and checks every outcome is a report or a one-line
 * ConvscopeError: never another exception, never a hang. `FUZZ_CASES` sets the count
 * (`npm run fuzz` runs many more); `FUZZ_SEED` the seed.
 */
const CASES = Number(process.env.FUZZ_CASES ?? 6_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20_260_128);

const FIXTURES = new URL("../fixtures/onnx/", import.meta.url);

/** A model using every reader path: inline and typed data, Constants, attributes of each type, a subgraph, external data, symbols. */
function kitchenSink(): Uint8Array {
  // An If branch has no inputs of its own: it reads the outer graph's tensors (here x).
  const body = graph({
    nodes: [node({ op: "Relu", inputs: ["x"], outputs: ["b"] })],
    inputs: [],
    outputs: [valueInfo("b")],
  });
  return model(
    graph({
      nodes: [
        node({
          op: "Constant",
          inputs: [],
          outputs: ["shape"],
          attrs: [attr.t("value", tensor({ name: "", dims: [2], dataType: DT.INT64, int64s: [1, -1] }))],
        }),
        node({ op: "Constant", inputs: [], outputs: ["half"], attrs: [attr.f("value_float", 0.5)] }),
        node({
          op: "Conv",
          inputs: ["x", "w", "b"],
          outputs: ["c"],
          attrs: [
            attr.ints("kernel_shape", [3, 3]),
            attr.ints("pads", [1, 1, 1, 1]),
            attr.ints("strides", [2, 2]),
            attr.s("auto_pad", "NOTSET"),
          ],
        }),
        node({ op: "Mul", inputs: ["c", "half"], outputs: ["m"] }),
        node({ op: "MaxPool", inputs: ["m"], outputs: ["p"], attrs: [attr.ints("kernel_shape", [2, 2]), attr.ints("strides", [2, 2])] }),
        node({ op: "Reshape", inputs: ["p", "shape"], outputs: ["r"] }),
        node({ op: "Gemm", inputs: ["r", "fw"], outputs: ["y"], attrs: [attr.i("transB", 1), attr.f("alpha", 1)] }),
        node({ op: "If", inputs: ["cond"], outputs: ["z"], attrs: [attr.g("then_branch", body), attr.g("else_branch", body)] }),
      ],
      initializers: [
        tensor({ name: "w", dims: [4, 3, 3, 3], fill: 432 }),
        tensor({ name: "b", dims: [4], floats: [1, 2, 3, 4] }),
        tensor({ name: "fw", dims: [5, 16], external: { location: "fw.bin", length: 320 } }),
      ],
      inputs: [valueInfo("x", ["N", 3, 8, 8]), valueInfo("cond", [], DT.BOOL)],
      outputs: [valueInfo("y", ["N", 5]), valueInfo("z", [null])],
      valueInfo: [valueInfo("c", ["N", 4, 4, 4])],
    }),
  ).bytes();
}

/** Offsets of length varints along ONNX's message paths (model → graph → node → attribute → tensor …). */
const SUBMESSAGES: Record<string, Record<number, string>> = {
  model: { 7: "graph", 8: "opset" },
  graph: { 1: "node", 5: "tensor", 11: "info", 12: "info", 13: "info" },
  node: { 5: "attr" },
  attr: { 5: "tensor", 6: "graph" },
  tensor: { 13: "entry" },
  info: { 2: "type" },
  type: { 1: "ttype" },
  ttype: { 2: "shape" },
  shape: { 1: "dim" },
};
function lengthFields(b: Uint8Array, kind = "model", from = 0, to = b.length, out: number[] = []): number[] {
  for (const f of fields(b, from, to)) {
    if (f.lenAt === undefined) continue;
    out.push(f.lenAt);
    const sub = SUBMESSAGES[kind]?.[f.field];
    if (sub) lengthFields(b, sub, f.start, f.end, out);
  }
  return out;
}

function concat(...parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function mutate(base: Uint8Array, lens: number[], rnd: () => number): { bytes: Uint8Array; how: string } {
  const int = (n: number) => Math.floor(rnd() * n);
  const r = rnd();
  if (r < 0.35) {
    const b = Uint8Array.from(base);
    const n = 1 + int(3);
    const at: number[] = [];
    for (let i = 0; i < n; i++) {
      const p = int(b.length);
      b[p] = int(256);
      at.push(p);
    }
    return { bytes: b, how: `bytes changed at ${at.join(", ")}` };
  }
  if (r < 0.55) {
    const n = int(base.length);
    return { bytes: base.subarray(0, n), how: `truncated to ${n}` };
  }
  if (r < 0.9) {
    const p = lens[int(lens.length)];
    let end = p;
    while (base[end] >= 0x80) end++;
    end++;
    const choices = [0, 1, int(base.length), base.length * 2, 2 ** 31, 2 ** 53, int(128)];
    const v = choices[int(choices.length)];
    const bytes = concat(base.subarray(0, p), varintBytes(v), base.subarray(end));
    return { bytes, how: `length at ${p} set to ${v}` };
  }
  const p = int(base.length);
  const n = 1 + int(16);
  if (rnd() < 0.5) return { bytes: concat(base.subarray(0, p), base.subarray(p + n)), how: `deleted ${n} at ${p}` };
  const ins = Array.from({ length: n }, () => int(256));
  return { bytes: concat(base.subarray(0, p), ins, base.subarray(p)), how: `inserted ${n} at ${p}` };
}

test(`fuzz: ${CASES} mutated models each give a report or a one-line ConvscopeError`, () => {
  const corpus: [string, Uint8Array][] = [
    ["kitchen-sink.onnx", kitchenSink()],
    ["alexnet.onnx", readFileSync(new URL("alexnet.onnx", FIXTURES))],
    ["resnet18.onnx", readFileSync(new URL("resnet18.onnx", FIXTURES))],
  ];
  const lens = corpus.map(([, b]) => lengthFields(b));
  const rnd = prng(SEED);
  const outcomes = { report: 0, error: 0 };
  const failures: string[] = [];
  for (let i = 0; i < CASES; i++) {
    // The small model most of the time: each case stays well under a millisecond.
    const k = rnd() < 0.8 ? 0 : 1 + Math.floor(rnd() * 2);
    const [name, base] = corpus[k];
    const { bytes, how } = mutate(base, lens[k], rnd);
    try {
      analyze(readModel(bufferSource(name, bytes)));
      outcomes.report++;
    } catch (e) {
      if (e instanceof ConvscopeError && !e.oneLine().includes("\n")) outcomes.error++;
      else if (failures.length < 20) failures.push(`case ${i} (${name}, ${how}): ${(e as Error)?.stack ?? e}`);
    }
  }
  assert.deepEqual(failures, []);
  // Both outcomes occur: mutations inside names and numbers often leave a readable model.
  assert.ok(outcomes.report > CASES / 20 && outcomes.error > CASES / 5, JSON.stringify(outcomes));
});
