// Work module of the browser demo: a Mandelbrot tile job. Every worker imports it, and so does the page
// (for the single-thread comparison it runs the very same `renderTile`).
import { WorkgroupJob } from '../../dist/index.browser.js';

/** The part of the plane on screen: centre and width (height follows the canvas aspect). */
export const VIEW = { cx: -0.74453, cy: 0.12172, width: 0.0042, maxIter: 1400 };

/** Palette stops (RGB, 0..1): night blue → blue → gold → white → rust, and back. */
const STOPS = [
  [0.0, 0.03, 0.1],
  [0.08, 0.24, 0.52],
  [0.96, 0.76, 0.32],
  [1, 1, 0.95],
  [0.58, 0.17, 0.06],
];
const INSIDE = [0.01, 0.01, 0.03];

/**
 * Renders one tile into `rgba` (width × height × 4 bytes, RGBA). Each pixel averages 2 × 2 samples
 * (anti-aliasing); each sample is coloured from its smooth escape count with a palette, and
 * points inside the set are near-black. Returns the iterations spent.
 */
export function renderTile(rgba, width, height, x0, y0, w, h, view = VIEW) {
  const scale = view.width / width;
  const left = view.cx - (width / 2) * scale;
  const top = view.cy - (height / 2) * scale;
  const max = view.maxIter;
  const half = scale / 2;
  let spent = 0;
  for (let y = y0; y < y0 + h; y++) {
    let at = (y * width + x0) * 4;
    for (let x = x0; x < x0 + w; x++, at += 4) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let s = 0; s < 4; s++) {
        const cr = left + (x + 0.25) * scale + (s & 1) * half;
        const ci = top + (y + 0.25) * scale + (s >> 1) * half;
        let zr = 0;
        let zi = 0;
        let zr2 = 0;
        let zi2 = 0;
        let n = 0;
        while (n < max && zr2 + zi2 <= 256) {
          zi = 2 * zr * zi + ci;
          zr = zr2 - zi2 + cr;
          zr2 = zr * zr;
          zi2 = zi * zi;
          n++;
        }
        spent += n;
        if (n >= max) {
          r += INSIDE[0];
          g += INSIDE[1];
          b += INSIDE[2];
        } else {
          // Smooth escape count → position in the palette (logarithmic: detail near the set, calm far away).
          const smooth = n + 1 - Math.log2(Math.log2(zr2 + zi2) / 2);
          const x = Math.max(0, (Math.log2(smooth) - 4.9) * 1.1) % STOPS.length;
          const i = Math.floor(x);
          const u = x - i;
          const e = u * u * (3 - 2 * u);
          const A = STOPS[i];
          const B = STOPS[(i + 1) % STOPS.length];
          r += A[0] + (B[0] - A[0]) * e;
          g += A[1] + (B[1] - A[1]) * e;
          b += A[2] + (B[2] - A[2]) * e;
        }
      }
      rgba[at] = r * 63.75;
      rgba[at + 1] = g * 63.75;
      rgba[at + 2] = b * 63.75;
      rgba[at + 3] = 255;
    }
  }
  return spent;
}

/** One tile of the picture, drawn straight into the shared RGBA buffer (zero copy). */
export class MandelbrotTile extends WorkgroupJob {
  constructor(rgba, width, height, tile) {
    super();
    this.rgba = rgba; // a Uint8ClampedArray on a SharedArrayBuffer: passed by reference
    this.width = width;
    this.height = height;
    this.tile = tile; // { id, x, y, w, h }
  }

  execute() {
    const t = this.tile;
    const started = performance.now();
    const iterations = renderTile(this.rgba, this.width, this.height, t.x, t.y, t.w, t.h);
    return { id: t.id, worker: this.isolateIndex, iterations, ms: performance.now() - started };
  }
}
