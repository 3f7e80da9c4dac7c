// The main thread's side of a model thread: starts it, sends it work, and routes what it answers to each request.

import { Worker } from 'node:worker_threads';
import { QkvError } from '../core/errors.js';
import type { CompletionJob, FromWorker, ModelInfo, TaskJob, ToWorker, WireEvent, WorkerInit, WorkerStats } from './protocol.js';

/** Where a continuation's news goes. */
export interface GenerationSink {
  /** It has a row: its prompt as read (tokens), what was cut to fit, and its first event. */
  joined(promptTokens: number, warnings: string[], first: WireEvent): void;
  event(e: WireEvent): void;
  /** It failed: a bad request (400) or the server's fault (500). */
  failed(message: string, badRequest: boolean): void;
}

/** A one-shot task that failed: the request's fault (400) or the server's. */
export class TaskFailed extends Error {
  constructor(message: string, readonly badRequest: boolean) {
    super(message);
  }
}

/** A one-shot task sent to the thread: its answer, and a way to give it up. */
export interface TaskRun {
  /** The answer; a TaskFailed when it failed, or ('cancelled') when the thread stopped it after cancel(). */
  readonly done: Promise<unknown>;
  /**
   * Gives it up (its request timed out): the thread drops it if it has not started, or stops it at its next check
   * (between decoding steps); `done` settles when the thread is free of it.
   */
  cancel(): void;
}

/** A model thread that failed to start, naming the model and why. */
export class ModelStartError extends QkvError {}

/** A worker running worker.ts (through tsx's loader when qkv runs from source, as src/node/data-parallel.ts does). */
function spawn(init: WorkerInit): Worker {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const entry = new URL(`./worker${ext}`, import.meta.url).href;
  if (ext === '.js') return new Worker(new URL(entry), { workerData: init });
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(code, { eval: true, workerData: init });
}

/**
 * One served model: its thread, and the requests it is working on. Continuations are sent as they are admitted
 * (the scheduler keeps the rest waiting); their tokens come back once per decoding step, for all of them at once.
 *
 * @example
 * const host = await ModelHost.start({ name: 'tiny', path: 'runs/lm', slots: 16, batched: true, threads: 1 });
 * const id = host.generate(job, sink);
 * host.cancel(id); // the client went away
 */
export class ModelHost {
  private nextId = 1;
  private readonly sinks = new Map<number, GenerationSink>();
  private readonly tasks = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  private alive = true;
  /** One-shot tasks the thread stopped or dropped on cancel() (for tests: the thread was freed, not just the request). */
  cancelledTasks = 0;
  /** Called after every decoding step with its batch size and duration, and after every one-shot batch. */
  onStep: ((batch: number, seconds: number) => void) | null = null;
  onOneShot: ((batch: number, seconds: number) => void) | null = null;

  private constructor(private readonly worker: Worker, readonly info: ModelInfo) {
    worker.on('message', (m: FromWorker) => this.receive(m));
    worker.on('error', (e) => this.die(`model thread of '${info.name}' failed: ${e.message}`));
    worker.on('exit', (code) => this.die(`model thread of '${info.name}' exited (code ${code})`));
  }

  /** Starts the thread and waits until its model is loaded; a checkpoint that will not load is a ModelStartError naming it. */
  static async start(init: WorkerInit): Promise<ModelHost> {
    const worker = spawn(init);
    const listeners: [string, (...a: any[]) => void][] = [];
    const info = await new Promise<ModelInfo>((resolve, reject) => {
      const fail = (why: string) => reject(new ModelStartError(`model '${init.name}' (${init.path}): ${why}`));
      listeners.push(
        ['message', (m: FromWorker) => (m.type === 'ready' ? resolve(m.info) : fail(m.type === 'start-failed' ? m.message : `unexpected message ${m.type}`))],
        ['error', (e: Error) => fail(e.message)],
        ['exit', (code: number) => fail(`its thread exited (code ${code}) before the model was loaded`)],
      );
      for (const [event, f] of listeners) worker.once(event, f);
    }).catch(async (e) => {
      await worker.terminate();
      throw e;
    });
    const host = new ModelHost(worker, info);
    for (const [event, f] of listeners) worker.off(event, f);
    return host;
  }

