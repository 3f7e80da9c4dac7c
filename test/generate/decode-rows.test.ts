// The batched decoding step (GPT.decodeRows → Backend.decodeStackRows) at 1, 3 and 16 rows, each row at its own
// position, against ref's uncached forward of each row's whole sequence; with the step's products as one product
// over the rows (the default) and row by row (the path before it), which give the same bits. And a prompt's
// prefill in one call (GPT.prefillStep → Backend.decodeStackPrefill) against ref's logits and cache.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createNativeBackend, type NativeBackend } from '../../src/backend/native.js';
import { refBackend } from '../../src/backend/ref.js';
import { Rng } from '../../src/core/rng.js';
import { GPT, type GPTConfig } from '../../src/models/gpt.js';
import { loadNativeBackend } from '../../src/node/backend-select.js';
import { noGrad, randn, tensor } from '../../src/tensor/index.js';
import { idsTensor } from '../../src/generate/rows.js';

const loaded = loadNativeBackend();
const skip = loaded?.addon.decodeRowTiles ? false : 'the native addon (with decodeRowTiles) did not load; run `npm run build:native`';
const VOCAB = 29;

/** The same random model on native and on ref; every parameter drawn afresh, LayerNorm gains around 1. */
function twins(backend: NativeBackend, config: Omit<GPTConfig, 'vocab'>): { fast: GPT; slow: GPT } {
  const fast = new GPT({ vocab: VOCAB, ...config, backend });
  const rng = new Rng(5);
  noGrad(() => {
    for (const [name, p] of fast.namedParameters()) {
      const r = randn(p.shape, rng, { backend, std: p.ndim === 2 ? 0.3 : 0.2 });
      p.assign(name.includes('norm') && name.endsWith('weight') ? r.add(1) : r);
    }
  });
  const slow = new GPT({ vocab: VOCAB, ...config, backend: refBackend });
  slow.loadStateDict(new Map([...fast.stateDict()].map(([k, v]) => [k, tensor(v.toArray(), { shape: v.shape, backend: refBackend })])));
  return { fast: fast.eval(), slow: slow.eval() };
}

/** max |a − b| ≤ tol · max |b| over one row of logits. */
function assertRelClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, label: string): void {
  let scale = 0, worst = 0, at = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= worst)) { worst = d; at = i; }
  }
  assert.ok(scale > 0 && worst <= tol * scale, `${label}: |Δ| ${worst} at ${at} (${a[at]} vs ${b[at]}) exceeds ${tol} × ${scale}`);
}

/**
 * `rows` rows prefilled with prompts of 1 to 6 tokens (so each sits at its own position), then `steps` batched steps
 * of random tokens: every step's logits per row, checked against ref's uncached forward of that row's sequence.
 */
function run(fast: GPT, slow: GPT, rows: number, steps: number, seed: number): Float32Array[] {
  const backend = fast.wte.weight.backend;
  const rng = new Rng(seed);
  const seqs = Array.from({ length: rows }, () => Array.from({ length: 1 + rng.int(6) }, () => rng.int(VOCAB)));
  const cache = fast.createSlotCache(rows);
  const out: Float32Array[] = [];
  noGrad(() => {
    seqs.forEach((s, r) => fast.forward(idsTensor([s], backend), { cache: cache.row(r) }));
    for (let t = 0; t < steps; t++) {
      const next = seqs.map(() => rng.int(VOCAB));
      next.forEach((id, r) => seqs[r].push(id));
      const logits = fast.decodeRows(idsTensor(next.map((id) => [id]), backend), cache);
      assert.ok(logits, 'the batched step applies');
      const got = logits.toArray() as Float32Array;
      out.push(got);
      seqs.forEach((s, r) => {
        const full = slow.forward(idsTensor([s], refBackend)).logits.narrow(1, s.length - 1, 1).toArray();
        assertRelClose(got.subarray(r * VOCAB, (r + 1) * VOCAB), full, 1e-5, `rows ${rows}, step ${t}, row ${r} (position ${s.length - 1})`);
      });
    }
  });
  return out;
}

