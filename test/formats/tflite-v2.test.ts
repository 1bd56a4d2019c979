import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { bufferSource, readModel } from "../../src/formats/index.js";
import { nhwcToNchw } from "../../src/formats/layout.js";

/**
 * Real TFLite conversions of one Keras model (DilatedUpNet: a stride-2 stem, a dilation-2
 * conv, max pool, Dense(48) on the rank-3 token tensor, nearest UpSampling2D, 1×1 head),
 * written by TensorFlow 2.21's TFLiteConverter as float32, float16 weights (DEQUANTIZE),
 * dynamic-range int8 and full-integer int8 (fixtures/v2/tflite, reference.json from the
 * generator: Keras' layer arithmetic and the interpreter's runtime shapes). The converter's
 * lowerings are all here: the dilated conv as SPACE_TO_BATCH_ND → CONV_2D →
 * BATCH_TO_SPACE_ND, the rank-3 Dense as SHAPE / GATHER / REDUCE_PROD / PACK + RESHAPE,
 * UpSampling2D as EXPAND_DIMS / TILE + RESHAPE, and outputs whose `shape` is a placeholder
 * ([1, 1, 32, 4]) beside a `shape_signature` of [−1, −1, 32, 4].
 */

const dir = new URL("../fixtures/v2/tflite/", import.meta.url);
const reference = JSON.parse(readFileSync(new URL("reference.json", dir), "utf8"));

function analyse(file: string) {
  const g = readModel(bufferSource(file, new Uint8Array(readFileSync(new URL(file, dir)))));
  return analyze(g);
}

// Bytes each file stores its weights in, from reference.json's weight_dtypes (elements per dtype).
const BYTES: Record<string, number> = { float32: 4, float16: 2, int8: 1, int32: 4 };

describe("TFLite DilatedUpNet: four conversions, one model", () => {
  for (const file of ["DilatedUpNet.f32.tflite", "DilatedUpNet.f16.tflite", "DilatedUpNet.dr8.tflite", "DilatedUpNet.int8.tflite"]) {
    const ref = reference[file];
    it(`${file}: ${ref.expect_params} params, ${ref.macs} MACs, reference shapes, nothing unknown`, () => {
      const r = analyse(file);
      assert.equal(r.totals.unknown_layers, 0);
      assert.equal(r.totals.partial, undefined);
      // Parameters: every stored weight element once (the converter's extra zero conv bias
      // included, see expect_params_reason); scales and zero points are not parameters.
      assert.equal(r.totals.params, ref.expect_params);
      assert.equal(r.totals.params, 6900);
      // MACs equal the Keras model's whatever the storage type.
      assert.equal(r.totals.macs, ref.macs);
      assert.equal(r.totals.macs, 5_750_784);
      // Stored bytes by the real dtype: float16 2, int8 1, int32 (quantized biases) 4 bytes.
      const stored = Object.entries(ref.weight_dtypes as Record<string, number>).reduce(
        (a, [t, n]) => a + n * BYTES[t.replace("(quantized)", "")],
        0,
      );
      assert.equal(r.totals.stored_param_bytes, stored);
      // Shapes as the interpreter gives them at batch 1 (shown channels-first), not the
      // file's placeholder [1, 1, 32, 4].
      assert.deepEqual(r.inputs[0].shape, nhwcToNchw(ref.input.shape));
      assert.equal(r.inputs[0].dtype, ref.input.dtype);
      assert.deepEqual(
        r.outputs.map((o) => o.shape),
        ref.outputs.map((o: { shape: number[] }) => nhwcToNchw(o.shape)),
      );
      // Per Keras class: Conv2D 5,357,568 = stem 32·32·16·27 + dilated 32·32·32·144 + head 32·32·4·48;
      // Dense 393,216 = 256 tokens · 32 · 48.
      const convs = r.layers.filter((l) => l.op === "Conv");
      const gemm = r.layers.filter((l) => l.op === "Gemm" || l.op === "MatMul");
      assert.deepEqual(
        convs.map((l) => l.macs),
        [442_368, 4_718_592, 196_608],
      );
      assert.equal(
        convs.reduce((a, l) => a + (l.macs ?? 0), 0),
        ref.macs_by_class.Conv2D,
      );
      assert.equal(
        gemm.reduce((a, l) => a + (l.macs ?? 0), 0),
        ref.macs_by_class.Dense,
      );
      // SPACE_TO_BATCH_ND → CONV_2D → BATCH_TO_SPACE_ND is one dilated conv.
      assert.equal(
        r.layers.some((l) => /SPACE_TO_BATCH|BATCH_TO_SPACE/.test(l.source ?? "")),
        false,
      );
    });
  }

  it("the dilated conv's field: stem 3 (stride 2), 3×3 dilation 2 → 3 + 2·4 = 11, max pool 2 → 13", () => {
    // Padding: TF SAME on the stem pads 0 before (64 → 32 needs 1, put after); the dilated conv
    // pads 2 before at stride 2: 0 + 2·2 = 4.
    const r = analyse("DilatedUpNet.f32.tflite");
    const conv = r.layers.filter((l) => l.op === "Conv")[1];
    assert.deepEqual(r.tensors[conv.outputs[0]].shape, [1, 32, 32, 32]);
    assert.deepEqual(r.tensors[conv.outputs[0]].rf, { size: [11, 11], stride: [2, 2], padding: [4, 4], aligned: true });
    const pool = r.layers.find((l) => l.op === "MaxPool");
    assert.deepEqual((r.tensors[pool?.outputs[0] ?? ""].rf as { size: number[] }).size, [13, 13]);
  });

  it("the batch comes from the binding: at batch 2 the reshape targets follow and MACs double", () => {
    const g = readModel(bufferSource("f.tflite", new Uint8Array(readFileSync(new URL("DilatedUpNet.f32.tflite", dir)))));
    const r = analyze(g, { batch: 2 });
    assert.deepEqual(r.outputs[0].shape, [2, 4, 32, 32]);
    assert.equal(r.batch_totals.macs, 2 * 5_750_784);
  });
});

describe("--input in the file's own (channels-last) order or channels-first", () => {
  const read = (file: string) => readModel(bufferSource(file, new Uint8Array(readFileSync(new URL(file, dir)))));
  for (const file of ["DilatedUpNet.f32.tflite", "DilatedUpNet.keras.json"]) {
    it(`${file}: 2x64x64x3 (NHWC, as the file declares) and 2x3x64x64 (NCHW) bind the same input, each with a note`, () => {
      const g = read(file);
      const name = g.inputs[0];
      const nhwc = analyze(g, { inputs: { [name]: [2, 64, 64, 3] } });
      assert.deepEqual(nhwc.inputs[0].shape, [2, 3, 64, 64]);
      assert.ok(nhwc.notes.some((n) => n.includes("file's channels-last order")));
      assert.equal(nhwc.batch_totals.macs, 2 * 5_750_784);
      const nchw = analyze(read(file), { inputs: { [name]: [2, 3, 64, 64] } });
      assert.deepEqual(nchw.inputs[0].shape, [2, 3, 64, 64]);
      assert.ok(nchw.notes.some((n) => n.includes("read channels-first")));
      assert.equal(nchw.batch_totals.macs, 2 * 5_750_784);
    });
  }
});
