// The letter-to-phoneme alignment and the agreement of attention with it, on hand-aligned words and made-up maps.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alignmentAgreement, monotonicAlignment } from '../../src/inference/alignment.js';

test('monotonicAlignment: hand-aligned words (silent letters passed over, one letter giving two phonemes, ties to the earlier letter)', () => {
  assert.deepEqual(monotonicAlignment([...'cat'], ['K', 'AE1', 'T']), [0, 1, 2]);
  assert.deepEqual(monotonicAlignment([...'KNIGHT'], ['N', 'AY1', 'T']), [1, 2, 5]);
  assert.deepEqual(monotonicAlignment([...'box'], ['B', 'AA1', 'K', 'S']), [0, 1, 2, 2]);
  assert.deepEqual(monotonicAlignment([...'phone'], ['F', 'OW1', 'N']), [0, 2, 3]);
  assert.deepEqual(monotonicAlignment([...'through'], ['TH', 'R', 'UW1']), [0, 2, 3]);
  assert.deepEqual(monotonicAlignment([...'a'], ['AH0', 'Z']), [0, 0]);
  assert.throws(() => monotonicAlignment([...'ab'], ['XX']), /phoneme 0 is 'XX', expected an ARPAbet symbol/);
  assert.throws(() => monotonicAlignment([], ['K']), /0 letters and 1 phonemes/);
});

test('alignmentAgreement: counts, per layer and head, the rows whose largest weight sits on the reference letter', () => {
  // One layer, two heads, 3 decoder rows (2 phonemes + </s>), 3 letters.
  const h0 = [0.7, 0.2, 0.1, /**/ 0.1, 0.3, 0.6, /**/ 0, 0, 1];
  const h1 = [0.2, 0.5, 0.3, /**/ 0.1, 0.8, 0.1, /**/ 1, 0, 0];
  const map = { shape: [1, 2, 3, 3] as [number, number, number, number], data: Float32Array.from([...h0, ...h1]) };
  const once = alignmentAgreement([map], [0, 2]);
  assert.deepEqual(once, [{ layer: 0, head: 0, agree: 2, total: 2 }, { layer: 0, head: 1, agree: 0, total: 2 }]);
  const twice = alignmentAgreement([map], [0, 1], once);
  assert.deepEqual(twice, [{ layer: 0, head: 0, agree: 3, total: 4 }, { layer: 0, head: 1, agree: 1, total: 4 }]);
  assert.throws(() => alignmentAgreement([map], [0, 1, 2, 0]), /3 decoder rows, expected at least 4/);
  assert.throws(() => alignmentAgreement([map], [5]), /reference letter 5 at phoneme 0, expected < 3/);
});
