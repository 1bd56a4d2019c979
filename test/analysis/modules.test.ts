import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { analyze } from "../../src/analysis/index.js";
import { modulePath, modulePaths, treeRows } from "../../src/analysis/modules.js";
import type { Graph, Node, Tensor } from "../../src/core/graph.js";
import type { ModuleReport, Report } from "../../src/core/report.js";
import { bufferSource, readModel } from "../../src/formats/index.js";
import { ZOO } from "../../src/zoo/index.js";
import { cli } from "../support/cli.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/", import.meta.url));

const node = (name: string, op = "Conv", extra: Partial<Node> = {}) => ({ name, op, ...extra });

describe("module paths", () => {
  it("ONNX TorchScript scopes: the last segment is the op; full-path scopes and local names both end as dotted paths", () => {
    assert.deepEqual(modulePath(node("/layer1/layer1.0/conv1/Conv")), ["layer1", "layer1.0", "layer1.0.conv1"]);
    assert.deepEqual(modulePath(node("/layer2/layer2.0/downsample/downsample.0/Conv")), [
      "layer2",
      "layer2.0",
      "layer2.0.downsample",
      "layer2.0.downsample.0",
    ]);
    assert.deepEqual(modulePath(node("/Flatten", "Flatten")), []);
    assert.deepEqual(modulePath(node("/fc/Gemm", "Gemm")), ["fc"]);
  });
  it("TF / Caffe slash names: each prefix is a module", () => {
    assert.deepEqual(modulePath(node("model/block_1/conv/Conv2D")), ["model", "model/block_1", "model/block_1/conv"]);
    assert.deepEqual(modulePath(node("conv1_1")), []);
  });
  it("torch dotted names: prefixes are modules, the layer is the leaf; Paddle's p2o.Conv.0 counters are not paths", () => {
    assert.deepEqual(modulePath(node("layer1.0.conv1")), ["layer1", "layer1.0"]);
    assert.deepEqual(modulePath(node("layer1.0.relu", "Relu")), ["layer1", "layer1.0"]);
    assert.deepEqual(modulePath(node("p2o.Conv.0")), []);
  });
  it("Node.module wins; a frame naming the layer itself is the leaf", () => {
    const n = node("whatever_name", "Conv", { module: [{ path: "features" }, { path: "features.3", type: "Block" }] });
    assert.deepEqual(modulePath(n), ["features", "features.3"]);
    const leaf = node("features.3.conv", "Conv", { module: [{ path: "features" }, { path: "features.3.conv" }] });
    assert.deepEqual(modulePath(leaf), ["features"]);
  });
  it("dynamo ONNX name scopes in the node's metadata", () => {
    const n = node("node_relu_1", "Relu", {
      meta: { "pkg.torch.onnx.name_scopes": "['', 'layer1', 'layer1.0', 'layer1.0.relu', 'relu_1']" },
    });
    assert.deepEqual(modulePath(n), ["layer1", "layer1.0", "layer1.0.relu"]);
  });
  it("a layer named like a module other layers sit in is that module's layer (zoo fc and fc.flatten)", () => {
    assert.deepEqual(modulePaths([node("fc.flatten", "Flatten"), node("fc", "Gemm")]), [["fc"], ["fc"]]);
  });
});

const mod = (r: Report, path: string): ModuleReport => {
  const m = r.modules?.find((x) => x.path === path);
  assert.ok(m, `module ${path}`);
  return m;
};

/** Conv MACs: k·k·c_in·c_out·H·W. */
const convMacs = (k: number, cin: number, cout: number, hw: number) => k * k * cin * cout * hw * hw;

