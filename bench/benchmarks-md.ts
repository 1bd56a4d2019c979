import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, freemem, loadavg, totalmem } from "node:os";

/** BENCHMARKS.md, at the repository root. */
const PATH = new URL("../BENCHMARKS.md", import.meta.url);

/** The machine a benchmark ran on, for its section's first line (the load average read now: call it at the start). */
export function machine(): string {
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  return `${cpus().length} CPUs (\`nproc\`), ${cpu}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM (${(freemem() / 2 ** 30).toFixed(1)} free); Node ${process.version}; load average at start ${loadavg()[0].toFixed(1)}`;
}

/** Replaces the section `md` starts with (its `## ` heading) in BENCHMARKS.md, or appends it. */
export function writeSection(md: string): void {
  const heading = md.slice(0, md.indexOf("\n"));
  const old = existsSync(PATH) ? readFileSync(PATH, "utf8") : "# Benchmarks\n";
  const start = old.indexOf(heading);
  if (start < 0) {
    writeFileSync(PATH, `${old.trimEnd()}\n\n${md}`);
    return;
  }
  const next = old.indexOf("\n## ", start + 3);
  writeFileSync(PATH, old.slice(0, start) + md + (next < 0 ? "" : old.slice(next + 1)));
}
