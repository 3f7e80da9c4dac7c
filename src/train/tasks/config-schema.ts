// The ranges of every task config field, as zod schemas, and the one error message they all give.

import { z } from 'zod';
import { LIMITS } from '../../core/limits.js';
import { ArgumentError } from '../../core/errors.js';
import { TOKENIZER_KINDS } from '../../tokenizers/builder.js';
import { CORPUS_SOURCES } from '../../data/corpus.js';

// Each builder gives every check of a field the same message: what the field expects, in words.
// The message of a failed field is then `config field '<path>' is <value>, expected <that>`.

/** An integer ≥ min (a safe integer: a count, a size, a step). */
export function intAtLeast(min: number): z.ZodNumber {
  const e = { error: `an integer ≥ ${min}` };
  return z.number(e).int(e).min(min, e);
}

/** An integer ≥ min, or null (no limit). */
export function intAtLeastOrNull(min: number): z.ZodNullable<z.ZodNumber> {
  const e = { error: `an integer ≥ ${min} or null` };
  return z.number(e).int(e).min(min, e).nullable();
}

/** A finite number in [min, max) (a probability that must leave some mass: dropout, label smoothing). */
export function inHalfOpen(min: number, max: number): z.ZodNumber {
  const e = { error: `a number in [${min}, ${max})` };
  return z.number(e).min(min, e).lt(max, e);
}

/** A finite number in (min, max) (a share of the data). */
export function inOpen(min: number, max: number): z.ZodNumber {
  const e = { error: `a number in (${min}, ${max})` };
  return z.number(e).gt(min, e).lt(max, e);
}

/** A finite number > 0. */
export function positive(): z.ZodNumber {
  const e = { error: 'a finite number > 0' };
  return z.number(e).gt(0, e);
}

/** A finite number > 0, or null (no limit). */
export function positiveOrNull(): z.ZodNullable<z.ZodNumber> {
  const e = { error: 'a finite number > 0 or null' };
  return z.number(e).gt(0, e).nullable();
}

/** Any finite number. */
export function finite(): z.ZodNumber {
  return z.number({ error: 'a finite number' });
}

/** One of the listed words. */
export function oneOf<T extends string>(values: readonly [T, ...T[]]): z.ZodEnum<{ [K in T]: K }> {
  return z.enum(values, { error: `one of ${values.map((v) => `'${v}'`).join(', ')}` });
}

/** true or false. */
export function flag(): z.ZodBoolean {
  return z.boolean({ error: 'true or false' });
}

/** A file path, or null. */
export function pathOrNull(): z.ZodNullable<z.ZodString> {
  return z.string({ error: 'a string (a file path) or null' }).nullable();
}

/** The fields every task config has (TrainingConfig); each task's schema spreads its `.shape`. */
export const TRAINING_FIELDS = z.object({
  preset: oneOf(['tiny', 'small', 'base']),
  maxTokens: intAtLeast(1).max(LIMITS.maxBatchTokens, { error: `an integer from 1 to ${LIMITS.maxBatchTokens} (the cap LIMITS.maxBatchTokens)` }),
  labelSmoothing: inHalfOpen(0, 1),
  // The Noam schedule divides by warm-up (warmup^−1.5), so it needs at least one step.
  warmup: intAtLeast(1),
  lrFactor: positive(),
  decay: oneOf(['rsqrt', 'none']),
  // A share of the run: (0, 1].
  cooldown: z.number({ error: 'a number in (0, 1] or null' }).gt(0, { error: 'a number in (0, 1] or null' }).max(1, { error: 'a number in (0, 1] or null' }).nullable(),
  clipGradNorm: positive(),
  maxSteps: intAtLeast(1),
  maxMinutes: positiveOrNull(),
  evalEvery: intAtLeast(1),
  patience: intAtLeastOrNull(1),
  seed: z.number({ error: 'an integer' }).int({ error: 'an integer' }),
  workers: intAtLeast(1),
  saveEvery: intAtLeastOrNull(1),
  saveEveryMinutes: positiveOrNull(),
  nonFinite: oneOf(['stop', 'skip']),
  divergenceFactor: z.number({ error: 'a number ≥ 1 or null' }).min(1, { error: 'a number ≥ 1 or null' }).nullable(),
  divergencePatience: intAtLeast(1),
  monitor: z.string({ error: 'a metric name (validLoss, wer, bleu, ...) or null' }).min(1, { error: 'a metric name (validLoss, wer, bleu, ...) or null' }).nullable(),
  keepCheckpoints: z.number({ error: 'an integer ≥ 0' }).int({ error: 'an integer ≥ 0' }).min(0, { error: 'an integer ≥ 0' }),
});

