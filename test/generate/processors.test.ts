// Logits processors, samplers and stopping rules on hand-made rows with known answers.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/core/rng.js';
import {
  applyProcessors, eosToken, forbidTokens, greedy, maxLength, multinomial, repetitionPenalty, stopSequence, temperature, topK, topP,
} from '../../src/generate/index.js';

const row = (...xs: number[]) => Float64Array.from(xs);
const kept = (x: Float64Array) => [...x.keys()].filter((i) => x[i] > -Infinity);

test('topK keeps exactly the k largest (and ties with the k-th)', () => {
  const x = row(0.5, 3, -1, 2, 2.5, 0);
  topK(3)(x, []);
  assert.deepEqual(kept(x), [1, 3, 4]);
  assert.deepEqual(Array.from(x), [-Infinity, 3, -Infinity, 2, 2.5, -Infinity]);
  const tie = row(1, 2, 2, 0);
  topK(2)(tie, []);
  assert.deepEqual(kept(tie), [1, 2]);
  const tie3 = row(1, 2, 1, 0);
  topK(2)(tie3, []);
  assert.deepEqual(kept(tie3), [0, 1, 2], 'both tokens tied at the k-th value stay');
  const all = row(1, 2);
  topK(5)(all, []);
  assert.deepEqual(kept(all), [0, 1]);
  assert.throws(() => topK(0), /k must be a positive integer, got 0/);
});

test('topP keeps the smallest most-likely set reaching p', () => {
  // probabilities 0.5, 0.3, 0.15, 0.05 (as log-probabilities)
  const probs = [0.15, 0.5, 0.05, 0.3];
  const make = () => Float64Array.from(probs.map(Math.log));
  const at = (p: number) => { const x = make(); topP(p)(x, []); return kept(x); };
  assert.deepEqual(at(0.4), [1]);
  assert.deepEqual(at(0.5), [1]);
  assert.deepEqual(at(0.6), [1, 3]);
  assert.deepEqual(at(0.8), [1, 3]);
  assert.deepEqual(at(0.81), [0, 1, 3]);
  assert.deepEqual(at(0.96), [0, 1, 2, 3]);
  assert.deepEqual(at(1), [0, 1, 2, 3]);
  assert.deepEqual(at(0.01), [1], 'the most likely token always stays');
  assert.throws(() => topP(0), /p must be in \(0, 1\], got 0/);
});

test('temperature divides; repetition penalty and forbidden tokens', () => {
  assert.deepEqual(Array.from(applyProcessors([temperature(0.5)], row(1, -2, 0), [])), [2, -4, 0]);
  assert.throws(() => temperature(0), /positive finite number, got 0/);
  assert.deepEqual(Array.from(applyProcessors([repetitionPenalty(2)], row(4, -1, 3), [0, 1, 1])), [2, -2, 3]);
  assert.deepEqual(Array.from(applyProcessors([forbidTokens([0, 2])], row(5, 1, 7), [])), [-Infinity, 1, -Infinity]);
  // order matters and is the caller's: penalty then temperature
  assert.deepEqual(Array.from(applyProcessors([repetitionPenalty(2), temperature(2)], row(4, 4), [0])), [1, 2]);
});

test('greedy takes the first maximum', () => {
  assert.equal(greedy(row(0.1, 2, 2, -1)), 1);
  assert.equal(greedy(row(-Infinity, -3, -Infinity)), 1);
});

test('multinomial: reproducible from a seed, never picks an excluded token, frequencies follow softmax', () => {
  const x = Float64Array.from([0.1, 0.6, 0, 0.3].map(Math.log)); // log 0 = -Infinity: excluded
  const draw = (seed: number, n: number) => { const s = multinomial(new Rng(seed)); return Array.from({ length: n }, () => s(x)); };
  assert.deepEqual(draw(7, 50), draw(7, 50));
  assert.notDeepEqual(draw(7, 50), draw(8, 50));
  const counts = [0, 0, 0, 0];
  for (const t of draw(1, 20000)) counts[t]++;
  assert.equal(counts[2], 0);
  // Binomial standard deviations are at most ~0.0035 of 20000 draws; allow 5 of them.
  for (const [i, p] of [0.1, 0.6, 0, 0.3].entries()) assert.ok(Math.abs(counts[i] / 20000 - p) < 0.018, `token ${i}: ${counts[i]}`);
  assert.throws(() => multinomial(new Rng(0))(row(-Infinity, -Infinity)), /every token is excluded/);
});

test('temperature towards 0 makes sampling greedy', () => {
  const rng = new Rng(3);
  const s = multinomial(rng);
  for (let i = 0; i < 200; i++) {
    const x = Float64Array.from({ length: 10 }, () => rng.normal());
    assert.equal(s(applyProcessors([temperature(1e-4)], x.slice(), [])), greedy(x));
  }
});

test('stopping criteria', () => {
  assert.equal(maxLength(3)([1, 2]), false);
  assert.equal(maxLength(3)([1, 2, 3]), true);
  assert.equal(eosToken(2)([5, 2]), true);
  assert.equal(eosToken([2, 9])([5, 9]), true);
  assert.equal(eosToken(2)([2, 5]), false);
  assert.equal(eosToken(2)([]), false);
  assert.equal(stopSequence([4, 4])([1, 4, 4]), true);
  assert.equal(stopSequence([4, 4])([4, 1, 4]), false);
  assert.throws(() => maxLength(0), /n must be a positive integer, got 0/);
});
