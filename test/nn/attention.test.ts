// Attention: scaled dot-product known answers, masking rules, and multi-head attention vs PyTorch on every backend.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Rng } from '../../src/core/rng.js';
import { randn, tensor } from '../../src/tensor/index.js';
import { MultiHeadAttention, causalMask, scaledDotProductAttention } from '../../src/nn/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { describeBackends } from '../helpers/backends.js';
import { expectClose, loadGolden, reportWorst } from './golden.js';

test('scaledDotProductAttention: softmax(QKᵀ/√d)V on a hand-worked case', () => {
  // d = 4, so scores are q·k / 2. q = [2,0,0,0]; keys give scores 1 and 0.
  const q = tensor([[[2, 0, 0, 0]]]);
  const k = tensor([[[1, 0, 0, 0], [0, 1, 0, 0]]]);
  const v = tensor([[[10, 0], [0, 10]]]);
  const { output, weights } = scaledDotProductAttention(q, k, v);
  const e = Math.E / (Math.E + 1);
  assertClose(weights, [[[e, 1 - e]]], { atol: 1e-6 });
  assertClose(output, [[[10 * e, 10 * (1 - e)]]], { atol: 1e-5 });
});

test('scaledDotProductAttention: the scores before the softmax are Q·Kᵀ/√d_k, −Infinity where masked', () => {
  // d = 4: q0 = [2,0,0,0] scores 1 and 0 against the keys; q1 = [0,4,0,0] scores 0 and 2, its second key open.
  const q = tensor([[[2, 0, 0, 0], [0, 4, 0, 0]]]);
  const k = tensor([[[1, 0, 0, 0], [0, 1, 0, 0]]]);
  const v = tensor([[[1, 0], [0, 1]]]);
  assertClose(scaledDotProductAttention(q, k, v).scores, [[[1, 0], [0, 2]]], { atol: 1e-6 });
  const { scores, weights } = scaledDotProductAttention(q, k, v, causalMask(2));
  assert.deepEqual(scores.toList(), [[[1, -Infinity], [0, 2]]]);
  const e2 = Math.exp(2) / (1 + Math.exp(2));
  assertClose(weights, [[[1, 0], [1 - e2, e2]]], { atol: 1e-6 });
  const mha = new MultiHeadAttention(4, 2, { rng: new Rng(0) });
  const x = randn([1, 3, 4], new Rng(1));
  const r = mha.forward(x, x, x, { needWeights: true, attnMask: causalMask(3) });
  assert.deepEqual(r.scores!.shape, [1, 2, 3, 3]);
  assert.equal(mha.forward(x, x, x).scores, undefined, 'no scores unless the weights are asked for');
});

test('scaledDotProductAttention: masked keys get weight exactly 0', () => {
  const rng = new Rng(3);
  const q = randn([1, 3, 4], rng);
  const k = randn([1, 3, 4], rng);
  const v = randn([1, 3, 2], rng);
  const { weights } = scaledDotProductAttention(q, k, v, causalMask(3));
  const w = weights.toList() as number[][][];
  assert.equal(w[0][0][1], 0);
  assert.equal(w[0][0][2], 0);
  assert.equal(w[0][1][2], 0);
  assertClose(w[0][0][0], 1, { atol: 1e-7 });
});

test('scaledDotProductAttention: a fully masked row gives zero weights, zero output and finite gradients', () => {
  const rng = new Rng(4);
  const q = randn([2, 3, 4], rng).requireGrad();
  const k = randn([2, 3, 4], rng).requireGrad();
  const v = randn([2, 3, 2], rng).requireGrad();
  // Batch 1, query row 2: every key masked.
  const mask = tensor([[[0, 0, 1], [0, 1, 1], [0, 0, 0]], [[0, 0, 0], [0, 0, 1], [1, 1, 1]]]);
  const { output, weights } = scaledDotProductAttention(q, k, v, mask);
  const w = weights.toList() as number[][][];
  assert.deepEqual(w[1][2], [0, 0, 0]);
  assert.deepEqual((output.toList() as number[][][])[1][2], [0, 0]);
  for (const row of [w[0][0], w[0][1], w[0][2], w[1][0], w[1][1]]) assertClose(row.reduce((a, b) => a + b, 0), 1, { atol: 1e-6 });
  output.sum().backward();
  for (const t of [q, k, v]) assert.ok(Array.from(t.grad!.toArray()).every(Number.isFinite), 'gradients are finite');
  assert.deepEqual(Array.from(q.grad!.toArray().slice(4 * 5, 4 * 6)), [0, 0, 0, 0], 'no gradient to the dead query');
});

