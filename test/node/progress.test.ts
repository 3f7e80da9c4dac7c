// The progress bar's position: steps or time, whichever limit is further along, and the label it shows.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { barProgress, progressBar } from '../../src/node/progress.js';
import type { StepEvent } from '../../src/train/events.js';

test('barProgress: steps only: the share of maxSteps, labelled step/total', () => {
  assert.deepEqual(barProgress({ step: 1200, elapsedSeconds: 9, maxSteps: 5000 }), { share: 0.24, label: 'step 1,200/5,000' });
});

test('barProgress: a time limit further along than the steps leads: 90 s of 180 s is half, whatever 50 of 100,000 steps say', () => {
  assert.deepEqual(barProgress({ step: 50, elapsedSeconds: 90, maxSteps: 100_000, maxSeconds: 180 }), { share: 0.5, label: '1m30s/3m00s (step 50)' });
  assert.deepEqual(barProgress({ step: 7, elapsedSeconds: 45, maxSeconds: 60 }), { share: 0.75, label: '45s/1m00s (step 7)' });
});

test('barProgress: steps further along than the clock lead: 900 of 1,000 steps after 10 s of 180 s', () => {
  assert.deepEqual(barProgress({ step: 900, elapsedSeconds: 10, maxSteps: 1000, maxSeconds: 180 }), { share: 0.9, label: 'step 900/1,000' });
});

test('barProgress: past a limit the share stays 1; with no limit there is no share, only the step', () => {
  assert.equal(barProgress({ step: 3, elapsedSeconds: 200, maxSteps: 100_000, maxSeconds: 180 }).share, 1);
  assert.equal(barProgress({ step: 12, elapsedSeconds: 1, maxSteps: 10 }).share, 1);
  assert.deepEqual(barProgress({ step: 7, elapsedSeconds: 3 }), { label: 'step 7' });
});

function step(s: Partial<StepEvent>): StepEvent {
  return { type: 'step', step: 1, epoch: 0, loss: 2, lr: 1e-3, tokens: 100, tokensPerSecond: 1000, gradNorm: 1, elapsedSeconds: 0, ...s };
}

test('progressBar under a time limit: the bar is half full at half the time, though 50 of 100,000 steps is nothing', () => {
  const chunks: string[] = [];
  const s = new Writable({ write(c, _e, cb) { chunks.push(String(c)); cb(); } }) as unknown as NodeJS.WriteStream;
  Object.assign(s, { isTTY: true, columns: 200 });
  const bar = progressBar({ stream: s });
  bar.onEvent(step({ step: 50, elapsedSeconds: 90, maxSteps: 100_000, maxSeconds: 180, etaSeconds: 90 }));
  bar.stop();
  const out = chunks.join('');
  // shades_classic: 24 cells, full '█' and empty '░'.
  assert.match(out, /(?<!█)█{12}░{12} 1m30s\/3m00s \(step 50\) \| loss 2\.0000/);
});
