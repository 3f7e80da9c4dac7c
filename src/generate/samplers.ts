// Samplers: choose the next token from one row of processed scores.

import { ArgumentError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';

/** Picks a token id from scores [V] (unnormalised log-probabilities, -Infinity = excluded). */
export type Sampler = (logits: Float64Array) => number;

/**
 * The most likely token (the first one on ties).
 *
 * @example
 * greedy(Float64Array.of(0.1, 2, 2, -1)); // 1
 */
export const greedy: Sampler = (logits) => {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
};

/**
 * A draw from softmax(logits), from a seeded generator: one uniform number per token.
 *
 * @example
 * const sample = multinomial(new Rng(0));
 * sample(Float64Array.of(0, 0)); // 0 or 1, each with probability ½
 */
export function multinomial(rng: Rng): Sampler {
  return (logits) => {
    let m = -Infinity;
    for (const v of logits) if (v > m) m = v;
    if (m === -Infinity || Number.isNaN(m)) throw new ArgumentError('multinomial: every token is excluded (all scores -Infinity or NaN)');
    const probs = logits.map((v) => Math.exp(v - m));
    let total = 0;
    for (const p of probs) total += p;
    const u = rng.uniform() * total;
    let cum = 0;
    let last = 0;
    for (let i = 0; i < probs.length; i++) {
      if (probs[i] === 0) continue;
      cum += probs[i];
      last = i;
      if (u < cum) return i;
    }
    return last; // u within rounding of the total
  };
}
