// Learning-rate schedules as pure functions of the step, and the LrScheduler that applies one.

import { ArgumentError } from '../core/errors.js';
import type { Optimizer } from './optimizer.js';

/**
 * The learning rate of step `step` (counted from 1: the first update is step 1). `progress`, when the
 * caller knows it, is the share of the run's budget done before the step, in [0, 1] (the Trainer
 * passes it; schedules that do not anneal ignore it).
 */
export type Schedule = (step: number, progress?: number) => number;

export interface NoamOptions {
  /** The model width d_model. */
  dModel: number;
  /** Steps of linear warm-up (the paper uses 4000). */
  warmup: number;
  /** Overall scale (default 1, the paper's). */
  factor?: number;
}

/**
 * The paper's schedule (eq. 3): linear warm-up for `warmup` steps, then decay ∝ 1/√step.
 *
 *   lrate = factor · d_model^−0.5 · min(step^−0.5, step · warmup_steps^−1.5)
 *
 * @example
 * const lr = noamSchedule({ dModel: 512, warmup: 4000 });
 * lr(4000); // ≈ 7.0e-4, the peak
 */
export function noamSchedule({ dModel, warmup, factor = 1 }: NoamOptions): Schedule {
  checkPositive('noamSchedule', 'dModel', dModel);
  checkPositive('noamSchedule', 'warmup', warmup);
  checkPositive('noamSchedule', 'factor', factor);
  return (step) => {
    checkStep('noamSchedule', step);
    return factor * dModel ** -0.5 * Math.min(step ** -0.5, step * warmup ** -1.5);
  };
}

/**
 * Linear warm-up to `peak` over `warmup` steps, then the peak held (anneal it with withCooldown:
 * together the "linear warm-up, linear decay" shape of BERT).
 *
 *   lrate = peak · min(1, step / warmup)
 *
 * @example
 * const lr = warmupHoldSchedule({ peak: 2e-3, warmup: 400 });
 * lr(200); // 1e-3
 * lr(4000); // 2e-3
 */
export function warmupHoldSchedule({ peak, warmup }: { peak: number; warmup: number }): Schedule {
  checkPositive('warmupHoldSchedule', 'peak', peak);
  checkPositive('warmupHoldSchedule', 'warmup', warmup);
  return (step) => {
    checkStep('warmupHoldSchedule', step);
    return peak * Math.min(1, step / warmup);
  };
}

export interface CosineOptions {
  /** Peak learning rate, reached at the end of warm-up. */
  baseLr: number;
  /** Steps of linear warm-up from baseLr/warmup to baseLr (0 for none). */
  warmup: number;
  /** The step at which the decay reaches minLr; later steps stay there. */
  totalSteps: number;
  /** Floor of the decay (default 0). */
  minLr?: number;
}

/**
 * Linear warm-up to `baseLr`, then half a cosine down to `minLr` at `totalSteps`.
 *
 *   step ≤ warmup:  baseLr · step / warmup
 *   after:          minLr + ½(baseLr − minLr)(1 + cos(π · (step − warmup) / (totalSteps − warmup)))
 *
 * @example
 * const lr = cosineSchedule({ baseLr: 3e-4, warmup: 100, totalSteps: 5000, minLr: 3e-5 });
 */
export function cosineSchedule({ baseLr, warmup, totalSteps, minLr = 0 }: CosineOptions): Schedule {
  checkPositive('cosineSchedule', 'baseLr', baseLr);
  if (!Number.isInteger(warmup) || warmup < 0) throw new ArgumentError(`cosineSchedule: warmup is ${warmup}, expected an integer ≥ 0`);
  if (!Number.isInteger(totalSteps) || totalSteps <= warmup) {
    throw new ArgumentError(`cosineSchedule: totalSteps is ${totalSteps}, expected an integer > warmup (${warmup})`);
  }
  if (!(minLr >= 0 && minLr <= baseLr)) throw new ArgumentError(`cosineSchedule: minLr is ${minLr}, expected a number in [0, baseLr = ${baseLr}]`);
  return (step) => {
    checkStep('cosineSchedule', step);
    if (step <= warmup) return (baseLr * step) / warmup;
    const progress = Math.min(1, (step - warmup) / (totalSteps - warmup));
    return minLr + 0.5 * (baseLr - minLr) * (1 + Math.cos(Math.PI * progress));
  };
}

/**
 * The same rate at every step.
 *
 * @example
 * const lr = constantSchedule(1e-3);
 */
export function constantSchedule(lr: number): Schedule {
  if (!(Number.isFinite(lr) && lr >= 0)) throw new ArgumentError(`constantSchedule: lr is ${lr}, expected a finite number ≥ 0`);
  return (step) => {
    checkStep('constantSchedule', step);
    return lr;
  };
}

/**
 * A schedule annealed linearly to 0 over the last `fraction` of the run: the base rate times
 * min(1, (1 − progress) / fraction). A run limited by time (the Trainer's maxSeconds) thereby ends
 * its decay when its time is up, however many steps that was; the rate then depends on the clock, so
 * such a run is not bit-reproducible (one limited by steps is). Without a progress: the base rate.
 *
 *   fraction 1: the whole run decays linearly (after the base schedule's warm-up shape)
 *   fraction 0.2: the base rate for 80% of the run, then a linear fall to 0
 *
 * @example
 * const lr = withCooldown(noamSchedule({ dModel: 128, warmup: 400 }), 0.5);
 * lr(1000, 0.75); // half of the Noam rate at step 1000
 */
export function withCooldown(base: Schedule, fraction: number): Schedule {
  if (!(fraction > 0 && fraction <= 1)) throw new ArgumentError(`withCooldown: fraction is ${fraction}, expected a number in (0, 1]`);
  return (step, progress) => {
    const lr = base(step, progress);
    if (progress === undefined) return lr;
    if (!(progress >= 0 && progress <= 1)) throw new ArgumentError(`withCooldown: progress is ${progress}, expected a number in [0, 1]`);
    return lr * Math.min(1, (1 - progress) / fraction);
  };
}

/**
 * Sets `optimizer.lr` from a schedule. The rate it sets is always that of the optimizer's next
 * step (`optimizer.stepCount + 1`), so it needs no state of its own: calling `step()` before or
 * after `optimizer.step()` gives the same rates, and restoring the optimizer restores the schedule.
 *
 * @example
 * const opt = new Adam(params, PAPER_ADAM);
 * const sched = new LrScheduler(opt, noamSchedule({ dModel: 512, warmup: 4000 }));
 * for (const batch of batches) {
 *   lossOf(batch).backward();
 *   opt.step();
 *   opt.zeroGrad();
 *   sched.step();
 * }
 */
export class LrScheduler {
  constructor(readonly optimizer: Optimizer, readonly schedule: Schedule) {
    this.step();
  }

  /** Sets and returns the learning rate of the optimizer's next step. */
  step(): number {
    const lr = this.schedule(this.optimizer.stepCount + 1);
    this.optimizer.lr = lr;
    return lr;
  }
}

function checkPositive(who: string, name: string, value: number): void {
  if (!(Number.isFinite(value) && value > 0)) throw new ArgumentError(`${who}: ${name} is ${value}, expected a finite number > 0`);
}

function checkStep(who: string, step: number): void {
  if (!Number.isInteger(step) || step < 1) throw new ArgumentError(`${who}: step is ${step}, expected an integer ≥ 1 (steps count from 1)`);
}
