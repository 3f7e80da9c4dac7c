// Request bodies of every endpoint, as zod schemas, and a bad body's 400: the field, its value and what was expected.

import { z } from 'zod';

/** Caps on what one request may ask for, besides the server's own (max_tokens, body size), so none costs unbounded work. */
export const SERVE_LIMITS = Object.freeze({
  /** Characters of one prompt or input text. */
  maxTextChars: 16_384,
  /** Texts in one g2p, translate or classify request. */
  maxInputs: 64,
  /** Stop strings, and characters of each (OpenAI: 4). */
  maxStops: 4,
  maxStopChars: 64,
  /** Beam size of a g2p or translate request. */
  maxBeams: 16,
  /** New tokens of an attention request (its maps grow with the square of the tokens). */
  maxAttentionTokens: 64,
  /** Characters of a model name. */
  maxModelChars: 256,
});

const L = SERVE_LIMITS;
const text = z.string().max(L.maxTextChars);
const texts = z.union([text, z.array(text).min(1).max(L.maxInputs)], {
  error: `expected a string or an array of 1 to ${L.maxInputs} strings, each of at most ${L.maxTextChars} characters`,
});
const model = z.string().min(1).max(L.maxModelChars);
const seed = z.number().int().min(0).max(2 ** 32 - 1);

/** POST /v1/completions (OpenAI's completions API): `maxTokens` is the server's cap on max_tokens. */
export function completionSchema(maxTokens: number) {
  return z.object({
    model,
    prompt: z.union([text, z.array(text).length(1)], { error: `expected a string of at most ${L.maxTextChars} characters (or an array holding one)` }),
    max_tokens: z.number().int().min(1).max(maxTokens).nullable().optional(),
    temperature: z.number().min(0).max(2).nullable().optional(),
    top_p: z.number().gt(0).max(1).nullable().optional(),
    stop: z.union([z.string().max(L.maxStopChars), z.array(z.string().max(L.maxStopChars)).max(L.maxStops)], {
      error: `expected a string or an array of up to ${L.maxStops} strings, each of at most ${L.maxStopChars} characters`,
    }).nullable().optional(),
    stream: z.boolean().nullable().optional(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).nullable().optional(),
    seed: seed.nullable().optional(),
    // Beam search, in vLLM's form: use_beam_search, best_of beams (default n), the n best of them as choices.
    n: z.number().int().min(1).max(L.maxBeams).nullable().optional(),
    best_of: z.number().int().min(1).max(L.maxBeams).nullable().optional(),
    use_beam_search: z.boolean().nullable().optional(),
    length_penalty: z.number().min(-10).max(10).nullable().optional(),
    // OpenAI's other fields, accepted at the values that mean "off" (qkv does not implement them).
    echo: z.literal(false, { error: 'expected false (the prompt is not echoed)' }).nullable().optional(),
    logprobs: z.null({ error: 'expected null (log-probabilities are not returned)' }).optional(),
    suffix: z.null({ error: 'expected null (no insertion)' }).optional(),
    presence_penalty: z.literal(0, { error: 'expected 0 (not implemented)' }).nullable().optional(),
    frequency_penalty: z.literal(0, { error: 'expected 0 (not implemented)' }).nullable().optional(),
    logit_bias: z.record(z.string(), z.number()).refine((o) => Object.keys(o).length === 0, 'expected an empty object (not implemented)').nullable().optional(),
    user: z.string().max(256).optional(),
  }).superRefine((b, ctx) => {
    const bad = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (!b.use_beam_search) {
      if ((b.n ?? 1) !== 1) bad('n', 'expected 1 without use_beam_search (several completions come from beam search: use_beam_search true, best_of ≥ n)');
      if ((b.best_of ?? 1) !== 1) bad('best_of', 'expected 1 without use_beam_search (best_of is the beam width of use_beam_search)');
      if (b.length_penalty != null) bad('length_penalty', 'expected null without use_beam_search (it scores beams)');
      return;
    }
    if ((b.best_of ?? b.n ?? 1) < (b.n ?? 1)) bad('best_of', `expected at least n (${b.n}): the n best of best_of beams are returned`);
    if (b.stream) bad('stream', 'expected false with use_beam_search (a beam search answers whole)');
    if ((b.temperature ?? 0) !== 0) bad('temperature', 'expected 0 with use_beam_search (beam search does not sample)');
    if ((b.top_p ?? 1) !== 1) bad('top_p', 'expected 1 with use_beam_search (beam search does not sample)');
    if (b.stop != null && b.stop.length > 0) bad('stop', 'expected null with use_beam_search (stop strings are not applied to beams)');
  });
}
export type CompletionBody = z.infer<ReturnType<typeof completionSchema>>;

