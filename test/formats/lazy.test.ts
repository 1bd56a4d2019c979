import assert from "node:assert/strict";
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { pageWithModel } from "../../src/cli/serve.js";
import { ConvscopeError } from "../../src/core/errors.js";
import { bufferSource, readModel } from "../../src/formats/index.js";
import { readModelLazily } from "../../src/formats/lazy.js";
import { MissingBytes, mergeRanges, Ranges, sparseSource } from "../../src/formats/source.js";
import { bigWeightsOnnx } from "./big-onnx.js";

const tmp = mkdtempSync(join(tmpdir(), "convscope-lazy-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A fetch over a file descriptor, as Blob.slice is over a File, counting what it hands out. */
function fdFetch(path: string) {
  const fd = openSync(path, "r");
  const io = { size: fstatSync(fd).size, calls: 0, close: () => closeSync(fd) };
  const fetch = async (offset: number, length: number) => {
    io.calls++;
    const b = new Uint8Array(Math.max(0, Math.min(length, io.size - offset)));
    readSync(fd, b, 0, b.length, offset);
    return b;
  };
  return {
    ...io,
    fetch,
    get calls() {
      return io.calls;
    },
  };
}

describe("Ranges", () => {
  test("merges overlapping and touching ranges, and finds bytes only inside one", () => {
    const r = new Ranges();
    r.add(10, Uint8Array.from([1, 2, 3]));
    r.add(20, Uint8Array.from([7, 8]));
    assert.deepEqual(r.list(), [
      [10, 3],
      [20, 2],
    ]);
    assert.deepEqual([...(r.get(11, 13) ?? [])], [2, 3]);
    assert.equal(r.get(12, 14), undefined); // runs past the held range
    assert.equal(r.get(0, 1), undefined);
    r.add(13, Uint8Array.from([4, 5, 6, 0, 0, 0, 0, 9])); // touches the first, overlaps the second
    assert.deepEqual(r.list(), [[10, 12]]);
    assert.deepEqual([...(r.get(10, 22) ?? [])], [1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 9, 8]);
    assert.equal(r.heldTo(15), 22);
    assert.equal(r.heldTo(30), 30);
    assert.deepEqual(
      mergeRanges([
        [5, 9],
        [0, 2],
        [2, 4],
        [8, 12],
      ]),
      [
        [0, 4],
        [5, 12],
      ],
    );
  });

  test("a sparse source throws MissingBytes outside its ranges and remembers it", () => {
    const r = new Ranges();
    r.add(0, Uint8Array.from([1, 2, 3, 4]));
    const src = sparseSource("m", 100, r);
    assert.deepEqual([...src.read(1, 2)], [2, 3]);
    assert.deepEqual([...src.read(100, 5)], []); // past the end: nothing, as a file gives
    assert.throws(() => src.read(3, 4), MissingBytes);
    assert.deepEqual([src.missed?.offset, src.missed?.end], [3, 7]);
  });
});

describe("reading a model lazily (the page's File through Blob.slice)", () => {
  test("an ONNX with 64 MB of weights inline: the same report, its weights never fetched", async () => {
    const big = bigWeightsOnnx(64 * 2 ** 20);
    const path = join(tmp, "big.onnx");
    big.pb.writeFile(path);
    const f = fdFetch(path);
    try {
      const lazy = await readModelLazily("big.onnx", f.size, f.fetch);
      const whole = analyze(readModel(bufferSource("big.onnx", new Uint8Array(readFileSync(path)))));
      const r = analyze(lazy.graph);
      assert.equal(r.totals.params, big.params);
      assert.equal(r.totals.macs, big.macs);
      assert.deepEqual(r.totals, whole.totals);
      assert.equal(r.layers.length, 4);
      // The graph and a read-ahead of 256 KiB at most, of 64 MB.
      assert.ok(lazy.fetched < 512 * 1024, `fetched ${lazy.fetched} of ${f.size}`);
      assert.equal(lazy.passes, 1); // the ONNX headers prefetched (onnx/prefetch.ts): the reader runs once
    } finally {
      f.close();
    }
  });

  test("an ONNX past 2 GB (a sparse file): opens, with its hand-computed totals, fetching kilobytes", async () => {
    const big = bigWeightsOnnx(2.2e9);
    const path = join(tmp, "huge.onnx");
    big.pb.writeFile(path, { sparse: true });
    const f = fdFetch(path);
    try {
      assert.ok(f.size > 2 ** 31);
      const lazy = await readModelLazily("huge.onnx", f.size, f.fetch);
      const r = analyze(lazy.graph);
      assert.equal(r.totals.params, big.params); // 550,028,249
      assert.equal(r.totals.macs, big.macs);
      assert.equal(r.model.file_bytes, f.size);
      assert.ok(lazy.fetched < 512 * 1024, `fetched ${lazy.fetched}`);
      // serve hands the page the same ranges: a page of kilobytes for a 2.2 GB model.
      const page = pageWithModel("<html><!--convscope-model--></html>", path);
      assert.ok(page.length < 64 * 1024, `page ${page.length} bytes`);
      const m = /data-size="(\d+)" data-ranges="([^"]*)">([^<]*)</.exec(page);
      assert.ok(m);
      assert.equal(Number(m[1]), f.size);
      const bytes = Buffer.from(m[3], "base64");
      const ranges = new Ranges();
      let at = 0;
      for (const piece of m[2].split(",")) {
        const [o, n] = piece.split("+").map(Number);
        ranges.add(o, bytes.subarray(at, at + n));
        at += n;
      }
      assert.equal(at, bytes.length);
      assert.deepEqual(analyze(readModel(sparseSource("huge.onnx", f.size, ranges))).totals, r.totals);
    } finally {
      f.close();
    }
  });

  test("a text format comes whole, in one pass", async () => {
    const path = new URL("../fixtures/spec/tiny-resnet.json", import.meta.url).pathname;
    const f = fdFetch(path);
    try {
      const lazy = await readModelLazily("tiny-resnet.json", f.size, f.fetch);
      assert.equal(lazy.passes, 1);
      assert.equal(lazy.fetched, f.size);
      assert.deepEqual(
        analyze(lazy.graph).totals,
        analyze(readModel(bufferSource("tiny-resnet.json", new Uint8Array(readFileSync(path))))).totals,
      );
    } finally {
      f.close();
    }
  });

  test("a damaged file gives the reader's own one-line error, as read whole", async () => {
    const b = bigWeightsOnnx(1 << 20).pb.bytes();
    for (const cut of [7, 500, b.length - 3]) {
      const bytes = b.subarray(0, cut);
      const whole = (() => {
        try {
          readModel(bufferSource("cut.onnx", bytes));
        } catch (e) {
          return e as ConvscopeError;
        }
      })();
      assert.ok(whole instanceof ConvscopeError);
      await assert.rejects(
        readModelLazily("cut.onnx", bytes.length, async (o, n) => bytes.slice(o, o + n)),
        (e) => e instanceof ConvscopeError && e.oneLine() === whole.oneLine(),
      );
    }
  });
});
