// Optimizer mechanics: exact single steps, zeroGrad and null grads, stateDict resume, bad arguments.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArgumentError, StateDictError } from '../../src/core/errors.js';
import { Tensor, tensor } from '../../src/tensor/index.js';
import { Adam, AdamW, LrScheduler, Optimizer, SGD, noamSchedule } from '../../src/optim/index.js';
import { initParams, lossOf } from './mlp-problem.js';

const f32 = (xs: number[]) => Array.from(new Float32Array(xs));
const values = (t: Tensor) => Array.from(t.toArray());

test('plain SGD takes p − lr·g', () => {
  const p = tensor([1, -2, 3], { requiresGrad: true });
  p.grad = tensor([0.5, 1, -4]);
  new SGD([p], { lr: 0.25 }).step();
  assert.deepEqual(values(p), f32([1 - 0.125, -2 - 0.25, 3 + 1]));
});

test("Adam's first step moves each parameter by lr against the sign of its gradient", () => {
  // m̂ = g and v̂ = g² after one step, so the update is lr · g / (|g| + ε).
  const p = tensor([1, -2, 3], { requiresGrad: true });
  p.grad = tensor([0.5, -8, 1e-3]);
  new Adam([p], { lr: 0.1, eps: 0 }).step();
  // float32 rounding of (1−β2)·g² and its square root leaves a few ulps.
  values(p).forEach((v, i) => assert.ok(Math.abs(v - [0.9, -1.9, 2.9][i]) < 1e-6, `p[${i}] = ${v}`));
});

test('AdamW with a zero gradient only decays: p·(1 − lr·λ)', () => {
  const p = tensor([2, -4], { requiresGrad: true });
  p.grad = tensor([0, 0]);
  new AdamW([p], { lr: 0.1, weightDecay: 0.5 }).step();
  assert.deepEqual(values(p), f32([2 * 0.95, -4 * 0.95]));
});

test('zeroGrad nulls gradients, and step skips parameters without one', () => {
  const a = tensor([1, 2], { requiresGrad: true });
  const b = tensor([3], { requiresGrad: true });
  const opt = new Adam([a, b], { lr: 0.1 });
  a.grad = tensor([1, 1]);
  opt.step();
  assert.deepEqual(values(b), [3]);
  assert.deepEqual([...opt.stateDict().tensors.keys()].sort(), ['exp_avg.0', 'exp_avg_sq.0']);
  opt.zeroGrad();
  assert.equal(a.grad, null);
  assert.equal(b.grad, null);
});

function train(opt: Optimizer, params: Tensor[], steps: number, sched?: LrScheduler): void {
  for (let i = 0; i < steps; i++) {
    lossOf(params).backward();
    opt.step();
    opt.zeroGrad();
    sched?.step();
  }
}

const makers: Record<string, (ps: Tensor[]) => Optimizer> = {
  Adam: (ps) => new Adam(ps, { lr: 0, betas: [0.9, 0.98], eps: 1e-9, weightDecay: 0.01 }),
  AdamW: (ps) => new AdamW(ps, { lr: 0 }),
  SGD: (ps) => new SGD(ps, { lr: 0, momentum: 0.9, nesterov: true }),
};

for (const [name, make] of Object.entries(makers)) {
  test(`${name}: save after 10 steps, load into a fresh optimizer, continue = uninterrupted`, () => {
    const schedule = noamSchedule({ dModel: 16, warmup: 5 });
    const straight = initParams();
    const optA = make(straight);
    const schedA = new LrScheduler(optA, schedule);
    train(optA, straight, 10, schedA);
    const saved = optA.stateDict();
    const savedParams = straight.map((p) => new Float32Array(p.toArray()));
    const savedFirst = values(saved.tensors.values().next().value!);
    train(optA, straight, 10, schedA);
    // The saved state is a copy: continuing did not change it.
    assert.deepEqual(values(saved.tensors.values().next().value!), savedFirst);

    const resumed = savedParams.map((v, i) => tensor(v, { shape: straight[i].shape, requiresGrad: true }));
    const optB = make(resumed);
    optB.loadStateDict(saved);
    assert.equal(optB.stepCount, 10);
    train(optB, resumed, 10, new LrScheduler(optB, schedule));
    resumed.forEach((p, i) => assert.deepEqual(values(p), values(straight[i])));
  });
}

test('loadStateDict names the bad entry', () => {
  const ps = initParams();
  const opt = new Adam(ps);
  train(opt, ps, 1);
  const good = opt.stateDict();
  const fresh = () => new Adam(initParams());
  const withEntry = (k: string, t: Tensor) => ({ step: 1, tensors: new Map([...good.tensors, [k, t]]) });
  assert.throws(() => fresh().loadStateDict(withEntry('momentum_buffer.0', good.tensors.get('exp_avg.0')!)), /unexpected name 'momentum_buffer.0'/);
  assert.throws(() => fresh().loadStateDict(withEntry('exp_avg.9', good.tensors.get('exp_avg.0')!)), /names parameter 9, but there are 4/);
  assert.throws(() => fresh().loadStateDict(withEntry('exp_avg.1', good.tensors.get('exp_avg.0')!)), StateDictError);
  assert.throws(() => fresh().loadStateDict({ step: -1, tensors: new Map() }), /step is -1/);
});

test('constructors reject bad options with ArgumentError', () => {
  const p = tensor([1], { requiresGrad: true });
  assert.throws(() => new Adam([p], { lr: -1 }), /lr is -1/);
  assert.throws(() => new Adam([p], { betas: [0.9, 1] }), /betas\[1\] is 1/);
  assert.throws(() => new AdamW([p], { eps: -1 }), ArgumentError);
  assert.throws(() => new SGD([p], { lr: 0.1, nesterov: true }), /nesterov needs momentum > 0/);
  assert.throws(() => new SGD([p, p], { lr: 0.1 }), /appears twice/);
  assert.throws(() => new SGD([p.mul(2)], { lr: 0.1 }), /computed by mul/);
  assert.throws(() => new SGD([tensor([1], { dtype: 'int32' })], { lr: 0.1 }), /dtype int32/);
});
