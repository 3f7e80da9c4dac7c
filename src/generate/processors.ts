// Logits processors: small functions that reshape one row of next-token scores before a choice.

import { ArgumentError } from '../core/errors.js';

/**
 * Changes one row of scores [V] in place. `tokens` is everything in that row so far (the prompt
 * and what has been generated).
 */
export type LogitsProcessor = (logits: Float64Array, tokens: readonly number[]) => void;

/**
 * Divides the scores by t: t < 1 sharpens the distribution, t > 1 flattens it.
 *
 * @example
 * const p = temperature(0.5); p(row, []); // row doubled
 */
export function temperature(t: number): LogitsProcessor {
  if (!(t > 0) || !Number.isFinite(t)) throw new ArgumentError(`temperature: t must be a positive finite number, got ${t} (use greedy decoding for t = 0)`);
  return (logits) => {
    for (let i = 0; i < logits.length; i++) logits[i] /= t;
  };
}

/**
 * Keeps the k highest scores (and any equal to the k-th), sets the rest to -Infinity.
 *
 * @example
 * const row = Float64Array.of(1, 4, 2, 3); topK(2)(row, []); // [-Inf, 4, -Inf, 3]
 */
export function topK(k: number): LogitsProcessor {
  if (!Number.isInteger(k) || k < 1) throw new ArgumentError(`topK: k must be a positive integer, got ${k}`);
  return (logits) => {
    if (k >= logits.length) return;
    const kth = Float64Array.from(logits).sort().reverse()[k - 1];
    for (let i = 0; i < logits.length; i++) if (logits[i] < kth) logits[i] = -Infinity;
  };
}

/**
 * Nucleus sampling (Holtzman et al. 2020): keeps the smallest set of most likely tokens whose
 * probabilities add up to at least p, sets the rest to -Infinity. The most likely token always stays.
 *
 * @example
 * // probabilities [0.5, 0.3, 0.2]: topP(0.7) keeps the first two, topP(0.5) only the first
 */
export function topP(p: number): LogitsProcessor {
  if (!(p > 0 && p <= 1)) throw new ArgumentError(`topP: p must be in (0, 1], got ${p}`);
  return (logits) => {
    let m = -Infinity;
    for (const v of logits) if (v > m) m = v;
    const probs = logits.map((v) => Math.exp(v - m));
    const total = probs.reduce((a, b) => a + b, 0);
    const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a]);
    // A set that reaches p up to rounding counts as reaching it (0.5 + 0.3 is 0.8, not 0.79999...).
    const target = p * total * (1 - 1e-12);
    let cum = 0;
    let n = 0;
    while (n < order.length && cum < target) cum += probs[order[n++]];
    for (let j = n; j < order.length; j++) logits[order[j]] = -Infinity;
  };
}

/**
 * CTRL's repetition penalty (Keskar et al. 2019): a token already present has its score divided
 * by θ when positive, multiplied by θ when negative, so θ > 1 discourages repeats.
 *
 * @example
 * repetitionPenalty(2)(Float64Array.of(4, -1, 3), [0, 1]); // [2, -2, 3]
 */
export function repetitionPenalty(theta: number): LogitsProcessor {
  if (!(theta > 0)) throw new ArgumentError(`repetitionPenalty: θ must be positive, got ${theta}`);
  return (logits, tokens) => {
    for (const t of new Set(tokens)) {
      if (t < 0 || t >= logits.length) continue;
      logits[t] = logits[t] > 0 ? logits[t] / theta : logits[t] * theta;
    }
  };
}

/**
 * Never choose these tokens (padding, an unknown-word token...): their scores become -Infinity.
 *
 * @example
 * forbidTokens([0])(Float64Array.of(5, 1), []); // [-Inf, 1]
 */
export function forbidTokens(ids: readonly number[]): LogitsProcessor {
  for (const id of ids) if (!Number.isInteger(id) || id < 0) throw new ArgumentError(`forbidTokens: ${id} is not a token id`);
  return (logits) => {
    for (const id of ids) if (id < logits.length) logits[id] = -Infinity;
  };
}

/**
 * Runs processors in order on one row, in place.
 *
 * @example
 * applyProcessors([repetitionPenalty(1.2), temperature(0.8), topK(40)], row, tokens);
 */
export function applyProcessors(processors: readonly LogitsProcessor[], logits: Float64Array, tokens: readonly number[]): Float64Array {
  for (const p of processors) p(logits, tokens);
  return logits;
}
