import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { strToU8, zipSync } from "fflate";
import { analyze } from "../../src/analysis/index.js";
import { ConvscopeError } from "../../src/core/errors.js";
import { bufferSource, readModel } from "../../src/formats/index.js";
import { prng } from "../support/prng.js";
import { OPT, type WField, writeTflite } from "./tflite-writer.js";

/**
 * Truncated and hostile files of every format but ONNX (onnx-fuzz.test.ts has those):
 * Caffe prototxt, Keras JSON and .keras archives, TF.js layers and graph models, TFLite
 * and convscope's spec JSON. JSON is mutated in its tree (a value swapped for a hostile
 * one: negative, huge, fractional, the wrong type, a deep nest; a key deleted; an element
 * repeated), prototxt by token and line, binaries by byte, all of them also by truncation.
 * Every outcome must be a report or a one-line ConvscopeError: never another exception,
 * never a hang. `FUZZ_CASES` sets the count, `FUZZ_SEED` the seed.
 */
const CASES = Number(process.env.FUZZ_CASES ?? 4_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_129);

const fixture = (p: string) => new Uint8Array(readFileSync(new URL(`../fixtures/${p}`, import.meta.url)));
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** A TF.js graph model (hand-written: a conv, a pool, a reshape, a matmul) with its manifest. */
function tfjsGraph(): Uint8Array {
  const list = (...i: number[]) => ({ list: { i: i.map(String) } });
  const s = (x: string) => btoa(x);
  return strToU8(
    JSON.stringify({
      format: "graph-model",
      modelTopology: {
        node: [
          {
            name: "x",
            op: "Placeholder",
            attr: {
              dtype: { type: "DT_FLOAT" },
              shape: { shape: { dim: [{ size: "-1" }, { size: "16" }, { size: "16" }, { size: "3" }] } },
            },
          },
          { name: "w", op: "Const", attr: { dtype: { type: "DT_FLOAT" } } },
          {
            name: "conv",
            op: "Conv2D",
            input: ["x", "w"],
            attr: { strides: list(1, 2, 2, 1), padding: { s: s("SAME") }, data_format: { s: s("NHWC") } },
          },
          { name: "relu", op: "Relu", input: ["conv"] },
          {
            name: "pool",
            op: "MaxPool",
            input: ["relu"],
            attr: { ksize: list(1, 2, 2, 1), strides: list(1, 2, 2, 1), padding: { s: s("VALID") } },
          },
          {
            name: "shape",
            op: "Const",
            attr: {
              dtype: { type: "DT_INT32" },
              value: { tensor: { dtype: "DT_INT32", tensorShape: { dim: [{ size: "2" }] }, intVal: [-1, 128] } },
            },
          },
          { name: "flat", op: "Reshape", input: ["pool", "shape"] },
          { name: "fw", op: "Const", attr: { dtype: { type: "DT_FLOAT" } } },
          { name: "fc", op: "MatMul", input: ["flat", "fw"], attr: { transpose_a: { b: false }, transpose_b: { b: false } } },
          { name: "out", op: "Identity", input: ["fc"] },
        ],
        versions: { producer: 1 },
      },
      weightsManifest: [
        {
          paths: ["group1-shard1of1.bin"],
          weights: [
            { name: "w", shape: [3, 3, 3, 8], dtype: "float32" },
            { name: "fw", shape: [128, 10], dtype: "float32" },
          ],
        },
      ],
    }),
  );
}

