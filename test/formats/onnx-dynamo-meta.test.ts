import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { bufferSource, readModel } from "../../src/formats/index.js";

// torch.onnx.export(..., dynamo=True) files (torch 2.13, onnxscript 0.7.2): each node's
// metadata_props name the module path and class it came from and the rewrites applied.
const dir = new URL("../fixtures/v2/onnx-dynamo/", import.meta.url);
const read = (file: string) => readModel(bufferSource(file, new Uint8Array(readFileSync(new URL(file, dir)))));

test("dynamo ONNX: metadata_props land in Node.meta, the module hierarchy in Node.module", () => {
  const g = read("resnet34.onnx");
  const relu = g.nodes.find((n) => n.op === "Relu" && n.meta?.["pkg.torch.onnx.name_scopes"]?.includes("layer1.0.relu"));
  assert.ok(relu);
  assert.deepEqual(relu.module, [
    { path: "", type: "torchvision.models.resnet.ResNet" },
    { path: "layer1", type: "torch.nn.modules.container.Sequential" },
    { path: "layer1.0", type: "torchvision.models.resnet.BasicBlock" },
    { path: "layer1.0.relu", type: "torch.nn.modules.activation.ReLU" },
  ]);
  // A conv that absorbed its batch norm carries the batch norm's scope and the rewrite's name.
  const fused = g.nodes.filter((n) => n.op === "Conv" && n.meta?.["pkg.onnxscript.rewriter.rule_name"]?.includes("FuseBatchNormIntoConv"));
  assert.equal(fused.length, 36); // every conv of resnet34 is followed by a BN
  assert.equal(fused[0].module?.at(-1)?.type, "torch.nn.modules.batchnorm.BatchNorm2d");
  // Every node of the file has its hierarchy.
  assert.equal(g.nodes.filter((n) => !n.module).length, 0);
});