test('MultiHeadAttention: precomputed keyValue (the KV-cache hook) gives the same result', () => {
  const rng = new Rng(5);
  const mha = new MultiHeadAttention(8, 2, { rng });
  const x = randn([2, 3, 8], rng);
  const m = randn([2, 4, 8], rng);
  const direct = mha.forward(x, m, m, { needWeights: true });
  const viaKv = mha.forward(x, m, m, { needWeights: true, keyValue: mha.projectKeyValue(m, m) });
  assertClose(viaKv.output, direct.output, { atol: 1e-6 });
  assertClose(viaKv.weights!, direct.weights!, { atol: 1e-7 });
  assert.equal(mha.forward(x, x, x).weights, undefined, 'weights only when asked');
});

test('MultiHeadAttention: mask shapes are checked', () => {
  const rng = new Rng(6);
  const mha = new MultiHeadAttention(8, 2, { rng });
  const x = randn([2, 3, 8], rng);
  assert.throws(() => mha.forward(x, x, x, { keyPaddingMask: tensor([[0, 0, 0]]) }), /keyPaddingMask \[1, 3\] must be \[B, S\] = \[2, 3\]/);
  assert.throws(() => mha.forward(x, x, x, { attnMask: causalMask(4) }), /attnMask \[4, 4\] does not broadcast to \[B, H, T, S\] = \[2, 2, 3, 3\]/);
  assert.throws(() => new MultiHeadAttention(10, 4, { rng }), /dModel 10 must be divisible by numHeads 4/);
});

describeBackends('MultiHeadAttention golden', (backend) => {
  for (const file of ['mha_self', 'mha_cross', 'mha_qkv']) {
    // needWeights false: native runs fusedMultiHeadAttention on the projections (no head copies, one packed product).
    for (const needWeights of [true, false]) {
      test(`matches torch.nn.MultiheadAttention: ${file}${needWeights ? '' : ', weights not asked for'}`, (t) => {
        const g = loadGolden(`${file}.safetensors`, backend);
        const mha = new MultiHeadAttention(16, 4, { rng: new Rng(0), backend });
        mha.loadStateDict(g.params);
        const ins = new Map(g.keys('@in.').map((k) => [k.slice(4), g.get(k)]));
        for (const [name, x] of ins) if (!name.includes('mask')) x.requireGrad();
        let r;
        if (file === 'mha_self') {
          const x = ins.get('x')!;
          r = mha.forward(x, x, x, { keyPaddingMask: ins.get('key_padding_mask'), attnMask: ins.get('attn_mask'), needWeights });
        } else if (file === 'mha_cross') {
          const m = ins.get('memory')!;
          r = mha.forward(ins.get('query')!, m, m, { keyPaddingMask: ins.get('key_padding_mask'), needWeights });
        } else {
          r = mha.forward(ins.get('query')!, ins.get('key')!, ins.get('value')!, { needWeights });
        }
        assert.equal(r.output.backend, backend);
        const concatOp = r.output.node!.inputs[0].node!.op;
        if (backend.name === 'native' && !needWeights) assert.equal(concatOp, 'multiHeadAttention', 'native took the fused path');
        else assert.notEqual(concatOp, 'multiHeadAttention');
        const fwd = expectClose(r.output, g.get('@out'), 1e-5, 'output', 'forward');
        const att = needWeights ? expectClose(r.weights, g.get('@attn.self'), 1e-5, 'weights', 'attention') : 0;
        if (!needWeights) assert.equal(r.weights, undefined);
        r.output.mul(g.get('@R')).sum().backward();
        let grad = 0;
        for (const [name, p] of mha.namedParameters()) grad = Math.max(grad, expectClose(p.grad!, g.get(`@grad.${name}`), 1e-4, `grad ${name}`, 'gradient'));
        for (const [name, x] of ins) {
          if (g.has(`@grad_in.${name}`)) grad = Math.max(grad, expectClose(x.grad!, g.get(`@grad_in.${name}`), 1e-4, `grad input ${name}`, 'gradient'));
        }
        t.diagnostic(`relative errors on ${backend.name}: output ${fwd.toExponential(2)}, weights ${att.toExponential(2)}, gradients ${grad.toExponential(2)}`);
      });
    }
  }
});

after(() => reportWorst('attention'));
