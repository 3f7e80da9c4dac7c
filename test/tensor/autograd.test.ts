// Analytic autograd cases: accumulation, reuse, noGrad, detach, errors; and a check that gradcheck catches bugs.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GradError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { Tensor, noGrad, isGradEnabled, tensor } from '../../src/tensor/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { gradcheck, randn64 } from '../helpers/gradcheck.js';

const leaf = (xs: number[]) => tensor(xs, { dtype: 'float64' }).requireGrad();

describe('autograd: analytic cases', () => {
  it('gradients accumulate across two backward() calls', () => {
    const x = leaf([1, 2, 3]);
    x.mul(x).sum().backward(); // d/dx Σx² = 2x
    assertClose(x.grad!, [2, 4, 6], { atol: 0, rtol: 0 });
    x.mul(3).sum().backward(); // + 3
    assertClose(x.grad!, [5, 7, 9], { atol: 0, rtol: 0 });
  });

  it('a tensor used twice in a graph gets both contributions', () => {
    const x = leaf([2, -1]);
    const y = x.exp();
    // L = Σ (y·y + y) with y = e^x: dL/dx = (2y + 1)·y
    y.mul(y).add(y).sum().backward();
    const e = [Math.exp(2), Math.exp(-1)];
    assertClose(x.grad!, e.map((v) => (2 * v + 1) * v), { atol: 0, rtol: 1e-14 });
  });

  it('a diamond: two paths from one input meet again', () => {
    const x = leaf([0.5]);
    const a = x.mul(2);
    const b = x.mul(x);
    a.mul(b).sum().backward(); // L = 2x·x² = 2x³, dL/dx = 6x²
    assertClose(x.grad!, [1.5], { atol: 0, rtol: 1e-15 });
  });

  it('backward with an explicit gradient for a non-scalar', () => {
    const x = leaf([1, 2, 3]);
    x.mul(x).backward(tensor([1, 0, -1], { dtype: 'float64' }));
    assertClose(x.grad!, [2, 0, -6], { atol: 0, rtol: 0 });
  });

  it('noGrad produces no graph', () => {
    const x = leaf([1, 2]);
    assert.equal(isGradEnabled(), true);
    const y = noGrad(() => {
      assert.equal(isGradEnabled(), false);
      return x.mul(2).exp().sum();
    });
    assert.equal(isGradEnabled(), true);
    assert.equal(y.requiresGrad, false);
    assert.equal(y.node, null);
    assert.throws(() => y.backward(), GradError);
  });

  it('noGrad restores grad mode after a throw, and nests', () => {
    assert.throws(() => noGrad(() => { throw new Error('inside'); }), /inside/);
    assert.equal(isGradEnabled(), true);
    noGrad(() => { noGrad(() => undefined); assert.equal(isGradEnabled(), false); });
    assert.equal(isGradEnabled(), true);
  });

  it('backward of a non-scalar without a gradient throws GradError naming the shape', () => {
    const x = leaf([1, 2, 3]);
    assert.throws(() => x.mul(2).backward(), (e: unknown) => e instanceof GradError && /\[3\]/.test((e as Error).message));
  });

  it('backward with a gradient of the wrong shape or dtype throws GradError naming both', () => {
    const x = leaf([1, 2, 3]);
    assert.throws(() => x.mul(x).backward(tensor([1], { dtype: 'float64' })), (e: unknown) => e instanceof GradError && /\[1\]/.test((e as Error).message) && /\[3\]/.test((e as Error).message));
    assert.throws(() => x.mul(x).backward(tensor([1, 1, 1], { dtype: 'float32' })), (e: unknown) => e instanceof GradError && /float32/.test((e as Error).message));
    assert.equal(x.grad, null);
  });

  it('backward of a tensor that needs no grad throws GradError', () => {
    assert.throws(() => tensor([1, 2]).sum().backward(), GradError);
  });

  it('detach cuts gradients', () => {
    const x = leaf([1, 2]);
    const y = x.mul(x);
    // L = Σ (x·x).detach()·x: only the last factor carries a gradient, so dL/dx = x².
    y.detach().mul(x).sum().backward();
    assertClose(x.grad!, [1, 4], { atol: 0, rtol: 0 });
    assert.equal(y.detach().requiresGrad, false);
    assert.equal(y.detach().node, null);
  });

  it('inputs that do not require grad get no .grad', () => {
    const x = leaf([1, 2]);
    const c = tensor([3, 4], { dtype: 'float64' });
    x.mul(c).sum().backward();
    assert.equal(c.grad, null);
    assertClose(x.grad!, [3, 4], { atol: 0, rtol: 0 });
  });

  it('requireGrad on a computed tensor throws GradError', () => {
    const x = leaf([1]);
    assert.throws(() => x.mul(2).requireGrad(), GradError);
  });

  it('a 0-d scalar loss seeds with 1', () => {
    const x = leaf([4]);
    x.sum().mul(5).backward();
    assertClose(x.grad!, [5], { atol: 0, rtol: 0 });
  });
});

describe('gradcheck helper', () => {
  /** x·3 with a deliberately wrong backward (says 2). */
  function badTriple(x: Tensor): Tensor {
    const out = noGrad(() => x.mul(3));
    return Tensor.track('badTriple', out, [x], (g) => [g.mul(2)]);
  }
  it('catches a wrong backward', () => {
    assert.throws(() => gradcheck(badTriple, [randn64([3], new Rng(1))]), /input 0 .*worst at/);
  });
  it('passes the same op with a right backward', () => {
    const good = (x: Tensor) => Tensor.track('triple', noGrad(() => x.mul(3)), [x], (g) => [g.mul(3)]);
    gradcheck(good, [randn64([3], new Rng(1))]);
  });
  it('catches a missing gradient (backward returns null)', () => {
    const none = (x: Tensor) => Tensor.track('none', noGrad(() => x.mul(3)), [x], () => [null]);
    assert.throws(() => gradcheck(none, [randn64([3], new Rng(1))]), /input 0/);
  });
});

describe('assertClose', () => {
  it('names the worst index with its values', () => {
    assert.throws(
      () => assertClose([[1, 2], [3, 4]], [[1, 2], [3, 4.5]], { atol: 1e-3, rtol: 0 }),
      /worst at \[1, 1\]: actual 4, expected 4.5/,
    );
  });
  it('matches NaN with NaN and infinities exactly', () => {
    assertClose([NaN, Infinity, -Infinity], [NaN, Infinity, -Infinity]);
    assert.throws(() => assertClose([NaN], [0]));
    assert.throws(() => assertClose([Infinity], [1e308]));
  });
  it('rejects a shape mismatch', () => {
    assert.throws(() => assertClose([[1, 2]], [1, 2]), /shape/);
  });
});
