// Training from a script: what `qkv train` does (a task, its preset and fields → best/ and last/ checkpoints), as one call.

import { resolve } from 'node:path';
import { PATH_FIELDS, runTraining } from '../cli/train.js';
import type { TrainResult } from '../train/trainer.js';
import { checkPresetName, checkTaskName, taskConfig } from '../train/tasks/index.js';
import type { PresetName, TaskName } from '../train/tasks/index.js';

/** Options of {@link train}. */
export interface TrainOptions {
  /** 'g2p', 'translate', 'lm' (State of the Union, or your `train` text) or 'seq2seq' (your `train` pairs). */
  task: TaskName;
  /** Size of the run (default 'small'). */
  preset?: PresetName;
  /** The run folder: best/ and last/ checkpoints are written there. */
  out: string;
  /** Config fields that replace the preset's (docs/config.md), e.g. `{ train: 'book.txt', maxSteps: 500 }`; paths are relative to the working directory. */
  fields?: Record<string, unknown>;
  /** Fine-tune: start from this checkpoint's (or run folder's) weights and tokenizers, at step 0 with a new schedule. */
  initFrom?: string;
  /** With `initFrom`: grow the tokenizers and embedding rows to cover symbols the checkpoint lacks. */
  resizeVocab?: boolean;
  /** Continue the run in `out` from its last/ checkpoint. */
  resume?: boolean;
  /** Remove a run already in `out` (best/, last/) and start afresh; without it (or `resume`) such a folder is an error. */
  overwrite?: boolean;
  /** Stop between two steps when this fires: last/ is saved and the result's reason is 'stopped'. */
  signal?: AbortSignal;
  /** Append every training event to this JSON Lines file. */
  log?: string;
  /** Receives each line `qkv train` would print (evaluations, the end line, notes); default: nothing is printed. */
  onLine?: (line: string) => void;
}

/**
 * Trains a task into `out` as `qkv train` does and resolves when the run ends (a limit, or early
 * stopping), with the Trainer's result and the two checkpoint folders.
 *
 * @example
 * const { best } = await train({ task: 'lm', out: 'runs/book', fields: { train: 'book.txt', maxSteps: 500 }, initFrom: 'runs/sotu' });
 * const generate = await pipeline('text-generation', best);
 */
export async function train(o: TrainOptions): Promise<{ result: TrainResult; best: string; last: string }> {
  const fields = { ...(o.fields ?? {}) };
  for (const f of PATH_FIELDS) if (typeof fields[f] === 'string') fields[f] = resolve(fields[f] as string);
  const config = taskConfig(checkTaskName(o.task), checkPresetName(o.preset ?? 'small'), fields);
  const line = o.onLine ?? (() => undefined);
  const { result } = await runTraining(
    {
      config, out: o.out, resume: o.resume, overwrite: o.overwrite, log: o.log, initFrom: o.initFrom, resizeVocab: o.resizeVocab,
      handleSignals: false, ...(o.signal ? { signal: o.signal } : {}),
    },
    { out: line, err: line },
  );
  return { result, best: resolve(o.out, 'best'), last: resolve(o.out, 'last') };
}
