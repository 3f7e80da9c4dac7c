// The transfer table as markdown: per model and share of the labels, test accuracy and spam F1 of each seed and their mean.
//
//   node scripts/transfer-summary.mjs runs/transfer/transfer-table.json [runs/baseline.json]
//
// Both files hold { runs: [{ model, fraction, seed, metrics: { accuracy, f1, ... } }] } (scripts/transfer-table.sh,
// scripts/spam_baseline.py DIR OUT.json).

import { readFileSync } from 'node:fs';

const [tableFile, baselineFile] = process.argv.slice(2);
if (!tableFile) {
  console.error('usage: node scripts/transfer-summary.mjs TRANSFER_TABLE.json [BASELINE.json]');
  process.exit(2);
}
const runs = JSON.parse(readFileSync(tableFile, 'utf8')).runs;
if (baselineFile) runs.push(...JSON.parse(readFileSync(baselineFile, 'utf8')).runs);

const MODELS = ['bert-scratch', 'bert-pretrained', 'gpt-pretrained', 'baseline'];
const NAMES = { 'bert-scratch': 'BERT from scratch', 'bert-pretrained': 'BERT pre-trained, fine-tuned', 'gpt-pretrained': 'GPT pre-trained, fine-tuned', baseline: 'bag-of-words logistic regression' };
const pct = (v) => (100 * v).toFixed(2);
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

console.log('| model | labels | seeds | test accuracy % (each seed) | mean | spam F1 % (each seed) | mean |');
console.log('|---|---:|---:|---|---:|---|---:|');
for (const model of MODELS) {
  for (const fraction of [0.01, 0.1, 1]) {
    const rs = runs.filter((r) => r.model === model && r.fraction === fraction).sort((a, b) => a.seed - b.seed);
    if (rs.length === 0) continue;
    const acc = rs.map((r) => r.metrics.accuracy);
    const f1 = rs.map((r) => r.metrics.f1);
    console.log(`| ${NAMES[model] ?? model} | ${fraction * 100}% | ${rs.map((r) => r.seed).join(', ')} | ${acc.map(pct).join(' / ')} | **${pct(mean(acc))}** | ${f1.map(pct).join(' / ')} | **${pct(mean(f1))}** |`);
  }
}
