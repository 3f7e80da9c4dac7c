// Linear, Embedding, LayerNorm, Dropout, FeedForward, positional encodings and masks: exact
// known answers, plus finite-difference checks of attention and a whole encoder layer in float64.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/core/rng.js';
import { ones, tensor } from '../../src/tensor/index.js';
import {
  Dropout, Embedding, FeedForward, LayerNorm, LearnedPositionalEncoding, Linear, MultiHeadAttention,
  SinusoidalPositionalEncoding, TransformerEncoderLayer, causalMask, keyPaddingMaskFromIds, paddingMask,
} from '../../src/nn/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { gradcheck, randn64 } from '../helpers/gradcheck.js';

test('Linear: y = x·Wᵀ + b with weight [out, in]; init within ±1/√in', () => {
  const fc = new Linear(3, 2, { rng: new Rng(0) });
  const bound = 1 / Math.sqrt(3);
  for (const v of [...fc.weight.toArray(), ...fc.bias!.toArray()]) assert.ok(Math.abs(v) <= bound);
  fc.weight.assign(tensor([[1, 2, 3], [0, -1, 0]]));
  fc.bias!.assign(tensor([0.5, 1]));
  assertClose(fc.forward(tensor([[[1, 1, 1], [2, 0, -1]]])), [[[6.5, 0], [-0.5, 1]]]);
  assert.equal(new Linear(3, 2, { rng: new Rng(0), bias: false }).bias, null);
  assert.throws(() => new Linear(3, 2, { rng: new Rng(0), weight: ones([3, 2]) }), /tied weight has shape \[3, 2\], expected \[2, 3\]/);
});

test('Embedding picks rows', () => {
  const emb = new Embedding(3, 2, { rng: new Rng(0) });
  emb.weight.assign(tensor([[0, 1], [2, 3], [4, 5]]));
  assert.deepEqual(emb.forward(tensor([[2, 0], [1, 1]], { dtype: 'int32' })).toList(), [[[4, 5], [0, 1]], [[2, 3], [2, 3]]]);
});

test('LayerNorm: (x - μ)/√(σ² + 1e-5)·γ + β', () => {
  const ln = new LayerNorm(3);
  const s = Math.sqrt(2 / 3 + 1e-5);
  assertClose(ln.forward(tensor([[1, 2, 3]])), [[-1 / s, 0, 1 / s]]);
  ln.weight.assign(tensor([2, 2, 2]));
  ln.bias.assign(tensor([1, 1, 1]));
  assertClose(ln.forward(tensor([[1, 2, 3]])), [[1 - 2 / s, 1, 1 + 2 / s]]);
});

test('Dropout: identity in eval and at p = 0; in training zeroes about p and scales the rest by 1/(1-p)', () => {
  const x = ones([4000]);
  const d = new Dropout(0.25, new Rng(9));
  const y = Array.from(d.forward(x).toArray());
  const zeros = y.filter((v) => v === 0).length;
  assert.ok(zeros > 900 && zeros < 1100, `${zeros} zeros of 4000`);
  assert.ok(y.every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6));
  assert.equal(d.eval().forward(x), x);
  assert.equal(new Dropout(0, new Rng(0)).forward(x), x);
  assert.throws(() => new Dropout(1, new Rng(0)), /p must be in \[0, 1\), got 1/);
});

test('FeedForward: relu gives |x| and gelu gives x·erf(x/√2) with hand-set weights', () => {
  const ff = new FeedForward(1, 2, { rng: new Rng(0) });
  ff.linear1.weight.assign(tensor([[1], [-1]]));
  ff.linear1.bias!.assign(tensor([0, 0]));
  ff.linear2.weight.assign(tensor([[1, 1]]));
  ff.linear2.bias!.assign(tensor([0]));
  assertClose(ff.forward(tensor([[[-2], [0.5]]])), [[[2], [0.5]]]);
  const g = new FeedForward(1, 2, { rng: new Rng(0), activation: 'gelu' });
  g.loadStateDict(ff.stateDict());
  // gelu(x) + gelu(-x) = x(Φ(x) - Φ(-x)) = x·erf(x/√2); erf(√2) = 0.9544997361, erf(0.5/√2) = 0.3829249225
  assertClose(g.forward(tensor([[[2], [0.5]]])), [[[2 * 0.9544997361], [0.5 * 0.3829249225]]]);
});

