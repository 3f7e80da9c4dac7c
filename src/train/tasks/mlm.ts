// The masked-LM recipe (BERT pre-training): the pre-training corpus (or your text), a WordPiece vocabulary, packed [CLS] … [SEP] sequences, 15% masked.

import { ArgumentError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import { loadPretrainingCorpus } from '../../data/load.js';
import { DEFAULT_CORPUS_SOURCES, type CorpusSourceName } from '../../data/corpus.js';
import { maskTokens } from '../../data/mlm.js';
import { readTextGroups, splitOfRow } from '../../data/user-data.js';
import { BadRows } from '../../data/user-files.js';
import { BertForMaskedLM } from '../../models/bert.js';
import type { BertConfig } from '../../models/bert.js';
import { crossEntropy, embedding, noGrad, tensor } from '../../tensor/index.js';
import type { Tensor } from '../../tensor/index.js';
import { WordPieceTokenizer } from '../../tokenizers/wordpiece.js';
import type { Tokenizer } from '../../tokenizers/tokenizer.js';
import { perplexity } from '../metrics/loss.js';
import { SAFETY_DEFAULTS, overrideConfig, spread, trainerOptions } from './config.js';
import { MLM_FIELDS, checkFields } from './config-schema.js';
import type { PresetName, TrainingConfig } from './config.js';
import type { BuildOptions, EvaluateOptions, ReuseTokenizers, TaskRun, TrainedModel } from './run.js';

/** A masked-LM run's config (the checkpoint's task options). */
export interface MlmConfig extends TrainingConfig {
  task: 'mlm';
  /** The encoder's sizes; `context` is the length of every packed sequence, [CLS] and [SEP] included (and BERT's maxPositions). */
  model: { dModel: number; heads: number; layers: number; dFF: number; context: number; dropout: number };
  /** Size of the WordPiece vocabulary learned on the train text (5 special tokens included). */
  vocabSize: number;
  /** Share of the non-special tokens chosen for prediction (BERT: 0.15; 80% [MASK], 10% random, 10% kept). */
  maskProb: number;
  /** Train on the first this many characters of the train text (null: all of it). */
  maxTrainExamples: number | null;
  /** Valid sequences scored at each evaluation (each masked once, with a fixed seed). */
  evalSequences: number;
  /** Your own text to pre-train on (.txt, or JSON Lines {"text": ...}); null: the pre-training corpus. */
  train: string | null;
  /** A file of valid text; null: the hashed hold-out of `train` (see validShare), or the corpus's valid split. */
  valid: string | null;
  skipBadRows: boolean;
  validShare: number;
  /** Without `train`: the pre-training corpus's sources, in order (see loadPretrainingCorpus). */
  corpusSources: CorpusSourceName[];
}

const COMMON = {
  task: 'mlm' as const, labelSmoothing: 0, clipGradNorm: 1, decay: 'rsqrt' as const, cooldown: null, patience: null, seed: 1, workers: 1, ...SAFETY_DEFAULTS,
  maskProb: 0.15, train: null, valid: null, skipBadRows: false, validShare: 0.05, corpusSources: [...DEFAULT_CORPUS_SOURCES],
};

/** tiny: seconds, for tests. small: a few minutes. base: about an hour on 2 cores (configs/bert-pretrain.json). */
export const MLM_PRESETS: Record<PresetName, MlmConfig> = {
  tiny: {
    ...COMMON, preset: 'tiny', model: { dModel: 32, heads: 2, layers: 1, dFF: 64, context: 32, dropout: 0.1 }, vocabSize: 500,
    maxTrainExamples: 20_000, maxTokens: 512, warmup: 10, lrFactor: 1, maxSteps: 10, maxMinutes: null, evalEvery: 5, evalSequences: 16,
  },
  small: {
    ...COMMON, preset: 'small', model: { dModel: 128, heads: 4, layers: 2, dFF: 512, context: 64, dropout: 0.1 }, vocabSize: 4000,
    maxTrainExamples: 2_000_000, maxTokens: 2048, warmup: 200, lrFactor: 1, maxSteps: 100_000, maxMinutes: 3, evalEvery: 100, evalSequences: 200,
  },
  base: {
    ...COMMON, preset: 'base', model: { dModel: 256, heads: 4, layers: 4, dFF: 1024, context: 128, dropout: 0.1 }, vocabSize: 8000,
    maxTrainExamples: null, maxTokens: 4096, warmup: 1000, lrFactor: 1, maxSteps: 100_000, maxMinutes: 60, evalEvery: 500, evalSequences: 500,
  },
};

/**
 * A masked-LM config: a preset with fields overridden; see {@link overrideConfig}.
 *
 * @example
 * const c = mlmConfig('tiny', { maxSteps: 50 });
 */
export function mlmConfig(preset: PresetName, overrides: Record<string, unknown> = {}): MlmConfig {
  return checkFields(MLM_FIELDS, overrideConfig(MLM_PRESETS[preset], overrides, 'mlm'));
}

/** A batch of masked sequences. */
export interface MlmBatch {
  /** [B, C] int32 ids after masking. */
  input: Tensor;
  /** Flat row-major positions (b · C + t) of the tokens to predict. */
  positions: Tensor;
  /** int32, one per position: the original token there. */
  targets: Tensor;
}

/** The ids the masking never chooses nor draws: [PAD], [CLS], [SEP], [UNK], [MASK]. */
export function wordPieceSpecials(tok: Tokenizer & { maskId: number }): Set<number> {
  return new Set([tok.padId, tok.bosId, tok.eosId, tok.unkId, tok.maskId]);
}

/**
 * Documents packed into sequences of `context` tokens, each `[CLS] … [SEP]`: the documents' tokens
 * joined into one stream with [SEP] after each document (as RoBERTa's FULL-SENTENCES), cut into
 * pieces of context − 2 tokens; a tail shorter than a piece is dropped. Every sequence has exactly
 * `context` tokens, so no padding is needed.
 *
 * @example
 * packSequences([[5, 6, 7], [8]], { cls: 1, sep: 2, context: 5 }); // [[1, 5, 6, 7, 2], [1, 2, 8, 2, 2]]
 */
export function packSequences(docs: Iterable<readonly number[]>, o: { cls: number; sep: number; context: number }): Int32Array[] {
  const piece = o.context - 2;
  if (!(Number.isInteger(piece) && piece >= 1)) throw new ArgumentError(`packSequences: context ${o.context}, expected an integer ≥ 3 ([CLS], a token, [SEP])`);
  const out: Int32Array[] = [];
  let cur: number[] = [];
  const push = (id: number) => {
    cur.push(id);
    if (cur.length === piece) {
      out.push(Int32Array.from([o.cls, ...cur, o.sep]));
      cur = [];
    }
  };
  for (const doc of docs) {
    for (const id of doc) push(id);
    push(o.sep);
  }
  return out;
}

/** Masks rows with one generator: each row's chosen positions flattened into the batch. */
function maskRows(rows: readonly Int32Array[], rng: Rng, o: { maskId: number; vocab: number; special: ReadonlySet<number>; prob: number }): MlmBatch {
  const C = rows[0].length;
  const input = new Int32Array(rows.length * C);
  const positions: number[] = [];
  const targets: number[] = [];
  rows.forEach((row, r) => {
    const m = maskTokens(Array.from(row), { rng, maskId: o.maskId, vocab: o.vocab, special: o.special, prob: o.prob });
    input.set(m.input, r * C);
    m.labels.forEach((label, t) => {
      if (label === -100) return;
      positions.push(r * C + t);
      targets.push(label);
    });
  });
  return {
    input: tensor(input, { shape: [rows.length, C], dtype: 'int32' }),
    positions: tensor(Int32Array.from(positions), { shape: [positions.length], dtype: 'int32' }),
    targets: tensor(Int32Array.from(targets), { shape: [targets.length], dtype: 'int32' }),
  };
}

/** A generator for the batch `index` of `epoch`: the same masks for that batch on every run, resumed or not. */
function batchRng(seed: number, epoch: number, index: number): Rng {
  return new Rng((Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)) | 0);
}

