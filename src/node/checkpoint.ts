// Checkpoint folders on disk: atomic save, load with checks, and the Trainer's save hook (best/ and last/).
//
// Layout of a training run's folder (what checkpointSaver writes):
//   <root>/last/   the latest state: written at the end of run() and every `saveEvery` steps
//   <root>/best/   the state at the best evaluation of the monitored metric so far
// Each is a complete checkpoint folder (see src/train/checkpoint.ts for its files), replaced
// atomically by writeDirAtomic: a crash leaves the previous version, never a half-written one.

import { existsSync, promises as fs, statSync } from 'node:fs';
import { join } from 'node:path';
import { HF_FILES, isHFFolder, readHFCheckpoint } from '../inference/hf-folder.js';
import type { Module } from '../nn/module.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { CHECKPOINT_FILES, CheckpointError, checkpointFiles, readCheckpoint } from '../train/checkpoint.js';
import type { CheckpointData, CheckpointParts, ReadCheckpointOptions } from '../train/checkpoint.js';
import { modelFromCheckpoint } from '../train/checkpoint-models.js';
import type { ModelFromCheckpointOptions } from '../train/checkpoint-models.js';
import type { SaveHook } from '../train/trainer.js';
import { findCompleteCopy, staleCopies, writeDirAtomic } from './atomic-write.js';

/**
 * Writes a checkpoint folder atomically (the old folder stays until the new one is complete).
 *
 * @example
 * await saveCheckpoint('runs/copy/final', { modelKind: 'transformer', modelConfig: model.config, model, tokenizer });
 */
export async function saveCheckpoint(dir: string, parts: CheckpointParts): Promise<void> {
  await writeDirAtomic(dir, checkpointFiles(parts));
}

/**
 * The named files of a checkpoint folder that exist, as bytes, and the folder actually read: when
 * `dir` is missing because a save crashed mid-swap, the newest complete copy it left beside it
 * (`<dir>.old-*` or `<dir>.tmp-*` whose manifest lists every file at its size; see findCompleteCopy).
 *
 * @example
 * const { files } = await readCheckpointFiles('runs/copy/last', ['config.json', 'model.safetensors']);
 */
