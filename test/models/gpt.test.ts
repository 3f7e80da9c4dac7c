// GPT against a PyTorch twin (scripts/gen_golden_gpt.py), finite-difference gradients, names,
// causality, and the KV cache giving the same logits as a full forward.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { refBackend } from '../../src/backend/ref.js';
import { Rng } from '../../src/core/rng.js';
import { crossEntropy, noGrad, tensor } from '../../src/tensor/index.js';
import type { Tensor } from '../../src/tensor/index.js';
import { paddingMask } from '../../src/nn/index.js';
import type { Activation } from '../../src/nn/index.js';
import { GPT, resolveGPTConfig } from '../../src/models/gpt.js';
import { expectClose, loadGolden } from '../nn/golden.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { assertClose } from '../helpers/assert-close.js';

const ids = (rows: number[][]): Tensor => tensor(rows.flat(), { dtype: 'int32', shape: [rows.length, rows[0].length] });

for (const file of ['gpt_pre_tied', 'gpt_post_untied']) {
  test(`GPT matches PyTorch: ${file}`, (t) => {
    const g = loadGolden(`${file}.safetensors`);
    const c = g.case;
    const model = new GPT({
      vocab: c.vocab as number, dModel: c.dModel as number, heads: c.heads as number, layers: c.layers as number,
      context: c.context as number, dropout: 0, normFirst: c.normFirst as boolean, finalNorm: c.finalNorm as boolean,
      tieEmbeddings: c.tieEmbeddings as boolean, activation: c.activation as Activation,
    });
    model.loadStateDict(g.params); // strict: every name on both sides
    const x = g.get('@in.ids_in');
    const lens = c.lens as number[];
    const r = model.forward(x, { needWeights: true, keyPaddingMask: paddingMask(lens, x.shape[1]) });
    const fwd = expectClose(r.logits, g.get('@out'), 1e-5, 'logits', 'forward');
    assert.equal(r.attentions!.length, c.layers);
    let att = 0;
    r.attentions!.forEach((w, i) => { att = Math.max(att, expectClose(w, g.get(`@attn.layers.${i}.self_attn`), 1e-5, `layer ${i}`, 'attention')); });
    const V = c.vocab as number;
    const loss = crossEntropy(r.logits.reshape([-1, V]), g.get('@in.ids_out').reshape([-1]), { ignoreIndex: c.pad as number });
    expectClose(loss.reshape([1]), g.get('@loss'), 1e-5, 'loss', 'forward');
    loss.backward();
    let grad = 0;
    const named = model.namedParameters();
    assert.deepEqual(named.map(([n]) => n).sort(), g.keys('@grad.').map((k) => k.slice(6)).sort());
    for (const [name, p] of named) grad = Math.max(grad, expectClose(p.grad!, g.get(`@grad.${name}`), 1e-4, `grad ${name}`, 'gradient'));
    t.diagnostic(`relative errors: logits ${fwd.toExponential(2)}, weights ${att.toExponential(2)}, gradients ${grad.toExponential(2)}`);
  });
}

test('defaults are GPT-2 small; dFF follows dModel', () => {
  const c = resolveGPTConfig({ vocab: 50257 });
  assert.deepEqual(
    [c.dModel, c.heads, c.layers, c.dFF, c.context, c.dropout, c.normFirst, c.finalNorm, c.activation, c.tieEmbeddings],
    [768, 12, 12, 3072, 1024, 0.1, true, true, 'gelu', true],
  );
  assert.equal(resolveGPTConfig({ vocab: 9, dModel: 32, heads: 4 }).dFF, 128);
  assert.throws(() => resolveGPTConfig({ vocab: 9, dModel: 10, heads: 4 }), /dModel 10 must be divisible by heads 4/);
  assert.throws(() => resolveGPTConfig({ vocab: 0 }), /vocab must be a positive integer, got 0/);
});

test('state-dict names; lm_head is wte when tied; GPT-2 initialisation scales', () => {
  const m = new GPT({ vocab: 11, dModel: 32, heads: 4, layers: 3, context: 16, seed: 2 });
  const sd = m.stateDict();
  const keys = [...sd.keys()];
  assert.deepEqual(keys.slice(0, 2), ['wte.weight', 'wpe.weight']);
  assert.ok(keys.includes('layers.2.self_attn.in_proj_weight') && keys.includes('layers.0.linear1.weight') && keys.includes('layers.1.norm2.bias'));
  assert.deepEqual(keys.slice(-3), ['norm.weight', 'norm.bias', 'lm_head.weight']);
  assert.equal(sd.get('lm_head.weight'), sd.get('wte.weight'));
  assert.ok(!m.namedParameters().some(([n]) => n === 'lm_head.weight'), 'a tied tensor is one parameter');
  const std = (t: Tensor) => { const a = t.toArray(); let s = 0; for (const v of a) s += v * v; return Math.sqrt(s / a.length); };
  assert.ok(Math.abs(std(sd.get('wte.weight')!) - 0.02) < 0.003);
  assert.ok(Math.abs(std(sd.get('layers.0.linear2.weight')!) - 0.02 / Math.sqrt(6)) < 0.001);
  assert.deepEqual(Array.from(sd.get('layers.0.linear1.bias')!.toArray()).filter((v) => v !== 0), []);
  const untied = new GPT({ vocab: 11, dModel: 8, heads: 2, layers: 1, context: 4, tieEmbeddings: false, finalNorm: false });
  const ukeys = [...untied.stateDict().keys()];
  assert.ok(!ukeys.some((k) => k.startsWith('norm.')));
  assert.notEqual(untied.stateDict().get('lm_head.weight'), untied.stateDict().get('wte.weight'));
});