/** The seed of the valid split's masks: fixed, so that every evaluation scores the same masked tokens. */
export const VALID_MASK_SEED = 12345;

/**
 * The masked-LM loss of a batch: cross-entropy of the original tokens at the masked positions
 * only (BERT's objective), with the logits of those positions (the decoder runs on them alone).
 * Returns the summed loss or the mean, and the count.
 */
export function maskedLoss(model: BertForMaskedLM, b: MlmBatch, reduction: 'mean' | 'sum'): { loss: Tensor; tokens: number } {
  return { loss: crossEntropy(maskedLogits(model, b), b.targets, { reduction }), tokens: b.targets.size };
}

/** Logits [N, V] of the masked positions only: the hidden states there go through the head (HF computes all T positions and ignores most). */
export function maskedLogits(model: BertForMaskedLM, b: MlmBatch): Tensor {
  const { hidden } = model.bert.forward(b.input); // [B, C, D]
  const picked = embedding(b.positions, hidden.reshape([-1, hidden.shape[2]])); // [N, D]
  return model.cls.forward(picked); // [N, V]
}

/** Masked loss (nats per predicted token), perplexity (its exp) and masked-token accuracy over batches. */
export function scoreMasked(model: BertForMaskedLM, batches: Iterable<MlmBatch>): Record<string, number> {
  return noGrad(() => scoreMaskedInner(model, batches));
}

