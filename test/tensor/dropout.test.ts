// Dropout masks: the counter-based hash of the spec (checked against a BigInt re-implementation), its statistics, and the Rng's two draws a mask.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { dropout, dropoutMask, tensor } from '../../src/tensor/index.js';

/** MurmurHash3's fmix32 on BigInt, written from its published definition (independent of the code under test). */
function fmix32Big(h: bigint): bigint {
  const M = 0xffffffffn;
  h ^= h >> 16n;
  h = (h * 0x85ebca6bn) & M;
  h ^= h >> 13n;
  h = (h * 0xc2b2ae35n) & M;
  h ^= h >> 16n;
  return h;
}

/** The mask's draw of element i under key (k0, k1), as the spec writes it: h_i / 2³². */
function drawOf(i: number, k0: number, k1: number): number {
  return Number(fmix32Big(fmix32Big(BigInt(i) ^ BigInt(k0)) ^ BigInt(k1))) / 4294967296;
}

describe('dropoutMask', () => {
  it('fmix32 matches MurmurHash3 reference values', () => {
    // fmix32 of 0 is 0; of 1 it is 0x514e28b7 (SMHasher's fmix32 on 1)
    assert.equal(fmix32Big(0n), 0n);
    assert.equal(fmix32Big(1n), 0x514e28b7n);
  });

  for (const [seed, p, n] of [[0, 0.1, 1000], [7, 0.5, 257], [123456, 0.9, 64], [-5, 0.3, 1]] as const) {
    it(`element i is kept iff fmix32(fmix32(i ⊕ k0) ⊕ k1)/2³² ≥ p, (k0, k1) two draws (seed ${seed}, p ${p}, n ${n})`, () => {
      const a = new Rng(seed);
      const b = new Rng(seed);
      a.normal(); // a pending Box-Muller spare must survive the mask untouched
      b.normal();
      const mask = dropoutMask('float32', n, p, a);
      const [k0, k1] = [b.nextU32(), b.nextU32()];
      const scale = Math.fround(1 / (1 - p));
      for (let i = 0; i < n; i++) assert.equal(mask[i], drawOf(i, k0, k1) >= p ? scale : 0, `element ${i}`);
      assert.deepEqual(a.getState(), b.getState(), 'two draws per mask');
      assert.equal(a.normal(), b.normal());
    });
  }

  it('keeps 1-p of the elements, independently of position (100,000 elements, p 0.1 and 0.5)', () => {
    for (const p of [0.1, 0.5]) {
      const n = 100_000;
      const mask = dropoutMask('float32', n, p, new Rng(9));
      let kept = 0;
      for (let i = 0; i < n; i++) if (mask[i] > 0) kept++;
      const sd = Math.sqrt(n * p * (1 - p));
      assert.ok(Math.abs(kept - n * (1 - p)) < 5 * sd, `p ${p}: kept ${kept}`);
      // neighbours are uncorrelated: the pair (kept, kept) appears (1-p)² of the time
      let both = 0;
      for (let i = 1; i < n; i++) if (mask[i] > 0 && mask[i - 1] > 0) both++;
      assert.ok(Math.abs(both / (n - 1) - (1 - p) ** 2) < 0.01, `p ${p}: adjacent pairs kept ${both}`);
    }
  });

  it('two masks from one generator differ (the key advances)', () => {
    const rng = new Rng(4);
    assert.notDeepEqual(dropoutMask('float32', 64, 0.5, rng), dropoutMask('float32', 64, 0.5, rng));
  });

  it('float64 masks hold the exact scale', () => {
    const mask = dropoutMask('float64', 100, 0.25, new Rng(3));
    const ref = new Rng(3);
    const [k0, k1] = [ref.nextU32(), ref.nextU32()];
    for (let i = 0; i < 100; i++) assert.equal(mask[i], drawOf(i, k0, k1) >= 0.25 ? 1 / 0.75 : 0);
  });

  it('dropout(x) is x ⊙ mask, and its gradient is the mask', () => {
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8], { dtype: 'float64' }).requireGrad();
    const y = dropout(x, 0.5, new Rng(11), true);
    const ref = new Rng(11);
    const [k0, k1] = [ref.nextU32(), ref.nextU32()];
    const mask = Array.from({ length: 8 }, (_, i) => (drawOf(i, k0, k1) >= 0.5 ? 2 : 0));
    assert.deepEqual(Array.from(y.toArray()), mask.map((m, i) => m * (i + 1)));
    y.sum().backward();
    assert.deepEqual(Array.from(x.grad!.toArray()), mask);
  });
});
