// The classification recipe: SpamAssassin (or your labelled TSV/JSONL) with a BERT or GPT sequence classifier; accuracy and the positive label's precision, recall and F1.

import { ArgumentError } from '../../core/errors.js';
import { planBatches } from '../../data/batching.js';
import { readLabeledTexts } from '../../data/labeled-files.js';
import type { TextLabel } from '../../data/labeled-files.js';
import { loadSpamAssassin } from '../../data/load.js';
import { labelSubset } from '../../data/spam.js';
import { splitOfRow } from '../../data/user-data.js';
import { BadRows } from '../../data/user-files.js';
import { BertForSequenceClassification } from '../../models/bert.js';
import type { BertClassifierConfig } from '../../models/bert.js';
import { GPTForSequenceClassification } from '../../models/gpt.js';
import type { GPTClassifierConfig } from '../../models/gpt.js';
import { crossEntropy, noGrad, tensor } from '../../tensor/index.js';
import type { Tensor } from '../../tensor/index.js';
import { ByteLevelBPE } from '../../tokenizers/bpe.js';
import { WordPieceTokenizer } from '../../tokenizers/wordpiece.js';
import type { Tokenizer } from '../../tokenizers/tokenizer.js';
import { classifierIds, classifierPadId, classifierPositions, paddedBatch } from '../../inference/classification.js';
import type { SequenceClassifier } from '../../inference/classification.js';
import { classificationMetrics } from '../metrics/classification.js';
import { SAFETY_DEFAULTS, overrideConfig, spread, trainerOptions } from './config.js';
import { CLASSIFY_FIELDS, checkFields } from './config-schema.js';
import type { PresetName, TrainingConfig } from './config.js';
import type { BuildOptions, EvaluateOptions, ReuseTokenizers, TaskRun, TrainedModel } from './run.js';

/** A classification run's config (the checkpoint's task options). */
export interface ClassifyConfig extends TrainingConfig {
  task: 'classify';
  /** 'bert' (BertForSequenceClassification, WordPiece) or 'gpt' (GPTForSequenceClassification, byte-level BPE). */
  arch: 'bert' | 'gpt';
  /** The body's sizes; `context` is the most tokens a text keeps, <s>/[CLS] and </s>/[SEP] included. */
  model: { dModel: number; heads: number; layers: number; dFF: number; context: number; dropout: number };
  /** Size of the vocabulary learned on the train texts (an --init-from run uses the checkpoint's). */
  vocabSize: number;
  /** Share of the training examples whose labels are used: labelSubset(train, labelFraction, seed), stratified. */
  labelFraction: number;
  /** The label whose precision, recall and F1 are reported; null: 'spam' when a label, else the last of the sorted labels. */
  positiveLabel: string | null;
  /** Your files' text column (TSV header) or field (JSON Lines). */
  textColumn: string;
  /** Your files' label column or field. */
  labelColumn: string;
  /** Train on at most this many examples, spread evenly over the split (after labelFraction; null: all). */
  maxTrainExamples: number | null;
  /** Valid examples scored at each evaluation, spread over the split (null: all). */
  evalExamples: number | null;
  /** Your labelled texts (TSV with a header, or JSON Lines); null: SpamAssassin. */
  train: string | null;
  /** Your valid texts; null: the hashed hold-out of `train`, or SpamAssassin's valid split. */
  valid: string | null;
  skipBadRows: boolean;
  validShare: number;
}

const COMMON = {
  task: 'classify' as const, arch: 'bert' as const, labelSmoothing: 0, clipGradNorm: 1, decay: 'none' as const, cooldown: 0.9, patience: null, seed: 0, workers: 1, ...SAFETY_DEFAULTS,
  labelFraction: 1, positiveLabel: null, textColumn: 'text', labelColumn: 'label', maxTrainExamples: null,
  train: null, valid: null, skipBadRows: false, validShare: 0.1,
};

/**
 * tiny: seconds, for tests. small: a few minutes from scratch. base: the size of the pre-trained
 * models of configs/ (an --init-from run takes the checkpoint's sizes anyway).
 * The schedule is BERT's fine-tuning one: linear warm-up, then a linear decay to 0 (decay 'none', cooldown 0.9), with
 * peaks of about 1e-3 (small) and 4e-4 (base): Noam's lrFactor · dModel^−0.5 · warmup^−0.5.
 */
