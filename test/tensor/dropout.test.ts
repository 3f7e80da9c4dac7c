// Dropout masks: the inline generator draws exactly what Rng.uniform() draws, in order, and leaves the Rng where it would.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { dropout, dropoutMask, tensor } from '../../src/tensor/index.js';

describe('dropoutMask', () => {
  for (const [seed, p, n] of [[0, 0.1, 1000], [7, 0.5, 257], [123456, 0.9, 64], [-5, 0.3, 1]] as const) {
    it(`equals a loop of rng.uniform() ≥ p (seed ${seed}, p ${p}, ${n} draws) and advances the rng as it would`, () => {
      const a = new Rng(seed);
      const b = new Rng(seed);
      a.normal(); // a pending Box-Muller spare must survive the mask untouched
      b.normal();
      const mask = dropoutMask('float32', n, p, a);
      const scale = Math.fround(1 / (1 - p));
      for (let i = 0; i < n; i++) assert.equal(mask[i], b.uniform() >= p ? scale : 0, `draw ${i}`);
      assert.deepEqual(a.getState(), b.getState());
      assert.equal(a.normal(), b.normal());
    });
  }

  it('float64 masks hold the exact scale', () => {
    const mask = dropoutMask('float64', 100, 0.25, new Rng(3));
    const ref = new Rng(3);
    for (let i = 0; i < 100; i++) assert.equal(mask[i], ref.uniform() >= 0.25 ? 1 / 0.75 : 0);
  });

  it('dropout(x) is x ⊙ mask, and its gradient is the mask', () => {
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8], { dtype: 'float64' }).requireGrad();
    const y = dropout(x, 0.5, new Rng(11), true);
    const ref = new Rng(11);
    const mask = Array.from({ length: 8 }, () => (ref.uniform() >= 0.5 ? 2 : 0));
    assert.deepEqual(Array.from(y.toArray()), mask.map((m, i) => m * (i + 1)));
    y.sum().backward();
    assert.deepEqual(Array.from(x.grad!.toArray()), mask);
  });
});
