// Answering with a decoder-only model: continuing a prompt (greedy or sampled), streamed as text pieces.

import { ArgumentError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { beamSearchCausal } from '../generate/beam.js';
import { generateSteps } from '../generate/causal.js';
import type { GPT } from '../models/gpt.js';
import type { TrainedModel } from './model.js';
import { TextStream } from './text-stream.js';

/** Options of continuing a prompt, with Hugging Face's names (see docs/options.md). */
export interface TextGenerationOptions {
  /** The most new tokens (default 100); never more than the model's context less one. */
  maxNewTokens?: number;
  /** Sample from the distribution (default false: the most likely token each step, as HF). */
  doSample?: boolean;
  /** Softmax temperature when sampling (default 1); 0 means greedy. */
  temperature?: number;
  /** When sampling, keep only the k most likely tokens. */
  topK?: number;
  /** When sampling, keep the smallest set of most likely tokens holding probability p. */
  topP?: number;
  /** CTRL's penalty θ on tokens already in the text (default 1: none). */
  repetitionPenalty?: number;
  /** Seed of the sampler (default 0): one seed, one text. */
  seed?: number;
  /**
   * Called, before the first new token, with each way the request was cut to fit the model's
   * context: maxNewTokens capped at the context less one, or the prompt's first tokens dropped.
   * The same messages are in the answer's `warnings`.
   */
  onWarning?: (message: string) => void;
}

/** What continuing a prompt produced: the new text and the ids (the prompt as fed, then the new tokens). */
export interface CausalAnswer {
  /** The continuation alone (not the prompt). */
  text: string;
  /** The prompt's ids as the model read them (cut to fit the context), then the generated ids. */
  ids: number[];
  /** How many of `ids` are the prompt's. */
  promptLength: number;
  /** What was cut to fit the context, as {@link fitContext} words it (empty when nothing was). */
  warnings: string[];
}

/** How a prompt and a number of new tokens fit a model's context (see {@link fitContext}). */
export interface ContextFit {
  /** The new tokens generated at most: maxNewTokens, capped at context − 1. */
  maxNewTokens: number;
  /** The prompt's ids the model reads: its last (context − maxNewTokens) ids. */
  promptIds: number[];
  /** One message per cut: the cap of maxNewTokens, the prompt tokens dropped. */
  warnings: string[];
}

/**
 * Fits a prompt and `asked` new tokens into a model's `context` positions: at most context − 1
 * new tokens (one position holds the prompt), and the prompt cut from the front to the rest. Each
 * cut is a warning naming the numbers, so nothing is cut silently.
 *
 * @example
 * fitContext([1, 2, 3], 100, 8).maxNewTokens; // 7
 * fitContext([1, 2, 3], 100, 8).warnings[0]; // 'maxNewTokens 100 is more than the model's context of 8 tokens allows: generating at most 7 new tokens (the context less one)'
 */
export function fitContext(prompt: readonly number[], asked: number, context: number): ContextFit {
  const maxNewTokens = Math.min(asked, context - 1);
  const room = context - maxNewTokens;
  const promptIds = prompt.slice(-room);
  const warnings: string[] = [];
  if (maxNewTokens < asked) warnings.push(`maxNewTokens ${asked} is more than the model's context of ${context} tokens allows: generating at most ${maxNewTokens} new tokens (the context less one)`);
  if (promptIds.length < prompt.length) {
    warnings.push(`the prompt's ${prompt.length} tokens and ${maxNewTokens} new tokens do not fit the model's context of ${context} tokens: the first ${prompt.length - promptIds.length} prompt tokens were cut, the model reads the last ${promptIds.length}`);
  }
  return { maxNewTokens, promptIds, warnings };
}

/** Default of maxNewTokens, for the API and `qkv generate` alike. */
export const DEFAULT_MAX_NEW_TOKENS = 100;

/**
 * The continuation of a prompt as text pieces, as a generator: each piece is yielded as soon as
 * its token is chosen and it completes whole characters. The prompt is cut (from the front) so
 * that it and the new tokens fit the context, and each cut is reported to `onWarning` and in the
 * answer's `warnings` (see {@link fitContext}); an empty prompt starts from </s>. Generation stops
 * after maxNewTokens or when </s> is chosen; pad, <s> and <unk> are never chosen. The return value
 * is the whole answer; its text is the pieces joined.
 *
 * @example
 * for (const piece of streamText(ck, 'Mr. Speaker,', { maxNewTokens: 50, doSample: true, temperature: 0.8 })) {
 *   process.stdout.write(piece);
 * }
 */
export function* streamText(t: TrainedModel<GPT>, prompt: string, o: TextGenerationOptions = {}): Generator<string, CausalAnswer, undefined> {
  if (typeof prompt !== 'string') throw new ArgumentError(`text-generation: prompt is ${typeof prompt}, expected a string`);
  const want = o.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
  if (!Number.isInteger(want) || want < 1) throw new ArgumentError(`text-generation: maxNewTokens is ${want}, expected an integer ≥ 1`);
  const temperature = o.temperature ?? 1;
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new ArgumentError(`text-generation: temperature is ${temperature}, expected a finite number ≥ 0`);
  const sample = (o.doSample ?? false) && temperature > 0;
  const tok = t.tokenizer;
  let encoded = tok.encode(prompt);
  if (encoded.length === 0) encoded = [tok.eosId];
  const { maxNewTokens: tokens, promptIds: ids, warnings } = fitContext(encoded, want, t.model.config.context);
  for (const w of warnings) o.onWarning?.(w);
  const pieces = new TextStream(tok);
  const out: number[] = [];
  const steps = generateSteps(t.model, [ids], {
    maxNewTokens: tokens, eos: tok.eosId, sample, rng: new Rng(o.seed ?? 0), temperature: sample ? temperature : 1,
    topK: o.topK, topP: o.topP, repetitionPenalty: o.repetitionPenalty, forbid: [tok.padId, tok.bosId, tok.unkId],
  });
  for (const { id } of steps) {
    out.push(id);
    const piece = pieces.push(id);
    if (piece) yield piece;
  }
  const rest = pieces.flush();
  if (rest) yield rest;
  return { text: pieces.text(), ids: [...ids, ...out], promptLength: ids.length, warnings };
}

/**
 * The continuation of a prompt (not the prompt itself): {@link streamText} run to the end.
 *
 * @example
 * generateText(ck, 'Mr. Speaker,', { maxNewTokens: 20 }); // greedy
 */
export function generateText(t: TrainedModel<GPT>, prompt: string, o: TextGenerationOptions = {}): CausalAnswer {
  const steps = streamText(t, prompt, o);
  for (let r = steps.next(); ; r = steps.next()) if (r.done) return r.value;
}

/** Options of {@link continueText}: generation's, the old name of maxNewTokens, and a text callback. */
export interface ContinueOptions extends TextGenerationOptions {
  /** @deprecated The old name of `maxNewTokens`. */
  tokens?: number;
  /** Called with the text of each new piece as soon as it is whole (UTF-8 split across tokens waits). */
  onText?: (text: string) => void;
}

/**
 * Continues a prompt, streaming the text to `onText` as it comes. Unlike the pipeline, it samples
 * unless told otherwise (doSample defaults to temperature > 0, temperature to 1), as it always has;
 * temperature 0 is greedy.
 *
 * @example
 * continueText(ck, 'Mr. Speaker,', { maxNewTokens: 50, temperature: 0.8, onText: (s) => process.stdout.write(s) });
 */
export function continueText(t: TrainedModel<GPT>, prompt: string, o: ContinueOptions = {}): string {
  const temperature = o.temperature ?? 1;
  const steps = streamText(t, prompt, {
    ...o, maxNewTokens: o.maxNewTokens ?? o.tokens, temperature, doSample: o.doSample ?? temperature > 0,
  });
  for (let r = steps.next(); ; r = steps.next()) {
    if (r.done) return r.value.text;
    o.onText?.(r.value);
  }
}

/** Options of {@link beamTexts}. */
export interface BeamTextOptions {
  /** Beams kept per prompt (default 4). */
  numBeams?: number;
  /** Hypotheses returned per prompt, best first (default 1; at most numBeams). */
  numReturn?: number;
  /** α of the length penalty (beam search's default 0.6). */
  lengthPenalty?: number;
  /** The most new tokens per hypothesis, </s> included (default 100); capped as {@link fitContext} says. */
  maxNewTokens?: number;
  /** Called after each step of the search (a caller's check: a throw stops the search). */
  onStep?: () => void;
}

/** A prompt's beam search answer: the prompt as read, what was cut to fit, and its best hypotheses as text. */
export interface BeamTextAnswer {
  promptTokens: number;
  warnings: string[];
  /** Best first: the text, its new tokens (</s> excluded), and whether it ended on </s> ('stop') or its length. */
  hypotheses: { text: string; ids: number[]; score: number; finish: 'stop' | 'length' }[];
}

/**
 * Continues prompts by beam search (beamSearchCausal, generate/beam.ts): each prompt cut to fit the context as
 * {@link fitContext} says, the prompts of one length searched together in one batch, hypotheses decoded to text.
 *
 * @example
 * const [a] = beamTexts(ck, ['Mr. Speaker,'], { numBeams: 4, numReturn: 2, maxNewTokens: 20 });
 * a.hypotheses[0].text; // the best continuation
 */
export function beamTexts(t: TrainedModel<GPT>, prompts: readonly string[], o: BeamTextOptions = {}): BeamTextAnswer[] {
  const K = o.numBeams ?? 4, n = o.numReturn ?? 1, want = o.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
  if (!Number.isInteger(K) || K < 1) throw new ArgumentError(`beamTexts: numBeams is ${K}, expected an integer ≥ 1`);
  if (!Number.isInteger(n) || n < 1 || n > K) throw new ArgumentError(`beamTexts: numReturn is ${n}, expected an integer from 1 to numBeams (${K})`);
  if (!Number.isInteger(want) || want < 1) throw new ArgumentError(`beamTexts: maxNewTokens is ${want}, expected an integer ≥ 1`);
  const tok = t.tokenizer;
  const fits = prompts.map((p) => {
    if (typeof p !== 'string') throw new ArgumentError(`beamTexts: a prompt is ${typeof p}, expected a string`);
    const encoded = tok.encode(p);
    return fitContext(encoded.length > 0 ? encoded : [tok.eosId], want, t.model.config.context);
  });
  const out: BeamTextAnswer[] = fits.map((f) => ({ promptTokens: f.promptIds.length, warnings: f.warnings, hypotheses: [] }));
  // Prompts of one length and one budget share a search (beamSearchCausal takes prompts of one length).
  const groups = new Map<string, number[]>();
  fits.forEach((f, i) => { const key = `${f.promptIds.length}:${f.maxNewTokens}`; groups.set(key, [...(groups.get(key) ?? []), i]); });
  for (const idx of groups.values()) {
    const maxLen = fits[idx[0]].maxNewTokens;
    const found = beamSearchCausal(t.model, idx.map((i) => fits[i].promptIds), {
      eos: tok.eosId, maxLen, beamSize: K, lengthPenalty: o.lengthPenalty, onStep: o.onStep ? () => o.onStep!() : undefined,
    });
    idx.forEach((i, b) => {
      out[i].hypotheses = found[b].slice(0, n).map((h) => ({
        text: tok.decode(h.tokens), ids: h.tokens, score: h.score, finish: h.tokens.length >= maxLen ? 'length' : 'stop',
      }));
    });
  }
  return out;
}
