// Trainer: limits, the default optimizer and schedule, clipping, early stopping and keep-best on
// scripted metric sequences, determinism, option errors. Expected values are worked by hand.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Adam, ArgumentError, Module, Rng, SGD, Trainer, checkpointFiles, readCheckpoint, tensor,
} from '../../src/index.js';
import type { Tensor, TrainEvent, TrainTask, TrainerOptions } from '../../src/index.js';
import { copyTask, tinyCopyModel } from './copy-task.js';

/** One float64 weight vector w; the loss of a batch x is w·x, so its gradient is exactly x. */
class Vec extends Module {
  readonly w: Tensor;
  constructor(values: number[]) {
    super();
    this.w = this.addParameter('w', tensor(values, { dtype: 'float64' }));
  }
}

/** A task whose batches are fixed vectors and whose evaluations return a scripted sequence. */
function scriptedTask(metrics: number[], opts: { batchesPerEpoch?: number; onLoss?: () => void } = {}): TrainTask<Vec, number[]> {
  let evals = 0;
  return {
    name: 'scripted',
    *batches(epoch) {
      for (let i = 0; i < (opts.batchesPerEpoch ?? 4); i++) yield [3, 4 + epoch];
    },
    loss(model, x) {
      opts.onLoss?.();
      return { loss: model.w.mul(tensor(x, { dtype: 'float64' })).sum(), tokens: 10 };
    },
    evaluate() {
      const v = metrics[evals++];
      assert.ok(v !== undefined, 'evaluated more often than scripted');
      return { score: v, other: 0 };
    },
  };
}

function collect(): { events: TrainEvent[]; onEvent: (e: TrainEvent) => void } {
  const events: TrainEvent[] = [];
  return { events, onEvent: (e) => events.push(e) };
}

const sgd = (m: Vec) => new SGD(m.parameters(), { lr: 0.01 });

