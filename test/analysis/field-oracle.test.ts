import assert from "node:assert/strict";
import { test } from "node:test";
import { analyze } from "../../src/analysis/index.js";
import { unitSpan } from "../../src/analysis/rf-query.js";
import { NetBuilder, type T } from "../../src/zoo/builder.js";

// A brute-force oracle for the receptive-field engine: random small DAGs of convs, pools,
// padding, dilation, adds and concats in 1, 2 and 3 dimensions. For every unit of every
// tensor it propagates the set of input indices the unit depends on — by each op's own
// index arithmetic, written here independently of the engine — and requires the engine's
// r, S, P to give exactly the same first and last index. Tensors are treated as unbounded
// (padding positions map back to virtual input indices), which is what r, S, P describe.

function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Per axis: output index → the input indices it reads. */
type IndexMap = (o: number) => number[];

interface Op {
  out: string;
  ins: string[];
  maps: IndexMap[]; // one per spatial axis, applied to every input
}

function generate(seed: number) {
  const rand = rng(seed);
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
      const kk = int(1, 4);
      const dd = kind === "Conv" ? int(1, 2) : 1;
      const keff = dd * (kk - 1) + 1;
      // keepSize: total padding keff − 1 so the output is ceil(n / s) on both branches of a merge.
      const total = keepSize ? keff - 1 : int(0, 2);
      const begin = keepSize ? int(0, total) : int(0, total);
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
    });
    return y;
  }
  const kinds = ["Conv", "Conv", "MaxPool", "AveragePool"] as const;
  const strides = () => Array.from({ length: dims }, () => int(1, 2));

  let cur = x;
  const steps = int(2, 5);
  for (let i = 0; i < steps; i++) {
    const r = rand();
    if (r < 0.45) {
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

/** Per axis, the input indices a unit of a tensor depends on (min and max), by propagation. */
function oracle(ops: Op[], dims: number) {
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
      for (const i of op.maps[axis](u)) {
        const [l, h] = span(input, axis, i);
        lo = Math.min(lo, l);
        hi = Math.max(hi, h);
      }
    }
    const res: [number, number] = [lo, hi];
    memo.set(key, res);
    return res;
  }
  return { span, dims };
}

test("receptive fields match a brute-force index propagation on 300 random DAGs (1-D, 2-D, 3-D)", () => {
  let tensorsChecked = 0;
  let unitsChecked = 0;
  let misaligned = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const { graph, ops, dims } = generate(seed);
    const r = analyze(graph);
    const o = oracle(ops, dims);
    for (const op of ops) {
      const rf = r.tensors[op.out].rf;
      assert.ok(rf && !("global" in rf), `seed ${seed}: ${op.out} has a local field`);
      const shape = r.tensors[op.out].shape as number[];
      tensorsChecked++;
      if (!rf.aligned) misaligned++;
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
          assert.equal(rf.size[a], h - l + 1, `seed ${seed}: ${op.out} axis ${a} r`);
        }
      }
    }
  }
  // The generator must really exercise merges that do not line up.
  assert.ok(misaligned > 10, `only ${misaligned} misaligned merges`);
  assert.ok(unitsChecked > 10_000, `${tensorsChecked} tensors, ${unitsChecked} units`);
});
