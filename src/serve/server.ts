// qkv serve: an HTTP server (fastify) over models in worker threads, with continuous batching, limits, metrics and a graceful stop.

import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { ArgumentError } from '../core/errors.js';
import { loadNativeBackend } from '../node/backend-select.js';
import { handleCompletion, liveCompletions } from './completions.js';
import type { ServedModel, ServerContext } from './context.js';
import { errorBody, sendError } from './errors.js';
import { ModelHost } from './host.js';
import { serveMetrics } from './metrics.js';
import { Scheduler } from './scheduler.js';
import { TASK_ROUTES, handleTask } from './tasks.js';

/** A model to serve: the name requests use, and its checkpoint folder. */
export interface ModelSpec {
  name: string;
  path: string;
}

/** Options of {@link startServer}; each default is what `qkv serve` uses. */
export interface ServeOptions {
  models: readonly ModelSpec[];
  /** Address to listen on (default 127.0.0.1: this machine only). */
  host?: string;
  /** Port (default 8000; 0: any free one). */
  port?: number;
  /** Completions decoded at once per model (default 16). */
  slots?: number;
  /** Requests waiting for a slot per model, past which a request gets 429 (default 64). */
  maxQueue?: number;
  /** Share each decoding step among a model's continuations (default true); false: one call per continuation. */
  batching?: boolean;
  /** Kernel threads of the native backend, for all models together (default 1). */
  threads?: number;
  /** Largest request body in bytes (default 1 MiB): larger gets 413. */
  maxBodyBytes?: number;
  /** Cap on max_tokens and max_new_tokens (default 512). */
  maxTokens?: number;
  /** Time limit of a request, from its arrival to its last byte (default 120 s): then 504, or an error event. */
  timeoutSeconds?: number;
  /** Time a client has to send a whole request, headers and body (default 10 s): a slow one gets 408. */
  requestTimeoutSeconds?: number;
  /** On shutdown, how long requests in flight have to finish before they are cut (default 30 s). */
  graceSeconds?: number;
  /** Retry-After of a 429 or 503, in seconds (default 1). */
  retryAfterSeconds?: number;
  /** Where the server's few lines go (default: nowhere). */
  log?: (line: string) => void;
}

/** What a stop did: requests that finished within the grace period, and those cut after it. */
export interface ShutdownReport {
  finished: number;
  cut: number;
}

