// Resume equivalence: 2N steps in one go vs N steps, a checkpoint on disk, and N more steps in
// fresh objects (model, optimizer, trainer, task) must give bit-identical losses and weights.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Adam, PAPER_ADAM, Rng, Trainer } from '../../src/index.js';
import type { TrainEvent, TrainerOptions, Transformer } from '../../src/index.js';
import { checkpointSaver, loadCheckpoint } from '../../src/node/checkpoint.js';
import { copyTask, tinyCopyModel } from './copy-task.js';
import type { CopyTaskOptions } from './copy-task.js';

const N = 7; // with 3 batches per epoch, the checkpoint falls in the middle of epoch 2
const TASK: CopyTaskOptions = { batch: 6, batchesPerEpoch: 3, labelSmoothing: 0.1 };

function options(maxSteps: number, events: TrainEvent[]): TrainerOptions<Transformer, number[][]> {
  return {
    maxSteps, warmup: 5, clipGradNorm: 1, seed: 17, evalEvery: 4, monitor: { metric: 'exactMatch', mode: 'max' },
    onEvent: (e) => events.push(e),
  };
}

const stepLosses = (events: TrainEvent[]) => events.flatMap((e) => (e.type === 'step' ? [[e.step, e.loss, e.gradNorm, e.lr]] : []));

test('resume: N steps + checkpoint + N steps in fresh objects = 2N steps uninterrupted, bit for bit', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'qkv-resume-'));
  try {
    // Uninterrupted.
    const whole: TrainEvent[] = [];
    const a = new Trainer(tinyCopyModel(), copyTask(TASK), options(2 * N, whole));
    await a.run();

    // Interrupted: N steps, saved to disk.
    const first: TrainEvent[] = [];
    const m1 = tinyCopyModel();
    const b = new Trainer(m1, copyTask(TASK), { ...options(N, first), save: checkpointSaver(dir, { modelKind: 'transformer', modelConfig: m1.config }) });
    await b.run();
    assert.deepEqual(stepLosses(first), stepLosses(whole).slice(0, N));

    // Fresh objects, built only from what the checkpoint holds.
    const ck = await loadCheckpoint<Transformer>(join(dir, 'last'), { kind: 'transformer' });
    assert.equal(ck.trainerState!.step, N);
    assert.equal(ck.trainerState!.epoch, 2);
    assert.equal(ck.trainerState!.batchInEpoch, 1);
    const second: TrainEvent[] = [];
    const optimizer = new Adam(ck.model.parameters(), { lr: 0, ...PAPER_ADAM });
    const c = new Trainer(ck.model, copyTask(ck.config.task!.options as unknown as CopyTaskOptions), { ...options(2 * N, second), optimizer });
    c.restore(ck);
    await c.run();

    assert.deepEqual(stepLosses(second), stepLosses(whole).slice(N), 'steps N+1..2N: loss, grad norm and lr');
    const evals = (ev: TrainEvent[], after = 0) => ev.flatMap((e) => (e.type === 'eval' && e.step > after ? [[e.step, e.metrics, e.best]] : []));
    assert.deepEqual(evals(second), evals(whole, N));
    const wa = a.model.stateDict();
    for (const [name, t] of c.model.stateDict()) assert.deepEqual(t.toArray(), wa.get(name)!.toArray(), name);
    assert.deepEqual(c.model.rngStates(), a.model.rngStates());
    assert.deepEqual(c.state().dataRng, a.state().dataRng);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('resume has teeth: the same checkpoint with the dropout Rng not restored gives a different step N+1', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'qkv-resume-'));
  try {
    const m1 = tinyCopyModel();
    await new Trainer(m1, copyTask(TASK), { ...options(N, []), save: checkpointSaver(dir, { modelKind: 'transformer', modelConfig: m1.config }) }).run();
    const run = async (scramble: boolean) => {
      const ck = await loadCheckpoint<Transformer>(join(dir, 'last'), { kind: 'transformer' });
      const events: TrainEvent[] = [];
      const t = new Trainer(ck.model, copyTask(TASK), options(N + 1, events));
      t.restore(ck);
      if (scramble) for (const [, rng] of ck.model.namedRngs()) rng.setState(new Rng(99).getState());
      await t.run();
      return stepLosses(events)[0][1];
    };
    assert.notEqual(await run(true), await run(false));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
