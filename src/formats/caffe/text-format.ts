import { ConvscopeError } from "../../core/errors.js";

/**
 * A generic protobuf *text format* parser (the syntax of Caffe's .prototxt). It knows no
 * schema, so every field maps to an array of its occurrences (a repeated field and an
 * optional one look alike in text); callers pick the last occurrence of a singular field,
 * as protobuf does. Scalars are numbers or strings: quoted strings and bare identifiers
 * (enum values, `true`) are both strings, since a schema-less reader cannot tell them apart
 * and Caffe never needs to.
 */
export type PbValue = number | string | PbMessage;
export interface PbMessage {
  [field: string]: PbValue[];
}

/** Where a message starts in the text (1-based), for error messages. */
export interface PbPos {
  line: number;
  column: number;
}

const positions = new WeakMap<PbMessage, PbPos>();

/** The position of a parsed message's opening brace (the document itself is at 1:1). */
export function positionOf(m: PbMessage): PbPos | undefined {
  return positions.get(m);
}

type TokKind = "ident" | "number" | "string" | "punct" | "eof";
interface Token {
  kind: TokKind;
  text: string;
  /** Decoded value of a string or number token. */
  value?: string | number;
  line: number;
  column: number;
}

/** Deepest nesting accepted; real nets nest 4–5 levels, this only stops runaway input. */
const MAX_DEPTH = 64;

/** Parses text-format protobuf into plain objects; errors give file, line and column. */
export function parseTextFormat(text: string, file?: string): PbMessage {
  return new Parser(text, file).document();
}

class Parser {
  private pos = 0;
  private line = 1;
  private col = 1;
  private tok: Token;

  constructor(
    private readonly text: string,
    private readonly file: string | undefined,
  ) {
    this.tok = this.lex();
  }

  document(): PbMessage {
    const m = this.newMessage({ line: 1, column: 1 });
    this.fields(m, undefined, 0);
    return m;
  }

  private newMessage(at: PbPos): PbMessage {
    const m = Object.create(null) as PbMessage;
    positions.set(m, at);
    return m;
  }

  /** Fields until `close` (or the end of the text for the document). */
  private fields(m: PbMessage, open: { token: Token; close: string } | undefined, depth: number): void {
    for (;;) {
      const t = this.tok;
      if (t.kind === "eof") {
        if (open) this.fail(t, `'${open.token.text}' opened at line ${open.token.line}, column ${open.token.column} is never closed`);
        return;
      }
      if (t.kind === "punct" && open && t.text === open.close) {
        this.next();
        return;
      }
      const name = this.fieldName();
      let value: PbValue[];
      if (this.isPunct(":")) {
        this.next();
        value = this.isPunct("[") ? this.list(depth) : [this.value(depth)];
      } else if (this.isPunct("{") || this.isPunct("<")) {
        value = [this.block(depth)];
      } else {
        this.fail(this.tok, `expected ':' or '{' after field '${name}', found ${describe(this.tok)}`);
      }
      const list = m[name] ?? [];
      list.push(...value);
      m[name] = list;
      if (this.isPunct(",") || this.isPunct(";")) this.next();
    }
  }

  private fieldName(): string {
    const t = this.tok;
    if (t.kind === "ident") {
      this.next();
      return t.text;
    }
    if (t.kind === "punct" && t.text === "[") {
      // Extension or Any type URL: [pkg.ext] or [type.googleapis.com/pkg.Msg].
      this.next();
      let name = "";
      while (!this.isPunct("]")) {
        const p = this.tok;
        if (p.kind !== "ident" && !(p.kind === "punct" && (p.text === "/" || p.text === "."))) {
          this.fail(p, `expected an extension name, found ${describe(p)}`);
        }
        name += p.text;
        this.next();
      }
      this.next();
      return `[${name}]`;
    }
    this.fail(t, `expected a field name, found ${describe(t)}`);
  }

  private block(depth: number): PbMessage {
    const open = this.tok;
    if (depth >= MAX_DEPTH) this.fail(open, `messages nested more than ${MAX_DEPTH} deep`);
    this.next();
    const m = this.newMessage({ line: open.line, column: open.column });
    this.fields(m, { token: open, close: open.text === "<" ? ">" : "}" }, depth + 1);
    return m;
  }

  /** `[a, b, c]` — the short form of a repeated field. */
  private list(depth: number): PbValue[] {
    const open = this.tok;
    this.next();
    const out: PbValue[] = [];
    if (this.isPunct("]")) {
      this.next();
      return out;
    }
    for (;;) {
      if (this.tok.kind === "eof") this.fail(this.tok, `'[' opened at line ${open.line}, column ${open.column} is never closed`);
      out.push(this.value(depth));
      if (this.isPunct(",")) {
        this.next();
        continue;
      }
      if (this.isPunct("]")) {
        this.next();
        return out;
      }
      this.fail(this.tok, `expected ',' or ']' in a list, found ${describe(this.tok)}`);
    }
  }

