// Task configs: the fields every recipe shares, presets, and overriding a preset from JSON with checks.

import { ArgumentError } from '../../core/errors.js';
import { noamSchedule, warmupHoldSchedule, withCooldown } from '../../optim/schedules.js';
import type { NonFiniteAction } from '../health.js';
import type { MonitorOptions, TrainerOptions } from '../trainer.js';

/** The names of the presets every task has. */
export const PRESET_NAMES = ['tiny', 'small', 'base'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** Training fields every task config has (the paper's recipe, §5.3–5.4, sized by the preset). */
export interface TrainingConfig {
  /** The preset the config started from. */
  preset: string;
  /** Token budget of a training batch, padding included (batches are sized in tokens, §5.1). */
  maxTokens: number;
  /** ε_ls of label smoothing (the paper: 0.1). */
  labelSmoothing: number;
  /** Warm-up steps of the Noam schedule (the paper: 4000). */
  warmup: number;
  /** Scale of the Noam schedule (the paper: 1; small models train faster with more). */
  lrFactor: number;
  /**
   * After warm-up: 'rsqrt', the paper's decay ∝ 1/√step; 'none', Noam's peak
   * (lrFactor · d_model^−0.5 · warmup^−0.5) held, so that `cooldown` alone shapes the decay.
   */
  decay: Decay;
  /**
   * Anneal the rate linearly to 0 over this last share of the run (steps or minutes, whichever limit
   * is nearer; see withCooldown). null: the paper's schedule unchanged.
   */
  cooldown: number | null;
  /** Clip gradients to this global L2 norm. */
  clipGradNorm: number;
  /** Stop after this many steps. */
  maxSteps: number;
  /** Stop after this many minutes of training (null: no time limit). */
  maxMinutes: number | null;
  /** Evaluate every this many steps. */
  evalEvery: number;
  /** Stop after this many evaluations without improvement of the `monitor` metric (null: never). */
  patience: number | null;
  /** Seed of initialisation, dropout and batch order. */
  seed: number;
  /**
   * Threads that each train on a batch of `maxTokens` every step (data parallelism): a step's
   * gradient is the token-weighted mean over `workers` batches. 1: the calling thread only.
   */
  workers: number;
  /** Save last/ every this many steps (null: at every evaluation, every `evalEvery` steps). */
  saveEvery: number | null;
  /** Also save last/ once this many minutes of training have passed since the last save (null: by steps only). */
  saveEveryMinutes: number | null;
  /** A step whose loss or gradient norm is NaN or infinite: 'stop' the run (exit 1, naming the step) or 'skip' the step (10 in a row stop). */
  nonFinite: NonFiniteAction;
  /** Stop when the loss's moving average stays above this × its running minimum + 1 nat for `divergencePatience` steps (null: never). */
  divergenceFactor: number | null;
  /** Steps in a row above the divergence line before the run stops (the first one warns). */
  divergencePatience: number;
  /**
   * The metric that keep-best (best/) and `patience` watch, a key of the task's evaluation (validLoss,
   * wer, bleu, ...); null: the task's own (G2P wer, translation bleu, classification accuracy, else
   * validLoss). Lower is better, except for the metrics in MAX_METRICS.
   */
  monitor: string | null;
  /** Keep the model of the last this many saves of last/ in snapshots/ for `qkv average` (0: none). */
  keepCheckpoints: number;
}

/**
 * The crash-safety and health fields every task's presets share: last/ at every evaluation and at
 * least every 5 minutes, a non-finite step stops the run, a loss 10× its running minimum for 50
 * steps stops it (docs/reliability.md).
 */
export const SAFETY_DEFAULTS = {
  saveEvery: null, saveEveryMinutes: 5, nonFinite: 'stop' as NonFiniteAction, divergenceFactor: 10, divergencePatience: 50,
  monitor: null, keepCheckpoints: 0,
} satisfies Pick<TrainingConfig, 'saveEvery' | 'saveEveryMinutes' | 'nonFinite' | 'divergenceFactor' | 'divergencePatience' | 'monitor' | 'keepCheckpoints'>;

/** Metrics where higher is better (keep-best's mode 'max'); every other metric is lower-is-better. */
export const MAX_METRICS = ['bleu', 'chrf', 'accuracy', 'f1', 'precision', 'recall', 'exactMatch', 'maskedAccuracy'] as const;

/**
 * The keep-best metric a config asks for: its `monitor` field, or the task's default.
 *
 * @example
 * monitorOf({ monitor: 'chrf' }, { metric: 'bleu', mode: 'max' }); // { metric: 'chrf', mode: 'max' }
 */
export function monitorOf(c: Pick<TrainingConfig, 'monitor'>, taskDefault: MonitorOptions): MonitorOptions {
  const name = c.monitor ?? null;
  if (name === null) return taskDefault;
  return { metric: name, mode: (MAX_METRICS as readonly string[]).includes(name) ? 'max' : 'min' };
}

/** The answers to a non-finite step (TrainingConfig.nonFinite). */
export const NON_FINITE_ACTIONS = ['stop', 'skip'] as const;

/** What the rate does after warm-up (see TrainingConfig.decay). */
export const DECAYS = ['rsqrt', 'none'] as const;
export type Decay = (typeof DECAYS)[number];

/** The JSON-like shape of a config, for checking overrides. */
type Plain = Record<string, unknown>;

/**
 * A preset with fields replaced by `overrides` (from a config.json or flags). `model` is merged
 * one level deep. A field the preset does not have, or a value of another type, is an
 * ArgumentError naming the field and what was expected; fields that are null in the preset
 * (no limit) take a number or null.
 *
 * @example
 * const c = overrideConfig(G2P_PRESETS.small, { maxSteps: 500, model: { dModel: 128 } }, 'g2p');
 */
export function overrideConfig<C extends object>(preset: C, overrides: Plain, task: string): C {
  const out = structuredClone(preset) as Plain;
  merge(out, overrides, task, '');
  return out as C;
}

function merge(into: Plain, from: Plain, task: string, prefix: string): void {
  for (const [key, value] of Object.entries(from)) {
    const name = prefix + key;
    if (!Object.prototype.hasOwnProperty.call(into, key)) {
      const known = Object.keys(into).map((k) => prefix + k).join(', ');
      throw new ArgumentError(`config field '${name}' is not a field of task ${task}; expected one of ${known}`);
    }
    const cur = into[key];
    if (cur !== null && typeof cur === 'object' && !Array.isArray(cur)) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new ArgumentError(`config field '${name}' is ${JSON.stringify(value)}, expected an object`);
      }
      merge(cur as Plain, value as Plain, task, `${name}.`);
      continue;
    }
    const expected = cur === null ? (PATHS.has(key) || STRINGS.has(key) ? 'string' : 'number') : typeof cur;
    const ok = typeof value === expected || (value === null && (cur === null || NULLABLE.has(key)));
    if (!ok) throw new ArgumentError(`config field '${name}' is ${JSON.stringify(value)}, expected a ${expected}${PATHS.has(key) ? ' (a file path) or null' : STRINGS.has(key) ? ' or null' : ''}`);
    if (typeof value === 'number' && !Number.isFinite(value)) throw new ArgumentError(`config field '${name}' is ${value}, expected a finite number`);
    into[key] = value;
  }
}

