// generate() on a randomly initialised GPT: cached and uncached decoding agree, sampling is
// seeded, temperature → 0 is greedy, streaming sees exactly the returned tokens.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/core/rng.js';
import { noGrad, tensor } from '../../src/tensor/index.js';
import { GPT } from '../../src/models/gpt.js';
import { beamSearchCausal, eosToken, generate, lengthPenalty } from '../../src/generate/index.js';

// Larger weights than GPT-2's init, so the next-token distributions are far from uniform.
function tinyGPT(seed: number): GPT {
  const m = new GPT({ vocab: 11, dModel: 16, heads: 4, layers: 2, context: 24, dropout: 0, seed });
  noGrad(() => { for (const p of m.parameters()) if (p.ndim === 2) p.assign(p.mul(20)); });
  return m;
}

test('cached and uncached greedy generation give identical tokens (batch of 3 prompts, 15 steps)', () => {
  const m = tinyGPT(1);
  const prompts = [[1, 2, 3], [4, 4, 9], [10, 0, 5]];
  const a = generate(m, prompts, { maxNewTokens: 15, useCache: true });
  const b = generate(m, prompts, { maxNewTokens: 15, useCache: false });
  assert.deepEqual(a, b);
  assert.deepEqual(a.map((r) => r.length), [15, 15, 15]);
  assert.ok(new Set(a.flat()).size > 2, `not a constant sequence: ${JSON.stringify(a)}`);
});

test('greedy generation picks argmax of the full forward at each step', () => {
  const m = tinyGPT(2);
  const out = generate(m, [[3, 1]], { maxNewTokens: 6 })[0];
  const seq = [3, 1];
  for (const tok of out) {
    const logits = noGrad(() => m.forward(tensor([seq], { dtype: 'int32' })).logits);
    const last = Array.from(logits.narrow(1, seq.length - 1, 1).toArray());
    assert.equal(tok, last.indexOf(Math.max(...last)));
    seq.push(tok);
  }
});

test('cached and uncached sampling with one seed give identical tokens; seeds reproduce', () => {
  const m = tinyGPT(3);
  const opts = { maxNewTokens: 12, sample: true, temperature: 1.5, topK: 6, topP: 0.95, repetitionPenalty: 1.3 };
  const a = generate(m, [[1, 2], [7, 7]], { ...opts, rng: new Rng(42), useCache: true });
  const b = generate(m, [[1, 2], [7, 7]], { ...opts, rng: new Rng(42), useCache: false });
  const c = generate(m, [[1, 2], [7, 7]], { ...opts, rng: new Rng(42) });
  const d = generate(m, [[1, 2], [7, 7]], { ...opts, rng: new Rng(43) });
  assert.deepEqual(a, b);
  assert.deepEqual(a, c);
  assert.notDeepEqual(a, d);
});

test('temperature → 0 sampling equals greedy', () => {
  const m = tinyGPT(4);
  const greedyOut = generate(m, [[2, 5, 8]], { maxNewTokens: 10 });
  const cold = generate(m, [[2, 5, 8]], { maxNewTokens: 10, sample: true, temperature: 1e-5, rng: new Rng(9) });
  assert.deepEqual(cold, greedyOut);
});

test('streaming: onToken sees exactly the returned tokens, in order; eos stops a row and is not returned', () => {
  const m = tinyGPT(5);
  const free = generate(m, [[1, 2, 3], [6, 5, 4]], { maxNewTokens: 10 });
  const eos = free[0][3]; // a token row 0 produces at step 4: use it as eos
  const seen: [number, number][] = [];
  const out = generate(m, [[1, 2, 3], [6, 5, 4]], { maxNewTokens: 10, eos, onToken: (id, row) => seen.push([row, id]) });
  assert.deepEqual(out[0], free[0].slice(0, free[0].indexOf(eos)));
  const firstEos1 = free[1].indexOf(eos);
  assert.deepEqual(out[1], firstEos1 >= 0 ? free[1].slice(0, firstEos1) : free[1]);
  for (const r of [0, 1]) assert.deepEqual(seen.filter(([row]) => row === r).map(([, id]) => id), out[r]);
  // custom stopping rule: the same as eos, but the eos token is kept
  const stopped = generate(m, [[1, 2, 3]], { maxNewTokens: 10, stop: [eosToken(eos)] })[0];
  assert.deepEqual(stopped, free[0].slice(0, free[0].indexOf(eos) + 1));
});

