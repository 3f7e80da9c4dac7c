// The G2P recipe: CMUdict spelling → ARPAbet pronunciation with an encoder-decoder Transformer.

import type { CmudictEntry } from '../../data/cmudict.js';
import { loadCmudict, withoutStressMarks } from '../../data/cmudict.js';
import type { Splits } from '../../data/split.js';
import type { PairBatch, SeqPair } from '../../data/batching.js';
import { pairBatches } from '../../data/batching.js';
import { Transformer } from '../../models/transformer.js';
import { CharTokenizer } from '../../tokenizers/char.js';
import { SymbolTokenizer } from '../../tokenizers/symbol.js';
import type { Tokenizer } from '../../tokenizers/tokenizer.js';
import { g2pErrorRates, withoutStress } from '../metrics/edit-distance.js';
import { SAFETY_DEFAULTS, overrideConfig, spread, trainerOptions } from './config.js';
import { G2P_FIELDS, checkFields } from './config-schema.js';
import type { PresetName, TrainingConfig } from './config.js';
import type { EvaluateOptions, ReuseTokenizers, TaskRun, TrainedModel } from './run.js';
import { pronounce } from '../../inference/seq2seq.js';
import { reusedTokenizer, transformerFor } from './reuse.js';
import { seq2seqLoss, seq2seqValidLoss } from './seq2seq.js';
import type { SpecialIds } from './seq2seq.js';

/** The encoder-decoder's size. */
export interface Seq2SeqModelConfig {
  dModel: number;
  heads: number;
  encoderLayers: number;
  decoderLayers: number;
  dFF: number;
  dropout: number;
}

/** A G2P run's config (written to the checkpoint's config.json as the task's options). */
export interface G2PConfig extends TrainingConfig {
  task: 'g2p';
  model: Seq2SeqModelConfig;
  /** Train on this many (word, pronunciation) pairs spread over the train split (null: all of them). */
  maxTrainExamples: number | null;
  /** Valid words scored at each evaluation (valid loss and greedy WER/PER). */
  evalWords: number;
  /** Beam size of `qkv eval` and `qkv g2p`. */
  beam: number;
  /** α of the beam's length penalty. */
  lengthPenalty: number;
  /**
   * Keep CMUdict's stress digits on vowels (AH0, OW1). false: train and score on phonemes alone, as
   * the standard CMUdict G2P benchmarks do (configs written before the field existed keep them).
   */
  stress: boolean;
}

const COMMON = { task: 'g2p' as const, labelSmoothing: 0.1, clipGradNorm: 1, decay: 'rsqrt' as const, cooldown: null, patience: null, seed: 1, workers: 1, ...SAFETY_DEFAULTS, beam: 4, lengthPenalty: 0.6, stress: true };

/**
 * tiny: seconds, for tests. small: the README demo (3 minutes of training, about 3.5 minutes end to end).
 * base: the results-table run, about an hour on 2 cores with the native backend.
 */
export const G2P_PRESETS: Record<PresetName, G2PConfig> = {
  tiny: {
    ...COMMON, preset: 'tiny', model: { dModel: 32, heads: 2, encoderLayers: 1, decoderLayers: 1, dFF: 64, dropout: 0.1 },
    maxTokens: 400, warmup: 10, lrFactor: 1, maxSteps: 12, maxMinutes: null, evalEvery: 6, maxTrainExamples: 2000, evalWords: 16,
  },
  small: {
    ...COMMON, preset: 'small', model: { dModel: 64, heads: 4, encoderLayers: 2, decoderLayers: 2, dFF: 256, dropout: 0 },
    maxTokens: 1200, warmup: 150, lrFactor: 1, decay: 'none', cooldown: 1, maxSteps: 100_000, maxMinutes: 3, evalEvery: 100, maxTrainExamples: null, evalWords: 200,
  },
  base: {
    ...COMMON, preset: 'base', model: { dModel: 128, heads: 4, encoderLayers: 3, decoderLayers: 3, dFF: 512, dropout: 0 },
    maxTokens: 1500, workers: 2, warmup: 400, lrFactor: 0.6, decay: 'none', cooldown: 1, maxSteps: 100_000, maxMinutes: 60, evalEvery: 500, maxTrainExamples: null, evalWords: 500, patience: null,
  },
};

