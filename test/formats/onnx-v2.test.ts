import assert from "node:assert/strict";
import { test } from "node:test";
import { analyzeFile, references } from "./v2-fixtures.js";

/**
 * The second-round ONNX fixtures (test/fixtures/v2/, copied from the shared set with their
 * reference.json): files written by the torch dynamo exporter and by onnxruntime's
 * quantizer, graph-only (weights left out). Nobody here wrote them.
 */
interface Reference {
  file: string;
  input: { name: string; shape: number[] };
  outputs: { name: string; shape: number[] }[];
  expect_params: number;
  macs: number | null;
  weight_elems_by_dtype?: Record<string, number>;
  quant_meta_elems_by_dtype?: Record<string, number>;
}

/** ONNX element-type names as reference.json spells them → convscope's. */
const DTYPE: Record<string, string> = { FLOAT: "float32", FLOAT16: "float16", INT8: "int8", UINT8: "uint8", INT32: "int32" };
const BYTES: Record<string, number> = { FLOAT: 4, FLOAT16: 2, INT8: 1, UINT8: 1, INT32: 4 };

for (const [name, ref] of Object.entries(references<Reference>("onnx-dynamo"))) {
  test(`onnx-dynamo ${name}: params ${ref.expect_params}, MACs ${ref.macs} and output shape as reference.json`, () => {
    const { r } = analyzeFile("onnx-dynamo", ref.file);
    assert.equal(r.totals.unknown_layers, 0);
    assert.equal(r.totals.params, ref.expect_params);
    assert.equal(r.totals.macs, ref.macs);
    assert.deepEqual(
      r.outputs.map((o) => o.shape),
      ref.outputs.map((o) => o.shape),
    );
  });
}

test("onnx-dynamo vit_tiny_patch16_384: the attention scale val_57 (one float, Mul operand) is a literal, not a parameter", () => {
  // reference.json: file_float_elems 5,790,377 = expect_params + the single-element val_57 = 0.3536.
  const { g, r } = analyzeFile("onnx-dynamo", "vit_tiny_patch16_384.onnx");
  assert.deepEqual(g.tensors.get("val_57")?.shape, [1]);
  assert.equal(r.totals.params, 5_790_376);
  const users = r.layers.filter((l) => l.inputs.includes("val_57"));
  assert.equal(users.length, 24);
  for (const l of users) assert.equal(l.params, 0, l.name);
});

for (const [name, ref] of Object.entries(references<Reference>("onnx-quant"))) {
  test(`onnx-quant ${name}: params ${ref.expect_params} counted once at their stored dtype, MACs of the float model, scales apart`, () => {
    const { r } = analyzeFile("onnx-quant", ref.file);
    assert.equal(r.totals.unknown_layers, 0, r.totals.partial);
    assert.equal(r.totals.params, ref.expect_params);
    assert.equal(r.totals.macs, ref.macs);
    assert.deepEqual(
      r.outputs.map((o) => o.shape),
      ref.outputs.map((o) => o.shape),
    );
    // Stored bytes by the real dtype: int8 weight = 1 byte.
    const weights = ref.weight_elems_by_dtype ?? {};
    const byDtype = Object.fromEntries(Object.entries(weights).map(([t, n]) => [DTYPE[t], n * BYTES[t]]));
    assert.deepEqual(r.totals.stored_param_bytes_by_dtype, byDtype);
    // Scales and zero points: not parameters, reported apart.
    const meta = Object.entries(ref.quant_meta_elems_by_dtype ?? {});
    const metaElems = meta.reduce((a, [, n]) => a + n, 0);
    const metaBytes = meta.reduce((a, [t, n]) => a + n * BYTES[t], 0);
    assert.equal(r.totals.quant_params ?? 0, metaElems);
    assert.equal(r.totals.quant_param_bytes ?? 0, metaBytes);
  });
}

test("onnx-quant squeezenet1_0_qop: QLinearConv layers carry the float conv's MACs and their int8 weights as parameters", () => {
  const { r: q } = analyzeFile("onnx-quant", "squeezenet1_0_qop.onnx");
  const { r: f } = analyzeFile("onnx-quant", "squeezenet1_0_fp16.onnx");
  const qconv = q.layers.filter((l) => l.op === "QLinearConv");
  const fconv = f.layers.filter((l) => l.op === "Conv");
  assert.equal(qconv.length, 26);
  assert.deepEqual(
    qconv.map((l) => [l.macs, l.params]),
    fconv.map((l) => [l.macs, l.params]),
  );
  // The first conv: 96·3·7·7 weights + 96 biases; 96·109·109 outputs · 147 MACs.
  assert.equal(qconv[0].params, 96 * 147 + 96);
  assert.equal(qconv[0].macs, 96 * 109 * 109 * 147);
});
