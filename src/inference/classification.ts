// Answering with encoders and classifiers: text-classification (softmax over the labels) and fill-mask (BERT's top fillers of each [MASK]).

import { ArgumentError } from '../core/errors.js';
import { padSequences } from '../data/batching.js';
import type { BertForMaskedLM, BertForSequenceClassification } from '../models/bert.js';
import type { GPTForSequenceClassification } from '../models/gpt.js';
import { noGrad } from '../tensor/grad-mode.js';
import { softmax, tensor } from '../tensor/index.js';
import type { Tensor } from '../tensor/index.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';

/** A sequence classifier of either architecture: ids [B, T] (1 in keyPaddingMask at padding) → logits [B, L]. */
export type SequenceClassifier = BertForSequenceClassification | GPTForSequenceClassification;

/** One label and its probability. */
export interface LabelScore {
  label: string;
  score: number;
}

/** One filler of a [MASK], as Hugging Face's fill-mask pipeline gives it. */
export interface MaskFill {
  /** The token's id. */
  token: number;
  /** The token as the vocabulary writes it (a continuation piece keeps its "##"). */
  tokenStr: string;
  /** Its probability at that position. */
  score: number;
  /** The text with this token in place of the [MASK] (decoded without special tokens). */
  sequence: string;
}

/** The most positions a classifier reads: BERT's maxPositions, GPT's context. */
export function classifierPositions(model: SequenceClassifier): number {
  const cfg = model.config as { maxPositions?: number; context?: number };
  return cfg.maxPositions ?? cfg.context!;
}

/**
 * The ids a classifier reads for a text: `<s>`/[CLS], the text's tokens (the first context − 2),
 * `</s>`/[SEP]. The same for training and answering, and for BERT (scored at [CLS]) and GPT
 * (scored at the last token, GPT-1's extract token).
 *
 * @example
 * classifierIds(tok, 'win money now', 128); // [1, ..., 2]
 */
export function classifierIds(tok: Tokenizer, text: string, context: number): number[] {
  if (!(Number.isInteger(context) && context >= 3)) throw new ArgumentError(`classifierIds: context ${context}, expected an integer ≥ 3`);
  return [tok.bosId, ...tok.encode(text).slice(0, context - 2), tok.eosId];
}

/** Padded ids and the key-padding mask (1 at padding) of rows, as int32 tensors [B, T]. */
export function paddedBatch(rows: readonly (readonly number[])[], padId: number, backend?: Tensor['backend']): { ids: Tensor; mask: Tensor } {
  const p = padSequences(rows, padId);
  const shape = [p.rows, p.width];
  return { ids: tensor(p.ids, { shape, dtype: 'int32', backend }), mask: tensor(p.mask, { shape, dtype: 'int32', backend }) };
}

/**
 * The id a classifier's rows are padded with: a GPT classifier's own `padId` (it finds each row's
 * last token by that id, so padding with another id would be scored as text), else the tokenizer's.
 *
 * @example
 * classifierPadId(gptClassifier, tok); // gptClassifier.config.padId, even where tok.padId differs
 */
export function classifierPadId(model: SequenceClassifier, tok: Tokenizer): number {
  const padId = (model.config as { padId?: unknown }).padId;
  return typeof padId === 'number' ? padId : tok.padId;
}

/** The classifier's probabilities [B, L] for padded rows. */
function probabilities(model: SequenceClassifier, rows: readonly (readonly number[])[], padId: number): Float64Array[] {
  return noGrad(() => {
    const b = paddedBatch(rows, padId);
    const logits = model.forward(b.ids, { keyPaddingMask: b.mask }).logits; // [B, L]
    const L = logits.shape[1];
    const p = softmax(logits, -1).toArray();
    return rows.map((_, r) => Float64Array.from({ length: L }, (_, l) => p[r * L + l]));
  });
}

