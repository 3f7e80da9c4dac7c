// GPTForSequenceClassification and GPT with gelu_new against an independent PyTorch GPT-2 (scripts/gen_bert.py); last-token choice; cached decoding with gelu_new.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { refBackend } from '../../src/backend/ref.js';
import { crossEntropy, noGrad, tensor } from '../../src/tensor/index.js';
import type { Tensor } from '../../src/tensor/index.js';
import { GPT } from '../../src/models/gpt.js';
import type { GPTConfig } from '../../src/models/gpt.js';
import { GPTForSequenceClassification, lastTokenRows, resolveGPTClassifierConfig } from '../../src/models/gpt.js';
import { activate } from '../../src/nn/index.js';
import { expectClose, expectGrads, loadGolden } from '../nn/golden.js';
import type { Golden } from '../nn/golden.js';
import { assertClose } from '../helpers/assert-close.js';
import { testBackends } from '../helpers/backends.js';

const ids = (rows: number[][], backend = refBackend): Tensor => tensor(rows.flat(), { dtype: 'int32', shape: [rows.length, rows[0].length], backend });

function gpt2Config(g: Golden): GPTConfig {
  const c = g.case;
  return {
    vocab: c.vocab as number, dModel: c.dModel as number, heads: c.heads as number, layers: c.layers as number, dFF: c.dFF as number,
    context: c.context as number, activation: 'gelu_new', eps: c.eps as number, dropout: 0, normFirst: true, finalNorm: true, tieEmbeddings: true,
  };
}

test('activation gelu_new is the tanh form', () => {
  const x = tensor([-3, -1, -0.5, 0, 0.5, 1, 3], { dtype: 'float64', backend: refBackend });
  const want = x.toArray().map((v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))));
  assertClose(activate(x, 'gelu_new'), Array.from(want), { atol: 1e-15, label: 'gelu_new' });
  assert.notDeepEqual(Array.from(activate(x, 'gelu').toArray()), Array.from(want));
});

test('GPT with gelu_new matches PyTorch GPT-2 (Conv1D weights transposed in): logits and every gradient', (t) => {
  const g = loadGolden('gpt2_gelu_new.safetensors');
  const model = new GPT(gpt2Config(g));
  model.loadStateDict(g.params);
  const r = model.forward(g.get('@in.ids'), { keyPaddingMask: g.get('@in.key_padding_mask') });
  const fwd = expectClose(r.logits, g.get('@out'), 1e-5, 'logits', 'forward');
  const V = g.case.vocab as number;
  const loss = crossEntropy(r.logits.reshape([-1, V]), g.get('@in.targets').reshape([-1]), { ignoreIndex: g.case.pad as number });
  expectClose(loss.reshape([1]), g.get('@loss'), 1e-5, 'loss', 'forward');
  loss.backward();
  const grad = expectGrads(model, g);
  t.diagnostic(`relative errors: logits ${fwd.toExponential(2)}, gradients ${grad.toExponential(2)}`);
});

test('GPTForSequenceClassification matches PyTorch GPT2ForSequenceClassification (right padding): logits and every gradient', (t) => {
  const g = loadGolden('gpt2_classifier.safetensors');
  const labels = g.case.labels as string[];
  const model = new GPTForSequenceClassification({ ...gpt2Config(g), labels, padId: g.case.pad as number });
  model.loadStateDict(g.params);
  const x = g.get('@in.ids');
  assert.deepEqual(lastTokenRows(x, g.case.pad as number), g.case.last);
  const r = model.forward(x, { keyPaddingMask: g.get('@in.key_padding_mask') });
  const fwd = expectClose(r.logits, g.get('@out'), 1e-5, 'logits', 'forward');
  // Under right padding the causal mask already hides the pads from the scored token: no mask, same logits.
  expectClose(model.forward(x).logits, g.get('@out'), 1e-5, 'logits without a padding mask', 'forward');
  const loss = crossEntropy(r.logits, g.get('@in.labels'));
  expectClose(loss.reshape([1]), g.get('@loss'), 1e-5, 'loss', 'forward');
  loss.backward();
  const grad = expectGrads(model, g);
  assert.deepEqual(model.labels, labels);
  t.diagnostic(`relative errors: logits ${fwd.toExponential(2)}, gradients ${grad.toExponential(2)}`);
});

