import type { Report } from "../core/report.js";

/** One compared figure: a value per model and its ratio to the first model's. */
export interface CompareMetric {
  key: "params" | "value" | "flops" | "peak_activation_bytes" | "training_bytes" | "rf" | "input_pixels";
  label: string;
  /** How to print it: a count, bytes, pixels. */
  unit: "count" | "bytes" | "px";
  values: (number | null)[];
  /** value / first model's value; null when either is unknown or the first is 0. */
  ratios: (number | null)[];
  /** A text form where the number alone says too little (`435×435`, `1×3×224×224`). */
  text?: (string | null)[];
}

export interface Comparison {
  /** The headline convention the `value` row counts in. */
  convention: string;
  models: { label: string; name: string; format: string; input: string; batch: number }[];
  metrics: CompareMetric[];
  /** Models counted only in part (unknown ops) or with unbound dims, named. */
  notes: string[];
}

/**
 * Several analysed models side by side (papers' comparison tables): parameters, the headline
 * count in the chosen convention, FLOPs, peak activation memory (file order, input included),
 * training memory when it was estimated, the receptive field of the last feature map, the
 * input, and each value's ratio to the first model's.
 */
export function compareReports(reports: readonly Report[], labels: readonly string[] = []): Comparison {
  if (reports.length === 0) return { convention: "macs", models: [], metrics: [], notes: [] };
  const convention = reports[0].convention;
  const metric = (
    key: CompareMetric["key"],
    label: string,
    unit: CompareMetric["unit"],
    get: (r: Report) => number | null,
    text?: (r: Report) => string | null,
  ): CompareMetric => {
    const values = reports.map(get);
    const base = values[0];
    return {
      key,
      label,
      unit,
      values,
      ratios: values.map((v) => (v === null || base === null || base === 0 ? null : v / base)),
      ...(text ? { text: reports.map(text) } : {}),
    };
  };
  const metrics: CompareMetric[] = [
    metric("params", "params", "count", (r) => r.totals.params),
    metric("value", convention === "macs" ? "MACs" : convention, "count", (r) => r.totals.value),
    metric("flops", "FLOPs", "count", (r) => r.totals.flops),
    metric("peak_activation_bytes", "peak activation memory", "bytes", (r) => r.totals.peak_activation_bytes),
  ];
  if (reports.some((r) => r.totals.training_bytes))
    metrics.push(
      metric(
        "training_bytes",
        `training memory (${reports[0].totals.training_bytes?.optimizer ?? "?"}, ${reports[0].totals.training_bytes?.precision ?? "?"})`,
        "bytes",
        (r) => r.totals.training_bytes?.total ?? null,
      ),
    );
  metrics.push(
    metric(
      "rf",
      "receptive field, last feature map",
      "px",
      (r) => {
        const f = lastFeatureField(r);
        return f ? Math.max(...f.size) : null;
      },
      (r) => {
        const f = lastFeatureField(r);
        return f ? `${f.size.join("×")} (stride ${f.stride.join("×")})` : null;
      },
    ),
    metric(
      "input_pixels",
      "input",
      "px",
      (r) => {
        const f = lastFeatureField(r);
        return f?.image ? f.image.reduce((a, b) => a * b, 1) : null;
      },
      (r) => r.inputs.map((i) => i.shape.join("×")).join(", "),
    ),
  );
  const notes: string[] = [];
  if (reports.some((r) => r.totals.training_bytes) && new Set(reports.map((r) => r.batch)).size > 1)
    notes.push(
      `training memory is for each model's whole batch (${reports.map((r, i) => `${labels[i] ?? r.model.name} ${r.batch}`).join(", ")}): set one with --batch`,
    );
  reports.forEach((r, i) => {
    const label = labels[i] ?? r.model.name;
    if (r.totals.partial) notes.push(`${label}: ${r.totals.partial}`);
    if (r.symbols.length > 0) notes.push(`${label}: dims ${r.symbols.join(", ")} unbound (bind them with --input)`);
  });
  return {
    convention,
    models: reports.map((r, i) => ({
      label: labels[i] ?? r.model.name,
      name: r.model.name,
      format: r.model.format,
      input: r.inputs.map((x) => x.shape.join("×")).join(", "),
      batch: r.batch,
    })),
    metrics,
    notes,
  };
}

/**
 * The receptive field of the last feature map: the last layer output with a local field (the
 * local part of a field that goes global), with the image's spatial size it is measured on.
 */
export function lastFeatureField(r: Report): { tensor: string; size: number[]; stride: (number | string)[]; image?: number[] } | undefined {
  for (let i = r.layers.length - 1; i >= 0; i--) {
    const name = r.layers[i].outputs[0];
    const t = r.tensors[name];
    const rf = t?.rf;
    if (!rf) continue;
    const local = "global" in rf ? rf.local : rf;
    if (!local) continue;
    const image = imageSize(r);
    return { tensor: name, size: local.size, stride: local.stride, ...(image ? { image } : {}) };
  }
  return undefined;
}

/** The spatial size of the first image input (H, W …), when its dims are numbers. */
export function imageSize(r: Report): number[] | undefined {
  const input = r.inputs.find((i) => i.shape.length >= 3);
  if (!input) return undefined;
  const s = input.shape;
  // Channels-first (N, C, H, W) unless the last dim looks like channels (N, H, W, C).
  const last = s[s.length - 1];
  const second = s[1];
  const channelsLast = typeof last === "number" && last <= 4 && !(typeof second === "number" && second <= 4);
  const spatial = channelsLast ? s.slice(1, -1) : s.slice(2);
  return spatial.every((d) => typeof d === "number") ? (spatial as number[]) : undefined;
}