test('maxSteps: exactly that many steps, step events numbered from 1, an end event with the reason', async () => {
  const m = new Vec([1, 1]);
  const { events, onEvent } = collect();
  const r = await new Trainer(m, scriptedTask([]), { optimizer: sgd(m), schedule: null, maxSteps: 6, onEvent }).run();
  assert.deepEqual(r, { reason: 'maxSteps', step: 6, epoch: 1, best: null, elapsedSeconds: r.elapsedSeconds });
  assert.deepEqual(events.filter((e) => e.type === 'step').map((e) => e.step), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(events.filter((e) => e.type === 'epochEnd').map((e) => e.type === 'epochEnd' && e.epoch), [0]);
  assert.equal(events.at(-1)!.type, 'end');
});

test('maxEpochs: an epoch of 3 batches and maxEpochs 2 make 6 steps; epoch numbers follow the batches', async () => {
  const m = new Vec([1, 1]);
  const { events, onEvent } = collect();
  const r = await new Trainer(m, scriptedTask([], { batchesPerEpoch: 3 }), { optimizer: sgd(m), schedule: null, maxEpochs: 2, onEvent }).run();
  assert.equal(r.reason, 'maxEpochs');
  assert.equal(r.step, 6);
  assert.deepEqual(events.filter((e) => e.type === 'step').map((e) => e.type === 'step' && e.epoch), [0, 0, 0, 1, 1, 1]);
});

test('maxSeconds: with a clock that advances 1 s per loss, a 3.5 s budget allows 4 steps; ETA is the budget left', async () => {
  const m = new Vec([1, 1]);
  let now = 0;
  const { events, onEvent } = collect();
  const task = scriptedTask([], { onLoss: () => { now += 1000; } });
  const r = await new Trainer(m, task, { optimizer: sgd(m), schedule: null, maxSeconds: 3.5, clock: () => now, onEvent }).run();
  assert.equal(r.reason, 'maxSeconds');
  assert.equal(r.step, 4);
  assert.equal(r.elapsedSeconds, 4);
  const steps = events.filter((e) => e.type === 'step');
  assert.deepEqual(steps.map((e) => e.type === 'step' && e.etaSeconds), [2.5, 1.5, 0.5, 0]);
  assert.deepEqual(steps.map((e) => e.type === 'step' && e.tokensPerSecond), [10, 10, 10, 10]);
});

test('ETA with maxSteps: steps left × this run\'s seconds per step', async () => {
  const m = new Vec([1, 1]);
  let now = 0;
  const { events, onEvent } = collect();
  const task = scriptedTask([], { onLoss: () => { now += 2000; } });
  await new Trainer(m, task, { optimizer: sgd(m), schedule: null, maxSteps: 3, clock: () => now, onEvent }).run();
  assert.deepEqual(events.filter((e) => e.type === 'step').map((e) => e.type === 'step' && e.etaSeconds), [4, 2, 0]);
});

test('defaults: Adam with β = (0.9, 0.98), ε = 1e-9 and the Noam schedule of model.config.dModel', async () => {
  const model = tinyCopyModel();
  const { events, onEvent } = collect();
  const t = new Trainer(model, copyTask({ batch: 2, batchesPerEpoch: 5 }), { maxSteps: 3, warmup: 10, onEvent });
  assert.ok(t.optimizer instanceof Adam);
  assert.deepEqual((t.optimizer as Adam).betas, [0.9, 0.98]);
  assert.equal((t.optimizer as Adam).eps, 1e-9);
  await t.run();
  // lrate = d_model^-0.5 · min(step^-0.5, step · warmup^-1.5) with d_model 16, warmup 10: step/(4·10^1.5).
  const lrs = events.filter((e) => e.type === 'step').map((e) => e.type === 'step' && e.lr);
  [1, 2, 3].forEach((s, i) => assert.ok(Math.abs((lrs[i] as number) - s / (4 * 10 ** 1.5)) < 1e-15, `lr ${lrs[i]}`));
});

test('gradient norm and clipping: the gradient of w·x is x, |[3, 4]| = 5, clipped to 1 the SGD step is x/5', async () => {
  const m = new Vec([1, 1]);
  const { events, onEvent } = collect();
  const opt = new SGD(m.parameters(), { lr: 1 });
  await new Trainer(m, scriptedTask([]), { optimizer: opt, schedule: null, maxSteps: 1, clipGradNorm: 1, onEvent }).run();
  const step = events.find((e) => e.type === 'step')!;
  assert.equal(step.type === 'step' && step.gradNorm, 5);
  const w = [...m.w.toArray()];
  const scale = 1 / (5 + 1e-6); // torch's clip coefficient
  assert.ok(Math.abs(w[0] - (1 - 3 * scale)) < 1e-12 && Math.abs(w[1] - (1 - 4 * scale)) < 1e-12, `w ${w}`);
});

test('early stopping (min): patience 2 stops at the 6th evaluation of 5, 4, 4.5, 3, 3.5, 3.2; best is the 4th', async () => {
  const m = new Vec([1, 1]);
  const saves: [string, number][] = [];
  const { events, onEvent } = collect();
  const r = await new Trainer(m, scriptedTask([5, 4, 4.5, 3, 3.5, 3.2, 1, 1]), {
    optimizer: sgd(m), schedule: null, maxSteps: 100, evalEvery: 2, monitor: { metric: 'score', patience: 2 },
    save: (which, t) => { saves.push([which, t.stepCount]); }, onEvent,
  }).run();
  assert.equal(r.reason, 'earlyStop');
  assert.equal(r.step, 12);
  assert.deepEqual(r.best, { metric: 'score', value: 3, step: 8 });
  assert.deepEqual(events.filter((e) => e.type === 'eval').map((e) => e.type === 'eval' && e.improved), [true, true, false, true, false, false]);
  assert.deepEqual(events.filter((e) => e.type === 'earlyStop').map((e) => e.step), [12]);
  assert.deepEqual(saves, [['best', 2], ['best', 4], ['best', 8], ['last', 12]]);
  assert.deepEqual(events.filter((e) => e.type === 'checkpoint').map((e) => e.type === 'checkpoint' && `${e.which}@${e.step}`), ['best@2', 'best@4', 'best@8', 'last@12']);
});

test('evalAtEnd: a limit between evaluations adds one at the last step; none twice, none after early stopping or on a finished run', async () => {
  const evalSteps = async (extra: Partial<TrainerOptions<Vec, number[]>>, script: number[]) => {
    const m = new Vec([1, 1]);
    const { events, onEvent } = collect();
    const saves: string[] = [];
    const t = new Trainer(m, scriptedTask(script), {
      optimizer: sgd(m), schedule: null, evalEvery: 2, evalAtEnd: true, monitor: { metric: 'score', patience: 2 },
      save: (which, tr) => { saves.push(`${which}@${tr.stepCount}`); }, onEvent, ...extra,
    });
    const r = await t.run();
    const again = await t.run(); // a finished run: no step, so no evaluation
    assert.equal(again.step, r.step);
    return { r, saves, evals: events.filter((e) => e.type === 'eval').map((e) => e.step) };
  };
  const five = await evalSteps({ maxSteps: 5 }, [3, 2, 1]);
  assert.deepEqual(five.evals, [2, 4, 5]);
  assert.deepEqual(five.r.best, { metric: 'score', value: 1, step: 5 });
  assert.deepEqual(five.saves, ['best@2', 'best@4', 'best@5', 'last@5', 'last@5']);
  assert.deepEqual((await evalSteps({ maxSteps: 4 }, [3, 2])).evals, [2, 4]);
  const stopped = await evalSteps({ maxSteps: 100 }, [1, 2, 2]);
  assert.equal(stopped.r.reason, 'earlyStop');
  assert.deepEqual(stopped.evals, [2, 4, 6]);
  assert.throws(() => new Trainer(new Vec([1]), scriptedTask([]), { schedule: null, maxSteps: 3, evalAtEnd: true }), /evalAtEnd needs evalEvery/);
});

test('early stopping (max): higher is better; equal values do not count as improvement', async () => {
  const m = new Vec([1, 1]);
  const r = await new Trainer(m, scriptedTask([0.1, 0.3, 0.3, 0.2, 0.5, 0.4, 0.4, 0.4]), {
    optimizer: sgd(m), schedule: null, maxSteps: 100, evalEvery: 1, monitor: { metric: 'score', mode: 'max', patience: 3 },
  }).run();
  assert.equal(r.reason, 'earlyStop');
  assert.equal(r.step, 8);
  assert.deepEqual(r.best, { metric: 'score', value: 0.5, step: 5 });
});

test('keep-best keeps the right step: the best checkpoint holds the weights and state of the best evaluation', async () => {
  const model = tinyCopyModel();
  const weightsAt = new Map<number, Float32Array>();
  const saved = new Map<string, ReturnType<typeof readCheckpoint>>();
  // Scripted metric through a wrapper over the copy task: the 3rd of 5 evaluations is the best.
  const base = copyTask({ batch: 2, batchesPerEpoch: 4 });
  const script = [0.9, 0.7, 0.2, 0.5, 0.3];
  let k = 0;
  const task = { ...base, evaluate: () => ({ validLoss: script[k++] }) };
  await new Trainer(model, task, {
    maxSteps: 10, warmup: 4, evalEvery: 2, monitor: { metric: 'validLoss' },
    onEvent: (e) => { if (e.type === 'step') weightsAt.set(e.step, model.generator.weight.toArray() as Float32Array); },
    save: (which, t) => {
      const files = checkpointFiles({ modelKind: 'transformer', modelConfig: model.config, model, optimizer: t.optimizer, trainerState: t.state() });
      const bytes = new Map(Object.entries(files).map(([n, v]) => [n, typeof v === 'string' ? new TextEncoder().encode(v) : v]));
      saved.set(which, readCheckpoint(bytes, { kind: 'transformer' }));
    },
  }).run();
  const best = saved.get('best')!;
  assert.equal(best.trainerState!.step, 6);
  assert.deepEqual(best.trainerState!.best, { metric: 'validLoss', value: 0.2, step: 6 });
  assert.equal(best.optimizerState!.step, 6);
  assert.deepEqual(best.modelState.get('generator.weight')!.toArray(), weightsAt.get(6));
  assert.equal(saved.get('last')!.trainerState!.step, 10);
  assert.equal(saved.get('last')!.trainerState!.badEvals, 2);
});

test('determinism: the same seeds give bit-identical losses; another data seed gives others', async () => {
  const run = async (seed: number) => {
    const losses: number[] = [];
    await new Trainer(tinyCopyModel(), copyTask({ batch: 4, batchesPerEpoch: 3 }), {
      maxSteps: 5, warmup: 4, seed, onEvent: (e) => { if (e.type === 'step') losses.push(e.loss); },
    }).run();
    return losses;
  };
  const a = await run(1);
  assert.deepEqual(await run(1), a);
  assert.notDeepEqual(await run(2), a);
});

test('run() twice continues where the first call stopped, as one longer run does', async () => {
  const losses = (n: number[]) => (e: TrainEvent) => { if (e.type === 'step') n.push(e.loss); };
  const one: number[] = [];
  await new Trainer(tinyCopyModel(), copyTask({ batch: 4, batchesPerEpoch: 3 }), { maxSteps: 8, warmup: 4, onEvent: losses(one) }).run();
  const two: number[] = [];
  const opts: TrainerOptions = { maxSteps: 4, warmup: 4, onEvent: losses(two) };
  const t = new Trainer(tinyCopyModel(), copyTask({ batch: 4, batchesPerEpoch: 3 }), opts);
  await t.run();
  opts.maxSteps = 8;
  await t.run();
  assert.deepEqual(two, one);
});

test('option errors name the option and what was expected', () => {
  const m = new Vec([1, 1]);
  const task = scriptedTask([]);
  const mk = (o: TrainerOptions<Vec, number[]>) => () => new Trainer(m, task, { optimizer: sgd(m), schedule: null, ...o });
  assert.throws(mk({}), (e: Error) => e instanceof ArgumentError && /no limit given, expected at least one of maxSteps, maxEpochs and maxSeconds/.test(e.message));
  assert.throws(mk({ maxSteps: 0 }), /maxSteps is 0, expected an integer ≥ 1/);
  assert.throws(mk({ maxSteps: 5, monitor: { metric: 'score' } }), /monitor 'score' needs evalEvery/);
  assert.throws(mk({ maxSteps: 5, clipGradNorm: -1 }), /clipGradNorm is -1, expected a finite number > 0/);
  assert.throws(mk({ maxSteps: 5, saveEvery: 2 }), /saveEvery is 2 but no save hook is set/);
  assert.throws(() => new Trainer(m, task, { maxSteps: 5 }), /Vec has no config.dModel, so pass dModel or a schedule/);
  const noEval = { ...task, evaluate: undefined };
  assert.throws(() => new Trainer(m, noEval, { optimizer: sgd(m), schedule: null, maxSteps: 5, evalEvery: 1 }), /evalEvery is 1 but task 'scripted' has no evaluate/);
});

test('a monitored metric the task does not report is an error naming it and the metrics there are', async () => {
  const m = new Vec([1, 1]);
  const t = new Trainer(m, scriptedTask([1]), { optimizer: sgd(m), schedule: null, maxSteps: 5, evalEvery: 1, monitor: { metric: 'bleu' } });
  await assert.rejects(t.run(), /monitored metric 'bleu' is undefined at step 1, expected a number among the task's metrics \(score, other\)/);
});

test('a state that says more batches are done than the task gives is an error', async () => {
  const m = new Vec([1, 1]);
  const t = new Trainer(m, scriptedTask([], { batchesPerEpoch: 2 }), { optimizer: sgd(m), schedule: null, maxSteps: 5 });
  t.loadState({ ...t.state(), batchInEpoch: 3 });
  await assert.rejects(t.run(), /the state says 3 batches of epoch 0 are done, but task 'scripted' gives only 2/);
});

test('the data Rng is rewound to the epoch start on resume: batches drawn lazily come out the same', async () => {
  // A task whose batch i of an epoch is a draw from the Rng: resuming mid-epoch must redraw the same.
  const drawn: number[] = [];
  const task: TrainTask<Vec, number[]> = {
    name: 'draws',
    *batches(_e, rng: Rng) { for (let i = 0; i < 3; i++) yield [rng.uniform(), 1]; },
    loss(model, x) { drawn.push(x[0]); return { loss: model.w.mul(tensor(x, { dtype: 'float64' })).sum(), tokens: 1 }; },
  };
  const m = new Vec([1, 1]);
  await new Trainer(m, task, { optimizer: sgd(m), schedule: null, maxSteps: 5, seed: 9 }).run();
  const full = drawn.splice(0);
  const a = new Trainer(m, task, { optimizer: sgd(m), schedule: null, maxSteps: 2, seed: 9 });
  await a.run();
  const state = a.state();
  const b = new Trainer(m, task, { optimizer: sgd(m), schedule: null, maxSteps: 5, seed: 12345 });
  b.loadState(JSON.parse(JSON.stringify(state)));
  await b.run();
  assert.deepEqual(drawn, full);
});

test('progress given to the schedule: steps done / maxSteps, or seconds / maxSeconds when further along', async () => {
  const m = new Vec([1, 1]);
  const seen: (number | undefined)[] = [];
  const schedule = (_step: number, progress?: number) => { seen.push(progress); return 0.01; };
  await new Trainer(m, scriptedTask([]), { optimizer: sgd(m), schedule, maxSteps: 4 }).run();
  assert.deepEqual(seen, [0, 0.25, 0.5, 0.75]);
  // 1 s per loss, maxSeconds 5 with maxSteps 100: the clock is further along (0, 1, 2, 3, 4 of 5 s).
  seen.length = 0;
  let now = 0;
  const task = scriptedTask([], { onLoss: () => { now += 1000; } });
  await new Trainer(m, task, { optimizer: sgd(m), schedule, maxSteps: 100, maxSeconds: 5, clock: () => now }).run();
  assert.deepEqual(seen, [0, 0.2, 0.4, 0.6, 0.8]);
  seen.length = 0;
  await new Trainer(m, scriptedTask([]), { optimizer: sgd(m), schedule, maxEpochs: 1 }).run();
  assert.deepEqual(seen, [undefined, undefined, undefined, undefined]);
});
