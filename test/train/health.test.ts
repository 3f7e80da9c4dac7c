// Trainer health and stopping: non-finite steps (stop or skip), the divergence rule, no checkpoint
// of non-finite weights, stop() between steps, saves by time. Expected values are worked by hand.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DivergenceWatch, Module, SGD, Trainer, TrainingDivergedError, firstNonFiniteWeight, tensor } from '../../src/index.js';
import type { Tensor, TrainEvent, TrainTask } from '../../src/index.js';

/** One float64 weight vector w; the loss of a batch x is w·x, so its gradient is exactly x. */
class Vec extends Module {
  readonly w: Tensor;
  constructor(values: number[]) {
    super();
    this.w = this.addParameter('w', tensor(values, { dtype: 'float64' }));
  }
}

/** Batches [3, 4]; the loss is w·x, or `bad(call)` times it when that gives a number (NaN, Infinity). */
function task(bad: (call: number) => number | null = () => null, evaluate?: () => Record<string, number>): TrainTask<Vec, number[]> {
  let calls = 0;
  return {
    name: 'vec',
    *batches() { for (let i = 0; i < 4; i++) yield [3, 4]; },
    loss(model, x) {
      const k = bad(++calls);
      const loss = model.w.mul(tensor(x, { dtype: 'float64' })).sum();
      return { loss: k === null ? loss : loss.mul(tensor(k, { dtype: 'float64' })), tokens: 1 };
    },
    ...(evaluate ? { evaluate } : {}),
  };
}

function collect(): { events: TrainEvent[]; onEvent: (e: TrainEvent) => void } {
  const events: TrainEvent[] = [];
  return { events, onEvent: (e) => events.push(e) };
}

const sgd = (m: Vec) => new SGD(m.parameters(), { lr: 0.1 });

test('a NaN loss at step 4 stops the run there, naming step 4, with the weights of step 3 and no save after it', async () => {
  const m = new Vec([1, 1]);
  const saves: number[] = [];
  const t = new Trainer(m, task((c) => (c === 4 ? NaN : null)), {
    optimizer: sgd(m), schedule: null, maxSteps: 10, saveEvery: 1, save: (_w, tr) => { saves.push(tr.stepCount); },
  });
  await assert.rejects(t.run(), (e: Error) => e instanceof TrainingDivergedError && e.step === 4 && /^Trainer: step 4: loss NaN, gradient norm NaN, expected finite numbers; the run diverged/.test(e.message));
  assert.deepEqual(saves, [1, 2, 3]);
  // Three SGD steps of lr 0.1 on gradient [3, 4]: w = 1 − 0.3·3, 1 − 0.4·3.
  const w = [...m.w.toArray()];
  assert.ok(Math.abs(w[0] - 0.1) < 1e-12 && Math.abs(w[1] + 0.2) < 1e-12, `w ${w}`);
  assert.equal(t.stepCount, 3);
});

test("an infinite loss with onNonFinite 'skip': the step is counted, skipped and reported; the weights do not move", async () => {
  const m = new Vec([1, 1]);
  const { events, onEvent } = collect();
  const r = await new Trainer(m, task((c) => (c === 2 || c === 3 ? Infinity : null)), {
    optimizer: sgd(m), schedule: null, maxSteps: 5, onNonFinite: 'skip', onEvent,
  }).run();
  assert.equal(r.step, 5);
  const steps = events.filter((e) => e.type === 'step');
  assert.deepEqual(steps.map((e) => e.type === 'step' && (e.skipped ?? false)), [false, true, true, false, false]);
  assert.deepEqual(events.filter((e) => e.type === 'warning').map((e) => e.type === 'warning' && [e.step, e.kind]), [[2, 'nonFinite'], [3, 'nonFinite']]);
  // Three real SGD steps: w = 1 − 0.3·3, 1 − 0.4·3.
  const w = [...m.w.toArray()];
  assert.ok(Math.abs(w[0] - 0.1) < 1e-12 && Math.abs(w[1] + 0.2) < 1e-12, `w ${w}`);
});

test('skip mode stops after maxSkippedSteps non-finite steps in a row, naming the step', async () => {
  const m = new Vec([1, 1]);
  const t = new Trainer(m, task((c) => (c >= 3 ? NaN : null)), { optimizer: sgd(m), schedule: null, maxSteps: 50, onNonFinite: 'skip', maxSkippedSteps: 4 });
  // Steps 3, 4, 5 are skipped; step 6 is the 4th in a row.
  await assert.rejects(t.run(), (e: Error) => e instanceof TrainingDivergedError && e.step === 6 && /step 6: .*4 non-finite steps in a row \(maxSkippedSteps 4\)/.test(e.message));
});

test('DivergenceWatch: the average (β 0.9) against factor × its minimum + 1, warning once and stopping after patience', () => {
  const w = new DivergenceWatch({ factor: 2, patience: 3, warmup: 1 });
  assert.equal(w.observe(1), 'ok'); // average 1, minimum 1 (warm-up)
  assert.equal(w.observe(1), 'ok'); // average 1 ≤ 2·1 + 1
  assert.equal(w.observe(31), 'warn'); // 0.9 + 3.1 = 4 > 3
  assert.equal(w.observe(4), 'ok'); // 3.6 + 0.4 = 4 > 3: diverging, 2nd in a row, already warned
  assert.equal(w.observe(4), 'stop'); // 4 > 3: 3rd in a row
  const back = new DivergenceWatch({ factor: 2, patience: 2, warmup: 1 });
  for (const l of [1, 1, 31]) back.observe(l); // average 4: 1st over
  assert.equal(back.observe(-30), 'ok'); // 3.6 − 3 = 0.6: back under, the count resets
  assert.ok(Math.abs(back.stats!.minimum - 0.6) < 1e-12, `minimum ${back.stats!.minimum}`);
  assert.equal(back.observe(40), 'ok'); // 0.54 + 4 = 4.54 > 2.2: 1st over again (warned before)
  assert.equal(back.observe(40), 'stop');
});

