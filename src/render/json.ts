import { type Report, tensorEntries } from "../core/report.js";

/**
 * The report as JSON: every count an exact integer, unknowns as null. The outline is
 * indented (lists of numbers or strings on one line); each layer and each tensor is one
 * line, so `grep conv1` finds a whole record and a 100,000-layer report stays half the
 * size of a fully indented one.
 */
export function renderJson(r: Report): string {
  return [...jsonChunks(r)].join("");
}

/** The same text in pieces of about `chunk` characters, for writing a large report without one giant string. */
export function* jsonChunks(r: Report, chunk = 1 << 20): Generator<string> {
  // `tensors` is not read here: its entries are written as tensorEntries makes them.
  const keys = (Object.keys(r) as (keyof Report)[]).filter((k) => k === "tensors" || r[k] !== undefined);
  let buf = "{\n";
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k];
    const tail = k < keys.length - 1 ? ",\n" : "\n";
    buf += `  ${JSON.stringify(key)}: `;
    if (key === "tensors") {
      let first = true;
      for (const [name, entry] of tensorEntries(r)) {
        buf += `${first ? "{\n" : ",\n"}    ${JSON.stringify(name)}: ${JSON.stringify(entry)}`;
        first = false;
        if (buf.length >= chunk) {
          yield buf;
          buf = "";
        }
      }
      buf += first ? "{}" : "\n  }";
    } else if (key === "layers" || key === "modules") {
      const entries = r[key] as unknown[];
      if (entries.length === 0) {
        buf += "[]";
      } else {
        buf += "[\n";
        for (let i = 0; i < entries.length; i++) {
          buf += `    ${JSON.stringify(entries[i]) ?? "null"}${i < entries.length - 1 ? ",\n" : "\n"}`;
          if (buf.length >= chunk) {
            yield buf;
            buf = "";
          }
        }
        buf += "  ]";
      }
    } else {
      buf += pretty(r[key], "  ");
    }
    buf += tail;
  }
  yield `${buf}}\n`;
}

/** Indented JSON with lists of plain values kept on one line (`[1, 3, 224, 224]`). */
function pretty(v: unknown, indent: string): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    if (v.every((x) => x === null || typeof x !== "object")) return `[${v.map((x) => JSON.stringify(x) ?? "null").join(", ")}]`;
    return `[\n${v.map((x) => inner + (x === undefined ? "null" : pretty(x, inner))).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(v).filter(([, x]) => x !== undefined);
  if (entries.length === 0) return "{}";
  return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${pretty(x, inner)}`).join(",\n")}\n${indent}}`;
}
