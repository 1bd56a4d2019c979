import { byteSize, isFloat } from "../../core/dtype.js";
import { ConvscopeError } from "../../core/errors.js";
import type { Graph, ModuleFrame } from "../../core/graph.js";
import { numel } from "../../core/shape.js";
import { readZipMember, zipMemberNames } from "../keras/archive.js";
import type { ByteSource } from "../source.js";
import { translate } from "./aten.js";
import { Args, Emitter, type Origin } from "./emit.js";
import { type Argument, type ExportedProgram, moduleStack, type Pt2Node, scalarType } from "./schema.js";

/**
 * torch.export archives (`torch.export.save(ep, "model.pt2")`): a zip whose
 * `<archive>/models/<model>.json` (or, in torch ≤ 2.5, `serialized_exported_program.json`)
 * holds the whole ExportedProgram — ATen graph, every tensor's sizes and dtype, symbolic
 * sizes with their ranges, each node's `nn_module_stack`. The weights sit in other entries
 * (`data/weights/*`) that are never opened: only the central directory and the graph JSON
 * are read, so an archive with its weights stripped analyses the same.
 *
 * The zip walk is the project's own (formats/keras/archive.ts), not a library's, because
 * reading one member by offset without loading the archive is the point.
 *
 * TorchScript `.pt` files and `torch.save` state_dicts (zips holding `data.pkl`, or legacy
 * pickles) are recognised only to say how to make a file convscope reads.
 */

const PICKLE_HINT =
  "convscope reads PyTorch models as torch.export archives: torch.export.save(torch.export.export(model.eval(), (x,)), 'model.pt2'), or as ONNX: torch.onnx.export(model, (x,), 'model.onnx', dynamo=True)";

export function sniffPt2(head: Uint8Array, name: string): boolean {
  if (isPickle(head)) return true;
  if (head.length < 4 || head[0] !== 0x50 || head[1] !== 0x4b || head[2] !== 0x03 || head[3] !== 0x04) return false;
  if (/\.(pt2|pt|pth|ckpt)$/i.test(name)) return true;
  const text = new TextDecoder("latin1").decode(head);
  return /\/models\/[^/]+\.json|serialized_exported_program|\/data\.pkl|\/archive_format|\/\.data\/version|\/byteorder/.test(text);
}

/** A pickle (protocol 2+) as legacy `torch.save` writes it. */
function isPickle(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x80 && head[1] >= 2 && head[1] <= 5;
}

export function readPt2(src: ByteSource): Graph {
  const head = src.read(0, Math.min(src.size, 4));
  if (isPickle(head)) throw new ConvscopeError(`a pickled PyTorch file (torch.save), not a torch.export archive; ${PICKLE_HINT}`);
  const names = zipMemberNames(src);
  const program =
    names.find((n) => /(^|\/)models\/[^/]+\.json$/.test(n) && !/weights_config|constants_config/.test(n)) ??
    names.find((n) => /(^|\/)serialized_exported_program(\.json)?$/.test(n));
  if (!program) {
    if (names.some((n) => /(^|\/)data\.pkl$/.test(n))) {
      const what = names.some((n) => /(^|\/)(code\/|constants\.pkl$)/.test(n))
        ? "a TorchScript archive (torch.jit.save)"
        : "a torch.save archive (a state_dict or pickled model: weights without the graph)";
      throw new ConvscopeError(`${what}, not a torch.export archive; ${PICKLE_HINT}`);
    }
    throw new ConvscopeError("zip archive has no models/*.json or serialized_exported_program entry (not a torch.export archive)");
  }
  const bytes = readZipMember(src, program);
  if (!bytes) throw new ConvscopeError(`archive entry '${program}' cannot be read`);
  let ep: ExportedProgram;
  try {
    ep = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new ConvscopeError(`'${program}' is not valid JSON: ${(e as Error).message}`);
  }
  if (!ep?.graph_module?.graph?.nodes || !ep.graph_module.signature) {
    throw new ConvscopeError(`'${program}' has no graph_module with graph and signature (not an ExportedProgram)`);
  }
  const base = src.name.replace(/^.*[\\/]/, "").replace(/\.pt2$/i, "") || "model";
  return buildGraph(ep, base, program);
}

