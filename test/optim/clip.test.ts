// clipGradNorm on exact small cases: a 3-4-5 triangle, a norm below the limit, shared gradients.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArgumentError } from '../../src/core/errors.js';
import { tensor } from '../../src/tensor/index.js';
import { clipGradNorm } from '../../src/optim/index.js';

test('clipGradNorm returns the global norm and scales by maxNorm / (norm + 1e-6)', () => {
  const a = tensor([1, 1], { requiresGrad: true });
  const b = tensor([[1]], { requiresGrad: true });
  const c = tensor([7], { requiresGrad: true }); // no grad: skipped
  a.grad = tensor([3, 0]);
  b.grad = tensor([[4]]);
  assert.equal(clipGradNorm([a, b, c], 1), 5);
  const s = 1 / (5 + 1e-6);
  assert.deepEqual(Array.from(a.grad.toArray()), Array.from(new Float32Array([3 * s, 0])));
  assert.deepEqual(Array.from(b.grad!.toArray()), Array.from(new Float32Array([4 * s])));
  assert.equal(c.grad, null);
});

test('clipGradNorm leaves gradients alone when the norm is within the limit', () => {
  const a = tensor([1, 1], { requiresGrad: true });
  const g = tensor([3, 4]);
  a.grad = g;
  assert.equal(clipGradNorm([a], 10), 5);
  assert.equal(a.grad, g);
});

test('clipGradNorm scales a gradient shared by two parameters once for each', () => {
  const a = tensor([1, 1], { requiresGrad: true });
  const b = tensor([1, 1], { requiresGrad: true });
  a.add(b).sum().backward(); // backward of add hands both leaves the same gradient tensor
  assert.equal(clipGradNorm([a, b], 1), 2); // √(1+1+1+1)
  const want = Array.from(new Float32Array([1 / (2 + 1e-6), 1 / (2 + 1e-6)]));
  assert.deepEqual(Array.from(a.grad!.toArray()), want);
  assert.deepEqual(Array.from(b.grad!.toArray()), want);
});

test('clipGradNorm rejects a non-positive maxNorm', () => {
  assert.throws(() => clipGradNorm([], 0), ArgumentError);
  assert.throws(() => clipGradNorm([], Number.NaN), /maxNorm is NaN/);
});
