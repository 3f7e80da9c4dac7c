// Greedy decoding for encoder-decoder models, with or without a KV cache.

import type { Tensor } from '../tensor/index.js';
import { noGrad } from '../tensor/index.js';
import { ArgumentError } from '../core/errors.js';
import type { DecodingCache, Seq2SeqModel } from './model.js';
import { idsTensor } from './rows.js';

export type { Seq2SeqModel } from './model.js';

export interface GreedyOptions {
  /** Token that starts every target. */
  bos: number;
  /** Token that ends a target; decoding of a row stops after it (it is not returned). */
  eos?: number;
  /** Most tokens to generate per row. */
  maxLen: number;
  /** [B, S], 1 at source padding. */
  srcPaddingMask?: Tensor | null;
  /** Keep the decoder's keys and values between steps (default true). */
  useCache?: boolean;
  /** Called with each new token of each row (eos excluded): the streaming hook. */
  onToken?: (id: number, row: number) => void;
}

/** A token chosen by a decoding loop: its id and the batch row it belongs to. */
export interface DecodedToken {
  id: number;
  row: number;
}

/**
 * Greedy decoding: at each step append argmax_v p(v | source, prefix). Returns each row's tokens
 * without bos and eos.
 *
 * @example
 * const out = greedyDecode(model, src, { bos: 1, eos: 2, maxLen: 10 }); // number[][]
 */
export function greedyDecode<C extends DecodingCache>(model: Seq2SeqModel<C>, src: Tensor, opts: GreedyOptions): number[][] {
  const steps = greedyDecodeSteps(model, src, opts);
  for (let r = steps.next(); ; r = steps.next()) {
    if (r.done) return r.value;
    opts.onToken?.(r.value.id, r.value.row);
  }
}

/**
 * Greedy decoding one token at a time, as a generator: each `next()` runs as much of the loop as
 * it takes to choose the next token of some row (eos excluded), so a caller can stream, pause or
 * stop (`return()`) between tokens. Its return value is what {@link greedyDecode} returns;
 * `opts.onToken` is not called (the yields are the stream).
 *
 * @example
 * for (const { id } of greedyDecodeSteps(model, src, { bos: 1, eos: 2, maxLen: 10 })) show(id);
 */
export function* greedyDecodeSteps<C extends DecodingCache>(model: Seq2SeqModel<C>, src: Tensor, opts: GreedyOptions): Generator<DecodedToken, number[][], undefined> {
  if (!Number.isInteger(opts.maxLen) || opts.maxLen < 1) throw new ArgumentError(`greedyDecode: maxLen must be a positive integer, got ${opts.maxLen}`);
  const useCache = opts.useCache ?? true;
  model.eval();
  const B = src.shape[0];
  const srcPaddingMask = opts.srcPaddingMask;
  // Each step runs under noGrad by itself: a generator's body is left at every yield.
  const memory = noGrad(() => model.encode(src, { srcPaddingMask }).output); // [B, S, D]
  const cache = useCache ? model.createCache(opts.maxLen) : null;
  const rows: number[][] = Array.from({ length: B }, () => [opts.bos]);
  const done = new Array<boolean>(B).fill(false);
  for (let step = 0; step < opts.maxLen && done.includes(false); step++) {
    const next = noGrad(() => {
      const tgt = idsTensor(cache ? rows.map((r) => [r[r.length - 1]]) : rows, src.backend); // [B, 1] or [B, t]
      const h = model.decode(tgt, memory, { srcPaddingMask, cache }).output; // [B, T, D]
      const last = h.narrow(1, h.shape[1] - 1, 1); // [B, 1, D]
      return model.generator.forward(last).argmax(-1).toArray(); // [B, 1]
    });
    for (let b = 0; b < B; b++) {
      const tok = done[b] ? (opts.eos ?? next[b]) : next[b];
      rows[b].push(tok);
      if (done[b]) continue;
      if (tok === opts.eos) done[b] = true;
      else yield { id: tok, row: b };
    }
  }
  return rows.map((r) => {
    const out = r.slice(1);
    const end = opts.eos === undefined ? -1 : out.indexOf(opts.eos);
    return end >= 0 ? out.slice(0, end) : out;
  });
}