/** A TFLite model from the test writer: conv, depthwise conv, pool, reshape, fully connected, softmax. */
function tflite(): Uint8Array {
  const conv: WField[] = [
    [0, "i8", 0],
    [1, "i32", 2],
    [2, "i32", 2],
    [3, "i8", 3],
  ];
  const dw: WField[] = [
    [0, "i8", 0],
    [1, "i32", 1],
    [2, "i32", 1],
    [3, "i32", 1],
    [4, "i8", 0],
  ];
  const pool: WField[] = [
    [0, "i8", 1],
    [1, "i32", 2],
    [2, "i32", 2],
    [3, "i32", 2],
    [4, "i32", 2],
  ];
  return writeTflite({
    tensors: [
      { name: "in", shape: [1, 16, 16, 3] },
      { name: "w", shape: [8, 3, 3, 3], weight: true },
      { name: "b", shape: [8], weight: true },
      { name: "c", shape: [1, 8, 8, 8] },
      { name: "dw", shape: [1, 3, 3, 8], weight: true },
      { name: "d", shape: [1, 8, 8, 8] },
      { name: "p", shape: [1, 4, 4, 8] },
      { name: "shape", shape: [2], ints: [1, 128], type: "int32" },
      { name: "r", shape: [1, 128] },
      { name: "fw", shape: [10, 128], weight: true },
      { name: "f", shape: [1, 10] },
      { name: "y", shape: [1, 10] },
    ],
    inputs: [0],
    outputs: [11],
    ops: [
      { op: "CONV_2D", inputs: [0, 1, 2], outputs: [3], options: { type: OPT.Conv2D, fields: conv } },
      { op: "DEPTHWISE_CONV_2D", inputs: [3, 4, -1], outputs: [5], options: { type: OPT.DepthwiseConv2D, fields: dw } },
      { op: "MAX_POOL_2D", inputs: [5], outputs: [6], options: { type: OPT.Pool2D, fields: pool } },
      { op: "RESHAPE", inputs: [6, 7], outputs: [8] },
      { op: "FULLY_CONNECTED", inputs: [8, 9, -1], outputs: [10] },
      { op: "SOFTMAX", inputs: [10], outputs: [11] },
    ],
  });
}

interface Base {
  name: string;
  kind: "json" | "keras-zip" | "prototxt" | "binary";
  bytes: Uint8Array;
  json?: unknown;
}

function corpus(): Base[] {
  const json = (name: string, bytes: Uint8Array): Base => ({ name, kind: "json", bytes, json: JSON.parse(text(bytes)) });
  const k3 = fixture("keras/siamese_k3.json");
  return [
    { name: "train_val.prototxt", kind: "prototxt", bytes: fixture("caffe/train_val.prototxt") },
    { name: "legacy_v1.prototxt", kind: "prototxt", bytes: fixture("caffe/legacy_v1.prototxt") },
    { name: "vgg16_legacy_deploy.prototxt", kind: "prototxt", bytes: fixture("caffe/vgg16_legacy_deploy.prototxt") },
    json("sequential_k2.json", fixture("keras/sequential_k2.json")),
    json("siamese_k3.json", k3),
    { name: "siamese.keras", kind: "keras-zip", bytes: k3, json: JSON.parse(text(k3)) },
    json("model.json", fixture("keras/tfjs_layers_model.json")),
    json("graph-model.json", tfjsGraph()),
    json("tiny-resnet.json", fixture("spec/tiny-resnet.json")),
    { name: "model.tflite", kind: "binary", bytes: tflite() },
  ];
}

const HOSTILE: unknown[] = [
  null,
  true,
  0,
  -1,
  -7,
  0.5,
  1e9,
  2 ** 31,
  2 ** 53 + 2,
  1e308,
  -1e308,
  "",
  "x",
  "-1",
  "1e400",
  "\n\u0000\u2028",
  "same",
  "valid",
  "channels_first",
  [],
  [-1],
  [0, 0],
  [1e9, 1e9],
  [null, null, null, null, null],
  {},
  { class_name: "Conv2D", config: {} },
];

type Rnd = () => number;
const pick = <T>(xs: readonly T[], rnd: Rnd): T => xs[Math.floor(rnd() * xs.length)];

/** Every [parent, key] slot of a JSON tree. */
function slots(v: unknown, out: [Record<string | number, unknown>, string | number][] = []): typeof out {
  if (v && typeof v === "object") {
    for (const k of Object.keys(v)) {
      const key = Array.isArray(v) ? Number(k) : k;
      out.push([v as Record<string | number, unknown>, key]);
      slots((v as Record<string, unknown>)[k], out);
    }
  }
  return out;
}

function mutateJson(doc: unknown, rnd: Rnd): { value: unknown; how: string } {
  const copy = structuredClone(doc);
  const all = slots(copy);
  const n = 1 + Math.floor(rnd() * 3);
  const how: string[] = [];
  for (let i = 0; i < n; i++) {
    const [parent, key] = pick(all, rnd);
    const r = rnd();
    if (r < 0.6) {
      const v = pick(HOSTILE, rnd);
      parent[key] = structuredClone(v);
      how.push(`${String(key)} = ${JSON.stringify(v)}`);
    } else if (r < 0.75 && !Array.isArray(parent)) {
      delete parent[key];
      how.push(`deleted ${key}`);
    } else if (r < 0.85 && Array.isArray(parent)) {
      parent.splice(Number(key), 0, structuredClone(parent[key]));
      how.push(`repeated [${key}]`);
    } else if (r < 0.93) {
      // Another slot's value here: a layer where a number was, a name where a list was.
      const [p2, k2] = pick(all, rnd);
      parent[key] = structuredClone(p2[k2]);
      how.push(`${String(key)} = value of ${String(k2)}`);
    } else {
      let deep: unknown = 1;
      for (let d = 0; d < 2000; d++) deep = [deep];
      parent[key] = deep;
      how.push(`${String(key)} nested 2000 deep`);
    }
  }
  return { value: copy, how: how.join("; ") };
}