test('a batch gives each row what it gets alone', () => {
  const m = tinyGPT(6);
  const both = generate(m, [[1, 9], [8, 3]], { maxNewTokens: 8 });
  assert.deepEqual(both[0], generate(m, [[1, 9]], { maxNewTokens: 8 })[0]);
  assert.deepEqual(both[1], generate(m, [[8, 3]], { maxNewTokens: 8 })[0]);
});

test('errors: ragged prompts, too long for the context, sampling without an rng', () => {
  const m = tinyGPT(7);
  assert.throws(() => generate(m, [[1, 2], [3]], { maxNewTokens: 2 }), /prompts have lengths \[2, 1\]/);
  assert.throws(() => generate(m, [[1, 2]], { maxNewTokens: 30 }), /cache maxLen 31 exceeds the context 24/);
  assert.throws(() => generate(m, [[1, 2]], { maxNewTokens: 30, useCache: false }), /exceed maxLen 24/);
  assert.throws(() => generate(m, [[1]], { maxNewTokens: 2, sample: true }), /needs an rng/);
});

test('beam search on GPT: cached = uncached; beam 1 = greedy; a wide beam = brute force', () => {
  const m = tinyGPT(8);
  const prompts = [[1, 2, 3], [4, 4, 9]];
  const opts = { eos: 3, maxLen: 6, beamSize: 3, lengthPenalty: 0.6 };
  const a = beamSearchCausal(m, prompts, { ...opts, useCache: true });
  const b = beamSearchCausal(m, prompts, { ...opts, useCache: false });
  assert.deepEqual(a.map((hs) => hs.map((h) => h.tokens)), b.map((hs) => hs.map((h) => h.tokens)));
  const g = generate(m, prompts, { maxNewTokens: 6, eos: 3 });
  assert.deepEqual(beamSearchCausal(m, prompts, { ...opts, beamSize: 1, earlyStopping: true }).map((hs) => hs[0].tokens), g);
  // brute force: every continuation of at most 2 tokens of a vocabulary of 5 (eos 2 ends one early)
  const small = new GPT({ vocab: 5, dModel: 8, heads: 2, layers: 1, context: 8, dropout: 0, seed: 9 });
  noGrad(() => { for (const p of small.parameters()) if (p.ndim === 2) p.assign(p.mul(20)); });
  const prompt = [1, 4];
  const scored: { tokens: number[]; score: number }[] = [];
  const logp = (seq: number[]) => {
    const l = Array.from(noGrad(() => small.forward(tensor([seq], { dtype: 'int32' })).logits).narrow(1, seq.length - 1, 1).toArray());
    const mx = Math.max(...l);
    const lse = mx + Math.log(l.reduce((s, x) => s + Math.exp(x - mx), 0));
    return l.map((x) => x - lse);
  };
  const first = logp(prompt);
  for (let u = 0; u < 5; u++) {
    if (u === 2) { scored.push({ tokens: [], score: first[u] / lengthPenalty(1, 0.6) }); continue; }
    const second = logp([...prompt, u]);
    for (let v = 0; v < 5; v++) scored.push({ tokens: v === 2 ? [u] : [u, v], score: (first[u] + second[v]) / lengthPenalty(2, 0.6) });
  }
  scored.sort((x, y) => y.score - x.score);
  const beam = beamSearchCausal(small, [prompt], { eos: 2, maxLen: 2, beamSize: 25, lengthPenalty: 0.6 })[0];
  assert.equal(beam.length, scored.length);
  assert.deepEqual(beam.map((h) => h.tokens), scored.map((h) => h.tokens));
});
