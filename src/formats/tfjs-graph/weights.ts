import { byteSize, type DType } from "../../core/dtype.js";
import { ConvscopeError } from "../../core/errors.js";
import type { ByteSource } from "../source.js";
import { tfDType } from "./attrs.js";

/**
 * The weightsManifest of a TF.js model.json: each weight's shape, stored dtype and place
 * in the group's .bin shards. Shapes come from here; the .bin is opened only to decode
 * small integer constants (shape targets, axes, pads) and never for weights.
 */
export interface ManifestEntry {
  name: string;
  shape: number[];
  /** The dtype the weight stands for (float32 for a float16- or uint8-quantized float). */
  dtype: DType;
  /** The dtype of its bytes in the .bin. */
  stored: DType;
  byteLength: number;
  group: number;
  /** Offset in the group's shards taken as one stream; undefined after a string weight (sizes unknown). */
  offset?: number;
  paths: string[];
}

interface RawGroup {
  paths?: string[];
  weights?: { name: string; shape?: number[]; dtype?: string; quantization?: { dtype?: string } }[];
}

export function readManifest(raw: unknown, file: string): Map<string, ManifestEntry> {
  const out = new Map<string, ManifestEntry>();
  if (raw === undefined) return out;
  if (!Array.isArray(raw)) throw new ConvscopeError(`weightsManifest must be a list (in ${file})`);
  (raw as RawGroup[]).forEach((g, group) => {
    let offset: number | undefined = 0;
    for (const w of g.weights ?? []) {
      const shape = (w.shape ?? []).map(Number);
      if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
        throw new ConvscopeError(`weight '${w.name}' has a bad shape [${w.shape}] in weightsManifest`);
      }
      const dtype = tfDType(w.dtype);
      const stored = w.quantization?.dtype ? tfDType(w.quantization.dtype) : dtype;
      const count = shape.reduce((a, b) => a * b, 1);
      const byteLength = stored === "string" ? 0 : byteSize(count, stored);
      out.set(w.name, { name: w.name, shape, dtype, stored, byteLength, group, offset, paths: g.paths ?? [] });
      offset = stored === "string" || offset === undefined ? undefined : offset + byteLength;
    }
  });
  return out;
}

/** Reads bytes of one weight from its group's shards (siblings of model.json); undefined when not reachable. */
export function readWeightBytes(src: ByteSource, w: ManifestEntry): Uint8Array | undefined {
  if (w.offset === undefined || !src.sibling) return undefined;
  const out = new Uint8Array(w.byteLength);
  let pos = w.offset;
  let filled = 0;
  for (const path of w.paths) {
    if (filled === w.byteLength) break;
    const shard = src.sibling(path);
    if (!shard) return undefined;
    if (pos >= shard.size) {
      pos -= shard.size;
      continue;
    }
    const chunk = shard.read(pos, Math.min(w.byteLength - filled, shard.size - pos));
    out.set(chunk, filled);
    filled += chunk.length;
    pos = 0;
  }
  return filled === w.byteLength ? out : undefined;
}

/** Integer values of a stored int32/int64 weight. */
export function decodeInts(bytes: Uint8Array, stored: DType): number[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = stored === "int64" ? 8 : 4;
  return Array.from({ length: bytes.length / size }, (_, i) =>
    size === 8 ? Number(dv.getBigInt64(8 * i, true)) : dv.getInt32(4 * i, true),
  );
}