  private value(depth: number): PbValue {
    const t = this.tok;
    if (t.kind === "punct" && (t.text === "{" || t.text === "<")) return this.block(depth);
    if (t.kind === "string") {
      // Adjacent strings concatenate, as in C.
      let s = t.value as string;
      this.next();
      while (this.tok.kind === "string") {
        s += this.tok.value as string;
        this.next();
      }
      return s;
    }
    if (t.kind === "number") {
      this.next();
      return t.value as number;
    }
    if (t.kind === "punct" && t.text === "-") {
      this.next();
      const n = this.tok;
      if (n.kind === "number") {
        this.next();
        return -(n.value as number);
      }
      if (n.kind === "ident" && /^(inf|infinity|nan)$/i.test(n.text)) {
        this.next();
        return /^nan$/i.test(n.text) ? Number.NaN : Number.NEGATIVE_INFINITY;
      }
      this.fail(n, `expected a number after '-', found ${describe(n)}`);
    }
    if (t.kind === "ident") {
      this.next();
      if (/^(inf|infinity)f?$/i.test(t.text)) return Number.POSITIVE_INFINITY;
      if (/^nanf?$/i.test(t.text)) return Number.NaN;
      return t.text;
    }
    this.fail(t, `expected a value, found ${describe(t)}`);
  }

  private isPunct(p: string): boolean {
    return this.tok.kind === "punct" && this.tok.text === p;
  }

  private next(): void {
    this.tok = this.lex();
  }

  private fail(at: { line: number; column: number }, message: string): never {
    throw new ConvscopeError(`line ${at.line}, column ${at.column}: ${message}`, { file: this.file });
  }

  // ---- lexer ----

  private advance(n: number): void {
    for (let i = 0; i < n; i++) {
      if (this.text.charCodeAt(this.pos) === 10) {
        this.line++;
        this.col = 1;
      } else this.col++;
      this.pos++;
    }
  }

  private lex(): Token {
    const s = this.text;
    for (;;) {
      const c = s[this.pos];
      if (c === undefined) return { kind: "eof", text: "", line: this.line, column: this.col };
      if (c === "#") {
        while (this.pos < s.length && s[this.pos] !== "\n") this.advance(1);
      } else if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v" || c === "\uFEFF") {
        this.advance(1);
      } else break;
    }
    const line = this.line;
    const column = this.col;
    const rest = s.slice(this.pos, this.pos + 256);
    const c = s[this.pos];
    const num = /^(0[xX][0-9a-fA-F]+|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[fF]?)/.exec(rest);
    if (num && /[\d.]/.test(c)) {
      const text = num[0];
      const after = rest[text.length];
      if (after !== undefined && /[A-Za-z_]/.test(after)) {
        this.fail({ line, column }, `malformed number '${text}${after}'`);
      }
      this.advance(text.length);
      const value = /^0[xX]/.test(text) ? Number.parseInt(text, 16) : Number.parseFloat(text.replace(/[fF]$/, ""));
      return { kind: "number", text, value, line, column };
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (id) {
      this.advance(id[0].length);
      return { kind: "ident", text: id[0], line, column };
    }
    if (c === '"' || c === "'") return this.string(c, line, column);
    if ("{}<>:,;[]-/.".includes(c)) {
      this.advance(1);
      return { kind: "punct", text: c, line, column };
    }
    this.fail({ line, column }, `unexpected character ${JSON.stringify(c)}`);
  }

  private string(quote: string, line: number, column: number): Token {
    const s = this.text;
    this.advance(1);
    let out = "";
    for (;;) {
      const c = s[this.pos];
      if (c === undefined || c === "\n") this.fail({ line, column }, "unterminated string");
      if (c === quote) {
        this.advance(1);
        return { kind: "string", text: `${quote}${out}${quote}`, value: out, line, column };
      }
      if (c !== "\\") {
        out += c;
        this.advance(1);
        continue;
      }
      const e = s[this.pos + 1];
      const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", a: "\x07", b: "\b", f: "\f", v: "\v" };
      if (e !== undefined && e in simple) {
        out += simple[e];
        this.advance(2);
      } else if (e === "\\" || e === "'" || e === '"' || e === "?") {
        out += e;
        this.advance(2);
      } else if (e !== undefined && /[0-7]/.test(e)) {
        const oct = /^[0-7]{1,3}/.exec(s.slice(this.pos + 1, this.pos + 4))![0];
        out += String.fromCharCode(Number.parseInt(oct, 8));
        this.advance(1 + oct.length);
      } else if (e === "x" || e === "X") {
        const hex = /^[0-9a-fA-F]{1,2}/.exec(s.slice(this.pos + 2, this.pos + 4));
        if (!hex) this.fail({ line: this.line, column: this.col }, "bad \\x escape in string");
        out += String.fromCharCode(Number.parseInt(hex[0], 16));
        this.advance(2 + hex[0].length);
      } else if (e === "u") {
        const hex = /^[0-9a-fA-F]{4}/.exec(s.slice(this.pos + 2, this.pos + 6));
        if (!hex) this.fail({ line: this.line, column: this.col }, "bad \\u escape in string");
        out += String.fromCharCode(Number.parseInt(hex[0], 16));
        this.advance(6);
      } else {
        this.fail({ line: this.line, column: this.col }, `unknown escape '\\${e ?? ""}' in string`);
      }
    }
  }
}

function describe(t: Token): string {
  if (t.kind === "eof") return "the end of the file";
  return `'${t.text}'`;
}