function mutateBytes(b: Uint8Array, rnd: Rnd): { bytes: Uint8Array; how: string } {
  const int = (n: number) => Math.floor(rnd() * n);
  const r = rnd();
  if (r < 0.4) {
    const out = Uint8Array.from(b);
    const at: number[] = [];
    for (let i = 1 + int(4); i > 0; i--) {
      const p = int(out.length);
      out[p] = pick([0, 0xff, 0x7f, 0x80, int(256)], rnd);
      at.push(p);
    }
    return { bytes: out, how: `bytes at ${at.join(",")}` };
  }
  if (r < 0.7) {
    // A 32-bit little-endian word (a flatbuffer offset or length, a zip size) made hostile.
    const out = Uint8Array.from(b);
    const p = int(Math.max(1, out.length - 4)) & ~3;
    new DataView(out.buffer).setUint32(p, pick([0, 1, 0x7fffffff, 0xffffffff, 0x80000000, out.length, int(out.length)], rnd), true);
    return { bytes: out, how: `word at ${p}` };
  }
  if (r < 0.85) {
    const n = int(b.length);
    return { bytes: b.subarray(0, n), how: `truncated to ${n}` };
  }
  const p = int(b.length);
  const n = 1 + int(64);
  return { bytes: Uint8Array.from([...b.subarray(0, p), ...b.subarray(p + n)]), how: `deleted ${n} at ${p}` };
}

const NUMBERS = ["0", "-1", "-3", "1.5", "99999999999", "1e40", "4294967296", "nan", '"7"'];

function mutatePrototxt(b: Uint8Array, rnd: Rnd): { bytes: Uint8Array; how: string } {
  const lines = text(b).split("\n");
  const int = (n: number) => Math.floor(rnd() * n);
  const r = rnd();
  let how: string;
  if (r < 0.4) {
    // A number made hostile.
    const candidates = lines.map((l, i) => (/:\s*-?\d/.test(l) ? i : -1)).filter((i) => i >= 0);
    const i = pick(candidates, rnd);
    const v = pick(NUMBERS, rnd);
    lines[i] = lines[i].replace(/(:\s*)-?[\d.e]+/, `$1${v}`);
    how = `line ${i} number = ${v}`;
  } else if (r < 0.55) {
    const i = int(lines.length);
    lines.splice(i, 1 + int(3));
    how = `deleted lines at ${i}`;
  } else if (r < 0.7) {
    const i = int(lines.length);
    lines.splice(i, 0, lines[int(lines.length)]);
    how = `repeated a line at ${i}`;
  } else if (r < 0.8) {
    const i = int(lines.length);
    lines.splice(
      i,
      0,
      pick(
        [
          "}",
          "{",
          'name: "',
          "layer {",
          'bottom: "data"',
          'top: "data"',
          "kernel_size: 0",
          "group: 0",
          "stride: 0",
          "num_output: -5",
          "pad: 1000000000",
          "dim: -2",
          "input_dim: 0",
        ],
        rnd,
      ),
    );
    how = `inserted at ${i}`;
  } else {
    return mutateBytes(b, rnd);
  }
  return { bytes: strToU8(lines.join("\n")), how };
}

function mutate(base: Base, rnd: Rnd): { bytes: Uint8Array; how: string } {
  switch (base.kind) {
    case "json": {
      if (rnd() < 0.2) return mutateBytes(base.bytes, rnd);
      const { value, how } = mutateJson(base.json, rnd);
      return { bytes: strToU8(JSON.stringify(value)), how };
    }
    case "keras-zip": {
      let config: Uint8Array;
      let how = "config intact";
      if (rnd() < 0.7) {
        const m = mutateJson(base.json, rnd);
        config = strToU8(JSON.stringify(m.value));
        how = m.how;
      } else config = base.bytes;
      const zip = zipSync({ "metadata.json": strToU8('{"keras_version":"3.4.1"}'), "config.json": config }, { level: rnd() < 0.5 ? 0 : 6 });
      if (rnd() < 0.4) {
        const b = mutateBytes(zip, rnd);
        return { bytes: b.bytes, how: `${how}; zip ${b.how}` };
      }
      return { bytes: zip, how };
    }
    case "prototxt":
      return mutatePrototxt(base.bytes, rnd);
    case "binary":
      return mutateBytes(base.bytes, rnd);
  }
}

