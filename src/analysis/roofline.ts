import { ConvscopeError } from "../core/errors.js";
import type { LayerReport, Report } from "../core/report.js";
import { numel } from "../core/shape.js";

/**
 * A roofline estimate (Williams, Waterman & Patterson, "Roofline", CACM 2009): a layer
 * takes at least max(FLOPs / peak, bytes / bandwidth). Bytes moved are the layer's
 * activation inputs, its weights and its outputs, each read or written once at the dtype —
 * no cache reuse across layers, no extra traffic for im2col or tiling — so the total is a
 * lower bound on any real run: a device cannot beat both of its roofs. Plain data in, plain
 * data out: the CLI and the page share it.
 */

export type RoofDType = "fp32" | "fp16" | "bf16" | "int8";
export const ROOF_DTYPES: readonly RoofDType[] = ["fp32", "fp16", "bf16", "int8"];
const ELEM_BYTES: Record<RoofDType, number> = { fp32: 4, fp16: 2, bf16: 2, int8: 1 };

export interface Device {
  name: string;
  label: string;
  /** Peak arithmetic per second by dtype (FLOP/s; int8: operations/s), null where the device has no such path. */
  peak: Record<RoofDType, number | null>;
  /** Memory bandwidth, bytes/s. */
  bandwidth: number;
  /** Where the figures come from. */
  source: string;
}

const T = 1e12;
const G = 1e9;

/**
 * Device presets. Dense (no structured-sparsity) peaks throughout: convscope's counts are
 * dense. "this" (this machine) is not here: it is measured (src/runtime/microbench.ts).
 */
export const DEVICES: readonly Device[] = [
  {
    name: "desktop-cpu",
    label: "desktop CPU (AMD Ryzen 9 7950X, 16 cores, DDR5-5200 ×2)",
    // AMD product page for the 7950X: 16 cores, boost 5.7 GHz, base 4.5 GHz, DDR5-5200, 2
    // channels. Zen 4 runs AVX-512 as two 256-bit FMA pipes: 2 × 8 fp32 FMAs = 32 FLOP per
    // cycle per core → 16 × 32 × 4.5 GHz = 2.30 TFLOP/s fp32; AVX-512 BF16 (VDPBF16PS)
    // doubles that; VNNI int8 (VPDPBUSD) 4 × fp32. Bandwidth: 2 channels × 64 bit × 5200 MT/s = 83.2 GB/s.
    peak: { fp32: 2.304 * T, fp16: null, bf16: 4.608 * T, int8: 9.216 * T },
    bandwidth: 83.2 * G,
    source: "AMD Ryzen 9 7950X spec page; Zen 4: 2×256-bit FMA pipes per core at 4.5 GHz base; DDR5-5200 dual channel",
  },
  {
    name: "a100",
    label: "NVIDIA A100 SXM4 80GB",
    // NVIDIA A100 Tensor Core GPU datasheet (2021): FP32 19.5 TFLOPS, FP16/BF16 Tensor Core
    // 312 TFLOPS, INT8 Tensor Core 624 TOPS (dense; doubled with sparsity), HBM2e 2,039 GB/s.
    peak: { fp32: 19.5 * T, fp16: 312 * T, bf16: 312 * T, int8: 624 * T },
    bandwidth: 2039 * G,
    source: "NVIDIA A100 datasheet: FP32 19.5 TFLOPS, FP16/BF16 312, INT8 624 TOPS dense, 2,039 GB/s",
  },
  {
    name: "h100",
    label: "NVIDIA H100 SXM5 80GB",
    // NVIDIA H100 Tensor Core GPU datasheet: FP32 67 TFLOPS; BF16/FP16 Tensor Core 1,979
    // TFLOPS and INT8 3,958 TOPS are with sparsity, so dense is half: 989.5 and 1,979;
    // HBM3 3.35 TB/s.
    peak: { fp32: 67 * T, fp16: 989.5 * T, bf16: 989.5 * T, int8: 1979 * T },
    bandwidth: 3350 * G,
    source: "NVIDIA H100 SXM datasheet: FP32 67 TFLOPS, FP16/BF16 989.5 dense, INT8 1,979 TOPS dense, 3.35 TB/s",
  },
  {
    name: "rtx4090",
    label: "NVIDIA GeForce RTX 4090",
    // NVIDIA Ada Lovelace GPU architecture whitepaper, appendix A, RTX 4090: peak FP32 82.6
    // TFLOPS; FP16 Tensor with FP32 accumulate 165.2 TFLOPS (dense); BF16 165.2; INT8 Tensor
    // 660.6 TOPS (dense); GDDR6X 1,008 GB/s.
    peak: { fp32: 82.6 * T, fp16: 165.2 * T, bf16: 165.2 * T, int8: 660.6 * T },
    bandwidth: 1008 * G,
    source: "NVIDIA Ada whitepaper appendix: FP32 82.6 TFLOPS, FP16/BF16 (FP32 acc.) 165.2, INT8 660.6 TOPS dense, 1,008 GB/s",
  },
  {
    name: "jetson-orin",
    label: "NVIDIA Jetson AGX Orin 64GB (GPU)",
    // NVIDIA Jetson AGX Orin series datasheet / technical brief: 2048-core Ampere GPU with 64
    // Tensor Cores at up to 1.3 GHz → 2048 × 2 × 1.3 GHz = 5.3 TFLOPS fp32; the GPU's 170
    // sparse INT8 TOPS are 85 dense, and FP16 Tensor is half the INT8 rate (42.5); LPDDR5
    // 256-bit, 204.8 GB/s. (The 275 TOPS headline adds the DLAs and sparsity.)
    peak: { fp32: 5.3 * T, fp16: 42.5 * T, bf16: 42.5 * T, int8: 85 * T },
    bandwidth: 204.8 * G,
    source: "NVIDIA Jetson AGX Orin technical brief: GPU 5.3 FP32 TFLOPS, 170 sparse INT8 TOPS (85 dense), 204.8 GB/s",
  },
  {
    name: "rpi5",
    label: "Raspberry Pi 5 (4 × Cortex-A76 at 2.4 GHz)",
    // Raspberry Pi 5 product brief: quad Cortex-A76 at 2.4 GHz, LPDDR4X-4267 (32-bit bus →
    // 4267 MT/s × 4 bytes = 17.1 GB/s). Arm Cortex-A76 software optimization guide: two
    // 128-bit ASIMD pipes, each an FMA per cycle: 2 × 4 fp32 FMAs = 16 FLOP/cycle per core →
    // 4 × 16 × 2.4 GHz = 153.6 GFLOP/s fp32; fp16 (Armv8.2 FP16) 2× that; SDOT int8 2 × 16
    // MACs = 64 ops/cycle → 614.4 GOPS; no bf16 path on A76.
    peak: { fp32: 153.6 * G, fp16: 307.2 * G, bf16: null, int8: 614.4 * G },
    bandwidth: 17.07 * G,
    source: "Raspberry Pi 5 product brief (4× A76 2.4 GHz, LPDDR4X-4267 32-bit); Cortex-A76 optimization guide (2× 128-bit FMA pipes)",
  },
];

