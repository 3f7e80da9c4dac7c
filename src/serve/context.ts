// What every route of the server reads: its models (thread and schedulers each), its limits, its metrics, whether it is draining.

import type { ModelHost } from './host.js';
import type { ServeMetrics } from './metrics.js';
import type { Scheduler } from './scheduler.js';

/** A served model: its thread, the admission of its continuations, and that of its one-shot tasks. */
export interface ServedModel {
  name: string;
  host: ModelHost;
  /** Completions: `slots` decoded at once, then a bounded queue. */
  scheduler: Scheduler<{ start(): void }>;
  /** One-shot tasks (g2p, translate, classify, attention): at most the queue's size in flight. */
  tasks: Scheduler<{ start(): void }>;
}

export interface ServerContext {
  models: Map<string, ServedModel>;
  metrics: ServeMetrics;
  /** The cap on max_tokens (and max_new_tokens). */
  maxTokens: number;
  /** A request's time limit. */
  timeoutMs: number;
  /** Seconds a 429 or 503 tells the client to wait (Retry-After). */
  retryAfter: number;
  /** Set once shutdown has begun: new requests get 503. */
  draining: boolean;
}
