// Stopping criteria: decide, per row, whether generation of that row is over.

import { ArgumentError } from '../core/errors.js';

/** True when a row should stop, given the tokens generated for it so far (the newest last). */
export type StoppingCriterion = (generated: readonly number[]) => boolean;

/**
 * Stops once n tokens have been generated.
 *
 * @example
 * maxLength(3)([5, 6, 7]); // true
 */
export function maxLength(n: number): StoppingCriterion {
  if (!Number.isInteger(n) || n < 1) throw new ArgumentError(`maxLength: n must be a positive integer, got ${n}`);
  return (generated) => generated.length >= n;
}

/**
 * Stops after the end-of-sequence token (or any of several).
 *
 * @example
 * eosToken(2)([5, 2]); // true
 */
export function eosToken(eos: number | readonly number[]): StoppingCriterion {
  const set = new Set(typeof eos === 'number' ? [eos] : eos);
  return (generated) => generated.length > 0 && set.has(generated[generated.length - 1]);
}

/**
 * Stops when the generated tokens end with a given sequence (a stop string, once tokenised).
 *
 * @example
 * stopSequence([4, 4])([1, 4, 4]); // true
 */
export function stopSequence(seq: readonly number[]): StoppingCriterion {
  if (seq.length === 0) throw new ArgumentError('stopSequence: the sequence is empty');
  return (generated) => generated.length >= seq.length && seq.every((t, i) => generated[generated.length - seq.length + i] === t);
}
