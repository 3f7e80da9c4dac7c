// The one-shot endpoints: /v1/g2p, /v1/translate, /v1/classify and /v1/attention, each answered whole (batched in the model's thread).

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { sendError } from './errors.js';
import { TaskFailed } from './host.js';
import type { Endpoint, TaskJob } from './protocol.js';
import { attentionSchema, classifySchema, parseBody, seq2seqSchema } from './schemas.js';
import type { AttentionBody, ClassifyBody, Seq2SeqBody } from './schemas.js';
import type { ServedModel, ServerContext } from './context.js';

/** The model a task request names, or the only one that answers the endpoint; else the error to send. */
function pickModel(ctx: ServerContext, endpoint: Endpoint, name: string | undefined): ServedModel | { status: number; message: string } {
  const fit = [...ctx.models.values()].filter((m) => m.host.info.endpoints.includes(endpoint));
  if (name === undefined) {
    if (fit.length === 1) return fit[0];
    return { status: 400, message: fit.length === 0 ? `no model served here answers /v1/${endpoint}` : `model is missing: several models answer /v1/${endpoint} (${fit.map((m) => `'${m.name}'`).join(', ')}), name one` };
  }
  const m = ctx.models.get(name);
  if (!m) return { status: 404, message: `model '${name}' is not served here, expected one of ${[...ctx.models.keys()].map((n) => `'${n}'`).join(', ')} (GET /v1/models)` };
  if (!fit.includes(m)) return { status: 400, message: `model '${name}' (a '${m.host.info.kind}' model, task ${m.host.info.task ?? 'none'}) does not answer /v1/${endpoint}; it answers ${m.host.info.endpoints.map((e) => `/v1/${e}`).join(', ')}` };
  return m;
}

/** Attention maps as JSON: shape, and the weights rounded to 6 decimals (a Float32Array is not JSON). */
function mapsJson(result: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(result)) {
    const snake = k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    out[snake] = Array.isArray(v) && v.length > 0 && typeof v[0] === 'object' && v[0] !== null && 'data' in v[0]
      ? v.map((m: { shape: number[]; data: Float32Array }) => ({ shape: m.shape, data: Array.from(m.data, (x) => Math.round(x * 1e6) / 1e6) }))
      : v;
  }
  return out;
}

interface TaskRoute<B> {
  endpoint: Endpoint;
  schema: (ctx: ServerContext) => z.ZodType<B>;
  job: (b: B) => TaskJob;
  /** The answer's body from the thread's result (one output per input; a string input gets one output, not a list). */
  answer: (b: B, result: unknown, model: string) => object;
}

const seq2seq = (endpoint: 'g2p' | 'translate'): TaskRoute<Seq2SeqBody> => ({
  endpoint,
  schema: (ctx) => seq2seqSchema(ctx.maxTokens),
  job: (b) => ({ task: endpoint, input: typeof b.input === 'string' ? [b.input] : b.input, numBeams: b.num_beams, lengthPenalty: b.length_penalty, maxNewTokens: b.max_new_tokens }),
  answer: (b, r, model) => ({ model, output: typeof b.input === 'string' ? (r as string[])[0] : r }),
});

/** The routes, by endpoint. */
export const TASK_ROUTES = {
  g2p: seq2seq('g2p'),
  translate: seq2seq('translate'),
  classify: {
    endpoint: 'classify',
    schema: () => classifySchema,
    job: (b) => ({ task: 'classify', input: typeof b.input === 'string' ? [b.input] : b.input, topK: b.top_k === undefined ? 1 : b.top_k }),
    answer: (b, r, model) => ({ model, output: typeof b.input === 'string' ? (r as unknown[])[0] : r }),
  } satisfies TaskRoute<ClassifyBody>,
  attention: {
    endpoint: 'attention',
    schema: () => attentionSchema,
    job: (b) => ({ task: 'attention', input: b.input, maxNewTokens: b.max_new_tokens ?? 0 }),
    answer: (_b, r, model) => ({ model, ...mapsJson(r as Record<string, unknown>) }),
  } satisfies TaskRoute<AttentionBody>,
} as const;

/** A one-shot request: validated, admitted (at most the queue's size in flight per model), answered, or timed out. */
export async function handleTask<B>(ctx: ServerContext, route: TaskRoute<B>, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const started = performance.now();
  const count = (status: number) => {
    ctx.metrics.requests.inc({ endpoint: route.endpoint, status: String(status) });
    ctx.metrics.latency.observe({ endpoint: route.endpoint }, (performance.now() - started) / 1000);
  };
  const fail = (status: number, message: string, param: string | null = null, retryAfter?: number) => {
    count(status);
    return sendError(reply, status, message, param, retryAfter === undefined ? {} : { retryAfter });
  };
  const parsed = parseBody(route.schema(ctx), req.body);
  if ('error' in parsed) return fail(400, parsed.error.message, parsed.error.param);
  const b = parsed.value;
  const picked = pickModel(ctx, route.endpoint, (b as { model?: string }).model);
  if ('status' in picked) return fail(picked.status, picked.message, 'model');
  const m = picked;
  if (!m.host.healthy) return fail(503, `model '${m.name}' is not running`, 'model', ctx.retryAfter);
  // The slot is held until the thread is free of the task: past a timeout the task is cancelled there, and the slot
  // comes back when the thread has dropped it or stopped it (at its next step).
  const ticket = { start: () => {} };
  if (m.tasks.submit(ticket) === 'full') {
    ctx.metrics.rejected.inc({ reason: 'queue_full' });
    return fail(429, `model '${m.name}' is busy: ${m.tasks.running} requests in flight (the most); try again shortly`, null, ctx.retryAfter);
  }
  const r = await runTask(ctx, m, route.job(b), ticket);
  if (r.ok) {
    count(200);
    return reply.code(200).send(route.answer(b, r.result, m.name));
  }
  return fail(r.status, r.message);
}

/**
 * Sends an admitted task (holding `ticket`, a slot of m.tasks) to the model's thread and waits for it, at most the
 * server's time limit: past it the task is cancelled in the thread (504). The slot is freed when the thread is free.
 */
export async function runTask(ctx: ServerContext, m: ServedModel, job: TaskJob, ticket: { start(): void }):
  Promise<{ ok: true; result: unknown } | { ok: false; status: number; message: string }> {
  const run = m.host.task(job);
  void run.done.then(() => m.tasks.finish(ticket), () => m.tasks.finish(ticket));
  let timer: NodeJS.Timeout | undefined;
  try {
    const result = await Promise.race([
      run.done,
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new TaskFailed('timeout', false)), ctx.timeoutMs); }),
    ]);
    return { ok: true, result };
  } catch (e) {
    if (e instanceof TaskFailed && e.message === 'timeout') {
      run.cancel();
      ctx.metrics.cancelled.inc({ reason: 'timeout' });
      return { ok: false, status: 504, message: `the request took longer than the server's limit of ${ctx.timeoutMs / 1000} s` };
    }
    const bad = e instanceof TaskFailed && e.badRequest;
    return { ok: false, status: bad ? 400 : 500, message: e instanceof Error ? e.message : String(e) };
  } finally {
    clearTimeout(timer);
  }
}
