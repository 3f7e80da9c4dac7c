// Caps on sizes that come from files and arguments, so no input can take unbounded time or memory (docs/reliability.md).

import { ArgumentError } from './errors.js';

/**
 * The caps, in one place. Each bounds something a file or an argument chooses and whose cost
 * grows with it; past a cap, qkv throws an error naming the value and the cap instead of starting
 * the work. They are far above what qkv's presets and models use.
 */
export const LIMITS = Object.freeze({
  /** Beam size of beam search (`numBeams`, `--num-beams`): each beam is a row of every decoding step. */
  maxBeams: 256,
  /** Tokens generated per answer (`maxNewTokens`, `--max-new-tokens`, `--tokens`). */
  maxNewTokens: 65_536,
  /** Texts answered by one pipeline call (the CLI splits longer inputs into calls of this many). */
  maxBatch: 4_096,
  /** Tokens of one training batch (`maxTokens` in a config: activations grow with it). */
  maxBatchTokens: 1_048_576,
  /** Positions of a model (`maxLen`, `context`): the sinusoid table is allocated from the config alone. */
  maxPositions: 65_536,
  /** Tensors in one safetensors header (each costs a parse and an allocation, even when empty). */
  maxSafetensorsTensors: 100_000,
  /** Bytes of a safetensors header (the reference Rust library allows 100 MB; real headers are well under 1 MB). */
  maxSafetensorsHeaderBytes: 16 * 1024 * 1024,
  /** Bytes of a JSON file of a checkpoint (config.json, tokenizer.json, trainer_state.json). */
  maxJsonBytes: 256 * 1024 * 1024,
});

/** The name of a cap in {@link LIMITS}. */
export type LimitName = keyof typeof LIMITS;

/**
 * Throws an ArgumentError unless `value` is an integer from `min` to the cap `name`; the message
 * names the field, the value and the range.
 *
 * @example
 * checkLimit('numBeams', 4, 'maxBeams');      // 4
 * checkLimit('numBeams', 100000, 'maxBeams'); // throws: numBeams is 100000, expected an integer from 1 to 256 (the cap LIMITS.maxBeams)
 */
export function checkLimit(field: string, value: unknown, name: LimitName, min = 1): number {
  const cap = LIMITS[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > cap) {
    const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
    throw new ArgumentError(`${field} is ${shown}, expected an integer from ${min} to ${cap} (the cap LIMITS.${name}; see docs/reliability.md)`);
  }
  return value;
}