test(`fuzz: ${CASES} hostile files of every other format each give a report or a one-line ConvscopeError`, { timeout: 120_000 }, () => {
  const bases = corpus().filter((b) => !process.env.FUZZ_ONLY || b.name.includes(process.env.FUZZ_ONLY));
  // Every base reads as it is.
  for (const b of bases) analyze(readModel(bufferSource(b.name, b.kind === "keras-zip" ? zipSync({ "config.json": b.bytes }) : b.bytes)));
  const rnd = prng(SEED);
  const outcomes = new Map<string, { report: number; error: number }>();
  const failures: string[] = [];
  let slowest = { ms: 0, what: "" };
  for (let i = 0; i < CASES; i++) {
    const base = bases[i % bases.length];
    const { bytes, how } = mutate(base, rnd);
    const o = outcomes.get(base.name) ?? { report: 0, error: 0 };
    outcomes.set(base.name, o);
    const t = performance.now();
    try {
      analyze(readModel(bufferSource(base.name, bytes)));
      o.report++;
    } catch (e) {
      if (e instanceof ConvscopeError && !e.oneLine().includes("\n")) o.error++;
      else if (failures.length < 30)
        failures.push(`case ${i} (${base.name}, ${how}): ${(e as Error)?.stack?.split("\n").slice(0, 4).join(" | ") ?? e}`);
    }
    const ms = performance.now() - t;
    if (ms > slowest.ms) slowest = { ms, what: `case ${i} (${base.name}, ${how})` };
  }
  if (process.env.FUZZ_VERBOSE) console.log(outcomes, slowest);
  assert.deepEqual(failures, []);
  // No case takes long (a hang in the making): the slowest, for the record.
  assert.ok(slowest.ms < 2000, `slowest ${slowest.ms.toFixed(0)} ms: ${slowest.what}`);
  // Both outcomes occur for every format: mutations often leave a readable model.
  if (CASES >= 1000) for (const [name, o] of outcomes) assert.ok(o.report > 0 && o.error > 0, `${name}: ${JSON.stringify(o)}`);
});

/** Each reader bug the fuzz found, as a fixed case: the one-line error it gives now. */
test("cases the fuzz found: a one-line error naming the problem", () => {
  const err = (name: string, text: string) => {
    try {
      readModel(bufferSource(name, strToU8(text)));
    } catch (e) {
      assert.ok(e instanceof ConvscopeError, String(e));
      return e.oneLine();
    }
    assert.fail("read without error");
  };
  // TF.js graph: a node's input list that is a string (was: TypeError, filter is not a function).
  const graph = JSON.parse(text(tfjsGraph()));
  graph.modelTopology.node[2].input = "x";
  assert.equal(
    err("model.json", JSON.stringify(graph)),
    "model.json: layer 'conv': model.json.modelTopology.node[2].input should be a list, not string",
  );
  // …a string attribute that is not base64 (was: InvalidCharacterError from atob).
  graph.modelTopology.node[2].input = ["x", "w"];
  graph.modelTopology.node[2].attr.padding.s = "!!";
  assert.match(err("model.json", JSON.stringify(graph)), /^model\.json: '!!' is not base64/);
  // Keras: output layers nested 2,000 deep (was: RangeError, maximum call stack size exceeded).
  const keras = JSON.parse(text(fixture("keras/siamese_k3.json")));
  let deep: unknown = ["x", 0, 0];
  for (let i = 0; i < 2000; i++) deep = [deep];
  keras.config.output_layers = deep;
  assert.match(err("siamese.json", JSON.stringify(keras)), /"output_layers" nests deeper than any model's inputs or outputs/);
  // Caffe: a convolution on a rank-1 input (was: RangeError, invalid array length).
  const caffe = [
    'name: "r1" input: "data" input_shape { dim: 2 }',
    'layer { name: "conv" type: "Convolution" bottom: "data" top: "conv" convolution_param { num_output: 4 kernel_size: 3 } }',
  ].join("\n");
  assert.match(err("legacy.prototxt", caffe), /layer 'conv'.*has rank 1: a convolution needs N, C and at least one spatial axis/);
});
