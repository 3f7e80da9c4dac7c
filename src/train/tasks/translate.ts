// The translation recipe: Ding English → German with a shared byte-level BPE and shared embeddings.

import type { PairBatch, SeqPair } from '../../data/batching.js';
import { pairBatches, pairLength } from '../../data/batching.js';
import type { TranslationPair } from '../../data/ding.js';
import { DING_PATH, loadDing } from '../../data/ding.js';
import type { Transformer } from '../../models/transformer.js';
import { ByteLevelBPE } from '../../tokenizers/bpe.js';
import type { Tokenizer } from '../../tokenizers/tokenizer.js';
import { corpusBleu } from '../metrics/bleu.js';
import { corpusChrf } from '../metrics/chrf.js';
import { SAFETY_DEFAULTS, overrideConfig, spread, trainerOptions } from './config.js';
import { TRANSLATE_FIELDS, checkFields } from './config-schema.js';
import type { PresetName, TrainingConfig } from './config.js';
import type { Seq2SeqModelConfig } from './g2p.js';
import type { EvaluateOptions, ReuseTokenizers, TaskRun, TrainedModel } from './run.js';
import { translate } from '../../inference/seq2seq.js';
import { reusedTokenizer, transformerFor } from './reuse.js';
import { seq2seqLoss, seq2seqValidLoss } from './seq2seq.js';

/** A translation run's config (the checkpoint's task options). */
export interface TranslateConfig extends TrainingConfig {
  task: 'translate';
  model: Seq2SeqModelConfig;
  /** Size of the shared BPE vocabulary (special tokens and the 256 bytes included). */
  vocabSize: number;
  /** Train on this many pairs spread over the train split (null: all); the BPE learns from them too. */
  maxTrainExamples: number | null;
  /** Training pairs longer than this many tokens (either side) are left out. */
  maxLength: number;
  /** Valid sentences scored at each evaluation (valid loss, BLEU, chrF). */
  evalSentences: number;
  /** Beam size of the evaluation during training (1: greedy, cheaper). */
  evalBeam: number;
  /** Beam size of `qkv eval` and `qkv translate`. */
  beam: number;
  /** α of the beam's length penalty. */
  lengthPenalty: number;
  /** The Ding dictionary file (`German :: English` lines) to train and score on; default Debian's trans-de-en. */
  dingPath: string;
}

const COMMON = { task: 'translate' as const, labelSmoothing: 0.1, clipGradNorm: 1, decay: 'rsqrt' as const, cooldown: null, patience: null, seed: 1, workers: 1, ...SAFETY_DEFAULTS, beam: 4, lengthPenalty: 0.6, maxLength: 64, dingPath: DING_PATH };

/** tiny: seconds, for tests. small: a few minutes. base: about an hour on 2 cores. */
export const TRANSLATE_PRESETS: Record<PresetName, TranslateConfig> = {
  tiny: {
    ...COMMON, preset: 'tiny', model: { dModel: 32, heads: 2, encoderLayers: 1, decoderLayers: 1, dFF: 64, dropout: 0.1 },
    vocabSize: 400, maxTrainExamples: 1000, maxTokens: 600, warmup: 10, lrFactor: 1, maxSteps: 10, maxMinutes: null,
    evalEvery: 5, evalSentences: 8, evalBeam: 1,
  },
  small: {
    ...COMMON, preset: 'small', model: { dModel: 128, heads: 4, encoderLayers: 2, decoderLayers: 2, dFF: 512, dropout: 0.1 },
    vocabSize: 4000, maxTrainExamples: 30_000, maxTokens: 2000, warmup: 200, lrFactor: 1, maxSteps: 100_000, maxMinutes: 3,
    evalEvery: 100, evalSentences: 100, evalBeam: 1,
  },
  base: {
    ...COMMON, preset: 'base', model: { dModel: 256, heads: 4, encoderLayers: 3, decoderLayers: 3, dFF: 1024, dropout: 0.1 },
    vocabSize: 8000, maxTrainExamples: null, maxTokens: 4000, warmup: 1000, lrFactor: 1, maxSteps: 100_000, maxMinutes: 60,
    evalEvery: 500, evalSentences: 200, evalBeam: 4, patience: 6,
  },
};

/**
 * A translation config: a preset with fields overridden; see {@link overrideConfig}.
 *
 * @example
 * const c = translateConfig('base', { vocabSize: 6000 });
 */
export function translateConfig(preset: PresetName, overrides: Record<string, unknown> = {}): TranslateConfig {
  return checkFields(TRANSLATE_FIELDS, overrideConfig(TRANSLATE_PRESETS[preset], overrides, 'translate'));
}

