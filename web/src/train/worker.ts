// The training worker: runs the copy task step by step off the page's thread, reporting losses and attention.

import { pageBackend } from '../backend.js';
import { CopyTaskRun } from './copy-task.js';
import type { FromWorker, ToWorker } from './protocol.js';

const scope = self as unknown as { postMessage(m: FromWorker): void; onmessage: ((e: MessageEvent<ToWorker>) => void) | null; location: Location };
const post = (m: FromWorker) => scope.postMessage(m);

let run: CopyTaskRun | null = null;
let running = false;
let paused = false;
let wake: (() => void) | null = null;
// The page passes its own choice (?backend=ref when it fell back or was asked to), so both threads agree.
const backendReady = pageBackend({ force: new URL(scope.location.href).searchParams.get('backend') === 'ref' ? 'ref' : null });

/** Lets queued messages (pause, checkpoint) in between steps. */
const yieldToMessages = () => new Promise<void>((ok) => setTimeout(ok, 0));

async function train(steps: number, seed: number, batch: number, evalEvery: number, stopAtPerfect: boolean): Promise<void> {
  const { backend } = await backendReady;
  const r = new CopyTaskRun({ steps, seed, batch }, backend);
  run = r;
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  post({ type: 'eval', step: 0, exactMatch: r.exactMatch(), seconds: seconds(), view: await r.view() });
  let last = 0;
  while (r.step < r.steps) {
    if (paused) {
      post({ type: 'paused', step: r.step });
      await new Promise<void>((ok) => { wake = ok; });
    }
    const s0 = performance.now();
    const loss = r.trainStep();
    post({ type: 'progress', step: r.step, steps: r.steps, loss, stepMs: performance.now() - s0 });
    if (r.step % evalEvery === 0 || r.step === r.steps) {
      last = r.exactMatch();
      post({ type: 'eval', step: r.step, exactMatch: last, seconds: seconds(), view: await r.view() });
      if (stopAtPerfect && last === 1) break;
    }
    await yieldToMessages();
  }
  post({ type: 'done', step: r.step, exactMatch: last, seconds: seconds(), perfect: last === 1 });
}

scope.onmessage = (e) => {
  const m = e.data;
  try {
    if (m.type === 'start') {
      if (running) throw new Error('a run is going: pause it, or wait for it to end');
      paused = false;
      running = true;
      train(m.steps, m.seed, m.batch, m.evalEvery, m.stopAtPerfect)
        .catch((err: Error) => post({ type: 'error', message: err.message }))
        .finally(() => { running = false; });
    } else if (m.type === 'pause') {
      paused = true;
    } else if (m.type === 'resume') {
      paused = false;
      wake?.();
      wake = null;
    } else if (m.type === 'checkpoint') {
      if (!run) throw new Error('no training run yet: start one first');
      post({ type: 'checkpoint', step: run.step, files: run.files() });
    }
  } catch (err) {
    post({ type: 'error', message: (err as Error).message });
  }
};

backendReady.then(({ name, note }) => post({ type: 'ready', backend: name, note }));