test('SinusoidalPositionalEncoding: PE(pos, 2i) = sin(pos/10000^(2i/D)), PE(pos, 2i+1) = cos(...)', () => {
  const pe = new SinusoidalPositionalEncoding(4, 10);
  const rows = pe.table.toList() as number[][];
  assertClose(rows[0], [0, 1, 0, 1]);
  assertClose(rows[1], [Math.sin(1), Math.cos(1), Math.sin(0.01), Math.cos(0.01)]);
  assertClose(rows[7], [Math.sin(7), Math.cos(7), Math.sin(0.07), Math.cos(0.07)]);
  const x = tensor([[[1, 1, 1, 1], [1, 1, 1, 1]]]);
  assertClose(pe.forward(x, 1), [[[1 + Math.sin(1), 1 + Math.cos(1), 1 + Math.sin(0.01), 1 + Math.cos(0.01)], [1 + Math.sin(2), 1 + Math.cos(2), 1 + Math.sin(0.02), 1 + Math.cos(0.02)]]]);
  assert.equal(pe.stateDict().size, 0, 'the sinusoids are not parameters');
  assert.throws(() => pe.forward(x, 9), /positions \[9, 11\) exceed maxLen 10/);
  const learned = new LearnedPositionalEncoding(4, 10, { rng: new Rng(0) });
  assert.deepEqual([...learned.stateDict().keys()], ['weight']);
  assertClose(learned.forward(x.mul(0)), learned.weight.narrow(0, 0, 2).unsqueeze(0));
});

test('masks: causal (also for the last T of S positions), padding by length and by id', () => {
  assert.deepEqual(causalMask(3).toList(), [[0, 1, 1], [0, 0, 1], [0, 0, 0]]);
  assert.deepEqual(causalMask(2, 4).toList(), [[0, 0, 0, 1], [0, 0, 0, 0]]);
  assert.deepEqual(paddingMask([2, 3, 0], 3).toList(), [[0, 0, 1], [0, 0, 0], [1, 1, 1]]);
  assert.deepEqual(keyPaddingMaskFromIds(tensor([[5, 6, 0], [0, 1, 2]], { dtype: 'int32' }), 0).toList(), [[0, 0, 1], [1, 0, 0]]);
  assert.throws(() => paddingMask([4], 3), /length 4 of row 0 is not in \[0, 3\]/);
});

test('finite differences: multi-head attention with padding and causal masks (float64)', () => {
  const rng = new Rng(11);
  const mha = new MultiHeadAttention(8, 2, { rng, dtype: 'float64' });
  const kpm = paddingMask([3, 2], 3);
  gradcheck((x) => mha.forward(x, x, x, { keyPaddingMask: kpm, attnMask: causalMask(3) }).output, [randn64([2, 3, 8], rng)], { atol: 1e-6, rtol: 1e-5, label: 'mha self' });
  gradcheck((q, m) => mha.forward(q, m, m, { keyPaddingMask: kpm }).output, [randn64([2, 2, 8], rng), randn64([2, 3, 8], rng)], { atol: 1e-6, rtol: 1e-5, label: 'mha cross' });
});

test('finite differences: an encoder layer whose mask empties one query row (float64)', () => {
  const rng = new Rng(12);
  const layer = new TransformerEncoderLayer(8, 2, { dFF: 16, dropout: 0, rng, dtype: 'float64', normFirst: true, activation: 'gelu' });
  // Row 0 of batch 1 may attend nowhere: weights 0, so the attention output there is just out_proj.bias.
  const mask = tensor([[[0, 1, 1], [0, 0, 1], [0, 0, 0]], [[1, 1, 1], [0, 0, 1], [0, 0, 0]]]).unsqueeze(1);
  gradcheck((x) => layer.forward(x, { srcMask: mask }).output, [randn64([2, 3, 8], rng)], { atol: 1e-6, rtol: 1e-5, label: 'encoder layer' });
});
