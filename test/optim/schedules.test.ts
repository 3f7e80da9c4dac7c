// Schedules against hand-computed values of their formulas, and the LrScheduler that applies them.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArgumentError } from '../../src/core/errors.js';
import { tensor } from '../../src/tensor/index.js';
import { LrScheduler, SGD, constantSchedule, cosineSchedule, noamSchedule, warmupHoldSchedule, withCooldown } from '../../src/optim/index.js';

const near = (a: number, b: number) => assert.ok(Math.abs(a - b) <= 1e-15 * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

test('noamSchedule follows eq. 3', () => {
  const lr = noamSchedule({ dModel: 16, warmup: 5 });
  near(lr(1), 0.25 * 5 ** -1.5); // warm-up branch: 0.25 · 1 · 5^-1.5
  near(lr(1), 0.022360679774997897);
  near(lr(5), 0.25 / Math.sqrt(5)); // the peak, both branches equal
  near(lr(20), 0.25 / Math.sqrt(20)); // decay branch
  near(lr(20), 0.05590169943749474);
  near(noamSchedule({ dModel: 16, warmup: 5, factor: 2 })(3), 2 * 0.25 * 3 * 5 ** -1.5);
  // The paper's base model: peak lr = (512 · 4000)^-0.5 at step 4000.
  near(noamSchedule({ dModel: 512, warmup: 4000 })(4000), 6.987712429686844e-4);
});

test('cosineSchedule warms up linearly then follows half a cosine to minLr', () => {
  const lr = cosineSchedule({ baseLr: 1, warmup: 10, totalSteps: 110, minLr: 0.1 });
  near(lr(1), 0.1);
  near(lr(5), 0.5);
  near(lr(10), 1);
  near(lr(35), 0.1 + 0.45 * (1 + Math.SQRT1_2)); // a quarter of the way: cos(π/4)
  near(lr(60), 0.55); // half way: cos(π/2) = 0
  near(lr(110), 0.1);
  near(lr(500), 0.1);
  const noWarm = cosineSchedule({ baseLr: 2, warmup: 0, totalSteps: 4 });
  near(noWarm(2), 1); // (1 + cos(π/2)) = 1
  near(noWarm(4), 0);
});

test('constantSchedule is constant', () => {
  const lr = constantSchedule(3e-4);
  assert.deepEqual([1, 2, 1000].map(lr), [3e-4, 3e-4, 3e-4]);
});

test('schedules reject bad arguments with ArgumentError', () => {
  assert.throws(() => noamSchedule({ dModel: 0, warmup: 5 }), ArgumentError);
  assert.throws(() => noamSchedule({ dModel: 16, warmup: 5 })(0), /step is 0, expected an integer ≥ 1/);
  assert.throws(() => cosineSchedule({ baseLr: 1, warmup: 10, totalSteps: 10 }), /totalSteps is 10/);
  assert.throws(() => cosineSchedule({ baseLr: 1, warmup: 1, totalSteps: 10, minLr: 2 }), /minLr is 2/);
  assert.throws(() => constantSchedule(-1), ArgumentError);
});

test('LrScheduler sets the rate of the next step, before or after optimizer.step()', () => {
  const p = tensor([1], { requiresGrad: true });
  const opt = new SGD([p], { lr: 123 });
  const schedule = noamSchedule({ dModel: 16, warmup: 5 });
  const sched = new LrScheduler(opt, schedule);
  assert.equal(opt.lr, schedule(1)); // set on construction, for the first step
  const seen: number[] = [];
  for (let i = 0; i < 6; i++) {
    seen.push(opt.lr);
    p.grad = tensor([0]);
    opt.step();
    sched.step();
  }
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6].map(schedule));
  assert.equal(sched.step(), schedule(7)); // calling twice between steps changes nothing
  assert.equal(opt.lr, schedule(7));
});

test('withCooldown: the base rate until 1 − fraction of the run, then a linear fall to 0; no progress, no change', () => {
  const lr = withCooldown(constantSchedule(2), 0.25);
  assert.equal(lr(1, 0), 2);
  assert.equal(lr(5, 0.75), 2); // the cooldown starts here
  assert.equal(lr(6, 0.875), 1); // half-way down: 2 · (1 − 0.875) / 0.25
  assert.equal(lr(7, 1), 0);
  assert.equal(lr(9), 2);
  const whole = withCooldown(noamSchedule({ dModel: 16, warmup: 10 }), 1);
  // Noam at step 20 with d 16: 16^-0.5 · 20^-0.5 = 1/(4√20); times (1 − 0.4).
  assert.ok(Math.abs(whole(20, 0.4) - 0.6 / (4 * Math.sqrt(20))) < 1e-15);
  assert.throws(() => withCooldown(constantSchedule(1), 0), ArgumentError);
  assert.throws(() => withCooldown(constantSchedule(1), 1.5), ArgumentError);
  assert.throws(() => lr(1, 1.2), /progress is 1.2/);
});

test('warmupHoldSchedule: linear warm-up to the peak, then the peak; with a cooldown of 1, a linear fall from it', () => {
  const lr = warmupHoldSchedule({ peak: 2, warmup: 4 });
  assert.deepEqual([1, 2, 4, 5, 1000].map((s) => lr(s)), [0.5, 1, 2, 2, 2]);
  const annealed = withCooldown(lr, 1);
  assert.equal(annealed(8, 0.75), 0.5); // 2 · (1 − 0.75)
  assert.throws(() => warmupHoldSchedule({ peak: 0, warmup: 4 }), /peak is 0/);
  assert.throws(() => lr(0), /step is 0/);
});