test('gradients of a tiny float64 GPT match central finite differences', () => {
  const m = new GPT({ vocab: 5, dModel: 4, heads: 2, layers: 1, context: 4, dropout: 0, dtype: 'float64', backend: refBackend, seed: 3 });
  const x = tensor([[1, 4, 2], [3, 0, 0]], { dtype: 'int32', backend: refBackend });
  const kpm = paddingMask([3, 1], 3, { backend: refBackend });
  const rng = new Rng(11);
  const R = tensor(Float64Array.from({ length: 2 * 3 * 5 }, () => rng.normal()), { shape: [2, 3, 5], backend: refBackend });
  const lossOf = () => m.forward(x, { keyPaddingMask: kpm }).logits.mul(R).sum(); // L = Σ logits ⊙ R
  m.zeroGrad();
  lossOf().backward();
  const eps = 1e-6;
  for (const [name, p] of m.namedParameters()) {
    const base = Float64Array.from(p.toArray());
    const numeric = base.map((_, j) => {
      const at = (d: number) => {
        const v = base.slice();
        v[j] += d;
        p.assign(tensor(v, { shape: p.shape, backend: refBackend }));
        return noGrad(() => lossOf().item());
      };
      const diff = (at(eps) - at(-eps)) / (2 * eps);
      p.assign(tensor(base, { shape: p.shape, backend: refBackend }));
      return diff;
    });
    assertClose(p.grad!, tensor(numeric, { shape: p.shape, backend: refBackend }), { atol: 1e-6, rtol: 1e-5, label: name });
  }
});

test('causal: changing a later token leaves earlier logits unchanged; shapes', () => {
  const m = new GPT({ vocab: 9, dModel: 8, heads: 2, layers: 2, context: 8, dropout: 0, seed: 5 });
  const a = m.forward(ids([[1, 4, 5, 2]]), { needWeights: true });
  const b = m.forward(ids([[1, 4, 6, 2]])).logits;
  assert.deepEqual([...a.logits.shape], [1, 4, 9]);
  assert.deepEqual([...a.attentions![0].shape], [1, 2, 4, 4]);
  assert.deepEqual(Array.from(a.logits.narrow(1, 0, 2).contiguous().toArray()), Array.from(b.narrow(1, 0, 2).contiguous().toArray()));
  assert.notDeepEqual(Array.from(a.logits.narrow(1, 2, 2).contiguous().toArray()), Array.from(b.narrow(1, 2, 2).contiguous().toArray()));
});

test('KV cache: prefill then one token at a time gives the full forward logits and weights', () => {
  const m = new GPT({ vocab: 9, dModel: 16, heads: 4, layers: 2, context: 8, dropout: 0, seed: 7 });
  m.eval();
  const rows = [[1, 4, 5, 2, 8, 3, 0], [2, 2, 7, 1, 6, 5, 4]];
  const full = noGrad(() => m.forward(ids(rows), { needWeights: true }));
  const cache = m.createCache();
  const parts: Tensor[] = [];
  noGrad(() => {
    const pre = m.forward(ids(rows.map((r) => r.slice(0, 3))), { cache });
    parts.push(pre.logits);
    for (let t = 3; t < 7; t++) {
      const r = m.forward(ids(rows.map((row) => [row[t]])), { cache, needWeights: true });
      assert.equal(cache.length, t + 1);
      assert.deepEqual([...r.attentions![1].shape], [2, 4, 1, t + 1]);
      assertClose(r.attentions![1], full.attentions![1].narrow(2, t, 1).narrow(3, 0, t + 1).contiguous(), { atol: 1e-6, rtol: 1e-4, label: `weights at ${t}` });
      parts.push(r.logits);
    }
  });
  for (let t = 0, at = 0; t < parts.length; at += parts[t].shape[1], t++) {
    assertClose(parts[t], full.logits.narrow(1, at, parts[t].shape[1]).contiguous(), { atol: 1e-5, rtol: 1e-4, label: `logits from ${at}` });
  }
  noGrad(() => m.forward(ids([[1], [2]]), { cache })); // position 7, the last of the context
  assert.throws(() => noGrad(() => m.forward(ids([[1], [2]]), { cache })), /positions \[8, 9\) exceed maxLen 8/);
});

test('input errors name the bad value', () => {
  const m = new GPT({ vocab: 9, dModel: 8, heads: 2, layers: 1, context: 4 });
  assert.throws(() => m.forward(tensor([[1, 2]])), /ids must be int32, got float32/);
  assert.throws(() => m.forward(ids([[1, 2, 3, 4, 5]])), /positions \[0, 5\) exceed maxLen 4/);
  assert.throws(() => m.createCache(5), /cache maxLen 5 exceeds the context 4/);
});
