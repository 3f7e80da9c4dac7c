// Training in the page: the copy task in a Web Worker, a live loss curve, the fixed input's attention redrawn as it learns.

import { loadPretrained } from './qkv.js';
import type { AttentionView, Backend, Pretrained } from './qkv.js';
import { tarFolder } from './tar.js';
import type { FromWorker, ToWorker } from './train/protocol.js';
import { drawHeatmap, headMatrix } from './views/heatmap.js';
import { drawLossChart } from './views/loss-chart.js';

/** What the training panel holds, for the page's test hooks. */
export interface TrainState {
  running: boolean;
  paused: boolean;
  /** The step the worker stopped at when it paused (null while it runs). */
  pausedAt: number | null;
  done: boolean;
  step: number;
  steps: number;
  losses: { step: number; loss: number }[];
  exactMatch: { step: number; value: number }[];
  seconds: number | null;
  /** The first evaluation at 100% exact match (the run stops there when "stop at 100%" is ticked), or null. */
  perfect: { step: number; seconds: number } | null;
  views: number;
  error: string | null;
  /** The backend the worker trains on, once it said ('wasm' or 'ref'). */
  backend: string | null;
}

const $ = <T extends HTMLElement>(root: ParentNode, sel: string) => root.querySelector(sel) as T;

/**
 * Wires the training section: Start / Pause / Resume / Download / Use in the page. `use` receives
 * the trained model as a loaded checkpoint.
 */
