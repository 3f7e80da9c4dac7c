// POST /v1/completions: OpenAI's completions API over a GPT model's continuous batch, whole or streamed as server-sent events.

import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody, sendError } from './errors.js';
import type { GenerationSink } from './host.js';
import type { BeamAnswer, CompletionJob, TaskJob, WireEvent } from './protocol.js';
import { completionSchema, parseBody } from './schemas.js';
import type { CompletionBody } from './schemas.js';
import { runTask } from './tasks.js';
import type { ServedModel, ServerContext } from './context.js';

/** OpenAI's default of max_tokens. */
const DEFAULT_MAX_TOKENS = 16;

type Finish = 'stop' | 'length';

/**
 * One completion from its admission to its last byte: started by the model's scheduler when a slot is free,
 * ended by its last token, a failure, its client going away, its time running out, or the server shutting down.
 * Whatever ends it frees its slot, once.
 */
class Completion implements GenerationSink {
  readonly id = `cmpl-${randomBytes(12).toString('hex')}`;
  readonly created = Math.floor(Date.now() / 1000);
  private workerId: number | null = null;
  private ended = false;
  private promptTokens = 0;
  private tokens = 0;
  private text = '';
  private lastAt = 0;
  private readonly startedAt = performance.now();
  private timer: NodeJS.Timeout | null = null;
  /** Settles when the answer is complete (non-streamed: the whole body is sent then). */
  private resolveDone!: () => void;
  readonly done = new Promise<void>((r) => { this.resolveDone = r; });

  constructor(private readonly ctx: ServerContext, private readonly m: ServedModel, private readonly job: CompletionJob,
    private readonly reply: FastifyReply, private readonly stream: boolean, private readonly includeUsage: boolean) {}

  /** The scheduler gave it a slot: the model thread starts it. */
  start(): void {
    if (this.ended) return;
    this.workerId = this.m.host.generate(this.job, this);
  }

  /** Arms the per-request timeout and watches for the client going away. */
  watch(timeoutMs: number): void {
    this.timer = setTimeout(() => this.abort('timeout', 504, `the completion took longer than the server's limit of ${timeoutMs / 1000} s`), timeoutMs);
    this.reply.raw.on('close', () => {
      if (!this.ended) this.abort('disconnect', 499, 'the client closed the connection');
    });
  }

  joined(promptTokens: number, _warnings: string[], first: WireEvent): void {
    this.promptTokens = promptTokens;
    this.ctx.metrics.promptTokens.inc({ model: this.m.name }, promptTokens);
    this.ctx.metrics.timeToFirstToken.observe({ model: this.m.name }, (performance.now() - this.startedAt) / 1000);
    this.event(first);
  }

  event(e: WireEvent): void {
    if (this.ended) return;
    const now = performance.now();
    const added = e.tokens - this.tokens;
    if (added > 0) {
      this.ctx.metrics.tokens.inc({ model: this.m.name }, added);
      if (this.lastAt > 0) this.ctx.metrics.interTokenLatency.observe({ model: this.m.name }, (now - this.lastAt) / 1000);
      this.lastAt = now;
    }
    this.tokens = e.tokens;
    this.text += e.text;
    if (this.stream && e.text) this.write(this.chunk(e.text, null));
    if (e.finish) this.finish(e.finish);
  }

  failed(message: string, badRequest: boolean): void {
    if (this.ended) return;
    this.end(badRequest ? 400 : 500);
    if (this.stream) this.closeStream({ error: (errorBody(badRequest ? 400 : 500, message) as { error: unknown }).error });
    else sendError(this.reply, badRequest ? 400 : 500, message);
  }

  /** Ends it early: its slot is freed and the model thread told; the client (if still there) gets an error. */
  abort(reason: 'timeout' | 'disconnect' | 'shutdown', status: number, message: string): void {
    if (this.ended) return;
    if (this.workerId !== null) this.m.host.cancel(this.workerId);
    this.ctx.metrics.cancelled.inc({ reason });
    this.end(status);
    if (reason === 'disconnect') return;
    if (this.stream) this.closeStream({ error: (errorBody(status, message) as { error: unknown }).error });
    else sendError(this.reply, status, message, null, reason === 'shutdown' ? { retryAfter: this.ctx.retryAfter } : {});
  }

  private finish(reason: Finish): void {
    this.end(200);
    const usage = { prompt_tokens: this.promptTokens, completion_tokens: this.tokens, total_tokens: this.promptTokens + this.tokens };
    if (this.stream) {
      this.write(this.chunk('', reason));
      if (this.includeUsage) this.write({ id: this.id, object: 'text_completion', created: this.created, model: this.m.name, choices: [], usage });
      this.closeStream(null);
    } else {
      this.reply.code(200).send({
        id: this.id, object: 'text_completion', created: this.created, model: this.m.name,
        choices: [{ text: this.text, index: 0, logprobs: null, finish_reason: reason }], usage,
      });
    }
  }

  /** Marks it ended (once): the slot is freed, the timer cleared, the request counted. */
  private end(status: number): void {
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    this.m.scheduler.finish(this);
    this.ctx.metrics.requests.inc({ endpoint: 'completions', status: String(status) });
    this.ctx.metrics.latency.observe({ endpoint: 'completions' }, (performance.now() - this.startedAt) / 1000);
    this.resolveDone();
  }

  private chunk(text: string, finish: Finish | null): object {
    return { id: this.id, object: 'text_completion', created: this.created, model: this.m.name, choices: [{ text, index: 0, logprobs: null, finish_reason: finish }] };
  }

