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

/**
 * A cache of independent rows for continuous batching (nn's SlotKVCache is one): row r is a one-row cache of
 * its own, and rows move so that the live ones stay first.
 */
export interface SlotCache<C extends DecodingCache = DecodingCache> {
  readonly slots: number;
  readonly maxLen: number;
  /** Row r as a one-row cache, for a prefill or a step of that row alone. */
  row(r: number): C;
  length(r: number): number;
  clear(r: number): void;
  /** Row `from`'s positions copied into row `to`. */
  move(from: number, to: number): void;
}

/** A decoder-only model that continuous batching can drive: a slot cache, and optionally one call for a step of all its rows. */
export interface BatchedCausalLM<C extends DecodingCache = DecodingCache, S extends SlotCache<C> = SlotCache<C>> extends CausalLM<C> {
  createSlotCache(slots: number, maxLen?: number): S;
  /** ids [B, 1], one token for each of rows 0..B-1 at its own position → logits [B, 1, V]; null where no one-call step applies. */
  decodeRows?(ids: Tensor, cache: S): Tensor | null;
}