describe("ResNet-18 module sums, by hand", () => {
  // A torchvision BasicBlock stage: conv3×3 (cin→c, stride s), conv3×3 (c→c), optional 1×1 downsample,
  // then a second block of two c→c convs, at output size hw.
  const stage = (cin: number, c: number, hw: number, down: boolean) => ({
    convW: 9 * cin * c + 9 * c * c + (down ? cin * c : 0) + 2 * 9 * c * c,
    macs: convMacs(3, cin, c, hw) + 3 * convMacs(3, c, c, hw) + (down ? convMacs(1, cin, c, hw) : 0),
    convs: down ? 5 : 4,
  });
  const stages = {
    layer1: stage(64, 64, 56, false),
    layer2: stage(64, 128, 28, true),
    layer3: stage(128, 256, 14, true),
    layer4: stage(256, 512, 7, true),
  };
  const channels = { layer1: 64, layer2: 128, layer3: 256, layer4: 512 };

  it("zoo:resnet18 (unfused: each conv has a batch norm of 4·c params, 2·c trainable)", () => {
    const r = analyze(ZOO.resnet18.build(), { modules: true });
    for (const [name, s] of Object.entries(stages)) {
      const c = channels[name as keyof typeof channels];
      const m = mod(r, name);
      assert.equal(m.params, s.convW + s.convs * 4 * c, `${name} params`);
      assert.equal(m.trainable_params, s.convW + s.convs * 2 * c, `${name} trainable`);
      assert.equal(m.macs, s.macs, `${name} MACs`);
      assert.equal(m.depth, 1);
    }
    assert.equal(stages.layer1.macs, 462_422_016);
    const fc = mod(r, "fc");
    assert.equal(fc.params, 512 * 1000 + 1000);
    assert.equal(fc.macs, 512 * 1000);
    assert.equal(fc.layers, 2, "fc holds its Gemm and the flatten before it");
    // Children: layer1.0 and layer1.1 are identical blocks.
    assert.equal(mod(r, "layer1.0").macs, 2 * convMacs(3, 64, 64, 56));
    assert.equal(mod(r, "layer1.0").parent, "layer1");
    // The module's field is the field of the tensor it hands on (torchvision: 435 px at stride 32 after layer4).
    const rf = mod(r, "layer4").rf;
    assert.ok(rf && !("global" in rf));
    assert.deepEqual(rf.size, [435, 435]);
    assert.deepEqual(rf.stride, [32, 32]);
  });

  it("the TorchScript ONNX export (batch norm fused: each conv gains a bias of c)", () => {
    const g = readModel(bufferSource("resnet18.onnx", readFileSync(join(FIXTURES, "onnx/resnet18.onnx"))));
    const r = analyze(g, { modules: true });
    for (const [name, s] of Object.entries(stages)) {
      const c = channels[name as keyof typeof channels];
      const m = mod(r, name);
      assert.equal(m.params, s.convW + s.convs * c, `${name} params`);
      assert.equal(m.macs, s.macs, `${name} MACs`);
    }
    assert.equal(mod(r, "fc").params, 513_000);
    assert.equal(mod(r, "fc").macs, 512_000);
    assert.equal(mod(r, "layer2.0.downsample").params, 64 * 128 + 128);
    assert.equal(mod(r, "layer2.0.downsample").depth, 3);
    // The peak (after the max pool, 56·56·64 fp32 plus the 112·112·64 input of it) is held by relu and maxpool.
    assert.equal(mod(r, "maxpool").peak_live_bytes, 56 * 56 * 64 * 4);
    assert.equal(mod(r, "relu").peak_live_bytes, 112 * 112 * 64 * 4);
  });
});

describe("a weight shared by two modules", () => {
  it("counts in each module and once in their parent and in the total", () => {
    const t = (name: string, shape: number[], init = false): Tensor => ({
      name,
      dtype: "float32",
      shape,
      ...(init ? { initializer: { byteLength: shape.reduce((a, b) => a * b, 4), location: "absent" as const } } : {}),
    });
    const tensors = new Map<string, Tensor>(
      [t("x", [1, 8, 10, 10]), t("w", [8, 8, 3, 3], true), t("b", [8], true), t("y1", [1, 8, 10, 10]), t("y2", [1, 8, 10, 10])].map((x) => [
        x.name,
        x,
      ]),
    );
    const conv = (name: string, x: string, y: string): Node => ({
      name,
      op: "Conv",
      inputs: [x, "w", "b"],
      outputs: [y],
      attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] },
    });
    const g: Graph = {
      name: "tied",
      format: "builder",
      inputs: ["x"],
      outputs: ["y2"],
      nodes: [conv("enc.a.conv", "x", "y1"), conv("enc.b.conv", "y1", "y2")],
      tensors,
      notes: [],
    };
    const r = analyze(g, { modules: true });
    const w = 8 * 8 * 9 + 8;
    assert.equal(r.totals.params, w);
    assert.equal(mod(r, "enc.a").params, w);
    assert.equal(mod(r, "enc.b").params, w);
    assert.equal(mod(r, "enc").params, w, "the parent counts the tied weight once, not 2·w");
    assert.equal(mod(r, "enc").macs, 2 * 8 * 8 * 9 * 100);
  });
});