/**
 * A G2P config: a preset with fields overridden (from a config.json); see {@link overrideConfig}.
 *
 * @example
 * const c = g2pConfig('small', { maxMinutes: 5 });
 */
export function g2pConfig(preset: PresetName, overrides: Record<string, unknown> = {}): G2PConfig {
  return checkFields(G2P_FIELDS, overrideConfig(G2P_PRESETS[preset], overrides, 'g2p'));
}

/** Source tokenizer: the letters (and apostrophe) of the training words. */
export function g2pTokenizers(train: readonly CmudictEntry[]): { tokenizer: CharTokenizer; targetTokenizer: SymbolTokenizer } {
  return {
    tokenizer: CharTokenizer.fromCorpus(train.map((e) => e.word)),
    targetTokenizer: SymbolTokenizer.fromCorpus(train.flatMap((e) => e.pronunciations)),
  };
}

/** A checkpoint's tokenizers for the training words (checked or grown when fine-tuning, see reusedTokenizer). */
function reusedG2PTokenizers(reuse: ReuseTokenizers, train: readonly CmudictEntry[]): { tokenizer: Tokenizer; targetTokenizer: Tokenizer } {
  const src = reusedTokenizer(reuse.tokenizer, 'source', reuse, 'the CMUdict train split');
  const tgt = reusedTokenizer(reuse.targetTokenizer ?? reuse.tokenizer, 'target', reuse, 'the CMUdict train split');
  for (const e of train) {
    src.add(e.word);
    for (const p of e.pronunciations) tgt.add(p);
  }
  return { tokenizer: src.finish(), targetTokenizer: tgt.finish() };
}

/** Every (word, pronunciation) pair of the entries as token ids. */
export function g2pPairs(entries: readonly CmudictEntry[], src: Tokenizer, tgt: Tokenizer): SeqPair[] {
  return entries.flatMap((e) => {
    const s = src.encode(e.word);
    return e.pronunciations.map((p) => ({ src: s, tgt: tgt.encode(p) }));
  });
}

/** CMUdict's splits as the config reads them: with stress digits, or without (see G2PConfig.stress). */
export async function g2pData(c: Pick<G2PConfig, 'stress'>): Promise<Splits<CmudictEntry>> {
  const data = await loadCmudict();
  if (c.stress !== false) return data;
  return { train: withoutStressMarks(data.train), valid: withoutStressMarks(data.valid), test: withoutStressMarks(data.test) };
}

function ids(tok: Tokenizer): SpecialIds {
  return { padId: tok.padId, bosId: tok.bosId, eosId: tok.eosId };
}

/** A fresh encoder-decoder sized by the config. */
export function g2pModel(c: G2PConfig, srcVocab: number, tgtVocab: number): Transformer {
  return new Transformer({ srcVocab, tgtVocab, ...c.model, maxLen: 256, seed: c.seed });
}

/**
 * Builds a G2P run: loads CMUdict, builds (or reuses) the tokenizers, encodes every training pair,
 * and makes the task: seeded token-budget batches, label-smoothed loss, and an evaluation that
 * gives the valid loss and greedy WER/PER on `evalWords` fixed valid words.
 *
 * @example
 * const run = await g2pTask(g2pConfig('tiny'));
 * await new Trainer(run.model, run.task, run.trainer).run();
 */
