import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type AnalyzeOptions, analyze } from "../../src/analysis/index.js";
import type { Report } from "../../src/core/report.js";
import { bufferSource, readModel } from "../../src/formats/index.js";
import { renderCsv, renderMarkdown, renderTable } from "../../src/render/index.js";

/**
 * Layer types real third-party Caffe files use (Netscope's presets: SSD300, Faster R-CNN,
 * GoogLeNet, old nets with lower-case types), each in a small net written here, every
 * number by hand.
 */
const run = (text: string, opts: AnalyzeOptions = {}) =>
  analyze(readModel(bufferSource("net.prototxt", new TextEncoder().encode(text))), opts);

const layer = (r: Report, name: string) => {
  const l = r.layers.find((x) => x.name === name);
  assert.ok(l, `layer ${name} is in the report`);
  return l;
};
const shapeOf = (r: Report, name: string) => r.tensors[layer(r, name).outputs[0]].shape;

const TINY_SSD = `name: "TinySSD"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 64 dim: 64 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 8 kernel_size: 3 pad: 1 stride: 2 } }
layer { name: "conv1_norm" type: "Normalize" bottom: "conv1" top: "conv1_norm"
  norm_param { across_spatial: false channel_shared: false scale_filler { type: "constant" value: 20 } } }
layer { name: "loc" type: "Convolution" bottom: "conv1_norm" top: "loc" convolution_param { num_output: 16 kernel_size: 3 pad: 1 } }
layer { name: "loc_perm" type: "Permute" bottom: "loc" top: "loc_perm" permute_param { order: 0 order: 2 order: 3 order: 1 } }
layer { name: "loc_flat" type: "Flatten" bottom: "loc_perm" top: "loc_flat" flatten_param { axis: 1 } }
layer { name: "conf" type: "Convolution" bottom: "conv1_norm" top: "conf" convolution_param { num_output: 12 kernel_size: 3 pad: 1 } }
layer { name: "conf_perm" type: "Permute" bottom: "conf" top: "conf_perm" permute_param { order: 0 order: 2 order: 3 order: 1 } }
layer { name: "conf_flat" type: "Flatten" bottom: "conf_perm" top: "conf_flat" flatten_param { axis: 1 } }
layer { name: "prior" type: "PriorBox" bottom: "conv1_norm" bottom: "data" top: "prior"
  prior_box_param { min_size: 30.0 max_size: 60.0 aspect_ratio: 2 flip: true clip: false variance: 0.1 variance: 0.1 variance: 0.2 variance: 0.2 } }
layer { name: "conf_reshape" type: "Reshape" bottom: "conf_flat" top: "conf_reshape" reshape_param { shape { dim: 0 dim: -1 dim: 3 } } }
layer { name: "conf_softmax" type: "Softmax" bottom: "conf_reshape" top: "conf_softmax" softmax_param { axis: 2 } }
layer { name: "conf_sm_flat" type: "Flatten" bottom: "conf_softmax" top: "conf_sm_flat" flatten_param { axis: 1 } }
layer { name: "mbox_loss" type: "MultiBoxLoss" bottom: "loc_flat" bottom: "conf_flat" bottom: "prior" top: "mbox_loss" include { phase: TRAIN } }
layer { name: "detection_out" type: "DetectionOutput" bottom: "loc_flat" bottom: "conf_sm_flat" bottom: "prior" top: "detection_out"
  include { phase: TEST }
  detection_output_param { num_classes: 3 share_location: true background_label_id: 0
    nms_param { nms_threshold: 0.45 top_k: 400 } code_type: CENTER_SIZE keep_top_k: 200 confidence_threshold: 0.01 } }
`;

