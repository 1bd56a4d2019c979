import { attr, graph, model, node, type Pb, tensor, valueInfo } from "./onnx-writer.js";

/**
 * A model whose weights are inside the file and as large as asked: Conv 3×3 (8→8 channels)
 * → Relu → Flatten → Gemm onto `outputs` units, where `outputs` is chosen so the Gemm's
 * weight alone holds at least `weightBytes` bytes. The big weight sits between small
 * tensors, and the graph's inputs and outputs come after it, so a reader must skip it and
 * read on. Written with `writeFile(path, { sparse: true })`, a file past 2 GB costs nothing.
 */
export function bigWeightsOnnx(weightBytes: number): { pb: Pb; params: number; macs: number } {
  const features = 8 * 64 * 64;
  const outputs = Math.max(1, Math.ceil(weightBytes / (features * 4)));
  const pb = model(
    graph({
      name: "big-weights",
      nodes: [
        node({
          op: "Conv",
          name: "conv",
          inputs: ["x", "conv.w", "conv.b"],
          outputs: ["c"],
          attrs: [attr.ints("kernel_shape", [3, 3]), attr.ints("pads", [1, 1, 1, 1])],
        }),
        node({ op: "Relu", name: "relu", inputs: ["c"], outputs: ["r"] }),
        node({ op: "Flatten", name: "flatten", inputs: ["r"], outputs: ["f"] }),
        node({ op: "Gemm", name: "fc", inputs: ["f", "fc.w", "fc.b"], outputs: ["y"] }),
      ],
      initializers: [
        tensor({ name: "conv.w", dims: [8, 8, 3, 3], fill: 8 * 8 * 9 * 4 }),
        tensor({ name: "conv.b", dims: [8], fill: 8 * 4 }),
        tensor({ name: "fc.w", dims: [features, outputs], fill: features * outputs * 4 }),
        tensor({ name: "fc.b", dims: [outputs], fill: outputs * 4 }),
      ],
      inputs: [valueInfo("x", [1, 8, 64, 64])],
      outputs: [valueInfo("y", [1, outputs])],
    }),
  );
  // Hand-computed: conv 8·8·9 + 8 params, 8·8·9 MACs per output pixel (64·64·8 of them);
  // Gemm features·outputs + outputs params, features·outputs MACs.
  const params = 8 * 8 * 9 + 8 + features * outputs + outputs;
  const macs = 8 * 9 * features + features * outputs;
  return { pb, params, macs };
}
