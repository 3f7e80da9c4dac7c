// Checkpoints as bytes: the files of a checkpoint folder, built from live objects and read back
// with one clear error per problem. The file system side is src/node/checkpoint.ts.
//
// A checkpoint folder holds:
//   config.json            { format, qkvVersion, modelKind, model: the full resolved config, task: { name, options } | null }
//   model.safetensors      the model's stateDict (tied weights appear under each of their names)
//   tokenizer.json         the (source) tokenizer, when the run has one
//   target_tokenizer.json  the target tokenizer, only when it differs from the source one;
//                          absent means the target side uses tokenizer.json too
//   optimizer.safetensors  the optimizer's buffers; metadata: step, optimizer class  } training state:
//   trainer_state.json     TrainerState (step, epoch, batch in epoch, Rngs, best, ...) } both or neither

import { FormatError, StateDictError } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import { parseSafetensors, serializeSafetensors } from '../io/safetensors.js';
import type { Module } from '../nn/module.js';
import type { Optimizer, OptimizerState } from '../optim/optimizer.js';
import type { Tensor } from '../tensor/tensor.js';
import { tokenizerFromJSON } from '../tokenizers/json.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { CheckpointError, checkRecord, describe, readTrainerState } from './checkpoint-fields.js';
import type { TrainerState } from './trainer.js';

/** qkv's version, written into every config.json (kept equal to package.json's by a test). */
export const QKV_VERSION = '0.1.0';

/** The `format` field of config.json. */
export const CHECKPOINT_FORMAT = 'qkv-checkpoint';

/** The file names of a checkpoint folder. */
export const CHECKPOINT_FILES = {
  config: 'config.json',
  model: 'model.safetensors',
  tokenizer: 'tokenizer.json',
  targetTokenizer: 'target_tokenizer.json',
  optimizer: 'optimizer.safetensors',
  trainerState: 'trainer_state.json',
} as const;

export { CheckpointError };

/** What config.json holds. */
export interface CheckpointConfig {
  format: typeof CHECKPOINT_FORMAT;
  qkvVersion: string;
  /** Which model class the weights belong to: 'transformer', 'gpt'... */
  modelKind: string;
  /** The model's full resolved config (no backend). */
  model: Record<string, unknown>;
  /** The task that trained it, with the options that rebuild it. */
  task: { name: string; options: Record<string, unknown> } | null;
}

/** What goes into a checkpoint. Only the model and its kind and config are required. */
export interface CheckpointParts {
  modelKind: string;
  /** The resolved config (a Transformer's `model.config`); a `backend` field is left out. */
  modelConfig: object;
  /** The weights: a Module, or anything giving its state dict (averaged weights, qkv average). */
  model: Pick<Module, 'stateDict'>;
  tokenizer?: Tokenizer | null;
  /** Written as target_tokenizer.json only when given and not the same object as `tokenizer`. */
  targetTokenizer?: Tokenizer | null;
  task?: { name: string; options?: Record<string, unknown> } | null;
  optimizer?: Optimizer | null;
  trainerState?: TrainerState | null;
}

/**
 * The files of a checkpoint, name → bytes or text, ready for writeDirAtomic.
 *
 * @example
 * const files = checkpointFiles({ modelKind: 'transformer', modelConfig: model.config, model, tokenizer });
 * await writeDirAtomic('runs/copy/last', files);
 */
export function checkpointFiles(p: CheckpointParts): Record<string, Uint8Array | string> {
  if ((p.optimizer == null) !== (p.trainerState == null)) {
    throw new CheckpointError('checkpointFiles: optimizer and trainerState go together (a resumable checkpoint needs both), got only one');
  }
  const { backend: _backend, ...model } = p.modelConfig as Record<string, unknown>;
  const config: CheckpointConfig = {
    format: CHECKPOINT_FORMAT,
    qkvVersion: QKV_VERSION,
    modelKind: p.modelKind,
    model,
    task: p.task ? { name: p.task.name, options: p.task.options ?? {} } : null,
  };
  const F = CHECKPOINT_FILES;
  const files: Record<string, Uint8Array | string> = {
    [F.config]: JSON.stringify(config, null, 2) + '\n',
    [F.model]: serializeSafetensors(p.model.stateDict(), { format: 'pt' }),
  };
  if (p.tokenizer) files[F.tokenizer] = JSON.stringify(p.tokenizer.toJSON());
  if (p.targetTokenizer && p.targetTokenizer !== p.tokenizer) files[F.targetTokenizer] = JSON.stringify(p.targetTokenizer.toJSON());
  if (p.optimizer && p.trainerState) {
    const s = p.optimizer.stateDict();
    files[F.optimizer] = serializeSafetensors(s.tensors, { step: String(s.step), optimizer: p.optimizer.constructor.name });
    files[F.trainerState] = JSON.stringify(p.trainerState, null, 2) + '\n';
  }
  return files;
}

