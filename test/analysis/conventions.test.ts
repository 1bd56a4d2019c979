import assert from "node:assert/strict";
import { test } from "node:test";
import { CONVENTIONS, netscopeParts } from "../../src/analysis/conventions.js";
import { analyze } from "../../src/analysis/index.js";
import { topoOrder } from "../../src/analysis/order.js";
import { inferShapes } from "../../src/analysis/shapes.js";
import { ruleFor } from "../../src/ops/index.js";
import { NetBuilder } from "../../src/zoo/builder.js";
import { ZOO } from "../../src/zoo/index.js";

/**
 * conv(3→4, 3×3, pad 1, bias) → BN → ReLU → maxpool 2/2 → fc(64→10, bias) on 3×8×8,
 * i.e. PyTorch's Sequential(Conv2d(3,4,3,padding=1), BatchNorm2d(4), ReLU(), MaxPool2d(2),
 * Flatten(), Linear(64,10)).
 */
function chain(batch = 1) {
  const b = new NetBuilder("chain");
  let x = b.input("x", [batch, 3, 8, 8]);
  x = b.conv(x, { name: "conv", out: 4, kernel: 3, pad: 1 }); // 4×8×8 = 256 outputs
  x = b.bn(x, "bn"); // 256 elements
  x = b.relu(x, "relu"); // 256 elements
  x = b.maxPool(x, { name: "pool", kernel: 2, stride: 2 }); // 4×4×4 = 64 outputs, windows of 4
  return b.build(b.fc(x, { name: "fc", out: 10 })); // 64 → 10
}

const byLayer = (r: ReturnType<typeof analyze>, conv: string) => Object.fromEntries(r.layers.map((l) => [l.name, l.by_convention[conv]]));

test("every convention on a conv+BN+ReLU+pool+fc chain, by hand", () => {
  const r = analyze(chain());
  // macs: conv 256·(3·3·3) = 6,912; fc 10·64 = 640 → 7,552.
  assert.equal(r.totals.by_convention.macs, 7_552);
  // flops: 2·7,552 + bias (256 + 10) + BN mul+add 2·256 + ReLU 256 + pool 64·(4−1) = 15,104 + 266 + 512 + 256 + 192.
  assert.equal(r.totals.by_convention.flops, 16_330);
  // ptflops (pytorch backend, count_functional=True): conv 6,912 + 256 bias; BN 2·256 (affine);
  // ReLU 256 from nn.ReLU's hook *and* 256 from the F.relu its forward calls, which ptflops
  // patches (pytorch_engine.py patch_functional, commit a116899: `F.relu = torch_function_wrapper(...)`,
  // the wrapper adding input.numel(), pytorch_ops.py `_numel_functional_flops_hook`); MaxPool the
  // same twice (hook numel(x) + patched F.max_pool2d); Flatten no hook; Linear 64·10 + 10 (F.linear's
  // patch is commented out) → 7,168 + 512 + 512 + 512 + 650 = 9,354. Updated from 8,842: ptflops
  // since 0.7.1 counts functional calls too (CHANGELOG), so the old figure was its 0.6 behaviour.
  assert.deepEqual(byLayer(r, "ptflops"), { conv: 7_168, bn: 512, relu: 512, pool: 512, "fc.flatten": 0, fc: 650 });
  assert.equal(r.totals.by_convention.ptflops, 9_354);
  // ptflops' aten backend (aten_ops.py ATEN_OPS_MAPPING: convolution, mm, matmul, addmm, bmm):
  // conv 6,912 + bias 256, addmm 640 + bias 10 → 7,818; nothing for BN, ReLU or pooling.
  assert.deepEqual(byLayer(r, "ptflops-aten"), { conv: 7_168, bn: 0, relu: 0, pool: 0, "fc.flatten": 0, fc: 650 });
  // FlopCounterMode: 2 per MAC of conv and addmm, no bias → 15,104.
  assert.equal(r.totals.by_convention.torch, 15_104);
  // thop: conv 6,912 (no bias); BN 2·256·2 (affine) = 1,024; ReLU 0; MaxPool 0; Linear 640 → 8,576.
  assert.deepEqual(byLayer(r, "thop"), { conv: 6_912, bn: 1_024, relu: 0, pool: 0, "fc.flatten": 0, fc: 640 });
  assert.equal(r.totals.by_convention.thop, 8_576);
  // Netscope macc: conv 6,912 + BN's Scale 256 + fc 640 = 7,808 (comp/add/div apart).
  assert.deepEqual(byLayer(r, "netscope"), { conv: 6_912, bn: 256, relu: 0, pool: 0, "fc.flatten": 0, fc: 640 });
  assert.equal(r.totals.by_convention.netscope, 7_808);
  // seed: conv (3·3·3 + 1)·8·8·4 = 7,168; fc (64 + 1)·10 = 650 → 7,818.
  assert.equal(r.totals.by_convention.seed, 7_818);
  // The conventions section carries the same numbers, with what each includes.
  for (const c of r.conventions) {
    assert.equal(c.value, r.totals.by_convention[c.name]);
    assert.ok(c.includes.length > 20 && c.used.length > 3, c.name);
  }
});

