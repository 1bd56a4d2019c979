import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import type { Graph, Node, Tensor } from "../../src/core/graph.js";
import type { Report } from "../../src/core/report.js";
import type { Shape } from "../../src/core/shape.js";
import { renderCsv, renderMarkdown, renderTable } from "../../src/render/index.js";
import { prng } from "../support/prng.js";

/**
 * Property: a total is exact or null, never a partial sum. For random graphs where some
 * ops are unknown to convscope (`Mystery`, standing in for a Relu or a per-channel Mul it
 * does not know) and some dims are unbound symbols, every exact total equals the true total
 * (the same graph with the real ops and every dim bound), and every null total comes with
 * its known part — a lower bound — and a reason.
 */

interface Built {
  /** The graph with Mystery ops and symbolic dims. */
  partial: Graph;
  /** The same graph with the real ops, every dim bound. */
  truth: Graph;
  h: number;
  w: number;
}

function build(seed: number): Built {
  const rand = prng(seed);
  const pick = (n: number) => Math.floor(rand() * n);
  const h = 8 + 4 * pick(4);
  const w = 8 + 4 * pick(4);
  const symbolic = pick(2) === 1;
  const mystery = pick(3) > 0;
  const nodes: { partial: Node; truth: Node }[] = [];
  const pTensors = new Map<string, Tensor>();
  const tTensors = new Map<string, Tensor>();
  const weight = (name: string, truthShape: Shape, partialShape: Shape = truthShape) => {
    const init = { byteLength: 0, location: "absent" as const };
    pTensors.set(name, { name, dtype: "float32", shape: partialShape, initializer: init });
    tTensors.set(name, { name, dtype: "float32", shape: truthShape, initializer: init });
  };
  pTensors.set("x", { name: "x", dtype: "float32", shape: [1, 3, symbolic ? "H" : h, symbolic ? "W" : w] });
  tTensors.set("x", { name: "x", dtype: "float32", shape: [1, 3, h, w] });
  let cur = "x";
  let c = 3;
  let hh = h;
  let ww = w;
  const add = (op: string, inputs: string[], attrs: Node["attrs"] = {}, unknown = false) => {
    const name = `n${nodes.length}`;
    const truth: Node = { name, op, inputs, outputs: [name], attrs };
    nodes.push({ truth, partial: unknown ? { ...truth, op: "Mystery", attrs: {} } : truth });
    cur = name;
    return name;
  };
  const steps = 3 + pick(6);
  for (let i = 0; i < steps; i++) {
    const kind = pick(5);
    const unknown = mystery && pick(4) === 0;
    if (kind <= 1) {
      const m = 2 + pick(6);
      const s = 1 + pick(2);
      weight(`w${i}`, [m, c, 3, 3]);
      weight(`b${i}`, [m]);
      add("Conv", [cur, `w${i}`, `b${i}`], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [s, s] });
      c = m;
      hh = Math.floor((hh - 1) / s) + 1;
      ww = Math.floor((ww - 1) / s) + 1;
    } else if (kind === 2) {
      add("Relu", [cur], {}, unknown);
    } else if (kind === 3) {
      weight(`g${i}`, [c, 1, 1]);
      add("Mul", [cur, `g${i}`], {}, unknown);
    } else if (hh >= 2 && ww >= 2) {
      add("MaxPool", [cur], { kernel_shape: [2, 2], strides: [2, 2] });
      hh = Math.floor(hh / 2);
      ww = Math.floor(ww / 2);
    }
  }
  // The head: a classifier on the flattened map (its weight unsized in the partial graph, as a
  // Caffe InnerProduct's is) or after global pooling.
  const out = 2 + pick(8);
  if (pick(2) === 0) add("GlobalAveragePool", [cur]);
  const k = nodes.at(-1)?.truth.op === "GlobalAveragePool" ? c : c * hh * ww;
  add("Flatten", [cur], { axis: 1 });
  weight("fc.w", [out, k], [out, "K"]);
  weight("fc.b", [out]);
  add("Gemm", [cur, "fc.w", "fc.b"], { transB: 1 });
  const graph = (which: "partial" | "truth", tensors: Map<string, Tensor>): Graph => ({
    name: `g${seed}`,
    format: "builder",
    opset: 13,
    inputs: ["x"],
    outputs: [cur],
    nodes: nodes.map((n) => n[which]),
    tensors,
    notes: [],
  });
  return { partial: graph("partial", pTensors), truth: graph("truth", tTensors), h, w };
}

