// How the CLI prints metrics: error rates (and only they) as percentages, BLEU/chrF with two decimals.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMetric, formatMetrics } from '../../src/cli/format.js';

test('error rates print as percentages', () => {
  assert.equal(formatMetric('wer', 0.4521), '45.21%');
  assert.equal(formatMetric('per', 0.12), '12.00%');
  assert.equal(formatMetric('cer', 0.05), '5.00%');
  assert.equal(formatMetric('werNoStress', 0.25), '25.00%');
  assert.equal(formatMetric('perNoStress', 0.057), '5.70%');
  assert.equal(formatMetric('wer', 0), '0.00%');
});

test('perplexity and other keys that merely start like an error rate are not percentages', () => {
  // lm's metrics: perplexity 63.5071 is a ratio of probabilities, not a share.
  assert.equal(formatMetric('perplexity', 63.5071), '63.51');
  assert.equal(formatMetric('percentile', 0.5), '0.5000');
  assert.equal(formatMetric('wers', 0.5), '0.5000');
});

test('BLEU and chrF with two decimals, counts as integers, the rest with 4 significant digits', () => {
  assert.equal(formatMetric('bleu', 27.3456), '27.35');
  assert.equal(formatMetric('chrf', 51.5), '51.50');
  assert.equal(formatMetric('words', 12345), '12,345');
  assert.equal(formatMetric('validLoss', 1.23456), '1.235');
});

test('formatMetrics joins key and value pairs with two spaces', () => {
  assert.equal(
    formatMetrics({ loss: 4.1512, perplexity: 63.5071, bpc: 2.1, tokens: 2000 }),
    'loss 4.151  perplexity 63.51  bpc 2.100  tokens 2,000',
  );
  assert.equal(formatMetrics({ validLoss: 0.5, wer: 0.25, per: 0.0625 }), 'validLoss 0.5000  wer 25.00%  per 6.25%');
});
