import { inflateSync } from "fflate";
import { ConvscopeError } from "../../core/errors.js";
import type { ByteSource } from "../source.js";

/**
 * One member of a zip archive, read through the central directory so that nothing else
 * is touched: a `.keras` file is a zip of `config.json`, `metadata.json` and a weights file
 * that may be hundreds of megabytes, and only the config is needed. Stored and deflated
 * members are supported (deflate through fflate), with Zip64 offsets.
 */
export function readZipMember(src: ByteSource, member: string): Uint8Array | undefined {
  const dir = centralDirectory(src);
  const view = new DataView(dir.buffer, dir.byteOffset, dir.byteLength);
  let p = 0;
  while (p + 46 <= dir.length && view.getUint32(p, true) === 0x02014b50) {
    const method = view.getUint16(p + 10, true);
    let compressed = view.getUint32(p + 20, true);
    let size = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    let local = view.getUint32(p + 42, true);
    const name = new TextDecoder().decode(dir.subarray(p + 46, p + 46 + nameLen));
    if (name === member) {
      // Zip64 extra field: the 64-bit values of the fields that hold 0xFFFFFFFF, in this order.
      let e = p + 46 + nameLen;
      // A damaged directory may claim an extra field past its own end.
      const end = Math.min(e + extraLen, dir.length);
      while (e + 4 <= end) {
        const id = view.getUint16(e, true);
        const len = view.getUint16(e + 2, true);
        if (id === 0x0001) {
          let q = e + 4;
          const next = () => {
            if (q + 8 > Math.min(end, e + 4 + len)) throw new ConvscopeError(`the zip's Zip64 field for '${member}' is cut short`);
            const v = u64(view, q);
            q += 8;
            return v;
          };
          if (size === 0xffffffff) size = next();
          if (compressed === 0xffffffff) compressed = next();
          if (local === 0xffffffff) local = next();
        }
        e += 4 + len;
      }
      return readLocal(src, member, local, method, compressed, size);
    }
    p += 46 + nameLen + extraLen + commentLen;
  }
  return undefined;
}

/** Largest central directory read (a .keras archive has a handful of members). */
const MAX_DIRECTORY = 16 * 1024 * 1024;
/** Largest member inflated (a model config is kilobytes to a few megabytes). */
const MAX_MEMBER = 256 * 1024 * 1024;

/** The end-of-central-directory record sits in the last 22 bytes plus a comment of up to 64 KiB: look in 1 KiB first. */
function findEnd(src: ByteSource): { view: DataView; eocd: number } {
  for (const comment of [1024, 0xffff]) {
    const tailLen = Math.min(src.size, 22 + comment);
    const tail = src.read(src.size - tailLen, tailLen).slice();
    const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
    for (let i = tail.length - 22; i >= 0; i--) {
      if (view.getUint32(i, true) === 0x06054b50) return { view, eocd: i };
    }
    if (tailLen === src.size) break;
  }
  throw new ConvscopeError("zip archive has no end-of-central-directory record (truncated?)");
}

function centralDirectory(src: ByteSource): Uint8Array {
  const { view, eocd } = findEnd(src);
  let size = view.getUint32(eocd + 12, true);
  let offset = view.getUint32(eocd + 16, true);
  if ((offset === 0xffffffff || size === 0xffffffff) && eocd >= 20 && view.getUint32(eocd - 20, true) === 0x07064b50) {
    const rec = src.read(u64(view, eocd - 12), 56);
    const rv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
    if (rec.length < 56 || rv.getUint32(0, true) !== 0x06064b50) throw new ConvscopeError("zip archive has a broken Zip64 end record");
    size = u64(rv, 40);
    offset = u64(rv, 48);
  }
  if (size > MAX_DIRECTORY || offset + size > src.size) throw new ConvscopeError(`zip central directory at byte ${offset} is out of range`);
  return src.read(offset, size).slice();
}

function readLocal(src: ByteSource, member: string, offset: number, method: number, compressed: number, size: number): Uint8Array {
  const head = src.read(offset, 30);
  const hv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (head.length < 30 || hv.getUint32(0, true) !== 0x04034b50)
    throw new ConvscopeError(`zip member '${member}' has no local header at byte ${offset}`);
  const start = offset + 30 + hv.getUint16(26, true) + hv.getUint16(28, true);
  if (size > MAX_MEMBER || compressed > MAX_MEMBER) throw new ConvscopeError(`zip member '${member}' is too large (${size} bytes)`);
  const data = src.read(start, compressed).slice();
  if (data.length !== compressed) throw new ConvscopeError(`zip member '${member}' is truncated`);
  if (method === 0) return data;
  if (method !== 8)
    throw new ConvscopeError(`zip member '${member}' uses compression method ${method} (only stored and deflate are supported)`);
  try {
    return inflateSync(data, { out: new Uint8Array(size) });
  } catch (e) {
    throw new ConvscopeError(`zip member '${member}' does not inflate: ${(e as Error).message}`);
  }
}

function u64(view: DataView, at: number): number {
  const v = view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32;
  if (!Number.isSafeInteger(v)) throw new ConvscopeError("zip offset exceeds 2^53");
  return v;
}

/**
 * Names of every member of a zip archive, read from the central directory alone (no member
 * is opened): the `.pt2` reader finds its graph JSON by name, whatever the archive's folder.
 */
export function zipMemberNames(src: ByteSource): string[] {
  const dir = centralDirectory(src);
  const view = new DataView(dir.buffer, dir.byteOffset, dir.byteLength);
  const names: string[] = [];
  let p = 0;
  while (p + 46 <= dir.length && view.getUint32(p, true) === 0x02014b50) {
    const nameLen = view.getUint16(p + 28, true);
    names.push(new TextDecoder().decode(dir.subarray(p + 46, p + 46 + nameLen)));
    p += 46 + nameLen + view.getUint16(p + 30, true) + view.getUint16(p + 32, true);
  }
  return names;
}