export const CLASSIFY_PRESETS: Record<PresetName, ClassifyConfig> = {
  tiny: {
    ...COMMON, preset: 'tiny', model: { dModel: 32, heads: 2, layers: 1, dFF: 64, context: 64, dropout: 0.1 }, vocabSize: 500,
    maxTokens: 1024, warmup: 5, lrFactor: 0.5, maxSteps: 10, maxMinutes: null, evalEvery: 5, evalExamples: 64,
  },
  small: {
    ...COMMON, preset: 'small', model: { dModel: 128, heads: 4, layers: 2, dFF: 512, context: 128, dropout: 0.1 }, vocabSize: 4000,
    maxTokens: 4096, warmup: 50, lrFactor: 0.1, maxSteps: 600, maxMinutes: 5, evalEvery: 50, evalExamples: null,
  },
  base: {
    ...COMMON, preset: 'base', model: { dModel: 256, heads: 4, layers: 4, dFF: 1024, context: 128, dropout: 0.1 }, vocabSize: 8000,
    maxTokens: 4096, warmup: 50, lrFactor: 0.05, maxSteps: 600, maxMinutes: 10, evalEvery: 50, evalExamples: null,
  },
};

/**
 * A classification config: a preset with fields overridden; see {@link overrideConfig}.
 *
 * @example
 * const c = classifyConfig('small', { arch: 'gpt', labelFraction: 0.1 });
 */
export function classifyConfig(preset: PresetName, overrides: Record<string, unknown> = {}): ClassifyConfig {
  return checkFields(CLASSIFY_FIELDS, overrideConfig(CLASSIFY_PRESETS[preset], overrides, 'classify'));
}

/** A batch of texts and their label ids. */
export interface ClassifyBatch {
  /** [B, T] int32 ids, right-padded. */
  ids: Tensor;
  /** [B, T] int32, 1 at padding. */
  mask: Tensor;
  /** [B] int32 label ids. */
  labels: Tensor;
}

/** A split's examples as the model reads them. */
interface Encoded {
  ids: number[][];
  labels: number[];
}

/** The data of a run: splits of { text, label } and where they come from. */
interface ClassifyData {
  train: TextLabel[];
  valid: TextLabel[];
  test: TextLabel[] | null;
  what: string;
  notes: string[];
}

/** Your labelled files: the train file (less its hashed hold-out) and the valid file or that hold-out. */
async function ownData(c: ClassifyConfig, o: BuildOptions): Promise<ClassifyData> {
  const bad = new BadRows(c.skipBadRows);
  const read = { textColumn: c.textColumn, labelColumn: c.labelColumn, badRows: bad, onProgress: o.onProgress };
  const train: TextLabel[] = [];
  const valid: TextLabel[] = [];
  const split = { validFile: c.valid !== null, validShare: c.validShare };
  for await (const ex of readLabeledTexts(c.train!, read)) (splitOfRow(ex.text, split) === 'valid' ? valid : train).push(ex);
  if (c.valid !== null) for await (const ex of readLabeledTexts(c.valid, read)) valid.push(ex);
  if (train.length === 0) throw new ArgumentError(`${c.train}: no labelled examples, expected rows of text and label`);
  if (valid.length === 0) throw new ArgumentError(`${c.valid ?? c.train}: no valid examples${c.valid === null ? ` in the hashed hold-out (validShare ${c.validShare})` : ''}, expected ${c.valid === null ? 'a valid file (--valid) or a larger validShare' : 'rows of text and label'}`);
  const notes = [bad.summary()].filter((n): n is string => n !== null);
  return { train, valid, test: null, what: c.valid !== null ? `${c.train}, valid ${c.valid}` : `${c.train}, ${valid.length} of ${train.length + valid.length} held out`, notes };
}

async function classifyData(c: ClassifyConfig, o: BuildOptions): Promise<ClassifyData> {
  if (c.train !== null) return ownData(c, o);
  const s = await loadSpamAssassin();
  return { train: s.train, valid: s.valid, test: s.test, what: 'SpamAssassin', notes: [] };
}

/** The label names of a run, in id order: sorted, so every run on the same data numbers them alike. */
export function labelNames(examples: readonly TextLabel[]): string[] {
  return [...new Set(examples.map((e) => e.label))].sort();
}

/** The positive label of a config ('spam' when a label, else the last label), checked against the labels. */
export function positiveLabelOf(c: Pick<ClassifyConfig, 'positiveLabel'>, labels: readonly string[]): string {
  const want = c.positiveLabel ?? (labels.includes('spam') ? 'spam' : labels[labels.length - 1]);
  if (!labels.includes(want)) throw new ArgumentError(`config field 'positiveLabel' is ${JSON.stringify(want)}, expected one of the labels ${labels.map((l) => JSON.stringify(l)).join(', ')}`);
  return want;
}