test('divergence: a loss that explodes after settling warns once, pauses the saves, then stops naming the step', async () => {
  const m = new Vec([0, 0]);
  const saved: number[] = [];
  const { events, onEvent } = collect();
  // Loss w·[3, 4] · k with k = 1e-9 for 20 steps (near 0), then 1e6: the average leaps over 10 × min + 1.
  const t = new Trainer(m, task((c) => (c <= 20 ? 1e-9 : 1e6)), {
    optimizer: new SGD(m.parameters(), { lr: 0 }), schedule: null, maxSteps: 1000, divergence: { factor: 10, patience: 5 }, onEvent,
    saveEvery: 1, save: (_w, tr) => { saved.push(tr.stepCount); },
  });
  m.w.assign(tensor([1, 1], { dtype: 'float64' })); // loss 7 × k
  await assert.rejects(t.run(), (e: Error) => e instanceof TrainingDivergedError && e.step === 25 && /step 25: loss 7\.000e\+6, its moving average .* for 5 steps in a row; the run diverged/.test(e.message));
  assert.deepEqual(events.filter((e) => e.type === 'warning').map((e) => e.type === 'warning' && [e.step, e.kind]), [[21, 'divergence']]);
  assert.equal(saved.at(-1), 20, 'last/ keeps the step before the divergence began');
});

test('a checkpoint is never written with non-finite weights: the save names the first bad parameter', async () => {
  const m = new Vec([1, 1]);
  assert.equal(firstNonFiniteWeight(m), null);
  let saved = 0;
  // At step 2 something (a kernel bug, a bad load) leaves w[1] at −∞ after the loss was taken: the step's numbers are finite.
  const corrupting: TrainTask<Vec, number[]> = { ...task(), loss(model, x) {
    const loss = model.w.mul(tensor(x, { dtype: 'float64' })).sum();
    if (t.stepCount === 1) model.w.assign(tensor([1, -Infinity], { dtype: 'float64' }));
    return { loss, tokens: 1 };
  } };
  const t: Trainer<Vec, number[]> = new Trainer(m, corrupting, { optimizer: sgd(m), schedule: null, maxSteps: 3, saveEvery: 2, save: () => { saved++; } });
  await assert.rejects(t.run(), (e: Error) => e instanceof TrainingDivergedError && /saving 'last' at step 2: parameter 'w' holds -Infinity at index 1, expected finite weights/.test(e.message));
  assert.deepEqual(firstNonFiniteWeight(m), { name: 'w', index: 1, value: -Infinity });
  assert.equal(saved, 0);
});

test('a NaN validation loss names the step and the metric and says the run diverged', async () => {
  const m = new Vec([1, 1]);
  const t = new Trainer(m, task(() => null, () => ({ validLoss: NaN })), { optimizer: sgd(m), schedule: null, maxSteps: 10, evalEvery: 2, monitor: { metric: 'validLoss' } });
  await assert.rejects(t.run(), (e: Error) => e instanceof TrainingDivergedError && e.step === 2 && /step 2: monitored metric 'validLoss' is NaN at evaluation, expected a finite number; the run diverged/.test(e.message));
});

test('stop(): the run ends before its next step with reason stopped, saves last there and does not evaluate', async () => {
  const m = new Vec([1, 1]);
  const saved: [string, number][] = [];
  let evals = 0;
  let t: Trainer<Vec, number[]>;
  const theTask = task((c) => { if (c === 3) t.stop(); return null; }, () => { evals++; return { validLoss: 1 }; });
  t = new Trainer(m, theTask, {
    optimizer: sgd(m), schedule: null, maxSteps: 100, evalEvery: 10, evalAtEnd: true, monitor: { metric: 'validLoss' },
    save: (which, tr) => { saved.push([which, tr.stepCount]); },
  });
  const r = await t.run();
  assert.equal(r.reason, 'stopped');
  assert.equal(r.step, 3, 'the step in progress finishes');
  assert.deepEqual(saved, [['last', 3]]);
  assert.equal(evals, 0);
  const ac = new AbortController();
  ac.abort();
  const r2 = await new Trainer(m, task(), { optimizer: sgd(m), schedule: null, maxSteps: 100, signal: ac.signal }).run();
  assert.deepEqual([r2.reason, r2.step], ['stopped', 0]);
});

test('saveEverySeconds: with a clock of 1 s per step and 2.5 s, last is saved at steps 3 and 6, and at the end (7)', async () => {
  const m = new Vec([1, 1]);
  let now = 0;
  const saved: number[] = [];
  await new Trainer(m, task(() => { now += 1000; return null; }), {
    optimizer: sgd(m), schedule: null, maxSteps: 7, clock: () => now, saveEverySeconds: 2.5, save: (_w, tr) => { saved.push(tr.stepCount); },
  }).run();
  assert.deepEqual(saved, [3, 6, 7]);
});