/** The shape fields every attention model shares: d_model, heads (dividing d_model) and dropout. */
const ATTENTION_FIELDS = {
  dModel: intAtLeast(1),
  heads: intAtLeast(1),
  dropout: inHalfOpen(0, 1),
};

/** heads must divide dModel: each head gets d_k = d_model / h (§3.2.2). */
function headsDivideDModel(m: { dModel: number; heads: number }, ctx: z.RefinementCtx): void {
  if (Number.isInteger(m.dModel) && Number.isInteger(m.heads) && m.heads >= 1 && m.dModel % m.heads !== 0) {
    ctx.addIssue({ code: 'custom', path: ['heads'], input: m.heads, message: `a divisor of model.dModel (${m.dModel}): each head gets dModel / heads dimensions` });
  }
}

/** An encoder-decoder's model fields (g2p, translate, seq2seq). */
export const SEQ2SEQ_MODEL_FIELDS = z.object({
  ...ATTENTION_FIELDS,
  encoderLayers: intAtLeast(1),
  decoderLayers: intAtLeast(1),
  dFF: intAtLeast(1),
}).superRefine(headsDivideDModel);

/** A language model's model fields (lm). */
export const LM_MODEL_FIELDS = z.object({
  ...ATTENTION_FIELDS,
  layers: intAtLeast(1),
  // A prompt of at least one token and one new token must fit.
  context: intAtLeast(2),
}).superRefine(headsDivideDModel);

/** Decoding fields of the encoder-decoder tasks. */
const BEAM_FIELDS = {
  beam: intAtLeast(1),
  lengthPenalty: finite(),
};

/** A byte-level BPE needs its 4 special tokens and the 256 bytes. */
export const MIN_BPE_VOCAB = 260;
const vocabSize = () => intAtLeast(1);

/** vocabSize must hold the 4 special tokens and the 256 bytes when a side uses BPE. */
function bpeVocab(uses: (c: Record<string, unknown>) => boolean) {
  return (c: { vocabSize: number } & Record<string, unknown>, ctx: z.RefinementCtx): void => {
    if (uses(c) && Number.isInteger(c.vocabSize) && c.vocabSize < MIN_BPE_VOCAB) {
      ctx.addIssue({ code: 'custom', path: ['vocabSize'], input: c.vocabSize, message: `an integer ≥ ${MIN_BPE_VOCAB} (4 special tokens and the 256 bytes) for a bpe tokenizer` });
    }
  };
}

/** g2p's fields. */
export const G2P_FIELDS = z.object({
  task: z.literal('g2p', { error: "'g2p'" }),
  ...TRAINING_FIELDS.shape,
  model: SEQ2SEQ_MODEL_FIELDS,
  maxTrainExamples: intAtLeastOrNull(1),
  evalWords: intAtLeast(1),
  stress: flag(),
  ...BEAM_FIELDS,
});

