// Answering with an encoder-decoder: batched decoding (greedy or beam), the rules of each task, and streaming.

import { ArgumentError } from '../core/errors.js';
import { LIMITS, checkLimit } from '../core/limits.js';
import { padSequences } from '../data/batching.js';
import { beamSearch } from '../generate/beam.js';
import { greedyDecode, greedyDecodeSteps } from '../generate/seq2seq.js';
import type { DecodingCache, Seq2SeqModel } from '../generate/model.js';
import { tensor } from '../tensor/index.js';
import type { Tensor } from '../tensor/index.js';
import type { EncoderDecoder, SpecialIds, TrainedModel } from './model.js';
import { specialIds } from './model.js';
import { TextStream } from './text-stream.js';

/** Options of {@link decodeAll}. */
export interface DecodeAllOptions extends SpecialIds {
  /** 1 (default): greedy; more: beam search with this many hypotheses (HF's num_beams). */
  numBeams?: number;
  /** @deprecated The old name of `numBeams`, still read when `numBeams` is not given. */
  beam?: number;
  /** α of beam search's length penalty ((5 + |Y|) / 6)^α (default 0.6, the paper's). */
  lengthPenalty?: number;
  /** The most target tokens (eos included) for a source of `srcLen` tokens. */
  maxLen: (srcLen: number) => number;
  /** Sources decoded together (default 64; beam search runs beams × this many rows). */
  batchSize?: number;
}

/** The beam size asked for (numBeams, else the old name beam, else 1), checked. */
function beamsOf(o: { numBeams?: number; beam?: number }, op: string): number {
  const k = o.numBeams ?? o.beam ?? 1;
  if (!Number.isInteger(k) || k < 1) throw new ArgumentError(`${op}: numBeams is ${k}, expected an integer ≥ 1`);
  if (k > LIMITS.maxBeams) checkLimit(`${op}: numBeams`, k, 'maxBeams');
  return k;
}

/**
 * The model as the decoding loops see it. Each model only ever gets back the cache its own createCache made (a
 * KVCache for the Transformer, an LSTMDecoderCache for the LSTM), which the union's types cannot say.
 */
function decoding(model: EncoderDecoder): Seq2SeqModel<DecodingCache> {
  return model as unknown as Seq2SeqModel<DecodingCache>;
}

/** Sources (ids without specials) as a padded batch: ids [B, S] and the padding mask [B, S]; an empty source becomes [eos]. */
function sourceBatch(model: EncoderDecoder, rows: readonly (readonly number[])[], ids: SpecialIds): { src: Tensor; srcPaddingMask: Tensor; width: number } {
  const backend = model.parameters()[0]?.backend;
  const p = padSequences(rows.map((r) => (r.length > 0 ? r : [ids.eosId])), ids.padId);
  return {
    src: tensor(p.ids, { shape: [p.rows, p.width], dtype: 'int32', backend }),
    srcPaddingMask: tensor(p.mask, { shape: [p.rows, p.width], dtype: 'int32', backend }),
    width: p.width,
  };
}

/**
 * Decodes every source (token ids without specials), in batches of similar length, and returns
 * each one's best target ids (without <s> and </s>) in the input order.
 *
 * @example
 * const out = decodeAll(model, [src.encode('HELLO')], { padId: 0, bosId: 1, eosId: 2, numBeams: 4,
 *   lengthPenalty: 0.6, maxLen: (n) => 2 * n + 5 });
 */
export function decodeAll(model: EncoderDecoder, sources: readonly (readonly number[])[], o: DecodeAllOptions): number[][] {
  const beams = beamsOf(o, 'decodeAll');
  const batchSize = o.batchSize ?? 64;
  const order = sources.map((_, i) => i).sort((a, b) => sources[a].length - sources[b].length);
  const out: number[][] = new Array(sources.length);
  for (let start = 0; start < order.length; start += batchSize) {
    const idx = order.slice(start, start + batchSize);
    const { src, srcPaddingMask, width } = sourceBatch(model, idx.map((i) => sources[i]), o);
    const maxLen = o.maxLen(width);
    const best = beams === 1
      ? greedyDecode(decoding(model), src, { bos: o.bosId, eos: o.eosId, maxLen, srcPaddingMask })
      : beamSearch(decoding(model), src, { bos: o.bosId, eos: o.eosId, maxLen, beamSize: beams, lengthPenalty: o.lengthPenalty ?? 0.6, srcPaddingMask })
        .map((hyps) => hyps[0]?.tokens ?? []);
    idx.forEach((i, r) => { out[i] = best[r]; });
  }
  return out;
}