/** Examples as ids (truncated to the context) and label ids; a label outside `labels` is an error naming it. */
function encode(examples: readonly TextLabel[], tok: Tokenizer, labels: readonly string[], context: number, what: string): Encoded {
  const index = new Map(labels.map((l, i) => [l, i]));
  return {
    ids: examples.map((e) => classifierIds(tok, e.text, context)),
    labels: examples.map((e) => {
      const id = index.get(e.label);
      if (id === undefined) throw new ArgumentError(`${what}: label ${JSON.stringify(e.label)} is not one the model knows, expected one of ${labels.map((l) => JSON.stringify(l)).join(', ')}`);
      return id;
    }),
  };
}

function collate(e: Encoded, rows: readonly number[], padId: number): ClassifyBatch {
  const b = paddedBatch(rows.map((i) => e.ids[i]), padId);
  return { ...b, labels: tensor(Int32Array.from(rows.map((i) => e.labels[i])), { shape: [rows.length], dtype: 'int32' }) };
}

/**
 * Valid loss, accuracy, and the positive label's precision, recall and F1 of a classifier over
 * encoded examples (in eval mode, without gradients).
 */
export function scoreClassifier(model: SequenceClassifier, e: Encoded, padId: number, positive: number, maxTokens: number): Record<string, number> {
  let nll = 0;
  const predicted = new Array<number>(e.labels.length);
  noGrad(() => {
    for (const rows of planBatches(e.ids.map((s) => s.length), { maxTokens: Math.max(maxTokens, ...e.ids.map((s) => s.length)) })) {
      const b = collate(e, rows, padId);
      const logits = model.forward(b.ids, { keyPaddingMask: b.mask }).logits; // [B, L]
      nll += crossEntropy(logits, b.labels, { reduction: 'sum' }).item();
      const arg = logits.argmax(-1).toArray();
      rows.forEach((i, r) => { predicted[i] = arg[r]; });
    }
  });
  const m = classificationMetrics(predicted, e.labels, positive);
  return { validLoss: nll / Math.max(e.labels.length, 1), accuracy: m.accuracy, precision: m.precision, recall: m.recall, f1: m.f1, examples: m.examples };
}

/** The run's tokenizer: the reused checkpoint's, or one learned on the (labelled) train texts. */
function classifyTokenizer(c: ClassifyConfig, texts: readonly string[], reuse?: ReuseTokenizers): Tokenizer {
  if (reuse) return reuse.tokenizer;
  return c.arch === 'bert' ? WordPieceTokenizer.train(texts, { vocabSize: c.vocabSize }) : ByteLevelBPE.train(texts, { vocabSize: c.vocabSize });
}

/**
 * The run's classifier: of `c.arch`, sized by the task config, or by the reused checkpoint's model
 * config (a pre-trained body's, or a classifier's), with the run's labels, vocabulary and seed.
 */
export function classifierFor(c: ClassifyConfig, vocab: number, labels: string[], padId: number, reuse?: ReuseTokenizers): SequenceClassifier {
  const { context, dropout, ...sizes } = c.model;
  const base = reuse?.modelConfig ? { ...reuse.modelConfig } : null;
  if (base) delete base.labels;
  if (c.arch === 'bert') {
    const config: BertClassifierConfig = base
      ? { ...(base as unknown as BertClassifierConfig), vocab, labels, seed: c.seed }
      : { vocab, ...sizes, maxPositions: context, dropout, attentionDropout: dropout, labels, seed: c.seed };
    return new BertForSequenceClassification(config);
  }
  const config: GPTClassifierConfig = base
    ? { ...(base as unknown as GPTClassifierConfig), vocab, labels, padId, seed: c.seed }
    : { vocab, ...sizes, context, dropout, labels, padId, seed: c.seed };
  return new GPTForSequenceClassification(config);
}

/** The most tokens the model reads of a text: the config's context, within the model's positions. */
export function classifierContext(model: SequenceClassifier, c: Pick<ClassifyConfig, 'model'>): number {
  return Math.min(c.model.context, classifierPositions(model));
}

/**
 * Builds a classification run: reads SpamAssassin (or your files), keeps `labelFraction` of the
 * training labels (labelSubset with the run's seed), learns (or reuses) the tokenizer, and makes
 * the task: length-bucketed batches under the token budget, cross-entropy over the labels, and
 * an evaluation with valid loss, accuracy, and the positive label's precision, recall and F1.
 * The label names go into the model's config, so the checkpoint keeps them.
 *
 * @example
 * const run = await classifyTask(classifyConfig('tiny', { labelFraction: 0.1 }));
 */
