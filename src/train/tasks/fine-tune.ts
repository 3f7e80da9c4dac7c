// Fine-tuning: a new run that starts from a checkpoint's weights and tokenizers (new optimizer, new schedule, step 0).

import type { Module } from '../../nn/module.js';
import { tensor } from '../../tensor/index.js';
import type { Tensor } from '../../tensor/index.js';
import { tokenizerKindOf } from '../../tokenizers/builder.js';
import { loadModelState } from '../checkpoint.js';
import type { CheckpointData } from '../checkpoint.js';
import { FineTuneError } from './reuse.js';
import type { ReuseTokenizers } from './run.js';
import type { TaskConfig } from './index.js';

/** What {@link initFromCheckpoint} gives a run. */
export interface InitFrom {
  /** The run's config with the checkpoint's model fields (and tokenizer choices) in place of the preset's. */
  config: TaskConfig;
  /** For buildTaskRun: the checkpoint's tokenizers and model config, checked against the new data. */
  reuse: ReuseTokenizers;
  /** Lines for the start of the run's output: what comes from the checkpoint instead of the preset. */
  notes: string[];
}

/** The model kind of a task (a copy of index.ts's taskModelKind, which this file cannot import at run time). */
const kindOf = (task: string): string => (task === 'lm' ? 'gpt' : 'transformer');
const describeKind = (kind: string): string => (kind === 'gpt' ? 'a decoder-only language model' : kind === 'transformer' ? 'an encoder-decoder' : 'a model');

/**
 * Plans a run of `config` that starts from the checkpoint `ck`: checks that the checkpoint's
 * model kind is the task's and that it has the tokenizers the task needs, then takes its model
 * fields (the preset's are replaced: the weights need the checkpoint's shapes) and, for seq2seq
 * and lm, its tokenizer choices. With `resizeVocab` the reused tokenizers may grow to cover the
 * new data's symbols (see reusedTokenizer); without it an unknown symbol is an error. Load the
 * weights into the built run's model with {@link loadInitialWeights}.
 *
 * @example
 * const plan = initFromCheckpoint(config, await readCheckpointDir('runs/g2p/best'), { resizeVocab: false });
 * const run = await buildTaskRun(plan.config, plan.reuse);
 * loadInitialWeights(run.model, ck.modelState, 'runs/g2p/best/model.safetensors');
 */
export function initFromCheckpoint(config: TaskConfig, ck: CheckpointData, o: { resizeVocab: boolean }): InitFrom {
  const src = ck.source;
  const kind = ck.config.modelKind;
  const trainedOn = ck.config.task ? `task '${ck.config.task.name}'` : 'no recorded task';
  const want = kindOf(config.task);
  if (kind !== want) {
    throw new FineTuneError(`${src}: a ${kind} model (${describeKind(kind)}, ${trainedOn}), but task ${config.task} trains a ${want} (${describeKind(want)}); start from a ${want} checkpoint`);
  }
  if (!ck.tokenizer) throw new FineTuneError(`${src}/tokenizer.json: file is missing, expected the tokenizer to fine-tune with`);
  const tokenizer = ck.tokenizer;
  const targetTokenizer = ck.targetTokenizer ?? tokenizer;
  const shared = targetTokenizer === tokenizer;
  if (config.task === 'translate' && !shared) {
    throw new FineTuneError(`${src}: separate source and target tokenizers (${tokenizer.constructor.name}, ${targetTokenizer.constructor.name}), but task translate uses one shared vocabulary; start from a checkpoint with one tokenizer (translate, or seq2seq with sharedVocab)`);
  }

  const ckModel = ck.config.model;
  const model = { ...config.model } as Record<string, unknown>;
  const changed: string[] = [];
  for (const key of Object.keys(model)) {
    if (!(key in ckModel)) continue;
    if (model[key] !== ckModel[key]) changed.push(`${key} ${String(model[key])} → ${String(ckModel[key])}`);
    model[key] = ckModel[key];
  }
  const next = { ...config, model } as Record<string, unknown>;
  if (config.task === 'seq2seq') {
    next.sourceTokenizer = tokenizerKindOf(tokenizer) ?? config.sourceTokenizer;
    next.targetTokenizer = tokenizerKindOf(targetTokenizer) ?? config.targetTokenizer;
    next.sharedVocab = shared;
  } else if (config.task === 'lm') {
    next.tokenizer = tokenizerKindOf(tokenizer) ?? config.tokenizer;
  }
  // A reused BPE is the checkpoint's size, whatever the preset would have learned.
  if ('vocabSize' in config && tokenizerKindOf(tokenizer) === 'bpe') next.vocabSize = tokenizer.vocabSize;
  const fields = Object.entries(model).map(([k, v]) => `${k} ${String(v)}`).join(', ');
  const notes = [
    `fine-tuning from ${src} (${kind}, ${trainedOn}${ck.trainerState ? `, step ${ck.trainerState.step}` : ''}): its weights and tokenizers; a new optimizer and schedule from step 0`,
    `model from the checkpoint, not the preset: ${fields}${changed.length ? ` (preset's ${changed.join(', ')})` : ''}`,
  ];
  return {
    config: next as unknown as TaskConfig,
    reuse: { tokenizer, targetTokenizer: shared ? tokenizer : targetTokenizer, modelConfig: ckModel, newSymbols: o.resizeVocab ? 'extend' : 'error', source: src },
    notes,
  };
}

/**
 * Loads a checkpoint's weights into a fresh model whose vocabulary may be larger (fine-tuning with
 * a grown tokenizer): a tensor that only has more rows in the model (an embedding table, the
 * output projection and its bias) gets the checkpoint's rows first, exactly, and keeps the fresh
 * model's initialisation for the rest. Any other difference is the loader's CheckpointError.
 * Returns one line per grown tensor.
 *
 * @example
 * loadInitialWeights(run.model, ck.modelState, 'runs/g2p/best/model.safetensors'); // ['src_embed.weight: 30 → 32 rows']
 */
export function loadInitialWeights(model: Module, state: ReadonlyMap<string, Tensor>, source: string): string[] {
  const merged = new Map(state);
  const grown: string[] = [];
  for (const [name, fresh] of model.stateDict()) {
    const old = state.get(name);
    if (!old || sameShape(old.shape, fresh.shape) || !onlyMoreRows(old.shape, fresh.shape) || old.dtype !== fresh.dtype) continue;
    const values = fresh.toArray().slice();
    values.set(old.toArray());
    merged.set(name, tensor(values, { shape: fresh.shape, dtype: fresh.dtype, backend: fresh.backend }));
    grown.push(`${name}: ${old.shape[0]} → ${fresh.shape[0]} rows`);
  }
  loadModelState(model, merged, source);
  return grown;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

function onlyMoreRows(old: readonly number[], fresh: readonly number[]): boolean {
  return old.length === fresh.length && old.length >= 1 && old[0] < fresh[0] && old.slice(1).every((n, i) => n === fresh[i + 1]);
}
