#!/usr/bin/env node
// Draws the transfer-learning table (scripts/transfer-table.sh's JSON) as an SVG with Vega-Lite: test accuracy and
// spam F1 against the share of training labels (log scale), one line per model (mean of the seeds), each seed a dot.
//
//   node scripts/plot-transfer.mjs runs/transfer/transfer-table.json docs/transfer.svg [baseline.json]
//
// baseline.json (optional): the same shape, { runs: [{ model, fraction, seed, metrics: { accuracy, f1 } }] },
// as `scripts/spam_baseline.py DIR baseline.json` writes it. Rendered in Node (vega's headless SVG renderer).

import { readFileSync, writeFileSync } from 'node:fs';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';

const [input, output = 'transfer.svg', baselineFile] = process.argv.slice(2);
if (!input) {
  process.stderr.write('usage: node scripts/plot-transfer.mjs TABLE.json [OUT.svg] [BASELINE.json]\n');
  process.exit(2);
}
const runs = [...JSON.parse(readFileSync(input, 'utf8')).runs];
if (baselineFile) runs.push(...JSON.parse(readFileSync(baselineFile, 'utf8')).runs.map((r) => ({ ...r, model: r.model ?? 'baseline' })));

const NAMES = {
  'bert-scratch': 'BERT from scratch', 'bert-pretrained': 'BERT pre-trained', 'gpt-pretrained': 'GPT pre-trained', baseline: 'bag-of-words LR',
};
const rows = runs.flatMap((r) => [
  { model: NAMES[r.model] ?? r.model, labels: r.fraction * 100, seed: r.seed, metric: 'test accuracy (%)', value: 100 * r.metrics.accuracy },
  { model: NAMES[r.model] ?? r.model, labels: r.fraction * 100, seed: r.seed, metric: 'spam F1 (%)', value: 100 * r.metrics.f1 },
]);

const x = { field: 'labels', type: 'quantitative', scale: { type: 'log' }, title: 'training labels (%)', axis: { values: [1, 10, 100] } };
const color = { field: 'model', type: 'nominal', title: null, legend: { orient: 'bottom' } };
const spec = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: 'SpamAssassin: transfer learning (test split)',
  data: { values: rows },
  facet: { column: { field: 'metric', type: 'nominal', title: null, sort: ['test accuracy (%)', 'spam F1 (%)'] } },
  resolve: { scale: { y: 'independent' } },
  spec: {
    width: 300, height: 240,
    layer: [
      { mark: { type: 'line', point: false }, encoding: { x, y: { aggregate: 'mean', field: 'value', type: 'quantitative', title: null, scale: { zero: false } }, color } },
      { mark: { type: 'point', filled: true, size: 30, opacity: 0.6 }, encoding: { x, y: { field: 'value', type: 'quantitative' }, color } },
    ],
  },
};

const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
writeFileSync(output, await view.toSVG());
process.stderr.write(`${rows.length / 2} runs → ${output}\n`);
