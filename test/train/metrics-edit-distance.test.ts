// Levenshtein distance on textbook cases and G2P word/phoneme error rates worked by hand.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArgumentError } from '../../src/core/errors.js';
import { editDistance, g2pErrorRates, phonemeErrorRate, withoutStress, wordErrorRate } from '../../src/train/metrics/index.js';

const chars = (s: string): string[] => s.split('');

test('editDistance on textbook examples', () => {
  assert.equal(editDistance(chars('kitten'), chars('sitting')), 3);
  assert.equal(editDistance(chars('flaw'), chars('lawn')), 2);
  assert.equal(editDistance(chars('intention'), chars('execution')), 5);
  assert.equal(editDistance(chars(''), chars('abc')), 3);
  assert.equal(editDistance(chars('abc'), chars('')), 3);
  assert.equal(editDistance([], []), 0);
  assert.equal(editDistance([1, 2, 3], [1, 2, 3]), 0);
  assert.equal(editDistance([1, 2, 3], [3, 2, 1]), 2);
  assert.equal(editDistance(['K', 'AE1', 'T'], ['K', 'AA1', 'T', 'S']), 2);
});

test('G2P: a word is right when it matches any listed pronunciation', () => {
  const hyps = [
    ['T', 'AH0', 'M', 'AA1', 'T', 'OW2'], // the second variant: right, 0 errors
    ['K', 'AE1', 'T'],                    // CATS missing S: 1 deletion against a 4-phoneme reference
    ['D', 'AO1', 'G', 'Z', 'Z'],          // DOGS with an extra Z: 1 insertion against 4
  ];
  const refs = [
    [['T', 'AH0', 'M', 'EY1', 'T', 'OW2'], ['T', 'AH0', 'M', 'AA1', 'T', 'OW2']],
    [['K', 'AE1', 'T', 'S']],
    [['D', 'AA1', 'G', 'Z', 'Z', 'Z'], ['D', 'AO1', 'G', 'Z']],
  ];
  const r = g2pErrorRates(hyps, refs);
  // Third word: distance 2 to the first variant (AA1 vs AO1, one Z short), 1 to the second → closest is the second (length 4).
  assert.deepEqual(r, { wordErrors: 2, words: 3, wer: 2 / 3, phonemeErrors: 2, phonemes: 6 + 4 + 4, per: 2 / 14 });
  assert.equal(wordErrorRate(hyps, refs), 2 / 3);
  assert.equal(phonemeErrorRate(hyps, refs), 2 / 14);
});

test('G2P: on a tie, the first listed pronunciation gives the reference length', () => {
  // [A, B] is 1 edit from [A, B, C] (insert C) and 1 from [A, X] (substitute B).
  const r = g2pErrorRates([['A', 'B']], [[['A', 'B', 'C'], ['A', 'X']]]);
  assert.equal(r.phonemeErrors, 1);
  assert.equal(r.phonemes, 3);
  const s = g2pErrorRates([['A', 'B']], [[['A', 'X'], ['A', 'B', 'C']]]);
  assert.equal(s.phonemes, 2);
});

test('G2P errors name the counts', () => {
  assert.throws(() => g2pErrorRates([['A']], []), (e: Error) => e instanceof ArgumentError && /1 hypotheses but 0 reference lists/.test(e.message));
  assert.throws(() => g2pErrorRates([['A']], [[]]), (e: Error) => e instanceof ArgumentError && /word 0 has 0 reference pronunciations/.test(e.message));
});

test('withoutStress drops the final 0/1/2 of vowels only; a stress-only error is no error once both sides are stripped', () => {
  assert.deepEqual(withoutStress(['T', 'R', 'AE0', 'N', 'S', 'F', 'AO1', 'R', 'M', 'ER2']), ['T', 'R', 'AE', 'N', 'S', 'F', 'AO', 'R', 'M', 'ER']);
  const hyp = [['K', 'AE1', 'T']];
  const refs = [[['K', 'AE0', 'T']]];
  assert.equal(g2pErrorRates(hyp, refs).wer, 1);
  assert.equal(g2pErrorRates(hyp, refs).per, 1 / 3);
  const plain = g2pErrorRates(hyp.map(withoutStress), refs.map((r) => r.map(withoutStress)));
  assert.equal(plain.wer, 0);
  assert.equal(plain.per, 0);
});
