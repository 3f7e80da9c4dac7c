// Trainer output: the JSONL log (one parseable line per event) and the progress bar (off when not a terminal).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Module, SGD, Trainer, fanOut, tensor } from '../../src/index.js';
import type { Tensor, TrainEvent, TrainTask } from '../../src/index.js';
import { jsonlLog } from '../../src/node/jsonl-log.js';
import { formatSeconds, progressBar } from '../../src/node/progress.js';

class Vec extends Module {
  readonly w: Tensor = this.addParameter('w', tensor([1, 1], { dtype: 'float64' }));
}

const task: TrainTask<Vec, number[]> = {
  name: 'toy',
  *batches() { for (let i = 0; i < 3; i++) yield [3, 4]; },
  loss: (m, x) => ({ loss: m.w.mul(tensor(x, { dtype: 'float64' })).sum(), tokens: 7 }),
  evaluate: () => ({ score: 1 }),
};

async function train(onEvent: (e: TrainEvent) => void): Promise<TrainEvent[]> {
  const m = new Vec();
  const events: TrainEvent[] = [];
  await new Trainer(m, task, { optimizer: new SGD(m.parameters(), { lr: 0.1 }), schedule: null, maxSteps: 4, evalEvery: 2, onEvent: fanOut((e) => events.push(e), onEvent) }).run();
  return events;
}

/** A stream that pretends to be a terminal (or not) and keeps what is written. */
function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text: () => string } {
  const chunks: string[] = [];
  const s = new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } }) as unknown as NodeJS.WriteStream & { text: () => string };
  Object.assign(s, { isTTY, columns: 200, text: () => chunks.join('') });
  return s;
}

test('jsonlLog: one JSON line per event, in order, with a timestamp; appends across opens', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qkv-log-'));
  try {
    const path = join(dir, 'sub', 'train.jsonl');
    const log = jsonlLog(path);
    const events = await train(log.onEvent);
    log.close();
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, events.length);
    assert.deepEqual(lines.map((l) => l.type), events.map((e) => e.type));
    const steps = events.flatMap((e) => (e.type === 'step' ? [[e.step, e.loss, e.lr, e.gradNorm]] : []));
    assert.deepEqual(lines.filter((l) => l.type === 'step').map((l) => [l.step, l.loss, l.lr, l.gradNorm]), steps);
    assert.ok(lines.every((l) => !Number.isNaN(Date.parse(l.time))));
    assert.deepEqual(lines.find((l) => l.type === 'eval').metrics, { score: 1 });
    const again = jsonlLog(path);
    again.write({ type: 'note' });
    again.close();
    assert.equal(readFileSync(path, 'utf8').trimEnd().split('\n').length, events.length + 1);
    assert.throws(() => again.write({}), /is closed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the losses of the toy task: w·x falls by 0.1·|x|² = 2.5 per SGD step: 7, 4.5, 2, −0.5', async () => {
  // w·x with x = [3, 4]: the gradient is x, so each step lowers w·x by 0.1·|x|² = 2.5.
  const events = await train(() => undefined);
  const losses = events.flatMap((e) => (e.type === 'step' ? [e.loss] : []));
  [7, 4.5, 2, -0.5].forEach((want, i) => assert.ok(Math.abs(losses[i] - want) < 1e-12, `loss ${i}: ${losses[i]}`));
});

test('progressBar: silent when the stream is not a terminal', async () => {
  const s = fakeStream(false);
  await train(progressBar({ stream: s }).onEvent);
  assert.equal(s.text(), '');
});

test('progressBar: on a terminal it shows step/total, loss, tokens/s, lr, ETA and the last evaluation', async () => {
  const s = fakeStream(true);
  await train(progressBar({ stream: s }).onEvent);
  const out = s.text();
  assert.match(out, /4\/4 \| loss -0\.5000 \| \d+ tok\/s \| lr 1\.00e-1 \| ETA \d+s \| score 1/);
});

test('formatSeconds', () => {
  assert.equal(formatSeconds(9.4), '9s');
  assert.equal(formatSeconds(75), '1m15s');
  assert.equal(formatSeconds(3725), '1h02m');
  assert.equal(formatSeconds(undefined), '?');
});
