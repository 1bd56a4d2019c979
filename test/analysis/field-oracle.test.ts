import assert from "node:assert/strict";
import { test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { unitBox, unitSpan, unitsSeeing } from "../../src/analysis/rf-query.js";
import { NetBuilder, type T } from "../../src/zoo/builder.js";
import { prng } from "../support/prng.js";

// A brute-force oracle for the receptive-field engine: random small DAGs of convs, pools,
// padding, dilation, adds, concats and up-sampling (nearest and linear Resize, transposed
// convolution) in 1, 2 and 3 dimensions. For every unit of every
// tensor it propagates the set of input indices the unit depends on — by each op's own
// index arithmetic, written here independently of the engine — and requires the engine's
// r, S, P to give exactly the same first and last index. Tensors are treated as unbounded
// (padding positions map back to virtual input indices), which is what r, S, P describe.

/** Per axis: output index → the input indices it reads. */
type IndexMap = (o: number) => number[];

interface Op {
  out: string;
  ins: string[];
  maps: IndexMap[]; // one per spatial axis, applied to every input
  /** Reads input units with gaps (dilation > 1, a transposed convolution): fields are hulls, not sets. */
  gaps?: boolean;
}

/** `ragged`: larger kernels and strides, so windows often do not tile their input and the last one reaches past it. */
function generate(seed: number, ragged = false) {
  const rand = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const dims = int(1, 3);
  const size = Array.from({ length: dims }, () => int(dims === 3 ? 9 : 16, dims === 3 ? 14 : 40));
  const b = new NetBuilder(`g${seed}`);
  const x = b.input("x", [1, 2, ...size]);
  const ops: Op[] = [];
  let n = 0;

  // A window op per axis: kernel k, stride s, dilation d, begin pad pb, end pad pe.
  function windowOp(t: T, kind: "Conv" | "MaxPool" | "AveragePool", stride: number[], keepSize: boolean): T {
    const k: number[] = [];
    const d: number[] = [];
    const pb: number[] = [];
    const pe: number[] = [];
    for (let a = 0; a < dims; a++) {
      let kk = int(1, ragged ? 7 : 4);
      const dd = kind === "Conv" && !ragged ? int(1, 2) : 1; // ragged graphs: no gaps, so answers must be exact
      const n = t.shape[2 + a] as number;
      let total = keepSize ? 0 : int(0, 2);
      // The window must fit the padded input.
      while (kk > 1 && dd * (kk - 1) + 1 > n + total) kk--;
      const keff = dd * (kk - 1) + 1;
      // keepSize: total padding keff − 1 so the output is ceil(n / s) on both branches of a merge.
      if (keepSize) total = keff - 1;
      const begin = int(0, total);
      k.push(kk);
      d.push(dd);
      pb.push(begin);
      pe.push(total - begin);
    }
    const name = `${kind}${n++}`;
    const attrs: Record<string, number[] | number> = { kernel_shape: k, strides: stride, pads: [...pb, ...pe] };
    let y: T;
    if (kind === "Conv") {
      attrs.dilations = d;
      y = b.node("Conv", name, [t], attrs, { weight: [t.shape[1], t.shape[1], ...k] });
    } else y = b.node(kind, name, [t], attrs);
    ops.push({
      out: y.name,
      ins: [t.name],
      maps: k.map((kk, a) => (o: number) => Array.from({ length: kk }, (_, j) => o * stride[a] - pb[a] + j * d[a])),
      gaps: d.some((dd, a) => dd > 1 && k[a] > 1),
    });
    return y;
  }
  // Up-sampling: nearest (asymmetric floor, or half-pixel rounding), linear (half-pixel) or a
  // transposed convolution, each with its own index rule.
  function upsample(t: T): T {
    const name = `up${n++}`;
    const f = int(2, 3);
    const kind = int(0, 3);
    if (kind === 3) {
      const k = Array.from({ length: dims }, () => int(1, 4));
      const s = Array.from({ length: dims }, () => int(1, 3));
      const pb = k.map((kk) => int(0, kk - 1));
      const pe = k.map((kk) => int(0, kk - 1));
      const y = b.node(
        "ConvTranspose",
        name,
        [t],
        { kernel_shape: k, strides: s, pads: [...pb, ...pe] },
        { weight: [t.shape[1], t.shape[1], ...k] },
      );
      ops.push({
        out: y.name,
        ins: [t.name],
        maps: k.map((kk, a) => (o: number) => {
          const from: number[] = [];
          for (let j = 0; j < kk; j++) if ((o + pb[a] - j) % s[a] === 0) from.push((o + pb[a] - j) / s[a]);
          return from;
        }),
        gaps: true,
      });
      return y;
    }
    const scales = b.constant(`${name}.scales`, [1, 1, ...Array(dims).fill(f)]);
    const attrs: Record<string, string> =
      kind === 0
        ? { mode: "nearest", coordinate_transformation_mode: "asymmetric", nearest_mode: "floor" }
        : kind === 1
          ? { mode: "nearest", coordinate_transformation_mode: "half_pixel", nearest_mode: "round_prefer_floor" }
          : { mode: "linear", coordinate_transformation_mode: "half_pixel" };
    const [y] = b.add({ name, op: "Resize", inputs: [t.name, "", scales.name], outputs: [name], attrs });
    // Source coordinate x = (2o + 1 − f)/(2f) for half-pixel modes.
    const map: IndexMap =
      kind === 0
        ? (o) => [Math.floor(o / f)]
        : kind === 1
          ? (o) => [Math.ceil((2 * o + 1 - 2 * f) / (2 * f)) + 0]
          : (o) => {
              const x = Math.floor((2 * o + 1 - f) / (2 * f));
              return [x, x + 1];
            };
    ops.push({ out: y.name, ins: [t.name], maps: Array.from({ length: dims }, () => map) });
    return y;
  }
  const kinds = ["Conv", "Conv", "MaxPool", "AveragePool"] as const;
  const strides = () => Array.from({ length: dims }, () => int(1, ragged ? 3 : 2));

  let cur = x;
  const steps = int(2, 5);
  for (let i = 0; i < steps; i++) {
    const r = rand();
    if (r > 0.8 && (cur.shape[2] as number) <= 30) {
      cur = upsample(cur);
    } else if (r < 0.45) {
      cur = windowOp(cur, kinds[int(0, 3)], strides(), false);
    } else {
      // Two branches with the same stride and size-keeping padding, merged by Add or Concat.
      const s = strides();
      const a = windowOp(cur, kinds[int(0, 3)], s, true);
      let c = windowOp(cur, kinds[int(0, 3)], s, true);
      if (rand() < 0.5) c = windowOp(c, "Conv", dims === 1 ? [1] : Array(dims).fill(1), true);
      const name = `merge${n++}`;
      const y = rand() < 0.5 ? b.node("Add", name, [a, c]) : b.node("Concat", name, [a, c], { axis: 1 });
      ops.push({ out: y.name, ins: [a.name, c.name], maps: Array.from({ length: dims }, () => (o: number) => [o]) });
      cur = y;
    }
  }
  return { graph: b.build(cur), ops, dims };
}

/**
 * Per axis, the input indices a unit of a tensor depends on (min and max), by propagation.
 * With `shapes`, the propagation runs on the real, bounded tensors: a unit reads only input
 * units that exist (0 … size − 1) and the image only its own pixels. A window whose last
 * unit reaches past its input's end reads nothing there, so pixels only such missing units
 * would read are read by nobody (SqueezeNet 1.0's 7×7/2 unpadded stem and pixel 223 of 224).
 */
function oracle(ops: Op[], shapes?: Record<string, number[]>) {
  const byOut = new Map(ops.map((o) => [o.out, o]));
  const memo = new Map<string, [number, number]>();
  function span(tensor: string, axis: number, u: number): [number, number] {
    if (tensor === "x") return [u, u];
    const key = `${tensor}|${axis}|${u}`;
    const hit = memo.get(key);
    if (hit) return hit;
    const op = byOut.get(tensor);
    assert.ok(op, tensor);
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const input of op.ins) {
      const n = shapes ? shapes[input][axis + 2] : Number.POSITIVE_INFINITY;
      for (const i of op.maps[axis](u)) {
        if (shapes && (i < 0 || i >= n)) continue;
        const [l, h] = span(input, axis, i);
        lo = Math.min(lo, l);
        hi = Math.max(hi, h);
      }
    }
    const res: [number, number] = [lo, hi];
    memo.set(key, res);
    return res;
  }
  return { span };
}

