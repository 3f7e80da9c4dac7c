// Finite-difference gradient checks for every differentiable element-wise op and reduction.

import { describe, it } from 'node:test';
import { Rng } from '../../src/core/rng.js';
import { Tensor, TensorLike, gelu, geluTanh } from '../../src/tensor/index.js';
import { gradcheck, randn64, t64 } from '../helpers/gradcheck.js';

const rng = () => new Rng(7);

/** Values bounded away from 0 (and from each other), so |x|, relu and friends have no kinks nearby. */
function awayFromZero(shape: number[], r: Rng): Tensor {
  const x = randn64(shape, r);
  const d = x.toArray();
  for (let i = 0; i < d.length; i++) d[i] = Math.sign(d[i] || 1) * (0.2 + Math.abs(d[i]));
  return t64(d, shape);
}

/** Positive values in [0.5, 2.5). */
function positive(shape: number[], r: Rng): Tensor {
  const x = randn64(shape, r);
  const d = x.toArray();
  for (let i = 0; i < d.length; i++) d[i] = 0.5 + 2 * r.uniform();
  return t64(d, shape);
}

describe('gradcheck: binary arithmetic', () => {
  const ops: [string, (a: Tensor, b: TensorLike) => Tensor][] = [
    ['add', (a, b) => a.add(b)],
    ['sub', (a, b) => a.sub(b)],
    ['mul', (a, b) => a.mul(b)],
    ['div', (a, b) => a.div(b)],
  ];
  for (const [name, f] of ops) {
    it(`${name}: same shape`, () => {
      const r = rng();
      gradcheck(f, [randn64([2, 3], r), awayFromZero([2, 3], r)], { label: name });
    });
    it(`${name}: b broadcasts into a ([2,3,4] ∘ [3,1])`, () => {
      const r = rng();
      gradcheck(f, [randn64([2, 3, 4], r), awayFromZero([3, 1], r)], { label: name });
    });
    it(`${name}: a broadcasts into b ([4] ∘ [2,3,4])`, () => {
      const r = rng();
      gradcheck(f, [randn64([4], r), awayFromZero([2, 3, 4], r)], { label: name });
    });
    it(`${name}: both broadcast ([3,1] ∘ [1,4])`, () => {
      const r = rng();
      gradcheck(f, [randn64([3, 1], r), awayFromZero([1, 4], r)], { label: name });
    });
    it(`${name}: 0-d tensor operand`, () => {
      const r = rng();
      gradcheck(f, [randn64([2, 3], r), awayFromZero([], r)], { label: name });
      gradcheck((a, b) => f(b, a), [awayFromZero([2, 3], r), randn64([], r)], { label: `${name} reversed` });
    });
    it(`${name}: number operand`, () => {
      gradcheck((a) => f(a, 1.7), [randn64([2, 3], rng())], { label: name });
    });
  }

  it('div by a tensor that broadcasts, small denominators', () => {
    const r = rng();
    gradcheck((a, b) => a.div(b), [randn64([3, 2], r), positive([2], r)]);
  });
});

describe('gradcheck: pow, maximum, minimum', () => {
  it('pow: base and exponent tensors', () => {
    const r = rng();
    gradcheck((a, b) => a.pow(b), [positive([2, 3], r), randn64([2, 3], r)]);
  });
  it('pow: broadcast exponent', () => {
    const r = rng();
    gradcheck((a, b) => a.pow(b), [positive([2, 3], r), randn64([3], r)]);
  });
  it('pow: number exponent on a negative base', () => {
    gradcheck((a) => a.pow(3), [randn64([2, 3], rng())]);
  });
  it('pow: exponent only (base a constant)', () => {
    const r = rng();
    const base = positive([4], r);
    gradcheck((b) => base.pow(b), [randn64([4], r)]);
  });
  it('maximum / minimum: no ties', () => {
    const r = rng();
    const a = randn64([3, 4], r);
    const b = a.add(awayFromZero([3, 4], r).mul(0.5)); // b - a is at least 0.1 in size
    gradcheck((x, y) => x.maximum(y), [a, b]);
    gradcheck((x, y) => x.minimum(y), [a, b]);
  });
  it('maximum / minimum: broadcast against a row', () => {
    const a = t64([[0.3, -1.2, 2.1], [-0.7, 0.9, -2.2]]);
    const b = t64([0.1, -0.4, 1.3]);
    gradcheck((x, y) => x.maximum(y), [a, b]);
    gradcheck((x, y) => x.minimum(y), [a, b]);
    gradcheck((x) => x.maximum(0.25).minimum(0.5), [t64([-1.3, 0.1, 0.6, 2.2, 0.4])]);
  });
});

describe('gradcheck: unary functions', () => {
  const cases: [string, (x: Tensor) => Tensor, (s: number[], r: Rng) => Tensor][] = [
    ['neg', (x) => x.neg(), (s, r) => randn64(s, r)],
    ['exp', (x) => x.exp(), (s, r) => randn64(s, r)],
    ['log', (x) => x.log(), positive],
    ['sqrt', (x) => x.sqrt(), positive],
    ['tanh', (x) => x.tanh(), (s, r) => randn64(s, r)],
    ['relu', (x) => x.relu(), awayFromZero],
    ['erf', (x) => x.erf(), (s, r) => randn64(s, r)],
    ['abs', (x) => x.abs(), awayFromZero],
    ['sigmoid', (x) => x.sigmoid(), (s, r) => randn64(s, r, 2)],
  ];
  for (const [name, f, make] of cases) {
    it(name, () => gradcheck(f, [make([2, 5], rng())], { label: name }));
    it(`${name} of a transposed view`, () => gradcheck((x) => f(x.transpose(0, 1)), [make([3, 2], rng())], { label: name }));
  }
  it('gelu (exact, erf form)', () => gradcheck(gelu, [randn64([3, 4], rng(), 2)]));
  it('geluTanh', () => gradcheck(geluTanh, [randn64([3, 4], rng(), 2)]));
});

describe('gradcheck: reductions', () => {
  const x = () => randn64([2, 3, 4], rng());
  for (const keepdim of [false, true]) {
    it(`sum over all axes (keepdim ${keepdim})`, () => gradcheck((a) => a.sum(undefined, keepdim), [x()]));
    it(`sum over one axis (keepdim ${keepdim})`, () => {
      gradcheck((a) => a.sum(1, keepdim), [x()]);
      gradcheck((a) => a.sum(-1, keepdim), [x()]);
    });
    it(`sum over several axes (keepdim ${keepdim})`, () => gradcheck((a) => a.sum([0, 2], keepdim), [x()]));
    it(`mean over one axis (keepdim ${keepdim})`, () => gradcheck((a) => a.mean(0, keepdim), [x()]));
    it(`mean over several axes (keepdim ${keepdim})`, () => gradcheck((a) => a.mean([-1, 1], keepdim), [x()]));
    it(`mean over all axes (keepdim ${keepdim})`, () => gradcheck((a) => a.mean(undefined, keepdim), [x()]));
    it(`max over an axis (keepdim ${keepdim})`, () => {
      // Distinct values well apart, so the argmax does not move under a 1e-6 step.
      const a = t64(Array.from({ length: 24 }, (_, i) => ((i * 7) % 24) * 0.1 - 1.1), [2, 3, 4]);
      gradcheck((t) => t.max(1, keepdim), [a]);
      gradcheck((t) => t.max(-1, keepdim), [a]);
    });
  }
  it('sum of a transposed view', () => gradcheck((a) => a.transpose(0, 2).sum(1), [x()]));
});
