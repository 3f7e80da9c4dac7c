// What a task recipe builds: the TrainTask, a fresh model, its tokenizers and the Trainer options.

import type { ReadProgress } from '../../data/load.js';
import type { BadRows } from '../../data/user-files.js';
import type { Module } from '../../nn/module.js';
import type { Tokenizer } from '../../tokenizers/tokenizer.js';
import type { TrainTask, TrainerOptions } from '../trainer.js';

/** The model kinds qkv trains (config.json's `modelKind`). */
export type ModelKind = 'transformer' | 'lstm-seq2seq' | 'gpt' | 'bert' | 'bert-classifier' | 'gpt-classifier';

/** Everything `qkv train` needs to start (or resume) a run of one task. */
export interface TaskRun<M extends Module = Module, B = unknown> {
  /** The task; its `options` are the full resolved config, so config.json can rebuild it. */
  task: TrainTask<M, B>;
  /** A freshly initialised model (a resumed run loads the checkpoint's weights into it). */
  model: M;
  /** The checkpoint's modelKind. */
  modelKind: ModelKind;
  tokenizer: Tokenizer;
  /** The target side's tokenizer when it differs from `tokenizer`. */
  targetTokenizer: Tokenizer | null;
  /** Schedule, clipping, limits, evaluation and keep-best, from the config. */
  trainer: TrainerOptions;
  /** One line on what is trained on, for the start of a run's output. */
  summary: string;
  /** More lines for the start of the output: skipped bad rows, tokens added to a reused vocabulary. */
  notes?: string[];
}

/** Tokenizers (and the model's shape) taken from a checkpoint instead of being built again (resume, fine-tuning). */
export interface ReuseTokenizers {
  tokenizer: Tokenizer;
  targetTokenizer?: Tokenizer | null;
  /**
   * The checkpoint's resolved model config: the run's model is built from it (vocabulary sizes
   * from the tokenizers, seed from the run's config) instead of from the task config's model fields.
   */
  modelConfig?: Record<string, unknown>;
  /**
   * Fine-tuning on other data: what to do when the training data holds symbols the tokenizers
   * have no token for (characters of a char tokenizer, symbols of a symbol one; byte-level BPE
   * encodes everything): 'error' names them, 'extend' appends them to the vocabulary. Absent: no
   * check (a resumed run's tokenizers were built from its own data).
   */
  newSymbols?: 'error' | 'extend';
  /** Names the checkpoint in errors (default 'the checkpoint'). */
  source?: string;
}

/** Options of building a run (buildTaskRun and the recipes). */
export interface BuildOptions {
  /** Progress of reading data files (your own data is read as a stream). */
  onProgress?: (p: ReadProgress) => void;
}

/** Options of a task's evaluation of a trained model (`qkv eval`). */
export interface EvaluateOptions {
  /** The split of the task's data; a run on your own data has only 'valid' (the valid file or the hold-out). */
  split: 'valid' | 'test';
  /** Beam size (default: the config's `beam`). */
  beam?: number;
  /** Evaluate only this many examples, spread over the split (default: all). */
  limit?: number;
  /** Score this file instead of a split (pairs for an encoder-decoder, text for a language model). */
  file?: string;
  /** Where bad rows of the data go (default: the config's skipBadRows, else the first one throws); read its summary after. */
  badRows?: BadRows;
  /** Progress of reading data files. */
  onProgress?: (p: ReadProgress) => void;
}

export type { TrainedModel } from '../../inference/model.js';