/** A running server. */
export interface QkvServer {
  /** http://host:port */
  url: string;
  port: number;
  app: FastifyInstance;
  models: ReadonlyMap<string, ServedModel>;
  /** Requests being answered now (all endpoints). */
  readonly inFlight: number;
  /**
   * Stops accepting (new connections are refused, new requests on open ones get 503), lets requests in flight
   * finish within the grace period, cuts what is left, then ends the model threads. Resolves when all is closed.
   */
  shutdown(graceSeconds?: number): Promise<ShutdownReport>;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/**
 * Starts qkv's server: loads every model in a thread of its own, then listens. Endpoints: POST /v1/completions
 * (OpenAI's, GPT models, streamed as server-sent events with `stream: true`), /v1/g2p, /v1/translate,
 * /v1/classify, /v1/attention; GET /v1/models, /health, /metrics (Prometheus).
 *
 * @example
 * const server = await startServer({ models: [{ name: 'lm', path: 'runs/lm-small' }], port: 0 });
 * const r = await fetch(`${server.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' },
 *   body: JSON.stringify({ model: 'lm', prompt: 'Mr. Speaker,', max_tokens: 20, temperature: 0 }) });
 * await server.shutdown();
 */
export async function startServer(opts: ServeOptions): Promise<QkvServer> {
  const o = {
    host: '127.0.0.1', port: 8000, slots: 16, maxQueue: 64, batching: true, threads: 1, maxBodyBytes: 1024 * 1024, maxTokens: 512,
    timeoutSeconds: 120, requestTimeoutSeconds: 10, graceSeconds: 30, retryAfterSeconds: 1, log: (_: string) => {}, ...opts,
  };
  checkOptions(o);
  // The addon is loaded by this thread first (a worker that loaded it first crashes the process when it ends).
  loadNativeBackend({ threads: o.threads });
  const hosts = await Promise.allSettled(o.models.map((m) => ModelHost.start({ name: m.name, path: m.path, slots: o.slots, batched: o.batching, threads: o.threads })));
  const failed = hosts.find((h) => h.status === 'rejected');
  if (failed) {
    await Promise.all(hosts.map((h) => (h.status === 'fulfilled' ? h.value.close() : undefined)));
    throw (failed as PromiseRejectedResult).reason;
  }
  const models = new Map<string, ServedModel>();
  for (const h of hosts) {
    const host = (h as PromiseFulfilledResult<ModelHost>).value;
    models.set(host.info.name, {
      name: host.info.name, host,
      scheduler: new Scheduler(o.slots, o.maxQueue, (job) => job.start()),
      tasks: new Scheduler(o.maxQueue, 0, (job) => job.start()),
    });
  }
  const metrics = serveMetrics(() => [...models.values()].map((m) => ({ model: m.name, queue: m.scheduler.waiting, active: m.scheduler.running })));
  for (const m of models.values()) {
    m.host.onStep = (batch, seconds) => {
      metrics.batchSize.observe({ model: m.name, kind: 'decode' }, batch);
      metrics.stepSeconds.observe({ model: m.name }, seconds);
    };
    m.host.onOneShot = (batch) => metrics.batchSize.observe({ model: m.name, kind: 'oneshot' }, batch);
  }
  const ctx: ServerContext = { models, metrics, maxTokens: o.maxTokens, timeoutMs: o.timeoutSeconds * 1000, retryAfter: o.retryAfterSeconds, draining: false };

  const requestTimeout = Math.round(o.requestTimeoutSeconds * 1000);
  const app = Fastify({
    bodyLimit: o.maxBodyBytes,
    requestTimeout,
    // Node checks the request timeout on this period (30 s by default, too slow for a slow-loris client).
    http: { headersTimeout: requestTimeout, connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.round(requestTimeout / 4))) } as object,
    keepAliveTimeout: 5000,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    logger: false,
  });

  let inFlight = 0;
  let onIdle: (() => void) | null = null;
  app.addHook('onRequest', async (req, reply) => {
    inFlight++;
    reply.raw.once('close', () => {
      inFlight--;
      if (ctx.draining) app.server.closeIdleConnections();
      if (inFlight === 0) onIdle?.();
    });
    if (ctx.draining) {
      reply.header('connection', 'close');
      metrics.rejected.inc({ reason: 'shutting_down' });
      return sendError(reply, 503, 'the server is shutting down', null, { retryAfter: o.retryAfterSeconds });
    }
  });
  app.setErrorHandler((err: { statusCode?: number; message: string; code?: string }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) o.log(`qkv serve: ${req.method} ${req.url}: ${err.message}`);
    metrics.requests.inc({ endpoint: 'error', status: String(status) });
    return reply.code(status).send(errorBody(status, status === 500 ? 'the server failed to answer' : err.message, null, err.code ?? null));
  });
  app.setNotFoundHandler((req, reply) => {
    metrics.requests.inc({ endpoint: 'none', status: '404' });
    return sendError(reply, 404, `no endpoint ${req.method} ${req.url.slice(0, 100)}; see GET /v1/models, POST /v1/completions, /v1/g2p, /v1/translate, /v1/classify, /v1/attention`);
  });

  app.get('/health', async () => ({
    status: ctx.draining ? 'draining' : [...models.values()].every((m) => m.host.healthy) ? 'ok' : 'degraded',
    models: [...models.values()].map((m) => ({ name: m.name, healthy: m.host.healthy, active: m.scheduler.running, queued: m.scheduler.waiting, pending: m.host.pending })),
  }));
  app.get('/metrics', async (_req, reply) => reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics()));
  app.get('/v1/models', async () => ({
    object: 'list',
    data: [...models.values()].map((m) => ({
      id: m.name, object: 'model', created: 0, owned_by: 'qkv', kind: m.host.info.kind, task: m.host.info.task, context: m.host.info.context,
      endpoints: m.host.info.endpoints.map((e) => `/v1/${e}`), ...(m.host.info.labels ? { labels: m.host.info.labels } : {}),
    })),
  }));
  app.post('/v1/completions', (req, reply) => handleCompletion(ctx, req, reply));
  for (const route of Object.values(TASK_ROUTES)) {
    app.post(`/v1/${route.endpoint}`, (req, reply) => handleTask(ctx, route as Parameters<typeof handleTask>[1], req, reply));
  }

  try {
    await app.listen({ host: o.host, port: o.port });
  } catch (e) {
    await Promise.all([...models.values()].map((m) => m.host.close()));
    throw e;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  const url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;

  let stopping: Promise<ShutdownReport> | null = null;
  const shutdown = (graceSeconds = o.graceSeconds): Promise<ShutdownReport> => (stopping ??= (async () => {
    ctx.draining = true;
    const before = inFlight;
    const closed = app.close();
    app.server.closeIdleConnections();
    const idle = () => new Promise<void>((resolve) => {
      if (inFlight === 0) return resolve();
      onIdle = resolve;
    });
    let timer: NodeJS.Timeout | undefined;
    const graceOver = await Promise.race([idle().then(() => false), new Promise<boolean>((r) => { timer = setTimeout(() => r(true), graceSeconds * 1000); })]);
    clearTimeout(timer);
    const cut = graceOver ? inFlight : 0;
    if (graceOver) {
      for (const c of liveCompletions.get(ctx) ?? []) c.abort('shutdown', 503, `the server stopped before this completion finished (grace period ${graceSeconds} s)`);
      app.server.closeAllConnections();
    }
    await closed;
    await Promise.all([...models.values()].map((m) => m.host.close()));
    o.log(`qkv serve: stopped (${before - cut} requests finished, ${cut} cut)`);
    return { finished: before - cut, cut };
  })());

  return {
    url, port, app, models, shutdown,
    get inFlight() { return inFlight; },
  };
}

