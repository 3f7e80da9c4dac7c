// LSTM against torch.nn.LSTM (scripts/gen_lstm_golden.py) on every backend, and against finite differences.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import type { Backend } from '../../src/backend/backend.js';
import { refBackend } from '../../src/backend/ref.js';
import { ArgumentError, ShapeError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { LSTM, lstmCell } from '../../src/nn/lstm.js';
import { Tensor, noGrad, tensor, zeros } from '../../src/tensor/index.js';
import { describeBackends } from '../helpers/backends.js';
import { expectClose, reportWorst } from './golden.js';

interface Arr { shape: number[]; data: number[] }
interface Case {
  name: string;
  config: { inputSize: number; hiddenSize: number; layers: number; bidirectional: boolean; lengths: number[] | null; initial: boolean };
  params: Record<string, Arr>;
  inputs: Record<string, Arr>;
  R: Arr; Rh: Arr; Rc: Arr;
  output: Arr; h_n: Arr; c_n: Arr; loss: number;
  grad: Record<string, Arr>;
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/golden/lstm.json', import.meta.url), 'utf8')) as { cases: Case[] };

describeBackends('LSTM golden', (backend) => {
  const t32 = (a: Arr) => tensor(a.data, { shape: a.shape, dtype: 'float32', backend });
  for (const c of fixture.cases) {
    test(`matches torch.nn.LSTM: ${c.name}`, (t) => {
      const { inputSize, hiddenSize, layers, bidirectional, lengths, initial } = c.config;
      const lstm = new LSTM(inputSize, hiddenSize, { layers, bidirectional, rng: new Rng(0), backend });
      lstm.loadStateDict(new Map(Object.entries(c.params).map(([k, a]) => [k, t32(a)])));
      const x = t32(c.inputs.x).requireGrad();
      const h0 = initial ? t32(c.inputs.h0).requireGrad() : null;
      const c0 = initial ? t32(c.inputs.c0).requireGrad() : null;
      const r = lstm.forward(x, { lengths, initial: h0 && c0 ? { h: h0, c: c0 } : null });
      const fwd = Math.max(
        expectClose(r.output, t32(c.output), 1e-5, 'output', 'forward'),
        expectClose(r.h, t32(c.h_n), 1e-5, 'h_n', 'forward'),
        expectClose(r.c, t32(c.c_n), 1e-5, 'c_n', 'forward'),
      );
      const loss = r.output.mul(t32(c.R)).sum().add(r.h.mul(t32(c.Rh)).sum()).add(r.c.mul(t32(c.Rc)).sum());
      assert.ok(Math.abs(loss.item() - c.loss) <= 1e-5 * Math.max(1, Math.abs(c.loss)), `loss ${loss.item()} vs torch ${c.loss}`);
      loss.backward();
      let grad = 0;
      const names = lstm.namedParameters().map(([n]) => n);
      assert.deepEqual(names.sort(), Object.keys(c.params).sort(), 'parameter names are torch.nn.LSTM\'s');
      for (const [name, p] of lstm.namedParameters()) grad = Math.max(grad, expectClose(p.grad!, t32(c.grad[name]), 1e-5, `grad ${name}`, 'gradient'));
      const inputs: [string, Tensor | null][] = [['x', x], ['h0', h0], ['c0', c0]];
      for (const [name, v] of inputs) if (v) grad = Math.max(grad, expectClose(v.grad!, t32(c.grad[name]), 1e-5, `grad input ${name}`, 'gradient'));
      t.diagnostic(`relative errors on ${backend.name}: forward ${fwd.toExponential(2)}, gradients ${grad.toExponential(2)}`);
    });
  }

  test('step() over the steps one by one gives forward()', () => {
    const lstm = new LSTM(3, 4, { layers: 2, rng: new Rng(3), backend });
    const x = tensor(Array.from({ length: 2 * 3 * 3 }, (_, i) => Math.sin(i)), { shape: [2, 3, 3], backend });
    const full = noGrad(() => lstm.forward(x));
    let state = lstm.zeroState(2, x);
    for (let t = 0; t < 3; t++) {
      const r = noGrad(() => lstm.step(x.narrow(1, t, 1).reshape([2, 3]), state));
      state = r.state;
      expectClose(r.output, full.output.narrow(1, t, 1).reshape([2, 4]), 1e-6, `step ${t}`, 'forward');
    }
    expectClose(state.c[1], full.c.narrow(0, 1, 1).reshape([2, 4]), 1e-6, 'c of layer 1', 'forward');
  });
});

after(() => reportWorst('LSTM'));

/** Central differences of `loss` in each element of each leaf (float64, ref), against the leaves' .grad. */
function finiteDifferences(leaves: [string, Tensor][], loss: () => Tensor, eps = 1e-6): void {
  for (const leaf of leaves) leaf[1].grad = null;
  loss().backward();
  for (const [name, p] of leaves) {
    const base = p.toArray() as Float64Array;
    const analytic = p.grad!.toArray();
    for (let j = 0; j < base.length; j++) {
      const at = (d: number) => {
        const v = base.slice();
        v[j] += d;
        p.assign(tensor(v, { shape: p.shape, backend: refBackend }));
        return noGrad(() => loss().item());
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      p.assign(tensor(base, { shape: p.shape, backend: refBackend }));
      assert.ok(Math.abs(analytic[j] - numeric) <= 1e-6 + 1e-6 * Math.abs(numeric), `${name}[${j}]: autograd ${analytic[j]}, finite differences ${numeric}`);
    }
  }
}

describe('LSTM finite differences (float64, ref)', () => {
  for (const bidirectional of [false, true]) test(`every weight, the input and (h0, c0), two layers with lengths${bidirectional ? ', bidirectional' : ''}`, () => {
    const rng = new Rng(7);
    const o = { dtype: 'float64', backend: refBackend as Backend } as const;
    const lstm = new LSTM(2, 2, { layers: 2, bidirectional, rng, ...o });
    const D = bidirectional ? 2 : 1;
    const rand = (shape: number[]) => tensor(Float64Array.from({ length: shape.reduce((p, q) => p * q, 1) }, () => rng.normal()), { shape, backend: refBackend });
    const x = rand([2, 3, 2]).requireGrad();
    const h0 = rand([2 * D, 2, 2]).requireGrad();
    const c0 = rand([2 * D, 2, 2]).requireGrad();
    const R = rand([2, 3, 2 * D]);
    const Rh = rand([2 * D, 2, 2]);
    const loss = () => {
      const r = lstm.forward(x, { lengths: [3, 1], initial: { h: h0, c: c0 } });
      return r.output.mul(R).sum().add(r.h.mul(Rh).sum()).add(r.c.sum());
    };
    finiteDifferences([...lstm.namedParameters(), ['x', x], ['h0', h0], ['c0', c0]], loss);
  });
});

describe('LSTM by hand and bad input', () => {
  test('lstmCell computes the four gates in torch order i, f, g, o', () => {
    // H = 1: gates [i, f, g, o] = [0, ln 3, atanh 0.5, 0] → σ(i) = 0.5, σ(f) = 0.75, tanh(g) = 0.5, σ(o) = 0.5.
    const gates = tensor([[0, Math.log(3), Math.atanh(0.5), 0]], { dtype: 'float64', backend: refBackend });
    const r = lstmCell(gates, tensor([[2]], { dtype: 'float64', backend: refBackend }));
    const c = 0.75 * 2 + 0.5 * 0.5; // σ(f)·c + σ(i)·tanh(g)
    assert.ok(Math.abs(r.c.item() - c) < 1e-12);
    assert.ok(Math.abs(r.h.item() - 0.5 * Math.tanh(c)) < 1e-12);
  });

  test('a row of length 0 keeps its initial state and outputs zeros', () => {
    const lstm = new LSTM(1, 2, { rng: new Rng(1), backend: refBackend });
    const h0 = tensor([[[0.3, -0.2], [0.1, 0.4]]], { backend: refBackend });
    const r = lstm.forward(tensor([[[1], [2]], [[3], [4]]], { backend: refBackend }), { lengths: [2, 0], initial: { h: h0, c: zeros([1, 2, 2]) } });
    assert.deepEqual(Array.from(r.h.narrow(1, 1, 1).toArray()), Array.from(Float32Array.from([0.1, 0.4])));
    assert.deepEqual(Array.from(r.output.narrow(0, 1, 1).toArray()), [0, 0, 0, 0]);
  });

  test('dropout acts between layers in training only: none after the last layer, none in eval', () => {
    const x = tensor(Array.from({ length: 2 * 3 * 2 }, (_, i) => Math.cos(i)), { shape: [2, 3, 2], backend: refBackend });
    const one = new LSTM(2, 4, { dropout: 0.5, rng: new Rng(2), backend: refBackend });
    assert.deepEqual(Array.from(one.train().forward(x).output.toArray()), Array.from(one.eval().forward(x).output.toArray()), 'one layer: nothing to drop');
    const two = new LSTM(2, 4, { layers: 2, dropout: 0.5, dropoutRng: new Rng(9), rng: new Rng(2), backend: refBackend });
    const plain = new LSTM(2, 4, { layers: 2, rng: new Rng(0), backend: refBackend });
    plain.loadStateDict(two.stateDict());
    const evalOut = Array.from(two.eval().forward(x).output.toArray());
    assert.deepEqual(evalOut, Array.from(plain.forward(x).output.toArray()), 'eval: the same as without dropout');
    assert.notDeepEqual(Array.from(two.train().forward(x).output.toArray()), evalOut, 'training: layer 0\'s outputs are dropped before layer 1');
  });

  test('wrong shapes and lengths are errors that name them', () => {
    const lstm = new LSTM(3, 2, { layers: 2, rng: new Rng(1), backend: refBackend });
    const x = zeros([2, 4, 3], { backend: refBackend });
    assert.throws(() => lstm.forward(zeros([2, 4, 5], { backend: refBackend })), (e: Error) => e instanceof ShapeError && /\[2, 4, 5\] must be \[B, T, 3\]/.test(e.message));
    assert.throws(() => lstm.forward(x, { lengths: [4] }), (e: Error) => e instanceof ShapeError && /1 lengths for a batch of 2/.test(e.message));
    assert.throws(() => lstm.forward(x, { lengths: [4, 5] }), (e: Error) => e instanceof ArgumentError && /length 5 of row 1 .*\[0, 4\]/.test(e.message));
    const h = zeros([1, 2, 2], { backend: refBackend });
    assert.throws(() => lstm.forward(x, { initial: { h, c: h } }), (e: Error) => e instanceof ShapeError && /h0 \[1, 2, 2\] must be \[2, 2, 2\]/.test(e.message));
    const bi = new LSTM(3, 2, { bidirectional: true, rng: new Rng(1), backend: refBackend });
    assert.throws(() => bi.step(zeros([2, 3], { backend: refBackend }), bi.zeroState(2, x)), (e: Error) => e instanceof ArgumentError && /bidirectional LSTM reads whole sequences/.test(e.message));
    assert.throws(() => new LSTM(3, 0, { rng: new Rng(0) }), (e: Error) => e instanceof ArgumentError && /hiddenSize must be a positive integer, got 0/.test(e.message));
  });
});
