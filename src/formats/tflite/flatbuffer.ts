import { ByteBuffer } from "flatbuffers";
import { ConvscopeError } from "../../core/errors.js";

/**
 * Bounds-checked access to FlatBuffer tables on top of the `flatbuffers` runtime's
 * ByteBuffer. The generated accessors trust every offset; a truncated or corrupt
 * .tflite would then read zeros or loop over a billion-element "vector". Here every
 * offset and vector length is checked against the file size first, and a bad one is a
 * one-line error naming the byte offset.
 */
export class FlatFile {
  readonly bb: ByteBuffer;
  readonly size: number;

  constructor(bytes: Uint8Array) {
    this.bb = new ByteBuffer(bytes);
    this.size = bytes.length;
  }

  /** Throws unless [pos, pos + length) lies inside the file. */
  check(pos: number, length: number, what: string): void {
    if (!Number.isSafeInteger(pos) || pos < 0 || length < 0 || pos + length > this.size) {
      throw new ConvscopeError(
        `corrupt flatbuffer: ${what} at byte offset ${pos} (${length} bytes) lies outside the ${this.size}-byte file`,
      );
    }
  }

  /** The root table (its offset is the first 4 bytes). */
  root(what: string): Table {
    this.check(0, 8, "root offset");
    return this.table(this.bb.readUint32(0), what);
  }

  table(pos: number, what: string): Table {
    this.check(pos, 4, what);
    const vtable = pos - this.bb.readInt32(pos);
    this.check(vtable, 4, `${what} vtable`);
    const vsize = this.bb.readUint16(vtable);
    this.check(vtable, vsize, `${what} vtable`);
    return new Table(this, pos, vtable, vsize, what);
  }
}

/** One FlatBuffer table; fields are addressed by their id in the schema (declaration order). */
export class Table {
  constructor(
    private readonly f: FlatFile,
    readonly pos: number,
    private readonly vtable: number,
    private readonly vsize: number,
    readonly what: string,
  ) {}

  /** Absolute position of field `id`, or 0 when absent. */
  private at(id: number, size: number, name: string): number {
    const entry = 4 + 2 * id;
    if (entry + 2 > this.vsize) return 0;
    const off = this.f.bb.readUint16(this.vtable + entry);
    if (off === 0) return 0;
    this.f.check(this.pos + off, size, `${this.what}.${name}`);
    return this.pos + off;
  }

  int8(id: number, name: string, def = 0): number {
    const p = this.at(id, 1, name);
    return p ? this.f.bb.readInt8(p) : def;
  }

  uint8(id: number, name: string, def = 0): number {
    const p = this.at(id, 1, name);
    return p ? this.f.bb.readUint8(p) : def;
  }

  bool(id: number, name: string, def = false): boolean {
    const p = this.at(id, 1, name);
    return p ? this.f.bb.readUint8(p) !== 0 : def;
  }

  int32(id: number, name: string, def = 0): number {
    const p = this.at(id, 4, name);
    return p ? this.f.bb.readInt32(p) : def;
  }

  uint32(id: number, name: string, def = 0): number {
    const p = this.at(id, 4, name);
    return p ? this.f.bb.readUint32(p) : def;
  }

  float32(id: number, name: string, def = 0): number {
    const p = this.at(id, 4, name);
    return p ? this.f.bb.readFloat32(p) : def;
  }

  /** A 64-bit field as a number (offsets and sizes; past 2^53 is an error). */
  uint64(id: number, name: string): number {
    const p = this.at(id, 8, name);
    if (!p) return 0;
    const v = this.f.bb.readUint64(p);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ConvscopeError(`${this.what}.${name} = ${v} is too large`);
    return Number(v);
  }

  table(id: number, name: string): Table | undefined {
    const p = this.at(id, 4, name);
    return p ? this.f.table(p + this.f.bb.readUint32(p), `${this.what}.${name}`) : undefined;
  }

  /** A vector field's element start and length, checked to fit the file. */
  vector(id: number, name: string, elemSize: number): { start: number; length: number } | undefined {
    const p = this.at(id, 4, name);
    if (!p) return undefined;
    const vec = p + this.f.bb.readUint32(p);
    this.f.check(vec, 4, `${this.what}.${name} length`);
    const length = this.f.bb.readUint32(vec);
    this.f.check(vec + 4, length * elemSize, `${this.what}.${name} (${length} elements)`);
    return { start: vec + 4, length };
  }

  int32s(id: number, name: string): number[] | undefined {
    const v = this.vector(id, name, 4);
    if (!v) return undefined;
    return Array.from({ length: v.length }, (_, i) => this.f.bb.readInt32(v.start + 4 * i));
  }

  float32s(id: number, name: string): number[] {
    const v = this.vector(id, name, 4);
    if (!v) return [];
    return Array.from({ length: v.length }, (_, i) => this.f.bb.readFloat32(v.start + 4 * i));
  }

  tables(id: number, name: string): Table[] {
    const v = this.vector(id, name, 4);
    if (!v) return [];
    return Array.from({ length: v.length }, (_, i) => {
      const p = v.start + 4 * i;
      return this.f.table(p + this.f.bb.readUint32(p), `${this.what}.${name}[${i}]`);
    });
  }

  string(id: number, name: string): string | undefined {
    const v = this.vector(id, name, 1);
    if (!v) return undefined;
    return new TextDecoder().decode(this.f.bb.bytes().subarray(v.start, v.start + v.length));
  }
}