/** Every fixture a test can read, and the zoo. */
function everyModel(): { name: string; build: () => Graph }[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(onnx|prototxt|json|h5|keras|tflite)$/.test(f) && !/reference\.json$|\.keras\.json$/.test(f)) files.push(p);
    }
  };
  walk(FIXTURES);
  return [
    ...files.map((p) => ({ name: p.slice(FIXTURES.length), build: () => readModel(bufferSource(p, readFileSync(p))) })),
    ...Object.entries(ZOO).map(([name, z]) => ({ name: `zoo:${name}`, build: () => z.build() })),
  ];
}

describe("tree totals equal flat totals", () => {
  for (const { name, build } of everyModel()) {
    it(name, (t) => {
      let g: Graph;
      try {
        g = build();
      } catch (e) {
        t.skip(`not readable here: ${(e as Error).message}`);
        return;
      }
      let r: Report;
      try {
        analyze(g);
      } catch (e) {
        t.skip(`not analysable here: ${(e as Error).message}`);
        return;
      }
      r = analyze(g, { modules: true });
      // The top rows of the tree: depth-1 modules and the layers outside every module.
      const top = treeRows(r, 1);
      const mods = r.modules ?? [];
      const rows = top.map((row) => (row.kind === "module" ? mods[row.index] : r.layers[row.index]));
      assert.equal(
        top.reduce((a, row) => a + (row.kind === "module" ? mods[row.index].layers : 1), 0),
        r.layers.length,
        "every layer in exactly one top row",
      );
      const sum = (k: "macs" | "flops" | "value" | "activation_bytes") =>
        rows.some((x) => x[k] === null) ? null : rows.reduce((a, x) => a + (x[k] as number), 0);
      assert.equal(sum("macs"), r.totals.macs);
      assert.equal(sum("flops"), r.totals.flops);
      assert.equal(sum("activation_bytes"), r.totals.activation_bytes);
      for (const c of Object.keys(r.totals.by_convention)) {
        const s = rows.some((x) => x.by_convention[c] === null) ? null : rows.reduce((a, x) => a + (x.by_convention[c] as number), 0);
        assert.equal(s, r.totals.by_convention[c], c);
      }
      // Parameters: the top rows sum to the total unless a weight is tied across them (the
      // siamese Keras fixture applies one encoder twice: it counts in both, once in the total).
      if (!rows.some((x) => x.params === null)) {
        const s = rows.reduce((a, x) => a + (x.params as number), 0);
        if (name.includes("siamese")) {
          assert.equal(r.totals.params, 185);
          assert.deepEqual(
            rows.filter((x) => x.params).map((x) => [x.name ?? (x as ModuleReport).path, x.params]),
            [
              ["encoder", 128],
              ["encoder_1", 128],
              ["proj", 40],
              ["proj_1", 40],
              ["head", 17],
            ],
          );
        } else {
          // A stored tensor read by layers of k top rows counts k times in their sum and once in the
          // total (vit's shared attention-scale scalar; the QOp model's shared scales).
          const rowOf = new Map<string, number>();
          top.forEach((row, k) => {
            const idx = row.kind === "module" ? [...layersUnder(mods, mods[row.index].path, r)] : [row.index];
            for (const i of idx) rowOf.set(r.layers[i].name, k);
          });
          const readers = new Map<string, Set<number>>();
          for (const n of g.nodes)
            for (const i of n.inputs)
              if (g.tensors.get(i)?.initializer) (readers.get(i) ?? readers.set(i, new Set()).get(i))?.add(rowOf.get(n.name) ?? -1);
          let extra = 0;
          for (const [name, rs] of readers)
            if (rs.size > 1) extra += (g.tensors.get(name)?.shape as number[]).reduce((a, b) => a * b, 1) * (rs.size - 1);
          const total = r.totals.params ?? Number.NaN;
          assert.ok(s >= total && s - total <= extra, `top rows ${s}, total ${total}, shared ${extra}`);
          if (extra === 0) assert.equal(s, total);
        }
      }
      // And each module sums its children (modules and own layers) — but for the branch of an
      // undecided If that the totals leave out (the other is costlier): its module keeps its own
      // cost, its parent does not add it, as the totals do not.
      const uncounted = new Set(r.layers.map((l) => l.uncounted_branch).filter((x) => x !== undefined));
      for (const m of mods) {
        const kids = mods.filter((c) => c.parent === m.path && !uncounted.has(c.path));
        const own = m.own_layers.filter(
          (i) => r.layers[i].uncounted_branch === undefined || m.path.startsWith(r.layers[i].uncounted_branch ?? ""),
        );
        const macs = [...kids.map((c) => c.macs), ...own.map((i) => r.layers[i].macs)];
        if (!macs.includes(null))
          assert.equal(
            macs.reduce((a, b) => (a as number) + (b as number), 0),
            m.macs,
            `${m.path} MACs`,
          );
        const allKids = mods.filter((c) => c.parent === m.path);
        assert.equal(allKids.reduce((a, c) => a + c.layers, 0) + m.own_layers.length, m.layers, `${m.path} layers`);
      }
    });
  }
});

