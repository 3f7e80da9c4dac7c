// Rebuilding a model from a checkpoint: config.json's model fields are checked, the model built, its weights loaded.

import type { Backend } from '../backend/backend.js';
import { GPT } from '../models/gpt.js';
import type { GPTConfig } from '../models/gpt.js';
import { Transformer } from '../models/transformer.js';
import type { TransformerConfig } from '../models/transformer.js';
import type { Module } from '../nn/module.js';
import { loadModelState } from './checkpoint.js';
import type { CheckpointData } from './checkpoint.js';
import { CheckpointError, checkField } from './checkpoint-fields.js';
import type { FieldKind } from './checkpoint-fields.js';

/** Every field of a resolved TransformerConfig and its type; a checkpoint must hold them all. */
const TRANSFORMER_FIELDS: Record<string, FieldKind> = {
  srcVocab: 'positiveInt', tgtVocab: 'positiveInt', dModel: 'positiveInt', heads: 'positiveInt',
  encoderLayers: 'nonNegInt', decoderLayers: 'nonNegInt', dFF: 'positiveInt', dropout: 'number',
  normFirst: 'boolean', finalNorm: 'boolean', activation: ['relu', 'gelu'], positional: ['sinusoidal', 'learned'],
  maxLen: 'positiveInt', shareEmbeddings: 'boolean', eps: 'number', seed: 'int', dtype: ['float32', 'float64'],
};

/** Every field of a resolved GPTConfig and its type. */
const GPT_FIELDS: Record<string, FieldKind> = {
  vocab: 'positiveInt', dModel: 'positiveInt', heads: 'positiveInt', layers: 'nonNegInt', dFF: 'positiveInt',
  context: 'positiveInt', dropout: 'number', normFirst: 'boolean', finalNorm: 'boolean', activation: ['relu', 'gelu'],
  tieEmbeddings: 'boolean', eps: 'number', seed: 'int', dtype: ['float32', 'float64'],
};

/** Options of {@link modelFromCheckpoint}. */
export interface ModelFromCheckpointOptions {
  /** Builds the model for a kind qkv does not know (it then gets the checkpoint's weights). */
  build?: (config: Record<string, unknown>) => Module;
  /** Backend of the new model (default: the default backend). */
  backend?: Backend;
}

/**
 * A fresh model of the checkpoint's kind, built from its config and holding its weights. Known
 * kinds: 'transformer' and 'gpt'. A config field missing or of the wrong type, or weights that do not fit,
 * throw a CheckpointError naming the file and the field or tensor.
 *
 * @example
 * const ck = readCheckpoint(files, { kind: 'transformer' });
 * const model = modelFromCheckpoint(ck) as Transformer;
 */
export function modelFromCheckpoint(ck: CheckpointData, opts: ModelFromCheckpointOptions = {}): Module {
  const where = `${ck.source}/config.json`;
  const c = ck.config.model;
  const checked = (fields: Record<string, FieldKind>): Record<string, unknown> => {
    for (const [key, kind] of Object.entries(fields)) checkField(c, key, kind, where, 'model.');
    return { ...c, backend: opts.backend };
  };
  let model: Module;
  try {
    if (opts.build) model = opts.build(c);
    else if (ck.config.modelKind === 'transformer') model = new Transformer(checked(TRANSFORMER_FIELDS) as unknown as TransformerConfig);
    else if (ck.config.modelKind === 'gpt') model = new GPT(checked(GPT_FIELDS) as unknown as GPTConfig);
    else throw new CheckpointError(`${where}: modelKind is "${ck.config.modelKind}", which qkv cannot build, expected "transformer" or "gpt" (or pass build)`);
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(`${where}: model config rejected: ${(e as Error).message}`);
  }
  loadModelState(model, ck.modelState, `${ck.source}/model.safetensors`);
  return model;
}
