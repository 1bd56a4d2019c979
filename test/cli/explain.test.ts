import assert from "node:assert/strict";
import { test } from "node:test";
import { explainLayer } from "../../src/analysis/explain.js";
import { ZOO } from "../../src/zoo/index.js";
import { cli } from "../support/cli.js";

test("--explain conv1 prints every number with its formula and the values substituted", () => {
  const { code, out } = cli("zoo:alexnet", "--explain", "conv1");
  assert.equal(code, 0);
  const lines = out.split("\n").map((l) => l.trim());
  assert.ok(lines.includes("macs   = H_out·W_out·C_out · (C_in/g)·k_h·k_w = 55·55·96 · (3/1)·11·11 = 105,415,200"), out);
  assert.ok(lines.includes("params = C_out·(C_in/g)·k_h·k_w + C_out = 96·(3/1)·11·11 + 96 = 34,944"), out);
  assert.ok(lines.includes("seed   = (k_h·k_w·C_in/g + 1)·H_out·W_out·C_out = (11·11·3/1 + 1)·55·55·96 = 105,705,600"), out);
  assert.ok(lines.includes("flops  = 2·macs + bias = 2·105,415,200 + 290,400 = 211,120,800"), out);
  assert.ok(lines.includes("output bytes = 1·96·55·55 · 4 B (float32) = 1,161,600"), out);
  assert.ok(
    lines.some((l) => /^ptflops\s+105,705,600\s+macs \+ bias = 105,415,200 \+ 290,400$/.test(l)),
    out,
  );
  assert.ok(
    lines.some((l) => /^netscope\s+105,415,200\s+macc = 105,415,200$/.test(l)),
    out,
  );
});

test("--explain on a grouped conv, a pooling layer and a batch norm", () => {
  const conv2 = cli("zoo:alexnet", "--explain", "conv2").out;
  assert.ok(conv2.includes("= 27·27·256 · (96/2)·5·5 = 223,948,800"), conv2);
  const pool = cli("zoo:alexnet", "--explain", "pool1").out;
  assert.ok(pool.includes("cmp    = numel(y)·(Πk − 1) = 1·96·27·27·(3·3 − 1) = 559,872"), pool);
  assert.ok(/netscope\s+0\s+macc = 0 \(apart: comp 629,856\)/.test(pool), pool); // 96·27·27·9
  const bn = cli("zoo:resnet50", "--explain", "bn1").out;
  assert.ok(bn.includes("(trainable 128; the rest are buffers)"), bn);
  assert.ok(/thop\s+3,211,264\s+2·numel\(x\)·2 \(affine\) = 2·802,816·2/.test(bn), bn);
});

test("--explain is per image even with --batch, and covers every layer of the zoo", () => {
  const { out } = cli("zoo:alexnet", "--explain", "fc6", "--batch", "8");
  assert.ok(out.includes("— per image"));
  assert.ok(out.includes("macs   = out·in = 4096·9216 = 37,748,736"), out);
  for (const name of ["alexnet", "resnet18", "mobilenet_v2"]) {
    const g = ZOO[name].build();
    for (const n of g.nodes) {
      const text = explainLayer(ZOO[name].build(), n.name);
      assert.ok(text.startsWith(`${n.name} (${n.op}`), text);
      assert.ok(text.includes("conventions:") || text.includes("folded"), text);
    }
  }
});

test("an unknown layer is a one-line error with exit 2; bad --optimizer too", () => {
  const bad = cli("zoo:alexnet", "--explain", "conv9");
  assert.equal(bad.code, 2);
  assert.equal(bad.err.trim().split("\n").length, 1);
  assert.match(bad.err, /no layer named 'conv9'/);
  const opt = cli("zoo:alexnet", "--train", "--optimizer", "lion");
  assert.equal(opt.code, 2);
  assert.match(opt.err, /--optimizer takes one of sgd, momentum, adam, got 'lion'/);
});

test("--train adds training_bytes to JSON and a training line to the table; batch shown as such", () => {
  const json = JSON.parse(cli("zoo:resnet18", "--train", "--optimizer", "adam", "--batch", "32", "--json").out);
  assert.equal(json.totals.training_bytes.batch, 32);
  assert.equal(json.totals.training_bytes.optimizer, "adam");
  assert.equal(json.batch_totals.by_convention.macs, 32 * 1_814_073_344);
  assert.equal(JSON.parse(cli("zoo:resnet18", "--json").out).totals.training_bytes, undefined);
  const table = cli("zoo:resnet18", "--train", "--precision", "mixed-bf16", "--batch", "4").out;
  assert.match(table, /training \(adam, mixed-bf16, batch 4\): .* dominate/);
  assert.match(table, /per image; 7,256,293,376 per batch of 4/);
  assert.match(table, /conventions \(why tools disagree\), per image \(batch 4: ×4 for the whole batch\)/);
  const md = cli("zoo:resnet18", "--format", "md", "--train").out;
  assert.match(md, /## Conventions \(per image\)/);
  assert.match(md, /- training \(adam, fp32, batch 1\)/);
});
