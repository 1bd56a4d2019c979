/**
 * Synthetic models for the page's tests and benchmark, as convscope JSON specs: a deep
 * chain of conv–bn–relu blocks with a residual add every block pair, so the graph view has
 * merges to lay out and the table has exactly `layers` rows.
 */
export function deepSpec(layers: number, name = `deep-${layers}`): string {
  const out: Record<string, unknown>[] = [];
  let prev = "image";
  let skip = "image";
  let block = 0;
  while (out.length < layers) {
    const left = layers - out.length;
    const b = `b${block}`;
    if (left >= 4) {
      out.push({ name: `${b}.conv`, type: "conv", out: 8, kernel: 3, pad: 1, bias: false, inputs: [prev] });
      out.push({ name: `${b}.bn`, type: "bn" });
      out.push({ name: `${b}.relu`, type: "relu" });
      out.push({ name: `${b}.add`, type: "add", inputs: [`${b}.relu`, skip] });
      prev = `${b}.add`;
      skip = prev;
      block++;
    } else {
      out.push({ name: `${b}.tail${left}`, type: "relu", inputs: [prev] });
      prev = `${b}.tail${left}`;
    }
  }
  // 8 channels from the start so every add has matching shapes.
  return JSON.stringify({ name, inputs: { image: [1, 8, 16, 16] }, layers: out });
}