export function buildGraph(ep: ExportedProgram, name: string, entry = "model.json"): Graph {
  const { graph, signature } = ep.graph_module;
  const values = graph.tensor_values ?? {};
  const em = new Emitter(name, values);
  const g = em.graph;

  // Graph signature: parameters (trainable), buffers and lifted constants (not), user inputs.
  for (const spec of signature.input_specs) {
    const [kind, body] = Object.entries(spec)[0] ?? [];
    const arg = body?.arg as Argument & { name?: string; as_tensor?: { name: string } };
    const argName = arg?.name ?? arg?.as_tensor?.name;
    if (!argName) continue;
    const meta = values[argName];
    const shape = meta?.sizes.map((s) => ("as_int" in s ? s.as_int : 0));
    const dtype = meta ? scalarType(meta.dtype) : "unknown";
    if (kind === "user_input") {
      g.inputs.push(argName);
      em.declare({ name: argName, dtype, shape: em.shape(argName) });
      continue;
    }
    const stored = body.parameter_name ?? body.buffer_name ?? body.tensor_constant_name ?? argName;
    if (kind !== "parameter" && kind !== "buffer" && kind !== "tensor_constant") continue;
    em.setAlias(argName, stored);
    const n = shape ? numel(shape) : null;
    em.declare({
      name: stored,
      dtype,
      shape,
      initializer: {
        // Where the payload would be (data/weights/ or data/constants/); it is never read.
        byteLength: n !== null && isFloat(dtype) ? byteSize(n, dtype) : 0,
        location: "inline",
        trainable: kind === "parameter",
        ...(kind === "tensor_constant" ? {} : { learned: true }),
      },
    });
  }

  // Names: the module path the op was written in; several ops in one module call get the op's name after it.
  const perFrame = new Map<string, number>();
  const frameKey = (n: Pt2Node) => {
    const stack = moduleStack(n.metadata?.nn_module_stack);
    return stack.length ? stack[stack.length - 1].key : "";
  };
  for (const n of graph.nodes) perFrame.set(frameKey(n), (perFrame.get(frameKey(n)) ?? 0) + 1);

  const unknownOps = new Set<string>();
  for (const n of graph.nodes) {
    const target = n.target.replace(/^torch\.ops\./, "");
    const outs = n.outputs.flatMap(outputNames);
    if (target === "_operator.getitem" || n.target === "_operator.getitem") {
      // getitem picks one output of a multi-output op: the same tensor under another name.
      const from = (n.inputs[0]?.arg?.as_tensors as { name: string }[] | undefined) ?? undefined;
      const idx = n.inputs[1]?.arg?.as_int as number | undefined;
      const src = from && typeof idx === "number" ? from[idx]?.name : undefined;
      if (src && outs[0]) em.setAlias(outs[0], em.ref(src));
      continue;
    }
    if (target === "aten.sym_size.int") {
      // A size read at run time: remembered so a view by it can copy the dim; no layer.
      const t = (n.inputs[0]?.arg?.as_tensor as { name?: string } | undefined)?.name;
      const d = n.inputs[1]?.arg?.as_int;
      const out = (n.outputs[0]?.as_sym_int as { as_name?: string } | undefined)?.as_name;
      const rank = t ? values[t]?.sizes.length : undefined;
      if (t && out && typeof d === "number" && rank !== undefined) em.symSizes.set(out, { tensor: t, dim: d < 0 ? d + rank : d });
      continue;
    }
    const stack = moduleStack(n.metadata?.nn_module_stack);
    const module: ModuleFrame[] = stack.map((f) => ({ path: f.path, type: f.type }));
    const leaf = stack[stack.length - 1];
    const nodeName = n.name ?? outs[0] ?? target;
    let layer: string;
    if (!leaf || leaf.path === "") layer = nodeName;
    else {
      const call = /@(\d+)$/.exec(leaf.key)?.[0] ?? "";
      layer = perFrame.get(leaf.key) === 1 ? `${leaf.path}${call}` : `${leaf.path}${call}.${nodeName}`;
    }
    layer = em.uniqueName(layer);
    const meta: Record<string, string> = { "pt2.target": target };
    if (n.metadata?.torch_fn) meta["pt2.torch_fn"] = n.metadata.torch_fn;
    if (n.metadata?.nn_module_stack) meta["pt2.nn_module_stack"] = n.metadata.nn_module_stack;
    const from: Origin = { target, module, meta };
    const parts = target.split(".");
    const op = parts[0] === "aten" ? parts[1] : target;
    // Declared output shapes: used where no rule infers one (unknown ops).
    for (const o of outs) {
      if (o && values[o]) em.declare({ name: o, dtype: scalarType(values[o].dtype), shape: em.shape(o) });
    }
    const firstDtype = outs[0] && values[outs[0]] ? scalarType(values[outs[0]].dtype) : "float32";
    const a = new Args(n, layer, em);
    if (parts[0] !== "aten" || !translate({ em, a, name: layer, outs, from }, op, firstDtype)) unknownOps.add(target);
    if (parts[0] !== "aten" && !g.nodes.some((x) => x.name === layer)) {
      // Not an aten op (a higher-order op, a custom op): kept as unknown under its target.
      em.node(target, layer, [], outs, {}, from);
    }
  }

  for (const spec of signature.output_specs) {
    const [kind, body] = Object.entries(spec)[0] ?? [];
    const t = (body?.arg as { as_tensor?: { name: string } } | undefined)?.as_tensor?.name;
    if (kind === "user_output" && t) g.outputs.push(em.ref(t));
  }
  if (g.outputs.length === 0) throw new ConvscopeError(`'${entry}' declares no user output`);

  const ranges = Object.entries(ep.range_constraints ?? {});
  if (ranges.length) {
    const text = ranges.map(([s, r]) => `${s} ∈ [${r.min_val ?? "-∞"}, ${r.max_val ?? "∞"}]`).join(", ");
    g.notes.push(`symbolic sizes of the export: ${text}`);
  }
  if (unknownOps.size) g.notes.push(`ops without a convscope rule: ${[...unknownOps].sort().join(", ")}`);
  return g;
}

function outputNames(o: Argument): string[] {
  if (o.as_tensor) return [(o.as_tensor as { name: string }).name];
  if (Array.isArray(o.as_tensors)) return (o.as_tensors as { name: string }[]).map((t) => t.name);
  if (o.as_none !== undefined) return [""];
  return [""];
}
