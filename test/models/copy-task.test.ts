// The copy task (Annotated Transformer): trained from scratch, greedy decoding must copy every
// held-out sequence exactly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainCopyTask } from '../../examples/copy-task.js';

test('copy task: a 2-layer Transformer learns to copy; 100% exact match on 128 held-out sequences', () => {
  const { losses, exactMatch, steps } = trainCopyTask({ steps: 1000, seed: 1 });
  // Untrained, the loss is about ln(10); a model that copies has a loss near 0.
  assert.ok(losses[0] > 1.5, `first loss ${losses[0]}`);
  assert.ok(Math.min(...losses.slice(-20)) < 0.05, `last losses ${losses.slice(-20).join(', ')}`);
  assert.equal(exactMatch, 1, `exact match ${exactMatch} after ${steps} steps`);
});
