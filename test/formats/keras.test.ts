import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { strToU8, zipSync } from "fflate";
import { analyze } from "../../src/analysis/index.js";
import { ConvscopeError } from "../../src/core/errors.js";
import { bufferSource, READERS, readModel } from "../../src/formats/index.js";
import { sniffKerasJson, sniffTfjsLayers } from "../../src/formats/keras/index.js";
import { KerasConfig } from "./keras-apps.js";

const fixture = (name: string) => new URL(`../fixtures/keras/${name}`, import.meta.url);
const fromFile = (name: string) => readModel(bufferSource(name, new Uint8Array(readFileSync(fixture(name)))));
const fromJson = (config: object, name = "model.json") => readModel(bufferSource(name, strToU8(JSON.stringify(config))));
const layerOf = (r: ReturnType<typeof analyze>, name: string) => {
  const l = r.layers.find((x) => x.name === name);
  assert.ok(l, `no layer ${name}`);
  return l;
};

describe("Keras reader: models", () => {
  it("a Keras 2 Sequential model.to_json() (input shape on the first layer)", () => {
    const g = fromFile("sequential_k2.json");
    assert.equal(g.format, "keras");
    assert.deepEqual(g.inputs, ["conv1_input"]);
    const r = analyze(g);
    // conv1: 3·3·1·32 + 32 = 320 params, 26·26·32·9 = 194,688 MACs.
    // conv2 (same): 3·3·32·64 + 64 = 18,496 params, 13·13·64·288 = 3,115,008 MACs.
    // bn: 4·64 = 256 (128 moving statistics). dense: 13·13·64 = 10,816 → 10: 108,170 params, 108,160 MACs.
    assert.equal(r.totals.params, 127_242);
    assert.equal(r.totals.trainable_params, 127_114);
    assert.equal(r.totals.non_trainable_params, 128);
    assert.equal(r.totals.macs, 3_417_856);
    assert.deepEqual(r.tensors.flat.shape, [1, 10_816]);
    assert.ok(g.notes.some((n) => n.includes("channels-first")));
  });

  it("a Keras 3 Functional model with a shared nested model, a shared layer and a frozen layer", () => {
    const g = fromFile("siamese_k3.json");
    const r = analyze(g);
    // The nested Sequential 'encoder' runs twice: nodes encoder/… and encoder_1/…, one set of weights.
    const names = r.layers.map((l) => l.name);
    for (const n of ["encoder/conv", "encoder/bn", "encoder/gap", "encoder_1/conv", "encoder_1/gap", "proj", "proj_1", "concat", "head"]) {
      assert.ok(names.includes(n), `missing ${n} in ${names.join(", ")}`);
    }
    // conv 3·3·3·4 + 4 = 112 and bn 4·4 = 16 (8 moving statistics), counted once;
    // proj 4·8 + 8 = 40, once for its two calls; head 16·1 + 1 = 17, frozen (trainable: false).
    assert.equal(r.totals.params, 112 + 16 + 40 + 17);
    assert.equal(r.totals.non_trainable_params, 8 + 17);
    // Every call still shows its layer's parameters.
    assert.equal(layerOf(r, "encoder_1/conv").params, 112);
    assert.equal(layerOf(r, "proj_1").params, 40);
    assert.equal(layerOf(r, "head").trainable_params, 0);
    // Each call computes: conv 16·16·4·27 = 27,648 twice, proj 32 twice, head 16.
    assert.equal(r.totals.macs, 2 * 27_648 + 2 * 32 + 16);
    assert.deepEqual(r.tensors.concat.shape, [1, 16]);
    assert.deepEqual(
      g.inputs.map((i) => g.tensors.get(i)?.shape),
      [
        ["N", 3, 16, 16],
        ["N", 3, 16, 16],
      ],
    );
  });

  it("a nested Functional model is inlined under its name; the outer frozen flag freezes it", () => {
    const inner = new KerasConfig("backbone", 2);
    let x = inner.input("inner_in", [null, 8, 8, 2]);
    x = inner.layer("Conv2D", "conv", { filters: 3, kernel_size: [1, 1], padding: "valid" }, x);
    const innerJson = inner.build([x]) as { class_name: string; config: Record<string, unknown> };
    innerJson.config.trainable = false;
    const outer = new KerasConfig("outer", 2);
    let y = outer.input("img", [null, 8, 8, 2]);
    y = outer.nested({ class_name: innerJson.class_name, config: innerJson.config }, y);
    y = outer.layer("Conv2D", "conv", { filters: 1, kernel_size: [1, 1] }, y);
    const g = fromJson(outer.build([y]));
    const r = analyze(g);
    assert.deepEqual(
      r.layers.map((l) => l.name),
      ["backbone/conv", "conv"],
    );
    // backbone/conv: 2·3 + 3 = 9, frozen with its model; conv: 3·1 + 1 = 4.
    assert.equal(r.totals.params, 13);
    assert.equal(r.totals.non_trainable_params, 9);
    assert.ok(g.tensors.has("backbone/conv/kernel") && g.tensors.has("conv/kernel"));
  });

  it("a layer called before the layers it depends on are listed (Keras' call order, not list order)", () => {
    const m = new KerasConfig("order", 2);
    const a = m.input("a", [null, 4]);
    const d = m.layer("Dense", "shared", { units: 4 }, a);
    const e = m.layer("Dense", "later", { units: 4 }, d);
    const again = m.call("shared", e); // listed with 'shared', runs after 'later'
    const r = analyze(fromJson(m.build([again])));
    assert.deepEqual(
      r.layers.map((l) => l.name),
      ["shared", "later", "shared_1"],
    );
    assert.equal(r.totals.params, 2 * (16 + 4));
  });

  it("an unknown layer class is an unknown node; the rest is still analysed", () => {
    const m = new KerasConfig("custom", 3);
    let x = m.input("x", [null, 8, 8, 3]);
    x = m.layer("Conv2D", "c1", { filters: 4, kernel_size: [3, 3], padding: "same" }, x);
    x = m.layer("MyFancyBlock", "fancy", { whatever: 1 }, x);
    const r = analyze(fromJson(m.build([x])));
    const fancy = layerOf(r, "fancy");
    assert.equal(fancy.op, "keras::MyFancyBlock");
    assert.equal(fancy.status, "unknown");
    assert.equal(r.totals.unknown_layers, 1);
    assert.match(r.totals.partial ?? "", /keras::MyFancyBlock/);
    // c1 is still counted: 3·3·3·4 + 4 = 112 params, 8·8·4·27 = 6,912 MACs.
    assert.equal(layerOf(r, "c1").params, 112);
    assert.equal(layerOf(r, "c1").macs, 6_912);
  });

  it("after an unknown layer, Keras 3's recorded tensor shapes keep the next layers' weights known", () => {
    const m = new KerasConfig("custom3", 3);
    const x = m.layer("MyBlock", "block", {}, m.input("x", [null, 8, 8, 3]));
    // Without a shape the next conv's input channels are unknown; Keras 3 records (None, 8, 8, 6).
    const y = m.layer("Conv2D", "c", { filters: 4, kernel_size: [3, 3], padding: "same" }, { ...x, shape: [null, 8, 8, 6] });
    const g = fromJson(m.build([y]));
    assert.deepEqual(g.tensors.get("block")?.shape, ["N", 6, 8, 8]);
    // c: 3·3·6·4 + 4 = 220 params. (Its MACs, 8·8·4·54 = 13,824, stay unknown for now: the
    // analysis binds the input's batch N to 1 but not the N in a declared intermediate shape.)
    const r = analyze(g);
    assert.equal(layerOf(r, "c").params, 220);
    assert.equal(r.totals.params, 220);
    assert.equal(layerOf(r, "block").status, "unknown");
  });

  it("None dims become symbols; channels_first models keep their shapes", () => {
    const m = new KerasConfig("fcn", 2);
    let x = m.input("x", [null, null, null, 3]);
    x = m.layer("Conv2D", "c", { filters: 4, kernel_size: [3, 3], padding: "same" }, x);
    const g = fromJson(m.build([x]));
    assert.deepEqual(g.tensors.get("x")?.shape, ["N", 3, "H", "W"]);
    // Bound at analysis time, the numbers follow: 10·12·4·27 = 12,960 MACs.
    assert.equal(analyze(g, { inputs: { x: [1, 3, 10, 12] } }).totals.macs, 12_960);

    const cf = new KerasConfig("cf", 2);
    let y = cf.input("y", [null, 3, 10, 12]);
    y = cf.layer("Conv2D", "c", { filters: 4, kernel_size: [3, 3], padding: "valid", data_format: "channels_first" }, y);
    y = cf.layer("BatchNormalization", "bn", { axis: 1 }, y);
    const r = analyze(fromJson(cf.build([y])));
    assert.deepEqual(r.inputs[0].shape, [1, 3, 10, 12]);
    assert.deepEqual(r.tensors.bn.shape, [1, 4, 8, 10]);
    assert.equal(r.totals.params, 3 * 9 * 4 + 4 + 4 * 4);
  });
});

