// Checkpoint averaging: averageStates against hand arithmetic, its refusals, and keep-best's metric choice.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { averageStates } from '../../src/train/average.js';
import { MAX_METRICS, monitorOf } from '../../src/train/tasks/config.js';
import { g2pConfig, translateConfig } from '../../src/train/tasks/index.js';
import { trainerOptions } from '../../src/train/tasks/config.js';
import { tensor } from '../../src/tensor/create.js';

const st = (entries: [string, number[] | Int32Array, number[]][]) =>
  new Map(entries.map(([name, data, shape]) => [name, tensor(data instanceof Int32Array ? data : new Float32Array(data), { shape })]));

test('averageStates: each float element is the mean of the inputs (in double, rounded once), integer tensors are kept', () => {
  const a = st([['w', [1, 2, 0.1, -4], [2, 2]], ['pos', new Int32Array([0, 1, 2]), [3]]]);
  const b = st([['w', [3, 6, 0.2, 4], [2, 2]], ['pos', new Int32Array([0, 1, 2]), [3]]]);
  const c = st([['w', [5, 10, 0.3, 1e-3], [2, 2]], ['pos', new Int32Array([0, 1, 2]), [3]]]);
  const mean = averageStates([{ source: 'a', state: a }, { source: 'b', state: b }, { source: 'c', state: c }]);
  const w = mean.get('w')!;
  assert.deepEqual(w.shape, [2, 2]);
  const f = Math.fround;
  assert.deepEqual([...w.toArray()], [3, 6, f((f(0.1) + f(0.2) + f(0.3)) / 3), f((f(-4) + f(4) + f(1e-3)) / 3)]);
  assert.deepEqual([...mean.get('pos')!.toArray()], [0, 1, 2]);
  assert.equal(mean.get('pos')!.dtype, 'int32');
});

test('averageStates refuses states of different models, naming the tensor and both sources', () => {
  const a = st([['w', [1, 2], [2]], ['b', [0], [1]]]);
  assert.throws(() => averageStates([]), /no checkpoints given/);
  assert.throws(() => averageStates([{ source: 'a', state: a }, { source: 'b', state: st([['w', [1, 2], [2]]]) }]), /b: lacks 'b'; expected the same tensors as a/);
  assert.throws(() => averageStates([{ source: 'a', state: a }, { source: 'c', state: st([['w', [1, 2], [1, 2]], ['b', [0], [1]]]) }]), /c: tensor 'w' is float32 \[1, 2\], expected float32 \[2\] as in a/);
  const i1 = st([['n', new Int32Array([3]), [1]]]);
  const i2 = st([['n', new Int32Array([4]), [1]]]);
  assert.throws(() => averageStates([{ source: 'x', state: i1 }, { source: 'y', state: i2 }]), /y: integer tensor 'n' differs from x at element 0 \(4 vs 3\)/);
});

test("keep-best: G2P watches wer (lower), translation bleu (higher); a config's monitor overrides, its mode from MAX_METRICS", () => {
  const g = g2pConfig('tiny');
  assert.equal(g.monitor, null);
  assert.equal(g.keepCheckpoints, 0);
  assert.deepEqual(monitorOf(g, { metric: 'wer', mode: 'min' }), { metric: 'wer', mode: 'min' });
  assert.deepEqual(monitorOf({ monitor: 'chrf' }, { metric: 'wer', mode: 'min' }), { metric: 'chrf', mode: 'max' });
  assert.deepEqual(monitorOf({ monitor: 'validLoss' }, { metric: 'bleu', mode: 'max' }), { metric: 'validLoss', mode: 'min' });
  assert.ok(MAX_METRICS.includes('bleu') && !(MAX_METRICS as readonly string[]).includes('wer'));
  const t = translateConfig('tiny', { monitor: 'chrf' });
  assert.equal(trainerOptions(t, 32).monitor?.metric, 'chrf');
  assert.equal(trainerOptions(t, 32).monitor?.mode, 'max');
  assert.throws(() => g2pConfig('tiny', { keepCheckpoints: -1 }), /keepCheckpoints/);
});
