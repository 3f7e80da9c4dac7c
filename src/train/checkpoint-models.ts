// Rebuilding a model from a checkpoint: config.json's model fields are checked, the model built, its weights loaded.

import type { Backend } from '../backend/backend.js';
import { fmtShape } from '../core/errors.js';
import { BertForMaskedLM, BertForSequenceClassification, resolveBertConfig } from '../models/bert.js';
import type { BertClassifierConfig, BertConfig } from '../models/bert.js';
import { GPT, resolveGPTConfig } from '../models/gpt.js';
import type { GPTConfig } from '../models/gpt.js';
import { GPTForSequenceClassification, resolveGPTClassifierConfig } from '../models/gpt.js';
import type { GPTClassifierConfig } from '../models/gpt.js';
import { LSTMSeq2Seq, resolveLSTMSeq2SeqConfig } from '../models/lstm-seq2seq.js';
import type { LSTMSeq2SeqConfig } from '../models/lstm-seq2seq.js';
import { Transformer, resolveConfig } from '../models/transformer.js';
import type { TransformerConfig } from '../models/transformer.js';
import type { ModelInitOptions } from '../nn/init.js';
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { loadModelState } from './checkpoint.js';
import type { CheckpointData } from './checkpoint.js';
import { CheckpointError, checkField } from './checkpoint-fields.js';
import type { FieldKind } from './checkpoint-fields.js';

/** Every field of a resolved TransformerConfig and its type; a checkpoint must hold them all. */
const TRANSFORMER_FIELDS: Record<string, FieldKind> = {
  srcVocab: 'positiveInt', tgtVocab: 'positiveInt', dModel: 'positiveInt', heads: 'positiveInt',
  encoderLayers: 'nonNegInt', decoderLayers: 'nonNegInt', dFF: 'positiveInt', dropout: 'number',
  normFirst: 'boolean', finalNorm: 'boolean', activation: ['relu', 'gelu', 'gelu_new'], positional: ['sinusoidal', 'learned'],
  maxLen: 'positiveInt', shareEmbeddings: 'boolean', eps: 'number', seed: 'int', dtype: ['float32', 'float64'],
};

/** Every field of a resolved LSTMSeq2SeqConfig and its type. */
const LSTM_SEQ2SEQ_FIELDS: Record<string, FieldKind> = {
  srcVocab: 'positiveInt', tgtVocab: 'positiveInt', hidden: 'positiveInt', encoderLayers: 'positiveInt', decoderLayers: 'positiveInt',
  dropout: 'number', attention: ['general', 'dot'], inputFeeding: 'boolean', bidirectional: 'boolean', maxLen: 'positiveInt', seed: 'int', dtype: ['float32', 'float64'],
};

/** Every field of a resolved GPTConfig and its type. */
const GPT_FIELDS: Record<string, FieldKind> = {
  vocab: 'positiveInt', dModel: 'positiveInt', heads: 'positiveInt', layers: 'nonNegInt', dFF: 'positiveInt',
  context: 'positiveInt', dropout: 'number', normFirst: 'boolean', finalNorm: 'boolean', activation: ['relu', 'gelu', 'gelu_new'],
  tieEmbeddings: 'boolean', eps: 'number', seed: 'int', dtype: ['float32', 'float64'],
};

/** Every field of a resolved BertConfig and its type. */
const BERT_FIELDS: Record<string, FieldKind> = {
  vocab: 'positiveInt', dModel: 'positiveInt', heads: 'positiveInt', layers: 'positiveInt', dFF: 'positiveInt', maxPositions: 'positiveInt',
  typeVocab: 'positiveInt', dropout: 'number', attentionDropout: 'number', activation: ['relu', 'gelu', 'gelu_new'], eps: 'number', seed: 'int',
  dtype: ['float32', 'float64'],
};

/**
 * Known kinds are built without their random initialisation (zeros, no draws): every tensor is loaded next, and
 * loadModelState is strict, so a tensor the file lacks is a CheckpointError, never a weight left at zero.
 */
const EMPTY: ModelInitOptions = { init: false };

/** The model kinds modelFromCheckpoint builds. */
export const MODEL_KINDS = ['transformer', 'lstm-seq2seq', 'gpt', 'bert', 'bert-classifier', 'gpt-classifier'] as const;

/** Options of {@link modelFromCheckpoint}. */
export interface ModelFromCheckpointOptions {
  /** Builds the model for a kind qkv does not know (it then gets the checkpoint's weights). */
  build?: (config: Record<string, unknown>) => Module;
  /** Backend of the new model (default: the default backend). */
  backend?: Backend;
}

