// The task recipes by name (g2p, translate, lm, seq2seq, mlm, classify): configs from presets, runs, and evaluation of a trained model.

import { ArgumentError } from '../../core/errors.js';
import { GPT } from '../../models/gpt.js';
import type { GPTConfig } from '../../models/gpt.js';
import type { Transformer } from '../../models/transformer.js';
import { BertForMaskedLM, BertForSequenceClassification } from '../../models/bert.js';
import type { BertClassifierConfig, BertConfig } from '../../models/bert.js';
import { GPTForSequenceClassification } from '../../models/gpt.js';
import type { GPTClassifierConfig } from '../../models/gpt.js';
import type { SequenceClassifier } from '../../inference/classification.js';
import type { Module } from '../../nn/module.js';
import { PRESET_NAMES, SAFETY_DEFAULTS } from './config.js';
import { TASK_SCHEMAS, checkFields, showValue } from './config-schema.js';
import { CheckpointError } from '../checkpoint-fields.js';
import { DING_PATH } from '../../data/ding.js';
import { DEFAULT_CORPUS_SOURCES } from '../../data/corpus.js';
import type { PresetName, TrainingConfig } from './config.js';
import { G2P_PRESETS, evaluateG2P, g2pConfig, g2pTask } from './g2p.js';
import type { G2PConfig } from './g2p.js';
import { LM_PRESETS, evaluateLm, lmConfig, lmTask } from './lm.js';
import type { LmConfig } from './lm.js';
import { MLM_PRESETS, evaluateMlm, mlmConfig, mlmTask } from './mlm.js';
import type { MlmConfig } from './mlm.js';
import { CLASSIFY_PRESETS, classifyConfig, classifyTask, evaluateClassify } from './classify.js';
import type { ClassifyConfig } from './classify.js';
import type { BuildOptions, EvaluateOptions, ModelKind, ReuseTokenizers, TaskRun, TrainedModel } from './run.js';
import { SEQ2SEQ_PRESETS, evaluatePairsFile, evaluateSeq2seq, seq2seqConfig, seq2seqTask } from './seq2seq-task.js';
import type { Seq2SeqConfig } from './seq2seq-task.js';
import { TRANSLATE_PRESETS, evaluateTranslate, translateConfig, translateTask } from './translate.js';
import type { TranslateConfig } from './translate.js';

export { MAX_METRICS, NON_FINITE_ACTIONS, PRESET_NAMES, SAFETY_DEFAULTS, monitorOf, overrideConfig, saveOptions, spread, trainerOptions } from './config.js';
export { TASK_SCHEMAS, checkFields } from './config-schema.js';
export type { PresetName, TrainingConfig } from './config.js';
export type { TaskRun, ReuseTokenizers, BuildOptions, EvaluateOptions, TrainedModel, ModelKind } from './run.js';
export { G2P_PRESETS, g2pConfig, g2pData, g2pTask, g2pTokenizers, g2pPairs, g2pModel, pronounce, evaluateG2P } from './g2p.js';
export type { G2PConfig, G2PExample, Seq2SeqModelConfig } from './g2p.js';
export { TRANSLATE_PRESETS, translateConfig, translateTask, translatePairs, translate, evaluateTranslate } from './translate.js';
export type { TranslateConfig } from './translate.js';
export { LM_PRESETS, lmConfig, lmTask, sotuText, documentsText, evaluateLm, continueText } from './lm.js';
export { MLM_PRESETS, VALID_MASK_SEED, mlmConfig, mlmTask, evaluateMlm, packSequences, maskedLoss, scoreMasked, wordPieceSpecials, bertConfigOf } from './mlm.js';
export type { MlmConfig, MlmBatch } from './mlm.js';
export { CLASSIFY_PRESETS, classifyConfig, classifyTask, evaluateClassify, scoreClassifier, labelNames, positiveLabelOf, classifierFor, classifierContext } from './classify.js';
export type { ClassifyConfig, ClassifyBatch } from './classify.js';
export { loadLmText, lmTextIds } from './lm-text.js';
export type { LmText, LmTextFields } from './lm-text.js';
export { SEQ2SEQ_PRESETS, seq2seqConfig, seq2seqTask, groupPairs, transduce, evaluatePairsFile, evaluateSeq2seq } from './seq2seq-task.js';
export type { Seq2SeqConfig, PairGroup, TransduceOptions, PairsFileOptions } from './seq2seq-task.js';
export { FineTuneError, reusedTokenizer, transformerFor, gptFor } from './reuse.js';
export { initFromCheckpoint, loadInitialWeights, loadTransferredWeights } from './fine-tune.js';
export type { InitFrom, WeightTransfer } from './fine-tune.js';
export type { LmConfig, ContinueOptions } from './lm.js';
export { seq2seqLoss, seq2seqValidLoss, decodeAll } from './seq2seq.js';
export type { SpecialIds, DecodeAllOptions } from './seq2seq.js';

