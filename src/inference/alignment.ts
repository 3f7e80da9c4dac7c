// Does attention focus on the relevant letters? A G2P model's cross-attention set against a letter-to-phoneme
// alignment made without the model: a monotonic alignment by weighted edit distance over an ARPAbet spelling table.

import { ArgumentError } from '../core/errors.js';
import type { AttentionMap } from './attentions.js';

/**
 * The letters that commonly spell each ARPAbet phoneme in English (stress digits stripped): the
 * alignment's match table. A phoneme aligned to a letter not listed for it costs a substitution.
 */
export const ARPABET_LETTERS: Readonly<Record<string, string>> = {
  AA: 'aoeh', AE: 'ai', AH: 'aeiouy', AO: 'aouw', AW: 'aouw', AY: 'aeiy', B: 'b', CH: 'chtz', D: 'dt', DH: 'th',
  EH: 'aei', ER: 'eriouay', EY: 'aeiy', F: 'fphg', G: 'gx', HH: 'hwj', IH: 'iyeau', IY: 'eiyas', JH: 'jgdz', K: 'kcqxg',
  L: 'l', M: 'm', N: 'n', NG: 'ng', OW: 'ouwea', OY: 'oiy', P: 'p', R: 'r', S: 'scxzt', SH: 'sctch', T: 'tdc',
  TH: 'th', UH: 'ou', UW: 'ouwe', V: 'vfw', W: 'wuo', Y: 'yiuj', Z: 'zsx', ZH: 'sgzt',
};

/** Costs of the alignment's moves (a unit substitution is the yardstick). */
const COST = { mismatch: 1, stay: 0.6, skip: 0.4 } as const;

/**
 * A monotonic letter-to-phoneme alignment: for each phoneme the index of the letter it comes from,
 * never decreasing. It minimises, by dynamic programming, the sum of a substitution cost (1 when the
 * letter is not in ARPABET_LETTERS for the phoneme), 0.6 for a phoneme on the same letter as the
 * one before (x → K S), and 0.4 per letter passed over (silent letters, before, between and after).
 * Ties go to the earlier letter. An unknown phoneme or an empty side is an ArgumentError.
 *
 * @example
 * monotonicAlignment([...'knight'], ['N', 'AY1', 'T']); // [1, 2, 5]
 */
export function monotonicAlignment(letters: readonly string[], phonemes: readonly string[]): number[] {
  const L = letters.length, P = phonemes.length;
  if (L === 0 || P === 0) throw new ArgumentError(`monotonicAlignment: ${L} letters and ${P} phonemes, expected at least one of each`);
  const spell = phonemes.map((p, j) => {
    const s = ARPABET_LETTERS[p.replace(/[0-9]+$/, '').toUpperCase()];
    if (s === undefined) throw new ArgumentError(`monotonicAlignment: phoneme ${j} is '${p}', expected an ARPAbet symbol (${Object.keys(ARPABET_LETTERS).join(' ')})`);
    return s;
  });
  const sub = (j: number, i: number) => (spell[j].includes(letters[i].toLowerCase()) ? 0 : COST.mismatch);
  // cost[j][i]: the best cost of phonemes 0..j with phoneme j on letter i; from[j][i]: the letter of phoneme j − 1.
  const cost = Array.from({ length: P }, () => new Float64Array(L).fill(Infinity));
  const from = Array.from({ length: P }, () => new Int32Array(L).fill(-1));
  for (let i = 0; i < L; i++) cost[0][i] = COST.skip * i + sub(0, i);
  for (let j = 1; j < P; j++) {
    for (let i = 0; i < L; i++) {
      for (let k = 0; k <= i; k++) {
        const move = k === i ? COST.stay : COST.skip * (i - k - 1);
        const c = cost[j - 1][k] + move + sub(j, i);
        if (c < cost[j][i] - 1e-12) {
          cost[j][i] = c;
          from[j][i] = k;
        }
      }
    }
  }
  let end = 0;
  for (let i = 1; i < L; i++) if (cost[P - 1][i] + COST.skip * (L - 1 - i) < cost[P - 1][end] + COST.skip * (L - 1 - end) - 1e-12) end = i;
  const out = new Array<number>(P);
  for (let j = P - 1, i = end; j >= 0; i = from[j][i], j--) out[j] = i;
  return out;
}

/** How often one head's strongest source position is the reference letter. */
export interface HeadAgreement {
  layer: number;
  head: number;
  /** Phonemes whose attention argmax is the reference letter. */
  agree: number;
  /** Phonemes counted. */
  total: number;
}

/**
 * Per layer and head of cross-attention maps ([1, H, T, S] each, rows = decoder positions): how many of
 * the rows 0..reference.length − 1 have their largest weight on column reference[row]. Row t is the
 * decoder choosing phoneme t, so `reference` is that phoneme's letter (from monotonicAlignment). Adds
 * into `into` (one entry per layer and head, made on the first call) so that words can be summed.
 *
 * @example
 * const tally = alignmentAgreement(a.crossAttentions, monotonicAlignment(letters, phones));
 * tally.map((h) => h.agree / h.total);
 */
export function alignmentAgreement(cross: readonly AttentionMap[], reference: readonly number[], into: HeadAgreement[] = []): HeadAgreement[] {
  cross.forEach((m, layer) => {
    const [, H, T, S] = m.shape;
    if (T < reference.length) throw new ArgumentError(`alignmentAgreement: layer ${layer} has ${T} decoder rows, expected at least ${reference.length} (one per phoneme)`);
    for (let h = 0; h < H; h++) {
      let slot = into.find((x) => x.layer === layer && x.head === h);
      if (!slot) into.push((slot = { layer, head: h, agree: 0, total: 0 }));
      for (let t = 0; t < reference.length; t++) {
        const row = m.data.subarray((h * T + t) * S, (h * T + t + 1) * S);
        let best = 0;
        for (let s = 1; s < S; s++) if (row[s] > row[best]) best = s;
        if (reference[t] >= S) throw new ArgumentError(`alignmentAgreement: reference letter ${reference[t]} at phoneme ${t}, expected < ${S} source positions`);
        slot.agree += best === reference[t] ? 1 : 0;
        slot.total += 1;
      }
    }
  });
  return into;
}
