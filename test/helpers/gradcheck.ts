// gradcheck: autograd's gradients against central finite differences, in float64 on the ref backend.

import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { refBackend } from '../../src/backend/ref.js';
import { Tensor, noGrad, tensor } from '../../src/tensor/index.js';
import { assertClose } from './assert-close.js';

export interface GradcheckOptions {
  /** Step of the central difference (default 1e-6). */
  eps?: number;
  /** Absolute tolerance on each gradient element (default 1e-6). */
  atol?: number;
  /** Relative tolerance on each gradient element (default 1e-6). */
  rtol?: number;
  /** Seed of the random projection weights (default 0). */
  seed?: number;
  /** Indices of the inputs to check (default: every float64 input). */
  wrt?: readonly number[];
  /** Name used in failure messages. */
  label?: string;
}

/** A float64 tensor on ref with standard normal entries: the usual gradcheck input. */
export function randn64(shape: readonly number[], rng: Rng, scale = 1, shift = 0): Tensor {
  const n = shape.reduce((p, q) => p * q, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.normal() * scale + shift;
  return tensor(data, { shape, backend: refBackend });
}

/** A float64 tensor on ref from nested arrays. */
export function t64(data: Parameters<typeof tensor>[0], shape?: readonly number[]): Tensor {
  return tensor(data, { dtype: 'float64', backend: refBackend, ...(shape ? { shape } : {}) });
}

function fresh(data: Float64Array, shape: readonly number[]): Tensor {
  return tensor(data.slice(), { shape, backend: refBackend });
}

/**
 * Checks the gradients autograd computes for `fn` at `inputs` against central differences.
 *
 * The scalar that is differentiated is L = Σ out ⊙ W for fixed random weights W, so every output
 * element and every input element is covered by one backward pass. Inputs are copied into fresh
 * contiguous float64 leaves before each call; `fn` builds any views it wants to test itself.
 * Non-float inputs (int32 ids, masks) are passed through unchanged and not checked.
 *
 * @example
 * gradcheck((a, b) => a.mul(b), [randn64([2, 3], rng), randn64([3], rng)]);
 */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: readonly Tensor[], opts: GradcheckOptions = {}): void {
  const { eps = 1e-6, atol = 1e-6, rtol = 1e-6, seed = 0, label = 'gradcheck' } = opts;
  const wrt = opts.wrt ?? inputs.flatMap((t, i) => (t.dtype === 'float64' ? [i] : []));
  for (const i of wrt) {
    assert.equal(inputs[i].dtype, 'float64', `${label}: input ${i} is ${inputs[i].dtype}; gradcheck needs float64`);
  }
  const base = inputs.map((t) => (t.dtype === 'float64' ? (t.toArray() as Float64Array) : null));
  const leaves = () => inputs.map((t, i) => {
    const b = base[i];
    if (!b) return t;
    const leaf = fresh(b, t.shape);
    if (wrt.includes(i)) leaf.requireGrad();
    return leaf;
  });

  // Analytic gradients of L = Σ out ⊙ W.
  const xs = leaves();
  const out = fn(...xs);
  assert.ok(out.requiresGrad, `${label}: output does not require grad`);
  const wRng = new Rng(seed + 12345);
  const w = new Float64Array(out.size);
  for (let i = 0; i < w.length; i++) w[i] = wRng.normal();
  const wt = tensor(out.dtype === 'float64' ? w : Float32Array.from(w), { shape: out.shape, backend: refBackend });
  out.mul(wt).sum().backward();

  const project = (y: Tensor): number => {
    const v = y.toArray();
    assert.equal(v.length, w.length, `${label}: output size changed between calls`);
    let s = 0;
    for (let i = 0; i < v.length; i++) s += v[i] * w[i];
    return s;
  };

  for (const i of wrt) {
    const b = base[i]!;
    const numeric = new Float64Array(b.length);
    for (let j = 0; j < b.length; j++) {
      const at = (delta: number): number => {
        const d = b.slice();
        d[j] += delta;
        const args = inputs.map((t, k) => (k === i ? fresh(d, t.shape) : base[k] ? fresh(base[k]!, t.shape) : t));
        return noGrad(() => project(fn(...args)));
      };
      numeric[j] = (at(eps) - at(-eps)) / (2 * eps);
    }
    const g = xs[i].grad;
    const analytic = g ? Array.from(g.toArray()) : new Array<number>(b.length).fill(0);
    if (g) assert.deepEqual([...g.shape], [...inputs[i].shape], `${label}: gradient of input ${i} has the wrong shape`);
    assertClose(analytic, numeric, { atol, rtol, label: `${label}: input ${i} of shape [${inputs[i].shape.join(', ')}]` });
  }
}