/** The tasks `qkv train` knows. */
export const TASK_NAMES = ['g2p', 'translate', 'lm', 'seq2seq', 'mlm', 'classify'] as const;
export type TaskName = (typeof TASK_NAMES)[number];

/** Any task's config. */
export type TaskConfig = G2PConfig | TranslateConfig | LmConfig | Seq2SeqConfig | MlmConfig | ClassifyConfig;

/** One-line descriptions, for `qkv train --help`. */
export const TASK_DESCRIPTIONS: Record<TaskName, string> = {
  g2p: 'CMUdict spelling → pronunciation (encoder-decoder, WER/PER)',
  translate: 'Ding English → German (encoder-decoder, shared BPE, BLEU/chrF)',
  lm: 'language model on State of the Union, the pre-training corpus (corpus "pretraining"), or --train your.txt (GPT, perplexity, bits per character)',
  seq2seq: 'your own pairs: --train pairs.tsv (encoder-decoder, exact match, CER, BLEU/chrF)',
  mlm: 'BERT pre-training (masked LM) on the pre-training corpus, or --train your.txt (masked-token accuracy, perplexity)',
  classify: 'SpamAssassin spam/ham, or --train labelled.tsv (BERT or GPT classifier, accuracy, precision/recall/F1; --init-from a pre-trained mlm or lm run)',
};

/**
 * The model each task trains: an encoder-decoder, a decoder-only language model, BERT's masked
 * LM, or a sequence classifier of the config's `arch` (classify; default 'bert').
 *
 * @example
 * taskModelKind('classify', 'gpt'); // 'gpt-classifier'
 */
export function taskModelKind(task: TaskName, arch: 'bert' | 'gpt' = 'bert'): ModelKind {
  switch (task) {
    case 'lm': return 'gpt';
    case 'mlm': return 'bert';
    case 'classify': return arch === 'gpt' ? 'gpt-classifier' : 'bert-classifier';
    default: return 'transformer';
  }
}

/** True for a task config that trains on your own files (seq2seq, or lm with a train file). */
export function usesOwnData(c: TaskConfig): boolean {
  return c.task === 'seq2seq' || ((c.task === 'lm' || c.task === 'mlm' || c.task === 'classify') && typeof c.train === 'string');
}

/** The split `qkv eval` scores by default: test where the data has one, else valid (your own data, the pre-training corpus). */
export function defaultSplit(c: TaskConfig): 'valid' | 'test' {
  if (usesOwnData(c) || c.task === 'mlm' || (c.task === 'lm' && c.corpus === 'pretraining')) return 'valid';
  return 'test';
}

/** Throws an ArgumentError naming the valid tasks unless `name` is one. */
export function checkTaskName(name: string): TaskName {
  if (!(TASK_NAMES as readonly string[]).includes(name)) {
    throw new ArgumentError(`unknown task '${name}', expected one of ${TASK_NAMES.join(', ')}`);
  }
  return name as TaskName;
}

/** Throws an ArgumentError naming the valid presets unless `name` is one. */
export function checkPresetName(name: string): PresetName {
  if (!(PRESET_NAMES as readonly string[]).includes(name)) {
    throw new ArgumentError(`unknown preset '${name}', expected one of ${PRESET_NAMES.join(', ')}`);
  }
  return name as PresetName;
}

/**
 * A task's config: its preset with `overrides` applied (the fields a config.json or the flags give).
 *
 * @example
 * taskConfig('g2p', 'small', { maxMinutes: 1 }).model.dModel; // 64
 */
export function taskConfig(task: TaskName, preset: PresetName, overrides: Record<string, unknown> = {}): TaskConfig {
  switch (task) {
    case 'g2p': return g2pConfig(preset, overrides);
    case 'translate': return translateConfig(preset, overrides);
    case 'lm': return lmConfig(preset, overrides);
    case 'seq2seq': return seq2seqConfig(preset, overrides);
    case 'mlm': return mlmConfig(preset, overrides);
    case 'classify': return classifyConfig(preset, overrides);
  }
}

/**
 * Fields added to the task configs after checkpoints were first written, with the value that
 * such a checkpoint's run used (what the code read as `?? default` before). A field added later
 * gets its old default here, so old checkpoints keep loading.
 */
const ADDED_LATER: Record<TaskName, Record<string, unknown>> = {
  // Before `monitor`, G2P and translation runs kept their best on the valid loss (a resumed run's best score is one).
  g2p: { decay: 'rsqrt', cooldown: null, workers: 1, ...SAFETY_DEFAULTS, monitor: 'validLoss', stress: true },
  translate: { decay: 'rsqrt', cooldown: null, workers: 1, ...SAFETY_DEFAULTS, monitor: 'validLoss', dingPath: DING_PATH },
  lm: { decay: 'rsqrt', cooldown: null, workers: 1, ...SAFETY_DEFAULTS, train: null, valid: null, skipBadRows: false, validShare: 0.05, corpus: 'sotu', corpusSources: [...DEFAULT_CORPUS_SOURCES] },
  seq2seq: { decay: 'rsqrt', cooldown: null, workers: 1, ...SAFETY_DEFAULTS },
  mlm: { corpusSources: [...DEFAULT_CORPUS_SOURCES], monitor: null, keepCheckpoints: 0 },
  classify: { monitor: null, keepCheckpoints: 0 },
};

