// Masked-LM inputs (BERT §3.1): choose 15% of the tokens to predict; of those, 80% become [MASK], 10% a random token, 10% stay.

import { ArgumentError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';

/** Options of {@link maskTokens} (not `MaskOptions`, the name nn already exports for attention masks). */
export interface MaskTokensOptions {
  /** The generator: the same state gives the same masking. */
  rng: Rng;
  /** The id of [MASK]. */
  maskId: number;
  /** Vocabulary size: random replacements are drawn from [0, vocab), specials excepted. */
  vocab: number;
  /** Ids never chosen nor drawn as replacements ([CLS], [SEP], [PAD], [MASK], ...). */
  special: ReadonlySet<number>;
  /** The chance that each non-special token is chosen (0.15, the paper's and HF's DataCollatorForLanguageModeling's). */
  prob?: number;
}

/** What {@link maskTokens} returns: the corrupted input, and the targets. */
export interface MaskedTokens {
  /** The ids with the chosen ones replaced ([MASK], a random token, or left as they were). */
  input: number[];
  /** The original id at each chosen position, -100 (cross-entropy's default ignoreIndex) everywhere else. */
  labels: number[];
}

/** The label of a position the masked-LM loss does not read. */
export const IGNORE_LABEL = -100;

/**
 * Corrupts a sequence for the masked-LM objective. Each non-special token is chosen with probability `prob`; a
 * chosen token is replaced by [MASK] with probability 0.8, by a random non-special token with 0.1, and kept with
 * 0.1 ("so that the representation is biased towards the actual observed word", §3.1 and Appendix A.1). Its
 * label is its original id; every other label is -100. Per token, up to three draws from `rng`, in order (chosen?
 * mask? random?), plus the draws of the random token; special tokens draw nothing.
 *
 * @example
 * const { input, labels } = maskTokens([1, 17, 42, 9, 2], { rng: new Rng(0), maskId: 4, vocab: 100, special: new Set([0, 1, 2, 3, 4]) });
 * // input e.g. [1, 4, 42, 9, 2], labels [-100, 17, -100, -100, -100]
 */
export function maskTokens(ids: readonly number[], o: MaskTokensOptions): MaskedTokens {
  const prob = o.prob ?? 0.15;
  if (!Number.isSafeInteger(o.vocab) || o.vocab < 1) throw new ArgumentError(`maskTokens: vocab is ${o.vocab}, expected a positive integer`);
  if (!Number.isSafeInteger(o.maskId) || o.maskId < 0 || o.maskId >= o.vocab) {
    throw new ArgumentError(`maskTokens: maskId is ${o.maskId}, expected an id from 0 to ${o.vocab - 1}`);
  }
  if (!(prob >= 0 && prob <= 1)) throw new ArgumentError(`maskTokens: prob is ${prob}, expected a number in [0, 1]`);
  let specialsInVocab = 0;
  for (const s of o.special) if (Number.isInteger(s) && s >= 0 && s < o.vocab) specialsInVocab++;
  if (specialsInVocab >= o.vocab) throw new ArgumentError(`maskTokens: every id of the vocabulary (${o.vocab}) is special, expected some to draw random replacements from`);
  const input = ids.slice();
  const labels = new Array<number>(ids.length).fill(IGNORE_LABEL);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!Number.isSafeInteger(id) || id < 0 || id >= o.vocab) throw new ArgumentError(`maskTokens: ids[${i}] is ${id}, expected an id from 0 to ${o.vocab - 1}`);
    if (o.special.has(id) || !(o.rng.uniform() < prob)) continue;
    labels[i] = id;
    if (o.rng.uniform() < 0.8) input[i] = o.maskId;
    else if (o.rng.uniform() < 0.5) input[i] = randomToken(o);
    // else: kept as it is, yet still predicted
  }
  return { input, labels };
}

/** A uniform id of [0, vocab) that is not special (rejection: the specials are a handful of a large vocabulary). */
function randomToken(o: MaskTokensOptions): number {
  for (;;) {
    const r = o.rng.int(o.vocab);
    if (!o.special.has(r)) return r;
  }
}
