import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { explainLayer } from "../../src/analysis/explain.js";
import { analyze } from "../../src/analysis/index.js";
import type { Report } from "../../src/core/report.js";
import { bufferSource, readModel } from "../../src/formats/index.js";
import { buildGraph } from "../../src/formats/pt2/index.js";
import type { ExportedProgram, Pt2Node } from "../../src/formats/pt2/schema.js";
import { NetBuilder } from "../../src/zoo/builder.js";

// Conventions with module types known. The rules cited are ptflops'
// (sovrasov/flops-counter.pytorch) and thop's (Lyken17/pytorch-OpCounter) source:
//   ptflops pytorch_ops.py (commit 022a654): MODULES_MAPPING (exact classes) — conv_flops_counter_hook
//     (MACs + out_channels per output position with a bias), relu_flops_counter_hook (output numel,
//     also for GELU), pool_flops_counter_hook (input numel, every pooling incl. adaptive),
//     bn_flops_counter_hook (input numel, ×2 when `module.affine` — LayerNorm has no `affine`),
//     linear_flops_counter_hook (numel(input)·out_features + out_features once);
//   ptflops pytorch_engine.py (commit a116899) patch_functional: F.relu, F.gelu, F.max_pool2d,
//     F.adaptive_avg_pool2d … wrapped, each adding input.numel() (F.linear's patch commented out),
//     so a module whose forward calls them counts twice;
//   ptflops aten_ops.py ATEN_OPS_MAPPING: aten.mm, matmul, addmm, bmm, convolution only;
//   thop profile.py (commit 958f7a4) register_hooks: exact classes; ReLU/ReLU6/MaxPool zero_ops;
//     no rule for LayerNorm, GELU, Hardswish, Hardsigmoid; basic_hooks.py count_convNd
//     (numel(y)·C_in/g·Πk, no bias), count_normalization (2·numel, ×2 affine), count_adap_avgpool
//     ((Π(in/out) + 1)·numel(y)), count_linear (in_features·numel(y)).
const pt2 = new URL("../fixtures/v2/pt2/", import.meta.url);
const dynamo = new URL("../fixtures/v2/onnx-dynamo/", import.meta.url);
const reference = JSON.parse(readFileSync(new URL("reference.json", pt2), "utf8"));
const load = (dir: URL, file: string) => analyze(readModel(bufferSource(file, new Uint8Array(readFileSync(new URL(file, dir))))));

/** Σ numel of a tensor of the layers of an op (from the report's own shapes). */
function numelSum(r: Report, pick: (l: Report["layers"][0]) => boolean, which: "in" | "out"): number {
  let s = 0;
  for (const l of r.layers.filter(pick)) {
    const shape = r.tensors[which === "out" ? l.outputs[0] : l.inputs[0]].shape as number[];
    s += shape.reduce((p, d) => p * d, 1);
  }
  return s;
}

test("resnet34.pt2: ptflops, thop, ptflops-aten and torch by their rules", () => {
  const r = load(pt2, "resnet34.pt2");
  const t = r.totals.by_convention;
  const macs = reference.resnet34.macs; // 3,663,761,408 (FlopCounterMode / 2)
  const fc = 512 * 1000;
  const bn = numelSum(r, (l) => l.op === "BatchNormalization", "in");
  const relu = numelSum(r, (l) => l.op === "Relu", "out");
  assert.equal(bn, 3_738_112); // 36 BatchNorm2d
  assert.equal(relu, 3_562_496); // 33 calls of nn.ReLU modules
  // ptflops: convs (no bias) + BN 2·numel + nn.ReLU twice + nn.MaxPool2d twice (input 64·112·112)
  // + nn.AdaptiveAvgPool2d twice (input 512·7·7) + Linear 512·1000 + 1000.
  assert.equal(t.ptflops, macs - fc + 2 * bn + 2 * relu + 2 * 802_816 + 2 * 25_088 + fc + 1000);
  assert.equal(t.ptflops, 3_680_019_432);
  // thop: convs + BN 4·numel (affine) + ReLU, max pool 0 + adaptive (7·7/1 + 1)·512 + Linear 512·1000.
  assert.equal(t.thop, macs + 4 * bn + 50 * 512);
  // aten backend: convolution (no bias in resnet) + addmm 512,000 + its 1,000 bias adds.
  assert.equal(t["ptflops-aten"], macs + 1000);
  assert.equal(t.torch, 2 * macs);
  // The ReLU module's row shows both counts.
  const row = r.layers.find((l) => l.name === "layer1.0.relu");
  assert.equal(row?.by_convention.ptflops, 2 * 64 * 56 * 56);
  assert.equal(row?.by_convention.thop, 0);
});

