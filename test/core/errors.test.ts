import assert from "node:assert/strict";
import { test } from "node:test";
import { ConvscopeError } from "../../src/core/errors.js";

test("an error is one printable line even when a damaged file's names hold control characters", () => {
  const e = new ConvscopeError("auto_pad 'SAME\nUPPER' is unknown\x01", { file: "m.onnx", layer: "conv\t1" });
  assert.equal(e.oneLine(), "m.onnx: layer 'conv\\x091': auto_pad 'SAME\\nUPPER' is unknown\\x01");
  assert.equal(new ConvscopeError("the file is empty", { file: "x.onnx" }).oneLine(), "x.onnx: the file is empty");
});
