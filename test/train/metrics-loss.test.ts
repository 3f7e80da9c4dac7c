// Loss-derived metrics on exact answers: uniform models (perplexity V, 8 bits per byte) and hand-counted accuracies.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArgumentError, ShapeError } from '../../src/core/errors.js';
import { tensor, zeros } from '../../src/tensor/index.js';
import { bitsPerCharacter, perplexity, sumNll, tokenAccuracy, tokenAccuracyFromLogits } from '../../src/train/metrics/index.js';

const close = (a: number, b: number, tol = 1e-12): void => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

test('a uniform model over V tokens has perplexity V and NLL ln V per token', () => {
  const V = 50;
  const { totalNll, tokens } = sumNll(zeros([2, 3, V], { dtype: 'float64' }), tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'int32' }));
  assert.equal(tokens, 6);
  close(totalNll, 6 * Math.log(V));
  close(perplexity(totalNll, tokens), V);
});

test('a uniform model over 256 bytes costs 8 bits per character', () => {
  close(bitsPerCharacter(100 * Math.log(256), 100), 8);
  // Fewer tokens than characters (e.g. BPE): the NLL is spread over the characters.
  close(bitsPerCharacter(10 * Math.log(2), 5), 2);
});

test('perplexity is exp of the mean NLL per token', () => {
  // NLLs ln 2 and ln 8 → mean ln 4 → perplexity 4.
  close(perplexity(Math.log(2) + Math.log(8), 2), 4);
  close(perplexity(0, 7), 1);
});

test('sumNll skips ignored targets and sums -log p of the others', () => {
  // Rows are log-probabilities, so the NLL of target t is -log p[t].
  const logits = tensor([[Math.log(0.25), Math.log(0.75)], [Math.log(0.5), Math.log(0.5)], [0, 0]], { dtype: 'float64' });
  const { totalNll, tokens } = sumNll(logits, tensor([1, 0, -1], { dtype: 'int32' }), { ignoreIndex: -1 });
  assert.equal(tokens, 2);
  close(totalNll, -Math.log(0.75) - Math.log(0.5));
});

test('tokenAccuracy ignores padding and returns the counts', () => {
  assert.deepEqual(tokenAccuracy([5, 7, 2, 0, 9], [5, 8, 2, 0, 0], { ignoreIndex: 0 }), { correct: 2, total: 3, accuracy: 2 / 3 });
  assert.deepEqual(tokenAccuracy([1, 2], [1, 2]), { correct: 2, total: 2, accuracy: 1 });
  assert.deepEqual(tokenAccuracy([1], [-100]), { correct: 0, total: 0, accuracy: 0 });
});

test('tokenAccuracyFromLogits takes the arg-max of the last axis', () => {
  const logits = tensor([
    [[0.1, 2, 0.3], [1, 0, 0]],
    [[0, 0, 5], [0, 3, 1]],
  ]); // [B=2, T=2, V=3]: predictions [[1, 0], [2, 1]]
  const targets = tensor([[1, 2], [2, 0]], { dtype: 'int32' }); // the last is padding
  assert.deepEqual(tokenAccuracyFromLogits(logits, targets, { ignoreIndex: 0 }), { correct: 2, total: 3, accuracy: 2 / 3 });
});

test('errors name the bad counts', () => {
  assert.throws(() => tokenAccuracy([1, 2, 3], [1, 2]), (e: Error) => e instanceof ArgumentError && /3 predictions but 2 targets/.test(e.message));
  assert.throws(() => perplexity(1, 0), (e: Error) => e instanceof ArgumentError && /tokens must be a positive integer, got 0/.test(e.message));
  assert.throws(() => bitsPerCharacter(-1, 3), (e: Error) => e instanceof ArgumentError && /got -1/.test(e.message));
  assert.throws(() => tokenAccuracyFromLogits(zeros([2, 3, 4]), tensor([1, 2], { dtype: 'int32' })), (e: Error) => e instanceof ShapeError && /\[2, 3\]/.test(e.message));
});
