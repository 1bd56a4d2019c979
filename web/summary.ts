import type { Report, Totals, TrainingReport } from "../src/core/report.js";
import { lowerBound, totalOr } from "../src/render/format.js";
import { type Child, fill, h } from "./dom.js";
import { bytes, compact, exact, lastFeatureMap, localField } from "./format.js";

/** Totals this panel shows by name; any other numeric total a newer analysis adds is listed generically. */
const SHOWN = new Set<string>([
  "params",
  "trainable_params",
  "non_trainable_params",
  "param_bytes",
  "param_dtype",
  "stored_param_bytes",
  "macs",
  "flops",
  "seed",
  "value",
  "by_convention",
  "activation_bytes",
  "input_bytes",
  "peak_activation_bytes",
  "peak_layer",
  "peak_live",
  "layers",
  "unknown_layers",
  "partial",
  "size_bytes",
  "stored_param_bytes_by_dtype",
  "peak_activation_bytes_without_input",
  "peak_activation_bytes_min_order",
  "peak_layer_min_order",
  "peak_live_min_order",
  "training_bytes",
  "known",
]);

/** A headline number: compact text, the exact integer in `data-value` and the tooltip. */
function stat(
  label: string,
  n: number | null | undefined,
  testid?: string,
  unit: "count" | "bytes" = "count",
  extra?: Child,
  lower?: string,
): HTMLElement {
  // A null total shows its counted part as a lower bound, never as the total.
  const shown = n === null && lower ? lower : unit === "bytes" ? bytes(n) : compact(n);
  return h(
    "div",
    { class: "stat" },
    h("div", { class: "label" }, label),
    h(
      "div",
      {
        class: "value",
        testid,
        attrs: {
          "data-value": n ?? "",
          title: n === null || n === undefined ? (lower ?? "unknown") : `${exact(n)}${unit === "bytes" ? " bytes" : ""}`,
        },
      },
      shown,
    ),
    extra ? h("div", { class: "sub" }, extra) : null,
  );
}

/** The training-memory estimate, whole batch, split into its four parts. */
function training(tr: TrainingReport): HTMLElement {
  const parts = ["weights", "gradients", "optimizer_state", "activations"] as const;
  return stat(`training step (${tr.optimizer}, ${tr.precision}, batch ${tr.batch})`, tr.total, "training-bytes", "bytes", [
    parts.map((p, i) => [
      i ? " · " : "",
      h("span", { class: p === tr.dominant ? "strong" : "", attrs: { title: `${exact(tr[p])} bytes` } }, `${words(p)} ${bytes(tr[p])}`),
    ]),
  ]);
}

/** "peak_workspace_bytes" → "peak workspace bytes". */
const words = (key: string) => key.replace(/_/g, " ");

/**
 * The summary: parameters and their size per dtype, compute in the chosen convention,
 * peak activation memory and where, the last feature map's receptive field, and every
 * convention side by side.
 */
