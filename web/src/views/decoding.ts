// How the answer was chosen: beam search step by step, and the next-token distribution at each position.

import type { BeamTrace, NextTokenDistribution, TracedHypothesis } from '../../../src/inference/trace.js';

const hyp = (h: TracedHypothesis, best: boolean): string => {
  const text = h.tokens.join(' ').replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return `<span class="hyp${best ? ' best' : ''}"><span class="toks">${text || '∅'}</span> <span class="score" title="log P = ${h.logProb.toFixed(3)}">${h.score.toFixed(3)}</span></span>`;
};

/**
 * Beam search as a table: one row per step, the live hypotheses kept (score = log P / lp) and the
 * finished ones so far; the answer's row marked.
 */
export function beamsTable(trace: BeamTrace): HTMLElement {
  const table = document.createElement('table');
  table.className = 'beams';
  table.dataset.testid = 'beams';
  const head = `<tr><th>step</th><th>live hypotheses (score = log P / lp(|Y|))</th><th>finished, best first</th></tr>`;
  const bestKey = trace.best ? trace.best.ids.join(',') : '';
  const rows = trace.steps.map((s) => `<tr><td>${s.step}</td><td>${s.live.map((h) => hyp(h, false)).join('')}</td>` +
    `<td>${s.finished.map((h) => hyp(h, h.ids.join(',') === bestKey)).join('')}</td></tr>`);
  table.innerHTML = `<caption>Beam search, ${trace.numBeams} beams</caption>${head}${rows.join('')}`;
  return table;
}

/** One small bar chart per chosen token: the most likely next tokens, the chosen one marked. */
export function distributionsStrip(list: readonly NextTokenDistribution[], title: string): HTMLElement {
  const root = document.createElement('div');
  root.className = 'distributions';
  root.dataset.testid = 'distributions';
  const h = document.createElement('h3');
  h.textContent = title;
  root.append(h);
  const strip = document.createElement('div');
  strip.className = 'strip';
  for (const d of list) {
    const box = document.createElement('div');
    box.className = 'dist';
    const cap = document.createElement('div');
    cap.className = 'after';
    cap.textContent = `after ${d.after}`;
    box.append(cap);
    for (const t of d.top) {
      const row = document.createElement('div');
      row.className = t.token === d.chosen ? 'bar chosen' : 'bar';
      row.innerHTML = `<span class="tok"></span><span class="fill" style="width:${Math.max(1, t.prob * 100).toFixed(1)}%"></span><span class="p">${(t.prob * 100).toFixed(1)}%</span>`;
      (row.firstChild as HTMLElement).textContent = t.token;
      box.append(row);
    }
    if (!d.top.some((t) => t.token === d.chosen)) {
      const row = document.createElement('div');
      row.className = 'bar chosen';
      row.textContent = `chosen: ${d.chosen} (${(d.chosenProb * 100).toFixed(2)}%)`;
      box.append(row);
    }
    strip.append(box);
  }
  root.append(strip);
  return root;
}