test("resnet34 as dynamo ONNX (BN folded into the convs) counts the same as the .pt2 in ptflops and thop", () => {
  // The exporter's FuseBatchNormIntoConv leaves the BN's module in the conv's metadata: the
  // conv is counted as Conv2d (no bias) + BatchNorm2d, so two different files give one answer.
  const a = load(pt2, "resnet34.pt2").totals.by_convention;
  const b = load(dynamo, "resnet34.onnx").totals.by_convention;
  for (const cv of ["macs", "ptflops", "thop", "ptflops-aten", "torch"]) assert.equal(b[cv], a[cv], cv);
  for (const model of ["mobilenet_v3_small", "vit_tiny_patch16_384"]) {
    // The ViT's ONNX writes attention as MatMul/Softmax nodes whose class hierarchy ends in
    // aten.scaled_dot_product_attention: not an F.softmax call, so ptflops does not count it.
    const m = load(dynamo, `${model}.onnx`).totals.by_convention;
    const mp = load(pt2, `${model}.pt2`).totals.by_convention;
    for (const cv of ["macs", "ptflops", "thop", "ptflops-aten", "torch"]) assert.equal(m[cv], mp[cv], `${model} ${cv}`);
  }
});

test("mobilenet_v3_small.pt2: Hardswish and Hardsigmoid count 0 in both tools; SE pools are modules", () => {
  const r = load(pt2, "mobilenet_v3_small.pt2");
  const t = r.totals.by_convention;
  const macs = reference.mobilenet_v3_small.macs;
  const bn = numelSum(r, (l) => l.op === "BatchNormalization", "in");
  const relu = numelSum(r, (l) => l.op === "Relu", "out");
  const poolIn = numelSum(r, (l) => l.op === "GlobalAveragePool", "in");
  // Conv biases: only the SE block's fc1/fc2 (1×1 convs) have them, one add per output.
  const seBias = numelSum(r, (l) => l.op === "Conv" && /\.fc[12]$/.test(l.name), "out");
  // Linear: 576→1024 and 1024→1000, each + out_features once.
  assert.equal(t.ptflops, macs + seBias + 2 * bn + 2 * relu + 2 * poolIn + 1024 + 1000);
  assert.equal(r.layers.find((l) => l.op === "HardSwish")?.by_convention.ptflops, 0);
  // thop: the 10 adaptive pools (9 SE + the head) each (H·W + 1)·C.
  const adaptive = r.layers
    .filter((l) => l.op === "GlobalAveragePool")
    .reduce((s, l) => {
      const [, c, h, w] = r.tensors[l.inputs[0]].shape as number[];
      return s + (h * w + 1) * c;
    }, 0);
  assert.equal(t.thop, macs + 4 * bn + adaptive);
  assert.equal(t.torch, 2 * macs);
});