describe("Caffe SSD layers: Normalize, PriorBox, DetectionOutput", () => {
  const r = run(TINY_SSD);

  it("every layer is known, and nothing is partial", () => {
    assert.equal(r.totals.unknown_layers, 0);
    assert.equal(r.totals.known, undefined);
    assert.ok(!r.layers.some((l) => l.name === "mbox_loss"), "the TRAIN-only loss is skipped");
  });

  it("Normalize: L2 over channels, then one learned scale per channel (8)", () => {
    assert.equal(layer(r, "conv1_norm").op, "LpNormalization");
    assert.deepEqual(shapeOf(r, "conv1_norm.scale"), [1, 8, 32, 32]);
    assert.equal(layer(r, "conv1_norm.scale").params, 8);
  });

  it("PriorBox: ratios {1, 2, 1/2} + one max size = 4 priors per position: 32·32·4·4 = 16,384", () => {
    assert.deepEqual(shapeOf(r, "prior"), [1, 2, 16_384]);
    assert.deepEqual(shapeOf(r, "loc_flat"), [1, 16_384]);
  });

  it("DetectionOutput: at most keep_top_k = 200 boxes of 7 values; 12,288 threshold tests", () => {
    assert.deepEqual(shapeOf(r, "detection_out"), [1, 1, 200, 7]);
    assert.equal(layer(r, "detection_out").cost?.cmp, 12_288);
    assert.equal(layer(r, "detection_out").macs, 0);
    assert.ok(r.notes.some((n) => n.includes("keep_top_k = 200")));
  });

  it("params 224 + 8 + 1,168 + 876 = 2,276; MACs 27·8·1024 + 72·16·1024 + 72·12·1024 = 2,285,568", () => {
    assert.equal(layer(r, "conv1").params, 224);
    assert.equal(layer(r, "loc").params, 1_168);
    assert.equal(layer(r, "conf").params, 876);
    assert.equal(r.totals.params, 2_276);
    assert.equal(r.totals.macs, 221_184 + 1_179_648 + 884_736);
  });

  it("Normalize across space with one shared scale (Caffe's defaults): Flatten → L2 → Reshape → × 1 blob", () => {
    const n = run(`layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 4 dim: 2 dim: 2 } } }
      layer { name: "norm" type: "Normalize" bottom: "data" top: "norm" }`);
    assert.deepEqual(shapeOf(n, "norm"), [1, 16]);
    assert.deepEqual(shapeOf(n, "norm.scale"), [1, 4, 2, 2]);
    assert.equal(n.totals.params, 1);
  });
});

const TINY_FRCNN = `name: "TinyFRCNN"
input: "data"
input_shape { dim: 1 dim: 3 dim: 64 dim: 64 }
input: "im_info"
input_shape { dim: 1 dim: 3 }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 16 kernel_size: 3 pad: 1 stride: 4 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "rpn_cls_prob" type: "Convolution" bottom: "conv1" top: "rpn_cls_prob" convolution_param { num_output: 18 kernel_size: 1 } }
layer { name: "rpn_bbox_pred" type: "Convolution" bottom: "conv1" top: "rpn_bbox_pred" convolution_param { num_output: 36 kernel_size: 1 } }
layer { name: "proposal" type: "Python" bottom: "rpn_cls_prob" bottom: "rpn_bbox_pred" bottom: "im_info" top: "rois"
  python_param { module: "rpn.proposal_layer" layer: "ProposalLayer" param_str: "'feat_stride': 4" } }
layer { name: "roi_pool5" type: "ROIPooling" bottom: "conv1" bottom: "rois" top: "pool5" roi_pooling_param { pooled_w: 6 pooled_h: 6 spatial_scale: 0.25 } }
layer { name: "fc6" type: "InnerProduct" bottom: "pool5" top: "fc6" inner_product_param { num_output: 32 } }
layer { name: "cls_score" type: "InnerProduct" bottom: "fc6" top: "cls_score" inner_product_param { num_output: 5 } }
layer { name: "cls_prob" type: "Softmax" bottom: "cls_score" top: "cls_prob" }
`;

