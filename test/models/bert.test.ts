// BERT and its heads against an independent PyTorch BERT (scripts/gen_bert.py), finite-difference gradients, names, defaults, initialisation.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { refBackend } from '../../src/backend/ref.js';
import { Rng } from '../../src/core/rng.js';
import { crossEntropy, noGrad, tensor } from '../../src/tensor/index.js';
import type { Tensor } from '../../src/tensor/index.js';
import { BertForMaskedLM, BertForSequenceClassification, BertModel, resolveBertConfig, resolveBertClassifierConfig } from '../../src/models/bert.js';
import type { BertConfig } from '../../src/models/bert.js';
import type { Module } from '../../src/nn/module.js';
import { expectClose, expectGrads, loadGolden } from '../nn/golden.js';
import type { Golden } from '../nn/golden.js';
import { assertClose } from '../helpers/assert-close.js';

function configOf(g: Golden): BertConfig {
  const c = g.case;
  return {
    vocab: c.vocab as number, dModel: c.dModel as number, heads: c.heads as number, layers: c.layers as number, dFF: c.dFF as number,
    maxPositions: c.maxPositions as number, typeVocab: c.typeVocab as number, eps: c.eps as number, dropout: 0, attentionDropout: 0,
  };
}

test('BertForMaskedLM matches PyTorch: hidden states, pooled [CLS], attention, MLM logits and every gradient (padding, token types)', (t) => {
  const g = loadGolden('bert_mlm.safetensors');
  const model = new BertForMaskedLM(configOf(g));
  model.loadStateDict(g.params); // strict: every name on both sides
  const ids = g.get('@in.ids');
  const opts = { tokenTypeIds: g.get('@in.token_types'), keyPaddingMask: g.get('@in.key_padding_mask'), needWeights: true };
  const body = model.bert.forward(ids, opts);
  const hidden = expectClose(body.hidden, g.get('@hidden'), 1e-5, 'hidden', 'forward');
  const pooled = expectClose(body.pooled, g.get('@pooled'), 1e-5, 'pooled', 'forward');
  let att = 0;
  body.attentions!.forEach((w, i) => { att = Math.max(att, expectClose(w, g.get(`@attn.${i}`), 1e-5, `attention ${i}`, 'attention')); });
  const r = model.forward(ids, opts);
  const logits = expectClose(r.logits, g.get('@out'), 1e-5, 'logits', 'forward');
  const V = g.case.vocab as number;
  // The fixture's loss: masked-LM cross-entropy (-100 elsewhere) + Σ pooled ⊙ R, which reaches the pooler.
  const loss = crossEntropy(r.logits.reshape([-1, V]), g.get('@in.labels').reshape([-1]), { ignoreIndex: -100 }).add(body.pooled.mul(g.get('@R')).sum());
  expectClose(loss.reshape([1]), g.get('@loss'), 1e-5, 'loss', 'forward');
  loss.backward();
  const grad = expectGrads(model, g);
  t.diagnostic(`relative errors: hidden ${hidden.toExponential(2)}, pooled ${pooled.toExponential(2)}, logits ${logits.toExponential(2)}, attention ${att.toExponential(2)}, gradients ${grad.toExponential(2)}`);
});

test('BertForSequenceClassification matches PyTorch: logits and every gradient', (t) => {
  const g = loadGolden('bert_classifier.safetensors');
  const labels = g.case.labels as string[];
  const model = new BertForSequenceClassification({ ...configOf(g), labels });
  model.loadStateDict(g.params);
  const r = model.forward(g.get('@in.ids'), { tokenTypeIds: g.get('@in.token_types'), keyPaddingMask: g.get('@in.key_padding_mask') });
  const fwd = expectClose(r.logits, g.get('@out'), 1e-5, 'logits', 'forward');
  const loss = crossEntropy(r.logits, g.get('@in.labels'));
  expectClose(loss.reshape([1]), g.get('@loss'), 1e-5, 'loss', 'forward');
  loss.backward();
  const grad = expectGrads(model, g);
  assert.deepEqual(model.labels, labels);
  t.diagnostic(`relative errors: logits ${fwd.toExponential(2)}, gradients ${grad.toExponential(2)}`);
});

