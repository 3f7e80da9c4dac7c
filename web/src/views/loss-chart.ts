// The live loss curve of training in the page: an SVG line (d3-shape) on linear scales (d3-scale).

import { scaleLinear } from 'd3-scale';
import { line } from 'd3-shape';

const W = 420;
const H = 200;
const M = { top: 10, right: 12, bottom: 28, left: 44 };

/** Draws losses (step, loss) into `svg`, replacing what was there. */
export function drawLossChart(svg: SVGSVGElement, points: readonly { step: number; loss: number }[]): void {
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('width', String(W));
  svg.setAttribute('height', String(H));
  const maxStep = Math.max(10, ...points.map((p) => p.step));
  const maxLoss = Math.max(0.5, ...points.map((p) => p.loss));
  const x = scaleLinear().domain([0, maxStep]).range([M.left, W - M.right]);
  const y = scaleLinear().domain([0, maxLoss]).nice().range([H - M.bottom, M.top]);
  const path = line<{ step: number; loss: number }>().x((p) => x(p.step)).y((p) => y(p.loss))(points as { step: number; loss: number }[]) ?? '';
  const xt = x.ticks(5).map((t) => `<g transform="translate(${x(t)},${H - M.bottom})"><line y2="4" stroke="#888"/><text y="16" text-anchor="middle">${t}</text></g>`).join('');
  const yt = y.ticks(4).map((t) => `<g transform="translate(${M.left},${y(t)})"><line x2="-4" stroke="#888"/><line x2="${W - M.left - M.right}" stroke="#eee"/><text x="-7" dy="4" text-anchor="end">${t}</text></g>`).join('');
  svg.innerHTML = `<g class="axis" font-size="10" fill="#555">${yt}${xt}</g>` +
    `<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#888"/>` +
    `<text x="${W / 2}" y="${H - 2}" font-size="10" text-anchor="middle" fill="#555">step</text>` +
    `<text transform="translate(11,${H / 2}) rotate(-90)" font-size="10" text-anchor="middle" fill="#555">loss</text>` +
    `<path d="${path}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>`;
}
