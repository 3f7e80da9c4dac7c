// The training loop: seeded batches from a task, loss, backward, clipping, the schedule, evaluation,
// keep-best, early stopping, limits, periodic saves and health checks (non-finite steps, divergence),
// with a state that resumes bit for bit. No file system and no process signals here.

import { ArgumentError, StateDictError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { Module } from '../nn/module.js';
import { Adam, PAPER_ADAM } from '../optim/adam.js';
import { clipGradNorm } from '../optim/clip.js';
import type { Optimizer, OptimizerState } from '../optim/optimizer.js';
import { noamSchedule } from '../optim/schedules.js';
import type { Schedule } from '../optim/schedules.js';
import { noGrad } from '../tensor/grad-mode.js';
import { withStorageScope } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import type { BestMetric, StopReason, TrainEvent } from './events.js';
import { DivergenceWatch, TrainingDivergedError, assertFiniteWeights } from './health.js';
import type { DivergenceOptions, NonFiniteAction } from './health.js';
import { averageGradients } from './replicas.js';
import type { GradientReplicas } from './replicas.js';

/**
 * What a Trainer trains on. `batches(epoch, rng)` must be a deterministic function of the epoch
 * and the generator's state (shuffle with `rng`, never with Math.random): a resumed trainer
 * rewinds `rng` to the epoch's start and skips the batches already done.
 */
export interface TrainTask<M extends Module = Module, B = unknown> {
  /** Names the task in config.json. */
  readonly name: string;
  /** What, with `name`, rebuilds the task (written to config.json, so plain JSON). */
  readonly options?: Record<string, unknown>;
  /** One epoch of training batches. The iterable may be lazy; an epoch must yield at least one batch. */
  batches(epoch: number, rng: Rng): Iterable<B>;
  /** The loss of one batch (label smoothing goes in its crossEntropy call) and how many tokens it covers. */
  loss(model: M, batch: B): { loss: Tensor; tokens: number };
  /** Validation metrics (valid loss, WER...); run in eval mode under noGrad. */
  evaluate?(model: M): Record<string, number>;
}

/** The metric keep-best and early stopping watch. */
export interface MonitorOptions {
  /** A key of what `task.evaluate` returns. */
  metric: string;
  /** 'min' (default): lower is better, as a loss. 'max': higher is better, as BLEU. */
  mode?: 'min' | 'max';
  /** Stop after this many evaluations in a row without improvement (default: never). */
  patience?: number;
}

/** Writes a checkpoint; the Node side's `checkpointSaver` makes one. */
export type SaveHook<M extends Module = Module, B = unknown> = (which: 'best' | 'last', trainer: Trainer<M, B>) => void | Promise<void>;

/** Options of a {@link Trainer}. Give at least one of maxSteps, maxEpochs and maxSeconds. */
export interface TrainerOptions<M extends Module = Module, B = unknown> {
  /** Default: Adam with the paper's β and ε (PAPER_ADAM) over model.parameters(). */
  optimizer?: Optimizer;
  /**
   * Learning rate of each step, set on the optimizer before the step. Default: the paper's Noam
   * schedule with `warmup` steps and d_model from `dModel` or `model.config.dModel`. null leaves
   * `optimizer.lr` alone.
   */
  schedule?: Schedule | null;
  /** Warm-up steps of the default schedule (default 4000). */
  warmup?: number;
  /** d_model of the default schedule (default: `model.config.dModel`). */
  dModel?: number;
  /** Clip gradients to this global L2 norm (default: no clipping). */
  clipGradNorm?: number;
  /** Seed of the data generator that orders batches (default 0). */
  seed?: number;
  /** Stop when this many steps are done (counting steps before a resume). */
  maxSteps?: number;
  /** Stop when this many epochs are done. */
  maxEpochs?: number;
  /** Stop before the next step once this many seconds of training have passed (resumes included). */
  maxSeconds?: number;
  /** Evaluate every this many steps (needs task.evaluate). */
  evalEvery?: number;
  /**
   * Also evaluate when a limit (steps, epochs, seconds) ends the run between two evaluations, so
   * that keep-best sees the final weights (those of an annealed schedule's end). Default false.
   */
  evalAtEnd?: boolean;
  /** Keep-best and early stopping on one metric (needs evalEvery). */
  monitor?: MonitorOptions;
  /** Save a 'last' checkpoint every this many steps (and always at the end of run). */
  saveEvery?: number;
  /** Also save a 'last' checkpoint once this many seconds of training have passed since the last save. */
  saveEverySeconds?: number;
  /** Writes checkpoints: 'best' when the monitored metric improves, 'last' as above. */
  save?: SaveHook<M, B>;
  /** Receives every event (steps, evaluations, checkpoints, early stop, end). */
  onEvent?: (e: TrainEvent) => void;
  /** Milliseconds, for timing and the budget (default performance.now; tests pass a fake). */
  clock?: () => number;
  /**
   * Data parallelism: each step also hands up to `replicas.count` further batches to these copies of
   * the model and trains on the token-weighted mean gradient of all the step's batches (Node: worker
   * threads, src/node/data-parallel.ts). A step then takes 1 + count batches of the epoch.
   */
  replicas?: GradientReplicas<B>;
  /**
   * A step whose loss or gradient norm is NaN or ±Infinity: 'stop' (default) throws a
   * TrainingDivergedError naming the step before the weights are touched; 'skip' leaves the
   * weights alone, reports a warning and goes on (as mixed-precision trainers skip overflowed steps).
   */
  onNonFinite?: NonFiniteAction;
  /** With onNonFinite 'skip': this many skipped steps in a row stop the run (default 10). */
  maxSkippedSteps?: number;
  /**
   * The divergence rule (see DivergenceWatch): warn, then stop, when the loss rises far above its
   * running minimum; periodic saves of last/ pause while it is above the line. Default: off.
   */
  divergence?: DivergenceOptions;
  /** Stop between two steps when this fires, as {@link Trainer.stop} does. */
  signal?: AbortSignal;
}

/**
 * Everything besides the weights and the optimizer that a resumed run needs to continue bit for
 * bit. Plain JSON (trainer_state.json); an Rng state's fifth number may be NaN (written null).
 */
export interface TrainerState {
  /** Steps done. */
  step: number;
  /** The epoch in progress (from 0). */
  epoch: number;
  /** Batches of that epoch already trained on. */
  batchInEpoch: number;
  /** The data generator's state at the start of that epoch. */
  dataRng: number[];
  /** The model's generators (dropout), by name: Module.rngStates(). */
  modelRngs: Record<string, number[]>;
  /** Best monitored value so far. */
  best: BestMetric | null;
  /** Evaluations in a row without improvement. */
  badEvals: number;
  /** Training seconds so far. */
  elapsedSeconds: number;
  /** True once early stopping fired: run() then returns at once. */
  earlyStopped: boolean;
}

/** What {@link Trainer.run} returns. */
export interface TrainResult {
  reason: StopReason;
  step: number;
  epoch: number;
  best: BestMetric | null;
  elapsedSeconds: number;
}

/**
 * The training loop. Each step: set the learning rate from the schedule, compute the task's loss,
 * zero the gradients, backward, clip to `clipGradNorm`, update. Every `evalEvery` steps it
 * evaluates, keeps the best checkpoint of the monitored metric, and counts evaluations without
 * improvement for early stopping. Given the seeds, training is deterministic, and a trainer built
 * from fresh objects with {@link Trainer.restore} continues exactly where a saved one stopped.
 *
 * @example
 * const trainer = new Trainer(model, task, { maxSteps: 10_000, warmup: 4000, evalEvery: 500,
 *   monitor: { metric: 'validLoss', patience: 5 }, save: checkpointSaver('runs/copy', info) });
 * const result = await trainer.run(); // { reason: 'maxSteps', step: 10000, best: {...} }
 */
export class Trainer<M extends Module = Module, B = unknown> {
  readonly optimizer: Optimizer;
  readonly schedule: Schedule | null;
  private readonly opts: TrainerOptions<M, B>;
  private readonly clock: () => number;
  private readonly dataRng: Rng;
  private step = 0;
  private epoch = 0;
  private batchInEpoch = 0;
  private epochRng: number[];
  private best: BestMetric | null = null;
  private badEvals = 0;
  private elapsedBefore = 0;
  private earlyStopped = false;
  private iter: Iterator<B> | null = null;
  /** clock() when the current run() began; null between runs. */
  private runStart: number | null = null;
  private stopRequested = false;
  private skippedInARow = 0;
  private readonly divergence: DivergenceWatch | null;

  constructor(readonly model: M, readonly task: TrainTask<M, B>, opts: TrainerOptions<M, B>) {
    this.opts = opts;
    checkOptions(task, opts);
    this.optimizer = opts.optimizer ?? new Adam(model.parameters(), { lr: 0, ...PAPER_ADAM });
    this.schedule = opts.schedule !== undefined ? opts.schedule : noamSchedule({ dModel: opts.dModel ?? dModelOf(model), warmup: opts.warmup ?? 4000 });
    this.clock = opts.clock ?? (() => performance.now());
    this.dataRng = new Rng(opts.seed ?? 0);
    this.epochRng = this.dataRng.getState();
    this.divergence = opts.divergence ? new DivergenceWatch(opts.divergence) : null;
  }

  /**
   * Asks a running run() to stop before its next step: it then saves 'last' (with a save hook)
   * and returns with reason 'stopped'. A step in progress finishes first. The CLI calls it on
   * SIGINT and SIGTERM.
   *
   * @example
   * process.once('SIGINT', () => trainer.stop());
   * const { reason } = await trainer.run(); // 'stopped'
   */
  stop(): void {
    this.stopRequested = true;
  }

  /** Steps done so far. */
  get stepCount(): number {
    return this.step;
  }

  /** Training seconds so far (earlier runs of a resumed trainer included). */
  get elapsedSeconds(): number {
    return this.elapsedBefore + (this.runStart !== null ? (this.clock() - this.runStart) / 1000 : 0);
  }

  /**
   * Trains until a limit is reached or early stopping fires; then saves a 'last' checkpoint
   * (when a save hook is set) and reports an 'end' event. Calling it again continues.
   *
   * @example
   * const { reason, step, best } = await trainer.run(); // 'maxSteps', 10000, { metric, value, step }
   */
  async run(): Promise<TrainResult> {
    const o = this.opts;
    this.model.train();
    this.runStart = this.clock();
    const runStartStep = this.step;
    let lastSaved = -1;
    let lastSavedAt = this.clock();
    let reason: StopReason;
    this.stopRequested = false;
    try {
      for (;;) {
        // Let signal handlers (Ctrl-C) and timers run between steps: a step itself is synchronous.
        await new Promise<void>((r) => setImmediate(r));
        if (this.stopRequested || o.signal?.aborted) { reason = 'stopped'; break; }
        if (this.earlyStopped) { reason = 'earlyStop'; break; }
        if (o.maxEpochs !== undefined && this.epoch >= o.maxEpochs) { reason = 'maxEpochs'; break; }
        if (o.maxSteps !== undefined && this.step >= o.maxSteps) { reason = 'maxSteps'; break; }
        if (o.maxSeconds !== undefined && this.elapsedSeconds >= o.maxSeconds) { reason = 'maxSeconds'; break; }
        const batches: B[] = [];
        const want = 1 + (o.replicas?.count ?? 0);
        while (batches.length < want) {
          const next = this.epochIterator().next();
          if (next.done) break;
          batches.push(next.value);
        }
        if (!batches.length) {
          if (this.batchInEpoch === 0) throw new ArgumentError(`Trainer: task '${this.task.name}' gave no batches for epoch ${this.epoch}, expected at least one`);
          this.emit({ type: 'epochEnd', epoch: this.epoch, step: this.step });
          this.epoch++;
          this.batchInEpoch = 0;
          this.epochRng = this.dataRng.getState();
          this.iter = null;
          continue;
        }
        this.trainStep(batches, runStartStep);
        if (o.evalEvery !== undefined && this.step % o.evalEvery === 0) await this.evaluateAndMonitor();
        const byTime = o.saveEverySeconds !== undefined && (this.clock() - lastSavedAt) / 1000 >= o.saveEverySeconds;
        // While the loss is diverging, last/ keeps the state from before it began.
        const diverging = this.divergence?.diverging ?? false;
        if (o.save && !diverging && ((o.saveEvery !== undefined && this.step % o.saveEvery === 0) || byTime)) {
          await this.saveCheckpoint('last');
          lastSaved = this.step;
          lastSavedAt = this.clock();
        }
      }
      const unevaluated = o.evalEvery !== undefined && this.step % o.evalEvery !== 0 && this.step > runStartStep;
      if (o.evalAtEnd && reason !== 'earlyStop' && reason !== 'stopped' && unevaluated) await this.evaluateAndMonitor();
      if (o.save && lastSaved !== this.step) await this.saveCheckpoint('last');
    } finally {
      this.elapsedBefore = this.elapsedSeconds;
      this.runStart = null;
    }
    const result: TrainResult = { reason, step: this.step, epoch: this.epoch, best: this.best, elapsedSeconds: this.elapsedBefore };
    this.emit({ type: 'end', ...result });
    return result;
  }

  /** The current epoch's batches; a fresh or resumed trainer rewinds the data generator and skips done batches. */
  private epochIterator(): Iterator<B> {
    if (this.iter) return this.iter;
    this.dataRng.setState(this.epochRng);
    const it = this.task.batches(this.epoch, this.dataRng)[Symbol.iterator]();
    for (let i = 0; i < this.batchInEpoch; i++) {
      if (it.next().done) {
        throw new StateDictError(`Trainer: the state says ${this.batchInEpoch} batches of epoch ${this.epoch} are done, but task '${this.task.name}' gives only ${i} (was it built with other options?)`);
      }
    }
    return (this.iter = it);
  }

  /** One update from `batches`: the first computed here, the rest (if any) by the replicas meanwhile. */
  private trainStep(batches: readonly B[], runStartStep: number): void {
    const t0 = this.clock();
    const opt = this.optimizer;
    if (this.schedule) opt.lr = this.schedule(opt.stepCount + 1, this.progress());
    const lr = opt.lr;
    const replicas = batches.length > 1 ? this.opts.replicas! : null;
    // One storage scope per step: its activations and gradients back the next step's (buffer-pool.ts).
    // What lives on: the parameters (made before), the optimizer's moments (made on step 1).
    const backend = opt.params[0]?.backend;
    // Replicas hold copies of the whole model, in model.parameters() order (the optimizer may update fewer).
    const params = replicas ? this.model.parameters() : [];
    const run = () => {
      replicas?.start(batches.slice(1), params, this.step);
      let own: { loss: Tensor; tokens: number };
      try {
        own = this.task.loss(this.model, batches[0]);
        opt.zeroGrad();
        own.loss.backward();
      } catch (e) {
        try { replicas?.finish(); } catch { /* the step's own error is the one to report */ }
        throw e;
      }
      let value = own.loss.item();
      let allTokens = own.tokens;
      if (replicas) {
        ({ loss: value, tokens: allTokens } = averageGradients(params, { loss: value, tokens: own.tokens }, replicas.finish()));
      }
      const norm = this.opts.clipGradNorm !== undefined ? clipGradNorm(opt.params, this.opts.clipGradNorm) : globalGradNorm(opt.params);
      // A non-finite loss or norm never reaches the weights: checked before the update.
      const finite = Number.isFinite(value) && Number.isFinite(norm);
      if (finite) opt.step();
      opt.zeroGrad(); // the gradients are not needed past the update; let them go
      return { lossValue: value, tokens: allTokens, gradNorm: norm, finite };
    };
    const { lossValue, tokens, gradNorm, finite } = backend ? withStorageScope(backend, run, () => opt.liveTensors()) : run();
    const what = `step ${this.step + 1}: loss ${lossValue}, gradient norm ${gradNorm}`;
    if (!finite) {
      if ((this.opts.onNonFinite ?? 'stop') === 'stop') {
        throw new TrainingDivergedError(`Trainer: ${what}, expected finite numbers; the run diverged and stopped before updating the weights (the last checkpoint saved is the last good one; onNonFinite 'skip' skips such steps)`, this.step + 1);
      }
      this.skippedInARow++;
      const most = this.opts.maxSkippedSteps ?? 10;
      if (this.skippedInARow >= most) {
        throw new TrainingDivergedError(`Trainer: ${what}: ${this.skippedInARow} non-finite steps in a row (maxSkippedSteps ${most}), expected finite numbers; the run diverged and stopped`, this.step + 1);
      }
      this.emit({ type: 'warning', step: this.step + 1, kind: 'nonFinite', message: `${what}: not finite, step skipped (weights unchanged; ${this.skippedInARow} in a row)` });
    } else {
      this.skippedInARow = 0;
      const verdict = this.divergence?.observe(lossValue) ?? 'ok';
      if (verdict !== 'ok') {
        const st = this.divergence!.stats!;
        const line = `its moving average ${st.average.toPrecision(4)} is above ${this.divergence!.threshold.toPrecision(4)} (divergence factor ${this.opts.divergence?.factor ?? 10} × running minimum ${st.minimum.toPrecision(4)} + 1 nat)`;
        if (verdict === 'stop') {
          throw new TrainingDivergedError(`Trainer: step ${this.step + 1}: loss ${lossValue.toPrecision(4)}, ${line} for ${this.opts.divergence?.patience ?? 50} steps in a row; the run diverged and stopped (the last checkpoint saved is kept)`, this.step + 1);
        }
        this.emit({ type: 'warning', step: this.step + 1, kind: 'divergence', message: `step ${this.step + 1}: loss ${lossValue.toPrecision(4)}, ${line}; the run may be diverging` });
      }
    }
    this.step++;
    this.batchInEpoch += batches.length;
    const seconds = (this.clock() - t0) / 1000;
    const elapsed = this.elapsedSeconds;
    this.emit({
      type: 'step', step: this.step, epoch: this.epoch, loss: lossValue, lr, tokens,
      tokensPerSecond: seconds > 0 ? tokens / seconds : Infinity, gradNorm, elapsedSeconds: elapsed, ...(finite ? {} : { skipped: true }),
      ...this.eta(elapsed, runStartStep), ...(this.opts.maxSteps !== undefined ? { maxSteps: this.opts.maxSteps } : {}),
      ...(this.opts.maxSeconds !== undefined ? { maxSeconds: this.opts.maxSeconds } : {}),
    });
  }

  /** The share of the budget done: steps or seconds, whichever is further along (undefined with neither limit). */
  private progress(): number | undefined {
    const { maxSteps, maxSeconds } = this.opts;
    let p: number | undefined;
    if (maxSteps !== undefined) p = this.step / maxSteps;
    if (maxSeconds !== undefined) p = Math.max(p ?? 0, this.elapsedSeconds / maxSeconds);
    return p === undefined ? undefined : Math.min(1, p);
  }

  private eta(elapsed: number, runStartStep: number): { etaSeconds?: number } {
    const { maxSteps, maxSeconds } = this.opts;
    const runSteps = this.step - runStartStep;
    const runSeconds = elapsed - this.elapsedBefore;
    let eta = Infinity;
    if (maxSteps !== undefined && runSteps > 0) eta = Math.max(0, maxSteps - this.step) * (runSeconds / runSteps);
    if (maxSeconds !== undefined) eta = Math.min(eta, Math.max(0, maxSeconds - elapsed));
    return Number.isFinite(eta) ? { etaSeconds: eta } : {};
  }

  /**
   * Runs task.evaluate in eval mode under noGrad (and back to training mode after).
   *
   * @example
   * trainer.evaluate(); // { validLoss: 1.92, exactMatch: 0.75 }
   */
  evaluate(): Record<string, number> {
    const evaluate = this.task.evaluate;
    if (!evaluate) throw new ArgumentError(`Trainer.evaluate: task '${this.task.name}' has no evaluate(model)`);
    this.model.eval();
    try {
      return noGrad(() => evaluate.call(this.task, this.model));
    } finally {
      this.model.train();
    }
  }

  private async evaluateAndMonitor(): Promise<void> {
    const metrics = this.evaluate();
    const mon = this.opts.monitor;
    let improved = false;
    if (mon) {
      const value = metrics[mon.metric];
      if (typeof value === 'number' && !Number.isFinite(value)) {
        throw new TrainingDivergedError(`Trainer: step ${this.step}: monitored metric '${mon.metric}' is ${value} at evaluation, expected a finite number; the run diverged (the last checkpoint saved is kept)`, this.step);
      }
      if (typeof value !== 'number') {
        throw new ArgumentError(`Trainer: monitored metric '${mon.metric}' is ${String(value)} at step ${this.step}, expected a number among the task's metrics (${Object.keys(metrics).join(', ')})`);
      }
      const better = mon.mode === 'max' ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
      improved = this.best === null || better(value, this.best.value);
      if (improved) {
        this.best = { metric: mon.metric, value, step: this.step };
        this.badEvals = 0;
      } else {
        this.badEvals++;
      }
    }
    this.emit({ type: 'eval', step: this.step, epoch: this.epoch, metrics, improved, best: this.best });
    if (improved && this.opts.save) await this.saveCheckpoint('best');
    if (mon?.patience !== undefined && this.badEvals >= mon.patience) {
      this.earlyStopped = true;
      this.emit({ type: 'earlyStop', step: this.step, best: this.best, patience: mon.patience });
    }
  }

  private async saveCheckpoint(which: 'best' | 'last'): Promise<void> {
    assertFiniteWeights(this.model, `Trainer: saving '${which}' at step ${this.step}`, this.step);
    await this.opts.save!(which, this);
    this.emit({ type: 'checkpoint', step: this.step, which });
  }

  private emit(e: TrainEvent): void {
    this.opts.onEvent?.(e);
  }

  /**
   * The loop's state for trainer_state.json: counters, generators (data and the model's dropout),
   * keep-best and patience, elapsed time.
   *
   * @example
   * const s = trainer.state();
   * s.step; s.epoch; s.batchInEpoch; // where a resumed run picks up
   */
  state(): TrainerState {
    return {
      step: this.step,
      epoch: this.epoch,
      batchInEpoch: this.batchInEpoch,
      dataRng: [...this.epochRng],
      modelRngs: this.model.rngStates(),
      best: this.best ? { ...this.best } : null,
      badEvals: this.badEvals,
      elapsedSeconds: this.elapsedSeconds,
      earlyStopped: this.earlyStopped,
    };
  }

  /**
   * Restores what state() returned, the model's dropout generators included.
   *
   * @example
   * fresh.loadState(old.state()); // fresh now continues exactly as old would
   */
  loadState(s: TrainerState): void {
    this.model.setRngStates(s.modelRngs);
    this.dataRng.setState(s.dataRng);
    this.epochRng = this.dataRng.getState();
    this.step = s.step;
    this.epoch = s.epoch;
    this.batchInEpoch = s.batchInEpoch;
    this.best = s.best ? { ...s.best } : null;
    this.badEvals = s.badEvals;
    this.elapsedBefore = s.elapsedSeconds;
    this.earlyStopped = s.earlyStopped;
    this.iter = null;
  }

  /**
   * Restores a checkpoint's training state into this (fresh) trainer and its optimizer; the model's
   * weights are loaded separately (loadCheckpoint does it).
   *
   * @example
   * const ck = await loadCheckpoint('runs/copy/last', { kind: 'transformer' });
   * const trainer = new Trainer(ck.model, task, opts);
   * trainer.restore(ck);
   * await trainer.run(); // continues bit for bit
   */
  restore(ck: { optimizerState: OptimizerState | null; trainerState: TrainerState | null }): void {
    if (!ck.optimizerState || !ck.trainerState) {
      throw new ArgumentError('Trainer.restore: the checkpoint has no training state (optimizer.safetensors and trainer_state.json), expected a checkpoint saved during training');
    }
    this.optimizer.loadStateDict(ck.optimizerState);
    this.loadState(ck.trainerState);
  }
}

/** √(Σ‖g‖²) over the parameters' gradients, as clipGradNorm measures it. */
function globalGradNorm(params: readonly Tensor[]): number {
  return noGrad(() => {
    let sq = 0;
    for (const p of params) if (p.grad) sq += p.grad.mul(p.grad).sum().item();
    return Math.sqrt(sq);
  });
}

/** d_model from a model's `config`, for the default Noam schedule. */
function dModelOf(model: Module): number {
  const d = (model as { config?: { dModel?: unknown } }).config?.dModel;
  if (typeof d !== 'number') {
    throw new ArgumentError(`Trainer: the default Noam schedule needs d_model; ${model.constructor.name} has no config.dModel, so pass dModel or a schedule`);
  }
  return d;
}

function checkOptions<M extends Module, B>(task: TrainTask<M, B>, o: TrainerOptions<M, B>): void {
  const positiveInt = (name: keyof TrainerOptions, v: number | undefined) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new ArgumentError(`Trainer: ${name} is ${v}, expected an integer ≥ 1`);
  };
  for (const k of ['maxSteps', 'maxEpochs', 'evalEvery', 'saveEvery', 'warmup', 'maxSkippedSteps'] as const) positiveInt(k, o[k]);
  if (o.saveEverySeconds !== undefined && !(o.saveEverySeconds > 0)) throw new ArgumentError(`Trainer: saveEverySeconds is ${o.saveEverySeconds}, expected a number > 0`);
  if (o.saveEverySeconds !== undefined && !o.save) throw new ArgumentError(`Trainer: saveEverySeconds is ${o.saveEverySeconds} but no save hook is set`);
  if (o.onNonFinite !== undefined && o.onNonFinite !== 'stop' && o.onNonFinite !== 'skip') throw new ArgumentError(`Trainer: onNonFinite is '${String(o.onNonFinite)}', expected 'stop' or 'skip'`);
  if (o.divergence) {
    const { factor, patience, warmup } = o.divergence;
    if (factor !== undefined && !(Number.isFinite(factor) && factor >= 1)) throw new ArgumentError(`Trainer: divergence.factor is ${factor}, expected a finite number ≥ 1`);
    if (patience !== undefined && !(Number.isInteger(patience) && patience >= 1)) throw new ArgumentError(`Trainer: divergence.patience is ${patience}, expected an integer ≥ 1`);
    if (warmup !== undefined && !(Number.isInteger(warmup) && warmup >= 0)) throw new ArgumentError(`Trainer: divergence.warmup is ${warmup}, expected an integer ≥ 0`);
  }
  if (o.maxSeconds !== undefined && !(o.maxSeconds > 0)) throw new ArgumentError(`Trainer: maxSeconds is ${o.maxSeconds}, expected a number > 0`);
  if (o.maxSteps === undefined && o.maxEpochs === undefined && o.maxSeconds === undefined) {
    throw new ArgumentError('Trainer: no limit given, expected at least one of maxSteps, maxEpochs and maxSeconds');
  }
  if (o.clipGradNorm !== undefined && !(Number.isFinite(o.clipGradNorm) && o.clipGradNorm > 0)) {
    throw new ArgumentError(`Trainer: clipGradNorm is ${o.clipGradNorm}, expected a finite number > 0`);
  }
  if (o.evalEvery !== undefined && !task.evaluate) throw new ArgumentError(`Trainer: evalEvery is ${o.evalEvery} but task '${task.name}' has no evaluate(model)`);
  if (o.evalAtEnd && o.evalEvery === undefined) throw new ArgumentError('Trainer: evalAtEnd needs evalEvery, expected an integer ≥ 1');
  if (o.monitor) {
    const { metric, mode, patience } = o.monitor;
    if (o.evalEvery === undefined) throw new ArgumentError(`Trainer: monitor '${metric}' needs evalEvery, expected an integer ≥ 1`);
    if (mode !== undefined && mode !== 'min' && mode !== 'max') throw new ArgumentError(`Trainer: monitor.mode is '${String(mode)}', expected 'min' or 'max'`);
    if (patience !== undefined && !(Number.isInteger(patience) && patience >= 1)) throw new ArgumentError(`Trainer: monitor.patience is ${patience}, expected an integer ≥ 1`);
  }
  if (o.saveEvery !== undefined && !o.save) throw new ArgumentError(`Trainer: saveEvery is ${o.saveEvery} but no save hook is set`);
}
