// Data parallelism in worker threads: a G2P run whose steps take two batches, one computed in a worker,
// matches the same run with the second batch computed on the calling thread (itself checked against
// one graph over both batches in test/train/replicas.test.ts); a worker's failures reach the caller.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SGD, Trainer, tensor } from '../../src/index.js';
import type { TrainTask } from '../../src/index.js';
import { installDefaultBackend } from '../../src/node/backend-select.js';
import { startWorkerReplicas } from '../../src/node/data-parallel.js';
import { g2pConfig, g2pModel, g2pTask } from '../../src/train/tasks/index.js';
import { InThreadReplica } from '../helpers/in-thread-replica.js';

const backend = installDefaultBackend() as { threads?: () => number };

test('worker-thread replica: 4 G2P steps of two batches each equal the same steps with the replica on this thread', async () => {
  const config = g2pConfig('tiny', { maxSteps: 4, workers: 2, model: { dropout: 0 } }); // dropout masks differ by replica
  const runs = [await g2pTask(config), await g2pTask(config)];
  const twin = g2pModel(config, runs[1].tokenizer.vocabSize, runs[1].targetTokenizer!.vocabSize);
  const threads = backend.threads?.();
  const workers = await startWorkerReplicas(config, runs[0].model, 1);
  assert.equal(backend.threads?.(), threads, 'the workers leave the main thread its kernel threads');
  const losses: number[][] = [[], []];
  try {
    for (const [i, replicas] of [workers, new InThreadReplica(twin, runs[1].task as TrainTask<never, unknown>)].entries()) {
      const { evalEvery, evalAtEnd, monitor, ...opts } = runs[i].trainer;
      // SGD, not Adam: Adam turns the rounding noise of a zero gradient (the keys' bias) into steps of size lr.
      await new Trainer(runs[i].model, runs[i].task, {
        ...opts, optimizer: new SGD(runs[i].model.parameters(), { lr: 0.5 }), schedule: null, replicas, onEvent: (e) => { if (e.type === 'step') losses[i].push(e.loss); },
      }).run();
    }
  } finally {
    await workers.close();
  }
  assert.equal(backend.threads?.(), threads, 'evaluation between steps gets the kernel threads back');
  assert.equal(losses[0].length, 4);
  losses[0].forEach((l, s) => assert.ok(Math.abs(l - losses[1][s]) < 1e-5, `step ${s + 1}: loss ${l} with a worker vs ${losses[1][s]} on this thread`));
  const ref = runs[1].model.parameters();
  runs[0].model.parameters().forEach((p, j) => {
    const a = p.toArray(), b = ref[j].toArray();
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    assert.ok(worst < 1e-5, `parameter ${j}: differs by ${worst}`);
  });
});

test('worker-thread replica: a batch its task cannot take fails the step with the worker\'s message; a model of other shapes fails the start', async () => {
  const config = g2pConfig('tiny');
  const run = await g2pTask(config);
  const workers = await startWorkerReplicas(config, run.model, 1);
  try {
    workers.start([{ src: tensor([1]) }], run.model.parameters(), 0);
    assert.throws(() => workers.finish(), /data-parallel worker 1: /);
    assert.throws(() => workers.start([], run.model.parameters().slice(1), 0), /parameters, expected/);
  } finally {
    await workers.close();
  }
  const other = g2pModel(g2pConfig('tiny', { model: { dFF: 48 } }), run.tokenizer.vocabSize, run.targetTokenizer!.vocabSize);
  await assert.rejects(startWorkerReplicas(config, other, 1), /parameter sizes/);
});
