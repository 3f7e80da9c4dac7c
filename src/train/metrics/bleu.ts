// Corpus BLEU exactly as sacreBLEU 2.x computes it by default (13a tokenisation, 4-grams, exp smoothing).

import { ArgumentError } from '../../core/errors.js';
import { countOf, pyRstrip, pySplit } from './text.js';

/**
 * The `13a` tokenizer of mteval-v13a.pl as sacreBLEU implements it (`tokenizer_13a.py` +
 * `tokenizer_re.py`): unescape a few SGML entities, split off punctuation and symbols, split `.`
 * and `,` unless they sit between digits, split `-` after a digit, and collapse whitespace.
 *
 * @example
 * ```ts
 * tokenize13a("It wasn't surprising."); // "It wasn't surprising ." (the apostrophe is not split)
 * tokenize13a('Pay $3.50, now');        // "Pay $ 3.50 , now"
 * ```
 */
export function tokenize13a(line: string): string {
  let s = line
    .replaceAll('<skipped>', '')
    .replaceAll('-\n', '')
    .replaceAll('\n', ' ')
    .replaceAll('&quot;', '"')
    .replaceAll('&amp;', '&')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>');
  s = ` ${s} `;
  // The four rules, in order: symbols { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * + : ; < = > ? @ /,
  // then period and comma unless preceded by a digit, unless followed by a digit, then dash after a digit.
  s = s.replace(/([{-~\[-` -&(-+:-@\/])/gu, ' $1 ');
  s = s.replace(/([^0-9])([.,])/gu, '$1 $2 ');
  s = s.replace(/([.,])([^0-9])/gu, ' $1 $2');
  s = s.replace(/([0-9])(-)/gu, '$1 $2 ');
  return pySplit(s).join(' ');
}

/** Smoothing of zero n-gram precisions, as named by sacreBLEU (Chen & Cherry 2014). */
export type BleuSmoothMethod = 'none' | 'floor' | 'add-k' | 'exp';

/** Options of {@link corpusBleu}; the defaults are sacreBLEU's. */
export interface BleuOptions {
  /** `'13a'` (default) or `'none'` (split on whitespace only, for pre-tokenised text). */
  tokenize?: '13a' | 'none';
  /** Lowercase before tokenising. Default false. */
  lowercase?: boolean;
  /** Default `'exp'`: the k-th zero precision becomes 1 / (2^k · total). */
  smoothMethod?: BleuSmoothMethod;
  /** The value for `floor` (default 0.1) and `add-k` (default 1). */
  smoothValue?: number;
  /** Highest n-gram order. Default 4. */
  maxNgramOrder?: number;
  /** Average only over orders the hypotheses have n-grams of (for sentence BLEU). Default false. */
  effectiveOrder?: boolean;
}

/** BLEU's sufficient statistics, summed over a corpus. */
export interface BleuStats {
  /** Clipped n-gram matches, orders 1..N. */
  counts: number[];
  /** Hypothesis n-grams, orders 1..N. */
  totals: number[];
  /** Total hypothesis length in tokens. */
  sysLen: number;
  /** Total closest-reference length in tokens. */
  refLen: number;
}

/** The result of {@link corpusBleu}; numbers are on sacreBLEU's 0–100 scale except `bp` and `ratio`. */
export interface BleuScore extends BleuStats {
  /** BLEU, 0–100. */
  score: number;
  /** n-gram precisions in percent (after smoothing), orders 1..N. */
  precisions: number[];
  /** Brevity penalty, exp(1 − refLen/sysLen) when the hypotheses are shorter, else 1. */
  bp: number;
  /** sysLen / refLen (0 when refLen is 0). */
  ratio: number;
}

const SMOOTH_DEFAULTS: Record<BleuSmoothMethod, number> = { none: 0, floor: 0.1, 'add-k': 1, exp: 0 };

/** sacreBLEU's `my_log`: log with log(0) floored to −9999999999, so a zero precision gives a zero score. */
function flooredLog(x: number): number {
  return x === 0 ? -9999999999 : Math.log(x);
}

/**
 * BLEU from already-summed statistics (sacreBLEU's `BLEU.compute_bleu`):
 * BLEU = BP · exp(Σ_n log p_n / N), BP = min(1, exp(1 − r/c)), with p_n the clipped n-gram precision.
 *
 * @example
 * ```ts
 * computeBleu({ counts: [9, 7, 5, 3], totals: [10, 8, 6, 4], sysLen: 11, refLen: 11 }).score; // 83.759...
 * ```
 */
export function computeBleu(stats: BleuStats, opts: BleuOptions = {}): BleuScore {
  const { smoothMethod = 'exp', effectiveOrder = false } = opts;
  const maxOrder = opts.maxNgramOrder ?? stats.counts.length;
  const smoothValue = opts.smoothValue ?? SMOOTH_DEFAULTS[smoothMethod];
  if (!(smoothMethod in SMOOTH_DEFAULTS)) throw new ArgumentError(`computeBleu: unknown smoothMethod '${String(smoothMethod)}'; expected none, floor, add-k or exp`);
  if (stats.counts.length < maxOrder || stats.totals.length < maxOrder) {
    throw new ArgumentError(`computeBleu: ${stats.counts.length} counts and ${stats.totals.length} totals for maxNgramOrder ${maxOrder}; expected ${maxOrder} of each`);
  }
  const counts = stats.counts.slice(0, maxOrder);
  const totals = stats.totals.slice(0, maxOrder);
  const { sysLen, refLen } = stats;
  const bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1;
  const ratio = refLen ? sysLen / refLen : 0;
  const precisions = new Array<number>(maxOrder).fill(0);
  const result = (score: number): BleuScore => ({ score, counts, totals, precisions, bp, sysLen, refLen, ratio });
  if (!counts.some((c) => c !== 0)) return result(0);

  let smoothMteval = 1;
  let effOrder = maxOrder;
  for (let n = 1; n <= maxOrder; n++) {
    if (smoothMethod === 'add-k' && n > 1) {
      counts[n - 1] += smoothValue;
      totals[n - 1] += smoothValue;
    }
    if (totals[n - 1] === 0) break;
    if (effectiveOrder) effOrder = n;
    if (counts[n - 1] === 0) {
      if (smoothMethod === 'exp') {
        smoothMteval *= 2;
        precisions[n - 1] = 100 / (smoothMteval * totals[n - 1]);
      } else if (smoothMethod === 'floor') {
        precisions[n - 1] = (100 * smoothValue) / totals[n - 1];
      }
    } else {
      precisions[n - 1] = (100 * counts[n - 1]) / totals[n - 1];
    }
  }
  let logSum = 0;
  for (let n = 0; n < effOrder; n++) logSum += flooredLog(precisions[n]);
  return result(bp * Math.exp(logSum / effOrder));
}

/** n-gram counts of orders 1..maxOrder, keyed by the tokens joined with spaces (tokens hold no spaces). */
function ngrams(tokens: readonly string[], maxOrder: number): Map<string, number> {
  const keys: string[] = [];
  for (let n = 1; n <= maxOrder; n++) {
    for (let i = 0; i + n <= tokens.length; i++) keys.push(tokens.slice(i, i + n).join(' '));
  }
  return countOf(keys);
}

/** The reference length closest to `hypLen`; on a tie, the shorter (sacreBLEU's `_get_closest_ref_len`). */
function closestRefLen(hypLen: number, refLens: readonly number[]): number {
  let bestDiff = -1;
  let best = -1;
  for (const len of refLens) {
    const diff = Math.abs(hypLen - len);
    if (bestDiff === -1 || diff < bestDiff) { bestDiff = diff; best = len; }
    else if (diff === bestDiff && len < best) best = len;
  }
  return best;
}

/**
 * Checks that every reference stream has one segment per hypothesis and returns, per segment, the
 * references that are present (sacreBLEU drops `''` and `null` so segments may have fewer references).
 */
export function referencesBySegment(fn: string, hypotheses: readonly string[], references: readonly (readonly (string | null)[])[]): string[][] {
  if (references.length === 0) throw new ArgumentError(`${fn}: 0 reference streams; expected at least 1`);
  references.forEach((stream, k) => {
    if (stream.length !== hypotheses.length) {
      throw new ArgumentError(`${fn}: reference stream ${k} has ${stream.length} segments but there are ${hypotheses.length} hypotheses; expected equal counts`);
    }
  });
  return hypotheses.map((_, i) => {
    const refs = references.map((stream) => stream[i]).filter((r): r is string => r !== null && r !== undefined && r !== '');
    if (refs.length === 0) throw new ArgumentError(`${fn}: segment ${i} has no reference (all streams give '' or null); expected at least 1`);
    return refs;
  });
}

/**
 * Corpus BLEU as sacreBLEU 2.x computes `BLEU().corpus_score(hypotheses, references)` by default:
 * 13a tokenisation, case-sensitive, n-grams up to 4 clipped by the maximum count over references,
 * statistics summed over the corpus, the closest reference length per segment (ties → shorter),
 * brevity penalty, and `exp` smoothing of zero precisions.
 *
 * `references` is a list of reference *streams*, as in sacreBLEU: `references[k][i]` is the k-th
 * reference of segment `i`. An empty string or `null` means "no k-th reference for this segment".
 *
 * @throws ArgumentError when a reference stream's length differs from the number of hypotheses.
 * @example
 * ```ts
 * const refs = [
 *   ['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'],
 *   ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.'],
 * ];
 * const sys = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.'];
 * corpusBleu(sys, refs).score; // 48.53... (sacreBLEU's README)
 * ```
 */
export function corpusBleu(hypotheses: readonly string[], references: readonly (readonly (string | null)[])[], opts: BleuOptions = {}): BleuScore {
  const { tokenize = '13a', lowercase = false, maxNgramOrder = 4 } = opts;
  if (tokenize !== '13a' && tokenize !== 'none') throw new ArgumentError(`corpusBleu: unknown tokenize '${String(tokenize)}'; expected '13a' or 'none'`);
  if (!(Number.isInteger(maxNgramOrder) && maxNgramOrder > 0)) throw new ArgumentError(`corpusBleu: maxNgramOrder must be a positive integer, got ${maxNgramOrder}`);
  const prep = (s: string): string[] => {
    const t = pyRstrip(lowercase ? s.toLowerCase() : s);
    return pySplit(tokenize === '13a' ? tokenize13a(t) : t);
  };
  const refsBySeg = referencesBySegment('corpusBleu', hypotheses, references);
  const counts = new Array<number>(maxNgramOrder).fill(0);
  const totals = new Array<number>(maxNgramOrder).fill(0);
  let sysLen = 0;
  let refLen = 0;
  hypotheses.forEach((hyp, i) => {
    const refNgrams = new Map<string, number>();
    const refLens: number[] = [];
    for (const ref of refsBySeg[i]) {
      const toks = prep(ref);
      refLens.push(toks.length);
      for (const [g, c] of ngrams(toks, maxNgramOrder)) refNgrams.set(g, Math.max(refNgrams.get(g) ?? 0, c));
    }
    const hypToks = prep(hyp);
    sysLen += hypToks.length;
    refLen += closestRefLen(hypToks.length, refLens);
    for (const [g, c] of ngrams(hypToks, maxNgramOrder)) {
      const n = g.split(' ').length - 1;
      totals[n] += c;
      counts[n] += Math.min(c, refNgrams.get(g) ?? 0);
    }
  });
  return computeBleu({ counts, totals, sysLen, refLen }, { ...opts, maxNgramOrder });
}