test("vit_tiny_patch16_384.pt2: thop equals torch's count without attention; timm's LayerNorm counts 0", () => {
  const r = load(pt2, "vit_tiny_patch16_384.pt2");
  const t = r.totals.by_convention;
  const ref = reference.vit_tiny_patch16_384;
  // The reference notes FlopCounterMode's total with the CPU flash attention kernel (which it
  // does not count): 3,148,082,688 MACs. thop counts exactly the conv and Linear modules' MACs.
  const withoutAttention = Number(/\((\d+) MACs without attention\)/.exec(ref.notes.join(" "))?.[1]);
  assert.equal(withoutAttention, 3_148_082_688);
  assert.equal(t.thop, withoutAttention);
  assert.equal(t.macs, ref.macs); // attention's Q·Kᵀ and A·V included (SDPBackend.MATH)
  assert.equal(t.torch, 2 * ref.macs);
  // ptflops: + patch-embed conv bias 192·24·24 + each Linear's out_features once (12 blocks ·
  // (576 + 192 + 768 + 192) + head 1000) + nn.GELU twice (12 · 577·768 · 2); timm's LayerNorm is
  // not torch's class, attention and x + y are not seen.
  assert.equal(t.ptflops, withoutAttention + 192 * 576 + 12 * 1728 + 1000 + 2 * 12 * 577 * 768);
  assert.equal(r.layers.find((l) => l.name === "blocks.0.norm1")?.by_convention.ptflops, 0);
  // aten backend: attention runs the flash kernel (not counted); linear = addmm with one bias add per output.
  assert.equal(t["ptflops-aten"], withoutAttention + 192 * 576 + 12 * 577 * 1728 + 1000);
  // The conventions table says nothing is approximated: every layer's module is known.
  assert.equal(r.conventions.find((c) => c.name === "ptflops")?.approximated, undefined);
});

// ── Hand-made programs: module vs functional calls, core ATen after run_decompositions() ──

function tensor(sizes: number[]) {
  return { dtype: 7, sizes: sizes.map((s) => ({ as_int: s })) };
}
const T = (name: string) => ({ as_tensor: { name } });
function node(target: string, name: string, inputs: [string, unknown][], stack: string, fn: string): Pt2Node {
  return {
    target: `torch.ops.aten.${target}`,
    name,
    inputs: inputs.map(([n, arg]) => ({ name: n, arg: arg as Record<string, unknown>, kind: 1 })),
    outputs: [T(name)],
    metadata: { nn_module_stack: stack, torch_fn: fn },
  };
}
const ROOT = "L__self__,,m.Net";
function program(nodes: Pt2Node[], values: Record<string, number[]>, params: Record<string, string>, out: string): ExportedProgram {
  return {
    graph_module: {
      graph: { nodes, tensor_values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, tensor(v)])) },
      signature: {
        input_specs: [
          ...Object.entries(params).map(([arg, name]) => ({ parameter: { arg: { name: arg }, parameter_name: name } })),
          { user_input: { arg: T("x") } },
        ],
        output_specs: [{ user_output: { arg: T(out) } }],
      },
    },
  };
}

test("ptflops: nn.ReLU counts twice, F.relu in model code once, torch.relu and x.relu() not at all", () => {
  // x: 1×4×8×8 = 256 elements through four ReLUs written four ways.
  const nodes = [
    node("relu.default", "a", [["self", T("x")]], `${ROOT};L__self__act,act,torch.nn.modules.activation.ReLU`, "relu_1;function.relu"),
    node("relu.default", "b", [["self", T("a")]], ROOT, "relu_2;function.relu"), // F.relu(x)
    node("relu.default", "c", [["self", T("b")]], ROOT, "relu_3;builtin_function_or_method.relu"), // torch.relu(x)
    node("relu.default", "d", [["self", T("c")]], ROOT, "relu_4;method_descriptor.relu"), // x.relu()
  ];
  const values = { x: [1, 4, 8, 8], a: [1, 4, 8, 8], b: [1, 4, 8, 8], c: [1, 4, 8, 8], d: [1, 4, 8, 8] };
  const r = analyze(buildGraph(program(nodes, values, {}, "d"), "relus"));
  const by = Object.fromEntries(r.layers.map((l) => [l.name, l.by_convention.ptflops]));
  assert.deepEqual(by, { act: 512, b: 256, c: 0, d: 0 });
  // thop: nn.ReLU is zero_ops; functional calls are not modules.
  assert.equal(r.totals.by_convention.thop, 0);
});