function scoreMaskedInner(model: BertForMaskedLM, batches: Iterable<MlmBatch>): Record<string, number> {
  let nll = 0;
  let tokens = 0;
  let correct = 0;
  for (const b of batches) {
    const picked = maskedLogits(model, b);
    nll += crossEntropy(picked, b.targets, { reduction: 'sum' }).item();
    tokens += b.targets.size;
    const predicted = picked.argmax(-1).toArray();
    const want = b.targets.toArray();
    for (let i = 0; i < want.length; i++) if (predicted[i] === want[i]) correct++;
  }
  if (tokens === 0) throw new ArgumentError('scoreMasked: no masked token to score, expected more valid text');
  return { validLoss: nll / tokens, perplexity: perplexity(nll, tokens), maskedAccuracy: correct / tokens, maskedTokens: tokens };
}

/** Rows grouped into batches of at most `rows`. */
function chunk<T>(items: readonly T[], rows: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += rows) out.push(items.slice(i, i + rows));
  return out;
}

/** The train and valid documents of a config: your files (hold-out by hash) or the pre-training corpus. */
async function mlmDocuments(c: MlmConfig, o: BuildOptions): Promise<{ train: string[]; valid: string[]; what: string; notes: string[] }> {
  if (c.train === null) {
    const corpus = await loadPretrainingCorpus(c.corpusSources);
    return { train: corpus.train, valid: corpus.valid, what: `pre-training corpus: ${corpus.sources.map((s) => s.name).join(', ')}`, notes: [] };
  }
  const train: string[] = [];
  const valid: string[] = [];
  const bad = new BadRows(c.skipBadRows);
  const split = { validFile: c.valid !== null, validShare: c.validShare };
  for await (const g of readTextGroups(c.train, { badRows: bad, onProgress: o.onProgress })) (splitOfRow(g, split) === 'valid' ? valid : train).push(g);
  if (c.valid !== null) for await (const g of readTextGroups(c.valid, { badRows: bad, onProgress: o.onProgress })) valid.push(g);
  const notes = [bad.summary()].filter((n): n is string => n !== null);
  if (train.length === 0) throw new ArgumentError(`${c.train}: no training text, expected a file with text in it`);
  if (valid.length === 0) {
    throw new ArgumentError(c.valid !== null ? `${c.valid}: no valid text, expected a file with text in it`
      : `${c.train}: the hashed hold-out (validShare ${c.validShare}) kept none of its ${train.length} line groups for validation; pass a valid file (--valid) or a larger validShare`);
  }
  return { train, valid, what: c.valid !== null ? `${c.train}, valid ${c.valid}` : `${c.train}, ${valid.length} of ${train.length + valid.length} line groups held out`, notes };
}