/** Fields that may be null (no limit) even when a preset sets them. */
const NULLABLE = new Set(['monitor', 'maxMinutes', 'patience', 'maxTrainExamples', 'cooldown', 'saveEvery', 'saveEveryMinutes', 'divergenceFactor']);

/** Fields that hold a file path or null (your own data files; null in the presets). */
const PATHS = new Set(['train', 'valid']);

/** Other fields that hold a string or null (null in the presets: a default chosen from the data). */
const STRINGS = new Set(['positiveLabel', 'monitor']);

/**
 * The Trainer options a config asks for: Noam's warm-up and factor (decayed as the paper, or held
 * and annealed), clipping, limits, evaluation (also at the end of the run), keep-best and early
 * stopping on `monitor`.
 *
 * @example
 * new Trainer(model, task, { ...trainerOptions(config, model.config.dModel), save, onEvent });
 */
export function trainerOptions(c: TrainingConfig, dModel: number, monitor: MonitorOptions = { metric: 'validLoss', mode: 'min' }): TrainerOptions {
  const decay = c.decay ?? 'rsqrt'; // configs written before the field existed decay as the paper
  if (!DECAYS.includes(decay)) throw new ArgumentError(`config field 'decay' is ${JSON.stringify(decay)}, expected one of ${DECAYS.map((d) => `'${d}'`).join(', ')}`);
  const base = decay === 'rsqrt'
    ? noamSchedule({ dModel, warmup: c.warmup, factor: c.lrFactor })
    : warmupHoldSchedule({ peak: c.lrFactor * (dModel * c.warmup) ** -0.5, warmup: c.warmup });
  const cooldown = c.cooldown ?? null; // configs written before the field existed have none
  // Configs written before the health fields existed get their defaults.
  const nonFinite = c.nonFinite ?? SAFETY_DEFAULTS.nonFinite;
  if (!NON_FINITE_ACTIONS.includes(nonFinite)) throw new ArgumentError(`config field 'nonFinite' is ${JSON.stringify(nonFinite)}, expected 'stop' or 'skip'`);
  const factor = c.divergenceFactor === undefined ? SAFETY_DEFAULTS.divergenceFactor : c.divergenceFactor;
  const divPatience = c.divergencePatience ?? SAFETY_DEFAULTS.divergencePatience;
  if (factor !== null && !(factor >= 1)) throw new ArgumentError(`config field 'divergenceFactor' is ${factor}, expected a number ≥ 1 or null`);
  if (!(Number.isInteger(divPatience) && divPatience >= 1)) throw new ArgumentError(`config field 'divergencePatience' is ${divPatience}, expected an integer ≥ 1`);
  return {
    onNonFinite: nonFinite,
    ...(factor !== null ? { divergence: { factor, patience: divPatience } } : {}),
    schedule: cooldown !== null ? withCooldown(base, cooldown) : base,
    clipGradNorm: c.clipGradNorm,
    seed: c.seed,
    maxSteps: c.maxSteps,
    ...(c.maxMinutes !== null ? { maxSeconds: c.maxMinutes * 60 } : {}),
    evalEvery: c.evalEvery,
    evalAtEnd: true,
    monitor: { ...monitorOf(c, monitor), ...(c.patience !== null ? { patience: c.patience } : {}) },
  };
}