test("Netscope's separate columns: ReLU and max-pool comparisons over k² (not k² − 1), BN add + div", () => {
  const g = chain();
  const layers = inferShapes(g, topoOrder(g), {}).order;
  const parts = (name: string) => {
    const l = layers.find((x) => x.node.name === name);
    assert.ok(l?.rule?.cost);
    const c = l.rule.cost(l.ctx);
    assert.ok(c);
    return netscopeParts(c, l);
  };
  assert.deepEqual(parts("relu"), { macc: 0, comp: 256, add: 0, div: 0, exp: 0 });
  assert.deepEqual(parts("pool"), { macc: 0, comp: 64 * 4, add: 0, div: 0, exp: 0 }); // 4 comparisons per window
  assert.deepEqual(parts("bn"), { macc: 256, comp: 0, add: 256, div: 256, exp: 0 });
});

test("per image and per batch: tools that count the whole batch are in batch_totals", () => {
  const one = analyze(chain(1));
  const four = analyze(chain(4));
  assert.deepEqual(four.totals.by_convention, one.totals.by_convention);
  // thop and Netscope profile the batch they are given: 4 × 8,576 and 4 × 7,808.
  assert.equal(four.batch_totals.by_convention.thop, 34_304);
  assert.equal(four.batch_totals.by_convention.netscope, 31_232);
  assert.equal(four.layers.find((l) => l.name === "conv")?.by_convention.ptflops, 7_168);
});

test("transposed conv: MACs on the input; ptflops and thop count it on the output, Netscope as (k/s)² on the output", () => {
  const b = new NetBuilder("up");
  const x = b.input("x", [1, 2, 4, 4]);
  assert.ok(ruleFor("ConvTranspose"));
  const attrs = { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] };
  // out = 2·(4 − 1) + 1 + 3 − 2 = 8 → 3×8×8; weight [C_in 2, C_out 3, 3, 3], no bias.
  const y = b.node("ConvTranspose", "up", [x], attrs, { weight: [2, 3, 3, 3] });
  assert.deepEqual(y.shape, [1, 3, 8, 8]);
  const r = analyze(b.build(y));
  const c = r.layers[0].by_convention;
  assert.equal(c.macs, 2 * 4 * 4 * 3 * 9); // input 2·4·4 · (C_out 3)·3·3 = 864
  assert.equal(c.ptflops, 8 * 8 * 9 * 2 * 3); // N·Π(out)·Πk·C_in·C_out/g = 3,456: four times too many
  assert.equal(c.thop, 3 * 8 * 8 * 2 * 9); // numel(y)·(C_in/g)·Πk = 3,456
  assert.equal(c.netscope, (2 * 3 * 8 * 8 * 9) / 4); // C_in·C_out·H·W·(k/s)² = 864 (right here by luck of the sizes)
});

