// The fused one-position decoding step (Backend.decodeBlock through TransformerEncoderLayer.decodeStep) against
// the composed blocks of the same model on a native backend without fused kernels, and the uncached forward.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Backend } from '../../src/backend/backend.js';
import { createNativeBackend } from '../../src/backend/native.js';
import { ShapeError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { GPT, type GPTConfig } from '../../src/models/gpt.js';
import { loadNativeBackend } from '../../src/node/backend-select.js';
import { Tensor, noGrad, randn, tensor } from '../../src/tensor/index.js';
import { assertSameDecoding } from '../helpers/same-decoding.js';

const composed = loadNativeBackend({ fused: false });
const skip = composed ? false : 'the native addon (build/Release/qkv_native.node) did not load; run `npm run build:native`';

/**
 * A native backend with the fused kernels whose decodeBlock calls are counted (a fresh instance, not the shared one),
 * without decodeStack, which would run every block of GPT's step in one call instead (test/generate/decode-stack.test.ts).
 */
function countingBackend(): { backend: Backend; calls: () => number } {
  const backend = createNativeBackend(composed!.addon);
  delete backend.decodeStack;
  const kernel = backend.decodeBlock!;
  let n = 0;
  backend.decodeBlock = (...args) => { n++; return kernel.apply(backend, args); };
  return { backend, calls: () => n };
}

interface Case { name: string; rows: number; config: Omit<GPTConfig, 'vocab'> }
const CASES: Case[] = [
  { name: 'pre-norm GELU, 4 heads, B 1 (the benchmark GPT, small)', rows: 1, config: { heads: 4, normFirst: true, activation: 'gelu', finalNorm: true } },
  { name: 'pre-norm GELU, 2 heads, B 3', rows: 3, config: { heads: 2, normFirst: true, activation: 'gelu', finalNorm: true } },
  { name: 'pre-norm gelu_new (tanh GELU), 2 heads, B 3', rows: 3, config: { heads: 2, normFirst: true, activation: 'gelu_new', finalNorm: true } },
  { name: 'post-norm ReLU, 2 heads, B 1, untied head', rows: 1, config: { heads: 2, normFirst: false, activation: 'relu', finalNorm: false, tieEmbeddings: false } },
  { name: 'post-norm ReLU, 4 heads of 9, B 3', rows: 3, config: { dModel: 36, heads: 4, normFirst: false, activation: 'relu', finalNorm: false } },
];
const VOCAB = 29;
const PROMPT = 4;
const STEPS = 12;

/**
 * The same random model twice: on a counting fused backend and on the composed one. Every parameter is
 * drawn afresh (biases and LayerNorm gains too, which GPT's initialisation leaves at 0 and 1), large
 * enough that the next-token distributions are far from uniform.
 */
function twins(c: Case, seed: number): { fast: GPT; slow: GPT; calls: () => number } {
  const { backend, calls } = countingBackend();
  const config: GPTConfig = { vocab: VOCAB, dModel: 32, dFF: 48, layers: 2, context: 24, dropout: 0, seed, ...c.config };
  const fast = new GPT({ ...config, backend });
  const rng = new Rng(seed + 100);
  noGrad(() => {
    for (const [name, p] of fast.namedParameters()) {
      const r = randn(p.shape, rng, { backend, std: p.ndim === 2 ? 0.3 : 0.2 });
      p.assign(name.includes('norm') && name.endsWith('weight') ? r.add(1) : r);
    }
  });
  const slow = new GPT({ ...config, backend: composed! });
  slow.loadStateDict(fast.stateDict());
  return { fast: fast.eval(), slow: slow.eval(), calls };
}

const ids = (rows: number[][], backend: Backend) => tensor(rows, { dtype: 'int32', backend });
const randomRows = (rng: Rng, B: number, T: number) => Array.from({ length: B }, () => Array.from({ length: T }, () => rng.int(VOCAB)));

/** max |a − b| ≤ tol · max |b|, with a message naming the worst element. */
function assertRelClose(a: Tensor, b: Tensor, tol: number, label: string): void {
  assert.deepEqual(a.shape, b.shape, `${label}: shapes`);
  const x = a.toArray(), y = b.toArray();
  let scale = 0, worst = 0, at = 0;
  for (let i = 0; i < y.length; i++) scale = Math.max(scale, Math.abs(y[i]));
  for (let i = 0; i < y.length; i++) {
    const d = Math.abs(x[i] - y[i]);
    if (!(d <= worst)) { worst = d; at = i; }
  }
  assert.ok(scale > 0 && worst <= tol * scale, `${label}: |Δ| ${worst} at ${at} (${x[at]} vs ${y[at]}) exceeds ${tol} × max |expected| ${scale}`);
}

describe('fused decoding step on native', { skip }, () => {
  for (const c of CASES) {
    test(`${c.name}: ${STEPS} cached steps give the composed logits, the uncached forward's, and the same cache`, () => {
      const { fast, slow, calls } = twins(c, 1);
      const rng = new Rng(7);
      const seqs = randomRows(rng, c.rows, PROMPT);
      noGrad(() => {
        const cf = fast.createCache(), cs = slow.createCache();
        fast.forward(ids(seqs, fast.wte.weight.backend), { cache: cf });
        slow.forward(ids(seqs, composed!), { cache: cs });
        assert.equal(calls(), 0, 'the prompt (T > 1) takes the composed path');
        const stepLogits: Tensor[] = [];
        for (let s = 0; s < STEPS; s++) {
          const next = seqs.map(() => [rng.int(VOCAB)]);
          seqs.forEach((row, b) => row.push(next[b][0]));
          const lf = fast.forward(ids(next, fast.wte.weight.backend), { cache: cf }).logits; // [B, 1, V]
          const ls = slow.forward(ids(next, composed!), { cache: cs }).logits;
          assertRelClose(lf, ls, 1e-5, `step ${s}`);
          stepLogits.push(lf);
        }
        assert.equal(calls(), STEPS * fast.layers.length, 'every single-token step of every block went through decodeBlock');
        assert.equal(cf.length, PROMPT + STEPS);
        assert.equal(cs.length, PROMPT + STEPS);
        for (let i = 0; i < fast.layers.length; i++) {
          const [a, b] = [cf.layer(i).self, cs.layer(i).self];
          assert.equal(a.length, b.length);
          assertRelClose(a.view().k, b.view().k, 1e-5, `layer ${i} keys`);
          assertRelClose(a.view().v, b.view().v, 1e-5, `layer ${i} values`);
        }
        const full = slow.forward(ids(seqs, composed!)).logits; // [B, PROMPT + STEPS, V], no cache
        stepLogits.forEach((lf, s) => assertRelClose(lf, full.narrow(1, PROMPT + s, 1), 1e-5, `step ${s} against the uncached forward`));
      });
    });

    test(`${c.name}: greedy generation and beam search give the tokens of the composed path`, () => {
      const { fast, slow, calls } = twins(c, 2);
      const prompts = randomRows(new Rng(3), c.rows, 3);
      assertSameDecoding(fast, slow, prompts, 15, calls);
    });
  }

  test('the fast path steps aside when it does not apply', () => {
    const c = CASES[0];
    const { fast, calls } = twins(c, 4);
    const layer = fast.layers.at(0);
    const backend = fast.wte.weight.backend;
    const x = randn([1, 1, 32], new Rng(5), { backend });
    const cache = fast.createCache();
    noGrad(() => assert.equal(layer.decodeStep(x, cache.layer(0).self), null, 'no buffers before the first append'));
    noGrad(() => fast.forward(ids([[1, 2]], backend), { cache }));
    assert.equal(layer.decodeStep(x, cache.layer(0).self), null, 'gradients recorded');
    noGrad(() => {
      assert.equal(layer.decodeStep(randn([2, 1, 32], new Rng(6), { backend }), cache.layer(0).self), null, 'another batch size');
      assert.equal(layer.decodeStep(randn([1, 2, 32], new Rng(6), { backend }), cache.layer(0).self), null, 'two new positions');
      const dropping = new GPT({ vocab: VOCAB, dModel: 32, dFF: 48, heads: 4, layers: 1, context: 8, dropout: 0.1, backend });
      const dc = dropping.createCache();
      dropping.forward(ids([[1, 2]], backend), { cache: dc });
      assert.equal(dropping.layers.at(0).decodeStep(x, dc.layer(0).self), null, 'dropout active in training mode');
      assert.notEqual(dropping.eval().layers.at(0).decodeStep(x, dc.layer(0).self), null, 'the same model in eval mode');
      assert.equal(dc.length, 3);
      // A padding mask or a request for the weights keeps GPT on the composed blocks.
      const before = calls();
      fast.forward(ids([[3]], backend), { cache, keyPaddingMask: tensor([[0, 0, 0]], { backend }) });
      fast.forward(ids([[3]], backend), { cache, needWeights: true });
      assert.equal(calls(), before);
      assert.equal(cache.length, 4);
    });
    assert.equal(cache.length, 4, 'nothing advanced on the declined calls');
  });

  test('a full cache fails as the composed path does; caches that do not fit are a ShapeError', () => {
    const { fast } = twins(CASES[0], 5);
    const backend = fast.wte.weight.backend;
    const cache = fast.createCache(3);
    noGrad(() => {
      fast.forward(ids([[1, 2]], backend), { cache });
      fast.forward(ids([[3]], backend), { cache });
      assert.throws(() => fast.forward(ids([[4]], backend), { cache }), /positions \[3, 4\) exceed the cache's maxLen 3/);
      const layer = fast.layers.at(0);
      const { k, v } = cache.layer(0).self.buffers()!;
      const w = {
        inProjWeight: layer.selfAttn.inProjWeight, inProjBias: layer.selfAttn.inProjBias, outProjWeight: layer.selfAttn.outProj.weight,
        outProjBias: layer.selfAttn.outProj.bias, norm1Weight: layer.norm1.weight, norm1Bias: layer.norm1.bias, norm2Weight: layer.norm2.weight,
        norm2Bias: layer.norm2.bias, linear1Weight: layer.linear1.weight, linear1Bias: layer.linear1.bias, linear2Weight: layer.linear2.weight,
        linear2Bias: layer.linear2.bias,
      };
      const spec = { heads: 4, normFirst: true, activation: 'gelu' as const, eps: 1e-5 };
      const x = randn([1, 32], new Rng(1), { backend });
      assert.throws(() => backend.decodeBlock!(x, w, k, v, 0, { ...spec, heads: 2 }), ShapeError);
      assert.throws(() => backend.decodeBlock!(x, w, k, v, 3, spec), /at position 3 do not fit/);
    });
  });
});
