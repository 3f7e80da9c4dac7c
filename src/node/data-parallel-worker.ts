// A data-parallel replica (started by data-parallel.ts): builds the task's model once, then for each
// batch it is sent takes the shared parameters, computes the batch's loss and gradients with one
// kernel thread, writes them to its shared buffers and wakes the main thread.

import { parentPort, workerData } from 'node:worker_threads';
import { Rng } from '../core/rng.js';
import { withStorageScope } from '../tensor/scope.js';
import { tokenizerFromJSON } from '../tokenizers/json.js';
import { unpackBatch } from '../train/replicas.js';
import { buildTaskRun } from '../train/tasks/index.js';
import { installDefaultBackend } from './backend-select.js';
import { ERROR_BYTES, STATUS_DONE, STATUS_FAILED, sharedTensors } from './data-parallel.js';
import type { ReplicaInit } from './data-parallel.js';

const init = workerData as ReplicaInit;
const port = parentPort!;
const control = new Int32Array(init.control);
const result = new Float64Array(init.result);
const error = new Uint8Array(init.error);

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

try {
  const backend = installDefaultBackend({ threads: 1 });
  const r = init.reuse;
  const tokenizer = r ? tokenizerFromJSON(r.tokenizer, 'the main thread\'s tokenizer') : null;
  const run = await buildTaskRun(init.config, r && tokenizer ? {
    tokenizer, targetTokenizer: r.targetTokenizer ? tokenizerFromJSON(r.targetTokenizer, 'the main thread\'s target tokenizer') : tokenizer, modelConfig: r.modelConfig,
  } : undefined);
  const model = run.model;
  const own = model.parameters();
  const sizes = own.map((p) => p.size);
  if (sizes.length !== init.sizes.length || sizes.some((n, j) => n !== init.sizes[j])) {
    throw new Error(`its model's parameter sizes (${sizes.length} parameters, ${sizes.reduce((a, b) => a + b, 0)} values) differ from the trainer's (${init.sizes.length}, ${init.sizes.reduce((a, b) => a + b, 0)}): was the checkpoint trained with other tokenizers?`);
  }
  const params = sharedTensors(init.params, own);
  const grads = sharedTensors(init.grads, own);
  model.train();
  const rngNames = Object.keys(model.rngStates());
  port.on('message', (m: { type: string; step: number; batch: unknown }) => {
    if (m.type !== 'step') return;
    try {
      own.forEach((p, j) => p.assign(params[j]));
      // Dropout seeded by (seed, step, replica): the same masks whatever ran before (resume-safe).
      const seed = (init.config.seed * 1_000_003 + m.step * 64 + init.index) >>> 0;
      if (rngNames.length) model.setRngStates(Object.fromEntries(rngNames.map((n, k) => [n, new Rng(seed + 7919 * k).getState()])));
      const batch = unpackBatch(m.batch);
      withStorageScope(backend, () => {
        const { loss, tokens } = run.task.loss(model, batch);
        for (const p of own) p.grad = null;
        loss.backward();
        result[0] = loss.item();
        result[1] = tokens;
        own.forEach((p, j) => {
          Atomics.store(control, 1 + j, p.grad ? 1 : 0);
          if (p.grad) grads[j].assign(p.grad);
        });
        for (const p of own) p.grad = null;
      }, () => own);
      Atomics.store(control, 0, STATUS_DONE);
    } catch (e) {
      fail(e);
    }
    Atomics.notify(control, 0);
  });
  port.postMessage({ type: 'ready' });
} catch (e) {
  port.postMessage({ type: 'error', message: message(e) });
}

function fail(e: unknown): void {
  error.fill(0);
  const bytes = new TextEncoder().encode(message(e));
  error.set(bytes.subarray(0, ERROR_BYTES - 1));
  Atomics.store(control, 0, STATUS_FAILED);
}
