// Opening a checkpoint for the CLI: a run folder or a checkpoint folder, its task config (if qkv train knows the task) and its model.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Module } from '../nn/module.js';
import { loadCheckpoint, resolveCheckpointDir } from '../node/checkpoint.js';
import type { LoadedCheckpoint } from '../node/checkpoint.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { TASK_NAMES } from '../train/tasks/index.js';
import type { TaskConfig, TrainedModel } from '../train/tasks/index.js';
import { CliError } from './errors.js';

/** The extra file qkv train writes next to a checkpoint: the last evaluation's metrics. */
export const METRICS_FILE = 'metrics.json';

/** The model kinds the CLI's commands use, and what each is. */
export type ModelKind = 'transformer' | 'gpt';
const KIND_WORDS: Record<ModelKind, string> = {
  transformer: 'encoder-decoder: g2p, translate, seq2seq',
  gpt: 'language model: lm',
};

/** A checkpoint opened by the CLI. */
export interface OpenedCheckpoint<M extends Module = Module> extends TrainedModel<M> {
  /** The checkpoint folder actually read (a run folder resolves to its best/ or last/). */
  dir: string;
  ck: LoadedCheckpoint<M>;
  /** The task config.json records ('' when it records none): one qkv train knows, or any other (a custom TrainTask). */
  task: string;
  /** The run's config when qkv train knows the task; null for a custom task (or none). */
  config: TaskConfig | null;
  /** The evaluation qkv train recorded with the checkpoint, if any. */
  metrics: { step: number; metrics: Record<string, number> } | null;
}

// Shared with src/node/pretrained.ts's loadPretrained, which resolves a folder the same way.
export { resolveCheckpointDir };

/** Options of {@link openCheckpoint}. */
export interface OpenOptions {
  /** The model kind the command needs; another is an error naming both. */
  kind?: ModelKind;
  /** The command needs the tokenizer(s): a checkpoint without tokenizer.json is an error. */
  needTokenizer?: boolean;
}

/**
 * Loads any qkv checkpoint (one written by qkv train, or by the library's Trainer with any task
 * name): the model (native backend), tokenizers, and the task config when qkv train knows the
 * task. With `kind`, a checkpoint of another model kind is an error.
 */
export async function openCheckpoint<M extends Module = Module>(path: string, opts: OpenOptions = {}): Promise<OpenedCheckpoint<M>> {
  const dir = resolveCheckpointDir(path);
  // Every kind the CLI uses is built by the loader itself, so the same config, weight and tokenizer checks run for each.
  const ck = await loadCheckpoint<M>(dir);
  const t = ck.config.task;
  const name = t?.name ?? '';
  const trained = name ? `task '${name}'` : 'no recorded task';
  if (opts.kind && ck.config.modelKind !== opts.kind) {
    throw new CliError(`${dir}: a ${ck.config.modelKind} checkpoint (${trained}), expected a ${opts.kind} checkpoint (${KIND_WORDS[opts.kind]})`);
  }
  const tokenizer: Tokenizer | null = ck.tokenizer;
  if (opts.needTokenizer && !tokenizer) throw new CliError(`${dir}/tokenizer.json: file is missing, expected the checkpoint's tokenizer (save it with the model)`);
  let metrics: OpenedCheckpoint['metrics'] = null;
  try {
    metrics = JSON.parse(readFileSync(join(dir, METRICS_FILE), 'utf8'));
  } catch {
    metrics = null;
  }
  // A task qkv train knows writes its whole config, whose `task` names it; a custom TrainTask may reuse a name with other options.
  const known = t !== null && (TASK_NAMES as readonly string[]).includes(t.name) && t.options.task === t.name;
  return {
    dir, ck, task: name, config: known ? (t!.options as unknown as TaskConfig) : null, metrics,
    model: ck.model, tokenizer: tokenizer!, targetTokenizer: ck.targetTokenizer ?? tokenizer!,
  };
}
