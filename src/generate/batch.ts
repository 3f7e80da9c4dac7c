// Continuous batching: sequences join and leave between decoding steps, and every step decodes all live ones at once.

import { ArgumentError } from '../core/errors.js';
import { noGrad } from '../tensor/index.js';
import type { Tensor } from '../tensor/index.js';
import type { GenerateOptions } from './causal.js';
import { processorsFrom } from './causal.js';
import type { BatchedCausalLM, DecodingCache, SlotCache } from './model.js';
import type { LogitsProcessor } from './processors.js';
import { applyProcessors } from './processors.js';
import { idsTensor, lastRows } from './rows.js';
import type { Sampler } from './samplers.js';
import { greedy, multinomial } from './samplers.js';
import type { StoppingCriterion } from './stopping.js';

/** How one sequence is decoded: generate()'s options, less the batch-wide ones. */
export type SequenceOptions = Omit<GenerateOptions, 'onToken' | 'useCache'>;

/** Why a sequence ended: it chose eos, reached maxNewTokens, met a stopping criterion, or was told to leave. */
export type FinishReason = 'eos' | 'length' | 'stop';

/** What one sequence got from a step: its new token (null when it chose eos, which is never returned), and whether it is done. */
export interface BatchToken {
  seq: number;
  id: number | null;
  /** Set on the sequence's last event; its row is free from then on. */
  finish: FinishReason | null;
}

/** Options of a {@link BatchDecoder}. */
export interface BatchDecoderOptions {
  /** Sequences decoded at once (rows of the cache). */
  slots: number;
  /** Positions per row (default: the model's, its context): a prompt and its new tokens less one must fit. */
  maxLen?: number;
  /**
   * true (default): each step decodes every live sequence in one call (model.decodeRows) where the model has one;
   * false: one call per sequence, the same tokens (for comparisons: batching off).
   */
  batched?: boolean;
}

interface Live {
  seq: number;
  /** The prompt and every token chosen so far (what processors read). */
  tokens: number[];
  out: number[];
  maxNewTokens: number;
  eos: number | undefined;
  processors: LogitsProcessor[];
  sampler: Sampler;
  stops: readonly StoppingCriterion[];
}

/**
 * Continuous batching of a decoder-only model over a slot cache (vLLM's and llama.cpp's scheme): `join` prefills
 * a prompt into a free row and chooses its first token; each `step` feeds every live sequence its last token in
 * one batched call (rows at their own positions) and chooses each one's next; sequences leave when done or when
 * told, between steps. Each sequence is decoded exactly as generate() decodes it alone (its own processors,
 * sampler and stopping rules): greedy gives the same tokens batched or not.
 *
 * @example
 * const dec = new BatchDecoder(gpt, { slots: 16 });
 * const a = dec.join(promptA, { maxNewTokens: 20, eos: 2 });  // { seq, id, finish } of its first token
 * const b = dec.join(promptB, { maxNewTokens: 20, eos: 2 });
 * while (dec.active > 0) for (const t of dec.step()) show(t.seq, t.id);
 */
export class BatchDecoder<C extends DecodingCache = DecodingCache, S extends SlotCache<C> = SlotCache<C>> {
  readonly slots: number;
  private readonly cache: S;
  private readonly batched: boolean;
  /** Row r holds rows[r]; live sequences fill rows 0..active-1. */
  private readonly rows: Live[] = [];
  private nextSeq = 1;

  constructor(private readonly model: BatchedCausalLM<C, S>, opts: BatchDecoderOptions) {
    if (!Number.isInteger(opts.slots) || opts.slots < 1) throw new ArgumentError(`BatchDecoder: slots must be a positive integer, got ${opts.slots}`);
    this.slots = opts.slots;
    this.batched = opts.batched ?? true;
    model.eval();
    this.cache = model.createSlotCache(opts.slots, opts.maxLen);
  }

  /** Sequences being decoded. */
  get active(): number {
    return this.rows.length;
  }

  /** Positions per row: a sequence's prompt and its new tokens less one must fit. */
  get maxLen(): number {
    return this.cache.maxLen;
  }

  /** Whether sequence `seq` is still being decoded. */
  has(seq: number): boolean {
    return this.rows.some((l) => l.seq === seq);
  }