test("core ATen after run_decompositions(): convolution, BN, max_pool2d_with_indices, mean.dim, view, permute, addmm", () => {
  // conv 3→8, 3×3, stride 1, pad 1, bias on 1×3×8×8 → 1×8×8×8 (512 outputs, 27 MACs each);
  // BN(8); ReLU; max pool 2/2 → 1×8×4×4; mean over H, W → 1×8; linear 8→5 as permute + addmm.
  const conv = `${ROOT};L__self__conv,conv,torch.nn.modules.conv.Conv2d`;
  const bn = `${ROOT};L__self__bn,bn,torch.nn.modules.batchnorm.BatchNorm2d`;
  const relu = `${ROOT};L__self__relu,relu,torch.nn.modules.activation.ReLU`;
  const pool = `${ROOT};L__self__pool,pool,torch.nn.modules.pooling.MaxPool2d`;
  const gap = `${ROOT};L__self__gap,gap,torch.nn.modules.pooling.AdaptiveAvgPool2d`;
  const fc = `${ROOT};L__self__fc,fc,torch.nn.modules.linear.Linear`;
  const nodes: Pt2Node[] = [
    node(
      "convolution.default",
      "convolution",
      [
        ["input", T("x")],
        ["weight", T("p_w")],
        ["bias", T("p_b")],
        ["stride", { as_ints: [1, 1] }],
        ["padding", { as_ints: [1, 1] }],
        ["dilation", { as_ints: [1, 1] }],
        ["transposed", { as_bool: false }],
        ["output_padding", { as_ints: [0, 0] }],
        ["groups", { as_int: 1 }],
      ],
      conv,
      "conv2d_1;builtin_function_or_method.conv2d",
    ),
    {
      ...node(
        "_native_batch_norm_legit_no_training.default",
        "bnout",
        [
          ["input", T("convolution")],
          ["weight", T("p_g")],
          ["bias", T("p_beta")],
          ["running_mean", T("b_m")],
          ["running_var", T("b_v")],
          ["momentum", { as_float: 0.1 }],
          ["eps", { as_float: 1e-5 }],
        ],
        bn,
        "batch_norm_1;function.batch_norm",
      ),
      outputs: [T("bnout"), T("bn_mean"), T("bn_rstd")],
    },
    node("relu.default", "r", [["self", T("bnout")]], relu, "relu_1;function.relu"),
    {
      ...node(
        "max_pool2d_with_indices.default",
        "mp",
        [
          ["self", T("r")],
          ["kernel_size", { as_ints: [2, 2] }],
          ["stride", { as_ints: [2, 2] }],
        ],
        pool,
        "max_pool2d_1;function.max_pool2d",
      ),
      outputs: [T("mp"), T("mp_idx")],
    },
    node(
      "mean.dim",
      "gm",
      [
        ["self", T("mp")],
        ["dim", { as_ints: [-1, -2] }],
        ["keepdim", { as_bool: true }],
      ],
      gap,
      "adaptive_avg_pool2d_1;function.adaptive_avg_pool2d",
    ),
    node(
      "view.default",
      "flat",
      [
        ["self", T("gm")],
        ["size", { as_ints: [1, 8] }],
      ],
      ROOT,
      "flatten_1;builtin_function_or_method.flatten",
    ),
    node(
      "permute.default",
      "wt",
      [
        ["self", T("p_fw")],
        ["dims", { as_ints: [1, 0] }],
      ],
      fc,
      "linear_1;builtin_function_or_method.linear",
    ),
    node(
      "addmm.default",
      "y",
      [
        ["self", T("p_fb")],
        ["mat1", T("flat")],
        ["mat2", T("wt")],
      ],
      fc,
      "linear_1;builtin_function_or_method.linear",
    ),
  ];
  const values = {
    x: [1, 3, 8, 8],
    p_w: [8, 3, 3, 3],
    p_b: [8],
    p_g: [8],
    p_beta: [8],
    b_m: [8],
    b_v: [8],
    p_fw: [5, 8],
    p_fb: [5],
    convolution: [1, 8, 8, 8],
    bnout: [1, 8, 8, 8],
    bn_mean: [0],
    bn_rstd: [0],
    r: [1, 8, 8, 8],
    mp: [1, 8, 4, 4],
    mp_idx: [1, 8, 4, 4],
    gm: [1, 8, 1, 1],
    flat: [1, 8],
    wt: [8, 5],
    y: [1, 5],
  };
  const ep = program(
    nodes,
    values,
    { p_w: "conv.weight", p_b: "conv.bias", p_g: "bn.weight", p_beta: "bn.bias", p_fw: "fc.weight", p_fb: "fc.bias" },
    "y",
  );
  ep.graph_module.signature.input_specs.unshift(
    { buffer: { arg: { name: "b_m" }, buffer_name: "bn.running_mean" } },
    { buffer: { arg: { name: "b_v" }, buffer_name: "bn.running_var" } },
  );
  const r = analyze(buildGraph(ep, "core-aten"));
  assert.deepEqual(
    r.layers.map((l) => [l.name, l.op]),
    [
      ["conv", "Conv"],
      ["bn", "BatchNormalization"],
      ["relu", "Relu"],
      ["pool", "MaxPool"],
      ["gap", "ReduceMean"],
      ["flat", "Reshape"],
      ["fc.wt", "Transpose"],
      ["fc.y", "Gemm"],
    ],
  );
  assert.deepEqual(r.outputs[0].shape, [1, 5]);
  // params: conv 216 + 8, BN γ β 16 (+ 16 buffers), fc 40 + 5 → 285 trainable, 301 in all.
  assert.equal(r.totals.trainable_params, 285);
  assert.equal(r.totals.params, 301);
  // macs: conv 512·27 = 13,824; fc 8·5 = 40.
  assert.equal(r.totals.by_convention.macs, 13_864);
  const by = Object.fromEntries(r.layers.map((l) => [l.name, l.by_convention.ptflops]));
  // ptflops: conv 13,824 + 512 bias; BN 2·512; ReLU 2·512; MaxPool 2·512 (input); AdaptiveAvgPool
  // 2·128 (input 8·4·4); Linear 8·5 + 5 (the addmm carries the module's hook; the permute nothing).
  assert.deepEqual(by, { conv: 14_336, bn: 1024, relu: 1024, pool: 1024, gap: 256, flat: 0, "fc.wt": 0, "fc.y": 45 });
  // thop: conv 13,824; BN 4·512; ReLU, MaxPool 0; adaptive (4·4/1 + 1)·8 = 136; Linear 8·5 = 40.
  const th = Object.fromEntries(r.layers.map((l) => [l.name, l.by_convention.thop]));
  assert.deepEqual(th, { conv: 13_824, bn: 2048, relu: 0, pool: 0, gap: 136, flat: 0, "fc.wt": 0, "fc.y": 40 });
});