export async function g2pTask(c: G2PConfig, reuse?: ReuseTokenizers): Promise<TaskRun<Transformer, PairBatch>> {
  const data = await g2pData(c);
  const { tokenizer, targetTokenizer } = reuse ? reusedG2PTokenizers(reuse, data.train) : g2pTokenizers(data.train);
  const sp = ids(targetTokenizer);
  const all = g2pPairs(data.train, tokenizer, targetTokenizer);
  const train = spread(all, c.maxTrainExamples);
  const validWords = spread(data.valid, c.evalWords);
  const validPairs = g2pPairs(validWords, tokenizer, targetTokenizer);
  const model = reuse?.modelConfig
    ? transformerFor(reuse, { srcVocab: tokenizer.vocabSize, tgtVocab: targetTokenizer.vocabSize, seed: c.seed })
    : g2pModel(c, tokenizer.vocabSize, targetTokenizer.vocabSize);
  return {
    task: {
      name: 'g2p',
      options: c as unknown as Record<string, unknown>,
      batches: (_epoch, rng) => pairBatches(train, { ...sp, maxTokens: c.maxTokens, rng }),
      loss: (m, b) => seq2seqLoss(m, b, sp, c.labelSmoothing),
      evaluate: (m) => {
        const validLoss = seq2seqValidLoss(m, validPairs, sp, c.maxTokens);
        const r = scoreWords(m, tokenizer, targetTokenizer, validWords, 1, c.lengthPenalty);
        return { validLoss, wer: r.wer, per: r.per };
      },
    },
    model,
    modelKind: 'transformer',
    tokenizer,
    targetTokenizer,
    trainer: trainerOptions(c, c.model.dModel, { metric: 'wer', mode: 'min' }),
    summary: `g2p (CMUdict): ${train.length} training pairs of ${all.length}, ${validWords.length} valid words scored at each evaluation`,
  };
}

// Answering lives in the inference room; the evaluation below calls it as every user does.
export { pronounce } from '../../inference/seq2seq.js';

/**
 * WER/PER of decoded words against all their listed pronunciations, the same with stress marks
 * removed on both sides (werNoStress, perNoStress), and the hypotheses.
 */
function scoreWords(model: Transformer, src: Tokenizer, tgt: Tokenizer, entries: readonly CmudictEntry[], beam: number, lengthPenalty: number) {
  const hyps = pronounce({ model, tokenizer: src, targetTokenizer: tgt }, entries.map((e) => e.word), { numBeams: beam, lengthPenalty });
  const split = (s: string) => s.split(' ').filter((x) => x);
  const h = hyps.map(split);
  const refs = entries.map((e) => e.pronunciations.map(split));
  const rates = g2pErrorRates(h, refs);
  const plain = g2pErrorRates(h.map(withoutStress), refs.map((r) => r.map(withoutStress)));
  return { ...rates, werNoStress: plain.wer, perNoStress: plain.per, hypotheses: hyps };
}

/** One word of an evaluation: the model's pronunciation and the dictionary's. */
export interface G2PExample {
  word: string;
  hypothesis: string;
  references: string[];
}

/**
 * Scores a trained model on a split with beam search (the config's beam unless given): a word is
 * right when it matches any of its listed pronunciations. Metrics: wer, per (fractions), werNoStress and
 * perNoStress (the same with the stress digits removed on both sides), words;
 * examples holds every word's hypothesis.
 *
 * @example
 * const { metrics } = await evaluateG2P(ck, config, { split: 'test', limit: 500 });
 */
export async function evaluateG2P(t: TrainedModel<Transformer>, c: G2PConfig, o: EvaluateOptions): Promise<{ metrics: Record<string, number>; examples: G2PExample[] }> {
  const data = await g2pData(c);
  const entries = spread(data[o.split], o.limit ?? null);
  t.model.eval();
  const r = scoreWords(t.model, t.tokenizer, t.targetTokenizer, entries, o.beam ?? c.beam, c.lengthPenalty);
  return {
    metrics: { wer: r.wer, per: r.per, werNoStress: r.werNoStress, perNoStress: r.perNoStress, words: r.words },
    examples: entries.map((e, i) => ({ word: e.word, hypothesis: r.hypotheses[i], references: e.pronunciations })),
  };
}