/**
 * How a task turns text into a source and how long its answers may be: one object per task
 * (G2P_RULES, TRANSLATE_RULES, TEXT2TEXT_RULES), read by every answering function.
 */
export interface Seq2SeqRules {
  /** The task, for messages. */
  readonly task: string;
  /** The text as the source tokenizer should see it (g2p: upper case, as CMUdict spells). */
  prepare(text: string): string;
  /** The most target tokens (eos included) for a source of n tokens, when maxNewTokens is not given. */
  maxNewTokens(n: number): number;
  /** Sources decoded together. */
  readonly batchSize: number;
}

/** G2P: words in upper case; CMUdict never needs more than n + 4 phonemes for n letters (e.g. 'X' → 'EH1 K S'). */
export const G2P_RULES: Seq2SeqRules = { task: 'g2p', prepare: (w) => w.toUpperCase(), maxNewTokens: (n) => n + 8, batchSize: 64 };

/** Translation: the text as it is; a German sentence is rarely more than 1.5 times its English tokens. */
export const TRANSLATE_RULES: Seq2SeqRules = { task: 'translate', prepare: (s) => s, maxNewTokens: (n) => Math.round(1.5 * n) + 10, batchSize: 32 };

/** Any encoder-decoder (custom tasks): the text as it is, up to 2n + 10 tokens. */
export const TEXT2TEXT_RULES: Seq2SeqRules = { task: 'text2text-generation', prepare: (s) => s, maxNewTokens: (n) => 2 * n + 10, batchSize: 32 };

/** Options of answering with an encoder-decoder, with Hugging Face's names (see docs/options.md). */
export interface Seq2SeqGenerationOptions {
  /** 1 (default): greedy decoding; more: beam search with this many hypotheses. */
  numBeams?: number;
  /** α of beam search's length penalty ((5 + |Y|) / 6)^α (default 0.6; Wu et al. 2016, not HF's |Y|^α). */
  lengthPenalty?: number;
  /** The most target tokens, eos included (default: the task's rule for the source's length). */
  maxNewTokens?: number;
}

/**
 * The most target tokens (eos included) for a source of n tokens: maxNewTokens when given, else
 * the task's rule, never past the model's positions.
 *
 * @example
 * maxLenRule(model, G2P_RULES, {})(5); // 13
 */
export function maxLenRule(model: EncoderDecoder, rules: Seq2SeqRules, o: Seq2SeqGenerationOptions): (n: number) => number {
  const fixed = o.maxNewTokens;
  if (fixed !== undefined && (!Number.isInteger(fixed) || fixed < 1)) throw new ArgumentError(`${rules.task}: maxNewTokens is ${fixed}, expected an integer ≥ 1`);
  // The decoder reads <s> and every token but the last: positions 0 .. maxLen - 1 of its encoding.
  const cap = model.config.maxLen;
  return (n) => Math.min(fixed ?? rules.maxNewTokens(n), cap);
}

/**
 * The source ids of each text, as the task's rules prepare it (g2p: upper case first).
 *
 * @example
 * encodeSources(ck, ['hello'], G2P_RULES); // [ids of 'HELLO']
 */
export function encodeSources(t: TrainedModel<EncoderDecoder>, texts: readonly string[], rules: Seq2SeqRules): number[][] {
  return texts.map((s) => {
    if (typeof s !== 'string') throw new ArgumentError(`${rules.task}: input is ${typeof s}, expected a string`);
    return t.tokenizer.encode(rules.prepare(s));
  });
}

