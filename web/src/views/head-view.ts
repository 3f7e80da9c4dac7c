// The head view (after bertviz's): queries on the left, keys on the right, a line per weight, its opacity the weight.

import type { AttentionMap } from '../../../src/inference/attentions.js';
import { headColor } from './colors.js';
import { headMatrix } from './heatmap.js';

/** Options of {@link drawHeadView}. */
export interface HeadViewOptions {
  /** The heads drawn (0-based), each in its colour. */
  heads: readonly number[];
  /** Only this query's lines (a click on a left token), or all. */
  query?: number | null;
  /**
   * Lines below this weight are skipped. Default 0.01; past 64 rows, the weight of the faintest opacity step
   * (1/32 of full, shared between heads when several are drawn): tens of thousands of near-invisible lines
   * would cost seconds to rasterize and add a haze.
   */
  threshold?: number;
}

const ROW = 18;
const TEXT_W = 110;
const GAP = 160;
/** The tallest the view grows before its rows shrink (512 tokens at 18 px would be 9,000 px of lines to rasterize). */
const MAX_HEIGHT = 900;

/** Pixels per token row: 18, less for long inputs so that the view stays under MAX_HEIGHT (at least 1). */
export function rowHeight(rows: number): number {
  return Math.max(1, Math.min(ROW, Math.floor(MAX_HEIGHT / Math.max(1, rows))));
}

/**
 * Draws one layer's attention as lines between token columns on a canvas. A click on a query token
 * calls `onQuery` with its index (or null when the same one is clicked again).
 */
export function drawHeadView(canvas: HTMLCanvasElement, map: AttentionMap, queries: readonly string[], keys: readonly string[], o: HeadViewOptions): void {
  const [, , T, S] = map.shape;
  const rows = Math.max(T, S);
  const row = rowHeight(rows);
  canvas.dataset.row = String(row);
  const width = TEXT_W * 2 + GAP;
  const height = rows * row + 8;
  const dpr = Math.min(2, globalThis.devicePixelRatio || 1);
  canvas.width = width * dpr;
  canvas.height = height * dpr;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  // Rows too short for a label of their own: every k-th token labelled, with its position.
  const every = Math.ceil(13 / row);
  ctx.font = `${every > 1 ? 11 : 13}px ui-monospace, "DejaVu Sans Mono", monospace`;
  ctx.textBaseline = 'middle';
  const y = (i: number) => 4 + i * row + row / 2;
  const label = (tokens: readonly string[], i: number) => (every > 1 ? `${i + 1}: ${tokens[i] ?? ''}` : tokens[i] ?? '');
  const x0 = TEXT_W;
  const x1 = TEXT_W + GAP;
  ctx.lineWidth = Math.min(2, row);
  // One path per head and opacity step (32 steps): a few dozen strokes instead of one per line, for long inputs.
  const STEPS = 32;
  const scale = Math.max(1, o.heads.length * 0.5);
  const threshold = o.threshold ?? (rows > 64 ? scale / STEPS : 0.01);
  let lines = 0;
  for (const h of o.heads) {
    const m = headMatrix(map, h);
    const paths = Array.from({ length: STEPS }, () => new Path2D());
    const used = new Uint8Array(STEPS);
    for (let t = 0; t < T; t++) {
      if (o.query != null && o.query !== t) continue;
      for (let s = 0; s < S; s++) {
        const w = m.weights[t * S + s];
        if (w < threshold) continue;
        const k = Math.min(STEPS - 1, Math.floor((Math.min(1, w / scale)) * STEPS));
        paths[k].moveTo(x0, y(t));
        paths[k].lineTo(x1, y(s));
        used[k] = 1;
        lines++;
      }
    }
    ctx.strokeStyle = headColor(h);
    for (let k = 0; k < STEPS; k++) {
      if (!used[k]) continue;
      ctx.globalAlpha = (k + 0.5) / STEPS;
      ctx.stroke(paths[k]);
    }
  }
  ctx.globalAlpha = 1;
  canvas.dataset.lines = String(lines);
  ctx.fillStyle = '#222';
  ctx.textAlign = 'right';
  for (let t = 0; t < T; t++) {
    if (t % every !== 0 && o.query !== t) continue;
    ctx.fillStyle = o.query === t ? '#c0392b' : '#222';
    ctx.fillText(label(queries, t), x0 - 6, y(t), TEXT_W - 10);
  }
  ctx.textAlign = 'left';
  ctx.fillStyle = '#222';
  for (let s = 0; s < S; s += every) ctx.fillText(label(keys, s), x1 + 6, y(s), TEXT_W - 10);
}

/** The query row under a click on the head view's canvas, or null outside the left column. */
export function queryAt(canvas: HTMLCanvasElement, e: MouseEvent, T: number): number | null {
  const r = canvas.getBoundingClientRect();
  const x = e.clientX - r.left;
  const t = Math.floor((e.clientY - r.top - 4) / Number(canvas.dataset.row ?? ROW));
  return x < TEXT_W + 20 && t >= 0 && t < T ? t : null;
}
