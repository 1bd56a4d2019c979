import type { Graph } from "../core/graph.js";
import { NetBuilder, type T } from "./builder.js";

type Block = "basic" | "bottleneck";

/** torchvision ResNet (v1.5: the stride sits on the 3×3 conv of a bottleneck), 224×224. */
function resnet(name: string, block: Block, layers: number[]): Graph {
  const b = new NetBuilder(name);
  let x = b.input("input", [1, 3, 224, 224]);
  x = b.conv(x, { name: "conv1", out: 64, kernel: 7, stride: 2, pad: 3, bias: false });
  x = b.bn(x, "bn1");
  x = b.relu(x, "relu");
  x = b.maxPool(x, { name: "maxpool", kernel: 3, stride: 2, pad: 1 });
  const expansion = block === "basic" ? 1 : 4;
  layers.forEach((count, stage) => {
    const width = 64 * 2 ** stage;
    for (let i = 0; i < count; i++) {
      const stride = stage > 0 && i === 0 ? 2 : 1;
      x = (block === "basic" ? basic : bottleneck)(b, x, `layer${stage + 1}.${i}`, width, stride, expansion);
    }
  });
  x = b.globalAvgPool(x, "avgpool");
  return b.build(b.fc(x, { name: "fc", out: 1000 }));
}

function shortcut(b: NetBuilder, x: T, p: string, out: number, stride: number): T {
  if (stride === 1 && x.shape[1] === out) return x;
  const d = b.conv(x, { name: `${p}.downsample.0`, out, kernel: 1, stride, bias: false });
  return b.bn(d, `${p}.downsample.1`);
}

function basic(b: NetBuilder, x: T, p: string, width: number, stride: number): T {
  let y = b.conv(x, { name: `${p}.conv1`, out: width, kernel: 3, stride, pad: 1, bias: false });
  y = b.relu(b.bn(y, `${p}.bn1`), `${p}.relu`);
  y = b.bn(b.conv(y, { name: `${p}.conv2`, out: width, kernel: 3, pad: 1, bias: false }), `${p}.bn2`);
  return b.relu(b.addT(y, shortcut(b, x, p, width, stride), `${p}.add`), `${p}.relu_1`);
}

function bottleneck(b: NetBuilder, x: T, p: string, width: number, stride: number, expansion: number): T {
  let y = b.relu(b.bn(b.conv(x, { name: `${p}.conv1`, out: width, kernel: 1, bias: false }), `${p}.bn1`), `${p}.relu`);
  y = b.conv(y, { name: `${p}.conv2`, out: width, kernel: 3, stride, pad: 1, bias: false });
  y = b.relu(b.bn(y, `${p}.bn2`), `${p}.relu_1`);
  y = b.bn(b.conv(y, { name: `${p}.conv3`, out: width * expansion, kernel: 1, bias: false }), `${p}.bn3`);
  return b.relu(b.addT(y, shortcut(b, x, p, width * expansion, stride), `${p}.add`), `${p}.relu_2`);
}

export const resnet18 = (): Graph => resnet("resnet18", "basic", [2, 2, 2, 2]);
export const resnet34 = (): Graph => resnet("resnet34", "basic", [3, 4, 6, 3]);
export const resnet50 = (): Graph => resnet("resnet50", "bottleneck", [3, 4, 6, 3]);
export const resnet101 = (): Graph => resnet("resnet101", "bottleneck", [3, 4, 23, 3]);
