import type { Region } from "../core/graph.js";
import { grouped } from "../core/grouped.js";
import { addKnown, mul } from "../core/shape.js";
import type { LayerState, TensorLookup } from "./shapes.js";

/**
 * Totals over control flow (layers a reader inlined from If branches and Loop/Scan bodies,
 * tagged with `Node.region`):
 *
 * - A loop body's layers run `trips` times: each counts trips × its cost (its weights are
 *   stored once, so parameters are not repeated). When the count is unknown, the layer rows
 *   keep the cost of one iteration and the totals are unknown, with the reason.
 * - The branches of an If whose condition is known only at run time form a group: every
 *   branch is analysed and reported, and the totals count the costliest branch (by the
 *   headline convention), saying so. (An If whose condition is known has had its untaken
 *   branch removed already, analysis/shapes.ts.)
 *
 * Without regions this is a plain sum per convention.
 */
export class RegionTotals {
  /** How many times each layer runs, by layer index: 1 outside loops, null when a loop's count is unknown. */
  readonly repeats: (number | null)[];
  private readonly root: Scope;
  private readonly scopes: Scope[];
  private collapsed = false;
  /** Loops met, by node: trip count (null: unknown) and why. */
  private readonly loops = new Map<string, { trips: number | null; why?: string }>();

  /**
   * `any`: whether a layer may lie in a region (ShapeResult.regions); without, every layer
   * runs once in the root scope and the layers are not walked.
   */
  constructor(
    order: readonly LayerState[],
    private readonly tensors: TensorLookup,
    private readonly conventions: readonly string[],
    readonly any: boolean,
  ) {
    this.root = new Scope(conventions.length);
    this.repeats = new Array(order.length).fill(1);
    this.scopes = new Array(order.length).fill(this.root);
    if (!any) return;
    for (const layer of order) {
      const region = layer.node.region;
      if (!region) continue;
      let rep: number | null = 1;
      let scope = this.root;
      for (const r of region) {
        if (r.kind === "loop") {
          const t = this.trips(r);
          rep = rep === null || t === null ? null : mul(rep, t);
        } else if (this.tensors.get(r.cond)?.value === undefined) {
          scope = scope.branch(r.node, r.branch);
        }
      }
      this.repeats[layer.index] = rep;
      this.scopes[layer.index] = scope;
    }
  }

  /**
   * Adds a layer's count in convention `k` (of the constructor's `conventions`), already
   * multiplied by its repeats; null when unknown. By index: this runs for every layer and
   * convention, 800,000 times on a 100,000-node graph.
   */
  add(layer: LayerState, k: number, v: number | null): void {
    const s = this.scopes[layer.index].sum;
    s[k] = addKnown(s[k], v);
  }

  /** Totals per convention, the costliest branch of each undecided If counted; notes and partial reasons for the report. */
  totals(headline: string): { byConvention: Record<string, number | null>; notes: string[]; partial: string[] } {
    const notes: string[] = [];
    const byConvention = this.root.collapse(this.conventions, headline, notes);
    this.collapsed = true;
    const partial: string[] = [];
    for (const [node, l] of this.loops) {
      if (l.trips === null) {
        partial.push(
          `the loop '${node}' runs an unknown number of times (${l.why}): its layers show one iteration, the totals leave it out`,
        );
      } else {
        notes.push(
          `the loop '${node}' runs ${l.trips} time${l.trips === 1 ? "" : "s"}: its body's cost is counted ${l.trips}×, its weights once`,
        );
      }
    }
    if ([...this.loops.values()].some((l) => l.trips === null)) {
      notes.push("receptive fields through a loop of unknown length follow one iteration of its body");
    }
    return { byConvention, notes, partial };
  }

  /**
   * After totals(): for a layer in a branch the totals leave out (the other branch of an
   * undecided If is costlier), that branch as `IfNode/branch`, the prefix of its layers' names.
   */
  uncountedBranch(index: number): string | undefined {
    if (!this.collapsed) throw new Error("uncountedBranch() before totals()");
    let out: string | undefined;
    for (let s: Scope | undefined = this.scopes[index]; s; s = s.parent) if (s.lost) out = s.label;
    return out;
  }

  private trips(r: Extract<Region, { kind: "loop" }>): number | null {
    const known = this.loops.get(r.node);
    if (known) return known.trips;
    let trips: number | null = null;
    let why = r.why;
    if (r.trips) {
      const t = this.tensors.get(r.trips.tensor);
      if (r.trips.axis === undefined) {
        const v = t?.value?.[0];
        if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) trips = v;
        else why = `its trip count '${r.trips.tensor}' is only known at run time`;
      } else {
        const shape = t?.shape;
        const axis = shape && r.trips.axis < 0 ? r.trips.axis + shape.length : r.trips.axis;
        const d = shape?.[axis];
        if (typeof d === "number") trips = d;
        else why = `its trip count, dim ${r.trips.axis} of '${r.trips.tensor}', is unknown`;
      }
      if (trips !== null && r.enter) {
        const e = this.tensors.get(r.enter)?.value?.[0];
        if (e === undefined) {
          trips = null;
          why = `its starting condition '${r.enter}' is only known at run time`;
        } else if (!e) trips = 0;
      }
    }
    this.loops.set(r.node, { trips, why });
    return trips;
  }
}

/** Counts of the layers at one level, and the If groups inside it (If node → branch → scope). */
class Scope {
  /** Per convention, by index. */
  readonly sum: (number | null)[];
  private readonly groups = new Map<string, Map<string, Scope>>();
  /** Set by collapse() on a branch the totals do not count. */
  lost = false;

  constructor(
    conventions: number,
    readonly parent?: Scope,
    readonly label?: string,
  ) {
    this.sum = new Array(conventions).fill(0);
  }

  branch(node: string, name: string): Scope {
    let g = this.groups.get(node);
    if (!g) {
      g = new Map();
      this.groups.set(node, g);
    }
    let s = g.get(name);
    if (!s) {
      s = new Scope(this.sum.length, this, `${node}/${name}`);
      g.set(name, s);
    }
    return s;
  }

  collapse(conventions: readonly string[], headline: string, notes: string[]): Record<string, number | null> {
    const out: Record<string, number | null> = {};
    conventions.forEach((c, k) => {
      out[c] = this.sum[k];
    });
    for (const [node, branches] of this.groups) {
      const totals = [...branches].map(([name, s]) => ({ name, t: s.collapse(conventions, headline, notes) }));
      const unknown = totals.some((b) => b.t[headline] === null);
      let best = totals[0];
      for (const b of totals) if (!unknown && (b.t[headline] as number) > (best.t[headline] as number)) best = b;
      const list = totals
        .map((b) => {
          const v = b.t[headline];
          return `${b.name}: ${v === null || v === undefined ? "unknown" : grouped(v)}`;
        })
        .join(", ");
      notes.push(
        unknown
          ? `If '${node}': its condition is only known at run time and a branch's ${headline} is unknown (${list}); both branches are reported, the totals are unknown`
          : `If '${node}': its condition is only known at run time; both branches are reported (${headline} ${list}) and the totals count the costlier, '${best.name}'`,
      );
      if (!unknown) for (const [name, s] of branches) s.lost = name !== best.name;
      for (const c of conventions) out[c] = unknown ? null : addKnown(out[c], best.t[c]);
    }
    return out;
  }
}
