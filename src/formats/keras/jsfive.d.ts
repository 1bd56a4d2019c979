/** The part of jsfive's API the Keras HDF5 reader uses (the package ships no types). */
declare module "jsfive" {
  export class File {
    constructor(buffer: ArrayBuffer, filename?: string);
    readonly attrs: Record<string, unknown>;
    keys: string[];
  }
}
