import { ConvscopeError } from "../core/errors.js";
import type { Graph } from "../core/graph.js";
import { readCaffe, sniffCaffe } from "./caffe/index.js";
import { readKerasH5, sniffHdf5 } from "./keras/h5.js";
import { readKerasArchive, readKerasJson, readTfjsLayers, sniffKerasArchive, sniffKerasJson, sniffTfjsLayers } from "./keras/index.js";
import { readOnnx, sniffOnnx } from "./onnx/index.js";
import { readPt2, sniffPt2 } from "./pt2/index.js";
import type { ByteSource } from "./source.js";
import { readSpec } from "./spec/index.js";
import { readTfjsGraph, sniffTfjsGraph } from "./tfjs-graph/index.js";
import { readTflite, sniffTflite } from "./tflite/index.js";

export type { ByteSource } from "./source.js";
export { bufferSource, readText } from "./source.js";

/** A model-file reader: bytes in, Graph out, no analysis. */
export interface Reader {
  /** Format name (`onnx`, `caffe`, `spec` …). */
  format: string;
  /** How the format is recognised, for the "unsupported file" message. */
  describe: string;
  /** Recognises the format by content (magic bytes, JSON keys), with the file name as a hint. */
  sniff(head: Uint8Array, name: string): boolean;
  read(src: ByteSource): Graph;
}

/** Readers in detection order; each format registers here. */
export const READERS: Reader[] = [
  {
    format: "tflite",
    describe: 'TFLite flatbuffer (file identifier "TFL3")',
    sniff: sniffTflite,
    read: readTflite,
  },
  {
    format: "tfjs-graph",
    describe: 'TensorFlow.js graph model (model.json with "format": "graph-model")',
    sniff: sniffTfjsGraph,
    read: readTfjsGraph,
  },
  { format: "onnx", describe: "ONNX (a ModelProto: ir_version, then graph and opset_import)", sniff: sniffOnnx, read: readOnnx },
  { format: "caffe", describe: "Caffe prototxt (text with layer { … } or input: fields)", sniff: sniffCaffe, read: readCaffe },
  {
    format: "keras",
    describe: 'Keras model JSON (model.to_json(): "class_name" and "config")',
    sniff: sniffKerasJson,
    read: readKerasJson,
  },
  {
    format: "pt2",
    describe: "PyTorch torch.export archive (.pt2: a zip holding models/*.json)",
    sniff: sniffPt2,
    read: readPt2,
  },
  { format: "keras", describe: "Keras .keras archive (a zip holding config.json)", sniff: sniffKerasArchive, read: readKerasArchive },
  {
    format: "keras",
    describe: "Keras HDF5 model (model.save('x.h5'): HDF5 signature, model_config attribute)",
    sniff: sniffHdf5,
    read: readKerasH5,
  },
  {
    format: "tfjs-layers",
    describe: 'TensorFlow.js layers model.json ("modelTopology" with "format": "layers-model")',
    sniff: sniffTfjsLayers,
    read: readTfjsLayers,
  },
  {
    format: "spec",
    describe: 'convscope JSON (an object with "layers")',
    sniff: (head) => /^\s*\{[\s\S]*"(layers|convscope)"/.test(new TextDecoder().decode(head)),
    read: readSpec,
  },
];

/** Detects the format by content and reads the model. */
export function readModel(src: ByteSource): Graph {
  if (src.size === 0) throw new ConvscopeError("the file is empty", { file: src.name });
  const head = src.read(0, Math.min(src.size, 4096));
  const reader = READERS.find((r) => r.sniff(head, src.name));
  if (!reader) {
    throw new ConvscopeError(`not a model file convscope can read (supported: ${READERS.map((r) => r.describe).join("; ")})`, {
      file: src.name,
    });
  }
  try {
    const g = reader.read(src);
    g.file ??= src.name;
    g.fileBytes ??= src.size;
    return g;
  } catch (e) {
    if (e instanceof ConvscopeError && !e.file) throw new ConvscopeError(e.message, { file: src.name, layer: e.layer });
    throw e;
  }
}
