import { add, mul } from "../core/shape.js";
import type { Cost } from "../ops/index.js";

/**
 * A counting convention turns a layer's arithmetic breakdown into the single number a
 * tool or paper publishes. Every convention is derived from the same `Cost`, so the
 * numbers differ only by what each one includes — which `includes` says.
 */
export interface Convention {
  name: string;
  /** Who counts this way. */
  used: string;
  /** One line on what is counted. */
  includes: string;
  count(c: Cost, family: string): number;
}

export const CONVENTIONS: readonly Convention[] = [
  {
    name: "macs",
    used: 'torchvision, fvcore, mmengine, most papers\' "FLOPs"',
    includes: "multiply–accumulates of conv, transposed conv, fully-connected and matmul; no bias, norm, activation or pooling",
    count: (c) => c.macs,
  },
  {
    name: "flops",
    used: "torch.utils.flop_counter, DeepSpeed, calflops (2·MAC), plus every other op",
    includes: "2 per MAC, plus each bias add, norm, activation, pooling and element-wise operation",
    count: (c) => add(mul(2, c.macs), c.bias, c.add, c.mul, c.div, c.exp, c.cmp),
  },
  {
    name: "seed",
    used: "the seed article (AlexNet by hand)",
    includes: "conv (k·k·c_in/groups + 1)·H·W·c_out and fully-connected (o1 + 1)·o2; nothing else",
    count: (c) => c.seed,
  },
];

export function convention(name: string): Convention | undefined {
  return CONVENTIONS.find((c) => c.name === name);
}