export async function classifyTask(c: ClassifyConfig, reuse?: ReuseTokenizers, o: BuildOptions = {}): Promise<TaskRun<SequenceClassifier, ClassifyBatch>> {
  const data = await classifyData(c, o);
  // Label ids come from the whole train split (a resumed or fine-tuned classifier keeps its own), so every fraction numbers them alike.
  const reusedLabels = (reuse?.modelConfig as { labels?: unknown } | undefined)?.labels;
  const labels = Array.isArray(reusedLabels) ? (reusedLabels as string[]) : labelNames(data.train);
  if (labels.length < 2) throw new ArgumentError(`${c.train ?? 'SpamAssassin'}: ${labels.length} label (${labels.join(', ')}), expected at least 2 to classify`);
  let train = c.labelFraction < 1 ? labelSubset(data.train, c.labelFraction, c.seed) : data.train.slice();
  // Spread, not the first n: SpamAssassin's split (and many files) are in label order, so the first n would be one label.
  train = spread(train, c.maxTrainExamples);
  const tokenizer = classifyTokenizer(c, train.map((e) => e.text), reuse);
  const model = classifierFor(c, tokenizer.vocabSize, labels, tokenizer.padId, reuse);
  const context = classifierContext(model, c);
  const positive = labels.indexOf(positiveLabelOf(c, labels));
  const trainSet = encode(train, tokenizer, labels, context, c.train ?? 'SpamAssassin train split');
  const validSet = encode(spread(data.valid, c.evalExamples), tokenizer, labels, context, c.valid ?? c.train ?? 'SpamAssassin valid split');
  const lengths = trainSet.ids.map((s) => s.length);
  const maxTokens = Math.max(c.maxTokens, context);
  const counts = labels.map((l) => `${train.filter((e) => e.label === l).length} ${l}`).join(', ');
  return {
    task: {
      name: 'classify',
      options: c as unknown as Record<string, unknown>,
      *batches(_epoch, rng) {
        for (const rows of planBatches(lengths, { maxTokens, rng })) yield collate(trainSet, rows, tokenizer.padId);
      },
      loss: (m, b) => {
        const { logits } = m.forward(b.ids, { keyPaddingMask: b.mask }); // [B, L]
        return { loss: crossEntropy(logits, b.labels, { labelSmoothing: c.labelSmoothing }), tokens: b.labels.size };
      },
      evaluate: (m) => scoreClassifier(m, validSet, tokenizer.padId, positive, maxTokens),
    },
    model,
    modelKind: c.arch === 'bert' ? 'bert-classifier' : 'gpt-classifier',
    tokenizer,
    targetTokenizer: null,
    trainer: trainerOptions(c, model.config.dModel, { metric: 'accuracy', mode: 'max' }),
    summary: `classify (${data.what}, ${c.arch}): ${train.length} training examples (${counts}${c.labelFraction < 1 ? `; labelFraction ${c.labelFraction} of ${data.train.length}` : ''}), labels ${labels.join(', ')} (positive '${labels[positive]}'), ${validSet.labels.length} valid examples scored at each evaluation, texts cut to ${context} tokens`,
    notes: data.notes,
  };
}

/**
 * Accuracy, precision, recall and F1 (of the positive label) and the loss of a trained classifier
 * on a split of SpamAssassin (or on your valid data), or on any labelled `file`.
 *
 * @example
 * const { metrics } = await evaluateClassify(ck, config, { split: 'test' });
 */
export async function evaluateClassify(t: TrainedModel<SequenceClassifier>, c: ClassifyConfig, o: EvaluateOptions): Promise<{ metrics: Record<string, number> }> {
  let examples: TextLabel[];
  let what: string;
  if (o.file !== undefined) {
    examples = [];
    const read = { textColumn: c.textColumn, labelColumn: c.labelColumn, badRows: o.badRows ?? new BadRows(c.skipBadRows), onProgress: o.onProgress };
    for await (const ex of readLabeledTexts(o.file, read)) examples.push(ex);
    what = o.file;
  } else {
    const data = await classifyData(c, o);
    if (o.split === 'test' && data.test === null) throw new ArgumentError(`split 'test': a classify run on your own data (${c.train}) has only a valid split, expected --split valid or --file FILE`);
    examples = o.split === 'test' ? data.test! : data.valid;
    what = `${c.train ?? 'SpamAssassin'} ${o.split} split`;
  }
  examples = spread(examples, o.limit ?? null);
  if (examples.length === 0) throw new ArgumentError(`${what}: no examples to score`);
  const labels = t.model.labels;
  const e = encode(examples, t.tokenizer, labels, classifierContext(t.model, c), what);
  t.model.eval();
  const m = scoreClassifier(t.model, e, classifierPadId(t.model, t.tokenizer), labels.indexOf(positiveLabelOf(c, labels)), c.maxTokens);
  return { metrics: { loss: m.validLoss, accuracy: m.accuracy, precision: m.precision, recall: m.recall, f1: m.f1, examples: m.examples } };
}
