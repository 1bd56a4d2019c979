import type { Device } from "../analysis/roofline.js";
import { tinyModel } from "./onnx-edit.js";
import { createSession, loadOrt, runSession } from "./ort.js";

/**
 * "This machine" for the roofline, measured rather than looked up: peak fp32 FLOP/s as the
 * best of a few 1024³ MatMuls in onnxruntime (MLAS, the kernels convolutions run on here),
 * and memory bandwidth as the best of a few ReduceSums over 16 Mi floats (64 MiB, far past
 * any cache, read once; the output is one float, so no result is copied back). A second or two in all.
 */
export async function measureThisMachine(threads?: number): Promise<Device> {
  const ort = await loadOrt();
  const n = 1024;
  const opts = { ...(threads ? { intraOpNumThreads: threads } : {}), graphOptimizationLevel: "all" as const };
  const mm = await createSession(
    ort,
    tinyModel(
      [{ op: "MatMul", inputs: ["a", "b"], outputs: ["c"] }],
      [
        { name: "a", dims: [n, n] },
        { name: "b", dims: [n, n] },
      ],
      ["c"],
    ),
    opts,
  );
  const a = new ort.Tensor("float32", new Float32Array(n * n).fill(0.5), [n, n]);
  const b = new ort.Tensor("float32", new Float32Array(n * n).fill(0.25), [n, n]);
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 6; i++) {
    const t = performance.now();
    await runSession(mm, { a, b });
    const dt = (performance.now() - t) / 1e3;
    if (i > 0) best = Math.min(best, dt);
  }
  await mm.release();
  const peak = (2 * n * n * n) / best;

  const len = 16 * 1024 * 1024;
  const add = await createSession(
    ort,
    tinyModel([{ op: "ReduceSum", inputs: ["x"], outputs: ["z"] }], [{ name: "x", dims: [len] }], ["z"]),
    opts,
  );
  const x = new ort.Tensor("float32", new Float32Array(len).fill(1), [len]);
  let bestAdd = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await runSession(add, { x });
    const dt = (performance.now() - t) / 1e3;
    if (i > 0) bestAdd = Math.min(bestAdd, dt);
  }
  await add.release();
  const bandwidth = (4 * len) / bestAdd;
  return {
    name: "this",
    label: `this machine (measured: ${(peak / 1e9).toFixed(1)} GFLOP/s fp32, ${(bandwidth / 1e9).toFixed(1)} GB/s)`,
    peak: { fp32: peak, fp16: null, bf16: null, int8: null },
    bandwidth,
    source: "micro-benchmark in onnxruntime: best of 5 MatMul 1024³ and of 4 ReduceSum over 16 Mi floats (src/runtime/microbench.ts)",
  };
}
