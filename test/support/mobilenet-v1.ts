/**
 * MobileNet v1 (1.0, 224): after the stride-2 3×3 stem of 32 filters, 13 blocks of a 3×3
 * depthwise conv (with the stride) and a 1×1 pointwise conv to `filters` channels.
 */
export const MOBILENET_V1_BLOCKS: readonly (readonly [filters: number, stride: number])[] = [
  [64, 1],
  [128, 2],
  [128, 1],
  [256, 2],
  [256, 1],
  [512, 2],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [1024, 2],
  [1024, 1],
];
