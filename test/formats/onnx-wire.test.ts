import assert from "node:assert/strict";
import { test } from "node:test";
import { bufferSource, readModel } from "../../src/formats/index.js";
import { Cursor, EXACT, Msg } from "../../src/formats/onnx/wire.js";
import { attr, graph, model, node, Pb, tensor, valueInfo } from "./onnx-writer.js";

const bytes = (text: string) => new TextEncoder().encode(text);

test("words decode as text does: a spelling met again, a near miss of the same length, a control character, UTF-8", () => {
  // "Conv" at 0 and 9, "Relu" at 4, "Conw" (one byte from "Conv") at 14, "A\u0001B" at 19, "Ünï" (5 bytes) at 23.
  const c = new Cursor(bufferSource("words", bytes("ConvRelu Conv Conw A\u0001B Ünï")));
  const first = c.word(0, 4);
  assert.equal(first, "Conv");
  assert.equal(c.word(4, 8), "Relu");
  const again = c.word(9, 13);
  assert.equal(again, "Conv");
  assert.equal(c.word(14, 18), "Conw");
  assert.equal(c.word(9, 13), "Conv");
  assert.equal(c.word(19, 22), "A\ufffdB");
  assert.equal(c.word(19, 22), "A\ufffdB");
  assert.equal(c.word(23, 28), "Ünï");
  assert.equal(c.word(23, 28), "Ünï");
});

test("op types and attribute names read as words analyse as before", () => {
  const conv = (name: string, from: string, to: string) =>
    node({
      op: "Conv",
      name,
      inputs: [from, `${name}.w`],
      outputs: [to],
      attrs: [attr.ints("kernel_shape", [3, 3]), attr.ints("pads", [1, 1, 1, 1])],
    });
  const m = model(
    graph({
      name: "words",
      nodes: [conv("a", "x", "y"), node({ op: "Relu", name: "r", inputs: ["y"], outputs: ["z"] }), conv("b", "z", "out")],
      initializers: [
        tensor({ name: "a.w", dims: [4, 3, 3, 3], fill: 4 * 27 * 4 }),
        tensor({ name: "b.w", dims: [4, 4, 3, 3], fill: 4 * 36 * 4 }),
      ],
      inputs: [valueInfo("x", [1, 3, 8, 8])],
      outputs: [valueInfo("out")],
    }),
  );
  const g = readModel(bufferSource("words.onnx", m.bytes()));
  assert.deepEqual(
    g.nodes.map((n) => n.op),
    ["Conv", "Relu", "Conv"],
  );
  assert.deepEqual(g.nodes[0].attrs, { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  assert.deepEqual(g.nodes[2].attrs, { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
});

test("varints read the same from a loaded window (the short fast path) and byte by byte (the general loop)", () => {
  // Both sides of each length boundary the fast path knows (1, 2, 3 bytes), longer ones, and negatives (10 bytes).
  const values = [
    0,
    1,
    127,
    128,
    300,
    16383,
    16384,
    2097151,
    2097152,
    2 ** 28 - 1,
    2 ** 28,
    2 ** 35 + 5,
    2 ** 53 - 1,
    -1,
    -300,
    -(2 ** 31),
  ];
  const file = new Pb().packedVarints(1, values).bytes();
  // Packed: ints() loads the whole body into the window first.
  const loaded = new Cursor(bufferSource("packed", file));
  const m = Msg.file(loaded, "T");
  assert.equal(m.next(), true);
  const fast: number[] = [];
  m.ints("xs", fast);
  assert.deepEqual(fast, values);
  // The same body walked with the narrowest reach: the window holds a byte or two, so most varints straddle its end.
  const body = Msg.file(new Cursor(bufferSource("packed", file)), "T");
  assert.equal(body.next(), true);
  const slow: number[] = [];
  new Msg(new Cursor(bufferSource("packed", file)), body.start, body.end, "T", EXACT).varints(slow);
  assert.deepEqual(slow, values);
  // A varint cut by its message's end fails alike on both paths.
  const cut = Uint8Array.from([0x0a, 0x02, 0x01, 0x80, 0x01]); // field 1, 2 bytes: 1, then a varint continuing past the body
  const whole = new Cursor(bufferSource("cut", cut));
  const c1 = Msg.file(whole, "T");
  c1.next();
  assert.throws(() => c1.ints("xs", []), /byte 4: a number runs past the end of its message/);
  const c2 = new Msg(new Cursor(bufferSource("cut", cut)), 2, 4, "T", EXACT);
  assert.throws(() => c2.varints([]), /byte 4: a number runs past the end of its message/);
});
