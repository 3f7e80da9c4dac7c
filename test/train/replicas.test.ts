// Data parallelism's seam: token-weighted gradient averaging (hand-computed values), batches packed for
// another thread, and a Trainer whose steps take two batches (one on an in-thread replica) against the
// same steps done by hand as one graph over both batches.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Adam, PAPER_ADAM, Rng, Trainer, Transformer, clipGradNorm, tensor } from '../../src/index.js';
import type { Tensor, TrainTask } from '../../src/index.js';
import { averageGradients, packBatch, unpackBatch } from '../../src/train/replicas.js';
import type { ReplicaResult } from '../../src/train/replicas.js';
import { InThreadReplica } from '../helpers/in-thread-replica.js';
import { COPY_VOCAB } from '../../examples/copy-task.js';
import { copyTask } from './copy-task.js';

function param(values: number[], grad: number[] | null): Tensor {
  const p = tensor(values).requireGrad();
  p.grad = grad ? tensor(grad) : null;
  return p;
}

test('averageGradients: Σ tokensᵢ·gᵢ / Σ tokensᵢ per parameter, missing gradients count as zero; returns the mean loss', () => {
  const a = param([0, 0], [1, 2]);
  const b = param([0], null);
  const c = param([0], [4]);
  const results: ReplicaResult[] = [
    { loss: 3, tokens: 3, grads: [tensor([3, 6]), tensor([8]), null] },
  ];
  const { loss, tokens } = averageGradients([a, b, c], { loss: 1, tokens: 1 }, results);
  assert.equal(loss, (1 * 1 + 3 * 3) / 4);
  assert.equal(tokens, 4);
  assert.deepEqual(Array.from(a.grad!.toArray()), [(1 * 1 + 3 * 3) / 4, (1 * 2 + 3 * 6) / 4]);
  assert.deepEqual(Array.from(b.grad!.toArray()), [(3 * 8) / 4]);
  assert.deepEqual(Array.from(c.grad!.toArray()), [(1 * 4) / 4]);
  const none = param([0], null);
  averageGradients([none], { loss: 1, tokens: 1 }, [{ loss: 1, tokens: 1, grads: [null] }]);
  assert.equal(none.grad, null);
});

test('averageGradients: a replica with the wrong number or size of gradients, or no tokens at all, is an error naming it', () => {
  const a = param([0, 0], [1, 2]);
  assert.throws(() => averageGradients([a], { loss: 1, tokens: 1 }, [{ loss: 1, tokens: 1, grads: [] }]), /gave 0 gradients, expected 1/);
  assert.throws(() => averageGradients([a], { loss: 1, tokens: 1 }, [{ loss: 1, tokens: 1, grads: [tensor([1, 2, 3])] }]), /parameter 0 has 3 values, expected 2/);
  assert.throws(() => averageGradients([a], { loss: 1, tokens: 0 }, []), /hold 0 tokens/);
});

test('packBatch / unpackBatch: tensors at any depth come back with their shapes, dtypes and values; other objects are refused', () => {
  const batch = {
    src: tensor([1, 2, 3, 4, 5, 6], { dtype: 'int32', shape: [2, 3] }),
    mask: tensor([0, 1, 0.5], { shape: [1, 3] }),
    nested: [tensor([7], { dtype: 'int32' }), { n: 4, s: 'x' }],
    indices: [3, 1],
    tokens: 5,
  };
  const packed = packBatch(batch);
  const copy = unpackBatch(structuredClone(packed)) as typeof batch;
  assert.deepEqual(copy.src.shape, [2, 3]);
  assert.equal(copy.src.dtype, 'int32');
  assert.deepEqual(copy.src.toList(), [[1, 2, 3], [4, 5, 6]]);
  assert.equal(copy.mask.dtype, 'float32');
  assert.deepEqual(copy.mask.toList(), [[0, 1, 0.5]]);
  assert.deepEqual((copy.nested[0] as Tensor).toList(), [7]);
  assert.deepEqual(copy.nested[1], { n: 4, s: 'x' });
  assert.deepEqual(copy.indices, [3, 1]);
  assert.equal(copy.tokens, 5);
  assert.throws(() => packBatch({ when: new Date(0) }), /got a Date/);
});

