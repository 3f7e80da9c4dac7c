// The language-model recipe: State of the Union addresses, the pre-training corpus (or your own text) with a GPT decoder and a byte-level BPE (or characters).

import type { LmBatch } from '../../data/batching.js';
import { lmBatches, lmChunkCount } from '../../data/batching.js';
import { loadPretrainingCorpus } from '../../data/load.js';
import { DEFAULT_CORPUS_SOURCES, type CorpusSourceName } from '../../data/corpus.js';
import { loadSotu } from '../../data/sotu.js';
import type { SotuSpeech } from '../../data/sotu.js';
import { ArgumentError } from '../../core/errors.js';
import type { GPT } from '../../models/gpt.js';
import { crossEntropy } from '../../tensor/index.js';
import { ByteLevelBPE } from '../../tokenizers/bpe.js';
import { CharTokenizer } from '../../tokenizers/char.js';
import type { Tokenizer } from '../../tokenizers/tokenizer.js';
import { bitsPerCharacter, perplexity, sumNll } from '../metrics/loss.js';
import { SAFETY_DEFAULTS, overrideConfig, trainerOptions } from './config.js';
import { LM_FIELDS, checkFields } from './config-schema.js';
import type { PresetName, TrainingConfig } from './config.js';
import { loadLmText, lmTextIds } from './lm-text.js';
import { gptFor, reusedTokenizer } from './reuse.js';
import type { BuildOptions, EvaluateOptions, ReuseTokenizers, TaskRun, TrainedModel } from './run.js';

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
  /**
   * Your own text to train on (a .txt file, or JSON Lines `{"text": ...}`, one document a line;
   * an absolute path in a checkpoint); null: the State of the Union addresses.
   */
  train: string | null;
  /** A file of valid text; null: the hashed hold-out of `train` (see validShare). */
  valid: string | null;
  /** Skip and count bad JSON Lines rows instead of stopping at the first. */
  skipBadRows: boolean;
  /** Without a valid file: the share of `train`'s line groups (or documents) held out, by FNV-1a hash. */
  validShare: number;
  /**
   * Without `train`: 'sotu', the State of the Union addresses (train, valid and test splits), or
   * 'pretraining', the pre-training corpus of loadPretrainingCorpus (train and valid only; the
   * corpus mlm pre-trains BERT on).
   */
  corpus: 'sotu' | 'pretraining';
  /** With corpus 'pretraining': its sources, in order (see loadPretrainingCorpus). */
  corpusSources: CorpusSourceName[];
}

const COMMON = {
  task: 'lm' as const, labelSmoothing: 0, clipGradNorm: 1, decay: 'rsqrt' as const, cooldown: null, patience: null, seed: 1, workers: 1, ...SAFETY_DEFAULTS, tokenizer: 'bpe',
  train: null, valid: null, skipBadRows: false, validShare: 0.05, corpus: 'sotu' as const, corpusSources: [...DEFAULT_CORPUS_SOURCES],
};

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
  return checkFields(LM_FIELDS, overrideConfig(LM_PRESETS[preset], overrides, 'lm'));
}

/** A config's own-text fields; configs written before they existed train on State of the Union. */
function userText(c: LmConfig): LmConfig & { train: string } | null {
  if (typeof c.train !== 'string') return null;
  return { ...c, valid: c.valid ?? null, skipBadRows: c.skipBadRows ?? false, validShare: c.validShare ?? 0.05, train: c.train };
}

/** Speeches joined into one text, separated by blank lines. */
export function sotuText(speeches: readonly SotuSpeech[], maxChars: number | null = null): string {
  const text = speeches.map((s) => s.text.trim()).join('\n\n');
  return maxChars === null ? text : text.slice(0, maxChars);
}

/** Documents joined into one text, separated by blank lines (the first `maxChars` characters). */
export function documentsText(docs: readonly string[], maxChars: number | null = null): string {
  const text = docs.map((d) => d.trim()).join('\n\n');
  return maxChars === null ? text : text.slice(0, maxChars);
}

/** Loss statistics of a token stream: valid loss (nats/token), perplexity and bits per character. */
function scoreStream(model: GPT, tok: Tokenizer, ids: ArrayLike<number>, context: number, maxTokens: number): Record<string, number> {
  let nll = 0;
  let tokens = 0;
  for (const b of lmBatches(ids, { context, maxTokens: Math.max(maxTokens, context) })) {
    const s = sumNll(model.forward(b.input).logits, b.target);
    nll += s.totalNll;
    tokens += s.tokens;
  }
  // The chunks predict tokens 1 .. n·C; bits per character divides by the characters they spell.
  const covered = lmChunkCount(ids.length, context) * context;
  const characters = [...tok.decode(Array.prototype.slice.call(ids, 1, 1 + covered) as number[])].length;
  return { validLoss: nll / tokens, perplexity: perplexity(nll, tokens), bpc: bitsPerCharacter(nll, characters) };
}