test('defaults are BERT-base; config checks name the field', () => {
  const c = resolveBertConfig({ vocab: 30522 });
  assert.deepEqual(
    [c.dModel, c.heads, c.layers, c.dFF, c.maxPositions, c.typeVocab, c.dropout, c.attentionDropout, c.activation, c.eps],
    [768, 12, 12, 3072, 512, 2, 0.1, 0.1, 'gelu', 1e-12],
  );
  assert.throws(() => resolveBertConfig({ vocab: 9, dModel: 10, heads: 4 }), /dModel 10 must be divisible by heads 4/);
  assert.throws(() => resolveBertConfig({ vocab: 9, activation: 'swish' as never }), /activation is "swish", expected "relu" or "gelu" or "gelu_new"/);
  assert.throws(() => resolveBertConfig({ vocab: 9, eps: 0 }), /eps is 0, expected a finite number in \(0, 1\]/);
  assert.throws(() => resolveBertClassifierConfig({ vocab: 9, labels: ['only'] }), /labels has 1 entries, expected 2 to/);
  assert.throws(() => resolveBertClassifierConfig({ vocab: 9, labels: ['a', 'a'] }), /labels\[1\] "a" appears twice/);
  assert.throws(() => resolveBertClassifierConfig({ vocab: 9, labels: ['a', ''] }), /labels\[1\] is "", expected a non-empty string/);
  assert.throws(() => resolveBertClassifierConfig({ vocab: 9 } as never), /labels is missing, expected an array/);
});

const tiny = { vocab: 11, dModel: 8, heads: 2, layers: 2, dFF: 16, maxPositions: 6, seed: 4 };
const ids = (rows: number[][], backend = undefined as never): Tensor => tensor(rows.flat(), { dtype: 'int32', shape: [rows.length, rows[0].length], backend });

test('state-dict names; the MLM decoder is the word embedding; BERT initialisation N(0, 0.02), biases 0, LayerNorm 1/0', () => {
  const m = new BertForMaskedLM({ ...tiny, vocab: 200, dModel: 32, heads: 4 });
  const sd = m.stateDict();
  const keys = [...sd.keys()];
  for (const k of ['bert.embeddings.word_embeddings.weight', 'bert.embeddings.position_embeddings.weight', 'bert.embeddings.token_type_embeddings.weight',
    'bert.embeddings.norm.weight', 'bert.encoder.layers.1.self_attn.in_proj_weight', 'bert.encoder.layers.0.norm2.bias', 'bert.pooler.dense.weight',
    'cls.transform.dense.weight', 'cls.transform.norm.bias', 'cls.decoder.weight', 'cls.bias']) assert.ok(keys.includes(k), k);
  assert.equal(sd.get('cls.decoder.weight'), sd.get('bert.embeddings.word_embeddings.weight'));
  assert.ok(!m.namedParameters().some(([n]) => n === 'cls.decoder.weight'), 'a tied tensor is one parameter');
  assert.deepEqual([...sd.get('bert.embeddings.position_embeddings.weight')!.shape], [6, 32]);
  const std = (t: Tensor) => { const a = t.toArray(); let s = 0; for (const v of a) s += v * v; return Math.sqrt(s / a.length); };
  assert.ok(Math.abs(std(sd.get('bert.embeddings.word_embeddings.weight')!) - 0.02) < 0.002);
  assert.ok(Math.abs(std(sd.get('bert.encoder.layers.0.linear2.weight')!) - 0.02) < 0.003);
  assert.ok(Math.abs(std(sd.get('bert.pooler.dense.weight')!) - 0.02) < 0.003);
  for (const k of ['bert.encoder.layers.0.linear1.bias', 'cls.bias', 'bert.pooler.dense.bias', 'bert.embeddings.norm.bias']) {
    assert.deepEqual(Array.from(sd.get(k)!.toArray()).filter((v) => v !== 0), [], k);
  }
  for (const k of ['bert.embeddings.norm.weight', 'bert.encoder.layers.1.norm1.weight', 'cls.transform.norm.weight']) {
    assert.deepEqual(Array.from(sd.get(k)!.toArray()).filter((v) => v !== 1), [], k);
  }
  const clf = new BertForSequenceClassification({ ...tiny, labels: ['a', 'b', 'c'] });
  assert.deepEqual([...clf.stateDict().keys()].filter((k) => !k.startsWith('bert.')), ['classifier.weight', 'classifier.bias']);
  assert.deepEqual([...clf.stateDict().get('classifier.weight')!.shape], [3, 8]);
});

test('the same seed builds the same body under every head', () => {
  const a = new BertForMaskedLM(tiny).stateDict();
  const b = new BertForSequenceClassification({ ...tiny, labels: ['x', 'y'] }).stateDict();
  const c = new BertModel(tiny).stateDict();
  for (const [k, v] of c) assert.deepEqual(Array.from(b.get(`bert.${k}`)!.toArray()), Array.from(v.toArray()), k);
  for (const [k, v] of c) assert.deepEqual(Array.from(a.get(`bert.${k}`)!.toArray()), Array.from(v.toArray()), k);
});