  /**
   * Starts a sequence in a free row: one forward pass over the prompt, then its first token is chosen. Returns
   * that first event (finish set when it is already the last). Throws when every row is taken, or when the
   * prompt and maxNewTokens − 1 positions do not fit a row.
   */
  join(prompt: readonly number[], opts: SequenceOptions): BatchToken {
    const { maxNewTokens } = opts;
    if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) throw new ArgumentError(`BatchDecoder: maxNewTokens must be a positive integer, got ${maxNewTokens}`);
    if (prompt.length === 0) throw new ArgumentError('BatchDecoder: the prompt is empty, expected at least one token');
    if (prompt.length + maxNewTokens - 1 > this.cache.maxLen) {
      throw new ArgumentError(`BatchDecoder: a prompt of ${prompt.length} tokens and ${maxNewTokens} new ones need ${prompt.length + maxNewTokens - 1} positions, a row holds ${this.cache.maxLen}`);
    }
    if (this.rows.length >= this.slots) throw new ArgumentError(`BatchDecoder: all ${this.slots} rows are taken; wait for a sequence to leave`);
    if (opts.sample && !opts.rng && !opts.sampler) throw new ArgumentError('BatchDecoder: sample: true needs an rng');
    const live: Live = {
      seq: this.nextSeq++, tokens: [...prompt], out: [], maxNewTokens, eos: opts.eos, processors: processorsFrom(opts),
      sampler: opts.sampler ?? (opts.sample ? multinomial(opts.rng!) : greedy), stops: opts.stop ?? [],
    };
    const r = this.rows.length;
    this.cache.clear(r);
    const backend = this.model.parameters()[0]?.backend;
    const [logits] = noGrad(() => lastRows(this.model.forward(idsTensor([prompt], backend), { cache: this.cache.row(r) }).logits));
    this.rows.push(live);
    const event = this.choose(live, logits);
    if (event.finish) this.free([r]);
    return event;
  }

  /** One decoding step of every live sequence: one event each, in row order. Sequences that finish leave. */
  step(): BatchToken[] {
    const n = this.rows.length;
    if (n === 0) return [];
    const logits = noGrad(() => this.logits(n));
    const events = this.rows.map((live, r) => this.choose(live, logits[r]));
    this.free(events.flatMap((e, r) => (e.finish ? [r] : [])));
    return events;
  }

  /** Ends sequence `seq` now (a client that went away); false when it was not live. Its row is free at once. */
  leave(seq: number): boolean {
    const r = this.rows.findIndex((l) => l.seq === seq);
    if (r < 0) return false;
    this.free([r]);
    return true;
  }

  /** Next-token scores of rows 0..n-1 from their last tokens: one batched call, else one call per row. */
  private logits(n: number): Float64Array[] {
    const backend = this.model.parameters()[0]?.backend;
    const last = this.rows.map((l) => [l.tokens[l.tokens.length - 1]]);
    const all: Tensor | null = this.batched && this.model.decodeRows ? this.model.decodeRows(idsTensor(last, backend), this.cache) : null;
    if (all) return lastRows(all);
    return last.flatMap((ids, r) => lastRows(this.model.forward(idsTensor([ids], backend), { cache: this.cache.row(r) }).logits));
  }

  /** Chooses a live sequence's next token from its scores, as generate() does. */
  private choose(live: Live, logits: Float64Array): BatchToken {
    const id = live.sampler(applyProcessors(live.processors, logits, live.tokens));
    live.tokens.push(id);
    if (id === live.eos) return { seq: live.seq, id: null, finish: 'eos' };
    live.out.push(id);
    const finish: FinishReason | null = live.stops.some((s) => s(live.out)) ? 'stop' : live.out.length >= live.maxNewTokens ? 'length' : null;
    return { seq: live.seq, id, finish };
  }

  /** Frees rows (ascending indices): the last live rows move into the gaps so the live ones stay first. */
  private free(gone: readonly number[]): void {
    for (let i = gone.length - 1; i >= 0; i--) {
      const r = gone[i];
      const last = this.rows.length - 1;
      if (r !== last) {
        this.cache.move(last, r);
        this.rows[r] = this.rows[last];
      }
      this.rows.pop();
      this.cache.clear(last);
    }
  }
}
