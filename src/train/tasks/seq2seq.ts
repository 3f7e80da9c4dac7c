// What the encoder-decoder recipes (g2p, translate) share: the loss of a batch and the valid loss.

import type { SeqPair, PairBatch } from '../../data/batching.js';
import type { SpecialIds } from '../../inference/model.js';
import { pairBatches } from '../../data/batching.js';
import type { EncoderDecoder } from '../../inference/model.js';
import { crossEntropy } from '../../tensor/index.js';
import type { Tensor } from '../../tensor/index.js';

export type { SpecialIds } from '../../inference/model.js';

/**
 * The training loss of a batch: cross-entropy of the next target token with label smoothing
 * ε_ls (§5.4), averaged over the non-pad target tokens.
 *
 * @example
 * const { loss, tokens } = seq2seqLoss(model, batch, { padId: 0, bosId: 1, eosId: 2 }, 0.1);
 */
export function seq2seqLoss(model: EncoderDecoder, b: PairBatch, ids: SpecialIds, labelSmoothing: number): { loss: Tensor; tokens: number } {
  const { logits } = model.forward(b.src, b.tgtIn, { srcPaddingMask: b.srcPadMask, tgtPaddingMask: b.tgtPadMask }); // [B, T, V]
  const V = logits.shape[2];
  const loss = crossEntropy(logits.reshape([-1, V]), b.tgtOut.reshape([-1]), { ignoreIndex: ids.padId, labelSmoothing });
  return { loss, tokens: b.numTgtTokens };
}

/**
 * Mean negative log-likelihood per target token (nats, no label smoothing) over `pairs`; call
 * in eval mode under noGrad (Trainer.evaluate does).
 */
export function seq2seqValidLoss(model: EncoderDecoder, pairs: readonly SeqPair[], ids: SpecialIds, maxTokens: number): number {
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

// Batched decoding lives in the inference room.
export { decodeAll } from '../../inference/seq2seq.js';
export type { DecodeAllOptions } from '../../inference/seq2seq.js';
