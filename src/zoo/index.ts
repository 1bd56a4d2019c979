import type { Graph } from "../core/graph.js";
import { alexnet, alexnetTv } from "./alexnet.js";
import { mobilenetV2 } from "./mobilenet.js";
import { resnet18, resnet34, resnet50, resnet101 } from "./resnet.js";
import { vgg16 } from "./vgg.js";

export { NetBuilder, type T } from "./builder.js";

export interface ZooEntry {
  build: () => Graph;
  description: string;
}

/** Built-in models, by the name used as `zoo:NAME`. */
export const ZOO: Record<string, ZooEntry> = {
  alexnet: { build: alexnet, description: "BVLC AlexNet (Caffe deploy, 227×227, groups 2) — the seed article's network" },
  "alexnet-tv": { build: alexnetTv, description: "torchvision AlexNet (224×224)" },
  vgg16: { build: vgg16, description: "torchvision VGG-16 (224×224)" },
  resnet18: { build: resnet18, description: "torchvision ResNet-18 (224×224)" },
  resnet34: { build: resnet34, description: "torchvision ResNet-34 (224×224)" },
  resnet50: { build: resnet50, description: "torchvision ResNet-50 (224×224)" },
  resnet101: { build: resnet101, description: "torchvision ResNet-101 (224×224)" },
  mobilenet_v2: { build: mobilenetV2, description: "torchvision MobileNetV2 (224×224)" },
};

export function zooModel(name: string): Graph | undefined {
  return ZOO[name]?.build();
}
