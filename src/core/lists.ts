/**
 * Whether shared lists are frozen. A shared list edited by mistake silently edits every
 * layer or tensor that shows it; frozen, the edit throws a TypeError. The test suite turns
 * freezing on (test/setup.ts), so such a mistake fails there. The command and the page keep
 * it off: V8 in Node 20 slices, maps and walks frozen arrays by slower paths, and code that
 * meets frozen and plain lists alike (numel, a rule's shape arithmetic) turns polymorphic.
 * Profiled over 8 analyses of the 100,000-node graph, freezing cost about 175 ms per analysis
 * (numel alone ran 3× slower).
 */
let freezing = false;

/** Turns the freezing of shared lists on or off (the tests' setting; see `freezing`). */
export function freezeSharedLists(on: boolean): void {
  freezing = on;
}

/** `list`, shared from now on: frozen when freezing is on. */
export function sharedList<T>(list: T[]): T[] {
  return freezing ? (Object.freeze(list) as T[]) : list;
}

/**
 * One copy of each distinct short list. A large graph repeats a few lists hundreds
 * of thousands of times — a conv's pads [1, 1, 1, 1], a field's stride [1, 1], the units
 * [56, 56] of every tensor of a stage — and each copy would be two objects (the array and
 * its elements) that the garbage collector copies and keeps until the report is written.
 * The lists are shared: nobody edits one (under test they are frozen, see `freezing`).
 */
export class SharedLists {
  /** Lists of numbers, by a hash of their items (no key string to build). */
  private readonly numbers = new Map<number, unknown[][]>();
  /** Any other list, by its JSON text (which tells 1 from "1", and a string holding a comma from two items). */
  private readonly others = new Map<string, unknown[]>();

  /** The shared list equal to `list` (`list` itself, shared, when it is the first of its kind). */
  of<T extends number | string | null>(list: T[]): T[] {
    return this.find(list, false);
  }

  /**
   * The same for a list the caller goes on growing or reusing (a parser's): it is copied, at
   * its exact size, only when it is the first of its kind (or too long to share).
   */
  copyOf<T extends number | string | null>(list: T[]): T[] {
    return this.find(list, true);
  }

  private find<T extends number | string | null>(list: T[], copy: boolean): T[] {
    const h = list.length > SHORT ? Number.NaN : hashNumbers(list);
    if (Number.isNaN(h)) return copy ? list.slice() : list;
    if (h === undefined) {
      const key = JSON.stringify(list);
      const hit = this.others.get(key);
      if (hit !== undefined) return hit as T[];
      const kept = sharedList(copy ? list.slice() : list);
      this.others.set(key, kept);
      return kept;
    }
    let bucket = this.numbers.get(h);
    if (bucket === undefined) {
      bucket = [];
      this.numbers.set(h, bucket);
    }
    for (let i = 0; i < bucket.length; i++) if (same(bucket[i], list)) return bucket[i] as T[];
    const kept = sharedList(copy ? list.slice() : list);
    bucket.push(kept);
    return kept;
  }
}

/** Lists longer than this are never shared (a shape, a kernel's pads, a field's axes are all shorter). */
const SHORT = 16;

/**
 * One frozen record per distinct list of values, made once from them: a large graph's
 * layers repeat a few costs (every 3×3 conv of a stage counts the same), each a record
 * of seven or eight numbers per layer otherwise.
 *
 * The values are kept as doubles (null as NaN; a list holding NaN itself is never shared,
 * as in SharedLists) and hashed and compared by code of their own: hashNumbers and same
 * meet every kind of list in the program (shapes, attributes, frozen and not), so V8 reads
 * their items by its slowest, generic path; here they read one kind of array. Profiled over
 * 4 analyses of the 100,000-node graph (shared lists still frozen then), the lookups of both
 * classes took 537 → 210 ms.
 */
export class SharedRecords<R extends object> {
  private readonly byHash = new Map<number, { key: Float64Array; record: R }[]>();
  private key = new Float64Array(0);

  /** The record for `values` (which may be a scratch list: it is copied when kept); `make(values)` builds it the first time. */
  of<V extends readonly (number | null)[]>(values: V, make: (values: V) => R): R {
    if (this.key.length !== values.length) this.key = new Float64Array(values.length);
    const key = this.key;
    let h = values.length;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === null) {
        key[i] = Number.NaN;
        h = Math.imul(h, 0x01000193) ^ 0x5bd1e995;
      } else if (typeof v !== "number" || Number.isNaN(v)) return make(values);
      else {
        key[i] = v;
        h = (Math.imul(h, 0x01000193) ^ (v | 0) ^ ((v / 4294967296) | 0)) | 0;
      }
    }
    let bucket = this.byHash.get(h);
    if (bucket === undefined) {
      bucket = [];
      this.byHash.set(h, bucket);
    }
    for (let i = 0; i < bucket.length; i++) if (sameKey(bucket[i].key, key)) return bucket[i].record;
    const record = Object.freeze(make(values));
    bucket.push({ key: key.slice(), record });
    return record;
  }
}

/** Equal keys of SharedRecords (NaN, a null, equals NaN). */
function sameKey(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}

/** A hash of a list of numbers and nulls; undefined when it holds anything else, NaN when it holds NaN (never shared: NaN equals nothing). */
function hashNumbers(list: readonly unknown[]): number | undefined {
  let h = list.length;
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    if (v === null) {
      h = Math.imul(h, 0x01000193) ^ 0x5bd1e995;
      continue;
    }
    if (typeof v !== "number") return undefined;
    if (Number.isNaN(v)) return Number.NaN;
    h = (Math.imul(h, 0x01000193) ^ (v | 0) ^ ((v / 4294967296) | 0)) | 0;
  }
  return h;
}

function same(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
