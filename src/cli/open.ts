// Opening a checkpoint for the CLI: a run folder or a checkpoint folder, its task config (if qkv train knows the task) and its model.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Module } from '../nn/module.js';
import { loadCheckpoint, resolveCheckpointDir } from '../node/checkpoint.js';
import type { LoadedCheckpoint } from '../node/checkpoint.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { CheckpointError } from '../train/checkpoint-fields.js';
import { TASK_NAMES, checkpointTaskConfig } from '../train/tasks/index.js';
import type { TaskName } from '../train/tasks/index.js';
import { checkFields } from '../train/tasks/config-schema.js';
import type { TaskConfig, TrainedModel } from '../train/tasks/index.js';
import { CliError } from './errors.js';

/** The extra file qkv train writes next to a checkpoint: the last evaluation's metrics. */
export const METRICS_FILE = 'metrics.json';

/** The model kinds the CLI's commands use, and what each is. */
export type ModelKind = 'transformer' | 'lstm-seq2seq' | 'gpt' | 'bert' | 'bert-classifier' | 'gpt-classifier';
const KIND_WORDS: Record<ModelKind, string> = {
  transformer: 'encoder-decoder: g2p, translate, seq2seq',
  'lstm-seq2seq': 'LSTM encoder-decoder: g2p',
  gpt: 'language model: lm',
  bert: 'BERT masked LM: mlm',
  'bert-classifier': 'BERT sequence classifier: classify',
  'gpt-classifier': 'GPT sequence classifier: classify',
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
  const metrics = readMetrics(join(dir, METRICS_FILE));
  // A task qkv train knows writes its whole config, whose `task` names it (a config without one is
  // damaged); a custom TrainTask may reuse a name with options whose `task` is another string.
  const options = t?.options as unknown;
  const ownTask = options !== null && typeof options === 'object' && !Array.isArray(options) ? (options as { task?: unknown }).task : undefined;
  const known = t !== null && (TASK_NAMES as readonly string[]).includes(t.name) && (ownTask === undefined || ownTask === t.name);
  const config = known ? checkpointTaskConfig(t!.name as TaskName, options, join(dir, 'config.json')) : null;
  return {
    dir, ck, task: name, config, metrics,
    model: ck.model, tokenizer: tokenizer!, targetTokenizer: ck.targetTokenizer ?? tokenizer!,
  };
}

/** metrics.json: the step of the evaluation and its metrics (a NaN metric is written as null). */
const METRICS_SCHEMA = z.object({
  step: z.number({ error: 'an integer ≥ 0' }).int({ error: 'an integer ≥ 0' }).min(0, { error: 'an integer ≥ 0' }),
  metrics: z.record(z.string(), z.number({ error: 'a number or null' }).nullable(), { error: 'an object of metric names and numbers' }),
}, { error: 'an object {"step": ..., "metrics": {...}}' });

/**
 * Reads a checkpoint's metrics.json (null when there is none): bad JSON or a wrong field is a
 * CheckpointError naming the file and the field.
 */
export function readMetrics(path: string): OpenedCheckpoint['metrics'] {
  if (!existsSync(path)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CheckpointError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new CheckpointError(`${path}: the top level is ${JSON.stringify(raw)}, expected an object {"step": ..., "metrics": {...}}`);
  }
  checkFields(METRICS_SCHEMA, raw, `${path}: field`, CheckpointError);
  const m = raw as { step: number; metrics: Record<string, number | null> };
  return { step: m.step, metrics: Object.fromEntries(Object.entries(m.metrics).map(([k, v]) => [k, v ?? NaN])) };
}