/** `NAME` (a preset) or `peak=…,bw=…` (FLOP/s and bytes/s, SI suffixes k M G T, e.g. peak=2T,bw=50G). */
export function parseDevice(spec: string, extra: readonly Device[] = []): Device {
  const known = [...extra, ...DEVICES];
  if (!spec.includes("=")) {
    const d = known.find((x) => x.name === spec);
    if (!d) throw new ConvscopeError(`unknown device '${spec}' (known: this, ${DEVICES.map((x) => x.name).join(", ")}, or peak=…,bw=…)`);
    return d;
  }
  const kv: Record<string, number> = {};
  for (const part of spec.split(",")) {
    const m = /^(peak|bw|fp32|fp16|bf16|int8)=([0-9.]+(?:e[0-9]+)?)([kMGT]?)$/.exec(part.trim());
    if (!m) throw new ConvscopeError(`--device takes NAME or peak=2T,bw=50G (FLOP/s, bytes/s), got '${part}'`);
    const mult = { "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[3]] as number;
    kv[m[1]] = Number(m[2]) * mult;
  }
  const peak = kv.peak ?? kv.fp32;
  if (!(peak > 0) || !(kv.bw > 0)) throw new ConvscopeError(`--device ${spec}: needs peak=… (or fp32=…) and bw=…, both positive`);
  return {
    name: "custom",
    label: `custom (${spec})`,
    peak: { fp32: peak, fp16: kv.fp16 ?? null, bf16: kv.bf16 ?? null, int8: kv.int8 ?? null },
    bandwidth: kv.bw,
    source: "given on the command line",
  };
}

export interface RoofLayer {
  name: string;
  op: string;
  flops: number | null;
  bytes: number | null;
  /** FLOPs per byte moved. */
  intensity: number | null;
  bound: "compute" | "memory" | null;
  /** Seconds. */
  time: number | null;
}

export interface Roofline {
  device: Device;
  dtype: RoofDType;
  peak: number;
  bandwidth: number;
  /** FLOPs per byte where the roofs meet. */
  ridge: number;
  layers: RoofLayer[];
  /** Sum of the layer times: a lower bound on the run (null when a layer's is unknown). */
  total_time: number | null;
  total_flops: number | null;
  total_bytes: number | null;
  /** Layers that count nothing (unknown op, unbound dims), named when any. */
  unknown: string[];
}

/** Ops a runtime does as a view of the same buffer: they move nothing. */
const VIEWS = new Set(["Reshape", "Flatten", "Identity", "Dropout", "Squeeze", "Unsqueeze"]);

/** Bytes a layer moves at `dtype`: activation inputs + weights + outputs (null when a shape is unknown). */
export function layerBytes(r: Report, l: LayerReport, dtype: RoofDType): number | null {
  if (VIEWS.has(l.op)) return 0;
  const e = ELEM_BYTES[dtype];
  let elems = l.params;
  if (elems === null) return null;
  for (const t of [...l.inputs, ...l.outputs]) {
    if (!t) continue;
    const tr = r.tensors[t];
    if (!tr) continue; // a weight or constant: counted in params
    if (!tr.shape) return null;
    const n = numel(tr.shape);
    if (n === null) return null;
    elems += n;
  }
  return elems * e;
}

export function roofline(r: Report, device: Device, dtype: RoofDType = "fp32"): Roofline {
  const peak = device.peak[dtype];
  if (!peak)
    throw new ConvscopeError(
      `device '${device.name}' has no ${dtype} figure (it has: ${ROOF_DTYPES.filter((d) => device.peak[d]).join(", ")})`,
    );
  const bw = device.bandwidth;
  const layers: RoofLayer[] = [];
  const unknown: string[] = [];
  let total: number | null = 0;
  let flopsSum: number | null = 0;
  let bytesSum: number | null = 0;
  for (const l of r.layers) {
    const flops = l.status === "ok" ? l.flops : null;
    const bytes = layerBytes(r, l, dtype);
    if (flops === null || bytes === null) {
      unknown.push(l.name);
      layers.push({ name: l.name, op: l.op, flops, bytes, intensity: null, bound: null, time: null });
      total = null;
      if (flops === null) flopsSum = null;
      else if (flopsSum !== null) flopsSum += flops;
      if (bytes === null) bytesSum = null;
      else if (bytesSum !== null) bytesSum += bytes;
      continue;
    }
    const tc = flops / peak;
    const tm = bytes / bw;
    layers.push({
      name: l.name,
      op: l.op,
      flops,
      bytes,
      intensity: bytes > 0 ? flops / bytes : null,
      bound: tc === 0 && tm === 0 ? null : tc >= tm ? "compute" : "memory",
      time: Math.max(tc, tm),
    });
    if (total !== null) total += Math.max(tc, tm);
    if (flopsSum !== null) flopsSum += flops;
    if (bytesSum !== null) bytesSum += bytes;
  }
  return {
    device,
    dtype,
    peak,
    bandwidth: bw,
    ridge: peak / bw,
    layers,
    total_time: total,
    total_flops: flopsSum,
    total_bytes: bytesSum,
    unknown,
  };
}

/** Spearman's rank correlation of two equally long series (ties get their mean rank). */
export function spearman(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length || a.length < 2) return Number.NaN;
  const rank = (xs: readonly number[]): number[] => {
    const idx = xs.map((x, i) => [x, i] as const).sort((p, q) => p[0] - q[0]);
    const out = new Array<number>(xs.length);
    for (let i = 0; i < idx.length; ) {
      let j = i;
      while (j + 1 < idx.length && idx[j + 1][0] === idx[i][0]) j++;
      for (let k = i; k <= j; k++) out[idx[k][1]] = (i + j) / 2 + 1;
      i = j + 1;
    }
    return out;
  };
  const ra = rank(a);
  const rb = rank(b);
  const n = a.length;
  const mean = (n + 1) / 2;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < n; i++) {
    num += (ra[i] - mean) * (rb[i] - mean);
    da += (ra[i] - mean) ** 2;
    db += (rb[i] - mean) ** 2;
  }
  return num / Math.sqrt(da * db);
}