  private write(data: object): void {
    const res = this.reply.raw;
    if (!res.writableEnded && !res.destroyed) res.write(`data: ${JSON.stringify(data)}\n\n`);
  }

  private closeStream(error: object | null): void {
    const res = this.reply.raw;
    if (res.writableEnded || res.destroyed) return;
    if (error) res.write(`data: ${JSON.stringify(error)}\n\n`);
    res.end('data: [DONE]\n\n');
  }
}

/**
 * A completion by beam search (vLLM's use_beam_search): the n best of best_of beams as n choices, answered whole.
 * It runs in the model's thread as a one-shot task (beside the continuous batch), admitted and timed as one.
 */
async function beamCompletion(ctx: ServerContext, m: ServedModel, b: CompletionBody, reply: FastifyReply,
  fail: (status: number, message: string, param: string | null, opts?: { retryAfter?: number }) => FastifyReply): Promise<FastifyReply> {
  const started = performance.now();
  const ticket = { start: () => {} };
  if (m.tasks.submit(ticket) === 'full') {
    ctx.metrics.rejected.inc({ reason: 'queue_full' });
    return fail(429, `model '${m.name}' is busy: ${m.tasks.running} requests in flight (the most); try again shortly`, null, { retryAfter: ctx.retryAfter });
  }
  const n = b.n ?? 1;
  const job: TaskJob = {
    task: 'beam', input: typeof b.prompt === 'string' ? b.prompt : b.prompt[0], numBeams: b.best_of ?? n, n,
    lengthPenalty: b.length_penalty ?? undefined, maxTokens: b.max_tokens ?? Math.min(DEFAULT_MAX_TOKENS, ctx.maxTokens),
  };
  const r = await runTask(ctx, m, job, ticket);
  ctx.metrics.latency.observe({ endpoint: 'completions' }, (performance.now() - started) / 1000);
  if (!r.ok) return fail(r.status, r.message, null);
  const a = r.result as BeamAnswer;
  const completion = a.choices.reduce((s, c) => s + c.tokens, 0);
  ctx.metrics.promptTokens.inc({ model: m.name }, a.promptTokens);
  ctx.metrics.tokens.inc({ model: m.name }, completion);
  ctx.metrics.requests.inc({ endpoint: 'completions', status: '200' });
  return reply.code(200).send({
    id: `cmpl-${randomBytes(12).toString('hex')}`, object: 'text_completion', created: Math.floor(Date.now() / 1000), model: m.name,
    choices: a.choices.map((c, index) => ({ text: c.text, index, logprobs: null, finish_reason: c.finish })),
    usage: { prompt_tokens: a.promptTokens, completion_tokens: completion, total_tokens: a.promptTokens + completion },
  });
}

/** Every completion not yet ended, for the shutdown to finish or abort. */
export const liveCompletions = new WeakMap<ServerContext, Set<Completion>>();

/** The route's handler. */
export async function handleCompletion(ctx: ServerContext, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  const fail = (status: number, message: string, param: string | null, opts: { code?: string; retryAfter?: number } = {}) => {
    ctx.metrics.requests.inc({ endpoint: 'completions', status: String(status) });
    return sendError(reply, status, message, param, opts);
  };
  const parsed = parseBody(completionSchema(ctx.maxTokens), req.body);
  if ('error' in parsed) return fail(400, parsed.error.message, parsed.error.param);
  const b = parsed.value;
  const m = ctx.models.get(b.model);
  if (!m) return fail(404, `model '${b.model}' is not served here, expected one of ${[...ctx.models.keys()].map((n) => `'${n}'`).join(', ')} (GET /v1/models)`, 'model', { code: 'model_not_found' });
  if (!m.host.info.endpoints.includes('completions')) {
    return fail(400, `model '${b.model}' is a '${m.host.info.kind}' model, which /v1/completions does not take (it answers ${m.host.info.endpoints.map((e) => `/v1/${e}`).join(', ')})`, 'model');
  }
  if (!m.host.healthy) return fail(503, `model '${b.model}' is not running`, 'model', { retryAfter: ctx.retryAfter });
  if (b.use_beam_search) return beamCompletion(ctx, m, b, reply, fail);
  const job: CompletionJob = {
    prompt: typeof b.prompt === 'string' ? b.prompt : b.prompt[0],
    maxTokens: b.max_tokens ?? Math.min(DEFAULT_MAX_TOKENS, ctx.maxTokens),
    temperature: b.temperature ?? 1,
    topP: b.top_p ?? undefined,
    seed: b.seed ?? randomBytes(4).readUInt32LE(0),
    stop: b.stop === null || b.stop === undefined ? [] : typeof b.stop === 'string' ? [b.stop] : b.stop,
  };
  const stream = b.stream ?? false;
  const c = new Completion(ctx, m, job, reply, stream, b.stream_options?.include_usage ?? false);
  const admitted = m.scheduler.submit(c);
  if (admitted === 'full') {
    ctx.metrics.rejected.inc({ reason: 'queue_full' });
    return fail(429, `model '${b.model}' is busy: ${m.scheduler.running} completions running and ${m.scheduler.waiting} waiting (the most); try again shortly`, null, { retryAfter: ctx.retryAfter });
  }
  let live = liveCompletions.get(ctx);
  if (!live) liveCompletions.set(ctx, (live = new Set()));
  live.add(c);
  void c.done.then(() => live.delete(c));
  if (stream) {
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no', ...(ctx.draining ? { connection: 'close' } : {}) });
    reply.raw.flushHeaders();
  }
  c.watch(ctx.timeoutMs);
  await c.done;
  // A stream was hijacked (written to the socket here); a whole answer was sent through the reply.
  return stream ? undefined : reply;
}