/** The first `maxChars` characters of the documents (whole documents, the last one cut). */
function firstChars(docs: readonly string[], maxChars: number | null): string[] {
  if (maxChars === null) return docs.slice();
  const out: string[] = [];
  let n = 0;
  for (const d of docs) {
    if (n >= maxChars) break;
    out.push(d.slice(0, maxChars - n));
    n += out[out.length - 1].length;
  }
  return out;
}

/** The WordPiece tokenizer of a run: the reused checkpoint's, or one learned on the train text. */
function mlmTokenizer(train: readonly string[], c: MlmConfig, reuse: ReuseTokenizers | undefined): WordPieceTokenizer {
  if (reuse) {
    if (!(reuse.tokenizer instanceof WordPieceTokenizer)) {
      throw new ArgumentError(`${reuse.source ?? 'the checkpoint'}: its tokenizer is a ${reuse.tokenizer.constructor.name}, expected a WordPieceTokenizer (the masked LM needs [MASK])`);
    }
    return reuse.tokenizer;
  }
  return WordPieceTokenizer.train(train, { vocabSize: c.vocabSize });
}

/** BERT's config for a run: the task's sizes (or the reused checkpoint's), the tokenizer's vocabulary. */
export function bertConfigOf(c: { model: MlmConfig['model']; seed: number }, vocab: number, reuse?: ReuseTokenizers): BertConfig {
  if (reuse?.modelConfig) return { ...(reuse.modelConfig as unknown as BertConfig), vocab, seed: c.seed };
  const { context, dropout, ...sizes } = c.model;
  return { vocab, ...sizes, maxPositions: context, dropout, attentionDropout: dropout, seed: c.seed };
}

/**
 * Builds a masked-LM run: reads the corpus (or your text), learns (or reuses) the WordPiece
 * vocabulary on the train text, packs [CLS] … [SEP] sequences of `context` tokens, and makes the
 * task: shuffled batches under the token budget, masked afresh per batch (seeded by the run's
 * seed, the epoch and the batch), the masked-token loss, and an evaluation on held-out text with
 * fixed masks (masked loss, perplexity, masked-token accuracy).
 *
 * @example
 * const run = await mlmTask(mlmConfig('tiny'));
 */