/** The pairs as token ids (one shared tokenizer for both sides). */
export function translatePairs(pairs: readonly TranslationPair[], tok: Tokenizer): SeqPair[] {
  return pairs.map((p) => ({ src: tok.encode(p.src), tgt: tok.encode(p.tgt) }));
}

/**
 * Builds a translation run: loads Ding, learns (or reuses) one byte-level BPE over both sides of
 * the training pairs, and makes the task: token-budget batches, label-smoothed loss, and an
 * evaluation with the valid loss and BLEU/chrF (sacreBLEU's 13a and chrF defaults, on the decoded
 * text) on `evalSentences` fixed valid sentences.
 *
 * @example
 * const run = await translateTask(translateConfig('tiny'));
 */
export async function translateTask(c: TranslateConfig, reuse?: ReuseTokenizers): Promise<TaskRun<Transformer, PairBatch>> {
  const data = await loadDing(c.dingPath ?? DING_PATH); // checkpoints written before the field existed used the default
  const chosen = spread(data.train, c.maxTrainExamples);
  let tokenizer: Tokenizer;
  if (reuse) {
    const shared = reusedTokenizer(reuse.tokenizer, 'shared', reuse, 'the Ding train split');
    for (const p of chosen) { shared.add(p.src); shared.add(p.tgt); }
    tokenizer = shared.finish();
  } else {
    tokenizer = ByteLevelBPE.train(chosen.flatMap((p) => [p.src, p.tgt]), { vocabSize: c.vocabSize });
  }
  const sp = { padId: tokenizer.padId, bosId: tokenizer.bosId, eosId: tokenizer.eosId };
  const train = translatePairs(chosen, tokenizer).filter((p) => p.src.length > 0 && p.src.length <= c.maxLength && p.tgt.length <= c.maxLength && pairLength(p) <= c.maxTokens);
  const valid = spread(data.valid, c.evalSentences);
  const validPairs = translatePairs(valid, tokenizer);
  const model = transformerFor(reuse, {
    srcVocab: tokenizer.vocabSize, tgtVocab: tokenizer.vocabSize, ...c.model, shareEmbeddings: true, maxLen: 512, seed: c.seed,
  });
  const t = { model, tokenizer, targetTokenizer: tokenizer };
  return {
    task: {
      name: 'translate',
      options: c as unknown as Record<string, unknown>,
      batches: (_epoch, rng) => pairBatches(train, { ...sp, maxTokens: c.maxTokens, rng }),
      loss: (m, b) => seq2seqLoss(m, b, sp, c.labelSmoothing),
      evaluate: (m) => {
        const validLoss = seq2seqValidLoss(m, validPairs, sp, c.maxTokens);
        return { validLoss, ...score({ ...t, model: m }, valid, c.evalBeam, c.lengthPenalty).metrics };
      },
    },
    model,
    modelKind: 'transformer',
    tokenizer,
    targetTokenizer: null,
    trainer: trainerOptions(c, c.model.dModel, { metric: 'bleu', mode: 'max' }),
    summary: `translate (Ding en→de): ${train.length} training pairs, BPE vocabulary ${tokenizer.vocabSize}, ${valid.length} valid sentences scored at each evaluation`,
  };
}

// Answering lives in the inference room; the evaluation below calls it as every user does.
export { translate } from '../../inference/seq2seq.js';

function score(t: TrainedModel<Transformer>, pairs: readonly TranslationPair[], beam: number, lengthPenalty: number) {
  const hyps = translate(t, pairs.map((p) => p.src), { numBeams: beam, lengthPenalty });
  const refs = [pairs.map((p) => p.tgt)];
  return { metrics: { bleu: corpusBleu(hyps, refs).score, chrf: corpusChrf(hyps, refs).score }, hypotheses: hyps };
}

/**
 * BLEU and chrF (0–100, sacreBLEU's defaults) of a trained model on a split, with beam search.
 *
 * @example
 * const { metrics } = await evaluateTranslate(ck, config, { split: 'test' });
 */
export async function evaluateTranslate(t: TrainedModel<Transformer>, c: TranslateConfig, o: EvaluateOptions): Promise<{ metrics: Record<string, number>; examples: { src: string; hypothesis: string; reference: string }[] }> {
  const data = await loadDing(c.dingPath ?? DING_PATH); // checkpoints written before the field existed used the default
  const pairs = spread(data[o.split], o.limit ?? null);
  t.model.eval();
  const r = score(t, pairs, o.beam ?? c.beam, c.lengthPenalty);
  return {
    metrics: { ...r.metrics, sentences: pairs.length },
    examples: pairs.map((p, i) => ({ src: p.src, hypothesis: r.hypotheses[i], reference: p.tgt })),
  };
}
