// Opening a checkpoint for the CLI: a run folder or a checkpoint folder, its task config and its model.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Module } from '../nn/module.js';
import { loadCheckpoint, resolveCheckpointDir } from '../node/checkpoint.js';
import type { LoadedCheckpoint } from '../node/checkpoint.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { buildModelOfKind, checkTaskName } from '../train/tasks/index.js';
import type { TaskConfig, TaskName, TrainedModel } from '../train/tasks/index.js';
import { CliError } from './errors.js';

/** The extra file qkv train writes next to a checkpoint: the last evaluation's metrics. */
export const METRICS_FILE = 'metrics.json';

/** A checkpoint opened by the CLI. */
export interface OpenedCheckpoint<M extends Module = Module> extends TrainedModel<M> {
  /** The checkpoint folder actually read (a run folder resolves to its best/ or last/). */
  dir: string;
  ck: LoadedCheckpoint<M>;
  task: TaskName;
  config: TaskConfig;
  /** The evaluation qkv train recorded with the checkpoint, if any. */
  metrics: { step: number; metrics: Record<string, number> } | null;
}

// Shared with src/node/pretrained.ts's loadPretrained, which resolves a folder the same way.
export { resolveCheckpointDir };

/**
 * Loads a checkpoint trained by `qkv train`: the model (native backend), tokenizers and task
 * config. With `task`, a checkpoint of another task is an error.
 */
export async function openCheckpoint<M extends Module = Module>(path: string, task?: TaskName): Promise<OpenedCheckpoint<M>> {
  const dir = resolveCheckpointDir(path);
  let kind = 'transformer';
  try {
    const raw = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { modelKind?: unknown };
    if (typeof raw.modelKind === 'string') kind = raw.modelKind;
  } catch {
    // readCheckpoint below reports the broken config.json with the file name.
  }
  const ck = await loadCheckpoint<M>(dir, { build: buildModelOfKind(kind) });
  const t = ck.config.task;
  if (!t) throw new CliError(`${dir}: the checkpoint records no task, expected one written by qkv train`);
  let name: TaskName;
  try {
    name = checkTaskName(t.name);
  } catch {
    throw new CliError(`${dir}: trained on task '${t.name}', which the CLI does not know`);
  }
  if (task && name !== task) throw new CliError(`${dir}: trained on task '${name}', expected a ${task} checkpoint`);
  const tokenizer: Tokenizer | null = ck.tokenizer;
  if (!tokenizer) throw new CliError(`${dir}/tokenizer.json: file is missing, expected it in a checkpoint of task ${name}`);
  let metrics: OpenedCheckpoint['metrics'] = null;
  try {
    metrics = JSON.parse(readFileSync(join(dir, METRICS_FILE), 'utf8'));
  } catch {
    metrics = null;
  }
  return {
    dir, ck, task: name, config: t.options as unknown as TaskConfig, metrics,
    model: ck.model, tokenizer, targetTokenizer: ck.targetTokenizer ?? tokenizer,
  };
}
