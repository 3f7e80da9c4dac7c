// chrF (Popović 2015) exactly as sacreBLEU 2.x computes it by default: character 6-grams, β = 2, no spaces.

import { ArgumentError } from '../../core/errors.js';
import { referencesBySegment } from './bleu.js';
import { countOf, pySplit, removeWhitespace } from './text.js';

/** Options of {@link corpusChrf}; the defaults are sacreBLEU's `CHRF()`. */
export interface ChrfOptions {
  /** Highest character n-gram order. Default 6. */
  charOrder?: number;
  /** Highest word n-gram order; 2 gives chrF++. Default 0. */
  wordOrder?: number;
  /** Recall weighs β times as much as precision. Default 2. */
  beta?: number;
  /** Lowercase first. Default false. */
  lowercase?: boolean;
  /** Keep whitespace inside character n-grams. Default false (all whitespace is removed). */
  whitespace?: boolean;
  /** chrF++.py-style ε smoothing (average of per-order F-scores) instead of sacreBLEU's default effective-order averaging. Default false. */
  epsSmoothing?: boolean;
}

/** The result of {@link corpusChrf}. */
export interface ChrfScore {
  /** chrF, 0–100. */
  score: number;
  /** Per order (characters 1..charOrder, then words 1..wordOrder): [hypothesis n-grams, reference n-grams, matches], summed over the corpus. */
  stats: number[];
}

const PUNCTS = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

/** Splits punctuation off the start or end of words (one character, end first), as chrF++ does. */
function splitPunctuation(sent: string): string[] {
  const out: string[] = [];
  for (const w of pySplit(sent)) {
    const chars = Array.from(w);
    if (chars.length === 1) out.push(w);
    else if (PUNCTS.has(chars[chars.length - 1])) out.push(chars.slice(0, -1).join(''), chars[chars.length - 1]);
    else if (PUNCTS.has(chars[0])) out.push(chars[0], chars.slice(1).join(''));
    else out.push(w);
  }
  return out;
}

/** n-gram counters of orders 1..charOrder over code points, then 1..wordOrder over words. */
function allNgrams(sent: string, o: Required<ChrfOptions>): Map<string, number>[] {
  const chars = Array.from(o.whitespace ? sent : removeWhitespace(sent));
  const out: Map<string, number>[] = [];
  for (let n = 1; n <= o.charOrder; n++) {
    const keys: string[] = [];
    for (let i = 0; i + n <= chars.length; i++) keys.push(chars.slice(i, i + n).join(''));
    out.push(countOf(keys));
  }
  if (o.wordOrder > 0) {
    const words = splitPunctuation(sent);
    for (let n = 1; n <= o.wordOrder; n++) {
      const keys: string[] = [];
      for (let i = 0; i + n <= words.length; i++) keys.push(words.slice(i, i + n).join(' '));
      out.push(countOf(keys));
    }
  }
  return out;
}

/** The F-score of summed statistics (sacreBLEU's `CHRF._compute_f_score`), 0–100. */
function fScore(stats: readonly number[], o: Required<ChrfOptions>): number {
  const eps = 1e-16;
  const factor = o.beta ** 2;
  const order = o.charOrder + o.wordOrder;
  let score = 0;
  let effectiveOrder = 0;
  let avgPrec = 0;
  let avgRec = 0;
  for (let i = 0; i < order; i++) {
    const [nHyp, nRef, nMatch] = stats.slice(3 * i, 3 * i + 3);
    const prec = nHyp > 0 ? nMatch / nHyp : eps;
    const rec = nRef > 0 ? nMatch / nRef : eps;
    const denom = factor * prec + rec;
    score += denom > 0 ? ((1 + factor) * prec * rec) / denom : eps;
    if (nHyp > 0 && nRef > 0) {
      avgPrec += prec;
      avgRec += rec;
      effectiveOrder++;
    }
  }
  if (o.epsSmoothing) return (100 * score) / order;
  if (effectiveOrder === 0) return 0;
  avgPrec /= effectiveOrder;
  avgRec /= effectiveOrder;
  if (avgPrec + avgRec === 0) return 0;
  return (100 * (1 + factor) * avgPrec * avgRec) / (factor * avgPrec + avgRec);
}

/**
 * Corpus chrF as sacreBLEU 2.x computes `CHRF().corpus_score(hypotheses, references)` by default:
 * character n-grams of orders 1–6 with whitespace removed, per-segment [hyp, ref, match] counts
 * (against the reference with the best segment F-score when there are several) summed over the
 * corpus, then precision and recall averaged over the orders both sides have n-grams of, and
 * chrFβ = (1 + β²)·P·R / (β²·P + R) with β = 2.
 *
 * `references[k][i]` is the k-th reference of segment `i`, as in {@link corpusBleu}.
 *
 * @throws ArgumentError when a reference stream's length differs from the number of hypotheses.
 * @example
 * ```ts
 * const refs = [
 *   ['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'],
 *   ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.'],
 * ];
 * const sys = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.'];
 * corpusChrf(sys, refs).score; // 59.73... (sacreBLEU's README)
 * ```
 */
export function corpusChrf(hypotheses: readonly string[], references: readonly (readonly (string | null)[])[], opts: ChrfOptions = {}): ChrfScore {
  const o: Required<ChrfOptions> = {
    charOrder: 6, wordOrder: 0, beta: 2, lowercase: false, whitespace: false, epsSmoothing: false, ...opts,
  };
  for (const key of ['charOrder', 'wordOrder'] as const) {
    if (!(Number.isInteger(o[key]) && o[key] >= 0)) throw new ArgumentError(`corpusChrf: ${key} must be an integer ≥ 0, got ${o[key]}`);
  }
  if (o.charOrder + o.wordOrder === 0) throw new ArgumentError('corpusChrf: charOrder + wordOrder is 0; expected at least one order');
  if (!(o.beta > 0)) throw new ArgumentError(`corpusChrf: beta must be > 0, got ${o.beta}`);
  const prep = (s: string): string => (o.lowercase ? s.toLowerCase() : s);
  const refsBySeg = referencesBySegment('corpusChrf', hypotheses, references);
  const order = o.charOrder + o.wordOrder;
  const total = new Array<number>(3 * order).fill(0);
  hypotheses.forEach((hyp, i) => {
    const hypNgrams = allNgrams(prep(hyp), o);
    let best: number[] = [];
    let bestF = -1;
    for (const ref of refsBySeg[i]) {
      const refNgrams = allNgrams(prep(ref), o);
      const stats: number[] = [];
      for (let n = 0; n < order; n++) {
        const h = hypNgrams[n];
        const r = refNgrams[n];
        let hypCount = 0;
        let match = 0;
        for (const [g, c] of h) {
          hypCount += c;
          match += Math.min(c, r.get(g) ?? 0);
        }
        let refCount = 0;
        for (const c of r.values()) refCount += c;
        // sacreBLEU does not count hypothesis n-grams of an order the reference has none of.
        stats.push(r.size > 0 ? hypCount : 0, refCount, match);
      }
      const f = fScore(stats, o);
      if (f > bestF) { bestF = f; best = stats; }
    }
    best.forEach((v, j) => { total[j] += v; });
  });
  return { score: fScore(total, o), stats: total };
}
