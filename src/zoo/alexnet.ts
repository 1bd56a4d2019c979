import type { Graph } from "../core/graph.js";
import { NetBuilder } from "./builder.js";

/**
 * BVLC AlexNet as its Caffe deploy.prototxt defines it (the seed article's network):
 * 227×227 input, groups 2 on conv2/4/5, LRN after conv1 and conv2, Caffe's ceil-mode pooling.
 */
export function alexnet(): Graph {
  const b = new NetBuilder("alexnet");
  let x = b.input("data", [1, 3, 227, 227]);
  x = b.conv(x, { name: "conv1", out: 96, kernel: 11, stride: 4 });
  x = b.relu(x, "relu1");
  x = b.lrn(x, "norm1", { size: 5, alpha: 1e-4, beta: 0.75 });
  x = b.maxPool(x, { name: "pool1", kernel: 3, stride: 2, ceil: true });
  x = b.conv(x, { name: "conv2", out: 256, kernel: 5, pad: 2, groups: 2 });
  x = b.relu(x, "relu2");
  x = b.lrn(x, "norm2", { size: 5, alpha: 1e-4, beta: 0.75 });
  x = b.maxPool(x, { name: "pool2", kernel: 3, stride: 2, ceil: true });
  x = b.conv(x, { name: "conv3", out: 384, kernel: 3, pad: 1 });
  x = b.relu(x, "relu3");
  x = b.conv(x, { name: "conv4", out: 384, kernel: 3, pad: 1, groups: 2 });
  x = b.relu(x, "relu4");
  x = b.conv(x, { name: "conv5", out: 256, kernel: 3, pad: 1, groups: 2 });
  x = b.relu(x, "relu5");
  x = b.maxPool(x, { name: "pool5", kernel: 3, stride: 2, ceil: true });
  x = b.fc(x, { name: "fc6", out: 4096 });
  x = b.relu(x, "relu6");
  x = b.dropout(x, "drop6");
  x = b.fc(x, { name: "fc7", out: 4096 });
  x = b.relu(x, "relu7");
  x = b.dropout(x, "drop7");
  x = b.fc(x, { name: "fc8", out: 1000 });
  const g = b.build(b.softmax(x, "prob"));
  g.notes.push(
    "the seed article quotes the real bvlc_alexnet.caffemodel as 238,147 KB; the fp32 weights alone are 243,860,896 bytes = 238,145.4 KiB (the rest is the file's protobuf framing)",
  );
  return g;
}

/** torchvision's AlexNet (one-tower variant: conv1 11/4 pad 2, no LRN, 224×224). */
export function alexnetTv(): Graph {
  const b = new NetBuilder("alexnet-tv");
  let x = b.input("input", [1, 3, 224, 224]);
  const convs: [number, number, number, number][] = [
    // out, kernel, stride, pad
    [64, 11, 4, 2],
    [192, 5, 1, 2],
    [384, 3, 1, 1],
    [256, 3, 1, 1],
    [256, 3, 1, 1],
  ];
  // torchvision's module indices inside `features`: conv, relu, (maxpool after 0, 1, 4).
  let idx = 0;
  convs.forEach(([out, kernel, stride, pad], i) => {
    x = b.conv(x, { name: `features.${idx++}`, out, kernel, stride, pad });
    x = b.relu(x, `features.${idx++}`);
    if (i === 0 || i === 1 || i === 4) x = b.maxPool(x, { name: `features.${idx++}`, kernel: 3, stride: 2 });
  });
  x = b.adaptiveAvgPool(x, "avgpool", [6, 6]);
  x = b.dropout(x, "classifier.0");
  x = b.fc(x, { name: "classifier.1", out: 4096 });
  x = b.relu(x, "classifier.2");
  x = b.dropout(x, "classifier.3");
  x = b.fc(x, { name: "classifier.4", out: 4096 });
  x = b.relu(x, "classifier.5");
  return b.build(b.fc(x, { name: "classifier.6", out: 1000 }));
}
