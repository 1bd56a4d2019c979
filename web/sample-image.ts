/**
 * A procedural picture to draw fields over (the page loads no image from anywhere): sky,
 * sun, two mountain ridges, a lake and a checkered field, with enough edges at every
 * scale that a 3-pixel field and a 200-pixel field both land on something recognisable.
 */
export function sampleImage(width: number, height: number): HTMLCanvasElement {
  const c = document.createElement("canvas");
  c.width = width;
  c.height = height;
  const g = c.getContext("2d")!;
  const W = width;
  const H = height;
  const sky = g.createLinearGradient(0, 0, 0, H * 0.6);
  sky.addColorStop(0, "#2b5fa8");
  sky.addColorStop(1, "#f3c98b");
  g.fillStyle = sky;
  g.fillRect(0, 0, W, H);

  g.fillStyle = "#fff4c2";
  g.beginPath();
  g.arc(W * 0.74, H * 0.22, Math.min(W, H) * 0.09, 0, Math.PI * 2);
  g.fill();

  const ridge = (base: number, amp: number, f: number, phase: number, color: string) => {
    g.fillStyle = color;
    g.beginPath();
    g.moveTo(0, H);
    for (let x = 0; x <= W; x += Math.max(1, W / 200)) {
      const t = x / W;
      const y = base + amp * (Math.sin(t * f + phase) * 0.6 + Math.sin(t * f * 2.7 + phase * 1.7) * 0.3 + Math.sin(t * f * 7.1) * 0.1);
      g.lineTo(x, H * y);
    }
    g.lineTo(W, H);
    g.closePath();
    g.fill();
  };
  ridge(0.45, 0.1, 6, 0.5, "#6d6f8f");
  ridge(0.55, 0.07, 9, 2.1, "#3f5d4a");

  g.fillStyle = "#4f86b8";
  g.fillRect(0, H * 0.62, W, H * 0.08);

  const rows = 6;
  const cols = 10;
  const top = H * 0.7;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      g.fillStyle = (i + j) % 2 === 0 ? "#c8a24a" : "#7a9a3a";
      g.fillRect((j * W) / cols, top + (i * (H - top)) / rows, W / cols + 1, (H - top) / rows + 1);
    }
  }
  // A small house: sharp corners for small fields.
  const hx = W * 0.18;
  const hy = H * 0.56;
  const hw = W * 0.12;
  g.fillStyle = "#e8e2d0";
  g.fillRect(hx, hy, hw, hw * 0.7);
  g.fillStyle = "#a33b2b";
  g.beginPath();
  g.moveTo(hx - hw * 0.1, hy);
  g.lineTo(hx + hw / 2, hy - hw * 0.5);
  g.lineTo(hx + hw * 1.1, hy);
  g.closePath();
  g.fill();
  g.fillStyle = "#34302a";
  g.fillRect(hx + hw * 0.4, hy + hw * 0.3, hw * 0.2, hw * 0.4);
  return c;
}
