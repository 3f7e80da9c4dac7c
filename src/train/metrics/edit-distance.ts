// Levenshtein distance over token arrays, and the word and phoneme error rates of G2P.

import { ArgumentError } from '../../core/errors.js';

/**
 * Levenshtein distance: the fewest insertions, deletions and substitutions (each costing 1) that turn
 * `hyp` into `ref`. Tokens are compared with `===`, so arrays of strings or of ids both work.
 *
 * @example
 * ```ts
 * editDistance(['K', 'AE', 'T'], ['K', 'AA', 'T', 'S']); // 2: one substitution, one insertion
 * editDistance('kitten'.split(''), 'sitting'.split('')); // 3
 * ```
 */
export function editDistance<T>(hyp: readonly T[], ref: readonly T[]): number {
  // One row of the dynamic-programming table at a time: row[j] = distance(hyp[0..i), ref[0..j)).
  let prev = new Array<number>(ref.length + 1);
  let row = new Array<number>(ref.length + 1);
  for (let j = 0; j <= ref.length; j++) prev[j] = j;
  for (let i = 1; i <= hyp.length; i++) {
    row[0] = i;
    for (let j = 1; j <= ref.length; j++) {
      const sub = prev[j - 1] + (hyp[i - 1] === ref[j - 1] ? 0 : 1);
      row[j] = Math.min(sub, prev[j] + 1, row[j - 1] + 1);
    }
    [prev, row] = [row, prev];
  }
  return prev[ref.length];
}

/** The result of {@link g2pErrorRates}. */
export interface G2PErrorRates {
  /** Words whose hypothesis equals none of the listed pronunciations. */
  wordErrors: number;
  /** Number of words scored. */
  words: number;
  /** Word error rate: `wordErrors / words`, in [0, 1]. */
  wer: number;
  /** Sum over words of the edit distance to the closest listed pronunciation. */
  phonemeErrors: number;
  /** Sum over words of the length of that closest pronunciation. */
  phonemes: number;
  /** Phoneme error rate: `phonemeErrors / phonemes` (can exceed 1 when hypotheses are too long). */
  per: number;
}

/**
 * Word and phoneme error rates for grapheme-to-phoneme conversion, where a word may have several
 * correct pronunciations (CMUdict lists variants such as `EH1 K N AA0 M IH0 K S` / `IY1 K ...`).
 *
 * Definitions (as in the G2P literature, e.g. Bisani & Ney 2008; Yao & Zweig 2015):
 * - **WER** = (number of words whose hypothesis matches *no* listed pronunciation exactly) / (number of words).
 * - **PER** = Σ_w d(h_w, r*_w) / Σ_w |r*_w|, where d is the Levenshtein distance over phonemes and
 *   r*_w is the listed pronunciation of word w closest to its hypothesis h_w (on a tie, the first listed).
 *   Errors and lengths are summed over the corpus before dividing (a micro average, not a mean of
 *   per-word rates).
 *
 * `references[i]` lists the pronunciations of word `i`; each pronunciation is an array of phonemes.
 *
 * @throws ArgumentError when the counts of hypotheses and reference lists differ, or a word has no pronunciation.
 * @example
 * ```ts
 * const r = g2pErrorRates(
 *   [['T', 'AH0', 'M', 'EY1', 'T', 'OW2'], ['K', 'AE1', 'T']],
 *   [[['T', 'AH0', 'M', 'EY1', 'T', 'OW2'], ['T', 'AH0', 'M', 'AA1', 'T', 'OW2']], [['K', 'AE1', 'T', 'S']]],
 * );
 * // r.wer = 0.5 (the second word is wrong); r.per = (0 + 1) / (6 + 4) = 0.1
 * ```
 */
export function g2pErrorRates<T>(hypotheses: readonly (readonly T[])[], references: readonly (readonly (readonly T[])[])[]): G2PErrorRates {
  if (hypotheses.length !== references.length) {
    throw new ArgumentError(`g2pErrorRates: ${hypotheses.length} hypotheses but ${references.length} reference lists; expected one list per word`);
  }
  let wordErrors = 0;
  let phonemeErrors = 0;
  let phonemes = 0;
  for (let i = 0; i < hypotheses.length; i++) {
    const refs = references[i];
    if (refs.length === 0) throw new ArgumentError(`g2pErrorRates: word ${i} has 0 reference pronunciations; expected at least 1`);
    let best = Infinity;
    let bestLen = 0;
    for (const ref of refs) {
      const d = editDistance(hypotheses[i], ref);
      if (d < best) { best = d; bestLen = ref.length; }
    }
    if (best !== 0) wordErrors++;
    phonemeErrors += best;
    phonemes += bestLen;
  }
  const words = hypotheses.length;
  return {
    wordErrors, words, wer: words === 0 ? 0 : wordErrors / words,
    phonemeErrors, phonemes, per: phonemes === 0 ? (phonemeErrors === 0 ? 0 : Infinity) : phonemeErrors / phonemes,
  };
}

/**
 * G2P word error rate: the fraction of words whose hypothesis matches none of the listed
 * pronunciations. See {@link g2pErrorRates} for the exact definition.
 *
 * @example
 * ```ts
 * wordErrorRate([['K', 'AE1', 'T']], [[['K', 'AE1', 'T'], ['K', 'AA1', 'T']]]); // 0
 * ```
 */
export function wordErrorRate<T>(hypotheses: readonly (readonly T[])[], references: readonly (readonly (readonly T[])[])[]): number {
  return g2pErrorRates(hypotheses, references).wer;
}

/**
 * G2P phoneme error rate: total edit distance to the closest listed pronunciation divided by the
 * total length of those pronunciations. See {@link g2pErrorRates} for the exact definition.
 *
 * @example
 * ```ts
 * phonemeErrorRate([['K', 'AE1']], [[['K', 'AE1', 'T']]]); // 1 / 3
 * ```
 */
export function phonemeErrorRate<T>(hypotheses: readonly (readonly T[])[], references: readonly (readonly (readonly T[])[])[]): number {
  return g2pErrorRates(hypotheses, references).per;
}

/** Stress marks off ARPAbet phonemes: defined with the data it reads (src/data/cmudict.ts). */
export { withoutStress } from '../../data/cmudict.js';