export async function mlmTask(c: MlmConfig, reuse?: ReuseTokenizers, o: BuildOptions = {}): Promise<TaskRun<BertForMaskedLM, MlmBatch>> {
  const docs = await mlmDocuments(c, o);
  const train = firstChars(docs.train, c.maxTrainExamples);
  const tokenizer = mlmTokenizer(train, c, reuse);
  const model = new BertForMaskedLM(bertConfigOf(c, tokenizer.vocabSize, reuse));
  const C = reuse?.modelConfig ? Number((reuse.modelConfig as { maxPositions?: number }).maxPositions ?? c.model.context) : c.model.context;
  const pack = { cls: tokenizer.bosId, sep: tokenizer.eosId, context: Math.min(C, c.model.context) };
  const sequences = packSequences(train.map((d) => tokenizer.encode(d)), pack);
  // Spread over the whole valid text: its documents come source by source, so the first sequences would all be SOTU.
  const validSeqs = spread(packSequences(docs.valid.map((d) => tokenizer.encode(d)), pack), c.evalSequences);
  if (sequences.length === 0) throw new ArgumentError(`mlm: the train text gives no sequence of ${pack.context} tokens, expected more text (or a smaller model.context)`);
  if (validSeqs.length === 0) throw new ArgumentError(`mlm: the valid text gives no sequence of ${pack.context} tokens, expected more valid text (or a smaller model.context)`);
  const mask = { maskId: tokenizer.maskId, vocab: tokenizer.vocabSize, special: wordPieceSpecials(tokenizer), prob: c.maskProb };
  const rows = Math.max(1, Math.floor(c.maxTokens / pack.context));
  // The valid masks are drawn once: every evaluation scores the same tokens.
  const validRng = new Rng(VALID_MASK_SEED);
  const validBatches = chunk(validSeqs, rows).map((b) => maskRows(b, validRng, mask));
  return {
    task: {
      name: 'mlm',
      options: c as unknown as Record<string, unknown>,
      *batches(epoch, rng) {
        const order = sequences.map((_, i) => i);
        rng.shuffle(order);
        let index = 0;
        for (const ids of chunk(order, rows)) {
          const b = maskRows(ids.map((i) => sequences[i]), batchRng(c.seed, epoch, index++), mask);
          // A batch that chose no token has nothing to predict: its mean loss would be 0/0.
          if (b.targets.size > 0) yield b;
        }
      },
      loss: (m, b) => maskedLoss(m, b, 'mean'),
      evaluate: (m) => scoreMasked(m, validBatches),
    },
    model,
    modelKind: 'bert',
    tokenizer,
    targetTokenizer: null,
    trainer: trainerOptions(c, model.config.dModel),
    summary: `mlm (${docs.what}): ${sequences.length} sequences of ${pack.context} tokens (${sequences.length * pack.context} tokens), WordPiece vocabulary ${tokenizer.vocabSize}, ${validSeqs.length} valid sequences scored at each evaluation`,
    notes: docs.notes,
  };
}

/**
 * Masked loss, perplexity and masked-token accuracy of a trained BERT on held-out text: the
 * corpus's valid split (or the run's valid text), or any text `file`; masks drawn with the fixed
 * VALID_MASK_SEED. `limit`: at most this many sequences.
 *
 * @example
 * const { metrics } = await evaluateMlm(ck, config, { split: 'valid' });
 */
export async function evaluateMlm(t: TrainedModel<BertForMaskedLM>, c: MlmConfig, o: EvaluateOptions): Promise<{ metrics: Record<string, number> }> {
  if (o.split !== 'valid' && o.file === undefined) throw new ArgumentError(`split '${o.split}': an mlm run has only a valid split (held-out text), expected --split valid or --file FILE`);
  const tok = t.tokenizer as WordPieceTokenizer;
  let docs: string[];
  if (o.file !== undefined) {
    docs = [];
    for await (const g of readTextGroups(o.file, { badRows: o.badRows ?? new BadRows(c.skipBadRows), onProgress: o.onProgress })) docs.push(g);
  } else {
    docs = (await mlmDocuments(c, o)).valid;
  }
  const context = Math.min(c.model.context, t.model.config.maxPositions);
  const seqs = packSequences(docs.map((d) => tok.encode(d)), { cls: tok.bosId, sep: tok.eosId, context }).slice(0, o.limit ?? Infinity);
  if (seqs.length === 0) throw new ArgumentError(`${o.file ?? 'the valid split'}: no sequence of ${context} tokens, expected more text`);
  const rng = new Rng(VALID_MASK_SEED);
  const mask = { maskId: tok.maskId, vocab: tok.vocabSize, special: wordPieceSpecials(tok), prob: c.maskProb };
  t.model.eval();
  const rows = Math.max(1, Math.floor(c.maxTokens / context));
  const metrics = scoreMasked(t.model, chunk(seqs, rows).map((b) => maskRows(b, rng, mask)));
  return { metrics: { loss: metrics.validLoss, perplexity: metrics.perplexity, maskedAccuracy: metrics.maskedAccuracy, maskedTokens: metrics.maskedTokens, sequences: seqs.length } };
}
