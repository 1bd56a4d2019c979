import type { Graph } from "../core/graph.js";
import { NetBuilder, type T } from "./builder.js";

/** torchvision MobileNetV2 (width 1.0, 224×224): inverted residuals with ReLU6. */
export function mobilenetV2(): Graph {
  const b = new NetBuilder("mobilenet_v2");
  let x = b.input("input", [1, 3, 224, 224]);
  let idx = 0;
  x = convBnRelu6(b, x, `features.${idx++}`, 32, 3, 2, 1);
  // expansion t, channels c, repeats n, first stride s
  const settings = [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
  ];
  for (const [t, c, n, s] of settings) {
    for (let i = 0; i < n; i++) x = invertedResidual(b, x, `features.${idx++}`, c, i === 0 ? s : 1, t);
  }
  x = convBnRelu6(b, x, `features.${idx++}`, 1280, 1, 1, 1);
  x = b.globalAvgPool(x, "avgpool");
  x = b.dropout(x, "classifier.0");
  return b.build(b.fc(x, { name: "classifier.1", out: 1000 }));
}

function convBnRelu6(b: NetBuilder, x: T, p: string, out: number, kernel: number, stride: number, groups: number): T {
  const pad = (kernel - 1) / 2;
  const y = b.conv(x, { name: `${p}.0`, out, kernel, stride, pad, groups, bias: false });
  return b.relu6(b.bn(y, `${p}.1`), `${p}.2`);
}

function invertedResidual(b: NetBuilder, x: T, p: string, out: number, stride: number, t: number): T {
  const cin = x.shape[1] as number;
  const hidden = cin * t;
  let y = x;
  let i = 0;
  if (t !== 1) y = convBnRelu6(b, y, `${p}.conv.${i++}`, hidden, 1, 1, 1);
  y = convBnRelu6(b, y, `${p}.conv.${i++}`, hidden, 3, stride, hidden);
  y = b.conv(y, { name: `${p}.conv.${i++}`, out, kernel: 1, bias: false });
  y = b.bn(y, `${p}.conv.${i++}`);
  return stride === 1 && cin === out ? b.addT(x, y, `${p}.add`) : y;
}
