// A training progress bar on stderr (cli-progress): step, loss, tokens/s, lr, ETA and the last evaluation.

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

function formatMetrics(m: Record<string, number>): string {
  return Object.entries(m).map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toPrecision(4)}`).join(' ');
}

/**
 * A one-line progress bar for a Trainer: `[████░░] 1200/5000 | loss 2.314 | 5400 tok/s | lr 4.1e-4 | ETA 3m10s`.
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
    const payload = {
      loss: e.loss.toFixed(4),
      tps: Math.round(e.tokensPerSecond),
      lr: e.lr.toExponential(2),
      etaText: formatSeconds(e.etaSeconds),
      evalText: lastEval,
    };
    if (!bar) {
      const counter = e.maxSteps !== undefined ? '{bar} {value}/{total}' : 'step {value}';
      bar = new cliProgress.SingleBar({
        stream,
        format: `${counter} | loss {loss} | {tps} tok/s | lr {lr} | ETA {etaText}{evalText}`,
        hideCursor: true,
        barsize: 24,
        noTTYOutput: true, // only reached when enabled on a non-terminal on purpose: then print a line now and then
      }, cliProgress.Presets.shades_classic);
      bar.start(e.maxSteps ?? 0, e.step, payload);
    } else {
      bar.update(e.step, payload);
    }
  };
  return { onEvent, stop };
}