const model = () => new Transformer({ srcVocab: COPY_VOCAB, tgtVocab: COPY_VOCAB, dModel: 16, heads: 2, dFF: 32, encoderLayers: 1, decoderLayers: 1, dropout: 0, seed: 5 });

test('Trainer with a replica: each step trains on two batches (one at an epoch\'s end) exactly as one graph over both, weighted by tokens', async () => {
  const task = copyTask({ batch: 4, batchesPerEpoch: 3, labelSmoothing: 0.1 });
  const lr = 3e-3;
  const trained = model();
  const steps: [number, number][] = [];
  const trainer = new Trainer(trained, task, {
    maxSteps: 4, schedule: () => lr, clipGradNorm: 0.5, seed: 9,
    replicas: new InThreadReplica(model(), task as TrainTask<never, number[][]>),
    onEvent: (e) => { if (e.type === 'step') steps.push([e.loss, e.tokens]); },
  });
  const result = await trainer.run();
  assert.equal(result.epoch, 1); // 3 batches per epoch, 2 per step: steps of 2, 1, 2, 1 batches
  assert.equal(trainer.state().batchInEpoch, 3);

  // By hand: the same batch stream, grouped 2, 1 | 2, 1, the token-weighted mean loss of each group in one graph.
  const ref = model();
  const opt = new Adam(ref.parameters(), { lr, ...PAPER_ADAM });
  const rng = new Rng(9);
  const groups: number[][][][] = [];
  for (let epoch = 0; epoch < 2; epoch++) {
    const all = [...task.batches(epoch, rng)];
    groups.push(all.slice(0, 2), all.slice(2));
  }
  groups.forEach((group, i) => {
    const parts = group.map((b) => task.loss(ref, b));
    const tokens = parts.reduce((n, p) => n + p.tokens, 0);
    const loss = parts.map((p) => p.loss.mul(p.tokens / tokens)).reduce((x, y) => x.add(y));
    opt.zeroGrad();
    loss.backward();
    clipGradNorm(ref.parameters(), 0.5);
    opt.step();
    assert.ok(Math.abs(loss.item() - steps[i][0]) < 1e-5, `step ${i + 1}: loss ${steps[i][0]} vs ${loss.item()} by hand`);
    assert.equal(steps[i][1], tokens);
  });
  const got = trained.parameters();
  ref.parameters().forEach((p, j) => {
    const a = got[j].toArray(), b = p.toArray();
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5, `parameter ${j}[${i}]: ${a[i]} vs ${b[i]} by hand`);
  });
});

test('Trainer with a replica resumes exactly: 2 steps, state saved, 3 more steps in fresh objects = 5 steps in one go', async () => {
  const task = copyTask({ batch: 4, batchesPerEpoch: 3, labelSmoothing: 0.1 });
  const opts = (maxSteps: number, losses: number[]) => ({
    maxSteps, schedule: () => 2e-3, clipGradNorm: 1, seed: 4,
    onEvent: (e: { type: string; loss?: number }) => { if (e.type === 'step') losses.push(e.loss!); },
  });
  const replica = () => new InThreadReplica(model(), task as TrainTask<never, number[][]>);
  const whole: number[] = [];
  const a = model();
  await new Trainer(a, task, { ...opts(5, whole), replicas: replica() }).run();

  const split: number[] = [];
  const b = model();
  const first = new Trainer(b, task, { ...opts(2, split), replicas: replica() });
  await first.run();
  const c = model();
  c.loadStateDict(b.stateDict());
  const second = new Trainer(c, task, { ...opts(5, split), replicas: replica() });
  second.optimizer.loadStateDict(first.optimizer.stateDict());
  second.loadState(first.state());
  await second.run();
  assert.deepEqual(split, whole);
  const got = c.parameters();
  a.parameters().forEach((p, j) => assert.deepEqual(Array.from(got[j].toArray()), Array.from(p.toArray()), `parameter ${j}`));
});