describe("Keras reader: .keras archives", () => {
  const config = JSON.parse(readFileSync(fixture("siamese_k3.json"), "utf8"));
  const meta = { keras_version: "3.4.1", date_saved: "2024-07-01@12:00:00" };

  for (const level of [0, 6] as const) {
    it(`reads config.json from a ${level === 0 ? "stored" : "deflated"} zip, never the weights`, () => {
      // 200 kB of incompressible "weights" that must never be read.
      let seed = 1;
      const weights = Uint8Array.from({ length: 200_000 }, () => {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
        return seed >>> 16;
      });
      const zip = zipSync(
        { "metadata.json": strToU8(JSON.stringify(meta)), "config.json": strToU8(JSON.stringify(config)), "model.weights.h5": weights },
        { level },
      );
      const reads: [number, number][] = [];
      const src = bufferSource("siamese.keras", zip);
      const counted = {
        ...src,
        read: (o: number, n: number) => {
          reads.push([o, n]);
          return src.read(o, n);
        },
      };
      const g = readModel(counted);
      assert.equal(g.format, "keras");
      assert.equal(analyze(g).totals.params, 185);
      assert.ok(g.notes.some((n) => n.includes("keras 3.4.1")));
      // Only the sniffed head (4 kB), a 1 kB tail with the directory and the two small members are read.
      const bytes = reads.reduce((a, [, n]) => a + n, 0);
      assert.ok(bytes < 20_000, `read ${bytes} of ${zip.length} bytes`);
    });
  }

  it("is recognised by content without the .keras name; a zip without config.json is refused", () => {
    const zip = zipSync({ "metadata.json": strToU8("{}"), "config.json": strToU8(JSON.stringify(config)) });
    assert.equal(readModel(bufferSource("download.bin", zip)).format, "keras");
    const bad = zipSync({ "metadata.json": strToU8("{}"), "weights.h5": new Uint8Array(10) });
    assert.throws(() => readModel(bufferSource("bad.keras", bad)), /no config\.json/);
  });

  it("a truncated archive is a one-line error", () => {
    const zip = zipSync({ "config.json": strToU8(JSON.stringify(config)) });
    assert.throws(
      () => readModel(bufferSource("cut.keras", zip.subarray(0, zip.length - 30))),
      (e: unknown) => e instanceof ConvscopeError && /end-of-central-directory|out of range/.test(e.message),
    );
  });
});

