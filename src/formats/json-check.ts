import { ConvscopeError } from "../core/errors.js";

/**
 * The expected shape of a JSON document, checked once after JSON.parse so a reader can
 * trust the types it walks: a hostile or damaged model.json gets a one-line error naming
 * the field, never a TypeError from deep inside the reader. Every field is optional (the
 * readers handle missing ones); only a present value of the wrong type fails.
 */
export type JsonShape =
  | "any"
  | "string"
  | "number"
  | "boolean"
  /** protobuf JSON's int64: a number or a string. */
  | "int"
  | { array: JsonShape }
  | { object: Record<string, JsonShape>; rest?: JsonShape }
  | { record: JsonShape };

const describe = (s: JsonShape): string =>
  typeof s === "string" ? (s === "int" ? "a number or a numeric string" : `a ${s}`) : "array" in s ? "a list" : "an object";

const kind = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "a list" : typeof v);

/** Throws a ConvscopeError naming the first field of `v` that does not fit `shape`. */
export function checkJson(v: unknown, shape: JsonShape, path: string, layerOf?: (path: string, v: unknown) => string | undefined): void {
  const fail = (): never => {
    throw new ConvscopeError(`${path} should be ${describe(shape)}, not ${kind(v)}`);
  };
  if (shape === "any" || v === undefined) return;
  if (typeof shape === "string") {
    if (shape === "int" ? typeof v !== "number" && typeof v !== "string" : typeof v !== shape) fail();
    return;
  }
  if ("array" in shape) {
    if (!Array.isArray(v)) fail();
    const a = v as unknown[];
    for (let i = 0; i < a.length; i++) checkJson(a[i], shape.array, `${path}[${i}]`, layerOf);
    return;
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) fail();
  const o = v as Record<string, unknown>;
  const layer = layerOf?.(path, v);
  try {
    for (const k of Object.keys(o)) {
      const s = "record" in shape ? shape.record : (shape.object[k] ?? shape.rest ?? "any");
      checkJson(o[k], s, `${path}.${k}`, layerOf);
    }
  } catch (e) {
    if (layer && e instanceof ConvscopeError && !e.layer) throw new ConvscopeError(e.message, { layer });
    throw e;
  }
}