export function trainPanel(root: HTMLElement, backend: Backend, backendName: string, use: (p: Pretrained) => void): TrainState {
  const state: TrainState = {
    running: false, paused: false, pausedAt: null, done: false, step: 0, steps: 0, losses: [], exactMatch: [], seconds: null, perfect: null, views: 0, error: null, backend: null,
  };
  // The worker runs on what the page runs on: told ref when the page fell back (it has no say of its own in the SIMD test).
  const worker = new Worker(new URL(backendName === 'ref' ? './worker.js?backend=ref' : './worker.js', import.meta.url), { type: 'module' });
  const send = (m: ToWorker) => worker.postMessage(m);
  const status = $<HTMLElement>(root, '.train-status');
  const exact = $<HTMLElement>(root, '.exact-match');
  const chart = root.querySelector('svg.loss') as SVGSVGElement;
  const attention = $<HTMLElement>(root, '.train-attention');
  const start = $<HTMLButtonElement>(root, 'button.start');
  const pause = $<HTMLButtonElement>(root, 'button.pause');
  const download = $<HTMLButtonElement>(root, 'button.download');
  const useButton = $<HTMLButtonElement>(root, 'button.use');
  let wantFiles: ((files: Record<string, Uint8Array | string>, step: number) => void) | null = null;
  let drawPending = false;

  const buttons = () => {
    start.disabled = state.running;
    pause.disabled = !state.running;
    pause.textContent = state.paused ? 'Resume' : 'Pause';
    download.disabled = state.step === 0;
    useButton.disabled = state.step === 0;
  };
  const say = () => {
    const em = state.exactMatch.at(-1);
    const loss = state.losses.at(-1);
    const on = state.backend ? ` on ${state.backend}` : '';
    if (!state.running && !state.done && state.steps === 0) {
      status.textContent = `Not started. Press Start: it trains here, in a Web Worker${on}.`;
    } else if (state.perfect && state.done) {
      status.textContent = `100% exact match on the 128 held-out sequences at step ${state.perfect.step}, after ${state.perfect.seconds.toFixed(1)} s${on}: the model copies.` +
        (state.step === state.perfect.step ? ' Stopped there.' : ` Ran on to step ${state.step} (${state.seconds!.toFixed(1)} s).`);
    } else {
      status.textContent = `step ${state.step} / ${state.steps}${on}` + (loss ? `, loss ${loss.loss.toFixed(4)}` : '') +
        (em ? `, exact match ${(em.value * 100).toFixed(1)}% of 128 held-out sequences (at step ${em.step})` : '') +
        (state.paused ? ' (paused)' : '') + (state.done ? `, done in ${state.seconds!.toFixed(1)} s` : '') + (state.error ? `; error: ${state.error}` : '');
    }
    status.classList.toggle('perfect', state.perfect !== null);
    exact.hidden = !em;
    if (em) exact.textContent = `${(em.value * 100).toFixed(em.value === 1 ? 0 : 1)}%`;
  };
  const redrawChart = () => {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(() => { drawPending = false; drawLossChart(chart, state.losses); });
  };
  const drawAttention = (view: AttentionView) => {
    const cross = view.groups.find((g) => g.kind === 'cross')!;
    const last = cross.layers[cross.layers.length - 1];
    attention.replaceChildren();
    const caption = document.createElement('div');
    caption.className = 'caption';
    caption.textContent = `"${view.input}" → "${view.output}": cross-attention of the last decoder layer, each head (rows: the decoder's inputs, <s> then the output; columns: the input)`;
    attention.append(caption);
    for (let h = 0; h < view.model.heads; h++) {
      const c = document.createElement('canvas');
      c.className = 'thumb';
      drawHeatmap(c, headMatrix(last, h));
      attention.append(c);
    }
    state.views++;
  };

  worker.onmessage = (e: MessageEvent<FromWorker>) => {
    const m = e.data;
    if (m.type === 'progress') {
      state.step = m.step;
      state.steps = m.steps;
      state.losses.push({ step: m.step, loss: m.loss });
      redrawChart();
    } else if (m.type === 'ready') {
      state.backend = m.backend;
      if (m.backend !== backendName) console.warn(`training worker: on ${m.backend}, the page on ${backendName}: ${m.note}`);
    } else if (m.type === 'eval') {
      state.exactMatch.push({ step: m.step, value: m.exactMatch });
      if (m.exactMatch === 1 && !state.perfect) state.perfect = { step: m.step, seconds: m.seconds };
      drawAttention(m.view);
    } else if (m.type === 'paused') {
      state.step = m.step;
      state.pausedAt = m.step;
    } else if (m.type === 'done') {
      Object.assign(state, { running: false, paused: false, done: true, seconds: m.seconds });
    } else if (m.type === 'checkpoint') {
      wantFiles?.(m.files, m.step);
      wantFiles = null;
    } else if (m.type === 'error') {
      state.error = m.message;
      state.running = false;
      console.error(`training worker: ${m.message}`);
    }
    buttons();
    say();
  };
  worker.onerror = (e) => {
    state.error = e.message;
    console.error(`training worker: ${e.message}`);
    say();
  };

  const files = () => new Promise<{ files: Record<string, Uint8Array | string>; step: number }>((ok) => {
    wantFiles = (f, step) => ok({ files: f, step });
    send({ type: 'checkpoint' });
  });

  start.onclick = () => {
    const steps = Number(($<HTMLInputElement>(root, 'input.steps')).value) || 1000;
    Object.assign(state, { running: true, paused: false, pausedAt: null, done: false, step: 0, steps, losses: [], exactMatch: [], seconds: null, perfect: null, error: null });
    const stopAtPerfect = ($<HTMLInputElement>(root, 'input.stop-at-perfect')).checked;
    send({ type: 'start', steps, seed: 1, batch: 32, evalEvery: Math.max(10, Math.round(steps / 40)), stopAtPerfect });
    buttons();
    say();
  };
  pause.onclick = () => {
    state.paused = !state.paused;
    if (!state.paused) state.pausedAt = null;
    send({ type: state.paused ? 'pause' : 'resume' });
    buttons();
    say();
  };
  download.onclick = async () => {
    const { files: f } = await files();
    const blob = new Blob([tarFolder('copy-checkpoint', f) as BlobPart], { type: 'application/x-tar' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = 'copy-checkpoint.tar';
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  };
  useButton.onclick = async () => {
    const { files: f, step } = await files();
    use(await loadPretrained(f, { source: `copy task trained in the page (step ${step})`, backend }));
  };
  buttons();
  drawLossChart(chart, []);
  return state;
}