describe("TensorFlow.js layers models", () => {
  it("reads the Keras topology and cross-checks the weights manifest", () => {
    const g = fromFile("tfjs_layers_model.json");
    assert.equal(g.format, "tfjs-layers");
    const r = analyze(g);
    // conv2d 3·3·1·8 + 8 = 80; dense 13·13·8 = 1,352 → 10: 13,530. MACs 26·26·8·9 + 13,520 = 62,192.
    assert.equal(r.totals.params, 13_610);
    assert.equal(r.totals.macs, 62_192);
    const note = g.notes.find((n) => n.startsWith("weights manifest"));
    assert.equal(
      note,
      "weights manifest: 4 weights (13610 elements, shards not read), 4 matched by name; their shapes agree with the topology",
    );
  });

  it("reports manifest shapes that disagree with the topology", () => {
    const json = JSON.parse(readFileSync(fixture("tfjs_layers_model.json"), "utf8"));
    json.weightsManifest[0].weights[2].shape = [1000, 10];
    const g = fromJson(json);
    assert.match(
      g.notes.find((n) => n.startsWith("weights manifest")) ?? "",
      /differ for 1: dense\/kernel \(manifest 1000×10, topology 1352×10\)/,
    );
  });

  it("a graph model is not claimed; an old layers model without a format field is", () => {
    const enc = (o: object) => strToU8(JSON.stringify(o));
    assert.equal(sniffTfjsLayers(enc({ format: "graph-model", modelTopology: { node: [] } })), false);
    assert.equal(sniffTfjsLayers(enc({ modelTopology: { keras_version: "2.1.6", model_config: { class_name: "Sequential" } } })), true);
    assert.equal(sniffKerasJson(enc({ modelTopology: { class_name: "Sequential", config: {} } })), false);
    assert.equal(sniffKerasJson(enc({ class_name: "Functional", config: { layers: [] } })), true);
  });

  it("claims none of the graph models shipped in @vladmandic/human (it holds no layers model)", () => {
    const dir = new URL("../../node_modules/@vladmandic/human/models/", import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith(".json") && f !== "models.json");
    assert.ok(files.length >= 10);
    for (const f of files) {
      const head = readFileSync(new URL(f, dir)).subarray(0, 4096);
      assert.match(new TextDecoder().decode(head), /"format":\s*"graph-model"/, f);
      assert.equal(sniffTfjsLayers(head) || sniffKerasJson(head), false, f);
    }
  });
});

describe("Keras reader: detection and errors", () => {
  it('registers before the convscope spec reader (whose sniff also matches a "layers" key)', () => {
    const formats = READERS.map((r) => r.format);
    assert.ok(formats.indexOf("keras") < formats.indexOf("spec"));
  });

  it("bad input gives one-line errors naming the layer", () => {
    const m = new KerasConfig("bad", 2);
    const x = m.layer("Conv2D", "c", { filters: 4, kernel_size: [3, 3], padding: "mirror" }, m.input("x", [null, 8, 8, 3]));
    assert.throws(
      () => fromJson(m.build([x])),
      (e: unknown) => e instanceof ConvscopeError && e.layer === "c" && /padding 'mirror'/.test(e.message),
    );

    const m2 = new KerasConfig("bad2", 2);
    const y = m2.layer("Add", "add", {}, m2.input("x", [null, 4]));
    assert.throws(() => fromJson(m2.build([y])), /needs at least two inputs/);

    const m3 = new KerasConfig("bad3", 2);
    const z = m3.layer("Dense", "d", { units: 4 }, { layer: "ghost", node: 0, tensor: 0 });
    assert.throws(() => fromJson(m3.build([z])), /'ghost', which is not a layer of the model/);

    assert.throws(() => readModel(bufferSource("x.json", strToU8('{"class_name": "Functional", "config": {'))), /not valid JSON/);
  });
});