test("resnet50 (zoo): macs 4,089,184,256 as torchvision; ptflops 4.12 G and thop's rules", () => {
  const r = analyze(ZOO.resnet50.build());
  const t = r.totals.by_convention;
  assert.equal(t.macs, 4_089_184_256);
  // Parts every tool adds on top: BN elements 11,113,984 over 53 layers, ReLU outputs 9,608,704
  // over 49 calls, max pool input 64·112·112 = 802,816, avg pool input 2048·7·7 = 100,352.
  const sum = (op: string, f: (l: (typeof r.layers)[0]) => number) => r.layers.filter((l) => l.op === op).reduce((s, l) => s + f(l), 0);
  const numelOut = (l: (typeof r.layers)[0]) => (r.tensors[l.outputs[0]].bytes as number) / 4;
  const bn = sum("BatchNormalization", numelOut);
  const relu = sum("Relu", numelOut);
  assert.equal(bn, 11_113_984);
  assert.equal(relu, 9_608_704);
  // ptflops: MACs + BN 2·numel + ReLU numel + pools' input numel + fc bias 1,000 = 4,121,925,096
  // was the "4.12 GMac" of its README (ptflops 0.6, module hooks only). With count_functional
  // (0.7.1 on, the default) nn.ReLU and the poolings count twice — hook and patched F call:
  // + 9,608,704 + 802,816 + 100,352 = 4,132,436,968 (4.13 GMac).
  assert.equal(t.ptflops, 4_089_184_256 + 2 * bn + 2 * relu + 2 * 802_816 + 2 * 100_352 + 1_000);
  assert.equal(t.ptflops, 4_132_436_968);
  // thop 0.1.1: MACs + BN 4·numel (affine) + adaptive avg pool (49 + 1)·2048 = 4,133,742,592
  // (4.13 G). Its README table says 4.14 G, but that table came from an older release with
  // other rules: it gives vgg16 15.61 G, more than VGG's MACs plus anything its current hooks add.
  assert.equal(t.thop, 4_089_184_256 + 4 * bn + 50 * 2048);
  // FLOPs = 2·MAC convention: 8.2 G, as the notes say.
  assert.equal(t.flops, 8_217_431_528);
});

test("AlexNet (Caffe deploy, zoo): Netscope macc adds LRN's size·n; seed conv1 = 105,705,600", () => {
  const r = analyze(ZOO.alexnet.build());
  const conv1 = r.layers.find((l) => l.name === "conv1");
  assert.equal(conv1?.by_convention.seed, (11 * 11 * 3 + 1) * 55 * 55 * 96);
  assert.equal(conv1?.by_convention.seed, 105_705_600);
  assert.equal(conv1?.by_convention.netscope, 105_415_200);
  // conv+fc MACs 724,406,816 (groups honoured, Netscope's PR #11) + norm1 5·96·55·55 + norm2 5·256·27·27.
  assert.equal(r.totals.by_convention.netscope, 724_406_816 + 1_452_000 + 933_120);
  assert.equal(r.totals.by_convention.netscope, 726_791_936);
  assert.equal(r.totals.by_convention.seed, 725_066_088);
});

test("a convention's quick count equals the value --explain derives, on every layer of three zoo nets", () => {
  for (const name of ["resnet50", "mobilenet_v2", "alexnet"]) {
    const g = ZOO[name].build();
    let compared = 0;
    for (const l of inferShapes(g, topoOrder(g), {}).order) {
      if (!l.rule?.cost || l.folded) continue;
      const c = l.rule.cost(l.ctx);
      if (!c) continue;
      for (const cv of CONVENTIONS) {
        if (!cv.count) continue;
        assert.equal(cv.count(c, l), cv.measure(c, l)?.value ?? null, `${name} ${l.node.name} ${cv.name}`);
        compared++;
      }
    }
    assert.ok(compared > 80, `${name}: ${compared} counts compared`);
  }
});
