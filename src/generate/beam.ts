// Beam search for encoder-decoder models (Wu et al. 2016's length penalty), batched over sources.

import { ArgumentError } from '../core/errors.js';
import { Tensor, noGrad } from '../tensor/index.js';
import type { DecodingCache, Seq2SeqModel } from './model.js';
import { gatherRows, idsTensor, lastRows, logSoftmaxRow } from './rows.js';

export interface BeamSearchOptions {
  /** Token that starts every target. */
  bos: number;
  /** Token that ends a hypothesis. */
  eos: number;
  /** Most tokens per hypothesis (eos included); unfinished hypotheses are scored at this length. */
  maxLen: number;
  /** Hypotheses kept per source (the paper: 4). */
  beamSize?: number;
  /** α of the length penalty (the paper: 0.6); 0 ranks by log-probability alone. */
  lengthPenalty?: number;
  /**
   * true: a source is done as soon as it has `beamSize` finished hypotheses. false (default): it
   * is done only when no live hypothesis can still beat the worst of them (its log-probability
   * can only fall, so its best possible score is logP / lp(maxLen) for α ≥ 0).
   */
  earlyStopping?: boolean;
  /** [B, S], 1 at source padding. */
  srcPaddingMask?: Tensor | null;
  /** Keep the decoder's keys and values between steps, reordered as beams move (default true). */
  useCache?: boolean;
}

/** A finished hypothesis: tokens without bos and eos, log P(Y|X), and log P / lp(|Y|). */
export interface BeamHypothesis {
  tokens: number[];
  logProb: number;
  score: number;
}

/**
 * The length penalty of Wu et al. (2016): lp(Y) = ((5 + |Y|) / 6)^α.
 *
 * @example
 * lengthPenalty(1, 0.6); // 1
 */
export function lengthPenalty(length: number, alpha: number): number {
  return Math.pow((5 + length) / 6, alpha);
}

interface Live { parent: number; token: number; logProb: number }

/**
 * Beam search: keeps the `beamSize` best prefixes per source, extends each by every token, and
 * ranks finished hypotheses by score(Y) = log P(Y|X) / lp(Y). Returns, per source, up to
 * `beamSize` hypotheses, best first.
 *
 * @example
 * const [best] = beamSearch(model, src, { bos: 1, eos: 2, maxLen: 50, beamSize: 4, lengthPenalty: 0.6 })[0];
 * best.tokens; // the highest-scoring translation of source 0
 */
export function beamSearch<C extends DecodingCache>(model: Seq2SeqModel<C>, src: Tensor, opts: BeamSearchOptions): BeamHypothesis[][] {
  const { bos, eos, maxLen, beamSize: K = 4, lengthPenalty: alpha = 0.6, earlyStopping = false, useCache = true } = opts;
  if (!Number.isInteger(maxLen) || maxLen < 1) throw new ArgumentError(`beamSearch: maxLen must be a positive integer, got ${maxLen}`);
  if (!Number.isInteger(K) || K < 1) throw new ArgumentError(`beamSearch: beamSize must be a positive integer, got ${K}`);
  const lp = (n: number) => lengthPenalty(n, alpha);
  model.eval();
  return noGrad(() => {
    const B = src.shape[0];
    const encoded = model.encode(src, { srcPaddingMask: opts.srcPaddingMask }).output; // [B, S, D]
    const expand = Array.from({ length: B * K }, (_, r) => Math.floor(r / K)); // row b·K + k reads source b
    const memory = gatherRows(encoded, expand); // [B·K, S, D]
    const srcPaddingMask = opts.srcPaddingMask ? gatherRows(opts.srcPaddingMask, expand) : null; // [B·K, S]
    const cache = useCache ? model.createCache(maxLen) : null;
    let seqs: number[][] = Array.from({ length: B * K }, () => [bos]);
    // Only the first beam of each source is live at the start, so no hypothesis appears twice.
    let logProbs = Array.from({ length: B * K }, (_, r) => (r % K === 0 ? 0 : -Infinity));
    const finished: BeamHypothesis[][] = Array.from({ length: B }, () => []);
    const done = new Array<boolean>(B).fill(false);

    for (let step = 0; step < maxLen && done.includes(false); step++) {
      const tgt = idsTensor(cache ? seqs.map((s) => [s[s.length - 1]]) : seqs, src.backend); // [B·K, 1] or [B·K, t]
      const h = model.decode(tgt, memory, { srcPaddingMask, cache }).output;
      const rows = lastRows(model.generator.forward(h.narrow(1, h.shape[1] - 1, 1))).map(logSoftmaxRow); // B·K × [V]
      const length = step + 1; // tokens in each extended hypothesis, eos included
      const next: Live[] = [];
      for (let b = 0; b < B; b++) {
        const live = done[b] ? [] : extend(rows, logProbs, b, K);
        const kept: Live[] = [];
        for (let rank = 0; rank < live.length && kept.length < K; rank++) {
          const c = live[rank];
          if (c.token === eos) {
            // An eos below the top K would not have been kept as a beam: not a finished hypothesis either.
            if (rank < K) finished[b].push({ tokens: seqs[c.parent].slice(1), logProb: c.logProb, score: c.logProb / lp(length) });
          } else {
            kept.push(c);
          }
        }
        if (!done[b] && length === maxLen) {
          for (const c of kept) finished[b].push({ tokens: [...seqs[c.parent].slice(1), c.token], logProb: c.logProb, score: c.logProb / lp(length) });
          kept.length = 0;
        }
        finished[b].sort((x, y) => y.score - x.score);
        finished[b].length = Math.min(finished[b].length, K);
        if (!done[b]) done[b] = kept.length === 0 || isDone(finished[b], kept, K, earlyStopping, alpha >= 0 ? lp(maxLen) : lp(length + 1));
        while (kept.length < K) kept.push({ parent: b * K, token: eos, logProb: -Infinity }); // idle rows
        next.push(...kept);
      }
      if (!done.includes(false)) break;
      const parents = next.map((c) => c.parent);
      cache?.reorder(parents);
      seqs = next.map((c) => [...seqs[c.parent], c.token]);
      logProbs = next.map((c) => c.logProb);
    }
    return finished;
  });
}

/** The best candidates of source b, best first: at most 2K of the K·V one-token extensions (enough for K non-eos). */
function extend(rows: Float64Array[], logProbs: readonly number[], b: number, K: number): Live[] {
  const out: Live[] = [];
  for (let k = 0; k < K; k++) {
    const r = b * K + k;
    if (logProbs[r] === -Infinity) continue;
    const row = rows[r];
    for (let v = 0; v < row.length; v++) {
      const total = logProbs[r] + row[v];
      if (total > -Infinity) out.push({ parent: r, token: v, logProb: total });
    }
  }
  out.sort((x, y) => y.logProb - x.logProb);
  return out.slice(0, 2 * K);
}

/** Whether a source can stop: K finished, and (unless early stopping) no live prefix can beat the worst of them. */
function isDone(finished: readonly BeamHypothesis[], live: readonly Live[], K: number, early: boolean, bestLp: number): boolean {
  if (finished.length < K) return false;
  if (early) return true;
  const bestLive = Math.max(...live.map((c) => c.logProb));
  return finished[K - 1].score >= bestLive / bestLp;
}
