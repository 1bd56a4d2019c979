import type { Graph } from "../core/graph.js";
import { NetBuilder } from "./builder.js";

/** torchvision VGG-16 (configuration D, no batch norm), 224×224. */
export function vgg16(): Graph {
  const b = new NetBuilder("vgg16");
  let x = b.input("input", [1, 3, 224, 224]);
  const cfg: (number | "M")[] = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"];
  let idx = 0;
  for (const v of cfg) {
    if (v === "M") {
      x = b.maxPool(x, { name: `features.${idx++}`, kernel: 2, stride: 2 });
    } else {
      x = b.conv(x, { name: `features.${idx++}`, out: v, kernel: 3, pad: 1 });
      x = b.relu(x, `features.${idx++}`);
    }
  }
  x = b.adaptiveAvgPool(x, "avgpool", [7, 7]);
  x = b.fc(x, { name: "classifier.0", out: 4096 });
  x = b.relu(x, "classifier.1");
  x = b.dropout(x, "classifier.2");
  x = b.fc(x, { name: "classifier.3", out: 4096 });
  x = b.relu(x, "classifier.4");
  x = b.dropout(x, "classifier.5");
  return b.build(b.fc(x, { name: "classifier.6", out: 1000 }));
}
