/**
 * Random access to a model file's bytes. Readers pull only the ranges they parse, so a
 * 500 MB weights section is skipped, never loaded: in Node the bytes come from a file
 * descriptor (cli/node-source.ts), in the browser from an ArrayBuffer already in memory.
 */
export interface ByteSource {
  /** Path or file name, for error messages. */
  name: string;
  size: number;
  /** Bytes [offset, offset + length); may return fewer at the end of the file. */
  read(offset: number, length: number): Uint8Array;
  /** Another file next to this one (ONNX external data), or undefined when absent or not reachable. */
  sibling?(relativePath: string): ByteSource | undefined;
}

export function bufferSource(name: string, bytes: Uint8Array): ByteSource {
  return {
    name,
    size: bytes.length,
    read: (offset, length) => bytes.subarray(offset, Math.min(offset + length, bytes.length)),
  };
}

/** The whole content as text (for the text formats: JSON, prototxt). */
export function readText(src: ByteSource): string {
  return new TextDecoder("utf-8").decode(src.read(0, src.size));
}
