// Greedy and beam search on a randomly initialised encoder-decoder: cached = uncached on a padded
// batch, beam search = brute-force search over every sequence, beam 1 = greedy, batch = one by one.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor, noGrad, tensor } from '../../src/tensor/index.js';
import { keyPaddingMaskFromIds } from '../../src/nn/index.js';
import { Transformer } from '../../src/models/transformer.js';
import { beamSearch, greedyDecode, lengthPenalty } from '../../src/generate/index.js';
import type { BeamHypothesis } from '../../src/generate/index.js';

const PAD = 0;
const BOS = 1;

function tinyModel(V: number, seed: number, normFirst = false): Transformer {
  const m = new Transformer({ srcVocab: V, tgtVocab: V, dModel: 16, heads: 4, dFF: 32, encoderLayers: 2, decoderLayers: 2, dropout: 0, seed, normFirst });
  // Sharper next-token distributions than Xavier's, so the searches have something to find.
  noGrad(() => { m.generator.weight.assign(m.generator.weight.mul(4)); });
  return m.eval();
}

const ids = (rows: number[][]): Tensor => tensor(rows.flat(), { dtype: 'int32', shape: [rows.length, rows[0].length] });
// Sources of lengths 6, 3 and 4, padded with 0.
const SRC = ids([[3, 4, 5, 6, 7, 8], [9, 4, 3, 0, 0, 0], [5, 5, 2, 8, 0, 0]]);
const MASK = keyPaddingMaskFromIds(SRC, PAD);

test('greedy: cached and uncached decoding give identical tokens on a padded batch', () => {
  for (const [seed, normFirst] of [[1, false], [2, true]] as const) {
    const m = tinyModel(11, seed, normFirst);
    const a = greedyDecode(m, SRC, { bos: BOS, maxLen: 12, srcPaddingMask: MASK, useCache: true });
    const b = greedyDecode(m, SRC, { bos: BOS, maxLen: 12, srcPaddingMask: MASK, useCache: false });
    assert.deepEqual(a, b);
    assert.ok(new Set(a.flat()).size > 2, JSON.stringify(a));
    // the padded rows decode as they do alone, unpadded
    assert.deepEqual(a[1], greedyDecode(m, ids([[9, 4, 3]]), { bos: BOS, maxLen: 12 })[0]);
  }
});

test('greedy with eos: rows stop at eos; the streamer sees exactly the returned tokens', () => {
  const m = tinyModel(11, 3);
  const free = greedyDecode(m, SRC, { bos: BOS, maxLen: 10, srcPaddingMask: MASK });
  const eos = free[0][2];
  const seen: number[][] = [[], [], []];
  const out = greedyDecode(m, SRC, { bos: BOS, eos, maxLen: 10, srcPaddingMask: MASK, onToken: (id, r) => seen[r].push(id) });
  free.forEach((f, r) => assert.deepEqual(out[r], f.includes(eos) ? f.slice(0, f.indexOf(eos)) : f));
  assert.deepEqual(seen, out);
});

test('beam search: cached and uncached give identical hypotheses on a padded batch', () => {
  for (const [seed, normFirst] of [[4, false], [5, true]] as const) {
    const m = tinyModel(11, seed, normFirst);
    const opts = { bos: BOS, eos: 2, maxLen: 8, beamSize: 3, lengthPenalty: 0.6, srcPaddingMask: MASK };
    const a = beamSearch(m, SRC, { ...opts, useCache: true });
    const b = beamSearch(m, SRC, { ...opts, useCache: false });
    assert.deepEqual(a.map((hs) => hs.map((h) => h.tokens)), b.map((hs) => hs.map((h) => h.tokens)));
    a.forEach((hs, s) => hs.forEach((h, i) => assert.ok(Math.abs(h.score - b[s][i].score) < 1e-4)));
    assert.deepEqual(a.map((hs) => hs.length), [3, 3, 3]);
  }
});

test('beam search over a batch gives each source what it gets alone', () => {
  const m = tinyModel(11, 6);
  const opts = { bos: BOS, eos: 2, maxLen: 7, beamSize: 4, lengthPenalty: 0.6 };
  const batch = beamSearch(m, SRC, { ...opts, srcPaddingMask: MASK });
  const alone = [ids([[3, 4, 5, 6, 7, 8]]), ids([[9, 4, 3]]), ids([[5, 5, 2, 8]])].map((s) => beamSearch(m, s, opts)[0]);
  assert.deepEqual(batch.map((hs) => hs.map((h) => h.tokens)), alone.map((hs) => hs.map((h) => h.tokens)));
});