/** translate's fields. */
export const TRANSLATE_FIELDS = z.object({
  task: z.literal('translate', { error: "'translate'" }),
  ...TRAINING_FIELDS.shape,
  model: SEQ2SEQ_MODEL_FIELDS,
  vocabSize: vocabSize(),
  maxTrainExamples: intAtLeastOrNull(1),
  maxLength: intAtLeast(1),
  evalSentences: intAtLeast(1),
  evalBeam: intAtLeast(1),
  dingPath: z.string({ error: 'a string (a file path)' }),
  ...BEAM_FIELDS,
}).superRefine(bpeVocab(() => true));

/** The fields of your own data files (lm and seq2seq). */
/** The pre-training corpus's sources (loadPretrainingCorpus): a non-empty list of distinct names. */
function corpusSources() {
  const what = `a non-empty list of distinct sources out of ${CORPUS_SOURCES.map((s) => `'${s}'`).join(', ')}`;
  return z.array(oneOf(CORPUS_SOURCES as unknown as readonly [string, ...string[]]), { error: what })
    .min(1, { error: what })
    .refine((l) => new Set(l).size === l.length, { error: what });
}

const USER_DATA_FIELDS = {
  train: pathOrNull(),
  valid: pathOrNull(),
  skipBadRows: flag(),
  validShare: inOpen(0, 1),
};

/** lm's fields. */
export const LM_FIELDS = z.object({
  task: z.literal('lm', { error: "'lm'" }),
  ...TRAINING_FIELDS.shape,
  model: LM_MODEL_FIELDS,
  tokenizer: oneOf(['bpe', 'char']),
  vocabSize: vocabSize(),
  maxTrainExamples: intAtLeastOrNull(1),
  evalChars: intAtLeast(1),
  corpus: oneOf(['sotu', 'pretraining']),
  corpusSources: corpusSources(),
  ...USER_DATA_FIELDS,
}).superRefine(bpeVocab((c) => c.tokenizer === 'bpe'));

const tokenizerKind = () => oneOf(TOKENIZER_KINDS as unknown as readonly [string, ...string[]]);

/** seq2seq's fields. */
export const SEQ2SEQ_FIELDS = z.object({
  task: z.literal('seq2seq', { error: "'seq2seq'" }),
  ...TRAINING_FIELDS.shape,
  model: SEQ2SEQ_MODEL_FIELDS,
  sourceTokenizer: tokenizerKind(),
  targetTokenizer: tokenizerKind(),
  sharedVocab: flag(),
  vocabSize: vocabSize(),
  maxTrainExamples: intAtLeastOrNull(1),
  maxLength: intAtLeast(1),
  evalExamples: intAtLeast(1),
  evalLossExamples: intAtLeast(1),
  evalBeam: intAtLeast(1),
  ...USER_DATA_FIELDS,
  ...BEAM_FIELDS,
}).superRefine(bpeVocab((c) => c.sourceTokenizer === 'bpe' || c.targetTokenizer === 'bpe'))
  .superRefine((c, ctx) => {
    if (c.sharedVocab === true && typeof c.sourceTokenizer === 'string' && c.sourceTokenizer !== c.targetTokenizer) {
      ctx.addIssue({ code: 'custom', path: ['sharedVocab'], input: true, message: `the same tokenizer kind on both sides (sourceTokenizer '${c.sourceTokenizer}', targetTokenizer '${c.targetTokenizer}')` });
    }
  });

/** An encoder's model fields (mlm, classify): BERT's sizes, and the context its positions cover. */
export const ENCODER_MODEL_FIELDS = z.object({
  ...ATTENTION_FIELDS,
  layers: intAtLeast(1),
  dFF: intAtLeast(1),
  // [CLS] and [SEP] around at least one token.
  context: intAtLeast(3),
}).superRefine(headsDivideDModel);

/** A WordPiece vocabulary holds its 5 special tokens ([PAD], [CLS], [SEP], [UNK], [MASK]) and more. */
export const MIN_WORDPIECE_VOCAB = 6;

