// What decoding needs from a model: the decoder-only and encoder-decoder shapes, and their caches.

import type { Tensor } from '../tensor/index.js';

/**
 * A model's incremental-decoding state (nn's KVCache is one): how many positions it holds, and
 * how to reorder its batch rows when beam search keeps some hypotheses and drops others.
 */
export interface DecodingCache {
  readonly length: number;
  reorder(indices: readonly number[]): void;
}

/** A decoder-only language model such as GPT: ids [B, T] → logits [B, T, V]. */
export interface CausalLM<C extends DecodingCache = DecodingCache> {
  forward(ids: Tensor, opts: { cache?: C | null }): { logits: Tensor };
  /** An empty cache for up to `maxLen` positions. */
  createCache(maxLen: number): C;
  eval(): unknown;
  /** Its parameters: decoding puts its ids on their backend. */
  parameters(): Tensor[];
}

/** Any encoder-decoder with the paper's three parts: encoder, decoder, generator. */
export interface Seq2SeqModel<C extends DecodingCache = DecodingCache> {
  encode(src: Tensor, opts: { srcPaddingMask?: Tensor | null }): { output: Tensor };
  decode(tgt: Tensor, memory: Tensor, opts: { srcPaddingMask?: Tensor | null; cache?: C | null }): { output: Tensor };
  readonly generator: { forward(h: Tensor): Tensor };
  /** An empty cache for up to `maxLen` target positions. */
  createCache(maxLen: number): C;
  eval(): unknown;
}
