import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { main } from "../../src/cli/main.js";
import { attr, DT, graph, model, node, Pb, tensor, valueInfo } from "./onnx-writer.js";

const FIXTURES = new URL("../fixtures/onnx/", import.meta.url);
const dir = mkdtempSync(join(tmpdir(), "convscope-onnx-bad-"));
after(() => rmSync(dir, { recursive: true }));

/** Runs `convscope FILE --json` and returns its one-line error (asserting exit 2 and a single line). */
function cliError(bytes: Uint8Array | null, name = "bad.onnx"): string {
  const path = join(dir, name);
  if (bytes) writeFileSync(path, bytes);
  let err = "";
  const code = main(
    [path, "--json"],
    () => {},
    (s) => {
      err += s;
    },
  );
  assert.equal(code, 2, `exit 2, got ${code}: ${err}`);
  assert.equal(err.trimEnd().split("\n").length, 1, `one line: ${err}`);
  assert.ok(err.includes(path), `names the file: ${err}`);
  return err.trimEnd();
}

const relu = (dims: (number | string | null)[] = [1, 3]) =>
  graph({ nodes: [node({ op: "Relu", inputs: ["x"], outputs: ["y"] })], inputs: [valueInfo("x", dims)], outputs: [valueInfo("y")] });

test("a truncated model names the byte where it ends", () => {
  const full = readFileSync(new URL("resnet18.onnx", FIXTURES));
  // The graph field (byte 19) claims 15,491 bytes; cut the file at 8,000.
  assert.match(
    cliError(full.subarray(0, 8000)),
    /bad\.onnx: byte \d+: field 7 claims \d+ bytes, past the end of its message \(\d+ left\) \(in ModelProto\)$/,
  );
});

test("a field with the wrong wire type", () => {
  // NodeProto op_type (field 4) written as a varint.
  const bad = new Pb().len(1, "x").len(2, "y").varint(4, 7);
  const m = model(graph({ nodes: [bad], inputs: [valueInfo("x", [1])], outputs: [valueInfo("y")] }));
  assert.match(cliError(m.bytes()), /byte \d+: field 4 \(op_type\) has wire type 0, expected 2 \(in NodeProto\)$/);
});

test("garbage: with an .onnx name an ONNX error at a byte, otherwise not a known format", () => {
  const garbage = Uint8Array.from({ length: 300 }, (_, i) => (i * 197 + 89) & 0xff);
  assert.match(cliError(garbage), /bad\.onnx: byte \d+: .*\(in ModelProto\)$/);
  assert.match(cliError(garbage, "bad.bin"), /bad\.bin: not a model file convscope can read/);
});

test("a length running past the end of its message", () => {
  // A NodeProto whose name claims 200 bytes inside a 10-byte message.
  const bad = new Pb().len(4, "Relu").raw(Uint8Array.from([0x1a, 0xc8, 0x01, 0x41, 0x42]));
  const m = model(graph({ nodes: [bad], inputs: [valueInfo("x", [1])], outputs: [valueInfo("y")] }));
  assert.match(cliError(m.bytes()), /byte \d+: field 3 claims 200 bytes, past the end of its message \(2 left\) \(in NodeProto\)$/);
});

test("absurd and negative dims", () => {
  const withInit = (dims: number[]) =>
    model(
      graph({
        nodes: [node({ op: "Add", inputs: ["x", "w"], outputs: ["y"] })],
        initializers: [tensor({ name: "w", dims, external: { location: "w.bin" } })],
        inputs: [valueInfo("x", [1, 3])],
        outputs: [valueInfo("y")],
      }),
    ).bytes();
  assert.match(cliError(withInit([2 ** 62, 3])), /byte \d+: tensor 'w' has dimension 4611686018427388000, beyond 2\^53$/);
  assert.match(cliError(withInit([-3, 3])), /byte \d+: tensor 'w' has the negative dimension -3$/);
  assert.match(cliError(model(relu([1, -1])).bytes()), /byte \d+: input 'x' declares the negative dimension -1$/);
  assert.match(cliError(model(relu([1, 2 ** 62])).bytes()), /byte \d+: tensor 'x' declares dimension 4611686018427388000, beyond 2\^53$/);
  // raw_data that does not match the dims: 3 floats given, 2×3 needed.
  const short = model(
    graph({
      nodes: [node({ op: "Add", inputs: ["x", "w"], outputs: ["y"] })],
      initializers: [tensor({ name: "w", dims: [2, 3], raw: new Uint8Array(12) })],
      inputs: [valueInfo("x", [2, 3])],
      outputs: [valueInfo("y")],
    }),
  );
  assert.match(cliError(short.bytes()), /byte \d+: tensor 'w' has 12 bytes of raw_data, but its dims 2×3 of float32 need 24$/);
});

test("an empty file, a directory, a missing file", () => {
  assert.match(cliError(new Uint8Array(0)), /bad\.onnx: the file is empty$/);
  assert.match(cliError(null, "."), /is a directory, not a model file$/);
  assert.match(cliError(null, "nope.onnx"), /nope\.onnx: no such file$/);
});

test("a cycle and a tensor nobody produces name the layer", () => {
  const cycle = graph({
    nodes: [
      node({ op: "Add", name: "a", inputs: ["x", "q"], outputs: ["p"] }),
      node({ op: "Relu", name: "b", inputs: ["p"], outputs: ["q"] }),
    ],
    inputs: [valueInfo("x", [1, 3])],
    outputs: [valueInfo("q")],
  });
  assert.match(cliError(model(cycle).bytes()), /bad\.onnx: layer 'a': the graph has a cycle through a → b$/);
  const dangling = graph({
    nodes: [node({ op: "Add", name: "add", inputs: ["x", "ghost"], outputs: ["y"] })],
    inputs: [valueInfo("x", [1, 3])],
    outputs: [valueInfo("y")],
  });
  assert.match(cliError(model(dangling).bytes()), /layer 'add': reads tensor 'ghost', which no layer produces and is not an input$/);
});

test("a Constant without a value, a model without a graph, nesting too deep", () => {
  const noValue = graph({
    nodes: [node({ op: "Constant", name: "k", inputs: [], outputs: ["c"], attrs: [attr.i("unused", 1)] })],
    inputs: [valueInfo("x", [1])],
    outputs: [valueInfo("c")],
  });
  assert.match(cliError(model(noValue).bytes()), /layer 'k': a Constant without a value attribute$/);
  assert.match(
    cliError(new Pb().varint(1, 8).len(8, new Pb().len(1, "").varint(2, 13)).bytes()),
    /the model has no graph \(ModelProto field 7\)$/,
  );
  let g = relu();
  for (let i = 0; i < 40; i++) {
    g = graph({
      nodes: [node({ op: "If", inputs: ["x"], outputs: ["y"], attrs: [attr.g("then_branch", g)] })],
      inputs: [valueInfo("x", [1], DT.BOOL)],
      outputs: [valueInfo("y")],
    });
  }
  assert.match(cliError(model(g).bytes()), /byte \d+: graphs nested more than 32 deep \(in GraphProto\)$/);
});
