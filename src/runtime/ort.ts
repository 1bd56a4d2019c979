import { ConvscopeError } from "../core/errors.js";

/**
 * onnxruntime is optional: only `measure` and `verify-rf` load it, here, by dynamic import,
 * so the analysis, the CLI's other commands and the page never need its ~290 MB. Types are
 * declared locally (the few calls used) so type-checking does not need it either.
 */

export interface OrtTensor {
  dims: readonly number[];
  data: Float32Array | unknown;
}

export interface OrtSession {
  inputNames: readonly string[];
  outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  endProfiling(): void;
  release(): Promise<void>;
}

export interface OrtSessionOptions {
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  graphOptimizationLevel?: "disabled" | "basic" | "extended" | "layout" | "all";
  enableProfiling?: boolean;
  profileFilePrefix?: string;
  optimizedModelFilePath?: string;
  executionMode?: "sequential" | "parallel";
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
}

export interface Ort {
  InferenceSession: { create(model: Uint8Array, options?: OrtSessionOptions): Promise<OrtSession> };
  Tensor: new (type: "float32", data: Float32Array, dims: readonly number[]) => OrtTensor;
  env: { versions?: { common?: string } };
}

export const INSTALL_HINT = "npm install onnxruntime-node (set ONNXRUNTIME_NODE_INSTALL=skip to skip its GPU download)";

let cached: Ort | undefined;

/** The onnxruntime-node module, or a one-line ConvscopeError saying how to install it. */
export async function loadOrt(name = "onnxruntime-node"): Promise<Ort> {
  if (cached && name === "onnxruntime-node") return cached;
  try {
    // The installed command is a CommonJS bundle run through vm.Script (bin/convscope.cjs),
    // where import() has no loader: there, `require` (onnxruntime-node is CommonJS).
    const m = (typeof require === "function" ? require(name) : await import(name)) as { default?: Ort } & Ort;
    const ort = (m.InferenceSession ? m : m.default) as Ort;
    if (name === "onnxruntime-node") cached = ort;
    return ort;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException)?.code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND")
      throw new ConvscopeError(`this command runs the model in onnxruntime, which is not installed: ${INSTALL_HINT}`);
    throw new ConvscopeError(`onnxruntime-node failed to load: ${(e as Error).message.split("\n")[0]}`);
  }
}

/** Creates a session, turning onnxruntime's multi-line errors into one ConvscopeError line. */
export async function createSession(ort: Ort, model: Uint8Array, options: OrtSessionOptions, file?: string): Promise<OrtSession> {
  try {
    return await ort.InferenceSession.create(model, { logSeverityLevel: 3, ...options });
  } catch (e) {
    throw new ConvscopeError(`onnxruntime cannot load the model: ${oneLine(e)}`, { file });
  }
}

export async function runSession(s: OrtSession, feeds: Record<string, OrtTensor>, file?: string): Promise<Record<string, OrtTensor>> {
  try {
    return await s.run(feeds);
  } catch (e) {
    throw new ConvscopeError(`onnxruntime failed to run the model: ${oneLine(e)}`, { file });
  }
}

function oneLine(e: unknown): string {
  return String((e as Error)?.message ?? e)
    .replace(/\s+/g, " ")
    .slice(0, 400);
}
