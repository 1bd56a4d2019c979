import assert from "node:assert/strict";
import { test } from "node:test";
import { cli } from "../support/cli.js";

// Zoo AlexNet (227×227): conv5 r 163, S 16, P 64; pool5 r 195, S 32, P 64 (shared/notes).

test("--rf TENSOR@y,x: the box a unit sees, unclipped and clipped to the image, and its centre", () => {
  const { code, out } = cli("zoo:alexnet", "--rf", "pool5@0,3");
  assert.equal(code, 0);
  // y: 0·32 − 64 = −64 … −64 + 194 = 130; x: 3·32 − 64 = 32 … 226.
  assert.match(out, /sees input -64…130 × 32…226; inside the image 0…130 × 32…226/);
  assert.match(out, /centre 33, 129/);
  const box = JSON.parse(cli("zoo:alexnet", "--rf", "pool5@0,3", "--json").out);
  assert.deepEqual(box, {
    tensor: "pool5",
    unit: [0, 3],
    start: [-64, 32],
    end: [130, 226],
    clipped: { start: [0, 32], end: [130, 226] },
    centre: [33, 129],
    local: false,
  });
});

test("--rf-pixel: the units whose field holds a pixel", () => {
  // conv5 unit u sees 16u − 64 … 16u + 98, which holds 100 for u = 1 … 10.
  const { code, out } = cli("zoo:alexnet", "--rf-pixel", "100,100", "--rf-tensor", "conv5");
  assert.equal(code, 0);
  assert.equal(out, "units of conv5 that see pixel 100,100: 1…10 × 1…10\n");
});

test("--rf-min: the first tensor whose field reaches N pixels", () => {
  // conv3 and relu3 see 99 pixels, conv4 131.
  assert.match(cli("zoo:alexnet", "--rf-min", "100").out, /^conv4 \(layer conv4\) is the first whose field reaches 100 px: 131×131/);
  assert.match(cli("zoo:alexnet", "--rf-min", "5000").out, /no tensor's local field reaches 5000 px/);
});

test("--rf-table: one row per tensor with r, S, P", () => {
  const rows = cli("zoo:alexnet", "--rf-table").out.split("\n");
  assert.match(rows[0], /^tensor\s+op\s+r\s+S\s+P\s+note$/);
  assert.ok(rows.some((r) => /^conv2\s+Conv\s+51\s+8\s+16$/.test(r)));
  assert.ok(rows.some((r) => /^pool5\s+MaxPool\s+195\s+32\s+64$/.test(r)));
  assert.ok(rows.some((r) => /^fc6\s+Gemm\s+global$/.test(r)));
});

test("receptive-field queries on bad input: one line, exit 2", () => {
  const cases: [string[], RegExp][] = [
    [["--rf", "nope@1,1"], /no tensor 'nope' in the model/],
    [["--rf", "fc6@0"], /every unit of 'fc6' sees the whole image \(global\)/],
    [["--rf", "pool5@6,0"], /unit 6,0 is outside 'pool5' \(6×6\)/],
    [["--rf", "pool5"], /--rf takes TENSOR@y,x/],
    [["--rf-pixel", "1,1"], /--rf-pixel needs --rf-tensor TENSOR/],
    [["--rf-pixel", "300,1", "--rf-tensor", "conv1"], /pixel 300,1 is outside the image \(227×227\)/],
  ];
  for (const [args, want] of cases) {
    const { code, err } = cli("zoo:alexnet", ...args);
    assert.equal(code, 2, args.join(" "));
    assert.match(err, want);
    assert.equal(err.trimEnd().split("\n").length, 1);
  }
});
