// Batching: token budget, exact epoch coverage, padding masks, seeded determinism, LM chunks.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArgumentError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { SeqPair, collatePairs, lmBatches, lmChunkCount, padSequences, pairBatches, pairLength, planBatches } from '../../src/data/batching.js';

function randomPairs(n: number, seed: number): SeqPair[] {
  const rng = new Rng(seed);
  const seq = (len: number) => Array.from({ length: len }, () => 3 + rng.int(50));
  return Array.from({ length: n }, () => ({ src: seq(1 + rng.int(40)), tgt: seq(rng.int(40)) }));
}

test('planBatches: sorted, greedy, in order without an rng', () => {
  assert.deepEqual(planBatches([3, 1, 2, 3], { maxTokens: 6 }), [[1, 2], [0, 3]]);
  assert.deepEqual(planBatches([2, 2, 2, 2, 2], { maxTokens: 100, maxSentences: 2 }), [[0, 1], [2, 3], [4]]);
  assert.deepEqual(planBatches([], { maxTokens: 10 }), []);
  assert.throws(() => planBatches([3, 11], { maxTokens: 10 }), (e: Error) => e instanceof ArgumentError && /example 1 has 11 tokens/.test(e.message));
});

test('planBatches: budget and sentence cap hold, and every example is in exactly one batch', () => {
  const rng = new Rng(1);
  const lengths = Array.from({ length: 3000 }, () => 1 + rng.int(60));
  const cases: { maxTokens: number; maxSentences?: number; poolSize?: number }[] = [{ maxTokens: 256 }, { maxTokens: 500, maxSentences: 7 }, { maxTokens: 60, poolSize: 13 }];
  for (const opts of cases) {
    const plan = planBatches(lengths, { ...opts, rng: new Rng(5) });
    const seen = plan.flat().sort((a, b) => a - b);
    assert.deepEqual(seen, lengths.map((_, i) => i));
    for (const b of plan) {
      assert.ok(b.length > 0);
      assert.ok(b.length * Math.max(...b.map((i) => lengths[i])) <= opts.maxTokens);
      assert.ok(b.length <= (opts.maxSentences ?? Infinity));
    }
  }
});

test('planBatches: same seed, same plan; epochs with one rng differ', () => {
  const lengths = Array.from({ length: 500 }, (_, i) => 1 + ((i * 37) % 50));
  const a = planBatches(lengths, { maxTokens: 200, poolSize: 64, rng: new Rng(9) });
  const b = planBatches(lengths, { maxTokens: 200, poolSize: 64, rng: new Rng(9) });
  assert.deepEqual(a, b);
  const rng = new Rng(9);
  const e1 = planBatches(lengths, { maxTokens: 200, poolSize: 64, rng });
  const e2 = planBatches(lengths, { maxTokens: 200, poolSize: 64, rng });
  assert.deepEqual(e1, a);
  assert.notDeepEqual(e2, e1);
});

test('bucketing pads less than random batches of the same examples', () => {
  const rng = new Rng(2);
  const lengths = Array.from({ length: 2000 }, () => 1 + rng.int(100));
  const padded = (plan: number[][]) => plan.reduce((n, b) => n + b.length * Math.max(...b.map((i) => lengths[i])), 0);
  const real = lengths.reduce((a, b) => a + b, 0);
  const plan = planBatches(lengths, { maxTokens: 1000, rng: new Rng(3) });
  const bucketed = padded(plan);
  // The same batch sizes over a random order, as an unbucketed baseline.
  const order = new Rng(4).shuffle(lengths.map((_, i) => i));
  let at = 0;
  const unsorted = padded(plan.map((b) => order.slice(at, (at += b.length))));
  assert.ok(unsorted > 1.3 * bucketed, `unsorted ${unsorted} vs bucketed ${bucketed}`);
});

test('padSequences: right padding, mask 1 on pads, optional prefix and suffix', () => {
  const p = padSequences([[5, 6], [7]], 0);
  assert.deepEqual([...p.ids], [5, 6, 7, 0]);
  assert.deepEqual([...p.mask], [0, 0, 0, 1]);
  const q = padSequences([[5, 6], []], 9, { prefix: 1, suffix: 2 });
  assert.equal(q.width, 4);
  assert.deepEqual([...q.ids], [1, 5, 6, 2, 1, 2, 9, 9]);
  assert.deepEqual([...q.mask], [0, 0, 0, 0, 0, 0, 1, 1]);
  assert.throws(() => padSequences([[1.5]], 0), ArgumentError);
});

