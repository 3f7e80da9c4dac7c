// Colours of the views: a weight's shade (d3's Blues), and one hue per head (d3's Tableau10).

import { interpolateBlues, schemeTableau10 } from 'd3-scale-chromatic';

/** 256 RGB triples from white to dark blue: index round(255 · weight). */
const LUT: Uint8Array = (() => {
  const out = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const [r, g, b] = (interpolateBlues(0.02 + 0.98 * (i / 255)).match(/\d+/g) ?? ['0', '0', '0']).map(Number); // 'rgb(r, g, b)'
    out[3 * i] = r;
    out[3 * i + 1] = g;
    out[3 * i + 2] = b;
  }
  return out;
})();

/** Entries of the weight → pixel table: fine enough that 1/512 (a uniform row over 512 keys) has its own shade. */
const STEPS = 4096;

/** The shade of weight i/(STEPS-1) as one little-endian RGBA word (by √w: see shadeWeights), for a Uint32Array over ImageData. */
const PIXELS: Uint32Array = (() => {
  const out = new Uint32Array(STEPS);
  for (let i = 0; i < STEPS; i++) {
    const j = 3 * Math.round(Math.sqrt(i / (STEPS - 1)) * 255);
    out[i] = (255 << 24 | LUT[j + 2] << 16 | LUT[j + 1] << 8 | LUT[j]) >>> 0;
  }
  return out;
})();

/**
 * Writes the shades of `weights` (0..1) into an RGBA buffer, one pixel each, in one pass through a table:
 * by √w, so that the small weights of a row spread over hundreds of keys still show (the legend says so).
 */
export function shadeWeights(px: Uint8ClampedArray, weights: ArrayLike<number>): void {
  const out = new Uint32Array(px.buffer, px.byteOffset, weights.length);
  const top = STEPS - 1;
  for (let p = 0; p < weights.length; p++) {
    const w = weights[p];
    out[p] = PIXELS[w > 0 ? (w < 1 ? (w * top + 0.5) | 0 : top) : 0];
  }
}

/** The colour of head h (0-based), as CSS. */
export function headColor(h: number): string {
  return schemeTableau10[h % schemeTableau10.length];
}
