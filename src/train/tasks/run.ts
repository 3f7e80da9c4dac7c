// What a task recipe builds: the TrainTask, a fresh model, its tokenizers and the Trainer options.

import type { Module } from '../../nn/module.js';
import type { Tokenizer } from '../../tokenizers/tokenizer.js';
import type { TrainTask, TrainerOptions } from '../trainer.js';

/** Everything `qkv train` needs to start (or resume) a run of one task. */
export interface TaskRun<M extends Module = Module, B = unknown> {
  /** The task; its `options` are the full resolved config, so config.json can rebuild it. */
  task: TrainTask<M, B>;
  /** A freshly initialised model (a resumed run loads the checkpoint's weights into it). */
  model: M;
  /** The checkpoint's modelKind: 'transformer' or 'gpt'. */
  modelKind: 'transformer' | 'gpt';
  tokenizer: Tokenizer;
  /** The target side's tokenizer when it differs from `tokenizer`. */
  targetTokenizer: Tokenizer | null;
  /** Schedule, clipping, limits, evaluation and keep-best, from the config. */
  trainer: TrainerOptions;
  /** One line on what is trained on, for the start of a run's output. */
  summary: string;
}

/** Tokenizers taken from a checkpoint instead of being built again (resume, evaluation). */
export interface ReuseTokenizers {
  tokenizer: Tokenizer;
  targetTokenizer?: Tokenizer | null;
}

/** Options of a task's evaluation of a trained model (`qkv eval`). */
export interface EvaluateOptions {
  split: 'valid' | 'test';
  /** Beam size (default: the config's `beam`). */
  beam?: number;
  /** Evaluate only this many examples, spread over the split (default: all). */
  limit?: number;
}

export type { TrainedModel } from '../../inference/model.js';