test('collatePairs: src, tgtIn = bos + tgt, tgtOut = tgt + eos, masks (known answer)', () => {
  const ex: SeqPair[] = [{ src: [5, 6, 7], tgt: [8] }, { src: [9], tgt: [10, 11, 12] }];
  const b = collatePairs(ex, [1, 0], { padId: 0, bosId: 1, eosId: 2 });
  assert.deepEqual(b.indices, [1, 0]);
  assert.deepEqual(b.src.shape, [2, 3]);
  assert.equal(b.src.dtype, 'int32');
  assert.deepEqual([...b.src.toArray()], [9, 0, 0, 5, 6, 7]);
  assert.deepEqual([...b.srcPadMask.toArray()], [0, 1, 1, 0, 0, 0]);
  assert.deepEqual(b.tgtIn.shape, [2, 4]);
  assert.deepEqual([...b.tgtIn.toArray()], [1, 10, 11, 12, 1, 8, 0, 0]);
  assert.deepEqual([...b.tgtOut.toArray()], [10, 11, 12, 2, 8, 2, 0, 0]);
  assert.deepEqual([...b.tgtPadMask.toArray()], [0, 0, 0, 0, 0, 0, 1, 1]);
  assert.equal(b.numTgtTokens, 6);
  assert.throws(() => collatePairs([{ src: [], tgt: [1] }], [0], { padId: 0, bosId: 1, eosId: 2 }), ArgumentError);
});

test('pairBatches: an epoch covers every pair once, within budget, and rows rebuild the examples', () => {
  const pairs = randomPairs(400, 7);
  const padId = 0, bosId = 1, eosId = 2;
  const seen: number[] = [];
  for (const b of pairBatches(pairs, { maxTokens: 300, maxSentences: 16, padId, bosId, eosId, rng: new Rng(4) })) {
    const [B, S] = b.src.shape;
    const T = b.tgtIn.shape[1];
    assert.ok(B * Math.max(S, T) <= 300 && B <= 16, `batch [${B}, ${S}] / [${B}, ${T}]`);
    assert.equal(S, Math.max(...b.indices.map((i) => pairs[i].src.length)));
    assert.equal(T, Math.max(...b.indices.map((i) => pairs[i].tgt.length)) + 1);
    assert.ok(b.indices.every((i) => pairLength(pairs[i]) <= Math.max(S, T)));
    const src = b.src.toArray(), sm = b.srcPadMask.toArray();
    const tin = b.tgtIn.toArray(), tout = b.tgtOut.toArray(), tm = b.tgtPadMask.toArray();
    b.indices.forEach((i, r) => {
      const { src: s, tgt: t } = pairs[i];
      for (let c = 0; c < S; c++) {
        assert.equal(sm[r * S + c], c < s.length ? 0 : 1);
        assert.equal(src[r * S + c], c < s.length ? s[c] : padId);
      }
      const wantIn = [bosId, ...t], wantOut = [...t, eosId];
      for (let c = 0; c < T; c++) {
        assert.equal(tm[r * T + c], c <= t.length ? 0 : 1);
        assert.equal(tin[r * T + c], c <= t.length ? wantIn[c] : padId);
        assert.equal(tout[r * T + c], c <= t.length ? wantOut[c] : padId);
      }
      seen.push(i);
    });
  }
  assert.deepEqual(seen.sort((a, b) => a - b), pairs.map((_, i) => i));
});

test('lmBatches: chunks of context + 1, target = input shifted by one, every target token once', () => {
  const tokens = Array.from({ length: 1001 }, (_, i) => (i * 7919) % 1009);
  const context = 16;
  assert.equal(lmChunkCount(tokens.length, context), 62); // floor(1000 / 16)
  const targetsSeen: number[] = [];
  const chunks: number[] = [];
  for (const b of lmBatches(tokens, { context, maxTokens: 16 * 5, rng: new Rng(3) })) {
    const [B, C] = b.input.shape;
    assert.ok(B <= 5 && C === context);
    const inp = b.input.toArray(), tgt = b.target.toArray();
    b.indices.forEach((k, r) => {
      for (let c = 0; c < C; c++) {
        assert.equal(inp[r * C + c], tokens[k * context + c]);
        assert.equal(tgt[r * C + c], tokens[k * context + c + 1]);
        targetsSeen.push(k * context + c + 1);
      }
      chunks.push(k);
    });
  }
  assert.deepEqual(chunks.sort((a, b) => a - b), Array.from({ length: 62 }, (_, k) => k));
  assert.deepEqual(targetsSeen.sort((a, b) => a - b), Array.from({ length: 62 * 16 }, (_, i) => i + 1));
  const order = (seed: number) => [...lmBatches(tokens, { context, batchSize: 4, rng: new Rng(seed) })].flatMap((b) => b.indices);
  assert.deepEqual(order(1), order(1));
  assert.notDeepEqual(order(1), order(2));
  assert.deepEqual([...lmBatches(tokens, { context, batchSize: 100 })][0].indices, Array.from({ length: 62 }, (_, k) => k));
  assert.throws(() => lmBatches(tokens, { context }).next(), ArgumentError);
  assert.throws(() => lmBatches(tokens, { context, maxTokens: 8 }).next(), ArgumentError);
});
