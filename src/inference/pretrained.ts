// Loading a checkpoint for use from its files as bytes or text (fetched, bundled, or read by src/node/pretrained.ts).

import type { Backend } from '../backend/backend.js';
import { ArgumentError } from '../core/errors.js';
import type { BertForMaskedLM } from '../models/bert.js';
import { GPT } from '../models/gpt.js';
import type { LSTMSeq2Seq } from '../models/lstm-seq2seq.js';
import { Transformer } from '../models/transformer.js';
import { CHECKPOINT_FILES, CheckpointError, readCheckpoint } from '../train/checkpoint.js';
import type { CheckpointConfig } from '../train/checkpoint.js';
import { modelFromCheckpoint } from '../train/checkpoint-models.js';
import { HF_FILES, isHFFolder, readHFCheckpoint } from './hf-folder.js';
import type { TrainedModel } from './model.js';
import type { SequenceClassifier } from './classification.js';

/** What every loaded checkpoint has besides its model. */
interface PretrainedCommon {
  /** The task name config.json records (g2p, translate, lm, or a custom one); null when none. */
  task: string | null;
  /** config.json: format, qkvVersion, modelKind, the model's config, and the task with its options. */
  config: CheckpointConfig;
  /** Names the checkpoint in messages (its folder, or what the caller said). */
  source: string;
}

/** A loaded encoder-decoder checkpoint. */
export interface PretrainedSeq2Seq extends TrainedModel<Transformer>, PretrainedCommon {
  kind: 'transformer';
}

/** A loaded LSTM encoder-decoder checkpoint (the baseline of models/lstm-seq2seq.ts): answers as an encoder-decoder; its attention is one cross-attention map. */
export interface PretrainedLSTMSeq2Seq extends TrainedModel<LSTMSeq2Seq>, PretrainedCommon {
  kind: 'lstm-seq2seq';
}

/** A loaded decoder-only checkpoint. */
export interface PretrainedCausal extends TrainedModel<GPT>, PretrainedCommon {
  kind: 'gpt';
}

/** A loaded BERT masked-LM checkpoint (fill-mask); its tokenizer has a [MASK]. */
export interface PretrainedMaskedLM extends TrainedModel<BertForMaskedLM>, PretrainedCommon {
  kind: 'bert';
}

/** A loaded sequence classifier (text-classification): BERT's or GPT's, the label names in `model.labels`. */
export interface PretrainedClassifier extends TrainedModel<SequenceClassifier>, PretrainedCommon {
  kind: 'bert-classifier' | 'gpt-classifier';
}

/** A checkpoint ready to answer: its model (of the kind `kind` names), tokenizers and config. */
export type Pretrained = PretrainedSeq2Seq | PretrainedLSTMSeq2Seq | PretrainedCausal | PretrainedMaskedLM | PretrainedClassifier;

/** The model kinds loadPretrained answers with. */
export const PRETRAINED_KINDS = ['transformer', 'lstm-seq2seq', 'gpt', 'bert', 'bert-classifier', 'gpt-classifier'] as const;

/**
 * A checkpoint's files by name, as bytes or text: config.json, model.safetensors, tokenizer.json,
 * target_tokenizer.json when the target side has its own. Other files (optimizer.safetensors,
 * trainer_state.json, metrics.json) may be present; using a model does not read them.
 */
export type PretrainedFiles = Readonly<Record<string, Uint8Array | string>> | ReadonlyMap<string, Uint8Array | string>;

/** The files of a checkpoint that using its model reads. */
export const PRETRAINED_FILES: readonly string[] = [CHECKPOINT_FILES.config, CHECKPOINT_FILES.model, CHECKPOINT_FILES.tokenizer, CHECKPOINT_FILES.targetTokenizer, HF_FILES.tokenizerConfig];

/** Options of {@link loadPretrained}. */
export interface LoadPretrainedOptions {
  /** Names the checkpoint in error messages (default 'checkpoint'). */
  source?: string;
  /** Backend of the model (default: the default backend). */
  backend?: Backend;
}