/** mlm's fields. */
export const MLM_FIELDS = z.object({
  task: z.literal('mlm', { error: "'mlm'" }),
  ...TRAINING_FIELDS.shape,
  model: ENCODER_MODEL_FIELDS,
  vocabSize: intAtLeast(MIN_WORDPIECE_VOCAB),
  maskProb: inOpen(0, 1),
  maxTrainExamples: intAtLeastOrNull(1),
  evalSequences: intAtLeast(1),
  corpusSources: corpusSources(),
  ...USER_DATA_FIELDS,
});

/** classify's fields. */
export const CLASSIFY_FIELDS = z.object({
  task: z.literal('classify', { error: "'classify'" }),
  ...TRAINING_FIELDS.shape,
  arch: oneOf(['bert', 'gpt']),
  model: ENCODER_MODEL_FIELDS,
  vocabSize: intAtLeast(MIN_WORDPIECE_VOCAB),
  labelFraction: z.number({ error: 'a number in (0, 1]' }).gt(0, { error: 'a number in (0, 1]' }).max(1, { error: 'a number in (0, 1]' }),
  positiveLabel: z.string({ error: 'a string (a label name) or null' }).nullable(),
  textColumn: z.string({ error: 'a string (a column or field name)' }).min(1, { error: 'a non-empty string (a column or field name)' }),
  labelColumn: z.string({ error: 'a string (a column or field name)' }).min(1, { error: 'a non-empty string (a column or field name)' }),
  maxTrainExamples: intAtLeastOrNull(1),
  evalExamples: intAtLeastOrNull(1),
  ...USER_DATA_FIELDS,
}).superRefine((c, ctx) => {
  if (c.arch === 'gpt' && c.vocabSize < MIN_BPE_VOCAB) {
    ctx.addIssue({ code: 'custom', path: ['vocabSize'], input: c.vocabSize, message: `an integer ≥ ${MIN_BPE_VOCAB} (4 special tokens and the 256 bytes) for arch 'gpt' (a bpe tokenizer)` });
  }
});

/** The schema of each task's config, by task name. */
export const TASK_SCHEMAS = { g2p: G2P_FIELDS, translate: TRANSLATE_FIELDS, lm: LM_FIELDS, seq2seq: SEQ2SEQ_FIELDS, mlm: MLM_FIELDS, classify: CLASSIFY_FIELDS } as const;

/** A JSON-ish value as an error message shows it: numbers as written (NaN, -5, 1.5), strings quoted, missing as missing. */
export function showValue(v: unknown): string {
  if (v === undefined) return 'missing';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  if (Array.isArray(v)) return v.length === 0 ? '[]' : 'an array';
  if (v !== null && typeof v === 'object') return 'an object';
  return JSON.stringify(v) ?? String(v);
}

/** The value at `path` inside `x` (undefined where the path leaves it). */
function at(x: unknown, path: readonly PropertyKey[]): unknown {
  let v = x;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/**
 * The first failed field of a zod check as one line: `<label> '<path>' is <value>, expected <what>`
 * (label defaults to "config field").
 */
export function issueMessage(error: z.ZodError, input: unknown, label = 'config field'): string {
  const issue = error.issues[0];
  const path = issue.path.map(String).join('.');
  const value = 'input' in issue && issue.input !== undefined ? issue.input : at(input, issue.path);
  return `${label} '${path}' is ${showValue(value)}, expected ${issue.message}`;
}

/**
 * Checks a value against a schema; the first failed field is an ArgumentError naming the field,
 * its value and the expected range (the config is returned unchanged: the schema only checks).
 *
 * @example
 * checkFields(G2P_FIELDS, g2pConfig('small')); // fine
 * checkFields(G2P_FIELDS, { ...g2pConfig('small'), labelSmoothing: 1.5 });
 * // ArgumentError: config field 'labelSmoothing' is 1.5, expected a number in [0, 1)
 */
export function checkFields<T>(schema: z.ZodType, value: T, label = 'config field', Err: new (message: string) => Error = ArgumentError): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new Err(issueMessage(r.error, value, label));
  return value;
}
