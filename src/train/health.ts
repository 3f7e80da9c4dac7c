// A training run's health: non-finite losses and gradient norms, divergence from the loss's running minimum, non-finite weights.

import { QkvError } from '../core/errors.js';
import type { Module } from '../nn/module.js';

/**
 * A run stopped because it went bad: a non-finite loss or gradient norm, a loss that diverged, or
 * weights that are not finite. The message names the step; `step` is it (the last good
 * checkpoint is the one saved before it).
 */
export class TrainingDivergedError extends QkvError {
  constructor(message: string, readonly step: number) {
    super(message);
  }
}

/** What the Trainer does when a step's loss or gradient norm is NaN or ±Infinity. */
export type NonFiniteAction = 'stop' | 'skip';

/** Options of the divergence rule (see {@link DivergenceWatch}). */
export interface DivergenceOptions {
  /** Diverging while the loss's moving average exceeds factor × its running minimum + 1 nat (default 10). */
  factor?: number;
  /** Stop once it has diverged this many steps in a row (default 50); the first such step only warns. */
  patience?: number;
  /** Steps before the rule applies, while the average settles (default 10). */
  warmup?: number;
}

/** The smoothing of the loss's moving average (about the last 10 steps). */
const EMA_BETA = 0.9;

/**
 * The divergence rule: an exponential moving average of the step loss (β 0.9) and its running
 * minimum. After `warmup` steps, a step whose average is above `factor` × minimum + 1 nat is
 * diverging (the 1 nat keeps a loss near 0 from tripping it on noise); the first one warns, and
 * `patience` such steps in a row stop the run. A step back under the line resets the count.
 *
 * @example
 * const watch = new DivergenceWatch({ factor: 10, patience: 50 });
 * watch.observe(step, loss); // 'ok' | 'warn' | 'stop'
 */
export class DivergenceWatch {
  private readonly factor: number;
  private readonly patience: number;
  private readonly warmup: number;
  private ema: number | null = null;
  private min = Infinity;
  private seen = 0;
  private over = 0;
  private warned = false;

  constructor(opts: DivergenceOptions = {}) {
    this.factor = opts.factor ?? 10;
    this.patience = opts.patience ?? 50;
    this.warmup = opts.warmup ?? 10;
  }

  /** The moving average and the minimum it reached (null before the first step). */
  get stats(): { average: number; minimum: number } | null {
    return this.ema === null ? null : { average: this.ema, minimum: this.min };
  }

  /** True while the average is above the line (the run keeps its last checkpoint from before). */
  get diverging(): boolean {
    return this.over > 0;
  }

  /** The line the average must stay under. */
  get threshold(): number {
    return this.factor * this.min + 1;
  }

  /** Takes one step's (finite) loss: 'warn' the first time it diverges, 'stop' once it has for `patience` steps. */
  observe(loss: number): 'ok' | 'warn' | 'stop' {
    this.ema = this.ema === null ? loss : EMA_BETA * this.ema + (1 - EMA_BETA) * loss;
    this.seen++;
    if (this.seen <= this.warmup) {
      this.min = Math.min(this.min, this.ema);
      return 'ok';
    }
    if (this.ema > this.threshold) {
      this.over++;
      if (this.over >= this.patience) return 'stop';
      if (!this.warned) {
        this.warned = true;
        return 'warn';
      }
      return 'ok';
    }
    this.over = 0;
    this.min = Math.min(this.min, this.ema);
    return 'ok';
  }
}

/**
 * The first parameter of `model` holding a NaN or ±Infinity, as `{ name, index, value }`, or null
 * when every weight is finite.
 *
 * @example
 * firstNonFiniteWeight(model); // null, or { name: 'encoder.layers.0.ff.w1.weight', index: 17, value: NaN }
 */
export function firstNonFiniteWeight(model: Module): { name: string; index: number; value: number } | null {
  for (const [name, p] of model.namedParameters()) {
    const values = p.toArray() as ArrayLike<number>;
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) return { name, index: i, value: values[i] };
    }
  }
  return null;
}

/**
 * Throws a TrainingDivergedError when `model` holds a non-finite weight, naming the first one and
 * `what` was about to happen with it (a checkpoint is never written with such weights).
 *
 * @example
 * assertFiniteWeights(model, 'saving runs/g2p/last at step 120', 120);
 */
export function assertFiniteWeights(model: Module, what: string, step: number): void {
  const bad = firstNonFiniteWeight(model);
  if (bad) {
    throw new TrainingDivergedError(`${what}: parameter '${bad.name}' holds ${bad.value} at index ${bad.index}, expected finite weights (the run diverged; nothing was written)`, step);
  }
}