/** A plain-text table of the estimate. */
export function renderRoofline(rf: Roofline): string {
  const si = (x: number, unit: string) => {
    const p = [
      [1e12, "T"],
      [1e9, "G"],
      [1e6, "M"],
      [1e3, "k"],
    ] as const;
    for (const [m, s] of p) if (Math.abs(x) >= m) return `${(x / m).toFixed(2)} ${s}${unit}`;
    return `${x.toFixed(0)} ${unit}`;
  };
  const ms = (t: number | null) => (t === null ? "?" : (t * 1e3).toFixed(4));
  const lines = [
    `roofline on ${rf.device.label}, ${rf.dtype}: peak ${si(rf.peak, "FLOP/s")}, bandwidth ${si(rf.bandwidth, "B/s")}, ridge ${rf.ridge.toFixed(1)} FLOP/B`,
    `  source: ${rf.device.source}`,
  ];
  const w = Math.min(60, Math.max(5, ...rf.layers.map((l) => l.name.length)));
  lines.push(
    `${"layer".padEnd(w)}  ${"op".padEnd(18)} ${"FLOPs".padStart(12)} ${"bytes".padStart(12)} ${"FLOP/B".padStart(8)} bound    ${"est. ms".padStart(10)}`,
  );
  for (const l of rf.layers) {
    lines.push(
      `${l.name.slice(0, w).padEnd(w)}  ${l.op.slice(0, 18).padEnd(18)} ${String(l.flops ?? "?").padStart(12)} ${String(l.bytes ?? "?").padStart(12)} ${(l.intensity === null ? "-" : l.intensity.toFixed(1)).padStart(8)} ${(l.bound ?? "?").padEnd(8)} ${ms(l.time).padStart(10)}`,
    );
  }
  lines.push(
    `total (a lower bound): ${ms(rf.total_time)} ms` +
      (rf.unknown.length > 0 ? ` — unknown for ${rf.unknown.length} layers (${rf.unknown.slice(0, 3).join(", ")}…)` : ""),
  );
  return `${lines.join("\n")}\n`;
}
