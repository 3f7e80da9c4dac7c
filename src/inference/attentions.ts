// Attention weights as plain data for drawing: every layer's per-head maps, with the tokens on each axis.

import { ShapeError, fmtShape } from '../core/errors.js';
import type { GPT } from '../models/gpt.js';
import type { TransformerOutput } from '../models/transformer.js';
import { noGrad, tensor } from '../tensor/index.js';
import type { Tensor } from '../tensor/index.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import type { EncoderDecoder, TrainedModel } from './model.js';

/**
 * One layer's attention weights: `data` holds shape [B, H, T, S] in row-major order (B batch,
 * H heads, T queries, S keys), so weight (b, h, t, s) is data[((b·H + h)·T + t)·S + s]. Each row
 * (b, h, t, ·) is a softmax: it sums to 1. A Float32Array, so it can go to a Worker or a canvas as is.
 */
export interface AttentionMap {
  shape: [number, number, number, number];
  data: Float32Array;
  /**
   * The scores `data` is the softmax of, in the same layout: Q·Kᵀ/√d_k of each query and key,
   * −Infinity where a mask blocks the key (causal, padding). Present when the model returned them
   * (seq2seqAttentions and causalAttentions always ask).
   */
  scores?: Float32Array;
}

/** The attention of an encoder-decoder's answer (Transformer's names for the three kinds). */
export interface Seq2SeqAttentions {
  /** The encoder's input tokens: the S axis of encoder self-attention and cross-attention. */
  sourceTokens: string[];
  /**
   * The decoder's input tokens, '<s>' then the answer's tokens: the T axis of cross-attention and
   * both axes of decoder self-attention. Row t is the decoder choosing the token after
   * targetTokens[t] (the answer's next token, or '</s>'), so T is the number of tokens chosen.
   */
  targetTokens: string[];
  /** One [1, H, S, S] per encoder layer (none for the LSTM). */
  encoderSelfAttentions: AttentionMap[];
  /** One [1, H, T, T] per decoder layer (causal: row t is 0 after column t; none for the LSTM). */
  decoderSelfAttentions: AttentionMap[];
  /** One [1, H, T, S] per decoder layer: where each target position looked in the source (the LSTM: one map, one head, without scores). */
  crossAttentions: AttentionMap[];
}

/** The attention of a decoder-only model's text. */
export interface CausalAttentions {
  /** The prompt's tokens (as fed, after cutting to the context) then the generated ones: both axes. */
  tokens: string[];
  /** One [1, H, T, T] per block (GPT's `attentions`); row t is the model reading token t, choosing token t + 1. */
  selfAttentions: AttentionMap[];
}

/**
 * A weights tensor [B, H, T, S] as an {@link AttentionMap} (a float32 copy), with the scores
 * before the softmax when given (a tensor of the same shape).
 *
 * @example
 * toAttentionMap(out.crossAttentions[0], out.crossAttentionScores?.[0]).shape; // [1, 4, 6, 5]
 */
export function toAttentionMap(w: Tensor, scores?: Tensor): AttentionMap {
  const [B, H, T, S] = w.shape;
  const map: AttentionMap = { shape: [B, H, T, S], data: Float32Array.from(w.contiguous().toArray()) };
  if (scores) {
    if (scores.shape.length !== 4 || scores.shape.some((d, i) => d !== w.shape[i])) {
      throw new ShapeError(`toAttentionMap: scores ${fmtShape(scores.shape)} differ from the weights ${fmtShape(w.shape)}`);
    }
    map.scores = Float32Array.from(scores.contiguous().toArray());
  }
  return map;
}

/** Each layer's weights with its scores (the model returns both lists in layer order). */
function maps(weights: readonly Tensor[] | undefined, scores: readonly Tensor[] | undefined): AttentionMap[] {
  return (weights ?? []).map((w, l) => toAttentionMap(w, scores?.[l]));
}

/**
 * Each id as its own text (specials as their strings, a byte of a split character as U+FFFD).
 *
 * @example
 * tokenStrings(tok, tok.encode('the cat')); // ['the', ' cat']
 */
export function tokenStrings(tok: Tokenizer, ids: readonly number[]): string[] {
  return ids.map((id) => tok.decode([id]));
}

