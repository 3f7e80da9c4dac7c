// Additive (float) attention masks against PyTorch (issue 14, finding 6): softmax(q·kᵀ/√d + mask)·v, not a boolean reading.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Rng } from '../../src/core/rng.js';
import { tensor } from '../../src/tensor/index.js';
import type { Tensor } from '../../src/tensor/index.js';
import type { Backend } from '../../src/backend/backend.js';
import { MultiHeadAttention, causalMask, isAdditiveMask, scaledDotProductAttention } from '../../src/nn/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { describeBackends } from '../helpers/backends.js';

interface Arr { shape: number[]; data: (number | null)[] }
interface Case { name: string; q: Arr; k: Arr; v: Arr; mask: Arr; output: number[]; weights: number[]; outGrad: number[]; dq: number[]; dk: number[]; dv: number[] }
const golden = JSON.parse(readFileSync(new URL('../fixtures/mask/additive.json', import.meta.url), 'utf8')) as { cases: Case[] };

/** A fixture array as a float32 tensor (null is -Infinity). */
/** A tensor's values in row-major order (the fixture stores flat arrays). */
const flat = (t: Tensor): number[] => Array.from(t.toArray());

const load = (a: Arr, backend: Backend): Tensor => tensor(Float32Array.from(a.data, (x) => (x === null ? -Infinity : x)), { shape: a.shape, backend });

test('the audit case by hand: weights [e^0, e^-0.5] / (e^0 + e^-0.5), not [1, 0]', () => {
  const q = tensor([[[1, 0]]]);
  const kv = tensor([[[1, 0], [1, 0]]]);
  const { weights } = scaledDotProductAttention(q, kv, kv, tensor([[0, -0.5]]));
  const a = 1 / (1 + Math.exp(-0.5)); // 0.6225, PyTorch's answer
  assertClose(weights, [[[a, 1 - a]]], { atol: 1e-6 });
});

test('isAdditiveMask: int32 and 0/1 float masks are boolean, any other float mask is additive', () => {
  assert.equal(isAdditiveMask(causalMask(3)), false);
  assert.equal(isAdditiveMask(tensor([[0, 1]], { dtype: 'int32' })), false);
  assert.equal(isAdditiveMask(tensor([[0, 5]], { dtype: 'int32' })), false);
  assert.equal(isAdditiveMask(tensor([[0, -0.5]])), true);
  assert.equal(isAdditiveMask(tensor([[0, -Infinity]])), true);
  assert.equal(isAdditiveMask(tensor([[0, 0]])), false);
});

describeBackends('additive masks vs PyTorch', (backend) => {
  for (const c of golden.cases) {
    test(`${c.name}: output, weights and gradients`, () => {
      const [q, k, v] = [load(c.q, backend), load(c.k, backend), load(c.v, backend)].map((t) => t.requireGrad());
      const mask = load(c.mask, backend);
      const { output, weights } = scaledDotProductAttention(q, k, v, mask);
      assertClose(flat(output), c.output, { atol: 1e-5, label: 'output' });
      assertClose(flat(weights), c.weights, { atol: 1e-6, label: 'weights' });
      output.mul(tensor(Float32Array.from(c.outGrad), { shape: output.shape, backend })).sum().backward();
      assertClose(flat(q.grad!), c.dq, { atol: 1e-5, label: 'dq' });
      assertClose(flat(k.grad!), c.dk, { atol: 1e-5, label: 'dk' });
      assertClose(flat(v.grad!), c.dv, { atol: 1e-5, label: 'dv' });
      // Without weights the fused kernel would read the mask as boolean: the output must not change.
      const fast = scaledDotProductAttention(load(c.q, backend), load(c.k, backend), load(c.v, backend), mask, { needWeights: false });
      assertClose(flat(fast.output), c.output, { atol: 1e-5, label: 'output, weights not asked for' });
    });
  }

  test('MultiHeadAttention with an additive attnMask and a key padding mask: padded keys get no weight, the bias is added', () => {
    const mha = new MultiHeadAttention(4, 1, { rng: new Rng(3), backend });
    const x = tensor(Float32Array.from({ length: 12 }, (_, i) => Math.sin(i + 1)), { shape: [1, 3, 4], backend });
    const bias = tensor([[0, -0.5, -1], [-0.5, 0, -0.5], [-1, -0.5, 0]], { backend });
    const pad = tensor([[0, 0, 1]], { backend });
    const withBias = mha.forward(x, x, x, { attnMask: bias, keyPaddingMask: pad, needWeights: true });
    const plain = mha.forward(x, x, x, { keyPaddingMask: pad, needWeights: true });
    const w = Array.from(withBias.weights!.toArray());
    const w0 = Array.from(plain.weights!.toArray());
    for (let t = 0; t < 3; t++) {
      assert.equal(w[t * 3 + 2], 0, 'the padded key gets no weight');
      // Two open keys: adding biases b0, b1 multiplies their odds by e^(b0 − b1).
      const odds = w[t * 3] / w[t * 3 + 1];
      const odds0 = w0[t * 3] / w0[t * 3 + 1];
      const b = bias.toArray();
      assert.ok(Math.abs(odds / odds0 - Math.exp(b[t * 3] - b[t * 3 + 1])) < 1e-4, `row ${t}: odds ${odds} vs ${odds0}`);
    }
    const fast = mha.forward(x, x, x, { attnMask: bias, keyPaddingMask: pad });
    assertClose(fast.output, withBias.output, { atol: 1e-5, label: 'fused path routes additive masks to the composed one' });
  });
});
