// GPT's one-call decoding step (Backend.decodeStack through GPT.decodeStep) against the same model on `ref`:
// the uncached forward's logits, the cached keys and values, greedy and beam tokens.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Backend } from '../../src/backend/backend.js';
import { createNativeBackend, type NativeBackend } from '../../src/backend/native.js';
import { refBackend } from '../../src/backend/ref.js';
import { ArgumentError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { GPT, type GPTConfig } from '../../src/models/gpt.js';
import { KVCache } from '../../src/nn/kv-cache.js';
import { loadNativeBackend } from '../../src/node/backend-select.js';
import { Tensor, noGrad, randn, tensor } from '../../src/tensor/index.js';
import { assertSameDecoding } from '../helpers/same-decoding.js';

const loaded = loadNativeBackend();
const skip = loaded ? false : 'the native addon (build/Release/qkv_native.node) did not load; run `npm run build:native`';

/** A fresh native backend (fused kernels on) whose decodeStack calls are counted. */
function countingBackend(): { backend: NativeBackend; calls: () => number } {
  const backend = createNativeBackend(loaded!.addon);
  const kernel = backend.decodeStack!;
  let n = 0;
  backend.decodeStack = (...args) => { n++; return kernel.apply(backend, args); };
  return { backend, calls: () => n };
}

interface Case { name: string; rows: number; config: Omit<GPTConfig, 'vocab'> }
const CASES: Case[] = [
  { name: 'pre-norm GELU, 4 heads, B 1, final norm, tied head', rows: 1, config: { heads: 4, normFirst: true, activation: 'gelu', finalNorm: true } },
  { name: 'pre-norm GELU, 2 heads, B 3, blocks at ε 1e-3 (final norm at 1e-5)', rows: 3, config: { heads: 2, normFirst: true, activation: 'gelu', finalNorm: true, eps: 1e-3 } },
  { name: 'post-norm ReLU, 2 heads, B 1, no final norm, untied head', rows: 1, config: { heads: 2, normFirst: false, activation: 'relu', finalNorm: false, tieEmbeddings: false } },
  { name: 'post-norm ReLU, 4 heads of 9 (d 36), B 3', rows: 3, config: { dModel: 36, heads: 4, normFirst: false, activation: 'relu', finalNorm: false } },
  { name: 'pre-norm gelu_new (GPT-2\'s tanh GELU), 4 heads, B 3, final norm, tied head', rows: 3, config: { heads: 4, normFirst: true, activation: 'gelu_new', finalNorm: true } },
  { name: 'post-norm gelu_new, 2 heads, B 1, no final norm', rows: 1, config: { heads: 2, normFirst: false, activation: 'gelu_new', finalNorm: false } },
  { name: 'pre-norm GELU, d 128, d_ff 512, B 3 (products large enough to split over threads)', rows: 3, config: { dModel: 128, dFF: 512, heads: 4, layers: 1 } },
];
const VOCAB = 29;
const STEPS = 10;

/**
 * The same random model on a counting native backend and on `ref`. Every parameter is drawn afresh (biases and
 * LayerNorm gains too, which GPT's initialisation leaves at 0 and 1), large enough that the next-token
 * distributions are far from uniform.
 */
function twins(c: Case, seed: number): { fast: GPT; slow: GPT; backend: NativeBackend; calls: () => number } {
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
  const slow = new GPT({ ...config, backend: refBackend });
  slow.loadStateDict(new Map([...fast.stateDict()].map(([k, v]) => [k, tensor(v.toArray(), { shape: v.shape, backend: refBackend })])));
  return { fast: fast.eval(), slow: slow.eval(), backend, calls };
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

/** Runs f with the addon's threads and sgemm kernel set as asked, then puts them back. */
function withSettings<T>(backend: NativeBackend, s: { threads?: number; kernel?: string }, f: () => T): T {
  const threads = backend.threads(), kernel = backend.gemmKernel()!;
  try {
    if (s.threads !== undefined) backend.setThreads(s.threads);
    if (s.kernel !== undefined) assert.equal(backend.gemmKernel(s.kernel), s.kernel);
    return f();
  } finally {
    backend.setThreads(threads);
    backend.gemmKernel(kernel);
  }
}

/**
 * `prompt` tokens (1: the cache is empty when the first one-token step comes), then STEPS single tokens, cached on the
 * fast model: each step's logits against the uncached forward of the whole sequence on `ref`, and the caches against
 * ref's cached run.
 */
function checkSteps(c: Case, prompt: number, seed: number): number {
  const { fast, slow, calls } = twins(c, seed);
  const rng = new Rng(seed + 7);
  const seqs = randomRows(rng, c.rows, prompt);
  const nb = fast.wte.weight.backend;
  noGrad(() => {
    const cf = fast.createCache(), cs = slow.createCache();
    const first = fast.forward(ids(seqs, nb), { cache: cf }).logits;
    slow.forward(ids(seqs, refBackend), { cache: cs });
    assert.equal(calls(), prompt === 1 ? 1 : 0, 'a one-token prompt takes the one-call step, a longer one the blocks');
    const stepLogits: Tensor[] = [first.narrow(1, prompt - 1, 1)];
    for (let s = 0; s < STEPS; s++) {
      const next = seqs.map(() => [rng.int(VOCAB)]);
      seqs.forEach((row, b) => row.push(next[b][0]));
      stepLogits.push(fast.forward(ids(next, nb), { cache: cf }).logits); // [B, 1, V]
      slow.forward(ids(next, refBackend), { cache: cs });
    }
    assert.equal(calls(), STEPS + (prompt === 1 ? 1 : 0), 'every single-token step went through decodeStack');
    assert.equal(cf.length, prompt + STEPS);
    const full = slow.forward(ids(seqs, refBackend)).logits; // [B, prompt + STEPS, V], no cache
    stepLogits.forEach((lf, s) => assertRelClose(lf, full.narrow(1, prompt - 1 + s, 1), 1e-5, `step ${s} against ref's uncached forward`));
    for (let i = 0; i < fast.layers.length; i++) {
      const [a, b] = [cf.layer(i).self.view(), cs.layer(i).self.view()];
      assertRelClose(a.k, b.k, 1e-5, `layer ${i} keys`);
      assertRelClose(a.v, b.v, 1e-5, `layer ${i} values`);
    }
  });
  return calls();
}

describe('GPT.decodeStep (Backend.decodeStack) on native', { skip }, () => {
  for (const c of CASES) {
    test(`${c.name}: cached steps give ref's uncached logits and ref's cache`, () => {
      checkSteps(c, 4, 1);
      checkSteps(c, 1, 2);
    });

    test(`${c.name}: greedy and beam search give ref's tokens`, () => {
      const { fast, slow, calls } = twins(c, 3);
      const prompts = randomRows(new Rng(4), c.rows, 3);
      assertSameDecoding(fast, slow, prompts, 12, calls);
    });
  }

  test('two threads, and the portable kernels, give ref\'s logits too', () => {
    const { backend } = countingBackend();
    for (const c of [CASES[3], CASES[4]]) {
      withSettings(backend, { threads: 2 }, () => checkSteps(c, 4, 5));
      withSettings(backend, { threads: 1, kernel: 'portable' }, () => checkSteps(c, 1, 6));
    }
  });

  test('the one-call step steps aside when it does not apply', () => {
    const { fast, calls } = twins(CASES[0], 8);
    const nb = fast.wte.weight.backend;
    const cache = fast.createCache();
    noGrad(() => fast.forward(ids([[1, 2]], nb), { cache }));
    assert.equal(fast.decodeStep(ids([[3]], nb), cache), null, 'gradients recorded');
    noGrad(() => {
      assert.equal(fast.decodeStep(ids([[3], [4]], nb), cache), null, 'another batch size');
      assert.equal(fast.decodeStep(ids([[3, 4]], nb), cache), null, 'two new positions');
      assert.equal(fast.decodeStep(ids([[3]], nb), new KVCache(fast.layers.length + 1, 8)), null, 'a cache of another model');
      const dropping = new GPT({ vocab: VOCAB, dModel: 32, dFF: 48, heads: 4, layers: 1, context: 8, dropout: 0.1, backend: nb });
      const dc = dropping.createCache();
      assert.equal(dropping.decodeStep(ids([[1]], nb), dc), null, 'dropout active in training mode');
      assert.notEqual(dropping.eval().decodeStep(ids([[1]], nb), dc), null, 'the same model in eval mode');
      assert.equal(dc.length, 1);
      // A padding mask or a request for the weights keeps GPT on the blocks.
      const before = calls();
      fast.forward(ids([[3]], nb), { cache, keyPaddingMask: tensor([[0, 0, 0]], { backend: nb }) });
      fast.forward(ids([[3]], nb), { cache, needWeights: true });
      assert.equal(calls(), before);
      assert.equal(cache.length, 4);
    });
    assert.equal(cache.length, 4, 'nothing advanced on the declined calls');
  });

  test('positions past the context and a full cache fail as the composed path does', () => {
    const { fast, slow } = twins(CASES[0], 9);
    const nb = fast.wte.weight.backend;
    noGrad(() => {
      const cache = fast.createCache(3);
      fast.forward(ids([[1, 2]], nb), { cache });
      fast.forward(ids([[3]], nb), { cache });
      assert.throws(() => fast.forward(ids([[4]], nb), { cache }), /positions \[3, 4\) exceed the cache's maxLen 3/);
      // A cache longer than the context: the step at position `context` falls back, and the position table says why.
      const context = fast.config.context;
      const long = new KVCache(fast.layers.length, context + 2);
      const prompt = Array.from({ length: context }, (_, i) => i % VOCAB);
      fast.forward(ids([prompt], nb), { cache: long });
      assert.throws(() => fast.forward(ids([[1]], nb), { cache: long }), /positions \[24, 25\) exceed maxLen 24/);
      assert.throws(() => slow.forward(ids([[...prompt, 1]], refBackend)), /positions \[0, 25\) exceed maxLen 24/);
    });
  });

  test('parameters loaded after a step are the ones the next step uses (what GPT and the backend keep is not stale)', () => {
    const { fast, calls } = twins(CASES[0], 11);
    const { slow: other } = twins(CASES[0], 12);
    const nb = fast.wte.weight.backend;
    noGrad(() => {
      const cache = fast.createCache();
      fast.forward(ids([[1]], nb), { cache });
      fast.loadStateDict(other.stateDict()); // in place: the same tensors, new values
      const cf = fast.createCache(), co = other.createCache();
      fast.forward(ids([[1]], nb), { cache: cf });
      other.forward(ids([[1]], refBackend), { cache: co });
      const lf = fast.forward(ids([[5]], nb), { cache: cf }).logits;
      assertRelClose(lf, other.forward(ids([[5]], refBackend), { cache: co }).logits, 1e-5, 'after loadStateDict');
      assert.equal(calls(), 3);
    });
  });

  test('an id out of range is an ArgumentError that names it, and the cache is left as it was', () => {
    const { fast } = twins(CASES[1], 10);
    const nb = fast.wte.weight.backend;
    noGrad(() => {
      const cache = fast.createCache();
      fast.forward(ids([[1, 2], [3, 4], [5, 6]], nb), { cache });
      const before = cache.layers.map((l) => l.self.buffers()!.k.toArray());
      assert.throws(() => fast.forward(ids([[1], [VOCAB], [2]], nb), { cache }), (e: unknown) =>
        e instanceof ArgumentError && /id 29 at position 1 is out of range \[0, 29\)/.test(e.message));
      assert.equal(cache.length, 2);
      cache.layers.forEach((l, i) => assert.deepEqual(l.self.buffers()!.k.toArray(), before[i], `layer ${i}'s keys unchanged`));
    });
  });

  test('an addon built before the tanh GELU (no decodeGeluForms) keeps gelu_new steps off its kernels, which would read erf', () => {
    const old = Object.create(loaded!.addon, { decodeGeluForms: { value: undefined } }) as NonNullable<typeof loaded>['addon'];
    const backend = createNativeBackend(old);
    for (const [activation, fused] of [['gelu_new', false], ['gelu', true]] as const) {
      const m = new GPT({ vocab: VOCAB, dModel: 16, heads: 2, layers: 1, context: 8, dropout: 0, activation, backend }).eval();
      noGrad(() => {
        const cache = m.createCache();
        m.forward(ids([[1, 2]], backend), { cache });
        assert.equal(m.decodeStep(ids([[3]], backend), cache) !== null, fused, activation);
        const x = randn([1, 1, 16], new Rng(1), { backend });
        assert.equal(m.layers.at(0).decodeStep(x, cache.layer(0).self) !== null, fused, `${activation} block`);
      });
    }
  });
});
