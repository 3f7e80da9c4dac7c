// Continuous batching of text prompts: many continuations of one decoder-only model at once, each as text pieces (with stop strings).

import { ArgumentError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { BatchDecoder } from '../generate/batch.js';
import type { BatchToken } from '../generate/batch.js';
import type { GPT } from '../models/gpt.js';
import type { SlotKVCache } from '../nn/kv-cache.js';
import type { KVCache } from '../nn/kv-cache.js';
import type { TextGenerationOptions } from './causal.js';
import { DEFAULT_MAX_NEW_TOKENS, fitContext } from './causal.js';
import type { TrainedModel } from './model.js';
import { TextStream } from './text-stream.js';

/** Options of one continuation in a {@link TextBatch}: text generation's, and stop strings. */
export interface BatchTextOptions extends Omit<TextGenerationOptions, 'onWarning'> {
  /** Texts that end the continuation where they first appear (they are not part of it), as OpenAI's `stop`. */
  stop?: readonly string[];
}

/** Why a continuation ended: a stop (</s> or a stop string), or its length (maxNewTokens). */
export type TextFinish = 'stop' | 'length';

/** What one continuation got from a step: new text ('' while held back), and, on its last event, why it ended. */
export interface TextEvent {
  seq: number;
  text: string;
  /** Tokens generated so far (</s> excluded). */
  tokens: number;
  finish: TextFinish | null;
}

/** A continuation that joined: its id, its prompt as the model reads it, what was cut to fit, and its first event. */
export interface JoinedText {
  seq: number;
  promptTokens: number;
  warnings: string[];
  first: TextEvent;
}

interface Pending {
  stream: TextStream;
  stops: readonly string[];
  /** Stable text decoded so far, and how much of it was released. */
  text: string;
  shown: number;
  tokens: number;
}

/**
 * Many continuations of one GPT checkpoint decoded together (continuous batching, generate/batch.ts): each one is
 * what streamText gives for its prompt and options (the prompt cut to fit, </s> ends it, pad, <s> and <unk> never
 * chosen), and is cut at the first of its stop strings; text that could be the start of a stop string is held back
 * until it cannot. Continuations join and leave between steps.
 *
 * @example
 * const batch = new TextBatch(ck, { slots: 16 });
 * const a = batch.join('Mr. Speaker,', { maxNewTokens: 20, stop: ['\n'] });
 * while (batch.active > 0) for (const e of batch.step()) show(e.seq, e.text);
 */
export class TextBatch {
  private readonly decoder: BatchDecoder<KVCache, SlotKVCache>;
  private readonly live = new Map<number, Pending>();

  constructor(private readonly t: TrainedModel<GPT>, opts: { slots: number; batched?: boolean; maxLen?: number }) {
    this.decoder = new BatchDecoder<KVCache, SlotKVCache>(t.model, opts);
  }

  /** Continuations being decoded. */
  get active(): number {
    return this.decoder.active;
  }

  /** Rows: the most continuations at once. */
  get slots(): number {
    return this.decoder.slots;
  }

  /** Starts a continuation (its prompt's forward pass and first token). Throws an ArgumentError for bad options or when every row is taken. */
  join(prompt: string, o: BatchTextOptions = {}): JoinedText {
    if (typeof prompt !== 'string') throw new ArgumentError(`TextBatch: prompt is ${typeof prompt}, expected a string`);
    const want = o.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
    if (!Number.isInteger(want) || want < 1) throw new ArgumentError(`TextBatch: maxNewTokens is ${want}, expected an integer ≥ 1`);
    const temperature = o.temperature ?? 1;
    if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new ArgumentError(`TextBatch: temperature is ${temperature}, expected a finite number ≥ 0`);
    const stops = (o.stop ?? []).filter((s) => s.length > 0);
    const sample = (o.doSample ?? false) && temperature > 0;
    const tok = this.t.tokenizer;
    let encoded = tok.encode(prompt);
    if (encoded.length === 0) encoded = [tok.eosId];
    const fit = fitContext(encoded, want, Math.min(this.t.model.config.context, this.decoder.maxLen));
    const first = this.decoder.join(fit.promptIds, {
      maxNewTokens: fit.maxNewTokens, eos: tok.eosId, sample, rng: new Rng(o.seed ?? 0), temperature: sample ? temperature : 1,
      topK: o.topK, topP: o.topP, repetitionPenalty: o.repetitionPenalty, forbid: [tok.padId, tok.bosId, tok.unkId],
    });
    this.live.set(first.seq, { stream: new TextStream(tok), stops, text: '', shown: 0, tokens: 0 });
    return { seq: first.seq, promptTokens: fit.promptIds.length, warnings: fit.warnings, first: this.event(first) };
  }

  /** One decoding step of every continuation: one event each. */
  step(): TextEvent[] {
    return this.decoder.step().map((e) => this.event(e));
  }

  /** Ends continuation `seq` now (its client went away); false when it was not live. */
  leave(seq: number): boolean {
    this.live.delete(seq);
    return this.decoder.leave(seq);
  }

  /** A token event as text: new stable text, cut at a stop string, held back where a stop string may be starting. */
  private event(e: BatchToken): TextEvent {
    const p = this.live.get(e.seq)!;
    if (e.id !== null) {
      p.tokens++;
      p.text += p.stream.push(e.id);
    }
    let finish: TextFinish | null = e.finish === null ? null : e.finish === 'length' ? 'length' : 'stop';
    if (finish) p.text += p.stream.flush();
    let end = p.text.length;
    const cut = firstStop(p.text, p.stops, Math.max(0, p.shown - longest(p.stops)));
    if (cut >= 0) {
      end = cut;
      if (!finish) {
        this.decoder.leave(e.seq);
        finish = 'stop';
      } else {
        finish = 'stop';
      }
    } else if (!finish) {
      end = p.text.length - heldBack(p.text, p.stops);
    }
    end = Math.max(end, p.shown);
    const text = p.text.slice(p.shown, end);
    p.shown = end;
    if (finish) this.live.delete(e.seq);
    return { seq: e.seq, text, tokens: p.tokens, finish };
  }
}

const longest = (stops: readonly string[]): number => stops.reduce((m, s) => Math.max(m, s.length), 0);

/** Where the first stop string starts in text (searching from `from`), or -1. */
function firstStop(text: string, stops: readonly string[], from: number): number {
  let best = -1;
  for (const s of stops) {
    const i = text.indexOf(s, from);
    if (i >= 0 && (best < 0 || i < best)) best = i;
  }
  return best;
}

/** How many characters at the end of text could be the start of a stop string (held back until the next token says). */
function heldBack(text: string, stops: readonly string[]): number {
  let n = 0;
  for (const s of stops) {
    for (let k = Math.min(s.length - 1, text.length); k > n; k--) {
      if (text.endsWith(s.slice(0, k))) { n = k; break; }
    }
  }
  return n;
}