test('the scored position is the last non-pad token; names; config checks', () => {
  assert.deepEqual(lastTokenRows(ids([[5, 3, 0, 0], [7, 8, 9, 4], [0, 0, 0, 0]]), 0), [1, 3, 0]);
  const m = new GPTForSequenceClassification({ vocab: 13, dModel: 8, heads: 2, layers: 1, context: 6, dropout: 0, labels: ['a', 'b'], padId: 0, backend: refBackend });
  const keys = [...m.stateDict().keys()];
  assert.deepEqual(keys.slice(0, 2), ['transformer.wte.weight', 'transformer.wpe.weight']);
  assert.deepEqual(keys.slice(-1), ['score.weight']);
  assert.deepEqual([...m.score.weight.shape], [2, 8]);
  assert.equal(m.score.bias, null);
  // What follows the last real token, padding, changes nothing.
  const a = m.forward(ids([[4, 5, 6, 0, 0]])).logits;
  const b = m.forward(ids([[4, 5, 6, 0, 0, 0]])).logits;
  assertClose(a, b, { atol: 1e-6, label: 'trailing padding' });
  // The score reads exactly the body's final-normed state at that position.
  const h = m.transformer.hidden(ids([[4, 5, 6, 0, 0]])).hidden.narrow(1, 2, 1).reshape([1, 8]);
  assertClose(a, h.matmul(m.score.weight.transpose(0, 1)), { atol: 1e-6, label: 'score of h[2]' });
  assert.throws(() => resolveGPTClassifierConfig({ vocab: 9, labels: ['a', 'b'], padId: 9 }), /padId is 9, expected an integer from 0 to 8/);
  assert.throws(() => resolveGPTClassifierConfig({ vocab: 9, labels: ['a'], padId: 0 }), /labels has 1 entries/);
  assert.throws(() => m.forward(tensor([[1, 2]], { backend: refBackend })), /ids must be int32/);
});

test('GPT.hidden is what the tied head reads: logits = hidden · wteᵀ', () => {
  const m = new GPT({ vocab: 11, dModel: 8, heads: 2, layers: 2, context: 6, dropout: 0, seed: 3, backend: refBackend });
  const x = ids([[1, 4, 5, 2]]);
  assertClose(m.forward(x).logits, m.hidden(x).hidden.matmul(m.wte.weight.transpose(0, 1)), { atol: 1e-6, label: 'logits' });
});

for (const backend of testBackends()) {
  test(`GPT with gelu_new: cached decoding (prefill, then one token at a time) gives the uncached logits on ${backend.name}`, () => {
    const m = new GPT({ vocab: 17, dModel: 16, heads: 4, layers: 2, context: 8, dropout: 0, seed: 9, activation: 'gelu_new', backend }).eval();
    const rows = [[1, 4, 5, 2, 8, 3, 0], [2, 2, 7, 1, 6, 5, 4]];
    const full = noGrad(() => m.forward(ids(rows, backend)).logits);
    const cache = m.createCache();
    noGrad(() => {
      const pre = m.forward(ids(rows.map((r) => r.slice(0, 3)), backend), { cache }).logits;
      assertClose(pre, full.narrow(1, 0, 3).contiguous(), { atol: 1e-5, rtol: 1e-4, label: 'prefill' });
      for (let t = 3; t < 7; t++) {
        const step = m.forward(ids(rows.map((r) => [r[t]]), backend), { cache }).logits;
        assertClose(step, full.narrow(1, t, 1).contiguous(), { atol: 1e-5, rtol: 1e-4, label: `step ${t}` });
      }
    });
  });
}