/** Every layer row inside a module (its own and its descendants'). */
function* layersUnder(mods: ModuleReport[], path: string, r: Report): Generator<number> {
  for (const m of mods) if (m.path === path || m.path.startsWith(`${path}.`) || m.path.startsWith(`${path}/`)) yield* m.own_layers;
  void r;
}

describe("--depth on the command line", () => {
  const ONNX18 = join(FIXTURES, "onnx/resnet18.onnx");
  it("--depth 1: one row per top module, with exact sums in CSV", () => {
    const t = cli(ONNX18, "--depth", "1");
    assert.equal(t.code, 0, t.err);
    const names = t.out
      .split("\n")
      .slice(4)
      .map((l) => l.split(/\s+/)[0])
      .filter((x) => x && !x.startsWith("─"));
    assert.deepEqual(names.slice(0, 11), [
      "conv1",
      "relu",
      "maxpool",
      "layer1",
      "layer2",
      "layer3",
      "layer4",
      "avgpool",
      "/Flatten",
      "fc",
      "total",
    ]);
    const csv = cli(ONNX18, "--depth", "1", "--format", "csv").out.trim().split("\n");
    const head = csv[0].split(",");
    const layer1 = csv.find((l) => l.startsWith("module,1,layer1,"))?.split(",");
    assert.ok(layer1);
    assert.equal(Number(layer1[head.indexOf("macs")]), 462_422_016);
    assert.equal(Number(layer1[head.indexOf("params")]), 4 * (36_864 + 64));
  });
  it("--json gains modules down to depth N; without --depth the JSON has none", () => {
    const j = JSON.parse(cli(ONNX18, "--depth", "2", "--json").out);
    assert.ok(j.modules.every((m: ModuleReport) => m.depth <= 2));
    assert.deepEqual(
      j.modules.filter((m: ModuleReport) => m.parent === "layer2").map((m: ModuleReport) => m.path),
      ["layer2.0", "layer2.1"],
    );
    assert.equal(JSON.parse(cli(ONNX18, "--json").out).modules, undefined);
  });
  it("--depth 0 is the flat table; a bad depth is a one-line error", () => {
    assert.equal(cli(ONNX18, "--depth", "0").out, cli(ONNX18).out);
    const bad = cli(ONNX18, "--depth", "x");
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--depth takes a whole number/);
  });
});
