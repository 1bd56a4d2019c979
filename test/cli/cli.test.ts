import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { cli } from "../support/cli.js";

const tmp = mkdtempSync(join(tmpdir(), "convscope-cli-"));
function file(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

test("zoo:alexnet as JSON follows the contract with exact integers", () => {
  const { code, out } = cli("zoo:alexnet", "--json");
  assert.equal(code, 0);
  const r = JSON.parse(out);
  assert.deepEqual(r.model, { name: "alexnet", format: "builder" });
  assert.deepEqual(r.inputs, [{ name: "data", shape: [1, 3, 227, 227], dtype: "float32" }]);
  assert.equal(r.totals.params, 60965224);
  assert.equal(r.totals.macs, 724406816);
  assert.equal(r.totals.param_bytes, 243860896);
  const conv1 = r.layers.find((l: { name: string }) => l.name === "conv1");
  assert.deepEqual(
    [conv1.op, conv1.inputs, conv1.outputs, conv1.params, conv1.macs],
    ["Conv", ["data", "conv1.weight", "conv1.bias"], ["conv1"], 34944, 105415200],
  );
  assert.deepEqual(r.tensors.pool5.rf, { size: [195, 195], stride: [32, 32], padding: [64, 64], aligned: true });
  assert.equal(r.tensors.conv1.bytes, 96 * 55 * 55 * 4);
  assert.ok(r.totals.peak_activation_bytes > 0);
});

test("the table shows every layer with field and MACs, totals and conventions", () => {
  const { code, out } = cli("zoo:alexnet");
  assert.equal(code, 0);
  assert.match(out, /conv1\s+Conv\s+96×55×55\s+11\/4\s+34\.94K\s+105\.42M\s+14\.6%/);
  assert.match(out, /pool5\s+MaxPool\s+256×6×6\s+195\/32/);
  assert.match(out, /params\s+60,965,224/);
  assert.match(out, /243,860,896 bytes as fp32 = 238145\.4 KiB/);
  assert.match(out, /seed\s+725,066,088/);
});

test("--convention seed makes the headline follow the seed; --dtype sizes parameters", () => {
  const r = JSON.parse(cli("zoo:alexnet", "--json", "--convention", "seed", "--dtype", "fp16").out);
  assert.equal(r.convention, "seed");
  assert.equal(r.totals.value, 725066088);
  assert.equal(r.layers[0].value, 105705600);
  assert.equal(r.totals.param_bytes, 60965224 * 2);
});

test("--batch and --input scale the graph; totals stay per image, batch_totals per batch", () => {
  const r = JSON.parse(cli("zoo:resnet18", "--json", "--batch", "4").out);
  assert.equal(r.batch, 4);
  assert.equal(r.totals.macs, 1814073344);
  assert.equal(r.batch_totals.macs, 4 * 1814073344);
  const s = JSON.parse(cli("zoo:resnet18", "--json", "--input", "input=1x3x448x448").out);
  // Every map stays even down to layer4 (14×14), so each conv has 4× the positions; fc stays 512·1000.
  assert.equal(s.totals.macs, (1814073344 - 512000) * 4 + 512000);
});

test("csv and markdown carry exact integers", () => {
  const csv = cli("zoo:alexnet", "--format", "csv").out.split("\n");
  assert.equal(
    csv[0],
    "layer,op,status,output_shape,rf_size,rf_stride,rf_padding,params,trainable_params,macs,flops,seed,activation_bytes",
  );
  assert.equal(
    csv[1],
    `conv1,Conv,ok,1x96x55x55,11x11,4x4,0x0,34944,34944,105415200,${2 * 105415200 + 290400},105705600,${96 * 55 * 55 * 4}`,
  );
  const md = cli("zoo:alexnet", "--format", "md").out;
  assert.match(md, /\| 1 \| conv1 \| Conv \| 96×55×55 \| 11\/4 \| 34,944 \| 105,415,200 \| 14\.6% \|/);
});

test("--list-zoo, --help and --version", () => {
  assert.match(cli("--list-zoo").out, /zoo:alexnet\s+BVLC AlexNet/);
  assert.match(cli("--help").out, /usage: convscope <model>/);
  assert.match(cli("--version").out, /^convscope \d+\.\d+\.\d+\n$/);
});

test("bad input: one line naming the file, the layer and the problem; exit 2", () => {
  const cases: [string[], RegExp][] = [
    [["zoo:nope"], /^convscope: no zoo model 'nope'/],
    [[join(tmp, "missing.json")], /missing\.json: no such file$/],
    [[tmp], /is a directory, not a model file$/],
    [[file("empty.onnx", "")], /empty\.onnx: the file is empty$/],
    [[file("junk.bin", "hello, I am not a model")], /junk\.bin: not a model file convscope can read \(supported: /],
    [[file("bad.json", '{"layers": [}')], /bad\.json: not valid JSON/],
    [
      [file("unknown.json", '{"inputs":{"x":[1,3,8,8]},"layers":[{"name":"l1","type":"frobnicate"}]}')],
      /unknown\.json: layer 'l1': unknown layer type 'frobnicate'/,
    ],
    [
      [file("zero.json", '{"inputs":{"x":[1,3,0,8]},"layers":[{"name":"l1","type":"relu"}]}')],
      /zero\.json: input 'x' needs a shape of positive integers/,
    ],
    [
      [file("big.json", '{"inputs":{"x":[1,3,8,8]},"layers":[{"name":"c","type":"conv","out":4,"kernel":11}]}')],
      /big\.json: layer 'c': kernel 11 is larger than the padded input 8/,
    ],
    [
      [
        file(
          "concat.json",
          '{"inputs":{"x":[1,3,8,8]},"layers":[{"name":"a","type":"conv","out":4,"kernel":1},{"name":"b","type":"maxpool","kernel":2,"inputs":["x"]},{"name":"c","type":"concat","inputs":["a","b"]}]}',
        ),
      ],
      /concat\.json: layer 'c': input 1 has shape 1×3×4×4, which does not match 1×4×8×8 outside axis 1/,
    ],
    [["zoo:alexnet", "--format", "xml"], /unknown format 'xml'/],
    [["zoo:alexnet", "--batch", "0"], /--batch takes a positive integer, got '0'/],
    [["zoo:alexnet", "--input", "data"], /--input takes NAME=SHAPE/],
    [["zoo:alexnet", "--input", "nope=1x3x227x227"], /--input names 'nope', but the model's inputs are 'data'/],
    [["zoo:alexnet", "--convention", "bogus"], /unknown convention 'bogus'/],
    [["zoo:alexnet", "--dtype", "toString"], /unknown dtype 'toString' \(known: fp32, fp16, bf16, int8, int4\)/],
    [["zoo:alexnet", "--frobnicate"], /Unknown option '--frobnicate'/],
  ];
  for (const [args, want] of cases) {
    const { code, out, err } = cli(...args);
    assert.equal(code, 2, `${args.join(" ")} → exit ${code}: ${err}`);
    assert.equal(out, "");
    assert.equal(err.trimEnd().split("\n").length, 1, `one line: ${err}`);
    assert.match(err.trimEnd(), want);
  }
});

test("the installed command: exit status and stderr of a real process, no stack trace", () => {
  const mainTs = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
  const tsx = fileURLToPath(new URL("../../node_modules/.bin/tsx", import.meta.url));
  const bad = spawnSync(
    tsx,
    [mainTs, file("cyc.json", '{"inputs":{"x":[1,3,8,8]},"layers":[{"name":"a","type":"relu","inputs":["a"]}]}')],
    { encoding: "utf8" },
  );
  assert.equal(bad.status, 2);
  assert.equal(bad.stdout, "");
  assert.match(bad.stderr, /^convscope: .*cyc\.json: layer 'a': reads 'a', which is neither an input nor an earlier layer\n$/);
  const ok = spawnSync(tsx, [mainTs, "zoo:resnet18", "--json"], { encoding: "utf8" });
  assert.equal(ok.status, 0);
  assert.equal(JSON.parse(ok.stdout).totals.macs, 1814073344);
});

test("ONNX files whose reshape targets are decoded during analysis (the file stays open until then)", () => {
  const ref = JSON.parse(readFileSync(new URL("../fixtures/onnx/reference.json", import.meta.url), "utf8"));
  for (const name of ["shufflenet_v2_x1_0", "densenet121"]) {
    const { code, out, err } = cli(fileURLToPath(new URL(`../fixtures/onnx/${ref[name].file}`, import.meta.url)), "--json");
    assert.equal(code, 0, err);
    const r = JSON.parse(out);
    assert.equal(r.totals.params, ref[name].params);
    assert.equal(r.totals.macs, ref[name].macs);
  }
  // Titles name the file: exporters call every graph "torch_jit".
  const table = cli(fileURLToPath(new URL("../fixtures/onnx/resnet18.onnx", import.meta.url))).out;
  assert.match(table, /^convscope — resnet18\.onnx \(onnx graph 'torch_jit'\) · input input 1×3×224×224 · per image\n/);
});
