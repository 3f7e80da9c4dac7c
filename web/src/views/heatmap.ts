// Attention heatmaps on canvas: one pixel per (query, key) weight, drawn small for the model view or large with labels.

import type { AttentionMap } from '../../../src/inference/attentions.js';
import { shadeWeights } from './colors.js';

/** One head's rows of a map [1, H, T, S]: weights (and scores) as T·S views into the map's arrays. */
export interface HeadMatrix {
  T: number;
  S: number;
  weights: Float32Array;
  scores: Float32Array | null;
}

/** Head h of a map (views, no copy). */
export function headMatrix(map: AttentionMap, h: number): HeadMatrix {
  const [, , T, S] = map.shape;
  const at = h * T * S;
  return { T, S, weights: map.data.subarray(at, at + T * S), scores: map.scores ? map.scores.subarray(at, at + T * S) : null };
}

/** Draws a head's weights into `canvas` at one pixel per cell (CSS scales it, pixelated). */
export function drawHeatmap(canvas: HTMLCanvasElement, m: HeadMatrix): void {
  if (canvas.width !== m.S) canvas.width = m.S;
  if (canvas.height !== m.T) canvas.height = m.T;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(m.S, m.T);
  shadeWeights(img.data, m.weights);
  ctx.putImageData(img, 0, 0);
}

/** What the large heatmap tells its owner when the pointer is over a cell (or left it: null). */
export type CellHandler = (cell: { t: number; s: number } | null) => void;

/**
 * The selected head large: queries down the left, keys along the top, the weights as shades.
 * Hovering a cell calls `onCell`; the caller shows its numbers.
 */
export function heatmapDetail(m: HeadMatrix, queries: readonly string[], keys: readonly string[], onCell: CellHandler): HTMLElement {
  const cell = Math.max(1, Math.min(28, Math.floor(440 / Math.max(m.T, m.S))));
  const labels = cell >= 10;
  const root = document.createElement('div');
  root.className = 'heatmap-detail';
  const grid = document.createElement('div');
  grid.className = 'heatmap-grid';
  grid.style.gridTemplateColumns = labels ? 'auto auto' : 'auto';
  if (labels) {
    grid.append(document.createElement('div'));
    const top = document.createElement('div');
    top.className = keys.every((k) => k.length <= 3) ? 'keys short' : 'keys';
    top.style.width = `${m.S * cell}px`;
    for (const k of keys) {
      const d = document.createElement('span');
      d.textContent = k;
      d.style.width = `${cell}px`;
      top.append(d);
    }
    grid.append(top);
    const left = document.createElement('div');
    left.className = 'queries';
    for (const q of queries) {
      const d = document.createElement('span');
      d.textContent = q;
      d.style.height = `${cell}px`;
      d.style.lineHeight = `${cell}px`;
      left.append(d);
    }
    grid.append(left);
  }
  const canvas = document.createElement('canvas');
  canvas.className = 'heat';
  canvas.style.width = `${m.S * cell}px`;
  canvas.style.height = `${m.T * cell}px`;
  drawHeatmap(canvas, m);
  canvas.addEventListener('mousemove', (e) => {
    const r = canvas.getBoundingClientRect();
    const s = Math.floor(((e.clientX - r.left) / r.width) * m.S);
    const t = Math.floor(((e.clientY - r.top) / r.height) * m.T);
    onCell(t >= 0 && t < m.T && s >= 0 && s < m.S ? { t, s } : null);
  });
  canvas.addEventListener('mouseleave', () => onCell(null));
  grid.append(canvas);
  root.append(grid);
  return root;
}
