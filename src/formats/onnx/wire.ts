import { ConvscopeError } from "../../core/errors.js";
import { SharedLists } from "../../core/lists.js";
import type { ByteSource } from "../source.js";

/**
 * The protobuf wire format, walked lazily over a ByteSource.
 *
 * Hand-written rather than protobufjs or onnx-proto: those decode a whole message into
 * memory, so a 550 MB model with inline weights would be read and copied in full. The
 * product's edge is never touching the weights: this walker reads field headers and
 * seeks past every tensor payload, so the bytes it asks for follow the graph's size, not
 * the weights'. Every loop advances through a bounded byte range and every length is
 * checked against its enclosing message before anything is read or allocated, so
 * corrupt input ends in a one-line error naming the byte offset, never a hang or an OOM.
 */

export const VARINT = 0;
export const I64 = 1;
export const LEN = 2;
export const I32 = 5;

/**
 * How far past a position a read may reach when the bytes are not in the window yet:
 * `EXACT` asks for the fewest bytes (inside a tensor, where a payload may start soon,
 * see Msg.fence); `PEEK` asks for a field header's worth (tag and length), which in any real
 * file ends before the first payload byte of the next tensor.
 */
export const EXACT = 1;
export const PEEK = 12;

/** Error at a byte offset of the model file. */
export function wireError(at: number, what: string): ConvscopeError {
  return new ConvscopeError(`byte ${at}: ${what}`);
}

const TEXT = new TextDecoder("utf-8");

/**
 * UTF-8 text of b[a, e), printable: control characters — never in a real model's names
 * or string attributes — become U+FFFD, so every message quoting the text stays on one line.
 */
function utf8(b: Uint8Array, a: number, e: number): string {
  let ascii = e - a <= 256;
  let control = false;
  if (ascii && !CODES[e - a]) CODES[e - a] = new Array<number>(e - a);
  const codes = ascii ? CODES[e - a] : [];
  for (let i = a; ascii && i < e; i++) {
    const x = b[i];
    if (x >= 0x80) ascii = false;
    else if (x < 0x20 || x === 0x7f) control = true;
    codes[i - a] = x;
  }
  // One flat string from the codes (appending char by char makes a rope that every later
  // Map lookup must flatten; the decoder's call costs more than this for short names).
  const s = ascii ? String.fromCharCode.apply(null, codes) : TEXT.decode(b.subarray(a, e));
  // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing them is the point
  return control || !ascii ? s.replace(/[\u0000-\u001f\u007f]/g, "\ufffd") : s;
}

/** Scratch arrays of char codes for `utf8`, one per length (resizing an array costs more than the decoding). */
const CODES: number[][] = [];

/**
 * The bytes of the file seen through one window: the last range fetched from the source.
 * Readers never touch the source directly, so every byte requested is a byte this
 * walker decided it needs.
 */
export class Cursor {
  /** The window's bytes and the file offset of its first (read by Msg's fast path; changed only by `load` and `byteAt`). */
  win: Uint8Array = new Uint8Array(0);
  winStart = 0;
  /** Words met so far (see `word`), by a hash of their bytes. */
  private readonly words = new Map<number, string>();
  /** Integer lists of attributes, one per distinct list (a graph's convs share a few pads and strides). */
  readonly lists = new SharedLists();
  readonly size: number;

  constructor(readonly src: ByteSource) {
    this.size = src.size;
  }

  /** The byte at `p`; when outside the window, fetches [p, fence) (fence > p, ≤ the message end). */
  byteAt(p: number, fence: number): number {
    const i = p - this.winStart;
    if (i >= 0 && i < this.win.length) return this.win[i];
    this.load(p, fence > p ? fence : p + 1);
    return this.win[0];
  }

  /** Makes [a, b) the window (one request), unless the window already holds it. */
  load(a: number, b: number): void {
    if (a >= this.winStart && b <= this.winStart + this.win.length) return;
    const w = this.src.span ? this.src.span(a, b - a) : this.src.read(a, b - a);
    if (w.length < b - a) throw wireError(a + w.length, `the file ends early (it has ${this.size} bytes)`);
    this.win = w;
    this.winStart = a;
  }

  /** Printable text of bytes [a, b) (see `utf8`), decoded straight from the window when it holds them. */
  text(a: number, b: number): string {
    if (a >= this.winStart && b <= this.winStart + this.win.length) return utf8(this.win, a - this.winStart, b - this.winStart);
    return utf8(this.bytes(a, b), 0, b - a);
  }

