// The server's Prometheus metrics (prom-client), in a registry of its own so that several servers can share a process.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Seconds buckets from 1 ms to 60 s. */
const LATENCY = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** What the server counts; `/metrics` prints the registry in Prometheus' text format. */
export interface ServeMetrics {
  registry: Registry;
  requests: Counter<'endpoint' | 'status'>;
  latency: Histogram<'endpoint'>;
  timeToFirstToken: Histogram<'model'>;
  interTokenLatency: Histogram<'model'>;
  tokens: Counter<'model'>;
  promptTokens: Counter<'model'>;
  rejected: Counter<'reason'>;
  cancelled: Counter<'reason'>;
  batchSize: Histogram<'model' | 'kind'>;
  stepSeconds: Histogram<'model'>;
}

/**
 * The metrics of one server. `queue` and `active` are read at each scrape (queue depth and running continuations
 * per model), as is the process's memory (prom-client's default metrics: process_resident_memory_bytes, heap).
 *
 * @example
 * const m = serveMetrics(() => [{ model: 'tiny', queue: 0, active: 2 }]);
 * m.tokens.inc({ model: 'tiny' });
 * await m.registry.metrics(); // the text /metrics returns
 */
export function serveMetrics(load: () => { model: string; queue: number; active: number }[]): ServeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'qkv_' });
  const registers = [registry];
  new Gauge({
    name: 'qkv_queue_depth', help: 'Requests waiting for a slot, per model.', labelNames: ['model'], registers,
    collect() { for (const l of load()) this.set({ model: l.model }, l.queue); },
  });
  new Gauge({
    name: 'qkv_active_sequences', help: 'Continuations being decoded (slots in use), per model.', labelNames: ['model'], registers,
    collect() { for (const l of load()) this.set({ model: l.model }, l.active); },
  });
  return {
    registry,
    requests: new Counter({ name: 'qkv_requests_total', help: 'Requests answered, by endpoint and HTTP status.', labelNames: ['endpoint', 'status'], registers }),
    latency: new Histogram({ name: 'qkv_request_duration_seconds', help: 'Time from a request to the end of its answer.', labelNames: ['endpoint'], buckets: LATENCY, registers }),
    timeToFirstToken: new Histogram({ name: 'qkv_time_to_first_token_seconds', help: 'Time from a completion request to its first token.', labelNames: ['model'], buckets: LATENCY, registers }),
    interTokenLatency: new Histogram({ name: 'qkv_inter_token_latency_seconds', help: 'Time between two tokens of a continuation.', labelNames: ['model'], buckets: LATENCY, registers }),
    tokens: new Counter({ name: 'qkv_generated_tokens_total', help: 'Tokens generated.', labelNames: ['model'], registers }),
    promptTokens: new Counter({ name: 'qkv_prompt_tokens_total', help: 'Prompt tokens read.', labelNames: ['model'], registers }),
    rejected: new Counter({ name: 'qkv_rejected_total', help: 'Requests refused before any work: queue full (429), shutting down (503).', labelNames: ['reason'], registers }),
    cancelled: new Counter({ name: 'qkv_cancelled_total', help: 'Continuations and one-shot tasks stopped early: the client went away, or the request timed out.', labelNames: ['reason'], registers }),
    batchSize: new Histogram({
      name: 'qkv_batch_size', help: 'Sequences per decoding step (kind=decode), or inputs per one-shot batch (kind=oneshot).', labelNames: ['model', 'kind'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256], registers,
    }),
    stepSeconds: new Histogram({ name: 'qkv_step_seconds', help: 'Duration of one batched decoding step.', labelNames: ['model'], buckets: LATENCY, registers }),
  };
}