// ── Rule fixes and approximations (files without module types) ──

test("a zero Pad before an AveragePool (how exporters write avg_pool2d(padding=1)) is pooled as the padded op", () => {
  // avg_pool2d(x, 3, stride=1, padding=1) on 1×2×4×4, written once as one op and once as
  // Pad(zeros) + AveragePool without padding, as the legacy ONNX exporter does.
  const one = new NetBuilder("one");
  const x1 = one.input("x", [1, 2, 4, 4]);
  const a = analyze(one.build(one.avgPool(x1, { name: "pool", kernel: 3, stride: 1, pad: 1 })));
  const two = new NetBuilder("two");
  const x2 = two.input("x", [1, 2, 4, 4]);
  const padded = two.node("Pad", "pad", [x2, two.constant("pads", [0, 0, 1, 1, 0, 0, 1, 1], [8], "int64"), two.constant("zero", [0], [])]);
  assert.deepEqual(padded.shape, [1, 2, 6, 6]);
  const b = analyze(two.build(two.avgPool(padded, { name: "pool", kernel: 3, stride: 1 })));
  // ptflops: nn.AvgPool2d hook numel(x) + patched F.avg_pool2d numel(x) = 2·32 — the input the
  // module saw (2·4·4), not the 2·6·6 = 72 padded elements.
  assert.equal(a.totals.by_convention.ptflops, 64);
  assert.equal(b.totals.by_convention.ptflops, 64);
  for (const cv of ["macs", "flops", "thop", "netscope"]) assert.equal(b.totals.by_convention[cv], a.totals.by_convention[cv], cv);
  // The receptive field of the output is the same: the Pad widens the window exactly as the pool's own padding.
  assert.deepEqual(b.tensors.pool.rf, a.tensors.pool.rf);
  assert.ok(a.tensors.pool.rf);
  // A Pad with a non-zero value, or feeding something else too, is left alone.
  const three = new NetBuilder("three");
  const x3 = three.input("x", [1, 2, 4, 4]);
  const p3 = three.node("Pad", "pad", [x3, three.constant("pads", [0, 0, 1, 1, 0, 0, 1, 1], [8], "int64"), three.constant("one", [1], [])]);
  assert.equal(analyze(three.build(three.avgPool(p3, { name: "pool", kernel: 3, stride: 1 }))).totals.by_convention.ptflops, 144);
});