/** A checkpoint read back: parsed and checked, not yet put into a model. */
export interface CheckpointData {
  /** Names the folder in error messages. */
  source: string;
  config: CheckpointConfig;
  /** model.safetensors, name → tensor (tensors may view the file's bytes rather than copy them: read them, copy them into a model). */
  modelState: Map<string, Tensor>;
  tokenizer: Tokenizer | null;
  /** target_tokenizer.json when present, else the same object as `tokenizer`. */
  targetTokenizer: Tokenizer | null;
  /** null when the checkpoint holds no training state. */
  optimizerState: OptimizerState | null;
  trainerState: TrainerState | null;
}

/** Options of {@link readCheckpoint}. */
export interface ReadCheckpointOptions {
  /** The model kind expected in config.json; another is an error. */
  kind?: string;
  /** Names the folder in error messages (default 'checkpoint'). */
  source?: string;
}

/**
 * Parses and checks a checkpoint's files (name → bytes; what the folder holds). Every problem is
 * one CheckpointError naming the file and the field: a missing file, a wrong model kind, a config
 * field missing or of the wrong type, malformed safetensors, a bad tokenizer, a malformed trainer
 * state.
 *
 * @example
 * const ck = readCheckpoint(files, { kind: 'transformer', source: 'runs/copy/last' });
 * ck.config.model.dModel; // 32
 */
export function readCheckpoint(files: ReadonlyMap<string, Uint8Array>, opts: ReadCheckpointOptions = {}): CheckpointData {
  const dir = opts.source ?? 'checkpoint';
  const F = CHECKPOINT_FILES;
  const at = (name: string) => `${dir}/${name}`;
  const need = (name: string): Uint8Array => {
    const b = files.get(name);
    if (!b) throw new CheckpointError(`${at(name)}: file is missing, expected it in every checkpoint`);
    return b;
  };
  const text = (name: string, bytes: Uint8Array): string => {
    if (bytes.length > LIMITS.maxJsonBytes) throw new CheckpointError(`${at(name)}: is ${bytes.length} bytes, expected at most ${LIMITS.maxJsonBytes} (the cap LIMITS.maxJsonBytes)`);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new CheckpointError(`${at(name)}: not UTF-8 text, expected JSON`);
    }
  };
  const json = (name: string): unknown => {
    try {
      return JSON.parse(text(name, need(name))) as unknown;
    } catch (e) {
      if (e instanceof CheckpointError) throw e;
      throw new CheckpointError(`${at(name)}: not valid JSON (${(e as Error).message})`);
    }
  };

  const config = readConfig(json(F.config), at(F.config), opts.kind);
  const modelState = asCheckpointError(() => parseSafetensors(need(F.model), { source: at(F.model) }).tensors);
  checkFinite(modelState, at(F.model));
  const tok = (name: string): Tokenizer | null => (files.has(name) ? asCheckpointError(() => tokenizerFromJSON(text(name, files.get(name)!), at(name))) : null);
  const tokenizer = tok(F.tokenizer);
  const targetTokenizer = tok(F.targetTokenizer) ?? tokenizer;
  if (files.has(F.targetTokenizer) && !tokenizer) {
    throw new CheckpointError(`${at(F.targetTokenizer)}: present without ${F.tokenizer}, expected both (the target tokenizer is written only when it differs from the source one)`);
  }

  let optimizerState: OptimizerState | null = null;
  let trainerState: TrainerState | null = null;
  if (files.has(F.optimizer) !== files.has(F.trainerState)) {
    const [have, lacking] = files.has(F.optimizer) ? [F.optimizer, F.trainerState] : [F.trainerState, F.optimizer];
    throw new CheckpointError(`${at(lacking)}: file is missing, expected it next to ${have} (training state needs both)`);
  }
  if (files.has(F.optimizer)) {
    const { tensors, metadata } = asCheckpointError(() => parseSafetensors(need(F.optimizer), { source: at(F.optimizer) }));
    const step = Number(metadata.step);
    if (metadata.step === undefined || !Number.isInteger(step) || step < 0) {
      throw new CheckpointError(`${at(F.optimizer)}: metadata step is ${describe(metadata.step)}, expected a string holding an integer ≥ 0`);
    }
    optimizerState = { step, tensors };
    trainerState = readTrainerState(json(F.trainerState), at(F.trainerState));
  }
  return { source: dir, config, modelState, tokenizer, targetTokenizer, optimizerState, trainerState };
}

