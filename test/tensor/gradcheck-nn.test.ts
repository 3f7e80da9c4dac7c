// Finite-difference gradient checks for the composed functions: softmax, layer norm, dropout, cross-entropy.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { refBackend } from '../../src/backend/ref.js';
import { crossEntropy, dropout, layerNorm, logSoftmax, maskedFill, softmax, tensor } from '../../src/tensor/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { gradcheck, randn64, t64 } from '../helpers/gradcheck.js';

const rng = () => new Rng(3);
const ids = (xs: number[]) => tensor(Int32Array.from(xs), { backend: refBackend });

describe('gradcheck: softmax and logSoftmax', () => {
  for (const [name, f] of [['softmax', softmax], ['logSoftmax', logSoftmax]] as const) {
    it(`${name} over the last axis`, () => gradcheck((x) => f(x), [randn64([3, 5], rng(), 2)]));
    it(`${name} over axis 0 and over a middle axis`, () => {
      gradcheck((x) => f(x, 0), [randn64([4, 3], rng(), 2)]);
      gradcheck((x) => f(x, 1), [randn64([2, 3, 2], rng(), 2)]);
    });
    it(`${name} of a transposed view`, () => gradcheck((x) => f(x.transpose(), -1), [randn64([4, 3], rng())]));
    it(`${name} with large logits (stability)`, () => gradcheck((x) => f(x), [randn64([2, 4], rng(), 1, 50)]));
    it(`${name} after a causal -1e9 mask`, () => {
      const mask = tensor(Float64Array.from([0, 1, 1, 0, 0, 1, 0, 0, 0]), { backend: refBackend, shape: [3, 3] });
      gradcheck((x) => f(maskedFill(x, mask, -1e9)).maskedFill(mask, 0), [randn64([3, 3], rng())]);
    });
  }
});

describe('gradcheck: layerNorm', () => {
  it('without weight and bias', () => gradcheck((x) => layerNorm(x, null, null), [randn64([3, 5], rng())]));
  it('with weight and bias', () => {
    const r = rng();
    gradcheck((x, w, b) => layerNorm(x, w, b), [randn64([2, 3, 4], r), randn64([4], r), randn64([4], r)]);
  });
  it('with weight only, and with bias only', () => {
    const r = rng();
    gradcheck((x, w) => layerNorm(x, w, null), [randn64([2, 4], r), randn64([4], r)]);
    gradcheck((x, b) => layerNorm(x, null, b), [randn64([2, 4], r), randn64([4], r)]);
  });
  it('with a large eps and a non-contiguous input', () => {
    gradcheck((x) => layerNorm(x.transpose(), null, null, 0.5), [randn64([4, 3], rng())]);
  });
});

describe('gradcheck: dropout', () => {
  it('the same seed both ways fixes the mask', () => {
    gradcheck((x) => dropout(x, 0.4, new Rng(99), true), [randn64([4, 5], rng())]);
  });
  it('the mask really drops and scales', () => {
    const out = dropout(randn64([200], rng()).mul(0).add(1), 0.5, new Rng(5), true).toArray();
    const zeros = out.filter((v) => v === 0).length;
    assert.ok(out.every((v) => v === 0 || v === 2), 'kept values are scaled by 1/(1-p) = 2');
    assert.ok(zeros > 60 && zeros < 140, `about half dropped, got ${zeros} of 200`);
  });
  it('is the identity when not training or p = 0', () => {
    const x = randn64([3], rng());
    assert.equal(dropout(x, 0.5, new Rng(1), false), x);
    assert.equal(dropout(x, 0, new Rng(1), true), x);
  });
});

describe('gradcheck: crossEntropy', () => {
  const targets = ids([1, 0, 3, 3]);
  it('plain (mean)', () => gradcheck((x) => crossEntropy(x, targets), [randn64([4, 5], rng())]));
  it("reduction 'sum'", () => gradcheck((x) => crossEntropy(x, targets, { reduction: 'sum' }), [randn64([4, 5], rng())]));
  it('ignoreIndex (default -100 and a custom one)', () => {
    gradcheck((x) => crossEntropy(x, ids([1, -100, 3, -100])), [randn64([4, 5], rng())]);
    gradcheck((x) => crossEntropy(x, ids([1, 0, 3, 0]), { ignoreIndex: 0 }), [randn64([4, 5], rng())]);
  });
  it('labelSmoothing', () => {
    gradcheck((x) => crossEntropy(x, targets, { labelSmoothing: 0.1 }), [randn64([4, 5], rng())]);
    gradcheck((x) => crossEntropy(x, ids([2, -100, 4, 0]), { labelSmoothing: 0.2, reduction: 'sum' }), [randn64([4, 5], rng())]);
  });
  it('of a non-contiguous logits view', () => {
    gradcheck((x) => crossEntropy(x.transpose(), targets), [randn64([5, 4], rng())]);
  });
  it('-Infinity logits off the target give a finite loss and gradient (as torch)', () => {
    const x = t64([[0, 1, -Infinity], [2, -Infinity, 0]]).requireGrad();
    const loss = crossEntropy(x, ids([1, 0]));
    // Row 0: -log(e/(1+e)) = log(1+e⁻¹); row 1: log(1+e⁻²).
    assertClose(loss.item(), (Math.log1p(Math.exp(-1)) + Math.log1p(Math.exp(-2))) / 2, { atol: 0, rtol: 1e-14 });
    loss.backward();
    const p0 = 1 / (1 + Math.E);
    const p1 = 1 / (1 + Math.exp(2));
    assertClose(x.grad!, [[p0 / 2, (1 - p0 - 1) / 2, 0], [(1 - p1 - 1) / 2, 0, p1 / 2]], { atol: 1e-15, rtol: 1e-14 });
  });
});
