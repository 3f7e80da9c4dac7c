// The train room's public face: the trainer loop, its events, and checkpoints as bytes.

export { Trainer } from './trainer.js';
export type { TrainTask, TrainerOptions, TrainerState, TrainResult, MonitorOptions, SaveHook } from './trainer.js';
export { fanOut } from './events.js';
export { DivergenceWatch, TrainingDivergedError, assertFiniteWeights, firstNonFiniteWeight } from './health.js';
export type { DivergenceOptions, NonFiniteAction } from './health.js';
export type {
  TrainEvent, StepEvent, EvalEvent, CheckpointEvent, EarlyStopEvent, EpochEndEvent, EndEvent, WarningEvent, BestMetric, StopReason,
} from './events.js';
export { QKV_VERSION, CHECKPOINT_FORMAT, CHECKPOINT_FILES, CheckpointError, checkFinite, checkpointFiles, readCheckpoint, loadModelState } from './checkpoint.js';
export type { CheckpointConfig, CheckpointParts, CheckpointData, ReadCheckpointOptions } from './checkpoint.js';
export { modelFromCheckpoint } from './checkpoint-models.js';
export { averageStates } from './average.js';
export type { NamedState } from './average.js';
export type { ModelFromCheckpointOptions } from './checkpoint-models.js';
