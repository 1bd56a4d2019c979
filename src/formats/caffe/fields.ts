import { ConvscopeError } from "../../core/errors.js";
import { type PbMessage, type PbValue, positionOf } from "./text-format.js";

/**
 * Typed reads of one parsed Caffe message (a layer or one of its `*_param`s) with
 * Caffe's defaults. A singular field takes its last occurrence, as protobuf does; every
 * error names the layer and the line the message starts on.
 */
export class Fields {
  constructor(
    readonly msg: PbMessage,
    /** Layer name for errors. */
    readonly layer: string,
    /** Path of this message inside the layer (`convolution_param`), for errors. */
    readonly path = "",
  ) {}

  has(name: string): boolean {
    return (this.msg[name]?.length ?? 0) > 0;
  }

  /** Every occurrence (repeated fields). */
  all(name: string): PbValue[] {
    return this.msg[name] ?? [];
  }

  /** A sub-message; an empty one when absent, so its fields read as defaults. */
  sub(name: string): Fields {
    const v = this.last(name);
    if (v === undefined) return new Fields(Object.create(null) as PbMessage, this.layer, this.join(name));
    if (typeof v !== "object") this.fail(name, "must be a message { … }");
    return new Fields(v, this.layer, this.join(name));
  }

  /** Every occurrence of a repeated sub-message. */
  subs(name: string): Fields[] {
    return this.all(name).map((v) => {
      if (typeof v !== "object") this.fail(name, "must be a message { … }");
      return new Fields(v, this.layer, this.join(name));
    });
  }

  num(name: string, def?: number): number {
    const v = this.last(name);
    if (v === undefined) return this.required(name, def);
    if (typeof v !== "number" || Number.isNaN(v)) this.fail(name, `must be a number, got ${show(v)}`);
    return v;
  }

  /** A non-negative integer by default (Caffe's uint32 fields); `signed` allows negatives. */
  int(name: string, def?: number, signed = false): number {
    const v = this.num(name, def);
    if (!Number.isSafeInteger(v) || (!signed && v < 0)) this.fail(name, `must be ${signed ? "an" : "a non-negative"} integer, got ${v}`);
    return v;
  }

  ints(name: string, signed = false): number[] {
    return this.all(name).map((v) => {
      if (typeof v !== "number" || !Number.isSafeInteger(v) || (!signed && v < 0)) {
        this.fail(name, `must be ${signed ? "" : "non-negative "}integers, got ${show(v)}`);
      }
      return v;
    });
  }

  nums(name: string): number[] {
    return this.all(name).map((v) => {
      if (typeof v !== "number") this.fail(name, `must be numbers, got ${show(v)}`);
      return v;
    });
  }

  str(name: string, def?: string): string {
    const v = this.last(name);
    if (v === undefined) return this.required(name, def);
    if (typeof v !== "string") this.fail(name, `must be a string, got ${show(v)}`);
    return v;
  }

  bool(name: string, def: boolean): boolean {
    const v = this.last(name);
    if (v === undefined) return def;
    if (v === "true" || v === "True" || v === "t" || v === 1) return true;
    if (v === "false" || v === "False" || v === "f" || v === 0) return false;
    this.fail(name, `must be true or false, got ${show(v)}`);
  }

  /** An enum given by name or number; returns the name. */
  enumName(name: string, values: readonly string[], def: string): string {
    const v = this.last(name);
    if (v === undefined) return def;
    if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v < values.length && values[v] !== "") return values[v];
    if (typeof v === "string" && values.includes(v)) return v;
    this.fail(name, `must be one of ${values.filter((x) => x !== "").join(", ")}, got ${show(v)}`);
  }

  /** Throws the one-line error for this layer. */
  fail(field: string, problem: string): never {
    const where = positionOf(this.msg);
    const at = where ? ` (line ${where.line})` : "";
    throw new ConvscopeError(`${this.join(field)} ${problem}${at}`, { layer: this.layer });
  }

  private last(name: string): PbValue | undefined {
    const list = this.msg[name];
    return list && list.length > 0 ? list[list.length - 1] : undefined;
  }

  private required<T>(name: string, def: T | undefined): T {
    if (def === undefined) this.fail(name, "is required");
    return def;
  }

  private join(name: string): string {
    return this.path ? `${this.path}.${name}` : name;
  }
}

function show(v: PbValue): string {
  return typeof v === "object" ? "a message" : JSON.stringify(v);
}