test("receptive fields match a brute-force index propagation on 300 random DAGs (1-D, 2-D, 3-D, up-sampling)", () => {
  let tensorsChecked = 0;
  let phased = 0;
  let unitsChecked = 0;
  let misaligned = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const { graph, ops, dims } = generate(seed);
    const r = analyze(graph);
    const o = oracle(ops);
    for (const op of ops) {
      const rf = r.tensors[op.out].rf;
      assert.ok(rf && !("global" in rf), `seed ${seed}: ${op.out} has a local field`);
      const shape = r.tensors[op.out].shape as number[];
      tensorsChecked++;
      if (!rf.aligned) misaligned++;
      if (rf.phases) phased++;
      for (let a = 0; a < dims; a++) {
        // Misaligned fields are reported for unit 0 (the union of what it sees).
        const units = rf.aligned ? shape[a + 2] : 1;
        for (let u = 0; u < units; u++) {
          const want = o.span(op.out, a, u);
          assert.deepEqual(unitSpan(rf, a, u), want, `seed ${seed}: ${op.out} axis ${a} unit ${u}`);
          unitsChecked++;
        }
        if (rf.aligned) {
          const [l, h] = o.span(op.out, a, 0);
          // The summary size is the largest phase's; unit 0 is phase 0.
          // A unit that reads no pixel (a transposed conv's holes) has size 0.
          assert.equal(
            rf.phases ? rf.phases[a].size[0] : rf.size[a],
            Number.isFinite(l) ? h - l + 1 : 0,
            `seed ${seed}: ${op.out} axis ${a} r`,
          );
        }
      }
    }
  }
  // The generator must really exercise merges that do not line up.
  assert.ok(misaligned > 10, `only ${misaligned} misaligned merges`);
  // … and up-sampling with fields that differ by phase.
  assert.ok(phased > 20, `only ${phased} tensors with per-phase fields`);
  assert.ok(unitsChecked > 10_000, `${tensorsChecked} tensors, ${unitsChecked} units`);
});