/**
 * Every target of up to maxLen tokens: those ending at their first eos, and the unfinished ones
 * of length maxLen, each scored log P(Y|X) / lp(|Y|) from one uncached forward of its prefix.
 */
function bruteForce(m: Transformer, src: Tensor, V: number, eos: number, maxLen: number, alpha: number): BeamHypothesis[] {
  const out: BeamHypothesis[] = [];
  const visit = (prefix: number[], logProb: number) => {
    const logits = noGrad(() => m.forward(src, ids([[BOS, ...prefix]])).logits); // [1, t, V]
    const last = Array.from(logits.narrow(1, prefix.length, 1).toArray());
    const mx = Math.max(...last);
    const lse = mx + Math.log(last.reduce((s, x) => s + Math.exp(x - mx), 0));
    for (let v = 0; v < V; v++) {
      const lp = logProb + last[v] - lse;
      const len = prefix.length + 1;
      if (v === eos) out.push({ tokens: [...prefix], logProb: lp, score: lp / lengthPenalty(len, alpha) });
      else if (len === maxLen) out.push({ tokens: [...prefix, v], logProb: lp, score: lp / lengthPenalty(len, alpha) });
      else visit([...prefix, v], lp);
    }
  };
  visit([], 0);
  return out.sort((a, b) => b.score - a.score);
}

test('beam search with a beam wide enough to keep everything equals brute-force search', () => {
  const V = 5;
  const eos = 2;
  for (const [seed, maxLen, alpha] of [[7, 3, 0.6], [8, 4, 0.6], [9, 3, 0], [10, 4, 1.5]] as const) {
    const m = tinyModel(V, seed);
    const src = ids([[3, 4, 1, 3]]);
    const all = bruteForce(m, src, V, eos, maxLen, alpha);
    const beam = beamSearch(m, src, { bos: BOS, eos, maxLen, beamSize: V ** maxLen, lengthPenalty: alpha })[0];
    assert.equal(beam.length, all.length, `every hypothesis is found (${all.length})`);
    assert.deepEqual(beam[0].tokens, all[0].tokens, `best of seed ${seed}`);
    assert.deepEqual(beam.slice(0, 10).map((h) => h.tokens), all.slice(0, 10).map((h) => h.tokens));
    beam.forEach((h, i) => assert.ok(Math.abs(h.score - all[i].score) < 1e-5, `score ${i}: ${h.score} vs ${all[i].score}`));
    // No beam can score above the optimum.
    const small = beamSearch(m, src, { bos: BOS, eos, maxLen, beamSize: 4, lengthPenalty: alpha })[0];
    assert.ok(small[0].score <= all[0].score + 1e-6);
  }
});

test('beam search with beam 1 equals greedy decoding', () => {
  // Seeds where greedy stops at once (12), stops mid-way (15, 16, 17) and never stops (11).
  for (const [seed, eos] of [[11, 2], [12, 2], [15, 2], [16, 2], [17, 3]]) {
    const m = tinyModel(11, seed);
    const g = greedyDecode(m, SRC, { bos: BOS, eos, maxLen: 9, srcPaddingMask: MASK });
    for (const opts of [{ earlyStopping: true, lengthPenalty: 0.6 }, { earlyStopping: false, lengthPenalty: 0 }]) {
      const b = beamSearch(m, SRC, { bos: BOS, eos, maxLen: 9, beamSize: 1, srcPaddingMask: MASK, ...opts });
      assert.deepEqual(b.map((hs) => hs[0].tokens), g, `seed ${seed}, ${JSON.stringify(opts)}`);
    }
  }
});

test('length penalty: Wu et al. lp(Y) = ((5 + |Y|) / 6)^α', () => {
  assert.equal(lengthPenalty(1, 0.6), 1);
  assert.ok(Math.abs(lengthPenalty(7, 0.6) - Math.pow(2, 0.6)) < 1e-15);
  assert.equal(lengthPenalty(10, 0), 1);
  assert.throws(() => beamSearch(tinyModel(5, 1), ids([[3]]), { bos: 1, eos: 2, maxLen: 0 }), /maxLen must be a positive integer, got 0/);
});