/**
 * Builds a language-model run: loads the addresses (or reads your text, see loadLmText), learns
 * (or reuses) the tokenizer on the train text, and makes the task: shuffled context-sized chunks
 * under a token budget, the next-token loss, and an evaluation with valid loss, perplexity and
 * bits per character.
 *
 * @example
 * const run = await lmTask(lmConfig('tiny'));
 */
export async function lmTask(c: LmConfig, reuse?: ReuseTokenizers, o: BuildOptions = {}): Promise<TaskRun<GPT, LmBatch>> {
  const own = userText(c);
  let tokenizer: Tokenizer;
  let ids: ArrayLike<number>;
  let validIds: ArrayLike<number>;
  let what: string;
  let characters: number;
  let notes: string[] = [];
  if (own) {
    const t = await loadLmText(own, reuse, o.onProgress);
    ({ tokenizer, notes } = t);
    ids = t.train;
    validIds = t.valid;
    characters = t.trainChars;
    what = own.valid !== null ? `${own.train}, valid ${own.valid}` : `${own.train}, ${t.groups.valid} of ${t.groups.train + t.groups.valid} line groups held out`;
  } else if (c.corpus === 'pretraining') {
    const corpus = await loadPretrainingCorpus(c.corpusSources);
    const text = documentsText(corpus.train, c.maxTrainExamples);
    if (reuse) {
      const b = reusedTokenizer(reuse.tokenizer, 'text', reuse, 'the pre-training corpus');
      b.add(text);
      tokenizer = b.finish();
    } else {
      tokenizer = c.tokenizer === 'char' ? CharTokenizer.fromCorpus([text]) : ByteLevelBPE.train([text], { vocabSize: c.vocabSize });
    }
    ids = tokenizer.encode(text);
    validIds = tokenizer.encode(documentsText(corpus.valid, c.evalChars));
    characters = text.length;
    what = `pre-training corpus: ${corpus.sources.map((s) => s.name).join(', ')}`;
  } else {
    const data = await loadSotu();
    const text = sotuText(data.train, c.maxTrainExamples);
    if (reuse) {
      const b = reusedTokenizer(reuse.tokenizer, 'text', reuse, 'the State of the Union train split');
      b.add(text);
      tokenizer = b.finish();
    } else {
      tokenizer = c.tokenizer === 'char' ? CharTokenizer.fromCorpus([text]) : ByteLevelBPE.train([text], { vocabSize: c.vocabSize });
    }
    ids = tokenizer.encode(text);
    validIds = tokenizer.encode(sotuText(data.valid, c.evalChars));
    characters = text.length;
    what = 'State of the Union';
  }
  const model = gptFor(reuse, { vocab: tokenizer.vocabSize, ...c.model, seed: c.seed });
  const C = model.config.context;
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
    summary: `lm (${what}): ${ids.length} training tokens (${characters} characters), vocabulary ${tokenizer.vocabSize}, ${validIds.length} valid tokens scored at each evaluation`,
    notes,
  };
}

/**
 * Valid loss, perplexity and bits per character of a trained model on a split (`limit`: the
 * first that many characters), or on any text file (`file`: .txt or JSON Lines).
 *
 * @example
 * const { metrics } = await evaluateLm(ck, config, { split: 'test' });
 */
export async function evaluateLm(t: TrainedModel<GPT>, c: LmConfig | null, o: EvaluateOptions): Promise<{ metrics: Record<string, number> }> {
  const own = c ? userText(c) : null;
  let ids: ArrayLike<number>;
  if (o.file !== undefined || own) {
    if (o.file === undefined && o.split !== 'valid') throw new ArgumentError(`split '${o.split}': an lm run on your own text (${own!.train}) has only a valid split, expected --split valid or --file FILE`);
    const fields = own ?? { ...LM_PRESETS.small, train: o.file! };
    ids = await lmTextIds(fields, t.tokenizer, { file: o.file, limit: o.limit, badRows: o.badRows, onProgress: o.onProgress });
  } else if (c?.corpus === 'pretraining') {
    if (o.split !== 'valid') throw new ArgumentError(`split '${o.split}': an lm run on the pre-training corpus has only a valid split (held out by hash), expected --split valid or --file FILE`);
    ids = t.tokenizer.encode(documentsText((await loadPretrainingCorpus(c.corpusSources)).valid, o.limit ?? null));
  } else {
    const data = await loadSotu();
    ids = t.tokenizer.encode(sotuText(data[o.split], o.limit ?? null));
  }
  if (ids.length < 2) throw new ArgumentError(`${o.file ?? 'the split'}: ${ids.length} tokens of text, expected at least 2 to score`);
  t.model.eval();
  const m = scoreStream(t.model, t.tokenizer, ids, t.model.config.context, c?.maxTokens ?? 4096);
  return { metrics: { loss: m.validLoss, perplexity: m.perplexity, bpc: m.bpc, tokens: ids.length } };
}

// Answering lives in the inference room.
export { continueText } from '../../inference/causal.js';
export type { ContinueOptions } from '../../inference/causal.js';