/** Rows per forward pass: texts of up to `context` tokens, about 16k tokens a batch. */
const ROWS_PER_BATCH = (context: number) => Math.max(1, Math.floor(16_384 / context));

/**
 * Each text's labels with their probabilities (the softmax of the classifier's logits), most
 * likely first: all labels, or the `topK` most likely (HF's `top_k`; 1 gives the predicted label).
 * Texts longer than the model's context keep their first tokens.
 *
 * @example
 * classifyTexts({ model, tokenizer }, ['win money now'], { topK: 1 }); // [[{ label: 'spam', score: 0.98 }]]
 */
export function classifyTexts(p: { model: SequenceClassifier; tokenizer: Tokenizer }, texts: readonly string[], o: { topK?: number; context: number }): LabelScore[][] {
  const labels = p.model.labels;
  const k = Math.min(o.topK ?? labels.length, labels.length);
  if (!(Number.isInteger(k) && k >= 1)) throw new ArgumentError(`classifyTexts: topK ${o.topK}, expected an integer ≥ 1`);
  p.model.eval();
  const out: LabelScore[][] = [];
  const per = ROWS_PER_BATCH(o.context);
  const padId = classifierPadId(p.model, p.tokenizer);
  for (let i = 0; i < texts.length; i += per) {
    const rows = texts.slice(i, i + per).map((t) => classifierIds(p.tokenizer, t, o.context));
    for (const probs of probabilities(p.model, rows, padId)) {
      const ranked = labels.map((label, l) => ({ label, score: probs[l] })).sort((a, b) => b.score - a.score);
      out.push(ranked.slice(0, k));
    }
  }
  return out;
}

/**
 * The `topK` (default 5, as HF) most likely fillers of each [MASK] in a text, by BERT's masked-LM
 * head: `{ token, tokenStr, score, sequence }` each, most likely first. The text is encoded as
 * [CLS] text [SEP] (it must fit the model's positions); a literal "[MASK]" is the mask token.
 * One list per [MASK], in text order; a text without one is an ArgumentError.
 *
 * @example
 * fillMask({ model, tokenizer }, 'the [MASK] of the union', { topK: 3 }); // [[{ token: 812, tokenStr: 'state', score: 0.4, sequence: 'the state of the union' }, ...]]
 */
export function fillMask(p: { model: BertForMaskedLM; tokenizer: Tokenizer & { maskId: number } }, text: string, o: { topK?: number } = {}): MaskFill[][] {
  const tok = p.tokenizer;
  const ids = tok.encode(text, { addSpecial: true });
  const where = ids.flatMap((id, t) => (id === tok.maskId ? [t] : []));
  if (where.length === 0) throw new ArgumentError(`fillMask: ${JSON.stringify(text.length > 60 ? text.slice(0, 60) + '…' : text)} holds no ${tok.idToToken(tok.maskId)}, expected at least one to fill`);
  const P = p.model.config.maxPositions;
  if (ids.length > P) throw new ArgumentError(`fillMask: the text is ${ids.length} tokens with [CLS] and [SEP], expected at most the model's ${P} positions`);
  const V = tok.vocabSize;
  const k = Math.min(o.topK ?? 5, V);
  if (!(Number.isInteger(k) && k >= 1)) throw new ArgumentError(`fillMask: topK ${o.topK}, expected an integer ≥ 1`);
  p.model.eval();
  const probs = noGrad(() => softmax(p.model.forward(tensor(Int32Array.from(ids), { shape: [1, ids.length], dtype: 'int32' })).logits, -1).toArray());
  return where.map((t) => {
    const row = probs.subarray(t * V, (t + 1) * V);
    const order = Array.from({ length: V }, (_, v) => v).sort((a, b) => row[b] - row[a] || a - b).slice(0, k);
    return order.map((v) => {
      const filled = ids.slice();
      filled[t] = v;
      return { token: v, tokenStr: tok.idToToken(v), score: row[v], sequence: tok.decode(filled, { skipSpecial: true }) };
    });
  });
}
