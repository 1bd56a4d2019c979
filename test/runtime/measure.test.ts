import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { runtimeMain } from "../../src/cli/runtime-cli.js";
import { ConvscopeError } from "../../src/core/errors.js";
import { measure } from "../../src/runtime/measure.js";
import { parseModel } from "../../src/runtime/onnx-edit.js";
import { loadOrt } from "../../src/runtime/ort.js";

const dir = new URL("../fixtures/onnx/", import.meta.url);
const path = (f: string) => new URL(f, dir).pathname;
const reference = JSON.parse(readFileSync(new URL("reference.json", dir), "utf8"));

test("measure: ResNet-18 with unfused batch norm, graph-only, run twice in onnxruntime", async () => {
  const file = path("resnet18_unfused.onnx");
  const a = await measure(file, { runs: 3, warmup: 1 });
  const b = await measure(file, { runs: 3, warmup: 1 });
  for (const m of [a, b]) {
    assert.equal(m.latency.all.length, 3);
    assert.ok(m.latency.median > 0 && m.latency.p10 <= m.latency.median && m.latency.median <= m.latency.p90);
  }
  // Stable within a generous factor (the machine is shared; no absolute threshold).
  const ratio = a.latency.median / b.latency.median;
  assert.ok(ratio > 1 / 5 && ratio < 5, `medians ${a.latency.median} and ${b.latency.median}`);

  // The weights the file lacks were generated: with the ones it holds, every parameter.
  const model = parseModel(new Uint8Array(readFileSync(file)));
  const inline = model.initializers.filter((t) => t.hasData && t.dataType === 1).reduce((s, t) => s + t.dims.reduce((x, d) => x * d, 1), 0);
  assert.equal(a.generated.elements + inline, reference.resnet18_unfused.params);
  assert.equal(a.analytic.macs, reference.resnet18_unfused.macs);

  // Every compute layer is mapped onto a kernel that ran and took time.
  const compute = a.layers.filter((l) => (l.macs ?? 0) > 0);
  assert.equal(compute.length, 21); // 20 convolutions + the classifier
  for (const l of compute) {
    assert.notEqual(l.group, null, `${l.name} not mapped`);
    assert.ok(a.groups[l.group as number].time > 0, l.name);
  }
  // onnxruntime folds each BatchNormalization into its convolution and fuses the ReLU:
  // the batch norm is attributed to the group of the conv that feeds it.
  const bns = a.layers.filter((l) => l.op === "BatchNormalization");
  assert.equal(bns.length, 20);
  const byName = new Map(a.layers.map((l) => [l.name, l]));
  for (const bn of bns) {
    const conv = a.groups[bn.group as number].layers.map((n) => byName.get(n)).find((l) => l?.op === "Conv");
    assert.ok(conv, `${bn.name} is in a group with a convolution`);
  }
  // The runtime's arena holds at least the largest activation (conv1's 64×112×112 floats).
  assert.ok((a.memory.arena_peak_bytes as number) >= 64 * 112 * 112 * 4);
  assert.ok(a.memory.process_peak_rss_bytes > 0);
  // Per layer: bytes moved and intensity beside the MACs (conv1 by hand: input 3·224·224,
  // weights 64·3·7·7 (no bias), output 64·112·112).
  const conv1 = a.layers[0];
  assert.equal(conv1.bytes, (3 * 224 * 224 + 64 * 3 * 7 * 7 + 64 * 112 * 112) * 4);
});

test("measure: a clear error for files onnxruntime cannot run, and for a missing runtime", async () => {
  await assert.rejects(measure(new URL("../fixtures/spec/tiny-resnet.json", import.meta.url).pathname), (e: Error) => {
    assert.ok(e instanceof ConvscopeError);
    assert.match(e.message, /onnxruntime runs ONNX files; this is a builder model/);
    return true;
  });
  await assert.rejects(loadOrt("onnxruntime-node-not-installed-here"), (e: Error) => {
    assert.ok(e instanceof ConvscopeError);
    assert.match(e.message, /not installed: npm install onnxruntime-node/);
    return true;
  });
});

test("CLI: verify-rf prints ✓ and exits 0; bad flags exit 2 with one line", async () => {
  let out = "";
  let err = "";
  const code = await runtimeMain(
    ["verify-rf", path("alexnet.onnx")],
    (s) => (out += s),
    (s) => (err += s),
  );
  assert.equal(code, 0, err);
  assert.match(out, /^✓ \/avgpool\/AveragePool_output_0 \(r 195×195, S 32×32, P 66×66\)/);
  err = "";
  assert.equal(
    await runtimeMain(
      ["measure", path("alexnet.onnx"), "--runs", "0"],
      () => {},
      (s) => (err += s),
    ),
    2,
  );
  assert.match(err, /^convscope: --runs takes an integer ≥ 1, got '0'\n$/);
});

test("measure: weights in an external data file are read from it; a missing one is generated", async () => {
  const { mkdtempSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { graph, model, node, tensor, valueInfo } = await import("../formats/onnx-writer.js");
  const { loadExternal } = await import("../../src/runtime/measure.js");
  const dir = mkdtempSync(join(tmpdir(), "convscope-ext-"));
  const w = new Float32Array(8 * 3 * 3 * 3).map((_, i) => (i % 7) - 3);
  const bin = new Uint8Array(16 + w.byteLength);
  bin.set(new Uint8Array(w.buffer), 16); // at offset 16, after other bytes
  writeFileSync(join(dir, "weights.bin"), bin);
  const g = graph({
    nodes: [node({ op: "Conv", inputs: ["x", "w", "b"], outputs: ["y"], name: "conv" })],
    initializers: [
      tensor({ name: "w", dims: [8, 3, 3, 3], external: { location: "weights.bin", offset: 16, length: w.byteLength } }),
      tensor({ name: "b", dims: [8], external: { location: "missing.bin" } }),
    ],
    inputs: [valueInfo("x", [1, 3, 16, 16])],
    outputs: [valueInfo("y", [1, 8, 14, 14])],
  });
  const file = join(dir, "ext.onnx");
  writeFileSync(file, model(g).bytes());
  const m = parseModel(new Uint8Array(readFileSync(file)));
  assert.equal(loadExternal(m, dir), 1);
  const wi = m.initializers.find((t) => t.name === "w") ?? assert.fail();
  assert.deepEqual(new Float32Array(wi.fill?.slice().buffer ?? new ArrayBuffer(0)), w);
  assert.equal(m.initializers.find((t) => t.name === "b")?.hasData, false);
  const r = await measure(file, { runs: 2, warmup: 0 });
  assert.equal(r.external_loaded, 1);
  assert.deepEqual(r.generated, { initializers: 1, elements: 8 });
  assert.equal(r.analytic.macs, 8 * 14 * 14 * 27);
  assert.notEqual(r.layers[0].group, null);
});