/**
 * A fresh model of the checkpoint's kind, built from its config and holding its weights. Known
 * kinds: 'transformer', 'lstm-seq2seq' (LSTMSeq2Seq), 'gpt', 'bert' (BertForMaskedLM), 'bert-classifier' (BertForSequenceClassification) and
 * 'gpt-classifier' (GPTForSequenceClassification; the classifiers' label names come from model.labels). A config field missing or of the wrong type, or weights that do not fit,
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
    if (opts.build) {
      model = opts.build(c);
    } else if (ck.config.modelKind === 'transformer') {
      const config = checked(TRANSFORMER_FIELDS) as unknown as TransformerConfig;
      // Every field's range, then sizes against the weights and the tokenizers: all before a byte is allocated.
      const r = resolveConfig(config);
      checkAgainstWeights(ck, transformerShapes(r), 'encoder.layers.', r.encoderLayers, 'encoderLayers');
      checkAgainstWeights(ck, [], 'decoder.layers.', r.decoderLayers, 'decoderLayers');
      checkTokenizers(ck, [['tokenizer', ck.tokenizer, 'srcVocab', r.srcVocab], ['target', ck.targetTokenizer, 'tgtVocab', r.tgtVocab]]);
      model = new Transformer(config, EMPTY);
    } else if (ck.config.modelKind === 'lstm-seq2seq') {
      const config = checked(LSTM_SEQ2SEQ_FIELDS) as unknown as LSTMSeq2SeqConfig;
      const r = resolveLSTMSeq2SeqConfig(config);
      const H: [string, number] = ['hidden', r.hidden];
      const rules: ShapeRule[] = [['src_embed.weight', [['srcVocab', r.srcVocab], H]], ['tgt_embed.weight', [['tgtVocab', r.tgtVocab], H]], ['generator.weight', [['tgtVocab', r.tgtVocab], H]]];
      checkAgainstWeights(ck, rules, 'encoder.weight_hh_l', r.encoderLayers, 'encoderLayers');
      checkAgainstWeights(ck, [], 'decoder.weight_hh_l', r.decoderLayers, 'decoderLayers');
      checkTokenizers(ck, [['tokenizer', ck.tokenizer, 'srcVocab', r.srcVocab], ['target', ck.targetTokenizer, 'tgtVocab', r.tgtVocab]]);
      model = new LSTMSeq2Seq(config, EMPTY);
    } else if (ck.config.modelKind === 'gpt') {
      const config = checked(GPT_FIELDS) as unknown as GPTConfig;
      const r = resolveGPTConfig(config);
      checkAgainstWeights(ck, gptShapes(r, ''), 'layers.', r.layers, 'layers');
      checkTokenizers(ck, [['tokenizer', ck.tokenizer, 'vocab', r.vocab]]);
      model = new GPT(config, EMPTY);
    } else if (ck.config.modelKind === 'bert' || ck.config.modelKind === 'bert-classifier') {
      const classifier = ck.config.modelKind === 'bert-classifier';
      const fields = classifier ? { ...BERT_FIELDS, labels: 'labels' as const } : BERT_FIELDS;
      const config = checked(fields) as unknown as BertClassifierConfig;
      const r = resolveBertConfig(config);
      const rules = bertShapes(r);
      rules.push(classifier ? ['classifier.weight', [['labels.length', config.labels.length], ['dModel', r.dModel]]] : ['cls.bias', [['vocab', r.vocab]]]);
      checkAgainstWeights(ck, rules, 'bert.encoder.layers.', r.layers, 'layers');
      checkTokenizers(ck, [['tokenizer', ck.tokenizer, 'vocab', r.vocab]]);
      model = classifier ? new BertForSequenceClassification(config, EMPTY) : new BertForMaskedLM(config as BertConfig, EMPTY);
    } else if (ck.config.modelKind === 'gpt-classifier') {
      const config = checked({ ...GPT_FIELDS, labels: 'labels', padId: 'nonNegInt' }) as unknown as GPTClassifierConfig;
      const r = resolveGPTClassifierConfig(config);
      const rules = gptShapes(r, 'transformer.');
      rules.push(['score.weight', [['labels.length', r.labels.length], ['dModel', r.dModel]]]);
      checkAgainstWeights(ck, rules, 'transformer.layers.', r.layers, 'layers');
      checkTokenizers(ck, [['tokenizer', ck.tokenizer, 'vocab', r.vocab]]);
      model = new GPTForSequenceClassification(config, EMPTY);
    } else {
      throw new CheckpointError(`${where}: modelKind is "${ck.config.modelKind}", which qkv cannot build, expected one of ${MODEL_KINDS.map((k) => `"${k}"`).join(', ')} (or pass build)`);
    }
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(`${where}: model config rejected: ${(e as Error).message}`);
  }
  loadModelState(model, ck.modelState, `${ck.source}/model.safetensors`);
  return model;
}

/** A tensor's expected shape, each size with the config field it comes from. */
type ShapeRule = [name: string, dims: [field: string, size: number][]];