/**
 * When a run with a save hook writes last/ besides its end: `saveEvery` steps (default: the
 * evaluation interval) and `saveEveryMinutes` (default 5) as the Trainer's saveEvery and
 * saveEverySeconds.
 *
 * @example
 * new Trainer(model, task, { ...trainerOptions(config, 64), ...saveOptions(config), save });
 */
export function saveOptions(c: TrainingConfig): Pick<TrainerOptions, 'saveEvery' | 'saveEverySeconds'> {
  const every = c.saveEvery ?? c.evalEvery;
  const minutes = c.saveEveryMinutes === undefined ? SAFETY_DEFAULTS.saveEveryMinutes : c.saveEveryMinutes;
  if (!(Number.isInteger(every) && every >= 1)) throw new ArgumentError(`config field 'saveEvery' is ${every}, expected an integer ≥ 1 or null`);
  if (minutes !== null && !(minutes > 0)) throw new ArgumentError(`config field 'saveEveryMinutes' is ${minutes}, expected a number > 0 or null`);
  return { saveEvery: every, ...(minutes !== null ? { saveEverySeconds: minutes * 60 } : {}) };
}

/**
 * `n` items spread evenly over a list (every k-th), the same on every run: a fixed evaluation
 * subset that covers the whole alphabet of a sorted list, not just its first letter.
 *
 * @example
 * spread([1, 2, 3, 4, 5, 6], 3); // [1, 3, 5]
 */
export function spread<T>(items: readonly T[], n: number | null): T[] {
  if (n === null || n >= items.length) return items.slice();
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(items[Math.floor((i * items.length) / n)]);
  return out;
}
