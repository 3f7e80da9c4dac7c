// What answering needs: a model with its tokenizers, and the special ids decoding reads from them.

import type { PairSpecialIds } from '../data/batching.js';
import type { LSTMSeq2Seq } from '../models/lstm-seq2seq.js';
import type { Transformer } from '../models/transformer.js';
import type { Module } from '../nn/module.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';

/** A trained model and what it needs to run: from a checkpoint. */
export interface TrainedModel<M extends Module = Module> {
  model: M;
  tokenizer: Tokenizer;
  /** The target side's tokenizer (the same object as `tokenizer` when both sides share one). */
  targetTokenizer: Tokenizer;
}

/** The encoder-decoders qkv trains and answers with: the Transformer, and the attentional LSTM baseline. */
export type EncoderDecoder = Transformer | LSTMSeq2Seq;

/** The checkpoint kinds (config.json's modelKind) of an {@link EncoderDecoder}. */
export const ENCODER_DECODER_KINDS: readonly string[] = ['transformer', 'lstm-seq2seq'];

/** Special ids shared by both sides (every tokenizer qkv builds has <pad> 0, <s> 1, </s> 2). */
export type SpecialIds = PairSpecialIds;

/**
 * The pad, bos and eos ids of a tokenizer.
 *
 * @example
 * specialIds(CharTokenizer.fromCorpus(['abc'])); // { padId: 0, bosId: 1, eosId: 2 }
 */
export function specialIds(tok: Tokenizer): SpecialIds {
  return { padId: tok.padId, bosId: tok.bosId, eosId: tok.eosId };
}
