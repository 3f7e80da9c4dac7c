// What a viewer shows of decoding: beam search step by step, and the next-token distribution at each position.

import { ArgumentError } from '../core/errors.js';
import { beamSearch } from '../generate/beam.js';
import type { BeamStep } from '../generate/beam.js';
import type { DecodingCache, Seq2SeqModel } from '../generate/model.js';
import { logSoftmaxRow } from '../generate/rows.js';
import type { GPT } from '../models/gpt.js';
import { noGrad, tensor } from '../tensor/index.js';
import type { Tensor } from '../tensor/index.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import type { EncoderDecoder, TrainedModel } from './model.js';
import { specialIds } from './model.js';
import { encodeSources, maxLenRule } from './seq2seq.js';
import type { Seq2SeqGenerationOptions, Seq2SeqRules } from './seq2seq.js';

/** A hypothesis of a beam trace: its tokens as text pieces, log P(Y|X) and the length-penalised score. */
export interface TracedHypothesis {
  tokens: string[];
  ids: number[];
  logProb: number;
  score: number;
}

/** One step of a beam trace: the live hypotheses kept, and those finished so far (best first). */
export interface BeamTraceStep {
  step: number;
  live: TracedHypothesis[];
  finished: TracedHypothesis[];
}

/** Beam search on one text, step by step; `best` is the answer (the first finished hypothesis). */
export interface BeamTrace {
  steps: BeamTraceStep[];
  best: TracedHypothesis | null;
  numBeams: number;
}

function traced(tok: Tokenizer, h: { tokens: number[]; logProb: number; score: number }): TracedHypothesis {
  return { tokens: h.tokens.map((id) => tok.decode([id])), ids: [...h.tokens], logProb: h.logProb, score: h.score };
}

/**
 * Beam search on one text under a task's rules, recording each step's kept and finished
 * hypotheses. Its best hypothesis is the pipeline's answer with the same options (one search).
 *
 * @example
 * const t = traceBeamSearch(ck, 'HELLO', G2P_RULES, { numBeams: 4 });
 * t.steps[0].live.map((h) => h.tokens.join(' ')); // ['HH', 'HH', ...] the 4 best first phonemes
 */
export function traceBeamSearch(t: TrainedModel<EncoderDecoder>, text: string, rules: Seq2SeqRules, o: Seq2SeqGenerationOptions = {}): BeamTrace {
  const numBeams = o.numBeams ?? 4;
  if (!Number.isInteger(numBeams) || numBeams < 1) throw new ArgumentError(`${rules.task}: numBeams is ${numBeams}, expected an integer ≥ 1`);
  const ids = specialIds(t.targetTokenizer);
  const [source] = encodeSources(t, [text], rules);
  const row = source.length > 0 ? source : [ids.eosId];
  const backend = t.model.parameters()[0]?.backend;
  const src = tensor(Int32Array.from(row), { shape: [1, row.length], dtype: 'int32', backend });
  const steps: BeamTraceStep[] = [];
  const tok = t.targetTokenizer;
  const onStep = (s: BeamStep) => steps.push({ step: s.step, live: s.live[0].map((h) => traced(tok, h)), finished: s.finished[0].map((h) => traced(tok, h)) });
  const [hyps] = beamSearch(t.model as unknown as Seq2SeqModel<DecodingCache>, src, { // each model gets back only its own cache
    bos: ids.bosId, eos: ids.eosId, maxLen: maxLenRule(t.model, rules, o)(row.length), beamSize: numBeams, lengthPenalty: o.lengthPenalty ?? 0.6, onStep,
  });
  return { steps, best: hyps[0] ? traced(tok, hyps[0]) : null, numBeams };
}

/** The most likely next tokens at one position: what the model would choose among, with their probabilities. */
export interface NextTokenDistribution {
  /** The token read at this position (the last one the model saw). */
  after: string;
  /** The token that was chosen next (or '</s>'). */
  chosen: string;
  /** The probability of `chosen`. */
  chosenProb: number;
  /** The `topK` most likely tokens, most likely first. */
  top: { token: string; id: number; prob: number }[];
}

/** The top k of softmax(row / temperature), and the probability of one id. */
function topOf(tok: Tokenizer, logits: Float64Array, temperature: number, k: number, chosen: number): Omit<NextTokenDistribution, 'after' | 'chosen'> {
  const lp = logSoftmaxRow(temperature > 0 && temperature !== 1 ? logits.map((v) => v / temperature) : logits);
  const order = Array.from(lp.keys()).sort((a, b) => lp[b] - lp[a]).slice(0, k);
  return { chosenProb: Math.exp(lp[chosen]), top: order.map((id) => ({ token: tok.decode([id]), id, prob: Math.exp(lp[id]) })) };
}

function rowsOf(logits: Tensor): Float64Array[] {
  const [, T, V] = logits.shape; // [1, T, V]
  const flat = logits.contiguous().toArray();
  return Array.from({ length: T }, (_, i) => Float64Array.from(flat.subarray(i * V, (i + 1) * V)));
}

/**
 * The next-token distribution at each step of an encoder-decoder's answer: one teacher-forced pass
 * of the source and <s> + answer, position t giving the distribution the token after
 * `answer[t - 1]` was chosen from (the last one chooses </s>, when `endedWithEos`).
 *
 * @example
 * seq2seqNextTokens(ck, src, answer, true)[0].top[0].token; // the most likely first phoneme
 */
export function seq2seqNextTokens(t: TrainedModel<EncoderDecoder>, source: readonly number[], answer: readonly number[], endedWithEos: boolean, opts: { topK?: number; temperature?: number } = {}): NextTokenDistribution[] {
  const tgt = t.targetTokenizer;
  const src = source.length > 0 ? source : [tgt.eosId];
  const fed = [tgt.bosId, ...(endedWithEos ? answer : answer.slice(0, -1))];
  const next = endedWithEos ? [...answer, tgt.eosId] : [...answer];
  const backend = t.model.parameters()[0]?.backend;
  const ids = (row: readonly number[]) => tensor(Int32Array.from(row), { shape: [1, row.length], dtype: 'int32', backend });
  t.model.eval();
  const rows = noGrad(() => rowsOf(t.model.forward(ids(src), ids(fed)).logits));
  return rows.map((r, i) => ({ after: tgt.decode([fed[i]]), chosen: tgt.decode([next[i]]), ...topOf(tgt, r, opts.temperature ?? 1, opts.topK ?? 8, next[i]) }));
}

/**
 * The next-token distribution at each generated position of a decoder-only model's text (`ids`:
 * the prompt's `promptLength` ids, then the new ones), at the sampling temperature.
 *
 * @example
 * causalNextTokens(ck, answer.ids, answer.promptLength, { temperature: 0.8 }).length; // new tokens
 */
export function causalNextTokens(t: TrainedModel<GPT>, ids: readonly number[], promptLength: number, opts: { topK?: number; temperature?: number } = {}): NextTokenDistribution[] {
  const backend = t.model.parameters()[0]?.backend;
  t.model.eval();
  const rows = noGrad(() => rowsOf(t.model.forward(tensor(Int32Array.from(ids), { shape: [1, ids.length], dtype: 'int32', backend })).logits));
  const out: NextTokenDistribution[] = [];
  for (let i = promptLength - 1; i < ids.length - 1; i++) {
    out.push({ after: t.tokenizer.decode([ids[i]]), chosen: t.tokenizer.decode([ids[i + 1]]), ...topOf(t.tokenizer, rows[i], opts.temperature ?? 1, opts.topK ?? 8, ids[i + 1]) });
  }
  return out;
}
