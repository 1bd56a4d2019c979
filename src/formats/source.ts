/**
 * Random access to a model file's bytes. Readers pull only the ranges they parse, so a
 * 500 MB weights section is skipped, never loaded: in Node the bytes come from a file
 * descriptor (cli/node-source.ts), in the browser from the ranges of a File read so far
 * (sparseSource, filled by formats/lazy.ts through Blob.slice) or handed over by `serve`.
 */
export interface ByteSource {
  /** Path or file name, for error messages. */
  name: string;
  size: number;
  /** Bytes [offset, offset + length); may return fewer at the end of the file. */
  read(offset: number, length: number): Uint8Array;
  /**
   * Like `read`, but the bytes may run on past offset + length, as far as the source
   * already holds them (a file source's current block): a reader taking its bytes a few
   * at a time then keeps one view instead of making one per request.
   */
  span?(offset: number, length: number): Uint8Array;
  /** Another file next to this one (ONNX external data), or undefined when absent or not reachable. */
  sibling?(relativePath: string): ByteSource | undefined;
}

export function bufferSource(name: string, bytes: Uint8Array): ByteSource {
  return {
    name,
    size: bytes.length,
    read: (offset, length) => bytes.subarray(offset, Math.min(offset + length, bytes.length)),
    span: (offset) => bytes.subarray(offset),
  };
}

/** The whole content as text (for the text formats: JSON, prototxt). */
export function readText(src: ByteSource): string {
  return new TextDecoder("utf-8").decode(src.read(0, src.size));
}

/**
 * A reader asked a sparse source for bytes it does not hold. Not a ConvscopeError: it is
 * no fault of the file, and the driver that fills the source (formats/lazy.ts) fetches
 * the range and runs the reader again.
 */
export class MissingBytes extends Error {
  constructor(
    readonly offset: number,
    readonly end: number,
  ) {
    super(`bytes ${offset}..${end} are not loaded`);
    this.name = "MissingBytes";
  }
}

/**
 * Known ranges of a file, kept sorted and merged: what a reader has needed so far (and
 * the read-ahead around it), never the payloads it skipped.
 */
export class Ranges {
  /** Disjoint, sorted, never adjacent: [start, bytes] pairs. */
  private starts: number[] = [];
  private bufs: Uint8Array[] = [];

  /** Total bytes held. */
  get bytes(): number {
    let n = 0;
    for (const b of this.bufs) n += b.length;
    return n;
  }

  /** The held ranges as [offset, length] pairs, in order. */
  list(): [number, number][] {
    return this.starts.map((s, i) => [s, this.bufs[i].length]);
  }

  /** Index of the last range starting at or before `p`, or -1. */
  private before(p: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid] <= p) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** Bytes [a, b) when one held range covers them, else undefined. */
  get(a: number, b: number): Uint8Array | undefined {
    const i = this.before(a);
    if (i < 0) return undefined;
    const s = this.starts[i];
    const buf = this.bufs[i];
    return b <= s + buf.length ? buf.subarray(a - s, b - s) : undefined;
  }

  /** The end of the held range that holds byte `p`, or `p` when none does. */
  heldTo(p: number): number {
    const i = this.before(p);
    return i >= 0 && p < this.starts[i] + this.bufs[i].length ? this.starts[i] + this.bufs[i].length : p;
  }

  /** Adds bytes at `offset`, merging with the ranges they overlap or touch. */
  add(offset: number, bytes: Uint8Array): void {
    let a = offset;
    let b = offset + bytes.length;
    if (bytes.length === 0) return;
    let first = this.before(a);
    if (first >= 0 && this.starts[first] + this.bufs[first].length < a) first++;
    if (first < 0) first = 0;
    let last = first;
    while (last < this.starts.length && this.starts[last] <= b) last++;
    // ranges [first, last) overlap or touch [a, b)
    if (last === first) {
      this.starts.splice(first, 0, a);
      this.bufs.splice(first, 0, bytes);
      return;
    }
    a = Math.min(a, this.starts[first]);
    b = Math.max(b, this.starts[last - 1] + this.bufs[last - 1].length);
    const out = new Uint8Array(b - a);
    for (let i = first; i < last; i++) out.set(this.bufs[i], this.starts[i] - a);
    out.set(bytes, offset - a);
    this.starts.splice(first, last - first, a);
    this.bufs.splice(first, last - first, out);
  }
}

/**
 * A file of `size` bytes of which only `ranges` are at hand. A read outside them throws
 * MissingBytes and is remembered in `missed` (a reader may catch and rewrap errors, so the
 * driver looks there rather than at what was thrown).
 */
export function sparseSource(name: string, size: number, ranges: Ranges): ByteSource & { missed?: MissingBytes } {
  const src: ByteSource & { missed?: MissingBytes } = {
    name,
    size,
    read(offset, length) {
      const end = Math.min(offset + length, size);
      if (offset < 0 || end <= offset) return new Uint8Array(0);
      const got = ranges.get(offset, end);
      if (got) return got;
      src.missed = new MissingBytes(offset, end);
      throw src.missed;
    },
  };
  return src;
}

/**
 * A source that notes every range asked of it: `convscope serve` reads the model once
 * through it and hands the page exactly those ranges (the graph, not the weights).
 */
export function recordingSource<S extends ByteSource>(src: S): S & { asked: [number, number][] } {
  const asked: [number, number][] = [];
  const read = (offset: number, length: number) => {
    const got = src.read(offset, length);
    if (got.length > 0) asked.push([offset, offset + got.length]);
    return got;
  };
  // No span: a reader would take bytes past the ranges asked, and the page would miss them.
  return { ...src, read, span: undefined, asked };
}

/** [start, end) ranges sorted and merged where they overlap or touch. */
export function mergeRanges(ranges: [number, number][]): [number, number][] {
  const sorted = [...ranges].sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}
