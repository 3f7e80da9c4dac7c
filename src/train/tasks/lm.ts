// The language-model recipe: State of the Union addresses with a GPT decoder and a byte-level BPE (or characters).

import type { LmBatch } from '../../data/batching.js';
import { lmBatches, lmChunkCount } from '../../data/batching.js';
import { loadSotu } from '../../data/sotu.js';
import type { SotuSpeech } from '../../data/sotu.js';
import { GPT } from '../../models/gpt.js';
import { crossEntropy } from '../../tensor/index.js';
import { ByteLevelBPE } from '../../tokenizers/bpe.js';
import { CharTokenizer } from '../../tokenizers/char.js';
import type { Tokenizer } from '../../tokenizers/tokenizer.js';
import { bitsPerCharacter, perplexity, sumNll } from '../metrics/loss.js';
import { overrideConfig, trainerOptions } from './config.js';
import type { PresetName, TrainingConfig } from './config.js';
import type { EvaluateOptions, ReuseTokenizers, TaskRun, TrainedModel } from './run.js';

/** A language-model run's config (the checkpoint's task options). */
export interface LmConfig extends TrainingConfig {
  task: 'lm';
  model: { dModel: number; heads: number; layers: number; context: number; dropout: number };
  /** 'bpe' (byte-level BPE of `vocabSize`) or 'char'. */
  tokenizer: string;
  vocabSize: number;
  /** Train on the first this many characters of the train text (null: all of it). */
  maxTrainExamples: number | null;
  /** Characters of the valid text scored at each evaluation. */
  evalChars: number;
}

const COMMON = { task: 'lm' as const, labelSmoothing: 0, clipGradNorm: 1, decay: 'rsqrt' as const, cooldown: null, patience: null, seed: 1, workers: 1, tokenizer: 'bpe' };

/** tiny: seconds, for tests. small: a few minutes. base: about an hour on 2 cores. */
export const LM_PRESETS: Record<PresetName, LmConfig> = {
  tiny: {
    ...COMMON, preset: 'tiny', model: { dModel: 32, heads: 2, layers: 1, context: 32, dropout: 0.1 }, vocabSize: 300,
    maxTrainExamples: 20_000, maxTokens: 256, warmup: 10, lrFactor: 1, maxSteps: 10, maxMinutes: null, evalEvery: 5, evalChars: 2000,
  },
  small: {
    ...COMMON, preset: 'small', model: { dModel: 128, heads: 4, layers: 2, context: 64, dropout: 0.1 }, vocabSize: 2000,
    maxTrainExamples: 1_000_000, maxTokens: 2048, warmup: 200, lrFactor: 1, maxSteps: 100_000, maxMinutes: 3, evalEvery: 100, evalChars: 50_000,
  },
  base: {
    ...COMMON, preset: 'base', model: { dModel: 256, heads: 4, layers: 4, context: 128, dropout: 0.1 }, vocabSize: 8000,
    maxTrainExamples: null, maxTokens: 4096, warmup: 1000, lrFactor: 1, maxSteps: 100_000, maxMinutes: 60, evalEvery: 500, evalChars: 200_000, patience: 6,
  },
};

/**
 * A language-model config: a preset with fields overridden; see {@link overrideConfig}.
 *
 * @example
 * const c = lmConfig('small', { tokenizer: 'char' });
 */
export function lmConfig(preset: PresetName, overrides: Record<string, unknown> = {}): LmConfig {
  return overrideConfig(LM_PRESETS[preset], overrides, 'lm');
}

/** Speeches joined into one text, separated by blank lines. */
export function sotuText(speeches: readonly SotuSpeech[], maxChars: number | null = null): string {
  const text = speeches.map((s) => s.text.trim()).join('\n\n');
  return maxChars === null ? text : text.slice(0, maxChars);
}

/** Loss statistics of a token stream: valid loss (nats/token), perplexity and bits per character. */
function scoreStream(model: GPT, tok: Tokenizer, ids: readonly number[], context: number, maxTokens: number): Record<string, number> {
  let nll = 0;
  let tokens = 0;
  for (const b of lmBatches(ids, { context, maxTokens: Math.max(maxTokens, context) })) {
    const s = sumNll(model.forward(b.input).logits, b.target);
    nll += s.totalNll;
    tokens += s.tokens;
  }
  // The chunks predict tokens 1 .. n·C; bits per character divides by the characters they spell.
  const covered = lmChunkCount(ids.length, context) * context;
  const characters = [...tok.decode(ids.slice(1, 1 + covered))].length;
  return { validLoss: nll / tokens, perplexity: perplexity(nll, tokens), bpc: bitsPerCharacter(nll, characters) };
}

/**
 * Builds a language-model run: loads the addresses, learns (or reuses) the tokenizer on the train
 * text, and makes the task: shuffled context-sized chunks under a token budget, the next-token
 * loss, and an evaluation with valid loss, perplexity and bits per character.
 *
 * @example
 * const run = await lmTask(lmConfig('tiny'));
 */
export async function lmTask(c: LmConfig, reuse?: ReuseTokenizers): Promise<TaskRun<GPT, LmBatch>> {
  const data = await loadSotu();
  const text = sotuText(data.train, c.maxTrainExamples);
  const tokenizer = reuse?.tokenizer ?? (c.tokenizer === 'char' ? CharTokenizer.fromCorpus([text]) : ByteLevelBPE.train([text], { vocabSize: c.vocabSize }));
  const ids = tokenizer.encode(text);
  const validIds = tokenizer.encode(sotuText(data.valid, c.evalChars));
  const model = new GPT({ vocab: tokenizer.vocabSize, ...c.model, seed: c.seed });
  const C = c.model.context;
  return {
    task: {
      name: 'lm',
      options: c as unknown as Record<string, unknown>,
      batches: (_epoch, rng) => lmBatches(ids, { context: C, maxTokens: Math.max(c.maxTokens, C), rng }),
      loss: (m, b) => {
        const { logits } = m.forward(b.input); // [B, C, V]
        const loss = crossEntropy(logits.reshape([-1, logits.shape[2]]), b.target.reshape([-1]), { labelSmoothing: c.labelSmoothing });
        return { loss, tokens: b.target.size };
      },
      evaluate: (m) => scoreStream(m, tokenizer, validIds, C, c.maxTokens),
    },
    model,
    modelKind: 'gpt',
    tokenizer,
    targetTokenizer: null,
    trainer: trainerOptions(c, c.model.dModel),
    summary: `lm (State of the Union): ${ids.length} training tokens (${text.length} characters), vocabulary ${tokenizer.vocabSize}, ${validIds.length} valid tokens scored at each evaluation`,
  };
}

/**
 * Valid loss, perplexity and bits per character of a trained model on a split (`limit`: the
 * first that many characters).
 *
 * @example
 * const { metrics } = await evaluateLm(ck, config, { split: 'test' });
 */
export async function evaluateLm(t: TrainedModel<GPT>, c: LmConfig, o: EvaluateOptions): Promise<{ metrics: Record<string, number> }> {
  const data = await loadSotu();
  const ids = t.tokenizer.encode(sotuText(data[o.split], o.limit ?? null));
  t.model.eval();
  const m = scoreStream(t.model, t.tokenizer, ids, t.model.config.context, c.maxTokens);
  return { metrics: { loss: m.validLoss, perplexity: m.perplexity, bpc: m.bpc, tokens: ids.length } };
}

// Answering lives in the inference room.
export { continueText } from '../../inference/causal.js';
export type { ContinueOptions } from '../../inference/causal.js';