export async function readCheckpointFiles(dir: string, names: readonly string[] = Object.values(CHECKPOINT_FILES)): Promise<{ dir: string; files: Map<string, Uint8Array> }> {
  let st;
  try {
    st = await fs.stat(dir);
  } catch {
    // A kill between writeDirAtomic's two renames leaves no `dir` but complete copies beside it;
    // only one whose manifest says it was written whole is read, never a torn one.
    const copy = await findCompleteCopy(dir);
    if (copy) return readCheckpointFiles(copy, names);
    const torn = (await staleCopies(dir)).length;
    throw new CheckpointError(`${dir}: no such checkpoint folder${torn ? ` (${torn} incomplete ${torn === 1 ? 'copy' : 'copies'} left by an interrupted save beside it, not read)` : ''}`);
  }
  if (!st.isDirectory()) throw new CheckpointError(`${dir}: is not a folder, expected a checkpoint folder`);
  const files = new Map<string, Uint8Array>();
  for (const name of names) {
    try {
      files.set(name, await fs.readFile(join(dir, name)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return { dir, files };
}

/**
 * Reads a checkpoint folder's files and checks them, without building a model; a Hugging Face
 * folder (config.json with model_type, see docs/hf.md) is read through its name mapping. When `dir` is
 * missing because a save crashed mid-swap, the newest complete copy it left (`<dir>.old-*` or
 * `<dir>.tmp-*`, checked against its manifest) is read; an incomplete one never is.
 *
 * @example
 * const ck = await readCheckpointDir('runs/copy/last');
 * ck.trainerState?.step; // 2000
 */
export async function readCheckpointDir(dir: string, opts: Omit<ReadCheckpointOptions, 'source'> = {}): Promise<CheckpointData> {
  const read = await readCheckpointFiles(dir, [...Object.values(CHECKPOINT_FILES), HF_FILES.tokenizerConfig]);
  if (!isHFFolder(read.files)) return readCheckpoint(read.files, { ...opts, source: read.dir });
  // A Hugging Face folder (config.json with model_type): qkv info, eval, export and --init-from read it too.
  const ck = readHFCheckpoint(read.files, { source: read.dir });
  if (opts.kind !== undefined && ck.config.modelKind !== opts.kind) {
    throw new CheckpointError(`${read.dir}/config.json: a Hugging Face ${ck.config.modelKind} folder, expected modelKind "${opts.kind}"`);
  }
  return ck;
}

/**
 * Where the checkpoint of `path` is: the folder itself when it holds config.json, else its best/
 * (or, failing that, last/) when it is a run folder written by `qkv train`. Errors are
 * CheckpointErrors saying what was found instead.
 *
 * @example
 * resolveCheckpointDir('runs/g2p-small'); // 'runs/g2p-small/best'
 */
export function resolveCheckpointDir(path: string): string {
  if (!existsSync(path)) throw new CheckpointError(`${path}: no such checkpoint folder`);
  if (!statSync(path).isDirectory()) throw new CheckpointError(`${path}: is a file, expected a checkpoint folder`);
  if (existsSync(join(path, CHECKPOINT_FILES.config))) return path;
  for (const sub of ['best', 'last']) if (existsSync(join(path, sub, CHECKPOINT_FILES.config))) return join(path, sub);
  throw new CheckpointError(`${path}: not a checkpoint (no config.json), expected a folder written by qkv train or a run folder holding best/ or last/`);
}

/** A loaded checkpoint: its data and a fresh model holding its weights. */
export interface LoadedCheckpoint<M extends Module = Module> extends CheckpointData {
  model: M;
}

/**
 * Loads a checkpoint folder: checks every file, builds a fresh model of its kind and loads the
 * weights. Errors are CheckpointErrors naming the file and field. To resume training, build a
 * Trainer around `model` and call `trainer.restore(ck)`.
 *
 * @example
 * const ck = await loadCheckpoint<Transformer>('runs/copy/best', { kind: 'transformer' });
 * greedyDecode(ck.model, src, { bos: 1, maxLen: 20 });
 */
export async function loadCheckpoint<M extends Module = Module>(
  dir: string,
  opts: Omit<ReadCheckpointOptions, 'source'> & ModelFromCheckpointOptions = {},
): Promise<LoadedCheckpoint<M>> {
  const data = await readCheckpointDir(dir, opts);
  return { ...data, model: modelFromCheckpoint(data, opts) as M };
}

/** What a checkpoint needs besides what the trainer holds. */
export interface CheckpointSaverInfo {
  modelKind: string;
  /** The resolved model config (a Transformer's `model.config`). */
  modelConfig: object;
  tokenizer?: Tokenizer | null;
  /** Only when it differs from `tokenizer` (then written as target_tokenizer.json). */
  targetTokenizer?: Tokenizer | null;
}

/**
 * The Trainer's save hook: writes `<root>/best` and `<root>/last` with the model, optimizer,
 * trainer state, task and tokenizers.
 *
 * @example
 * const trainer = new Trainer(model, task, { maxSteps: 2000, saveEvery: 500,
 *   save: checkpointSaver('runs/copy', { modelKind: 'transformer', modelConfig: model.config }) });
 */
export function checkpointSaver<M extends Module, B>(root: string, info: CheckpointSaverInfo): SaveHook<M, B> {
  return async (which, trainer) => {
    await saveCheckpoint(join(root, which), {
      ...info,
      model: trainer.model,
      task: { name: trainer.task.name, options: trainer.task.options ?? {} },
      optimizer: trainer.optimizer,
      trainerState: trainer.state(),
    });
  };
}
