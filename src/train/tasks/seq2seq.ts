// What the encoder-decoder recipes (g2p, translate) share: the loss of a batch, valid loss, batched decoding.

import { ArgumentError } from '../../core/errors.js';
import type { SeqPair, PairBatch } from '../../data/batching.js';
import { padSequences, pairBatches } from '../../data/batching.js';
import { beamSearch } from '../../generate/beam.js';
import { greedyDecode } from '../../generate/seq2seq.js';
import type { Transformer } from '../../models/transformer.js';
import { crossEntropy } from '../../tensor/index.js';
import type { Tensor } from '../../tensor/index.js';
import { tensor } from '../../tensor/index.js';

/** Special ids shared by both sides (every tokenizer qkv builds has <pad> 0, <s> 1, </s> 2). */
export interface SpecialIds {
  padId: number;
  bosId: number;
  eosId: number;
}

/**
 * The training loss of a batch: cross-entropy of the next target token with label smoothing
 * ε_ls (§5.4), averaged over the non-pad target tokens.
 *
 * @example
 * const { loss, tokens } = seq2seqLoss(model, batch, { padId: 0, bosId: 1, eosId: 2 }, 0.1);
 */
export function seq2seqLoss(model: Transformer, b: PairBatch, ids: SpecialIds, labelSmoothing: number): { loss: Tensor; tokens: number } {
  const { logits } = model.forward(b.src, b.tgtIn, { srcPaddingMask: b.srcPadMask, tgtPaddingMask: b.tgtPadMask }); // [B, T, V]
  const V = logits.shape[2];
  const loss = crossEntropy(logits.reshape([-1, V]), b.tgtOut.reshape([-1]), { ignoreIndex: ids.padId, labelSmoothing });
  return { loss, tokens: b.numTgtTokens };
}

/**
 * Mean negative log-likelihood per target token (nats, no label smoothing) over `pairs`; call
 * in eval mode under noGrad (Trainer.evaluate does).
 */
export function seq2seqValidLoss(model: Transformer, pairs: readonly SeqPair[], ids: SpecialIds, maxTokens: number): number {
  let total = 0;
  let tokens = 0;
  for (const b of pairBatches(pairs, { ...ids, maxTokens })) {
    const { logits } = model.forward(b.src, b.tgtIn, { srcPaddingMask: b.srcPadMask, tgtPaddingMask: b.tgtPadMask });
    const V = logits.shape[2];
    total += crossEntropy(logits.reshape([-1, V]), b.tgtOut.reshape([-1]), { ignoreIndex: ids.padId, reduction: 'sum' }).item();
    tokens += b.numTgtTokens;
  }
  return tokens === 0 ? NaN : total / tokens;
}

/** Options of {@link decodeAll}. */
export interface DecodeAllOptions extends SpecialIds {
  /** 1: greedy; more: beam search with this many hypotheses. */
  beam: number;
  /** α of beam search's length penalty. */
  lengthPenalty: number;
  /** The most target tokens for a source of `srcLen` tokens. */
  maxLen: (srcLen: number) => number;
  /** Sources decoded together (default 64; beam search runs beam × this many rows). */
  batchSize?: number;
}

/**
 * Decodes every source (token ids without specials), in batches of similar length, and returns
 * each one's best target ids (without <s> and </s>) in the input order.
 *
 * @example
 * const out = decodeAll(model, [src.encode('HELLO')], { padId: 0, bosId: 1, eosId: 2, beam: 4,
 *   lengthPenalty: 0.6, maxLen: (n) => 2 * n + 5 });
 */
export function decodeAll(model: Transformer, sources: readonly (readonly number[])[], o: DecodeAllOptions): number[][] {
  if (!Number.isInteger(o.beam) || o.beam < 1) throw new ArgumentError(`decodeAll: beam is ${o.beam}, expected an integer ≥ 1`);
  const batchSize = o.batchSize ?? 64;
  const order = sources.map((_, i) => i).sort((a, b) => sources[a].length - sources[b].length);
  const out: number[][] = new Array(sources.length);
  const backend = model.parameters()[0]?.backend;
  for (let start = 0; start < order.length; start += batchSize) {
    const idx = order.slice(start, start + batchSize);
    const rows = idx.map((i) => (sources[i].length > 0 ? sources[i] : [o.eosId]));
    const p = padSequences(rows, o.padId);
    const src = tensor(p.ids, { shape: [p.rows, p.width], dtype: 'int32', backend });
    const srcPaddingMask = tensor(p.mask, { shape: [p.rows, p.width], dtype: 'int32', backend });
    const maxLen = o.maxLen(p.width);
    const best = o.beam === 1
      ? greedyDecode(model, src, { bos: o.bosId, eos: o.eosId, maxLen, srcPaddingMask })
      : beamSearch(model, src, { bos: o.bosId, eos: o.eosId, maxLen, beamSize: o.beam, lengthPenalty: o.lengthPenalty, srcPaddingMask })
        .map((hyps) => hyps[0]?.tokens ?? []);
    idx.forEach((i, r) => { out[i] = best[r]; });
  }
  return out;
}
