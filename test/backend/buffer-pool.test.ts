// The output-buffer pool (src/backend/buffer-pool.ts): reuse inside scopes, what keep protects, and a
// Trainer run whose losses are the same bit for bit with reuse (released buffers poisoned with NaN)
// and without it, so no buffer still in use is ever handed out again.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool, capacityClass } from '../../src/backend/buffer-pool.js';
import type { Backend } from '../../src/backend/backend.js';
import { createNativeBackend } from '../../src/backend/native.js';
import { loadNativeBackend } from '../../src/node/backend-select.js';
import { defaultBackend, setDefaultBackend } from '../../src/tensor/default-backend.js';
import { Adam, Rng, Tensor, Trainer, Transformer, randn, withStorageScope } from '../../src/index.js';
import type { TrainEvent } from '../../src/index.js';
import { COPY_VOCAB } from '../../examples/copy-task.js';
import { copyTask } from '../train/copy-task.js';

test('capacityClass: the next m·2^k (m in 8..15) at or above the size, at most 1/8 more', () => {
  assert.equal(capacityClass(16384), 16384);
  assert.equal(capacityClass(16385), 18432); // 9·2^11
  assert.equal(capacityClass(30000), 30720); // 15·2^11
  assert.equal(capacityClass(30721), 32768);
  for (let n = 17; n < 100000; n += 977) {
    const c = capacityClass(n);
    assert.ok(c >= n && c <= n * 1.125 + 16, `${n} → ${c}`);
  }
});

test('a released buffer backs the next take of its class; outside a scope nothing is recorded', () => {
  const pool = new BufferPool();
  const outside = pool.take('float32', 5000, false);
  const scope = pool.openScope();
  const a = pool.take('float32', 5000, false);
  scope.close([]);
  assert.equal(pool.pooledBytes, capacityClass(20000));
  const b = pool.take('float32', 4990, true); // same class (19,960 bytes → 20,480)
  assert.equal(b.buffer, a.buffer);
  assert.equal(b.length, 4990);
  assert.ok(b.every((x) => x === 0), 'zero-filled when asked');
  assert.notEqual(pool.take('float32', 5000, false).buffer, outside.buffer);
});

test('keep protects a buffer; the others are poisoned (NaN) when poison is on', () => {
  const pool = new BufferPool();
  pool.poison = true;
  const scope = pool.openScope();
  const kept = pool.take('float32', 8192, false).fill(3);
  const dropped = pool.take('float32', 8192, false).fill(3);
  const small = pool.take('float32', 10, false).fill(3); // below the pooled size: left to the collector
  scope.close([kept]);
  assert.ok(kept.every((x) => x === 3));
  assert.ok(dropped.every((x) => Number.isNaN(x)));
  assert.ok(small.every((x) => x === 3));
  assert.equal(pool.take('float32', 8192, false).buffer, dropped.buffer);
});

test('nested scopes: the inner close does nothing, the outer takes back both; discard gives nothing back', () => {
  const pool = new BufferPool();
  const outer = pool.openScope();
  const inner = pool.openScope();
  pool.take('float32', 8192, false);
  inner.close([]);
  assert.equal(pool.pooledBytes, 0);
  outer.close([]);
  assert.equal(pool.pooledBytes, 32768);
  const d = pool.openScope();
  pool.take('float32', 8192, false); // takes the pooled one
  pool.take('float32', 8192, false);
  d.discard();
  d.close([]);
  assert.equal(pool.pooledBytes, 0);
});

const native = loadNativeBackend();

/**
 * Losses of a 12-step copy-task run on `backend`: dropout on, batch 64 and d 64 so that activations,
 * gradients and Adam's moments (the feed-forward's 64×128 weights) are all big enough to be pooled.
 */
async function losses(backend: Backend): Promise<number[]> {
  const before = defaultBackend();
  setDefaultBackend(backend);
  try {
    const model = new Transformer({
      srcVocab: COPY_VOCAB, tgtVocab: COPY_VOCAB, dModel: 64, heads: 2, dFF: 128, encoderLayers: 1, decoderLayers: 1, dropout: 0.1, seed: 5,
    });
    const events: TrainEvent[] = [];
    await new Trainer(model, copyTask({ batch: 64, batchesPerEpoch: 6 }), {
      optimizer: new Adam(model.parameters(), { lr: 3e-3 }), schedule: null, maxSteps: 12, seed: 9,
      onEvent: (e) => events.push(e),
    }).run();
    return events.flatMap((e) => (e.type === 'step' ? [e.loss] : []));
  } finally {
    setDefaultBackend(before);
  }
}

test('Trainer on native: the same losses with buffer reuse (poisoned on release) as without', { skip: native ? false : 'native addon not built' }, async () => {
  const pooled = createNativeBackend(native!.addon);
  pooled.pool.poison = true;
  const plain: Backend = { ...createNativeBackend(native!.addon) };
  delete plain.openScope;
  const a = await losses(pooled);
  const b = await losses(plain);
  assert.equal(a.length, 12);
  assert.ok(a.every(Number.isFinite), `pooled losses ${a}`);
  assert.deepEqual(a, b);
  assert.ok(pooled.pool.pooledBytes > 0, 'the run reused buffers');
});

/**
 * Gradients of x and y for f = Σ (custom(x·2, y) · w): `custom` returns one fresh tensor h as the
 * gradient of both its inputs, and x·2 is used twice, so gradients are summed into pending ones
 * while another input still waits on h. Run inside a scope (poisoned releases) and outside one.
 */
function aliasGrads(backend: Backend, scoped: boolean): { gx: number[]; gy: number[]; w: number[] } {
  const before = defaultBackend();
  setDefaultBackend(backend);
  try {
    const rng = new Rng(3);
    const x = randn([80, 64], rng).requireGrad(); // 5,120 elements: pooled
    const y = randn([80, 64], rng).requireGrad();
    const w = randn([80, 64], rng);
    const run = () => {
      const u = x.mul(2);
      const both = (a: Tensor, b: Tensor) => Tensor.track('both', a.add(b).detach(), [a, b], (g) => {
        const h = g.mul(3); // one fresh tensor, the gradient of both inputs
        return [h, h];
      });
      const f = both(u, y).add(u).mul(w).sum(); // u feeds `both` and the add: its gradients are summed
      f.backward();
      return { gx: Array.from(x.grad!.toArray()), gy: Array.from(y.grad!.toArray()), w: Array.from(w.toArray()) };
    };
    return scoped ? withStorageScope(backend, run, () => [x, y, x.grad!, y.grad!]) : run();
  } finally {
    setDefaultBackend(before);
  }
}

test('backward releases a gradient only when no pending gradient shares its storage (one tensor feeding two inputs)', { skip: native ? false : 'native addon not built' }, () => {
  const pooled = createNativeBackend(native!.addon);
  pooled.pool.poison = true;
  const { gx, gy, w: wa } = aliasGrads(pooled, true);
  const { gx: rx, gy: ry } = aliasGrads(native!, false);
  assert.ok(gx.every(Number.isFinite) && gy.every(Number.isFinite), 'no poisoned value reached a gradient');
  assert.deepEqual(gx, rx);
  assert.deepEqual(gy, ry);
  // and by hand: df/dy = 3w, df/dx = 2·(3w + w) = 8w
  assert.deepEqual(gy, wa.map((v) => Math.fround(v * 3)));
  gx.forEach((v, i) => assert.ok(Math.abs(v - 8 * wa[i]) <= 1e-5 * Math.abs(8 * wa[i]) + 1e-6, `x grad ${i}`));
});