/** Checks config.json's envelope (the model config itself is checked by whoever builds the model). */
function readConfig(raw: unknown, where: string, kind: string | undefined): CheckpointConfig {
  const c = checkRecord(raw, where, 'the top level');
  if (c.format !== CHECKPOINT_FORMAT) throw new CheckpointError(`${where}: format is ${describe(c.format)}, expected "${CHECKPOINT_FORMAT}"`);
  if (typeof c.qkvVersion !== 'string') throw new CheckpointError(`${where}: qkvVersion is ${describe(c.qkvVersion)}, expected a version string`);
  if (typeof c.modelKind !== 'string' || !c.modelKind) throw new CheckpointError(`${where}: modelKind is ${describe(c.modelKind)}, expected a model kind such as "transformer"`);
  if (kind !== undefined && c.modelKind !== kind) throw new CheckpointError(`${where}: modelKind is "${c.modelKind}", expected "${kind}"`);
  checkRecord(c.model, where, 'model');
  if (c.task !== null) {
    const t = checkRecord(c.task, where, 'task');
    if (typeof t.name !== 'string') throw new CheckpointError(`${where}: task.name is ${describe(t.name)}, expected a string`);
    checkRecord(t.options, where, 'task.options');
  }
  return c as unknown as CheckpointConfig;
}

/**
 * Throws a CheckpointError naming the first tensor (in file order) holding a NaN or an infinity,
 * with its count and first index: such weights load cleanly and then answer nothing.
 *
 * @example
 * checkFinite(parseSafetensors(bytes).tensors, 'runs/copy/last/model.safetensors');
 */
export function checkFinite(state: ReadonlyMap<string, Tensor>, source: string): void {
  for (const [name, t] of state) {
    if (t.dtype === 'int32') continue;
    const a = t.toArray();
    let first = -1;
    let bad = 0;
    for (let i = 0; i < a.length; i++) {
      if (!Number.isFinite(a[i])) {
        if (first < 0) first = i;
        bad++;
      }
    }
    if (bad > 0) {
      throw new CheckpointError(`${source}: tensor "${name}" holds ${bad} non-finite value${bad === 1 ? '' : 's'} of ${a.length} (the first, at flat index ${first}, is ${a[first]}), expected finite weights`);
    }
  }
}

/** Loads a checkpoint's weights into a model; a mismatch is a CheckpointError carrying loadStateDict's message. */
export function loadModelState(model: Module, state: ReadonlyMap<string, Tensor>, source = 'model.safetensors'): void {
  try {
    model.loadStateDict(state);
  } catch (e) {
    if (e instanceof StateDictError) throw new CheckpointError(`${source}: ${e.message}`);
    throw e;
  }
}

/**
 * Runs `f`, turning a FormatError from a parser (safetensors, tokenizer.json, a layout mapping)
 * into a CheckpointError with the same message.
 *
 * @example
 * const tensors = asCheckpointError(() => parseSafetensors(bytes, { source: 'run/model.safetensors' }).tensors);
 */
export function asCheckpointError<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof FormatError && !(e instanceof CheckpointError)) throw new CheckpointError(e.message);
    throw e;
  }
}
