// generate(): text continuation for decoder-only models, built from processors, a sampler and stopping rules.

import { ArgumentError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { noGrad } from '../tensor/index.js';
import type { CausalLM, DecodingCache } from './model.js';
import { LogitsProcessor, applyProcessors, forbidTokens, repetitionPenalty, temperature as temperatureProc, topK as topKProc, topP as topPProc } from './processors.js';
import { idsTensor, lastRows } from './rows.js';
import { Sampler, greedy, multinomial } from './samplers.js';
import type { StoppingCriterion } from './stopping.js';
import type { DecodedToken } from './seq2seq.js';

export interface GenerateOptions {
  /** Most tokens to generate per row. */
  maxNewTokens: number;
  /** End-of-sequence token: a row stops after it (it is neither returned nor streamed). */
  eos?: number;
  /** Sample from the distribution (needs `rng`) instead of taking the most likely token. */
  sample?: boolean;
  /** Seeded generator of the samples. */
  rng?: Rng;
  /** Softmax temperature when sampling (default 1). */
  temperature?: number;
  /** Keep only the k most likely tokens. */
  topK?: number;
  /** Keep the smallest set of most likely tokens with total probability ≥ p. */
  topP?: number;
  /** CTRL's penalty θ on tokens already in the row. */
  repetitionPenalty?: number;
  /** Tokens never to generate. */
  forbid?: readonly number[];
  /** More processors, run after the ones above. */
  processors?: readonly LogitsProcessor[];
  /** Replaces the sampler chosen by `sample` (greedy or multinomial). */
  sampler?: Sampler;
  /** More reasons for a row to stop (max length and eos are built in). */
  stop?: readonly StoppingCriterion[];
  /** Called with each new token as soon as it is chosen: the streaming hook. */
  onToken?: (id: number, row: number) => void;
  /** Keep keys and values of past positions (default true); false recomputes the whole prefix each step. */
  useCache?: boolean;
}

/**
 * The processors the options ask for, in the order HF applies them: penalty, forbid, temperature,
 * top-k, top-p (the last three only when sampling), then `opts.processors`.
 *
 * @example
 * processorsFrom({ maxNewTokens: 5, sample: true, temperature: 0.8, topK: 40 }).length; // 2
 */
export function processorsFrom(opts: GenerateOptions): LogitsProcessor[] {
  const out: LogitsProcessor[] = [];
  if (opts.repetitionPenalty !== undefined && opts.repetitionPenalty !== 1) out.push(repetitionPenalty(opts.repetitionPenalty));
  if (opts.forbid?.length) out.push(forbidTokens(opts.forbid));
  if (opts.sample) {
    if (opts.temperature !== undefined && opts.temperature !== 1) out.push(temperatureProc(opts.temperature));
    if (opts.topK !== undefined) out.push(topKProc(opts.topK));
    if (opts.topP !== undefined && opts.topP < 1) out.push(topPProc(opts.topP));
  }
  return [...out, ...(opts.processors ?? [])];
}

/**
 * Continues each prompt row (all of one length) with up to `maxNewTokens` tokens:
 * x_{t+1} = choose(process(logits(x_1..x_t))). Returns the new tokens of each row.
 *
 * @example
 * const out = generate(gpt, [[5, 17, 3]], { maxNewTokens: 20, sample: true, rng: new Rng(0),
 *   temperature: 0.8, topK: 40, onToken: (id) => process.stdout.write(tok.decode([id])) });
 */
export function generate<C extends DecodingCache>(model: CausalLM<C>, prompts: readonly (readonly number[])[], opts: GenerateOptions): number[][] {
  const steps = generateSteps(model, prompts, opts);
  for (let r = steps.next(); ; r = steps.next()) {
    if (r.done) return r.value;
    opts.onToken?.(r.value.id, r.value.row);
  }
}

/**
 * {@link generate} one token at a time, as a generator: each `next()` runs the loop until some row
 * has a new token (eos excluded), so a caller can stream, pause or stop (`return()`) between
 * tokens. Its return value is what generate returns; `opts.onToken` is not called (the yields are
 * the stream).
 *
 * @example
 * for (const { id } of generateSteps(gpt, [[5, 17, 3]], { maxNewTokens: 20 })) show(tok.decode([id]));
 */
export function* generateSteps<C extends DecodingCache>(model: CausalLM<C>, prompts: readonly (readonly number[])[], opts: GenerateOptions): Generator<DecodedToken, number[][], undefined> {
  const { maxNewTokens, eos, useCache = true } = opts;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) throw new ArgumentError(`generate: maxNewTokens must be a positive integer, got ${maxNewTokens}`);
  const B = prompts.length;
  const P = prompts[0]?.length ?? 0;
  if (B === 0 || P === 0) throw new ArgumentError(`generate: need at least one non-empty prompt, got ${B} rows of length ${P}`);
  if (prompts.some((p) => p.length !== P)) throw new ArgumentError(`generate: prompts have lengths [${prompts.map((p) => p.length).join(', ')}]; batched prompts need one length`);
  if (opts.sample && !opts.rng && !opts.sampler) throw new ArgumentError('generate: sample: true needs an rng');
  const sampler = opts.sampler ?? (opts.sample ? multinomial(opts.rng!) : greedy);
  const processors = processorsFrom(opts);
  const stops = opts.stop ?? [];
  model.eval();

  const seqs = prompts.map((p) => [...p]);
  const out: number[][] = prompts.map(() => []);
  const done = new Array<boolean>(B).fill(false);
  // The last token chosen is never fed back, so the cache needs P + maxNewTokens - 1 positions.
  const cache = useCache ? model.createCache(P + maxNewTokens - 1) : null;
  const backend = model.parameters()[0]?.backend;
  let input = idsTensor(seqs, backend); // [B, P]
  for (let step = 0; step < maxNewTokens; step++) {
    // Each step runs under noGrad by itself: a generator's body is left at every yield.
    const rows = noGrad(() => lastRows(model.forward(input, { cache }).logits)); // B × [V]
    for (let b = 0; b < B; b++) {
      if (done[b]) { seqs[b].push(seqs[b][seqs[b].length - 1]); continue; }
      const id = sampler(applyProcessors(processors, rows[b], seqs[b]));
      seqs[b].push(id);
      if (id === eos) { done[b] = true; continue; }
      out[b].push(id);
      yield { id, row: b };
      if (stops.some((s) => s(out[b]))) done[b] = true;
    }
    if (!done.includes(false) || step === maxNewTokens - 1) break;
    input = idsTensor(cache ? seqs.map((s) => [s[s.length - 1]]) : seqs, backend); // [B, 1] or [B, t]
  }
  return out;
}