/** POST /v1/g2p and /v1/translate. */
export function seq2seqSchema(maxTokens: number) {
  return z.object({
    model: model.optional(),
    input: texts,
    num_beams: z.number().int().min(1).max(L.maxBeams).optional(),
    length_penalty: z.number().min(-10).max(10).optional(),
    max_new_tokens: z.number().int().min(1).max(maxTokens).optional(),
  });
}
export type Seq2SeqBody = z.infer<ReturnType<typeof seq2seqSchema>>;

/** POST /v1/classify. */
export const classifySchema = z.object({
  model: model.optional(),
  input: texts,
  top_k: z.number().int().min(1).max(4096).nullable().optional(),
});
export type ClassifyBody = z.infer<typeof classifySchema>;

/** POST /v1/attention. */
export const attentionSchema = z.object({
  model: model.optional(),
  input: text.max(2048),
  max_new_tokens: z.number().int().min(0).max(L.maxAttentionTokens).optional(),
});
export type AttentionBody = z.infer<typeof attentionSchema>;

/** A bad request: the 400's message, and the field it is about (OpenAI's `param`; null for the body itself). */
export interface BadField {
  message: string;
  param: string | null;
}

/** The deepest nesting of arrays and objects a body may have: no request needs more than 3. */
const MAX_DEPTH = 16;

/** Whether a parsed JSON value nests deeper than `max` (an explicit stack: no recursion). */
function depthOver(v: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[v, 0]];
  let seen = 0;
  while (stack.length > 0) {
    const [x, d] = stack.pop()!;
    if (x === null || typeof x !== 'object') continue;
    if (d >= max) return true;
    // A body within the size limit holds at most a few hundred thousand values: the walk stays cheap.
    for (const child of Array.isArray(x) ? x : Object.values(x)) {
      if (++seen > 1_000_000) return true;
      stack.push([child, d + 1]);
    }
  }
  return false;
}

/** A value as a message shows it: JSON, cut short. */
function shown(v: unknown): string {
  let s: string;
  try {
    s = v === undefined ? 'missing' : JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * Parses a body with a schema: the parsed value, or the first problem as a message naming the field, the value
 * it has and what was expected.
 *
 * @example
 * parseBody(classifySchema, { input: 5 }); // { error: { param: 'input', message: 'input is 5: expected a string or ...' } }
 */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): { value: T } | { error: BadField } {
  // Deep nesting would overflow the stack of the checks below (and means nothing here): refused first, without recursion.
  if (depthOver(body, MAX_DEPTH)) return { error: { param: null, message: `the body nests deeper than ${MAX_DEPTH} levels, expected a flat JSON object` } };
  const r = schema.safeParse(body);
  if (r.success) return { value: r.data };
  // Range problems come before "must be an integer" ones (1e300 breaks both): the first issue of the first field.
  const issue = r.error.issues[0];
  const path = issue.path.map(String);
  if (path.length === 0) return { error: { param: null, message: `the body is ${shown(body)}: expected a JSON object (${issue.message})` } };
  let v: unknown = body;
  for (const k of issue.path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k as PropertyKey] : undefined;
  const field = path.join('.');
  const message = issue.message.replace(/^Invalid input: /, '');
  return { error: { param: field, message: `${field} is ${shown(v)}: ${message}` } };
}