  /** Whether its thread is running. */
  get healthy(): boolean {
    return this.alive;
  }

  /** Continuations and tasks sent and not yet answered (for the tests of leaks: 0 when idle). */
  get pending(): number {
    return this.sinks.size + this.tasks.size;
  }

  /** Sends a continuation to the thread; returns its id (for cancel). */
  generate(job: CompletionJob, sink: GenerationSink): number {
    const id = this.nextId++;
    if (!this.alive) {
      queueMicrotask(() => sink.failed(`model '${this.info.name}' is not running`, false));
      return id;
    }
    this.sinks.set(id, sink);
    this.send({ type: 'generate', id, job });
    return id;
  }

  /** Stops a continuation (its client went away, or its time ran out): its row is freed; nothing more comes for it. */
  cancel(id: number): void {
    if (!this.sinks.delete(id)) return;
    this.send({ type: 'cancel', id });
  }

  /** Answers a one-shot task (batched in the thread with others of its kind and options). */
  task(job: TaskJob): TaskRun {
    if (!this.alive) return { done: Promise.reject(new TaskFailed(`model '${this.info.name}' is not running`, false)), cancel: () => {} };
    const id = this.nextId++;
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const done = new Promise((resolve, reject) => {
      this.tasks.set(id, { resolve, reject });
      this.send({ type: 'task', id, job, cancel: flag });
    });
    return {
      done,
      cancel: () => {
        if (!this.tasks.has(id) || Atomics.load(flag, 0) === 1) return;
        Atomics.store(flag, 0, 1);
        this.send({ type: 'cancel-task', id });
      },
    };
  }

  /** What the thread holds now (rows in use, continuations waiting, tasks queued): 0s when nothing is left behind. */
  stats(): Promise<WorkerStats> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.tasks.set(id, { resolve: (r) => resolve(r as WorkerStats), reject });
      this.send({ type: 'stats', id });
    });
  }

  /** Ends the thread. */
  async close(): Promise<void> {
    this.alive = false;
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }

  private send(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  private receive(m: FromWorker): void {
    switch (m.type) {
      case 'joined': {
        const sink = this.sinks.get(m.id);
        if (m.first.finish) this.sinks.delete(m.id);
        sink?.joined(m.promptTokens, m.warnings, m.first);
        break;
      }
      case 'step':
        this.onStep?.(m.batch, m.seconds);
        for (const e of m.events) {
          const sink = this.sinks.get(e.id);
          if (e.finish) this.sinks.delete(e.id);
          sink?.event(e);
        }
        break;
      case 'failed': {
        if (m.cancelled) this.cancelledTasks++;
        const sink = this.sinks.get(m.id);
        this.sinks.delete(m.id);
        if (sink) sink.failed(m.message, m.badRequest);
        const t = this.tasks.get(m.id);
        this.tasks.delete(m.id);
        t?.reject(new TaskFailed(m.message, m.badRequest));
        break;
      }
      case 'answer': {
        const t = this.tasks.get(m.id);
        this.tasks.delete(m.id);
        t?.resolve(m.result);
        break;
      }
      case 'stats': {
        const t = this.tasks.get(m.id);
        this.tasks.delete(m.id);
        t?.resolve(m.stats);
        break;
      }
      case 'oneshot':
        this.onOneShot?.(m.batch, m.seconds);
        break;
      default:
        break;
    }
  }

  /** The thread is gone: everything it was working on fails (500s), and later requests fail at once. */
  private die(why: string): void {
    if (!this.alive) return;
    this.alive = false;
    const sinks = [...this.sinks.values()];
    const tasks = [...this.tasks.values()];
    this.sinks.clear();
    this.tasks.clear();
    for (const s of sinks) s.failed(why, false);
    for (const t of tasks) t.reject(new TaskFailed(why, false));
  }
}
