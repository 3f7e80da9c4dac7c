// The events a Trainer reports while it runs: steps, evaluations, checkpoints, early stopping, the end.

/** The best value of the monitored metric so far, and the step that reached it. */
export interface BestMetric {
  metric: string;
  value: number;
  step: number;
}

/** Why {@link Trainer.run} returned. */
/** 'stopped': {@link Trainer.stop} was called (or its abort signal fired), e.g. on Ctrl-C. */
export type StopReason = 'maxSteps' | 'maxEpochs' | 'maxSeconds' | 'earlyStop' | 'stopped';

/** After every optimizer step. */
export interface StepEvent {
  type: 'step';
  /** Steps taken so far, this one included (the first step is step 1). */
  step: number;
  /** Epoch this step's batch came from (from 0). */
  epoch: number;
  loss: number;
  /** Learning rate this step used. */
  lr: number;
  /** Tokens the loss covered (the task's count). */
  tokens: number;
  /** tokens / the wall-clock seconds of this step. */
  tokensPerSecond: number;
  /** Global L2 norm of the gradients, before clipping. */
  gradNorm: number;
  /** Training seconds so far, earlier runs of a resumed trainer included. */
  elapsedSeconds: number;
  /** Seconds to the nearest known limit (maxSteps at this run's pace, or maxSeconds); absent when neither is set. */
  etaSeconds?: number;
  /** The maxSteps limit, when there is one (progress bars use it as their total). */
  maxSteps?: number;
  /** The maxSeconds limit, when there is one (a progress bar follows whichever limit is further along). */
  maxSeconds?: number;
  /** True when the step's loss or gradient norm was not finite and onNonFinite 'skip' left the weights alone. */
  skipped?: boolean;
}

/** After every evaluation. */
export interface EvalEvent {
  type: 'eval';
  step: number;
  epoch: number;
  metrics: Record<string, number>;
  /** True when the monitored metric improved on the best so far. */
  improved: boolean;
  best: BestMetric | null;
}

/** After the save hook finished writing a checkpoint. */
export interface CheckpointEvent {
  type: 'checkpoint';
  step: number;
  which: 'best' | 'last';
}

/** When the monitored metric has not improved for `patience` evaluations. */
export interface EarlyStopEvent {
  type: 'earlyStop';
  step: number;
  best: BestMetric | null;
  patience: number;
}

/** When an epoch's batches are used up. */
export interface EpochEndEvent {
  type: 'epochEnd';
  /** The epoch that ended (from 0). */
  epoch: number;
  step: number;
}

/** Something the user should know that does not stop the run (a skipped step, a loss that starts to diverge). */
export interface WarningEvent {
  type: 'warning';
  step: number;
  /** 'nonFinite': a step skipped; 'divergence': the loss rose far above its running minimum. */
  kind: 'nonFinite' | 'divergence';
  message: string;
}

/** When run() returns. */
export interface EndEvent {
  type: 'end';
  step: number;
  epoch: number;
  reason: StopReason;
  elapsedSeconds: number;
  best: BestMetric | null;
}

/** Everything a Trainer's `onEvent` hook receives; switch on `type`. */
export type TrainEvent = StepEvent | EvalEvent | CheckpointEvent | EarlyStopEvent | EpochEndEvent | WarningEvent | EndEvent;

/**
 * One event handler that calls several (a progress bar and a log file, say), in order.
 *
 * @example
 * const trainer = new Trainer(model, task, { maxSteps: 1000, onEvent: fanOut(bar.onEvent, log.onEvent) });
 */
export function fanOut(...handlers: ((e: TrainEvent) => void)[]): (e: TrainEvent) => void {
  return (e) => {
    for (const h of handlers) h(e);
  };
}