test("thop: a 1×1 stride-1 average pool is an identity adaptive pool, (1 + 1)·numel(y); the table says it is assumed", () => {
  // AdaptiveAvgPool2d((7, 7)) on a 7×7 input: torch exports AveragePool(kernel 1, stride 1).
  // thop's count_adap_avgpool: kernel = in/out = 1, (1 + 1)·numel(y) = 2·(8·7·7) = 784.
  const b = new NetBuilder("identity");
  const x = b.input("x", [1, 8, 7, 7]);
  const r = analyze(b.build(b.avgPool(x, { name: "avgpool", kernel: 1, stride: 1 })));
  assert.equal(r.totals.by_convention.thop, 784);
  const row = r.conventions.find((c) => c.name === "thop");
  assert.match(row?.approximated ?? "", /1 layer: 1×1 stride-1 average pool taken as an identity adaptive pool/);
  // ptflops: either module counts 2·numel(x) (hook + patched F call) = 784 as well, flagged as assumed.
  assert.equal(r.totals.by_convention.ptflops, 784);
  assert.match(r.conventions.find((c) => c.name === "ptflops")?.approximated ?? "", /module types unknown/);
});

test("without module types the conventions table and --explain say what was assumed; with them nothing is", () => {
  const b = new NetBuilder("plain");
  const x = b.input("x", [1, 4, 8, 8]);
  const r = analyze(b.build(b.relu(x, "relu")));
  // Taken as nn.ReLU: 2·256. Had the model called F.relu it would be 256, torch.relu 0.
  assert.equal(r.totals.by_convention.ptflops, 512);
  assert.match(
    r.conventions.find((c) => c.name === "ptflops")?.approximated ?? "",
    /1 layer: module types unknown: taken as an nn module, counted twice/,
  );
  assert.equal(r.conventions.find((c) => c.name === "macs")?.approximated, undefined);
  const text = explainLayer(b.build(), "relu");
  assert.match(text, /ptflops\s+512\s+hook numel\(y\) \+ F numel\(x\) = 2·256/);
  assert.match(text, /approximated: module types unknown/);
});