test("units that see a pixel match a brute-force propagation over the real, bounded tensors (windows that do not tile the input)", () => {
  let clippedTensors = 0;
  let pixelsChecked = 0;
  let exactGraphs = 0;
  let pixelsExact = 0;
  for (let seed = 1; seed <= 200; seed++) {
    const { graph, ops, dims } = generate(seed, seed % 2 === 0);
    const r = analyze(graph);
    const shapes: Record<string, number[]> = { x: r.tensors.x.shape as number[] };
    for (const op of ops) shapes[op.out] = r.tensors[op.out].shape as number[];
    const o = oracle(ops, shapes);
    // A field is the hull of what a unit reads: where some op reads with gaps, the hull's
    // ends may be pixels the unit skips, so there the answers need only contain the truth.
    const exact = !ops.some((op) => op.gaps);
    if (exact) exactGraphs++;
    const within = (got: [number, number][], want: [number, number][], msg: string) => {
      if (exact) assert.deepEqual(got, want, msg);
      else
        for (const [l, h] of want)
          assert.ok(
            got.some(([gl, gh]) => gl <= l && gh >= h),
            msg,
          );
    };
    for (const op of ops) {
      const rf = r.tensors[op.out].rf;
      const region = r.tensors[op.out].rf_region;
      assert.ok(rf && !("global" in rf) && region?.reads, `seed ${seed}: ${op.out} has a local field and a read range`);
      const shape = shapes[op.out];
      for (let a = 0; a < dims; a++) {
        const n = shapes.x[a + 2];
        const units = Array.from({ length: shape[a + 2] }, (_, u) => o.span(op.out, a, u));
        const lo = Math.min(...units.map((x) => x[0]));
        const hi = Math.max(...units.map((x) => x[1]));
        // The read range is never smaller than the truth (no pixel a unit reads is dropped) …
        assert.ok(region.reads.start[a] <= lo && region.reads.end[a] >= hi, `seed ${seed}: ${op.out} axis ${a} reads`);
        if (!rf.aligned) continue; // misaligned fields are reported for unit 0 only
        // … and on aligned fields without gaps it is exact.
        within(
          region.reads.start[a] <= region.reads.end[a] ? [[region.reads.start[a], region.reads.end[a]]] : [],
          Number.isFinite(lo) ? [[lo, hi]] : [],
          `seed ${seed}: ${op.out} axis ${a} reads`,
        );
        // The old answer (every unit's box, clipped to the image) reads more than the truth.
        const first = unitSpan(rf, a, 0)[0];
        const last = unitSpan(rf, a, shape[a + 2] - 1)[1];
        if (exact && Number.isFinite(lo) && (hi < Math.min(last, n - 1) || lo > Math.max(first, 0))) clippedTensors++;
        // Every unit's box clipped to what it reads, and every pixel's seeing units.
        // The other axes at their middle unit, which reads some pixel (unit 0 may read only padding).
        const unit = shape.slice(2).map((d) => Math.floor(d / 2));
        // … unless a transposed convolution's hole leaves it empty (then axis a cannot be read off the box).
        const otherEmpty = unit.some((m, b) => b !== a && !Number.isFinite(o.span(op.out, b, m)[0]));
        for (let u = 0; u < units.length; u++) {
          unit[a] = u;
          const box = unitBox(r, op.out, unit).clipped;
          if (otherEmpty) continue;
          const want: [number, number][] = Number.isFinite(units[u][0]) ? [units[u]] : [];
          within(box ? [[box.start[a], box.end[a]]] : [], want, `seed ${seed}: ${op.out} axis ${a} unit ${u} clipped`);
        }
        for (let p = 0; p < n; p++) {
          const pixel = shapes.x.slice(2).map(() => 0);
          pixel[a] = p;
          const got = unitsSeeing(r, op.out, pixel).ranges[a];
          const want: [number, number][] = [];
          units.forEach(([l, h], u) => {
            if (l > p || h < p) return;
            const prev = want[want.length - 1];
            if (prev && prev[1] === u - 1) prev[1] = u;
            else want.push([u, u]);
          });
          // Outside the range the tensor really reads (graphs without gaps): exactly none.
          if (exact && (p < lo || p > hi)) assert.deepEqual(got, [], `seed ${seed}: ${op.out} axis ${a} pixel ${p} is read by no unit`);
          within(got, want, `seed ${seed}: ${op.out} axis ${a} pixel ${p}`);
          if (exact) pixelsExact++;
          pixelsChecked++;
        }
      }
    }
  }
  // The generator must really make windows that reach past their input's last unit.
  assert.ok(clippedTensors > 20, `only ${clippedTensors} tensors whose last unit's field reaches unread pixels`);
  assert.ok(pixelsChecked > 5_000, `${pixelsChecked} pixels`);
  assert.ok(exactGraphs > 50, `only ${exactGraphs} graphs without gaps`);
  assert.ok(pixelsExact > 5_000, `only ${pixelsExact} pixels checked exactly`);
});