describe("Caffe Faster R-CNN layers: a Python proposal layer, ROIPooling", () => {
  const r = run(TINY_FRCNN);

  it("the Python layer is unknown, named by its module and class; its blobs are unknown", () => {
    const p = layer(r, "proposal");
    assert.equal(p.status, "unknown");
    assert.equal(p.source, "Python (rpn.proposal_layer.ProposalLayer)");
    assert.equal(p.params, null);
    assert.ok(r.notes.some((n) => n.includes("Python (rpn.proposal_layer.ProposalLayer)") && n.includes("(proposal)")));
  });

  it("ROIPooling: [rois, 16, 6, 6], the ROI count a symbol, so fc6's weight is still sized: 576·32 + 32", () => {
    assert.equal(layer(r, "roi_pool5").op, "MaxRoiPool");
    assert.deepEqual(shapeOf(r, "roi_pool5"), ["rois", 16, 6, 6]);
    assert.equal(layer(r, "fc6").params, 18_464);
    assert.equal(layer(r, "cls_score").params, 165);
    assert.equal(layer(r, "fc6").macs, null, "MACs scale with the unknown number of ROIs");
  });

  it("a convolution after the ROI pooling (ZynqNet's conv10) is sized from its input's channels: 16·8 + 8", () => {
    const z = run(
      TINY_FRCNN.replace(
        `layer { name: "fc6" type: "InnerProduct" bottom: "pool5"`,
        `layer { name: "conv10" type: "Convolution" bottom: "pool5" top: "conv10" convolution_param { num_output: 8 kernel_size: 1 } }
         layer { name: "fc6" type: "InnerProduct" bottom: "conv10"`,
      ),
    );
    assert.deepEqual(shapeOf(z, "conv10"), ["rois", 8, 6, 6]);
    assert.equal(layer(z, "conv10").params, 136);
    // fc6 now reads 8·6·6 = 288 features: 288·32 + 32.
    assert.equal(layer(z, "fc6").params, 9_248);
  });

  it("Netscope's top-less 'implicit' marker layer is left out with a note", () => {
    const z = run(`${TINY_FRCNN}layer { name: "bbox_out" type: "implicit" bottom: "cls_score" }\n`);
    assert.ok(!z.layers.some((l) => l.name === "bbox_out"));
    assert.ok(z.notes.some((n) => n.includes("'implicit' marker layers left out: bbox_out")));
  });

  it("totals: exact ones null, the known part a lower bound with what it leaves out", () => {
    const t = r.totals;
    assert.equal(t.params, null);
    assert.equal(t.macs, null);
    // 448 + 306 + 612 + 18,464 + 165; MACs 27·16·256 + 16·18·256 + 16·36·256.
    assert.equal(t.known?.params, 19_995);
    assert.equal(t.known?.macs, 110_592 + 73_728 + 147_456);
    assert.equal(t.known?.missing.params, "1 layer of type Python (rpn.proposal_layer.ProposalLayer) not counted");
    assert.match(
      t.known?.missing.macs ?? "",
      /^1 layer of type Python .* not counted; 3 layers not counted \(sizes depend on unbound rois: fc6, cls_score, cls_prob\)$/,
    );
  });

  it("the table, Markdown and CSV show the lower bound, never as a total", () => {
    const table = renderTable(r);
    assert.match(table, /^params {6}\? \(≥ 19,995 — 1 layer of type Python/m);
    assert.match(table, /^MACs {8}\? \(≥ 331\.78K — /m);
    assert.match(table, /^ {2}macs +≥ 331,776 /m);
    const md = renderMarkdown(r);
    assert.match(md, /- params: \? \(≥ 19,995 — 1 layer of type Python/);
    const csv = renderCsv(r).trim().split("\n");
    assert.equal(csv.at(-2), "(total),,partial,,,,,,,,,,");
    assert.match(csv.at(-1) ?? "", /^"?\(known part, lower bound\)"?,,.*,19995,19995,331776,/);
  });
});

describe("Caffe legacy and hand-merged files", () => {
  it("lower-case and underscore type names read as today's, with a note", () => {
    const r = run(`input: "data" input_dim: 1 input_dim: 1 input_dim: 6 input_dim: 6
      layer { name: "c" type: "convolution" bottom: "data" top: "c" convolution_param { num_output: 2 kernel_size: 3 } }
      layer { name: "r" type: "relu" bottom: "c" top: "c" }
      layer { name: "ip" type: "inner_product" bottom: "c" top: "ip" inner_product_param { num_output: 3 } }`);
    assert.equal(layer(r, "c").op, "Conv");
    assert.equal(layer(r, "r").op, "Relu");
    // conv 2·9 + 2 = 20; ip 2·4·4 = 32 features → 32·3 + 3 = 99.
    assert.equal(r.totals.params, 119);
    assert.ok(r.notes.some((n) => n.includes("'convolution' as Convolution") && n.includes("'inner_product' as InnerProduct")));
  });

  it("a file mixing `layer` and legacy `layers` is read in file order, with a warning", () => {
    const r = run(`input: "data" input_dim: 1 input_dim: 1 input_dim: 6 input_dim: 6
      layers { name: "c" type: CONVOLUTION bottom: "data" top: "c" convolution_param { num_output: 2 kernel_size: 3 } }
      layer { name: "r" type: "ReLU" bottom: "c" top: "r" }
      layers { name: "p" type: POOLING bottom: "r" top: "p" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }`);
    assert.deepEqual(
      r.layers.map((l) => l.name),
      ["c", "r", "p"],
    );
    assert.deepEqual(shapeOf(r, "p"), [1, 2, 2, 2]);
    assert.ok(r.warnings.some((w) => w.includes("mixes 1 'layer' and 2 legacy 'layers'")));
  });

  it("a Data layer with an input_param shape (as Netscope's presets write it) takes that shape", () => {
    const r = run(`layer { name: "data" type: "Data" top: "data" input_param { shape { dim: 10 dim: 3 dim: 227 dim: 227 } } }
      layer { name: "c" type: "Convolution" bottom: "data" top: "c" convolution_param { num_output: 4 kernel_size: 11 stride: 4 } }`);
    assert.deepEqual(r.inputs[0].shape, [10, 3, 227, 227]);
    assert.deepEqual(shapeOf(r, "c"), [10, 4, 55, 55]);
  });
});

/** GoogLeNet's tail: no size in the data layer, a 7×7 average pool (not global), then the classifier. */
const SYMBOLIC_TAIL = `name: "Tail"
layer { name: "data" type: "Data" top: "data" data_param { batch_size: 1 } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 8 kernel_size: 7 stride: 2 pad: 3 } }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layer { name: "conv2" type: "Convolution" bottom: "pool1" top: "conv2" convolution_param { num_output: 16 kernel_size: 3 pad: 1 } }
layer { name: "pool5" type: "Pooling" bottom: "conv2" top: "pool5" pooling_param { pool: AVE kernel_size: 7 stride: 1 } }
layer { name: "loss3/classifier" type: "InnerProduct" bottom: "pool5" top: "loss3/classifier" inner_product_param { num_output: 10 } }
`;

describe("Bug: a classifier after a pool on a symbolic input (GoogLeNet's loss3/classifier)", () => {
  it("unbound: the classifier's params are unknown and the total is null — its bias is not summed alone", () => {
    const r = run(SYMBOLIC_TAIL);
    assert.equal(layer(r, "loss3/classifier").params, null);
    assert.equal(r.totals.params, null);
    // conv1 8·3·49 + 8 = 1,184; conv2 16·8·9 + 16 = 1,168: the known part leaves the classifier out whole.
    assert.equal(r.totals.known?.params, 2_352);
    assert.match(r.totals.known?.missing.params ?? "", /1 layer not counted \(sizes depend on unbound height, width: loss3\/classifier\)/);
    // The shapes read as formulas of the symbols, not out(out(…)).
    assert.deepEqual(shapeOf(r, "pool1"), [1, 8, "⌊(height+1)/4⌋", "⌊(width+1)/4⌋"]);
    const table = renderTable(r);
    assert.ok(!table.includes("out("), "the table never writes out(out(…))");
    assert.match(table, /^note: dims height, width are unbound/m);
    assert.match(table, /^params {6}\? \(≥ 2,352 — 1 layer not counted/m);
  });

  it("bound with --input: the classifier's weight is sized from its input (16·50·50 features), as --explain counts it", () => {
    const r = run(SYMBOLIC_TAIL, { inputs: { data: [1, 3, 224, 224] } });
    // 224 → conv 112 → pool ⌈(112 − 3)/2⌉ + 1 = 56 → conv 56 → pool 7/1: 50.
    assert.deepEqual(shapeOf(r, "pool5"), [1, 16, 50, 50]);
    assert.equal(layer(r, "loss3/classifier").params, 40_000 * 10 + 10);
    assert.equal(r.totals.params, 1_184 + 1_168 + 400_010);
    assert.equal(r.totals.known, undefined);
  });
});
