#!/usr/bin/env node
// Draws claim 2 of docs/claims.md (scripts/long-range.ts's JSON files) as an SVG with Vega-Lite: held-out accuracy
// of retrieval at a distance against the distance d (log scale), Transformer and LSTM, chance as a rule.
//
//   node scripts/plot-long-range.mjs docs/long-range.svg runs/claims/long-range.json [more.json ...]

import { readFileSync, writeFileSync } from 'node:fs';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';

const [output, ...inputs] = process.argv.slice(2);
if (!output || inputs.length === 0) {
  process.stderr.write('usage: node scripts/plot-long-range.mjs OUT.svg RUN.json [RUN.json ...]\n');
  process.exit(2);
}
const files = inputs.map((f) => JSON.parse(readFileSync(f, 'utf8')));
const rows = files.flatMap((f) => f.rows.map((r) => ({ d: r.d, model: r.model.startsWith('LSTM') ? 'LSTM' : 'Transformer', accuracy: 100 * r.accuracy })));
const { steps, batch, vocab } = files[0];
const spec = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: `Retrieval at distance d: ${steps} steps of ${batch}, matched parameters (held-out accuracy)`,
  width: 420, height: 240,
  layer: [
    {
      data: { values: rows },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'd', type: 'quantitative', scale: { type: 'log', base: 2 }, title: 'distance d (tokens back)' },
        y: { field: 'accuracy', type: 'quantitative', scale: { domain: [0, 100] }, title: 'accuracy (%)' },
        color: { field: 'model', type: 'nominal', title: null, legend: { orient: 'bottom' } },
      },
    },
    { data: { values: [{ chance: 100 / vocab }] }, mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' }, encoding: { y: { field: 'chance', type: 'quantitative' } } },
  ],
};
const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
writeFileSync(output, await view.toSVG());
process.stdout.write(`wrote ${output}: ${rows.length} points\n`);
