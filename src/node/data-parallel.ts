// Data parallelism on Node: replicas of a task's model in worker threads (the Trainer's
// GradientReplicas). Each step the parameters go to the workers through one shared buffer, each
// worker trains on its own batch with one kernel thread, and its gradients come back through its
// own shared buffer; the main thread waits with Atomics.wait, so a step stays synchronous.

import { Worker } from 'node:worker_threads';
import { ArgumentError } from '../core/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { packBatch } from '../train/replicas.js';
import type { GradientReplicas, ReplicaResult } from '../train/replicas.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import type { TaskConfig } from '../train/tasks/index.js';

/** What a worker gets at its start (see data-parallel-worker.ts). */
export interface ReplicaInit {
  config: TaskConfig;
  /** The main thread's tokenizers (tokenizer.json objects) and model config, so the worker builds the same run without learning them again. */
  reuse?: { tokenizer: object; targetTokenizer: object | null; modelConfig: Record<string, unknown> };
  /** Which replica (from 1; the main thread is 0): seeds its dropout. */
  index: number;
  /** Sizes of the model's parameters, in order: the worker checks its own model against them. */
  sizes: number[];
  /** The parameters' values, concatenated (float32), shared by every worker. */
  params: SharedArrayBuffer;
  /** This worker's gradients, concatenated like `params`. */
  grads: SharedArrayBuffer;
  /** Int32 [status, has-gradient flag per parameter...]: status 0 working, 1 done, 2 failed. */
  control: SharedArrayBuffer;
  /** Float64 [loss, tokens]. */
  result: SharedArrayBuffer;
  /** A failure's message, UTF-8. */
  error: SharedArrayBuffer;
}

export const STATUS_WORKING = 0;
export const STATUS_DONE = 1;
export const STATUS_FAILED = 2;
export const ERROR_BYTES = 4096;

/** Options of {@link startWorkerReplicas}. */
export interface WorkerReplicasOptions {
  /** Kernel threads of the main thread outside the replicas' steps (evaluation); default: its count at the start. */
  threads?: number;
  /** Seconds to wait for a replica beyond the main thread's own share of the step (default 600). */
  timeoutSeconds?: number;
  /**
   * The run's tokenizers and model config (without a backend): each worker builds its task with
   * them instead of building its own (needed when they came from a checkpoint: resume, fine-tuning).
   */
  reuse?: { tokenizer: Tokenizer; targetTokenizer: Tokenizer | null; modelConfig: Record<string, unknown> };
}

/** Worker-thread replicas; `close()` ends the threads. */
export interface WorkerReplicas<B = unknown> extends GradientReplicas<B> {
  close(): Promise<void>;
}

interface Slot {
  worker: Worker;
  /** The worker's gradients, one tensor per parameter over its shared buffer. */
  grads: Tensor[];
  control: Int32Array;
  result: Float64Array;
  error: Uint8Array;
}

/**
 * Starts `count` worker threads, each building the task of `config` (its data and a model of the
 * same shapes as `model`) and waiting for batches. Resolves once all are ready; rejects with the
 * first worker's error otherwise.
 *
 * @example
 * const replicas = await startWorkerReplicas(config, run.model, 1);
 * const trainer = new Trainer(run.model, run.task, { ...run.trainer, replicas });
 * try { await trainer.run(); } finally { await replicas.close(); }
 */
export async function startWorkerReplicas<B>(config: TaskConfig, model: { parameters(): Tensor[] }, count: number, opts: WorkerReplicasOptions = {}): Promise<WorkerReplicas<B>> {
  if (!(Number.isInteger(count) && count >= 1)) throw new ArgumentError(`startWorkerReplicas: count is ${count}, expected an integer ≥ 1`);
  const params = model.parameters();
  const bad = params.find((p) => p.dtype !== 'float32');
  if (bad) throw new ArgumentError(`startWorkerReplicas: a parameter of shape [${bad.shape.join(', ')}] is ${bad.dtype}, expected float32 (replicas share float32 buffers)`);
  const sizes = params.map((p) => p.size);
  const reuse = opts.reuse && {
    tokenizer: opts.reuse.tokenizer.toJSON(),
    targetTokenizer: opts.reuse.targetTokenizer && opts.reuse.targetTokenizer !== opts.reuse.tokenizer ? opts.reuse.targetTokenizer.toJSON() : null,
    modelConfig: Object.fromEntries(Object.entries(opts.reuse.modelConfig).filter(([k]) => k !== 'backend')),
  };
  // Workers set the process's kernel threads to 1 as they load the backend; the main thread's count comes back after.
  const backend = params[0]?.backend as Threads | undefined;
  const threads = opts.threads ?? backend?.threads?.();
  const total = sizes.reduce((a, b) => a + b, 0);
  const shared = new SharedArrayBuffer(4 * total);
  const slots: Slot[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const init: ReplicaInit = {
      config, index: i + 1, sizes, params: shared,
      ...(reuse ? { reuse } : {}),
      grads: new SharedArrayBuffer(4 * total),
      control: new SharedArrayBuffer(4 * (1 + sizes.length)),
      result: new SharedArrayBuffer(16),
      error: new SharedArrayBuffer(ERROR_BYTES),
    };
    const worker = spawn(init);
    slots.push({ worker, grads: sharedTensors(init.grads, params), control: new Int32Array(init.control), result: new Float64Array(init.result), error: new Uint8Array(init.error) });
    ready.push(new Promise<void>((resolve, reject) => {
      worker.once('message', (m: { type: string; message?: string }) => (m.type === 'ready' ? resolve() : reject(new ArgumentError(`data-parallel worker ${i + 1}: ${m.message ?? 'failed to start'}`))));
      worker.once('error', (e) => reject(e));
      worker.once('exit', (code) => reject(new ArgumentError(`data-parallel worker ${i + 1} exited (code ${code}) before it was ready`)));
    }));
  }
  try {
    await Promise.all(ready);
  } catch (e) {
    await Promise.all(slots.map((s) => s.worker.terminate()));
    if (threads !== undefined) backend?.setThreads?.(threads);
    throw e;
  }
  for (const s of slots) s.worker.removeAllListeners('exit');
  if (threads !== undefined) backend?.setThreads?.(threads);
  return new ThreadReplicas<B>(slots, sharedTensors(shared, params), backend, threads, opts.timeoutSeconds ?? 600);
}

