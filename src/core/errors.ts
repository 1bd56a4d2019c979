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
    return parts.join(": ");
  }
}

/** Throws a ConvscopeError naming the layer. */
export function fail(message: string, layer?: string): never {
  throw new ConvscopeError(message, { layer });
}
