// A training progress bar on stderr (cli-progress): the share of the run done (steps or time), loss, tokens/s, lr, ETA and the last evaluation.

import cliProgress from 'cli-progress';
import type { TrainEvent } from '../train/events.js';

/** Options of {@link progressBar}. */
export interface ProgressBarOptions {
  /** Where the bar goes (default process.stderr). */
  stream?: NodeJS.WriteStream;
  /** Default: only when `stream` is a terminal, so logs and CI output stay clean (true elsewhere prints a line every few seconds). */
  enabled?: boolean;
}

/** A progress bar fed by trainer events. */
export interface ProgressBar {
  /** Pass as (or inside) the Trainer's onEvent. */
  onEvent(e: TrainEvent): void;
  /** Stops the bar early (it stops by itself on the 'end' event). */
  stop(): void;
}

/** 3725 → '1h02m', 75 → '1m15s', 9 → '9s'. */
export function formatSeconds(s: number | undefined): string {
  if (s === undefined || !Number.isFinite(s)) return '?';
  const t = Math.round(s);
  if (t >= 3600) return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
  if (t >= 60) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${t}s`;
}

/** Where a run stands against its limits: what {@link barProgress} reads from a step event. */
export interface RunPosition {
  step: number;
  elapsedSeconds: number;
  maxSteps?: number;
  maxSeconds?: number;
}

/** The bar's fill (0..1; undefined with no limit) and the text beside it. */
export interface BarProgress {
  share?: number;
  label: string;
}

/**
 * The share of the run done, as the Trainer counts it for its schedules: steps/maxSteps or
 * seconds/maxSeconds, whichever is further along; the label shows the limit that leads.
 *
 * @example
 * barProgress({ step: 50, elapsedSeconds: 90, maxSteps: 100_000, maxSeconds: 180 }); // { share: 0.5, label: '1m30s/3m00s (step 50)' }
 * barProgress({ step: 1200, elapsedSeconds: 9, maxSteps: 5000 }); // { share: 0.24, label: 'step 1,200/5,000' }
 */
export function barProgress(p: RunPosition): BarProgress {
  const steps = p.maxSteps !== undefined ? p.step / p.maxSteps : undefined;
  const time = p.maxSeconds !== undefined ? p.elapsedSeconds / p.maxSeconds : undefined;
  const count = p.step.toLocaleString('en-US');
  if (time !== undefined && (steps === undefined || time > steps)) {
    return { share: Math.min(1, time), label: `${formatSeconds(p.elapsedSeconds)}/${formatSeconds(p.maxSeconds)} (step ${count})` };
  }
  if (steps !== undefined) return { share: Math.min(1, steps), label: `step ${count}/${p.maxSteps!.toLocaleString('en-US')}` };
  return { label: `step ${count}` };
}

function formatMetrics(m: Record<string, number>): string {
  return Object.entries(m).map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toPrecision(4)}`).join(' ');
}

/**
 * A one-line progress bar for a Trainer: `[████░░] step 1,200/5,000 | loss 2.314 | 5400 tok/s | lr 4.1e-4 | ETA 3m10s`.
 * The bar fills by {@link barProgress}: by steps, or by time when a time limit is further along.
 * Disabled (every call a no-op) when the stream is not a terminal.
 *
 * @example
 * const bar = progressBar();
 * const trainer = new Trainer(model, task, { maxSteps: 5000, onEvent: bar.onEvent });
 */
export function progressBar(opts: ProgressBarOptions = {}): ProgressBar {
  const stream = opts.stream ?? process.stderr;
  const enabled = opts.enabled ?? Boolean(stream.isTTY);
  let bar: cliProgress.SingleBar | null = null;
  let lastEval = '';
  const stop = (): void => {
    bar?.stop();
    bar = null;
  };
  const onEvent = (e: TrainEvent): void => {
    if (!enabled) return;
    if (e.type === 'eval') lastEval = ` | ${formatMetrics(e.metrics)}`;
    if (e.type === 'end') return stop();
    if (e.type !== 'step') return;
    const { share, label } = barProgress(e);
    const payload = {
      label,
      loss: e.loss.toFixed(4),
      tps: Math.round(e.tokensPerSecond),
      lr: e.lr.toExponential(2),
      etaText: formatSeconds(e.etaSeconds),
      evalText: lastEval,
    };
    // The bar counts thousandths of the run, so that it can follow the clock as well as the steps.
    const value = Math.round(1000 * (share ?? 0));
    if (!bar) {
      bar = new cliProgress.SingleBar({
        stream,
        format: `${share !== undefined ? '{bar} ' : ''}{label} | loss {loss} | {tps} tok/s | lr {lr} | ETA {etaText}{evalText}`,
        hideCursor: true,
        barsize: 24,
        noTTYOutput: true, // only reached when enabled on a non-terminal on purpose: then print a line now and then
      }, cliProgress.Presets.shades_classic);
      bar.start(1000, value, payload);
    } else {
      bar.update(value, payload);
    }
  };
  return { onEvent, stop };
}