describe('the batched decoding step at several row counts, against ref', { skip }, () => {
  const CASES: { name: string; threads: number; config: Omit<GPTConfig, 'vocab'> }[] = [
    { name: 'd 32, d_ff 48, pre-norm GELU, 1 thread', threads: 1, config: { dModel: 32, dFF: 48, heads: 4, layers: 2, context: 24, dropout: 0 } },
    // d_ff 100: a product with 4 outputs past the last run of 8, and one with k = 100 (not a multiple of 8);
    // 16 rows of d 64 are enough for the products to split over two threads.
    { name: 'd 64, d_ff 100, post-norm ReLU, 2 threads', threads: 2, config: { dModel: 64, dFF: 100, heads: 4, layers: 2, context: 24, dropout: 0, normFirst: false, activation: 'relu', finalNorm: false } },
  ];
  for (const c of CASES) {
    test(`${c.name}: rows 1, 3 and 16 give ref's logits, the same bits with the row tiles on and off`, () => {
      const backend = createNativeBackend(loaded!.addon);
      const threads = backend.threads();
      const addon = loaded!.addon;
      try {
        backend.setThreads(c.threads);
        const { fast, slow } = twins(backend, c.config);
        for (const rows of [1, 3, 16]) {
          addon.decodeRowTiles!(true);
          const tiled = run(fast, slow, rows, 3, rows);
          addon.decodeRowTiles!(false);
          const plain = run(fast, slow, rows, 3, rows);
          tiled.forEach((l, t) => assert.deepEqual(Array.from(l), Array.from(plain[t]), `rows ${rows}, step ${t}: tiles on and off agree bit for bit`));
        }
      } finally {
        addon.decodeRowTiles!(true);
        backend.setThreads(threads);
      }
    });
  }

  test('a prompt in one call (prefillStep), after a cached prefix and into a slot row, gives ref\'s logits and cache', () => {
    const backend = createNativeBackend(loaded!.addon);
    let calls = 0;
    const kernel = backend.decodeStackPrefill!;
    backend.decodeStackPrefill = (...a) => { calls++; return kernel.apply(backend, a); };
    const { fast, slow } = twins(backend, CASES[0].config);
    const rng = new Rng(9);
    const seq = Array.from({ length: 14 }, () => rng.int(VOCAB));
    noGrad(() => {
      const full = slow.forward(idsTensor([seq], refBackend)).logits; // [1, 14, V], no cache
      const cs = slow.createCache();
      slow.forward(idsTensor([seq], refBackend), { cache: cs });
      // A fresh cache (5 tokens), then 9 more after them, in row 2 of a slot cache.
      const slots = fast.createSlotCache(3);
      const row = slots.row(2);
      const a = fast.forward(idsTensor([seq.slice(0, 5)], backend), { cache: row }).logits;
      const b = fast.forward(idsTensor([seq.slice(5)], backend), { cache: row }).logits;
      assert.equal(calls, 2, 'both went through decodeStackPrefill');
      assert.equal(slots.length(2), 14);
      assert.equal(slots.length(0), 0, 'the other rows untouched');
      const got = [...a.toArray(), ...b.toArray()];
      for (let t = 0; t < seq.length; t++) {
        assertRelClose(got.slice(t * VOCAB, (t + 1) * VOCAB), full.narrow(1, t, 1).toArray(), 1e-5, `position ${t}`);
      }
      for (let i = 0; i < fast.layers.length; i++) {
        const mine = slots.views(3)[i], ref = cs.layer(i).self.view();
        for (const name of ['k', 'v'] as const) {
          const m = mine[name].narrow(0, 2, 1).narrow(2, 0, 14).contiguous().toArray(), r = ref[name].toArray();
          assertRelClose(m, r, 1e-5, `layer ${i} ${name === 'k' ? 'keys' : 'values'}`);
        }
      }
      // Past the context (24) it steps aside, and the composed path says why.
      const long = fast.createCache();
      fast.forward(idsTensor([seq], backend), { cache: long });
      assert.throws(() => fast.forward(idsTensor([Array.from({ length: 11 }, () => 1)], backend), { cache: long }), /exceed/);
      assert.equal(long.length, 14, 'nothing advanced');
    });
    // A prompt longer than 32 tokens takes the blocks (their packed GEMM is faster there).
    const { fast: wide } = twins(backend, { ...CASES[0].config, context: 40 });
    noGrad(() => wide.forward(idsTensor([Array.from({ length: 33 }, (_, i) => i % VOCAB)], backend), { cache: wide.createCache() }));
    assert.equal(calls, 3, '33 tokens: not through decodeStackPrefill (the 14-token prompt above was the third call)');
  });

  test('decodeRowTiles reports its setting and refuses what is not a boolean', () => {
    const addon = loaded!.addon;
    assert.equal(addon.decodeRowTiles!(), true, 'on by default');
    try {
      assert.equal(addon.decodeRowTiles!(false), false);
      assert.equal(addon.decodeRowTiles!(), false);
      assert.throws(() => (addon.decodeRowTiles as (x: unknown) => boolean)(1), /on is not a boolean/);
    } finally {
      addon.decodeRowTiles!(true);
    }
  });
});
