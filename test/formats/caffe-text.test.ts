import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConvscopeError } from "../../src/core/errors.js";
import { sniffCaffe } from "../../src/formats/caffe/index.js";
import { parseTextFormat, positionOf } from "../../src/formats/caffe/text-format.js";

const plain = (v: unknown) => JSON.parse(JSON.stringify(v));

describe("protobuf text format", () => {
  it("parses messages with and without ':', repeated fields as arrays, comments, separators", () => {
    const m = parseTextFormat(`# a comment
name: "net"  # trailing comment
layer { name: 'a'; top: "x", top: "y" }
layer: < name: "b" >
input_dim: 1 input_dim: 0x10
shape { dim: [1, 2, 3] }
`);
    assert.deepEqual(plain(m), {
      name: ["net"],
      layer: [{ name: ["a"], top: ["x", "y"] }, { name: ["b"] }],
      input_dim: [1, 16],
      shape: [{ dim: [1, 2, 3] }],
    });
    assert.deepEqual(positionOf(m.layer[1] as never), { line: 4, column: 8 });
  });

  it("reads numbers, enums, booleans and special floats", () => {
    const m = parseTextFormat("a: -1.5e-3 b: 2.0f c: .5 d: MAX e: true f: -inf g: nan h: -7");
    assert.deepEqual(
      [m.a[0], m.b[0], m.c[0], m.d[0], m.e[0], m.f[0], m.h[0]],
      [-0.0015, 2, 0.5, "MAX", "true", Number.NEGATIVE_INFINITY, -7],
    );
    assert.ok(Number.isNaN(m.g[0]));
  });

  it("decodes string escapes and joins adjacent strings", () => {
    const m = parseTextFormat(String.raw`s: "a\"b\\c\n\t\x41\101\'" t: 'x' "y"`);
    assert.equal(m.s[0], "a\"b\\c\n\tAA'");
    assert.equal(m.t[0], "xy");
  });

  it("names extension fields in brackets", () => {
    assert.deepEqual(plain(parseTextFormat("[my.ext] { v: 1 }")), { "[my.ext]": [{ v: [1] }] });
  });

  it("fails with file, line and column", () => {
    const cases: [string, string][] = [
      ['a: "open\nb: 1', "f.prototxt: line 1, column 4: unterminated string"],
      ["a { b: 1", "f.prototxt: line 1, column 9: '{' opened at line 1, column 3 is never closed"],
      ["a { b: 1 }}", "f.prototxt: line 1, column 11: expected a field name, found '}'"],
      ["a 1", "f.prototxt: line 1, column 3: expected ':' or '{' after field 'a', found '1'"],
      ["a: 12abc", "f.prototxt: line 1, column 4: malformed number '12a'"],
      ['a: "\\q"', "f.prototxt: line 1, column 5: unknown escape '\\q' in string"],
      ["a: [1, 2", "f.prototxt: line 1, column 9: expected ',' or ']' in a list, found the end of the file"],
    ];
    for (const [text, message] of cases) {
      assert.throws(
        () => parseTextFormat(text, "f.prototxt"),
        (e: unknown) => e instanceof ConvscopeError && e.oneLine() === message,
        text,
      );
    }
  });

  it("stops runaway nesting instead of overflowing the stack", () => {
    assert.throws(() => parseTextFormat("a {".repeat(10_000)), /nested more than 64 deep/);
  });
});

describe("Caffe detection", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  it("recognises a prototxt by content, whatever its name", () => {
    assert.ok(sniffCaffe(enc('name: "x"\nlayer {\n name: "a"\n}'), "model.txt"));
    assert.ok(sniffCaffe(enc('# header\nname: "x"\nlayers {\n name: "a"\n}'), "noext"));
    assert.ok(sniffCaffe(enc('input: "data"\ninput_dim: 1'), "deploy"));
    // With the extension, any top-level net field (the layers may be past the first 4 KiB).
    assert.ok(sniffCaffe(enc('name: "VGG"\n'), "deploy.prototxt"));
  });

  it("does not claim JSON, binary data or a TensorFlow GraphDef text", () => {
    assert.ok(!sniffCaffe(enc('{"layers": [{"name": "a"}]}'), "a.json"));
    assert.ok(!sniffCaffe(new Uint8Array([8, 7, 0, 18, 4]), "model.onnx"));
    assert.ok(!sniffCaffe(enc('node {\n  name: "a"\n  op: "Conv2D"\n  input: "x"\n}'), "graph.pbtxt"));
  });
});