/**
 * A checkpoint's task options (config.json's `task.options`) as the task's config, checked with
 * the same ranges as a new run's: a missing or out-of-range field is a CheckpointError naming
 * the file, the field, its value and the range. Fields added after the checkpoint was written
 * take the value its run used.
 *
 * @example
 * checkpointTaskConfig('g2p', ck.config.task.options, 'run/best/config.json');
 */
export function checkpointTaskConfig(task: TaskName, options: unknown, where: string): TaskConfig {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new CheckpointError(`${where}: task options are ${showValue(options)}, expected an object`);
  }
  const config = { ...ADDED_LATER[task], ...(options as Record<string, unknown>) };
  return checkFields(TASK_SCHEMAS[task], config, `${where}: task option`, CheckpointError) as unknown as TaskConfig;
}

/** The presets of a task. */
export function taskPresets(task: TaskName): Record<PresetName, TrainingConfig> {
  return { g2p: G2P_PRESETS, translate: TRANSLATE_PRESETS, lm: LM_PRESETS, seq2seq: SEQ2SEQ_PRESETS, mlm: MLM_PRESETS, classify: CLASSIFY_PRESETS }[task];
}

/**
 * Builds a run of a task from its config (loading its data); `reuse` takes the tokenizers (and
 * model shape) of a checkpoint instead of building them.
 *
 * @example
 * const run = await buildTaskRun(taskConfig('g2p', 'tiny'));
 */
export async function buildTaskRun(config: TaskConfig, reuse?: ReuseTokenizers, o: BuildOptions = {}): Promise<TaskRun> {
  switch (config.task) {
    case 'g2p': return (await g2pTask(config, reuse)) as unknown as TaskRun;
    case 'translate': return (await translateTask(config, reuse)) as unknown as TaskRun;
    case 'lm': return (await lmTask(config, reuse, o)) as unknown as TaskRun;
    case 'seq2seq': return (await seq2seqTask(config, reuse, o)) as unknown as TaskRun;
    case 'mlm': return (await mlmTask(config, reuse, o)) as unknown as TaskRun;
    case 'classify': return (await classifyTask(config, reuse, o)) as unknown as TaskRun;
  }
}

/**
 * The task's metrics of a trained model on a split (g2p: wer, per; translate: bleu, chrf;
 * lm: loss, perplexity, bpc; seq2seq: exactMatch, cer, bleu, chrf), with the beam size of the
 * config unless given. With `file`, that file is scored instead: pairs with the seq2seq metrics
 * for an encoder-decoder, text for a language model.
 *
 * @example
 * const m = await evaluateTask(config, ck, { split: 'test', beam: 4 });
 */
export async function evaluateTask(config: TaskConfig, t: TrainedModel, o: EvaluateOptions): Promise<Record<string, number>> {
  if (o.file !== undefined && config.task !== 'lm' && config.task !== 'seq2seq' && config.task !== 'mlm' && config.task !== 'classify') {
    const d = { beam: o.beam ?? config.beam, lengthPenalty: config.lengthPenalty, limit: o.limit, badRows: o.badRows, onProgress: o.onProgress };
    return (await evaluatePairsFile(t as TrainedModel<Transformer>, o.file, d)).metrics;
  }
  switch (config.task) {
    case 'seq2seq': return (await evaluateSeq2seq(t as TrainedModel<Transformer>, config, o)).metrics;
    case 'g2p': return (await evaluateG2P(t as TrainedModel<Transformer>, config, o)).metrics;
    case 'translate': return (await evaluateTranslate(t as TrainedModel<Transformer>, config, o)).metrics;
    case 'lm': return (await evaluateLm(t as TrainedModel<GPT>, config, o)).metrics;
    case 'mlm': return (await evaluateMlm(t as TrainedModel<BertForMaskedLM>, config, o)).metrics;
    case 'classify': return (await evaluateClassify(t as TrainedModel<SequenceClassifier>, config, o)).metrics;
  }
}

/** Builds the model of a checkpoint kind from its config, for loadCheckpoint's `build` (undefined for 'transformer' and unknown kinds). */
export function buildModelOfKind(kind: string): ((config: Record<string, unknown>) => Module) | undefined {
  switch (kind) {
    case 'gpt': return (config) => new GPT(config as unknown as GPTConfig);
    case 'bert': return (config) => new BertForMaskedLM(config as unknown as BertConfig);
    case 'bert-classifier': return (config) => new BertForSequenceClassification(config as unknown as BertClassifierConfig);
    case 'gpt-classifier': return (config) => new GPTForSequenceClassification(config as unknown as GPTClassifierConfig);
    default: return undefined;
  }
}
