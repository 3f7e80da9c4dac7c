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

/**
 * Writes the shade of weight w (0..1) at pixel p of an RGBA buffer: by √w, so that the small weights of a
 * row spread over hundreds of keys still show (the legend says so).
 */
export function shade(px: Uint8ClampedArray, p: number, w: number): void {
  const i = 3 * Math.max(0, Math.min(255, Math.round(Math.sqrt(Math.max(0, w)) * 255)));
  px[4 * p] = LUT[i];
  px[4 * p + 1] = LUT[i + 1];
  px[4 * p + 2] = LUT[i + 2];
  px[4 * p + 3] = 255;
}

/** The colour of head h (0-based), as CSS. */
export function headColor(h: number): string {
  return schemeTableau10[h % schemeTableau10.length];
}