  /**
   * A word of the file's small vocabulary (op types, domains, attribute names): one string
   * per spelling, found by a hash of its bytes before any string is made. Later maps and
   * objects keyed by it (the op rules, a node's attributes) then meet the same string,
   * already hashed and internalized, instead of 100,000 fresh copies of "Conv".
   */
  word(a: number, b: number): string {
    const n = b - a;
    if (n > 64 || a < this.winStart || b > this.winStart + this.win.length) return this.text(a, b);
    const w = this.win;
    const o = a - this.winStart;
    let h = n;
    for (let i = 0; i < n; i++) h = Math.imul(h ^ w[o + i], 16777619);
    const hit = this.words.get(h);
    if (hit !== undefined && hit.length === n) {
      let i = 0;
      while (i < n && hit.charCodeAt(i) === w[o + i]) i++;
      if (i === n) return hit;
    }
    const s = this.text(a, b);
    this.words.set(h, s);
    return s;
  }

  /** Bytes [a, b): from the window when it holds them, else exactly that range from the source. */
  bytes(a: number, b: number): Uint8Array {
    if (a >= this.winStart && b <= this.winStart + this.win.length) return this.win.subarray(a - this.winStart, b - this.winStart);
    const w = this.src.read(a, b - a);
    if (w.length < b - a) throw wireError(a + w.length, `the file ends early (it has ${this.size} bytes)`);
    return w;
  }
}

const TWO32 = 4294967296;

/**
 * One message's fields, iterated in place: `next()` steps to the following field and sets
 * `field`, `wire`, and either `value` (varint, signed 64-bit as a number; beyond 2^53 it is
 * not a safe integer and callers that need exactness check) or `start`/`end` (a
 * length-delimited, fixed32 or fixed64 body). Nothing of a body is read until asked.
 */
export class Msg {
  field = 0;
  wire = 0;
  value = 0;
  start = 0;
  end = 0;
  /** Offset of the current field's tag, for error messages. */
  at = 0;
  private pos: number;

  constructor(
    readonly c: Cursor,
    readonly begin: number,
    readonly limit: number,
    /** The message type, for error messages (`NodeProto`). */
    readonly type: string,
    /** Read reach, EXACT or PEEK (see above). */
    readonly reach: number,
  ) {
    this.pos = begin;
  }

  /** The top-level message: the whole file. */
  static file(c: Cursor, type: string): Msg {
    return new Msg(c, 0, c.size, type, PEEK);
  }

  next(): boolean {
    if (this.pos >= this.limit) return false;
    this.at = this.pos;
    const tag = this.varint();
    const field = Math.floor(tag / 8);
    const wire = tag - field * 8;
    if (field <= 0 || !Number.isSafeInteger(tag)) throw this.error(this.at, `invalid field tag ${tag}`);
    this.field = field;
    this.wire = wire;
    switch (wire) {
      case VARINT:
        this.value = this.varint();
        break;
      case I64:
        this.fixed(8);
        break;
      case I32:
        this.fixed(4);
        break;
      case LEN: {
        const lenAt = this.pos;
        const n = this.varint(true);
        if (n < 0 || n > this.limit - this.pos) {
          throw this.error(lenAt, `field ${field} claims ${n} bytes, past the end of its message (${this.limit - this.pos} left)`);
        }
        this.start = this.pos;
        this.end = this.pos + n;
        this.pos = this.end;
        break;
      }
      default:
        throw this.error(this.at, `field ${field} has wire type ${wire}, which ONNX files never use`);
    }
    return true;
  }

  /** Offset just past the current field. */
  get after(): number {
    return this.pos;
  }

  /** Fails unless the current field has the wire type the schema gives it. */
  expect(wire: number, name: string): void {
    if (this.wire !== wire) throw this.error(this.at, `field ${this.field} (${name}) has wire type ${this.wire}, expected ${wire}`);
  }

  /** The current length-delimited field's body as bytes. */
  bytes(): Uint8Array {
    return this.c.bytes(this.start, this.end);
  }

  /**
   * The current field as a name or a word (tensor, node, op, attribute names; string
   * attributes like `auto_pad`): control characters become U+FFFD, so errors quoting it
   * stay on one line.
   */
  name(what: string): string {
    this.expect(LEN, what);
    return this.c.text(this.start, this.end);
  }

  /** The current field as a word of the file's vocabulary (see Cursor.word). */
  word(what: string): string {
    this.expect(LEN, what);
    return this.c.word(this.start, this.end);
  }

  /** The current field as an integer (a varint). */
  int(name: string): number {
    this.expect(VARINT, name);
    return this.value;
  }

