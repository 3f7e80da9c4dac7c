// The task recipes by name (g2p, translate, lm): configs from presets, runs, and evaluation of a trained model.

import { ArgumentError } from '../../core/errors.js';
import { GPT } from '../../models/gpt.js';
import type { GPTConfig } from '../../models/gpt.js';
import type { Transformer } from '../../models/transformer.js';
import type { Module } from '../../nn/module.js';
import { PRESET_NAMES } from './config.js';
import type { PresetName, TrainingConfig } from './config.js';
import { G2P_PRESETS, evaluateG2P, g2pConfig, g2pTask } from './g2p.js';
import type { G2PConfig } from './g2p.js';
import { LM_PRESETS, evaluateLm, lmConfig, lmTask } from './lm.js';
import type { LmConfig } from './lm.js';
import type { EvaluateOptions, ReuseTokenizers, TaskRun, TrainedModel } from './run.js';
import { TRANSLATE_PRESETS, evaluateTranslate, translateConfig, translateTask } from './translate.js';
import type { TranslateConfig } from './translate.js';

export { PRESET_NAMES, overrideConfig, spread, trainerOptions } from './config.js';
export type { PresetName, TrainingConfig } from './config.js';
export type { TaskRun, ReuseTokenizers, EvaluateOptions, TrainedModel } from './run.js';
export { G2P_PRESETS, g2pConfig, g2pData, g2pTask, g2pTokenizers, g2pPairs, g2pModel, pronounce, evaluateG2P } from './g2p.js';
export type { G2PConfig, G2PExample, Seq2SeqModelConfig } from './g2p.js';
export { TRANSLATE_PRESETS, translateConfig, translateTask, translatePairs, translate, evaluateTranslate } from './translate.js';
export type { TranslateConfig } from './translate.js';
export { LM_PRESETS, lmConfig, lmTask, sotuText, evaluateLm, continueText } from './lm.js';
export type { LmConfig, ContinueOptions } from './lm.js';
export { seq2seqLoss, seq2seqValidLoss, decodeAll } from './seq2seq.js';
export type { SpecialIds, DecodeAllOptions } from './seq2seq.js';

/** The tasks `qkv train` knows. */
export const TASK_NAMES = ['g2p', 'translate', 'lm'] as const;
export type TaskName = (typeof TASK_NAMES)[number];

/** Any task's config. */
export type TaskConfig = G2PConfig | TranslateConfig | LmConfig;

/** One-line descriptions, for `qkv train --help`. */
export const TASK_DESCRIPTIONS: Record<TaskName, string> = {
  g2p: 'CMUdict spelling → pronunciation (encoder-decoder, WER/PER)',
  translate: 'Ding English → German (encoder-decoder, shared BPE, BLEU/chrF)',
  lm: 'State of the Union language model (GPT, perplexity, bits per character)',
};

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
  }
}

/** The presets of a task. */
export function taskPresets(task: TaskName): Record<PresetName, TrainingConfig> {
  return { g2p: G2P_PRESETS, translate: TRANSLATE_PRESETS, lm: LM_PRESETS }[task];
}

/**
 * Builds a run of a task from its config (loading its data); `reuse` takes the tokenizers of a
 * checkpoint instead of building them.
 *
 * @example
 * const run = await buildTaskRun(taskConfig('g2p', 'tiny'));
 */
export async function buildTaskRun(config: TaskConfig, reuse?: ReuseTokenizers): Promise<TaskRun> {
  switch (config.task) {
    case 'g2p': return (await g2pTask(config, reuse)) as unknown as TaskRun;
    case 'translate': return (await translateTask(config, reuse)) as unknown as TaskRun;
    case 'lm': return (await lmTask(config, reuse)) as unknown as TaskRun;
  }
}

/**
 * The task's metrics of a trained model on a split (g2p: wer, per; translate: bleu, chrf;
 * lm: loss, perplexity, bpc), with the beam size of the config unless given.
 *
 * @example
 * const m = await evaluateTask(config, ck, { split: 'test', beam: 4 });
 */
export async function evaluateTask(config: TaskConfig, t: TrainedModel, o: EvaluateOptions): Promise<Record<string, number>> {
  switch (config.task) {
    case 'g2p': return (await evaluateG2P(t as TrainedModel<Transformer>, config, o)).metrics;
    case 'translate': return (await evaluateTranslate(t as TrainedModel<Transformer>, config, o)).metrics;
    case 'lm': return (await evaluateLm(t as TrainedModel<GPT>, config, o)).metrics;
  }
}

/** Builds the model of a checkpoint kind qkv's loader does not know itself ('gpt'), for loadCheckpoint's `build`. */
export function buildModelOfKind(kind: string): ((config: Record<string, unknown>) => Module) | undefined {
  return kind === 'gpt' ? (config) => new GPT(config as unknown as GPTConfig) : undefined;
}