/**
 * The attention weights behind an answer: one teacher-forced forward pass of the source and the
 * answer's tokens, asking the model for its weights. `answer` holds the answer's ids without <s>
 * and </s>; `endedWithEos` says whether the decoder chose </s> after them (false when decoding
 * stopped at its length limit), which decides whether the last answer token was fed back.
 *
 * @example
 * const a = seq2seqAttentions(ck, src, answer, true);
 * a.crossAttentions[0].shape; // [1, H, answer.length + 1, src.length]
 */
export function seq2seqAttentions(t: TrainedModel<EncoderDecoder>, source: readonly number[], answer: readonly number[], endedWithEos: boolean): Seq2SeqAttentions {
  const tgt = t.targetTokenizer;
  const src = source.length > 0 ? source : [tgt.eosId]; // what decodeAll feeds for an empty source
  const fed = [tgt.bosId, ...(endedWithEos ? answer : answer.slice(0, -1))];
  const backend = t.model.parameters()[0]?.backend;
  const ids = (row: readonly number[]) => tensor(Int32Array.from(row), { shape: [1, row.length], dtype: 'int32', backend });
  t.model.eval();
  // The LSTM's output has crossAttentions only: the other lists are absent, and become empty.
  const out: Partial<TransformerOutput> = noGrad(() => t.model.forward(ids(src), ids(fed), { needWeights: true }));
  return {
    sourceTokens: tokenStrings(t.tokenizer, src),
    targetTokens: tokenStrings(tgt, fed),
    encoderSelfAttentions: maps(out.encoderSelfAttentions, out.encoderSelfAttentionScores),
    decoderSelfAttentions: maps(out.decoderSelfAttentions, out.decoderSelfAttentionScores),
    crossAttentions: maps(out.crossAttentions, out.crossAttentionScores),
  };
}

/**
 * The attention weights over a decoder-only model's tokens (prompt and continuation): one forward
 * pass asking for the weights.
 *
 * @example
 * causalAttentions(ck, [...promptIds, ...newIds]).selfAttentions.length; // the model's blocks
 */
export function causalAttentions(t: TrainedModel<GPT>, ids: readonly number[]): CausalAttentions {
  const backend = t.model.parameters()[0]?.backend;
  t.model.eval();
  const out = noGrad(() => t.model.forward(tensor(Int32Array.from(ids), { shape: [1, ids.length], dtype: 'int32', backend }), { needWeights: true }));
  return { tokens: tokenStrings(t.tokenizer, ids), selfAttentions: maps(out.attentions, out.attentionScores) };
}

/**
 * {@link causalAttentions} of several texts in one forward pass: the rows padded at the end to the longest (a causal
 * query never reads a key after it, so the padding changes no weight of a real position), then each row's maps cut
 * to its own length. Each answer is what causalAttentions gives for that text alone, up to rounding.
 *
 * @example
 * const [a, b] = causalAttentionsBatch(ck, [idsA, idsB]); // a.selfAttentions[0].shape: [1, H, idsA.length, idsA.length]
 */
export function causalAttentionsBatch(t: TrainedModel<GPT>, rows: readonly (readonly number[])[]): CausalAttentions[] {
  if (rows.length === 1) return [causalAttentions(t, rows[0])];
  const backend = t.model.parameters()[0]?.backend;
  t.model.eval();
  const T = Math.max(...rows.map((r) => r.length));
  const ids = new Int32Array(rows.length * T).fill(t.tokenizer.padId);
  rows.forEach((r, b) => ids.set(r, b * T));
  return noGrad(() => {
    const out = t.model.forward(tensor(ids, { shape: [rows.length, T], dtype: 'int32', backend }), { needWeights: true });
    const cut = (w: Tensor, b: number, n: number) => w.narrow(0, b, 1).narrow(2, 0, n).narrow(3, 0, n); // [1, H, n, n]
    return rows.map((r, b) => ({
      tokens: tokenStrings(t.tokenizer, r),
      selfAttentions: (out.attentions ?? []).map((w, l) => toAttentionMap(cut(w, b, r.length), out.attentionScores ? cut(out.attentionScores[l], b, r.length) : undefined)),
    }));
  });
}