  /**
   * The current length-delimited field as a sub-message. `whole`: fetch it in one request
   * (plus a header's worth of what follows), for messages that hold no tensor payloads.
   */
  sub(type: string, reach: number, whole = false): Msg {
    this.expect(LEN, type);
    if (whole) this.c.load(this.start, Math.min(this.end + PEEK, this.limit));
    return new Msg(this.c, this.start, this.end, type, reach);
  }

  /** The current fixed32 body as a float (a FLOAT attribute). */
  float32(name: string): number {
    this.expect(I32, name);
    const b = this.c.bytes(this.start, this.end);
    return new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, true);
  }

  /** Integers of a repeated varint field, packed (one LEN body) or not (one per field). */
  ints(name: string, out: number[]): void {
    if (this.wire === VARINT) {
      out.push(this.value);
      return;
    }
    this.expect(LEN, name);
    this.c.load(this.start, this.end);
    new Msg(this.c, this.start, this.end, this.type, this.reach).varints(out);
  }

  /** Every varint from the current position to the end of the message (a packed body). */
  varints(out: number[]): void {
    while (this.pos < this.limit) out.push(this.varint());
  }

  /** Floats of a repeated fixed32 field, packed or not. */
  floats(name: string, out: number[]): void {
    if (this.wire !== I32) this.expect(LEN, name);
    const b = this.c.bytes(this.start, this.end);
    if (b.length % 4 !== 0) throw this.error(this.start, `${name} holds ${b.length} bytes, not a whole number of floats`);
    const v = new DataView(b.buffer, b.byteOffset, b.length);
    for (let i = 0; i < b.length; i += 4) out.push(v.getFloat32(i, true));
  }

  error(at: number, what: string): ConvscopeError {
    return wireError(at, `${what} (in ${this.type})`);
  }

  private fixed(n: number): void {
    if (this.limit - this.pos < n) throw this.error(this.pos, `a ${n}-byte number runs past the end of its message`);
    this.start = this.pos;
    this.end = this.pos + n;
    this.pos += n;
  }

  /**
   * How far a fetch at `p` may reach. EXACT still takes 2 bytes at once — a payload starts
   * at least a tag and a length byte after any position — except inside a length, whose
   * last byte may sit right before the payload.
   */
  private fence(p: number, length: boolean): number {
    const reach = this.reach === EXACT ? (length ? 1 : 2) : this.reach;
    return Math.min(p + reach, this.limit);
  }

  /** A varint at the current position, as a signed 64-bit number (exact up to 2^53). */
  private varint(length = false): number {
    let p = this.pos;
    // The common case first: a varint of one to three bytes (under 2^21: every tag and
    // nearly every length, dim and enum of a real file) already in the window, read from it
    // directly. Anything else (longer, at the window's edge or the message's end, negative)
    // takes the general loop below, which gives the same value or the same error.
    const w = this.c.win;
    const o = p - this.c.winStart;
    const avail = Math.min(w.length, this.limit - this.c.winStart);
    if (o >= 0 && o < avail) {
      const b0 = w[o];
      if (b0 < 0x80) {
        this.pos = p + 1;
        return b0;
      }
      if (o + 1 < avail) {
        const b1 = w[o + 1];
        if (b1 < 0x80) {
          this.pos = p + 2;
          return (b0 & 0x7f) | (b1 << 7);
        }
        if (o + 2 < avail && w[o + 2] < 0x80) {
          this.pos = p + 3;
          return (b0 & 0x7f) | ((b1 & 0x7f) << 7) | (w[o + 2] << 14);
        }
      }
    }
    if (p >= this.limit) throw this.error(p, "a number runs past the end of its message");
    let b = this.c.byteAt(p, this.fence(p, length));
    p++;
    if (b < 0x80) {
      this.pos = p;
      return b;
    }
    // Little-endian base-128 into two 32-bit halves, as protobuf's own decoders do.
    let lo = b & 0x7f;
    let hi = 0;
    let i = 1;
    for (; ; i++) {
      if (p >= this.limit) throw this.error(p, "a number runs past the end of its message");
      if (i >= 10) throw this.error(this.pos, "a number is longer than 10 bytes");
      b = this.c.byteAt(p, this.fence(p, length));
      p++;
      const bits = b & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= bits << 28;
        hi = bits >>> 4;
      } else hi |= bits << (7 * i - 32);
      if (b < 0x80) break;
    }
    this.pos = p;
    lo >>>= 0;
    hi >>>= 0;
    if (hi >>> 31) {
      // Two's complement: a negative int64 (ONNX's -1 axes and dims).
      const nlo = (~lo + 1) >>> 0;
      let nhi = ~hi >>> 0;
      if (nlo === 0) nhi = (nhi + 1) >>> 0;
      return -(nhi * TWO32 + nlo);
    }
    return hi * TWO32 + lo;
  }
}
