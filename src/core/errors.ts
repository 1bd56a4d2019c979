/**
 * The one error type convscope throws for bad input. It carries where the problem
 * is (file, layer or byte offset) so front ends can print a single line.
 */
export class ConvscopeError extends Error {
  readonly file?: string;
  readonly layer?: string;
  constructor(message: string, where: { file?: string; layer?: string } = {}) {
    super(message);
    this.name = "ConvscopeError";
    this.file = where.file;
    this.layer = where.layer;
  }

  /** `file: layer 'x': problem` — the one line the CLI prints. */
  oneLine(): string {
    const parts: string[] = [];
    if (this.file) parts.push(this.file);
    if (this.layer) parts.push(`layer '${this.layer}'`);
    parts.push(this.message);
    // Names and strings from a damaged file may hold line breaks or control characters:
    // escape them so the message stays one printable line.
    let line = "";
    for (const ch of parts.join(": ")) {
      const code = ch.charCodeAt(0);
      line += ch === "\n" ? "\\n" : code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, "0")}` : ch;
    }
    return line;
  }
}

/** Throws a ConvscopeError naming the layer. */
export function fail(message: string, layer?: string): never {
  throw new ConvscopeError(message, { layer });
}
