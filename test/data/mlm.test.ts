// maskTokens: the 15% / 80-10-10 fractions on many tokens, specials untouched, labels -100 elsewhere, seeded determinism, errors.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/core/rng.js';
import { IGNORE_LABEL, maskTokens } from '../../src/data/mlm.js';

const SPECIAL = new Set([0, 1, 2, 3, 4]); // [PAD] [CLS] [SEP] [UNK] [MASK]
const MASK = 4;

/** n ids: specials at every 7th position, the rest uniform over the non-special ids of [0, vocab). */
function corpus(n: number, vocab: number, seed: number): number[] {
  const r = new Rng(seed);
  return Array.from({ length: n }, (_, i) => (i % 7 === 0 ? i % 5 : 5 + r.int(vocab - 5)));
}

/** |observed share − p| ≤ 5 standard errors of a binomial share over n trials. */
function assertShare(count: number, n: number, p: number, what: string): void {
  const se = Math.sqrt((p * (1 - p)) / n);
  const share = count / n;
  assert.ok(Math.abs(share - p) <= 5 * se, `${what}: ${share.toFixed(5)} of ${n}, expected ${p.toFixed(5)} ± ${(5 * se).toFixed(5)}`);
}

test('on 300,000 tokens: 15% of non-special tokens chosen; of those 80% [MASK], 10% random, 10% kept', () => {
  const vocab = 1000;
  const ids = corpus(300_000, vocab, 1);
  const { input, labels } = maskTokens(ids, { rng: new Rng(7), maskId: MASK, vocab, special: SPECIAL });
  let eligible = 0, chosen = 0, masked = 0, random = 0, kept = 0;
  for (let i = 0; i < ids.length; i++) {
    if (SPECIAL.has(ids[i])) {
      assert.equal(input[i], ids[i], 'specials are never changed');
      assert.equal(labels[i], IGNORE_LABEL, 'specials are never predicted');
      continue;
    }
    eligible++;
    if (labels[i] === IGNORE_LABEL) { assert.equal(input[i], ids[i], 'not chosen: unchanged'); continue; }
    chosen++;
    assert.equal(labels[i], ids[i], 'the label is the original id');
    if (input[i] === MASK) masked++;
    else if (input[i] === ids[i]) kept++;
    else { random++; assert.ok(!SPECIAL.has(input[i]) && input[i] >= 0 && input[i] < vocab, `random replacement ${input[i]}`); }
  }
  assertShare(chosen, eligible, 0.15, 'chosen');
  // A random draw can give back the original id (1 in 995 non-special ids): "kept" gains that share of the 10%.
  const same = 1 / (vocab - SPECIAL.size);
  assertShare(masked, chosen, 0.8, '[MASK]');
  assertShare(random, chosen, 0.1 * (1 - same), 'random');
  assertShare(kept, chosen, 0.1 + 0.1 * same, 'kept');
});

test('random replacements are uniform over the non-special ids', () => {
  const vocab = 25;
  const ids = corpus(200_000, vocab, 2);
  const { input, labels } = maskTokens(ids, { rng: new Rng(3), maskId: MASK, vocab, special: SPECIAL, prob: 1 });
  const counts = new Array<number>(vocab).fill(0);
  let n = 0;
  for (let i = 0; i < ids.length; i++) {
    if (labels[i] === IGNORE_LABEL || input[i] === MASK) continue;
    // Kept tokens and random ones that drew the original cannot be told apart: count every non-[MASK] outcome
    // minus the kept 10%, which is uniform too since the corpus is.
    counts[input[i]]++;
    n++;
  }
  for (const s of SPECIAL) if (s !== MASK) assert.equal(counts[s], 0, `special ${s} drawn`);
  for (let id = 5; id < vocab; id++) assertShare(counts[id], n, 1 / (vocab - 5), `id ${id}`);
});

test('seeded: the same generator state gives the same masking; another seed another; the generator advances', () => {
  const ids = corpus(2000, 300, 4);
  const o = (seed: number) => ({ rng: new Rng(seed), maskId: MASK, vocab: 300, special: SPECIAL });
  assert.deepEqual(maskTokens(ids, o(11)), maskTokens(ids, o(11)));
  assert.notDeepEqual(maskTokens(ids, o(11)).labels, maskTokens(ids, o(12)).labels);
  const shared = o(11);
  const first = maskTokens(ids, shared);
  assert.notDeepEqual(maskTokens(ids, shared).labels, first.labels, 'the second call continues the stream');
  const r = new Rng(5);
  const state = r.getState();
  const a = maskTokens(ids, { ...o(0), rng: r });
  r.setState(state);
  assert.deepEqual(maskTokens(ids, { ...o(0), rng: r }), a);
});

test('prob 0 changes nothing, prob 1 chooses every non-special token; the input array is not modified', () => {
  const ids = [1, 10, 11, 12, 2, 0, 0];
  const copy = ids.slice();
  const none = maskTokens(ids, { rng: new Rng(0), maskId: MASK, vocab: 20, special: SPECIAL, prob: 0 });
  assert.deepEqual(none, { input: ids, labels: new Array(7).fill(-100) });
  const all = maskTokens(ids, { rng: new Rng(0), maskId: MASK, vocab: 20, special: SPECIAL, prob: 1 });
  assert.deepEqual(all.labels, [-100, 10, 11, 12, -100, -100, -100]);
  assert.deepEqual([all.input[0], all.input[4], all.input[5], all.input[6]], [1, 2, 0, 0]);
  assert.deepEqual(ids, copy);
  assert.deepEqual(maskTokens([], { rng: new Rng(0), maskId: MASK, vocab: 20, special: SPECIAL }), { input: [], labels: [] });
});

test('bad options and ids are named', () => {
  const o = { rng: new Rng(0), maskId: MASK, vocab: 20, special: SPECIAL };
  assert.throws(() => maskTokens([5, 20], o), /maskTokens: ids\[1\] is 20, expected an id from 0 to 19/);
  assert.throws(() => maskTokens([5, 1.5], o), /ids\[1\] is 1\.5/);
  assert.throws(() => maskTokens([5], { ...o, maskId: 20 }), /maskId is 20, expected an id from 0 to 19/);
  assert.throws(() => maskTokens([5], { ...o, prob: 1.5 }), /prob is 1\.5, expected a number in \[0, 1\]/);
  assert.throws(() => maskTokens([5], { ...o, vocab: 0 }), /vocab is 0, expected a positive integer/);
  assert.throws(() => maskTokens([1], { ...o, vocab: 5 }), /every id of the vocabulary \(5\) is special/);
});