const SUMMED = ["params", "trainable_params", "macs", "flops", "seed", "value", "activation_bytes"] as const;

function checkTotals(r: Report, truth: Report, label: string): void {
  for (const key of SUMMED) {
    const v = r.totals[key];
    const t = truth.totals[key];
    assert.notEqual(t, null, `${label}: the truth has ${key}`);
    if (v !== null) {
      assert.equal(v, t, `${label}: exact ${key} is the true sum`);
      continue;
    }
    const known = r.totals.known;
    assert.ok(known, `${label}: ${key} is null, so the known part is given`);
    assert.ok(known.missing[key], `${label}: ${key} says what it leaves out`);
    assert.ok((known[key] as number) <= (t as number), `${label}: known ${key} ${known[key]} is a lower bound of ${t}`);
  }
  for (const [name, v] of Object.entries(r.totals.by_convention)) {
    const t = truth.totals.by_convention[name];
    if (v !== null) assert.equal(v, t, `${label}: ${name}`);
    else assert.ok((r.totals.known?.by_convention[name] ?? Number.NaN) <= (t as number), `${label}: known ${name}`);
  }
  // Per layer: a count is the true one or null.
  r.layers.forEach((l, i) => {
    const tl = truth.layers[i];
    for (const key of ["params", "macs", "flops"] as const)
      if (l[key] !== null) assert.equal(l[key], tl[key], `${label}: ${l.name} ${key}`);
  });
}

describe("partial totals (property)", () => {
  it("on 400 random graphs with unknown ops and unbound dims every exact total is the true sum or null", () => {
    let partial = 0;
    let exact = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const b = build(seed);
      const truth = analyze(b.truth);
      assert.equal(truth.totals.known, undefined, `seed ${seed}: the truth is complete`);
      const r = analyze(b.partial);
      checkTotals(r, truth, `seed ${seed}`);
      // Bound with --input: only the Mystery ops can leave anything out.
      const bound = analyze(b.partial, { inputs: { x: [1, 3, b.h, b.w] } });
      checkTotals(bound, truth, `seed ${seed} bound`);
      if (bound.totals.unknown_layers === 0) {
        assert.equal(bound.totals.known, undefined, `seed ${seed}: bound and known, nothing partial`);
        for (const key of SUMMED) assert.equal(bound.totals[key], truth.totals[key], `seed ${seed} bound ${key}`);
      }
      if (r.totals.known) partial++;
      else exact++;
    }
    // The generator covers both cases.
    assert.ok(partial > 100 && exact > 50, `${partial} partial, ${exact} exact`);
  });

  it("every renderer marks a partial total: the table, Markdown and CSV never print the known part as the total", () => {
    for (let seed = 1; seed <= 60; seed++) {
      const r = analyze(build(seed).partial);
      const k = r.totals.known;
      if (!k) continue;
      const table = renderTable(r);
      const md = renderMarkdown(r);
      const csv = renderCsv(r);
      if (r.totals.value === null) {
        assert.ok(table.includes(`≥ `) && table.includes(k.missing.value), `seed ${seed}: table`);
        assert.ok(md.includes(k.missing.value.replace(/([|\\`*_<>[\]])/g, "\\$1")), `seed ${seed}: markdown`);
      }
      assert.match(csv, /\n\(total\),,partial,/, `seed ${seed}: csv`);
      assert.match(csv, /\n"?\(known part, lower bound\)"?,/, `seed ${seed}: csv`);
    }
  });
});