test('bidirectional: a later token changes earlier states; padded keys change nothing; token types matter', () => {
  const m = new BertModel({ ...tiny, dropout: 0, attentionDropout: 0 });
  const a = m.forward(ids([[1, 4, 5, 2]])).hidden;
  const b = m.forward(ids([[1, 4, 6, 2]])).hidden;
  assert.notDeepEqual(Array.from(a.narrow(1, 0, 1).contiguous().toArray()), Array.from(b.narrow(1, 0, 1).contiguous().toArray()));
  // Row 0 has 3 real tokens; whatever fills position 3, its real positions read the same.
  const kpm = tensor([[0, 0, 0, 1]]);
  const p = m.forward(ids([[1, 4, 2, 0]]), { keyPaddingMask: kpm });
  const q = m.forward(ids([[1, 4, 2, 9]]), { keyPaddingMask: kpm });
  assertClose(p.hidden.narrow(1, 0, 3), q.hidden.narrow(1, 0, 3), { atol: 1e-6, label: 'real positions' });
  assertClose(p.pooled, q.pooled, { atol: 1e-6, label: 'pooled' });
  const typed = m.forward(ids([[1, 4, 5, 2]]), { tokenTypeIds: ids([[0, 0, 1, 1]]) }).hidden;
  assert.notDeepEqual(Array.from(typed.toArray()), Array.from(a.toArray()));
  const zeroTypes = m.forward(ids([[1, 4, 5, 2]]), { tokenTypeIds: ids([[0, 0, 0, 0]]) }).hidden;
  assertClose(zeroTypes, a, { atol: 1e-7, label: 'default types are 0' });
  assert.throws(() => m.forward(ids([[1, 2, 3, 4, 5, 6, 7]])), /7 positions exceed maxPositions 6/);
  assert.throws(() => m.forward(ids([[1, 2]]), { tokenTypeIds: ids([[0, 0, 0]]) }), /tokenTypeIds must be int32 \[B, T\] = \[1, 2\]/);
  assert.throws(() => m.forward(tensor([[1, 2]])), /ids must be int32, got float32/);
});

test('dropout is active in training and off in eval', () => {
  const m = new BertForSequenceClassification({ ...tiny, labels: ['a', 'b'] });
  const x = ids([[1, 4, 5, 2]]);
  const e1 = noGrad(() => m.eval().forward(x).logits.toArray());
  const e2 = noGrad(() => m.forward(x).logits.toArray());
  assert.deepEqual(Array.from(e1), Array.from(e2));
  const t1 = noGrad(() => m.train().forward(x).logits.toArray());
  assert.notDeepEqual(Array.from(t1), Array.from(e1));
});

test('gradients of a tiny float64 BERT (both heads) match central finite differences', () => {
  const base = { vocab: 7, dModel: 4, heads: 2, layers: 1, dFF: 6, maxPositions: 4, dropout: 0, attentionDropout: 0, dtype: 'float64' as const, backend: refBackend, seed: 3 };
  const x = ids([[1, 4, 2, 5], [3, 6, 0, 0]], refBackend as never);
  const types = ids([[0, 0, 1, 1], [0, 1, 0, 0]], refBackend as never);
  const kpm = tensor([[0, 0, 0, 0], [0, 0, 1, 1]], { backend: refBackend, dtype: 'float64' });
  const rng = new Rng(11);
  const R = (n: number, shape: number[]) => tensor(Float64Array.from({ length: n }, () => rng.normal()), { shape, backend: refBackend });
  const models: [Module, () => Tensor][] = [];
  const mlm = new BertForMaskedLM(base);
  const Rm = R(2 * 4 * 7, [2, 4, 7]);
  const Rp = R(2 * 4, [2, 4]);
  // Σ logits ⊙ R + Σ pooled ⊙ R': the pooler, unused by the MLM head, is checked too.
  models.push([mlm, () => {
    const r = mlm.bert.forward(x, { tokenTypeIds: types, keyPaddingMask: kpm });
    return mlm.cls.forward(r.hidden).mul(Rm).sum().add(r.pooled.mul(Rp).sum());
  }]);
  const clf = new BertForSequenceClassification({ ...base, labels: ['a', 'b', 'c'] });
  const Rc = R(2 * 3, [2, 3]);
  models.push([clf, () => clf.forward(x, { tokenTypeIds: types, keyPaddingMask: kpm }).logits.mul(Rc).sum()]);
  const eps = 1e-6;
  for (const [m, lossOf] of models) {
    m.zeroGrad();
    lossOf().backward();
    for (const [name, p] of m.namedParameters()) {
      const v0 = Float64Array.from(p.toArray());
      const numeric = v0.map((_, j) => {
        const at = (d: number) => {
          const v = v0.slice();
          v[j] += d;
          p.assign(tensor(v, { shape: p.shape, backend: refBackend }));
          return noGrad(() => lossOf().item());
        };
        const diff = (at(eps) - at(-eps)) / (2 * eps);
        p.assign(tensor(v0, { shape: p.shape, backend: refBackend }));
        return diff;
      });
      assertClose(p.grad!, tensor(numeric, { shape: p.shape, backend: refBackend }), { atol: 1e-6, rtol: 1e-5, label: name });
    }
  }
});
