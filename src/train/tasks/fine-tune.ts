// Fine-tuning: a new run that starts from a checkpoint's weights and tokenizers (new optimizer, new schedule, step 0), a pre-trained body under a new head included.

import { StateDictError } from '../../core/errors.js';
import type { Module } from '../../nn/module.js';
import { tensor } from '../../tensor/index.js';
import type { Tensor } from '../../tensor/index.js';
import { tokenizerKindOf } from '../../tokenizers/builder.js';
import { CheckpointError, loadModelState } from '../checkpoint.js';
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
  /**
   * A pre-trained body under a new head (an mlm or lm checkpoint for a classifier): load the weights
   * with {@link loadTransferredWeights}; null: the checkpoint is of the run's own kind ({@link loadInitialWeights}).
   */
  transfer: WeightTransfer | null;
}

/** How a checkpoint's tensors are named in a model of another kind that shares its body. */
export interface WeightTransfer {
  /** The checkpoint's kind. */
  from: string;
  /** The run's kind. */
  to: string;
  /** Put before each of the checkpoint's names ('transformer.' for a GPT body in a GPT classifier; '' for BERT's `bert.`). */
  prefix: string;
}

/** The model kind of a task (a copy of index.ts's taskModelKind, which this file cannot import at run time). */
function kindOf(config: TaskConfig): string {
  switch (config.task) {
    case 'lm': return 'gpt';
    case 'mlm': return 'bert';
    case 'classify': return config.arch === 'gpt' ? 'gpt-classifier' : 'bert-classifier';
    default: return config.model.architecture === 'lstm' || config.model.architecture === 'bilstm' ? 'lstm-seq2seq' : 'transformer';
  }
}

const KIND_WORDS: Record<string, string> = {
  gpt: 'a decoder-only language model', transformer: 'an encoder-decoder', 'lstm-seq2seq': 'an LSTM encoder-decoder', bert: "BERT's masked LM",
  'bert-classifier': 'a BERT sequence classifier', 'gpt-classifier': 'a GPT sequence classifier',
};
const describeKind = (kind: string): string => KIND_WORDS[kind] ?? 'a model';

/** The checkpoint kinds a run of kind `want` starts from, and how their names map: its own, or a pre-trained body. */
const TRANSFERS: Record<string, Record<string, string>> = {
  'bert-classifier': { bert: '' },
  'gpt-classifier': { gpt: 'transformer.' },
};

/** A model-config field of the run's task that the checkpoint's model config names otherwise (BERT's positions are the task's context). */
const FIELD_ALIASES: Record<string, Record<string, string>> = { bert: { context: 'maxPositions' }, 'bert-classifier': { context: 'maxPositions' }, 'lstm-seq2seq': { dModel: 'hidden' } };

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
  const want = kindOf(config);
  const prefix = kind === want ? null : TRANSFERS[want]?.[kind];
  if (kind !== want && prefix === undefined) {
    const from = TRANSFERS[want] ? [want, ...Object.keys(TRANSFERS[want])].map((k) => `${k} (${describeKind(k)})`).join(' or ') : want;
    const otherArch = config.task === 'classify' && (kind === 'gpt' || kind === 'gpt-classifier' || kind === 'bert' || kind === 'bert-classifier') ? (kind.startsWith('gpt') ? 'gpt' : 'bert') : null;
    const hint = otherArch && otherArch !== (config as { arch: string }).arch ? `, or set "arch": "${otherArch}" in the config to classify with this ${otherArch === 'gpt' ? 'GPT' : 'BERT'} body` : '';
    throw new FineTuneError(`${src}: a ${kind} model (${describeKind(kind)}, ${trainedOn}), but task ${config.task}${config.task === 'classify' ? ` with arch '${config.arch}'` : ''} trains a ${want} (${describeKind(want)}); start from a ${from} checkpoint${hint}`);
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
  const aliases = FIELD_ALIASES[kind] ?? {};
  for (const key of Object.keys(model)) {
    const from = key in ckModel ? key : aliases[key];
    if (from === undefined || !(from in ckModel)) continue;
    if (model[key] !== ckModel[from]) changed.push(`${key} ${String(model[key])} → ${String(ckModel[from])}`);
    model[key] = ckModel[from];
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
  // The architecture is the run's kind, which must already be the checkpoint's: not a field taken from it.
  const fields = Object.entries(model).filter(([k]) => k !== 'architecture').map(([k, v]) => `${k} ${String(v)}`).join(', ');
  if (config.task === 'classify' || config.task === 'mlm') next.vocabSize = tokenizer.vocabSize;
  const notes = [
    `fine-tuning from ${src} (${kind}, ${trainedOn}${ck.trainerState ? `, step ${ck.trainerState.step}` : ''}): its ${prefix === null || prefix === undefined ? 'weights' : `body (${describeKind(kind)})`} and tokenizer${shared ? '' : 's'}; a new optimizer and schedule from step 0`,
    `model from the checkpoint, not the preset: ${fields}${changed.length ? ` (preset's ${changed.join(', ')})` : ''}`,
  ];
  return {
    config: next as unknown as TaskConfig,
    reuse: { tokenizer, targetTokenizer: shared ? tokenizer : targetTokenizer, modelConfig: ckModel, newSymbols: o.resizeVocab ? 'extend' : 'error', source: src },
    notes,
    transfer: prefix === null || prefix === undefined ? null : { from: kind, to: want, prefix },
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

/**
 * Loads a pre-trained body into a model of another kind (a classifier over an mlm or lm
 * checkpoint): each checkpoint tensor goes to `prefix + name`, bit for bit; a shape or dtype that
 * differs is a CheckpointError naming the tensor. The model's tensors the checkpoint does not
 * hold (the new head) keep their fresh initialisation; checkpoint tensors the model has no place
 * for (the old head) are left out. Returns the lines that say so, as Hugging Face's "Some weights
 * … were newly initialized" warning does.
 *
 * @example
 * loadTransferredWeights(run.model, ck.modelState, 'runs/mlm/best/model.safetensors', plan.transfer);
 * // ['newly initialised (not in the checkpoint): classifier.weight, classifier.bias', 'not used (the pre-training head): cls.bias, ...']
 */
export function loadTransferredWeights(model: Module, state: ReadonlyMap<string, Tensor>, source: string, t: WeightTransfer): string[] {
  const renamed = new Map<string, Tensor>();
  for (const [name, value] of state) renamed.set(t.prefix + name, value);
  const own = model.stateDict();
  const unused = [...renamed.keys()].filter((n) => !own.has(n));
  const fresh = [...own.keys()].filter((n) => !renamed.has(n));
  const kept = new Map([...renamed].filter(([n]) => own.has(n)));
  if (kept.size === 0) throw new CheckpointError(`${source}: none of its ${state.size} tensors has a place in the ${t.to} model (under '${t.prefix}'), expected a ${t.from} body`);
  try {
    model.loadStateDict(kept, { strict: false });
  } catch (e) {
    if (e instanceof StateDictError) throw new CheckpointError(`${source}: ${e.message}`);
    throw e;
  }
  const lines = [`${t.from} body: ${kept.size} tensors loaded from ${source}${t.prefix ? ` under '${t.prefix}'` : ''}`];
  lines.push(fresh.length ? `newly initialised (not in the checkpoint; train them on this task): ${fresh.join(', ')}` : 'newly initialised: none');
  if (unused.length) lines.push(`not used (the pre-training head): ${unused.map((n) => n.slice(t.prefix.length)).join(', ')}`);
  return lines;
}
