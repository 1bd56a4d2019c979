import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { ConvscopeError } from "../core/errors.js";
import type { ByteSource } from "../formats/source.js";

/**
 * A file read through its descriptor, range by range: a reader that skips a weight
 * payload never makes the process read it. Bytes are pulled in blocks so the many small
 * reads of a protobuf walk stay cheap.
 */
export function fileSource(path: string): ByteSource & { close(): void } {
  let fd: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new ConvscopeError("is a directory, not a model file", { file: path });
    // A FIFO, socket or device would block the open or the reads (a hang), or never end.
    if (!st.isFile()) throw new ConvscopeError("is not a regular file (a pipe, socket or device), not a model file", { file: path });
    fd = openSync(path, "r");
  } catch (e) {
    if (e instanceof ConvscopeError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (e as Error).message;
    throw new ConvscopeError(why, { file: path });
  }
  const size = fstatSync(fd).size;
  const BLOCK = 64 * 1024;
  const SMALL = 4 * 1024;
  let blockStart = -1;
  let block = new Uint8Array(0);

  /** readSync, with an I/O failure (EIO, a file gone from a network mount) as the one-line error. */
  const readAt = (buf: Uint8Array, offset: number): void => {
    try {
      readSync(fd, buf, 0, buf.length, offset);
    } catch (e) {
      throw new ConvscopeError(`cannot be read at byte ${offset}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
        file: path,
      });
    }
  };

  const read = (offset: number, length: number): Uint8Array => {
    const end = Math.min(offset + length, size);
    if (offset < 0 || offset > size) return new Uint8Array(0);
    if (offset >= blockStart && end <= blockStart + block.length) {
      return block.subarray(offset - blockStart, end - blockStart);
    }
    if (end - offset > BLOCK) {
      const out = new Uint8Array(end - offset);
      readAt(out, offset);
      return out;
    }
    // Reading on from the last block: a full block. After a jump (a skipped weight payload),
    // a small one, so bytes read follow the graph rather than the weights behind it.
    const want = offset >= blockStart && offset <= blockStart + block.length ? BLOCK : SMALL;
    block = new Uint8Array(Math.max(Math.min(want, size - offset), end - offset));
    readAt(block, offset);
    blockStart = offset;
    return block.subarray(0, end - offset);
  };

  return {
    name: path,
    size,
    read,
    span(offset: number, length: number) {
      const w = read(offset, length);
      // The request's bytes lie in the current block (a read of more than a block is its own array): the rest of the block with them.
      return w.buffer === block.buffer && offset >= blockStart ? block.subarray(offset - blockStart) : w;
    },
    sibling(rel: string) {
      try {
        return fileSource(join(dirname(path), rel));
      } catch {
        return undefined;
      }
    },
    close: () => closeSync(fd),
  };
}
