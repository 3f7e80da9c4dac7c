// What decoding needs from an encoder-decoder model, and greedy decoding on top of it.

import type { Tensor } from '../tensor/index.js';
import { noGrad, tensor } from '../tensor/index.js';
import { ArgumentError } from '../core/errors.js';

/** Any encoder-decoder with the paper's three parts: encoder, decoder, generator. */
export interface Seq2SeqModel {
  encode(src: Tensor, opts: { srcPaddingMask?: Tensor | null }): { output: Tensor };
  decode(tgt: Tensor, memory: Tensor, opts: { srcPaddingMask?: Tensor | null }): { output: Tensor };
  readonly generator: { forward(h: Tensor): Tensor };
  eval(): unknown;
}

export interface GreedyOptions {
  /** Token that starts every target. */
  bos: number;
  /** Token that ends a target; decoding of a row stops after it (it is not returned). */
  eos?: number;
  /** Most tokens to generate per row. */
  maxLen: number;
  /** [B, S], 1 at source padding. */
  srcPaddingMask?: Tensor | null;
}

/**
 * Greedy decoding: at each step append argmax_v p(v | source, prefix). Returns each row's tokens
 * without bos and eos.
 *
 * @example
 * const out = greedyDecode(model, src, { bos: 1, maxLen: 10 }); // number[][]
 */
export function greedyDecode(model: Seq2SeqModel, src: Tensor, opts: GreedyOptions): number[][] {
  if (!Number.isInteger(opts.maxLen) || opts.maxLen < 1) throw new ArgumentError(`greedyDecode: maxLen must be a positive integer, got ${opts.maxLen}`);
  model.eval();
  return noGrad(() => {
    const B = src.shape[0];
    const memory = model.encode(src, { srcPaddingMask: opts.srcPaddingMask }).output; // [B, S, D]
    const rows: number[][] = Array.from({ length: B }, () => [opts.bos]);
    const done = new Array<boolean>(B).fill(false);
    for (let step = 0; step < opts.maxLen && done.includes(false); step++) {
      const tgt = tensor(rows.flat(), { dtype: 'int32', shape: [B, rows[0].length], backend: src.backend }); // [B, t]
      const h = model.decode(tgt, memory, { srcPaddingMask: opts.srcPaddingMask }).output; // [B, t, D]
      const last = h.narrow(1, h.shape[1] - 1, 1); // [B, 1, D]
      const next = model.generator.forward(last).argmax(-1).toArray(); // [B, 1]
      for (let b = 0; b < B; b++) {
        const tok = done[b] ? (opts.eos ?? next[b]) : next[b];
        rows[b].push(tok);
        if (tok === opts.eos) done[b] = true;
      }
    }
    return rows.map((r) => {
      const out = r.slice(1);
      const end = opts.eos === undefined ? -1 : out.indexOf(opts.eos);
      return end >= 0 ? out.slice(0, end) : out;
    });
  });
}
