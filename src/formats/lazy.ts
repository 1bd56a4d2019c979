import type { Graph } from "../core/graph.js";
import { READERS, readModel } from "./index.js";
import { prefetchOnnx } from "./onnx/prefetch.js";
import { MissingBytes, Ranges, sparseSource } from "./source.js";

/** Fetches bytes [offset, offset + length) of the file (in the browser: `Blob.slice(…).arrayBuffer()`). */
export type Fetch = (offset: number, length: number) => Promise<Uint8Array>;

export interface LazyRead {
  graph: Graph;
  /** Bytes fetched from the file (the graph and the read-ahead around it). */
  fetched: number;
  /** Times the reader ran: one, plus one per range it needed that was not fetched yet. */
  passes: number;
}

/** The first fetch: every reader's sniffing looks at 4 KiB; a small file comes whole. */
const HEAD = 256 * 1024;
/** Read-ahead after a jump (a skipped payload): the next field headers, rarely more. */
const SMALL = 64 * 1024;
/** A jump up to this far still counts as reading on (tiny tensors between the graph's fields). */
const SKIP = 4096;
/** Read-ahead while reading on: it doubles up to this, so a long graph takes few passes. */
const LARGE = 64 * 1024 * 1024;

/**
 * Reads a model from a file that is fetched asynchronously, range by range, never whole —
 * how the web page opens a dropped File (a model past 2 GB, an ArrayBuffer's limit, too).
 *
 * The readers are synchronous (the CLI's file descriptor reads are). Here they run over
 * the ranges fetched so far; when a reader needs bytes not fetched yet, it stops
 * (MissingBytes), the range and some read-ahead are fetched, and the reader runs again
 * from the start. Readers skip weight payloads, so what is fetched follows the graph; a
 * pass costs what parsing the graph up to the missing range costs, and the read-ahead
 * doubles while the reader reads on, so a 40 MB graph takes a handful of passes.
 */
export async function readModelLazily(name: string, size: number, fetch: Fetch): Promise<LazyRead> {
  const ranges = new Ranges();
  let fetched = 0;
  const get = async (offset: number, end: number) => {
    const bytes = await fetch(offset, end - offset);
    fetched += bytes.length;
    ranges.add(offset, bytes);
    return bytes.length;
  };
  if (size > 0) await get(0, Math.min(size, HEAD));
  const head = ranges.get(0, Math.min(size, 4096));
  // ONNX interleaves the graph with payloads: its headers are fetched in one async walk
  // first, so the reader then runs once rather than once per payload jumped.
  if (head && READERS.find((r) => r.sniff(head, name))?.format === "onnx") await prefetchOnnx(size, ranges, get);
  let step = SMALL;
  let lastEnd = Math.min(size, HEAD);
  for (let passes = 1; ; passes++) {
    const src = sparseSource(name, size, ranges);
    try {
      return { graph: readModel(src), fetched, passes };
    } catch (e) {
      const miss = src.missed;
      if (!miss) throw e;
      // Reading on from the last fetch (or past a small payload): a longer read-ahead; after
      // a jump over a large payload, a short one again, so payloads are rarely fetched.
      step = miss.end >= lastEnd && miss.offset <= lastEnd + SKIP ? Math.min(step * 2, LARGE) : SMALL;
      let a = miss.offset;
      const b = Math.min(size, Math.max(miss.end, miss.offset + step));
      // Fetch only what is not held yet (a miss may straddle the end of a held range).
      a = Math.min(b, ranges.heldTo(a));
      if (a >= b) throw new MissingBytes(miss.offset, miss.end); // nothing new to fetch: never loop
      const got = await get(a, b);
      if (got < b - a) throw e; // the file shrank under us: the reader's own error says where
      lastEnd = b;
    }
  }
}
