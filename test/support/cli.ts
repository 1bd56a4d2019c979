import { main } from "../../src/cli/main.js";

/** Runs the CLI in-process and collects its exit code, stdout and stderr. */
export function cli(...args: string[]): { code: number; out: string; err: string } {
  let out = "";
  let err = "";
  const code = main(
    args,
    (s) => {
      out += s;
    },
    (s) => {
      err += s;
    },
  );
  return { code, out, err };
}
