/**
 * One frozen copy of each distinct short list. A large graph repeats a few lists hundreds
 * of thousands of times — a conv's pads [1, 1, 1, 1], a field's stride [1, 1], the units
 * [56, 56] of every tensor of a stage — and each copy would be two objects (the array and
 * its elements) that the garbage collector copies and keeps until the report is written.
 * The lists are frozen because they are shared: a caller that edits one gets a TypeError
 * rather than silently editing every layer or tensor that shows it.
 */
export class SharedLists {
  /** Lists of numbers, by a hash of their items (no key string to build). */
  private readonly numbers = new Map<number, unknown[][]>();
  /** Any other list, by its JSON text (which tells 1 from "1", and a string holding a comma from two items). */
  private readonly others = new Map<string, unknown[]>();

  /** The shared list equal to `list` (`list` itself, frozen, when it is the first of its kind). */
  of<T extends number | string | null>(list: T[]): T[] {
    let h = list.length;
    let numeric = true;
    for (let i = 0; i < list.length; i++) {
      const v = list[i];
      // NaN equals nothing (and is null in JSON): such a list is kept as it is, unshared.
      if (v !== v) return list;
      if (typeof v !== "number") {
        numeric = false;
        break;
      }
      h = (Math.imul(h, 0x01000193) ^ (v | 0) ^ ((v / 4294967296) | 0)) | 0;
    }
    if (!numeric) {
      const key = JSON.stringify(list);
      const hit = this.others.get(key);
      if (hit !== undefined) return hit as T[];
      this.others.set(key, Object.freeze(list) as T[]);
      return list;
    }
    let bucket = this.numbers.get(h);
    if (bucket === undefined) {
      bucket = [];
      this.numbers.set(h, bucket);
    }
    for (const b of bucket) if (same(b, list)) return b as T[];
    bucket.push(Object.freeze(list) as T[]);
    return list;
  }
}

function same(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
