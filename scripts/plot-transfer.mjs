#!/usr/bin/env node
// Draws the transfer-learning table (scripts/transfer-table.sh's JSON) as an SVG: test accuracy and spam F1
// against the share of training labels (log scale), one line per model (mean of the seeds, bars min to max).
//
//   node scripts/plot-transfer.mjs runs/transfer/transfer-table.json docs/transfer.svg [baseline.json]
//
// baseline.json (optional): the same shape, { runs: [{ model, fraction, seed, metrics: { accuracy, f1 } }] },
// e.g. the bag-of-words logistic regression of scripts/spam_baseline.py written as JSON.
// Hand-written SVG: no chart package, nothing to install, the same bytes for the same input.

import { readFileSync, writeFileSync } from 'node:fs';

const [input, output = 'transfer.svg', baselineFile] = process.argv.slice(2);
if (!input) {
  process.stderr.write('usage: node scripts/plot-transfer.mjs TABLE.json [OUT.svg] [BASELINE.json]\n');
  process.exit(2);
}
const runs = [...JSON.parse(readFileSync(input, 'utf8')).runs];
if (baselineFile) runs.push(...JSON.parse(readFileSync(baselineFile, 'utf8')).runs.map((r) => ({ ...r, model: r.model ?? 'baseline' })));

const MODELS = [...new Set(runs.map((r) => r.model))];
const COLORS = { 'bert-scratch': '#888888', 'bert-pretrained': '#1f77b4', 'gpt-pretrained': '#d62728', baseline: '#2ca02c' };
const PALETTE = ['#9467bd', '#8c564b', '#e377c2', '#17becf'];
const color = (m, i) => COLORS[m] ?? PALETTE[i % PALETTE.length];
const FRACTIONS = [...new Set(runs.map((r) => r.fraction))].sort((a, b) => a - b);

/** Mean, min and max of a metric over the seeds of one model at one fraction (null when there are none). */
function stats(model, fraction, metric) {
  const xs = runs.filter((r) => r.model === model && r.fraction === fraction).map((r) => r.metrics[metric]).filter(Number.isFinite);
  if (xs.length === 0) return null;
  return { mean: xs.reduce((a, b) => a + b, 0) / xs.length, min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

const W = 360;
const H = 280;
const M = { left: 52, right: 14, top: 34, bottom: 44 };
const f = (x) => x.toFixed(1);

/** One panel: a metric against the label fraction, at horizontal offset `dx`. */
function panel(metric, title, dx) {
  const all = runs.map((r) => r.metrics[metric]).filter(Number.isFinite);
  const lo = Math.max(0, Math.floor(Math.min(...all) * 20) / 20);
  const hi = Math.min(1, Math.ceil(Math.max(...all) * 20) / 20 + 1e-9);
  const lx = FRACTIONS.map(Math.log10);
  const x = (fr) => dx + M.left + ((Math.log10(fr) - lx[0]) / Math.max(lx.at(-1) - lx[0], 1e-9)) * (W - M.left - M.right);
  const y = (v) => M.top + (1 - (v - lo) / Math.max(hi - lo, 1e-9)) * (H - M.top - M.bottom);
  const out = [];
  out.push(`<text x="${f(dx + W / 2)}" y="18" text-anchor="middle" font-weight="bold">${title}</text>`);
  out.push(`<line x1="${f(dx + M.left)}" y1="${f(H - M.bottom)}" x2="${f(dx + W - M.right)}" y2="${f(H - M.bottom)}" stroke="#000"/>`);
  out.push(`<line x1="${f(dx + M.left)}" y1="${f(M.top)}" x2="${f(dx + M.left)}" y2="${f(H - M.bottom)}" stroke="#000"/>`);
  const steps = 5;
  for (let i = 0; i <= steps; i++) {
    const v = lo + ((hi - lo) * i) / steps;
    out.push(`<line x1="${f(dx + M.left - 4)}" y1="${f(y(v))}" x2="${f(dx + W - M.right)}" y2="${f(y(v))}" stroke="#ddd"/>`);
    out.push(`<text x="${f(dx + M.left - 6)}" y="${f(y(v) + 4)}" text-anchor="end">${(100 * v).toFixed(1)}%</text>`);
  }
  for (const fr of FRACTIONS) out.push(`<text x="${f(x(fr))}" y="${f(H - M.bottom + 16)}" text-anchor="middle">${fr * 100}%</text>`);
  out.push(`<text x="${f(dx + W / 2)}" y="${f(H - 8)}" text-anchor="middle">training labels used</text>`);
  MODELS.forEach((m, i) => {
    const pts = FRACTIONS.map((fr) => [fr, stats(m, fr, metric)]).filter(([, s]) => s !== null);
    if (pts.length === 0) return;
    const c = color(m, i);
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map(([fr, s]) => `${f(x(fr))},${f(y(s.mean))}`).join(' ')}"/>`);
    for (const [fr, s] of pts) {
      out.push(`<line x1="${f(x(fr))}" y1="${f(y(s.min))}" x2="${f(x(fr))}" y2="${f(y(s.max))}" stroke="${c}"/>`);
      out.push(`<circle cx="${f(x(fr))}" cy="${f(y(s.mean))}" r="3" fill="${c}"><title>${m} at ${fr * 100}%: ${(100 * s.mean).toFixed(2)}% (min ${(100 * s.min).toFixed(2)}, max ${(100 * s.max).toFixed(2)}, ${s.n} seeds)</title></circle>`);
    }
  });
  return out.join('\n');
}

const legend = MODELS.map((m, i) => `<g transform="translate(${M.left + i * 150},${H + 10})"><rect width="14" height="4" y="-6" fill="${color(m, i)}"/><text x="20">${m}</text></g>`).join('\n');
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H + 24}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="#fff"/>
${panel('accuracy', 'SpamAssassin test accuracy', 0)}
${panel('f1', 'spam F1', W)}
${legend}
</svg>
`;
writeFileSync(output, svg);
process.stdout.write(`${runs.length} runs, ${MODELS.length} models → ${output}\n`);