function checkOptions(o: Required<Omit<ServeOptions, 'models'>> & { models: readonly ModelSpec[] }): void {
  if (o.models.length === 0) throw new ArgumentError('qkv serve: no model given, expected at least one checkpoint folder');
  const seen = new Set<string>();
  for (const m of o.models) {
    if (!NAME.test(m.name)) throw new ArgumentError(`qkv serve: model name ${JSON.stringify(m.name)} (for ${m.path}), expected letters, digits and . _ : - (at most 128, starting with a letter or digit); name it with name=path`);
    if (seen.has(m.name)) throw new ArgumentError(`qkv serve: two models are named '${m.name}', expected one name each (name them with name=path)`);
    seen.add(m.name);
  }
  const ints: [string, number, number][] = [['slots', o.slots, 1], ['maxQueue', o.maxQueue, 0], ['threads', o.threads, 0], ['maxBodyBytes', o.maxBodyBytes, 64], ['maxTokens', o.maxTokens, 1], ['port', o.port, 0]];
  for (const [name, v, min] of ints) if (!Number.isSafeInteger(v) || v < min) throw new ArgumentError(`qkv serve: ${name} is ${v}, expected an integer ≥ ${min}`);
  if (o.port > 65535) throw new ArgumentError(`qkv serve: port is ${o.port}, expected at most 65535`);
  const secs: [string, number][] = [['timeoutSeconds', o.timeoutSeconds], ['requestTimeoutSeconds', o.requestTimeoutSeconds], ['graceSeconds', o.graceSeconds], ['retryAfterSeconds', o.retryAfterSeconds]];
  for (const [name, v] of secs) if (!(Number.isFinite(v) && v >= 0)) throw new ArgumentError(`qkv serve: ${name} is ${v}, expected a number of seconds ≥ 0`);
}