/**
 * Whether `x` looks like a checkpoint's files (a Map, or an object holding config.json), not a
 * loaded checkpoint.
 *
 * @example
 * isPretrainedFiles({ 'config.json': '{...}' }); // true
 */
export function isPretrainedFiles(x: unknown): x is PretrainedFiles {
  if (x instanceof Map) return true;
  return x !== null && typeof x === 'object' && CHECKPOINT_FILES.config in x;
}

/**
 * Loads a checkpoint that qkv saved, or a Hugging Face folder (GPT-2 or BERT: config.json with
 * model_type, model.safetensors, tokenizer.json; see docs/hf.md), from its files: checks them, builds the model of its kind
 * (PRETRAINED_KINDS: 'transformer', 'lstm-seq2seq', 'gpt', 'bert', 'bert-classifier', 'gpt-classifier') in eval mode with its weights, and reads the tokenizers. Whatever task
 * trained it (a custom one too), it comes back the same way. A problem is a CheckpointError
 * naming the file and field. No file system: on Node, src/node's loadPretrained takes a folder.
 *
 * @example
 * const names = ['config.json', 'model.safetensors', 'tokenizer.json', 'target_tokenizer.json'];
 * const files = Object.fromEntries(await Promise.all(names.map(async (n) =>
 *   [n, new Uint8Array(await (await fetch(`/ckpt/${n}`)).arrayBuffer())])));
 * const g2p = await loadPretrained(files, { source: '/ckpt' });
 * g2p.kind; // 'transformer'
 */
export async function loadPretrained(files: PretrainedFiles, opts: LoadPretrainedOptions = {}): Promise<Pretrained> {
  if (!isPretrainedFiles(files)) throw new ArgumentError(`loadPretrained: expected the checkpoint's files by name ({ 'config.json': ..., 'model.safetensors': ... }), got ${files === null ? 'null' : typeof files}`);
  const source = opts.source ?? 'checkpoint';
  const entries = files instanceof Map ? [...files.entries()] : Object.entries(files);
  const bytes = new Map<string, Uint8Array>();
  for (const [name, v] of entries) {
    if (!PRETRAINED_FILES.includes(name)) continue;
    if (typeof v === 'string') bytes.set(name, new TextEncoder().encode(v));
    else if (v instanceof Uint8Array) bytes.set(name, v);
    else throw new ArgumentError(`loadPretrained: ${source}/${name} is ${v === null ? 'null' : typeof v}, expected a Uint8Array or a string`);
  }
  // A Hugging Face folder (config.json with model_type) is read through its name mapping, as qkv's own.
  const ck = isHFFolder(bytes) ? readHFCheckpoint(bytes, { source }) : readCheckpoint(bytes, { source });
  const kind = ck.config.modelKind;
  if (!(PRETRAINED_KINDS as readonly string[]).includes(kind)) throw new CheckpointError(`${source}/config.json: modelKind is "${kind}", which qkv cannot use, expected one of ${PRETRAINED_KINDS.map((k) => `"${k}"`).join(', ')}`);
  if (!ck.tokenizer) throw new CheckpointError(`${source}/tokenizer.json: file is missing, expected it to turn text into the model's tokens`);
  const model = modelFromCheckpoint(ck, { backend: opts.backend });
  model.eval();
  const common = { task: ck.config.task?.name ?? null, config: ck.config, source, tokenizer: ck.tokenizer, targetTokenizer: ck.targetTokenizer ?? ck.tokenizer };
  if (kind === 'transformer') return { ...common, kind, model: model as Transformer };
  if (kind === 'lstm-seq2seq') return { ...common, kind, model: model as LSTMSeq2Seq };
  if (kind === 'bert') return { ...common, kind, model: model as BertForMaskedLM };
  if (kind === 'bert-classifier' || kind === 'gpt-classifier') return { ...common, kind, model: model as SequenceClassifier };
  return { ...common, kind: 'gpt', model: model as GPT };
}