/**
 * The best target ids of each text (without <s> and </s>): greedy or beam search under the
 * task's rules.
 *
 * @example
 * const ids = answerIds(ck, ['HELLO'], G2P_RULES, { numBeams: 4 }); // [[HH, AH0, L, OW1] as ids]
 */
export function answerIds(t: TrainedModel<EncoderDecoder>, texts: readonly string[], rules: Seq2SeqRules, o: Seq2SeqGenerationOptions = {}): number[][] {
  return decodeAll(t.model, encodeSources(t, texts, rules), {
    ...specialIds(t.targetTokenizer), numBeams: beamsOf(o, rules.task), lengthPenalty: o.lengthPenalty ?? 0.6,
    maxLen: maxLenRule(t.model, rules, o), batchSize: rules.batchSize,
  });
}

/**
 * The answer to each text under a task's rules, decoded (specials skipped).
 *
 * @example
 * answerSeq2Seq(ck, ['The weather is nice today.'], TRANSLATE_RULES, { numBeams: 4 }); // ['Das Wetter ist heute schön.']
 */
export function answerSeq2Seq(t: TrainedModel<EncoderDecoder>, texts: readonly string[], rules: Seq2SeqRules, o: Seq2SeqGenerationOptions = {}): string[] {
  return answerIds(t, texts, rules, o).map((ids) => t.targetTokenizer.decode(ids, { skipSpecial: true }));
}

/**
 * The answer to one text as text pieces, as a generator. Greedy decoding (numBeams 1) yields each
 * piece as soon as its token is chosen; beam search knows its best hypothesis only at the end, so
 * it yields the whole answer once. Its return value, like the pieces joined, is what
 * {@link answerSeq2Seq} gives.
 *
 * @example
 * for (const piece of streamSeq2Seq(ck, 'hello', G2P_RULES)) process.stdout.write(piece);
 */
export function* streamSeq2Seq(t: TrainedModel<EncoderDecoder>, text: string, rules: Seq2SeqRules, o: Seq2SeqGenerationOptions = {}): Generator<string, string, undefined> {
  if (beamsOf(o, rules.task) > 1) {
    const [answer] = answerSeq2Seq(t, [text], rules, o);
    if (answer) yield answer;
    return answer;
  }
  const ids = specialIds(t.targetTokenizer);
  const [source] = encodeSources(t, [text], rules);
  const { src, srcPaddingMask, width } = sourceBatch(t.model, [source], ids);
  const maxLen = maxLenRule(t.model, rules, o)(width);
  const pieces = new TextStream(t.targetTokenizer);
  for (const { id } of greedyDecodeSteps(decoding(t.model), src, { bos: ids.bosId, eos: ids.eosId, maxLen, srcPaddingMask })) {
    const piece = pieces.push(id);
    if (piece) yield piece;
  }
  const rest = pieces.flush();
  if (rest) yield rest;
  return pieces.text();
}

/** Beam size: `numBeams`, or the old name `beam`. */
export interface BeamOption {
  numBeams?: number;
  /** @deprecated The old name of `numBeams`. */
  beam?: number;
  lengthPenalty?: number;
}

/**
 * The pronunciations of words (any case; letters the model never saw become <unk>) as ARPAbet
 * strings, greedy or with beam search.
 *
 * @example
 * pronounce(ck, ['HELLO'], { numBeams: 4 }); // ['HH AH0 L OW1']
 */
export function pronounce(t: TrainedModel<EncoderDecoder>, words: readonly string[], opts: BeamOption = {}): string[] {
  return answerSeq2Seq(t, words, G2P_RULES, { numBeams: opts.numBeams ?? opts.beam, lengthPenalty: opts.lengthPenalty });
}

/**
 * Translates sentences (English → German for the translate task), greedy or with beam search;
 * returns the decoded text.
 *
 * @example
 * translate(ck, ['The weather is nice today.'], { numBeams: 4 });
 */
export function translate(t: TrainedModel<EncoderDecoder>, sentences: readonly string[], opts: BeamOption = {}): string[] {
  return answerSeq2Seq(t, sentences, TRANSLATE_RULES, { numBeams: opts.numBeams ?? opts.beam, lengthPenalty: opts.lengthPenalty });
}
