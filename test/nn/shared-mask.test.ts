// sharedCausalMask: causalMask's values, read-only and of known kind, shared between calls; GPT's and the Transformer's
// results with it equal those with a fresh causalMask read by value (the composed reading), forward and backward.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor, tensor, zeros } from '../../src/tensor/index.js';
import { TransformerEncoderLayer, causalMask, isAdditiveMask, knownMaskKind, sharedCausalMask } from '../../src/nn/index.js';
import { GPT } from '../../src/models/gpt.js';
import { describeBackends } from '../helpers/backends.js';

test('sharedCausalMask has causalMask\'s values, by hand: 1 where key j > i + S - T', () => {
  assert.deepEqual(sharedCausalMask(3).toList(), [[0, 1, 1], [0, 0, 1], [0, 0, 0]]);
  assert.deepEqual(sharedCausalMask(2, 4).toList(), [[0, 0, 0, 1], [0, 0, 0, 0]]);
  assert.deepEqual(sharedCausalMask(1, 1).toList(), [[0]]);
  assert.deepEqual(sharedCausalMask(0, 2).shape, [0, 2]);
  assert.equal(sharedCausalMask(3).dtype, 'float32');
  assert.throws(() => sharedCausalMask(3, 2), /sharedCausalMask: need integers 0 <= T <= S, got T=3, S=2/);
});

test('its kind is known without reading it; a caller\'s own mask is read by value', () => {
  assert.deepEqual(knownMaskKind(sharedCausalMask(4)), { additive: false, causal: true });
  assert.equal(isAdditiveMask(sharedCausalMask(4)), false);
  assert.equal(knownMaskKind(causalMask(4)), null);
  // A view is another tensor: its kind is read from its values again.
  assert.equal(knownMaskKind(sharedCausalMask(4).narrow(0, 0, 2)), null);
});

test('a shared mask cannot be written: assign through it or a view throws, and later calls see causal values', () => {
  const m = sharedCausalMask(3);
  assert.equal(m.isReadOnly, true);
  assert.throws(() => m.assign(zeros([3, 3])), /assign: this \[3, 3\] tensor's memory is read-only/);
  assert.throws(() => m.narrow(0, 0, 1).assign(zeros([1, 3])), /read-only/);
  // A copy is the caller's own: writing it leaves the shared values alone.
  const own = m.add(0);
  assert.equal(own.isReadOnly, false);
  own.assign(zeros([3, 3]));
  assert.deepEqual(own.toList(), [[0, 0, 0], [0, 0, 0], [0, 0, 0]]);
  assert.deepEqual(m.toList(), [[0, 1, 1], [0, 0, 1], [0, 0, 0]]);
  assert.deepEqual(sharedCausalMask(3).toList(), [[0, 1, 1], [0, 0, 1], [0, 0, 0]]);
  // More sizes than the cache holds: each still right when asked again.
  for (let t = 1; t <= 12; t++) sharedCausalMask(t, t + 1);
  assert.deepEqual(sharedCausalMask(3).toList(), [[0, 1, 1], [0, 0, 1], [0, 0, 0]]);
  assert.deepEqual(sharedCausalMask(2, 3).toList(), [[0, 0, 1], [0, 0, 0]]);
});

describeBackends('GPT with the shared mask', (backend) => {
  const cfg = { vocab: 11, dModel: 16, heads: 2, layers: 2, dFF: 32, context: 8, dropout: 0, seed: 3, backend };
  const ids = tensor([[1, 4, 2, 9, 3, 7], [5, 0, 10, 6, 8, 2]], { dtype: 'int32', shape: [2, 6], backend });

  /** GPT's forward written out with a fresh causalMask (the caller's kind of mask, read by value). */
  const byHand = (gpt: GPT): Tensor => {
    let x = gpt.drop.forward(gpt.wpe.forward(gpt.wte.forward(ids), 0));
    const mask = causalMask(6, 6, { backend });
    for (const layer of gpt.layers) x = (layer as TransformerEncoderLayer).forward(x, { srcMask: mask }).output;
    return gpt.lmHead.forward(gpt.norm!.forward(x));
  };

  test('logits and every gradient equal those with a fresh causalMask', () => {
    const gpt = new GPT(cfg);
    const params = [...gpt.parameters()];
    for (const p of params) p.requireGrad();
    const a = gpt.forward(ids).logits;
    a.mul(a).sum().backward();
    const gA = params.map((p) => Array.from(p.grad!.toArray()));
    for (const p of params) p.grad = null;
    const b = byHand(gpt);
    b.mul(b).sum().backward();
    assert.deepEqual(Array.from(a.toArray()), Array.from(b.toArray()));
    params.forEach((p, i) => assert.deepEqual(gA[i], Array.from(p.grad!.toArray()), `gradient ${i}`));
  });

  test('a write attempt on the shared mask between forwards changes nothing', () => {
    const gpt = new GPT(cfg);
    const before = Array.from(gpt.forward(ids).logits.toArray());
    assert.throws(() => sharedCausalMask(6, 6, { backend }).assign(zeros([6, 6], { backend })), /read-only/);
    assert.deepEqual(Array.from(gpt.forward(ids).logits.toArray()), before);
    assert.deepEqual(Array.from(byHand(gpt).toArray()), before);
  });
});
