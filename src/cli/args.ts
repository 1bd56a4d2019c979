import { ConvscopeError } from "../core/errors.js";
import { parseShape, type Shape } from "../core/shape.js";

/** What the commands (analysis, compare, serve, the runtime commands) share: their flags, checked the same way, and how they fail. */

/** `--input NAME=SHAPE` flags as input name → shape. */
export function parseInputs(specs: string[]): Record<string, Shape> {
  const inputs: Record<string, Shape> = {};
  for (const s of specs) {
    const eq = s.lastIndexOf("=");
    if (eq <= 0) throw new ConvscopeError(`--input takes NAME=SHAPE (e.g. data=1x3x224x224), got '${s}'`);
    inputs[s.slice(0, eq)] = parseShape(s.slice(eq + 1));
  }
  return inputs;
}

/** A flag's value from a fixed list, or a one-line error naming the choices. */
export function oneOf<T extends string>(flag: string, value: string, known: readonly T[]): T {
  if (!(known as readonly string[]).includes(value)) throw new ConvscopeError(`${flag} takes one of ${known.join(", ")}, got '${value}'`);
  return value as T;
}

export function positiveInt(flag: string, s: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n <= 0) throw new ConvscopeError(`${flag} takes a positive integer, got '${s}'`);
  return n;
}

/**
 * A command's flags through its `parse` (node's parseArgs); an unknown or malformed flag
 * becomes the one-line error, saying where the help is (`--help`, `convscope serve --help`).
 */
export function parseFlags<T>(parse: (argv: string[]) => T, argv: string[], help = "--help", prefix = ""): T {
  try {
    return parse(argv);
  } catch (e) {
    throw new ConvscopeError(`${prefix}${(e as Error).message} (see ${help})`);
  }
}

/**
 * A command's failure as its exit code, written as one line: 2 for bad input (a
 * ConvscopeError, naming the file, layer and problem), 1 for anything else — a convscope
 * bug, still one line, never a stack trace unless CONVSCOPE_DEBUG asks for it.
 */
export function failure(e: unknown, err: (s: string) => void): number {
  if (e instanceof ConvscopeError) {
    err(`convscope: ${e.oneLine()}\n`);
    return 2;
  }
  err(`convscope: internal error: ${(e as Error)?.message ?? String(e)}\n`);
  if (process.env.CONVSCOPE_DEBUG) err(`${(e as Error)?.stack}\n`);
  return 1;
}
