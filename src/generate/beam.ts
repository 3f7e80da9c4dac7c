// Beam search (Wu et al. 2016's length penalty), batched over sources: encoder-decoder and decoder-only.

import { ArgumentError } from '../core/errors.js';
import { Tensor, noGrad } from '../tensor/index.js';
import type { CausalLM, DecodingCache, Seq2SeqModel } from './model.js';
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
  /** Called after each step with the hypotheses kept (a viewer's trace; it does not change the search). */
  onStep?: (step: BeamStep) => void;
}

/** One step of beam search, per source: the live prefixes kept and the hypotheses finished so far. */
export interface BeamStep {
  /** 1 for the first token chosen. */
  step: number;
  /** Per source, the live hypotheses kept for the next step (tokens after the shared prefix), best first; empty once done. */
  live: { tokens: number[]; logProb: number; score: number }[][];
  /** Per source, the finished hypotheses so far, best first (as beamSearch returns them). */
  finished: BeamHypothesis[][];
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

/** What the search loop needs from a model: next-token log-probabilities of B·K rows, and a cache to reorder. */
interface Stepper {
  /** B·K × [V] log-probabilities of the next token after each row of `seqs`. */
  logProbs(seqs: readonly number[][]): Float64Array[];
  reorder(parents: readonly number[]): void;
}

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
  const K = checkBeamOptions('beamSearch', opts);
  model.eval();
  return noGrad(() => {
    const B = src.shape[0];
    const encoded = model.encode(src, { srcPaddingMask: opts.srcPaddingMask }).output; // [B, S, D]
    const expand = Array.from({ length: B * K }, (_, r) => Math.floor(r / K)); // row b·K + k reads source b
    const memory = gatherRows(encoded, expand); // [B·K, S, D]
    const srcPaddingMask = opts.srcPaddingMask ? gatherRows(opts.srcPaddingMask, expand) : null; // [B·K, S]
    const cache = (opts.useCache ?? true) ? model.createCache(opts.maxLen) : null;
    const seqs = Array.from({ length: B * K }, () => [opts.bos]);
    return searchBeams(seqs, B, K, opts, {
      logProbs(rows) {
        const tgt = idsTensor(cache ? rows.map((s) => [s[s.length - 1]]) : rows, src.backend); // [B·K, 1] or [B·K, t]
        const h = model.decode(tgt, memory, { srcPaddingMask, cache }).output;
        return lastRows(model.generator.forward(h.narrow(1, h.shape[1] - 1, 1))).map(logSoftmaxRow); // B·K × [V]
      },
      reorder: (parents) => cache?.reorder(parents),
    });
  });
}

/** Options of {@link beamSearchCausal}: the beam options less those of a source. */
export type CausalBeamOptions = Omit<BeamSearchOptions, 'bos' | 'srcPaddingMask'>;

/**
 * Beam search for decoder-only models: continues each prompt (all of one length) with the
 * `beamSize` best hypotheses by log P(Y|prompt) / lp(Y). Tokens returned are the new ones.
 *
 * @example
 * const [best] = beamSearchCausal(gpt, [[5, 17]], { eos: 0, maxLen: 20, beamSize: 4 })[0];
 */
export function beamSearchCausal<C extends DecodingCache>(model: CausalLM<C>, prompts: readonly (readonly number[])[], opts: CausalBeamOptions): BeamHypothesis[][] {
  const K = checkBeamOptions('beamSearchCausal', opts);
  const P = prompts[0]?.length ?? 0;
  if (P === 0 || prompts.some((p) => p.length !== P)) throw new ArgumentError(`beamSearchCausal: prompts have lengths [${prompts.map((p) => p.length).join(', ')}]; need one length >= 1`);
  model.eval();
  return noGrad(() => {
    const B = prompts.length;
    const backend = model.parameters()[0]?.backend;
    const cache = (opts.useCache ?? true) ? model.createCache(P + opts.maxLen - 1) : null;
    const seqs = Array.from({ length: B * K }, (_, r) => [...prompts[Math.floor(r / K)]]);
    let first = true;
    return searchBeams(seqs, B, K, opts, {
      logProbs(rows) {
        const feedAll = !cache || first; // the prompt goes in whole; then one token per step with a cache
        first = false;
        const ids = idsTensor(feedAll ? rows : rows.map((s) => [s[s.length - 1]]), backend);
        return lastRows(model.forward(ids, { cache }).logits).map(logSoftmaxRow);
      },
      reorder: (parents) => cache?.reorder(parents),
    });
  });
}