/**
 * One tensor per parameter (same shapes, on its backend) over consecutive parts of `buffer`, without
 * a copy: what one thread writes to them the others read.
 */
export function sharedTensors(buffer: SharedArrayBuffer, like: readonly Tensor[]): Tensor[] {
  let off = 0;
  return like.map((p) => {
    const view = new Float32Array(buffer, 4 * off, p.size);
    off += p.size;
    return Tensor.fromStorage(p.backend.wrapArray(view), p.shape, p.backend);
  });
}

/** A worker running data-parallel-worker.ts (through tsx's loader when qkv runs from source). */
function spawn(init: ReplicaInit): Worker {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const entry = new URL(`./data-parallel-worker${ext}`, import.meta.url).href;
  if (ext === '.js') return new Worker(new URL(entry), { workerData: init });
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(code, { eval: true, workerData: init });
}

type Threads = { threads?: () => number; setThreads?: (n: number) => number };

class ThreadReplicas<B> implements WorkerReplicas<B> {
  private started = 0;
  private startedAt = 0;

  constructor(
    private readonly slots: Slot[],
    private readonly shared: Tensor[],
    private readonly backend: Threads | undefined,
    /** The main thread's kernel threads outside the replicas' steps (undefined: a backend without threads). */
    private readonly threads: number | undefined,
    private readonly timeoutSeconds: number,
  ) {}

  get count(): number {
    return this.slots.length;
  }

  start(batches: readonly B[], params: readonly Tensor[], step: number): void {
    if (this.started) throw new ArgumentError('data-parallel replicas: start called twice without finish');
    if (batches.length > this.slots.length) throw new ArgumentError(`data-parallel replicas: ${batches.length} batches, expected at most ${this.slots.length}`);
    if (params.length !== this.shared.length) throw new ArgumentError(`data-parallel replicas: ${params.length} parameters, expected ${this.shared.length}`);
    params.forEach((p, j) => this.shared[j].assign(p));
    // One kernel thread per replica while they run (the pool is the process's); evaluation gets all back.
    if (this.threads !== undefined) this.backend?.setThreads?.(1);
    batches.forEach((batch, i) => {
      Atomics.store(this.slots[i].control, 0, STATUS_WORKING);
      this.slots[i].worker.postMessage({ type: 'step', step, batch: packBatch(batch) });
    });
    this.started = batches.length;
    this.startedAt = performance.now();
  }

  finish(): ReplicaResult[] {
    const n = this.started;
    this.started = 0;
    try {
      const ownMs = performance.now() - this.startedAt;
      const limitMs = 100 * ownMs + 1000 * this.timeoutSeconds;
      const out: ReplicaResult[] = [];
      for (let i = 0; i < n; i++) {
        const s = this.slots[i];
        const t0 = performance.now();
        while (Atomics.load(s.control, 0) === STATUS_WORKING) {
          Atomics.wait(s.control, 0, STATUS_WORKING, 1000);
          if (performance.now() - t0 > limitMs) throw new ArgumentError(`data-parallel worker ${i + 1} gave no gradients in ${Math.round(limitMs / 1000)} s (did it die?)`);
        }
        if (Atomics.load(s.control, 0) === STATUS_FAILED) {
          const text = new TextDecoder().decode(s.error.slice()).replace(/\0+$/, '');
          throw new ArgumentError(`data-parallel worker ${i + 1}: ${text}`);
        }
        const grads = s.grads.map((g, j) => (Atomics.load(s.control, 1 + j) ? g : null));
        out.push({ loss: s.result[0], tokens: s.result[1], grads });
      }
      return out;
    } finally {
      if (this.threads !== undefined) this.backend?.setThreads?.(this.threads);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