export function renderSummary(el: HTMLElement, r: Report, onConvention: (name: string) => void): void {
  const t: Totals = r.totals;
  const conv = r.conventions.find((c) => c.name === r.convention);
  const last = lastFeatureMap(r);
  const rf = last ? r.tensors[last]?.rf : undefined;
  const local = localField(rf);
  const input = r.inputs.map((i) => `${i.name} ${i.shape.join("×")}`).join(", ");

  const dtypes = h(
    "table",
    { class: "mini" },
    h(
      "tbody",
      {},
      ...Object.entries(t.size_bytes).map(([d, b]) =>
        h(
          "tr",
          { class: d === t.param_dtype ? "current" : "" },
          h("th", {}, d),
          h("td", { class: "num", attrs: { title: `${exact(b)} bytes`, "data-value": b ?? "" } }, bytes(b)),
        ),
      ),
      h(
        "tr",
        {},
        h("th", {}, "in the file"),
        h(
          "td",
          {
            class: "num",
            attrs: {
              title: Object.entries(t.stored_param_bytes_by_dtype)
                .map(([d, b]) => `${d}: ${exact(b)} bytes`)
                .join("\n"),
            },
          },
          bytes(t.stored_param_bytes),
        ),
      ),
    ),
  );

  const extras = Object.entries(t).filter(([k, v]) => !SHOWN.has(k) && (typeof v === "number" || v === null));
  const otherBy = Object.entries(t.by_convention).filter(([k]) => !r.conventions.some((c) => c.name === k));

  fill(
    el,
    h(
      "div",
      { class: "model-line" },
      h("strong", { testid: "model-name" }, r.model.name),
      ` · ${r.model.format}`,
      r.model.file_bytes !== undefined ? ` · ${bytes(r.model.file_bytes)}` : "",
      ` · input ${input}`,
      r.batch > 1 ? ` · batch ${r.batch} (figures per image)` : "",
      ` · ${exact(t.layers)} layers`,
      t.unknown_layers > 0 ? h("span", { class: "badge" }, `${t.unknown_layers} unknown`) : "",
    ),
    h(
      "div",
      { class: "stats" },
      stat(
        "parameters",
        t.params,
        "total-params",
        "count",
        [
          h(
            "span",
            { attrs: { "data-value": t.trainable_params ?? "", title: exact(t.trainable_params) }, testid: "trainable-params" },
            `${compact(t.trainable_params)} trainable`,
          ),
          " · ",
          h(
            "span",
            { attrs: { "data-value": t.non_trainable_params ?? "", title: exact(t.non_trainable_params) } },
            `${compact(t.non_trainable_params)} non-trainable`,
          ),
        ],
        lowerBound(r, "params"),
      ),
      h("div", { class: "stat" }, h("div", { class: "label" }, "size by dtype"), dtypes),
      stat("MACs", t.macs, "total-macs", "count", "multiply–accumulates per image", lowerBound(r, "macs")),
      stat(`${r.convention} (chosen)`, t.value, "total-value", "count", conv ? conv.includes : "", lowerBound(r, "value")),
      stat("FLOPs", t.flops, "total-flops", "count", "2·MAC + every other op", lowerBound(r, "flops")),
      stat(
        "peak activations",
        t.peak_activation_bytes,
        "peak-memory",
        "bytes",
        t.peak_activation_bytes === null
          ? "unknown: some tensor shapes are not known"
          : [
              t.peak_layer ? ["at ", h("strong", {}, t.peak_layer)] : "",
              t.peak_live?.length ? ` (${t.peak_live.length} live tensors)` : "",
              ` · ${bytes(t.activation_bytes)} summed`,
              h("br"),
              h(
                "span",
                { attrs: { title: exact(t.peak_activation_bytes_without_input) } },
                `${bytes(t.peak_activation_bytes_without_input)} without the input`,
              ),
              t.peak_activation_bytes_min_order !== t.peak_activation_bytes
                ? [
                    " · ",
                    h(
                      "span",
                      { attrs: { title: exact(t.peak_activation_bytes_min_order) } },
                      `${bytes(t.peak_activation_bytes_min_order)} in the best order${t.peak_layer_min_order ? ` (at ${t.peak_layer_min_order})` : ""}`,
                    ),
                  ]
                : " · the file's order is already the best",
            ],
      ),
      t.training_bytes ? training(t.training_bytes) : null,
      h(
        "div",
        { class: "stat" },
        h("div", { class: "label" }, "receptive field of the last feature map"),
        h(
          "div",
          { class: "value", testid: "last-rf" },
          local ? `${local.size.join("×")} / ${local.stride.join("×")}` : rf && "global" in rf ? "global" : "—",
        ),
        h(
          "div",
          { class: "sub" },
          last ? h("span", {}, `tensor `, h("code", {}, last)) : "",
          local ? ` · padding ${local.padding.join("×")}` : "",
          rf && "global" in rf ? " · global (local path shown)" : "",
          rf && !rf.aligned ? " · paths not aligned" : "",
        ),
      ),
      ...extras.map(([k, v]) => stat(words(k), v as number | null, `total-${k}`, /bytes/.test(k) ? "bytes" : "count")),
    ),
    h(
      "table",
      { class: "conventions", testid: "conventions" },
      h(
        "thead",
        {},
        h("tr", {}, h("th", {}, "convention"), h("th", { class: "num" }, "per image"), h("th", {}, "counts"), h("th", {}, "used by")),
      ),
      h(
        "tbody",
        {},
        ...r.conventions.map((c) =>
          h(
            "tr",
            {
              class: c.name === r.convention ? "current" : "",
              on: { click: () => onConvention(c.name) },
              attrs: { title: "click to use this convention" },
            },
            h("th", {}, c.name),
            h(
              "td",
              {
                class: "num",
                attrs: {
                  "data-value": c.value ?? "",
                  title: c.value === null ? (lowerBound(r, c.name, exact) ?? "unknown") : exact(c.value),
                },
              },
              totalOr(r, c.name, c.value, exact),
            ),
            h("td", {}, c.includes, ...(c.approximated ? [h("div", { class: "muted" }, `approximated — ${c.approximated}`)] : [])),
            h("td", { class: "muted" }, c.used),
          ),
        ),
        ...otherBy.map(([k, v]) =>
          h("tr", {}, h("th", {}, k), h("td", { class: "num", attrs: { "data-value": v ?? "" } }, exact(v)), h("td", {}), h("td", {})),
        ),
      ),
    ),
    t.partial || r.notes.length || r.warnings.length
      ? h(
          "ul",
          { class: "notes" },
          t.partial ? h("li", { class: "warn" }, t.partial) : null,
          ...r.warnings.map((w) => h("li", { class: "warn" }, w)),
          ...r.notes.map((n) => h("li", {}, n)),
        )
      : null,
  );
}