function transformerShapes(r: ReturnType<typeof resolveConfig>): ShapeRule[] {
  const D: [string, number] = ['dModel', r.dModel];
  const rules: ShapeRule[] = [
    ['src_embed.weight', [['srcVocab', r.srcVocab], D]],
    ['tgt_embed.weight', [['tgtVocab', r.tgtVocab], D]],
    ['generator.weight', [['tgtVocab', r.tgtVocab], D]],
  ];
  if (r.positional === 'learned') rules.push(['pos_embed.weight', [['maxLen', r.maxLen], D]]);
  if (r.encoderLayers > 0) rules.push(['encoder.layers.0.linear1.weight', [['dFF', r.dFF], D]]);
  if (r.decoderLayers > 0) rules.push(['decoder.layers.0.linear1.weight', [['dFF', r.dFF], D]]);
  return rules;
}

function gptShapes(r: ReturnType<typeof resolveGPTConfig>, prefix: string): ShapeRule[] {
  const D: [string, number] = ['dModel', r.dModel];
  return [
    [`${prefix}wte.weight`, [['vocab', r.vocab], D]],
    [`${prefix}wpe.weight`, [['context', r.context], D]],
    [`${prefix}layers.0.linear1.weight`, [['dFF', r.dFF], D]],
  ];
}

function bertShapes(r: ReturnType<typeof resolveBertConfig>): ShapeRule[] {
  const D: [string, number] = ['dModel', r.dModel];
  return [
    ['bert.embeddings.word_embeddings.weight', [['vocab', r.vocab], D]],
    ['bert.embeddings.position_embeddings.weight', [['maxPositions', r.maxPositions], D]],
    ['bert.embeddings.token_type_embeddings.weight', [['typeVocab', r.typeVocab], D]],
    ['bert.encoder.layers.0.linear1.weight', [['dFF', r.dFF], D]],
  ];
}

/**
 * Checks the config's sizes against the shapes model.safetensors holds, and its layer count
 * against the layers it names, so that a config.json saying `srcVocab: 1e8` is refused before the
 * model is built rather than after allocating gigabytes.
 */
function checkAgainstWeights(ck: CheckpointData, rules: ShapeRule[], layerPrefix: string, layers: number, field: string): void {
  const at = `${ck.source}/model.safetensors`;
  const cfg = `${ck.source}/config.json`;
  for (const [name, dims] of rules) {
    const t: Tensor | undefined = ck.modelState.get(name);
    const want = dims.map(([, n]) => n);
    const fields = dims.map(([f]) => `model.${f}`).join(', ');
    if (!t) throw new CheckpointError(`${at}: has no tensor "${name}", expected one of shape ${fmtShape(want)} (${fields} of ${cfg})`);
    if (t.shape.length !== want.length || t.shape.some((n, i) => n !== want[i])) {
      const bad = dims.find(([, n], i) => t.shape[i] !== n);
      const which = bad ? `${cfg}: model.${bad[0]} is ${bad[1]}, but ` : '';
      throw new CheckpointError(`${which}${at}: tensor "${name}" has shape ${fmtShape(t.shape)}, expected ${fmtShape(want)} (${fields} of ${cfg})`);
    }
  }
  let found = 0;
  for (const name of ck.modelState.keys()) {
    if (!name.startsWith(layerPrefix)) continue;
    const n = Number(name.slice(layerPrefix.length).split('.')[0]);
    if (Number.isSafeInteger(n) && n + 1 > found) found = n + 1;
  }
  if (found !== layers) {
    const held = found === 0 ? `no ${layerPrefix}N tensors` : `${found} (${layerPrefix}0 to ${layerPrefix}${found - 1})`;
    throw new CheckpointError(`${cfg}: model.${field} is ${layers}, but ${at} holds ${held}, expected the same count`);
  }
}

/**
 * Each tokenizer must have exactly the model's vocabulary: a smaller one leaves ids it never
 * produces or cannot decode, and a missing target_tokenizer.json would read a target in the
 * source's tokens (letters for phonemes).
 */
function checkTokenizers(ck: CheckpointData, sides: [side: 'tokenizer' | 'target', tok: Tokenizer | null, field: string, size: number][]): void {
  const cfg = `${ck.source}/config.json`;
  for (const [side, tok, field, size] of sides) {
    if (!tok) continue;
    const ownTarget = side === 'target' && tok !== ck.tokenizer;
    const file = ownTarget ? 'target_tokenizer.json' : 'tokenizer.json';
    if (tok.vocabSize === size) continue;
    if (side === 'target' && !ownTarget) {
      throw new CheckpointError(
        `${ck.source}/target_tokenizer.json: file is missing, and tokenizer.json (${tok.vocabSize} tokens) cannot be the target tokenizer of a model whose ` +
          `target vocabulary is ${size} (model.${field} of ${cfg}), expected target_tokenizer.json (written when source and target differ)`,
      );
    }
    throw new CheckpointError(
      `${ck.source}/${file}: has ${tok.vocabSize} tokens, but model.${field} of ${cfg} is ${size}, expected the tokenizer's vocabulary to match the model's`,
    );
  }
}