function checkBeamOptions(op: string, opts: { maxLen: number; beamSize?: number }): number {
  const K = opts.beamSize ?? 4;
  if (!Number.isInteger(opts.maxLen) || opts.maxLen < 1) throw new ArgumentError(`${op}: maxLen must be a positive integer, got ${opts.maxLen}`);
  if (!Number.isInteger(K) || K < 1) throw new ArgumentError(`${op}: beamSize must be a positive integer, got ${K}`);
  return K;
}

/** The search itself, on B·K rows that start with a shared prefix per source (bos, or a prompt). */
function searchBeams(start: number[][], B: number, K: number, opts: CausalBeamOptions, model: Stepper): BeamHypothesis[][] {
  const { eos, maxLen, lengthPenalty: alpha = 0.6, earlyStopping = false } = opts;
  const lp = (n: number) => lengthPenalty(n, alpha);
  const prefix = start[0].length;
  let seqs = start;
  // Only the first beam of each source is live at the start, so no hypothesis appears twice.
  let logProbs = Array.from({ length: B * K }, (_, r) => (r % K === 0 ? 0 : -Infinity));
  const finished: BeamHypothesis[][] = Array.from({ length: B }, () => []);
  const done = new Array<boolean>(B).fill(false);

  for (let step = 0; step < maxLen && done.includes(false); step++) {
    const rows = model.logProbs(seqs); // B·K × [V]
    const length = step + 1; // tokens in each extended hypothesis, eos included
    const next: Live[] = [];
    const trace: BeamStep['live'] = [];
    for (let b = 0; b < B; b++) {
      const live = done[b] ? [] : extend(rows, logProbs, b, K);
      const kept: Live[] = [];
      for (let rank = 0; rank < live.length && kept.length < K; rank++) {
        const c = live[rank];
        if (c.token === eos) {
          // An eos below the top K would not have been kept as a beam: not a finished hypothesis either.
          if (rank < K) finished[b].push({ tokens: seqs[c.parent].slice(prefix), logProb: c.logProb, score: c.logProb / lp(length) });
        } else {
          kept.push(c);
        }
      }
      if (!done[b] && length === maxLen) {
        for (const c of kept) finished[b].push({ tokens: [...seqs[c.parent].slice(prefix), c.token], logProb: c.logProb, score: c.logProb / lp(length) });
        kept.length = 0;
      }
      finished[b].sort((x, y) => y.score - x.score);
      finished[b].length = Math.min(finished[b].length, K);
      if (!done[b]) done[b] = kept.length === 0 || isDone(finished[b], kept, K, earlyStopping, alpha >= 0 ? lp(maxLen) : lp(length + 1));
      if (opts.onStep) trace.push(kept.map((c) => ({ tokens: [...seqs[c.parent].slice(prefix), c.token], logProb: c.logProb, score: c.logProb / lp(length) })));
      while (kept.length < K) kept.push({ parent: b * K, token: eos, logProb: -Infinity }); // idle rows
      next.push(...kept);
    }
    opts.onStep?.({ step: length, live: trace, finished: finished.map((f) => f.map((h) => ({ ...h, tokens: [...h.tokens] }))) });
    if (!done.includes(false)) break;
    model.reorder(next.map((c) => c.parent));
    seqs = next.map((c) => [...seqs[c.parent], c.token]);
    logProbs = next.map((c) => c.logProb);
  }
  return finished;
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
