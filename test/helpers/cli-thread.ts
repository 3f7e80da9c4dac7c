// The CLI's main() in a worker thread of the test process, its stdout and stderr captured per call
// (the test runner reports through the test thread's stdout, which must stay untouched).

import { Worker } from 'node:worker_threads';
import { loadNativeBackend } from '../../src/node/backend-select.js';

/** What one call of main() did. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** A thread running the CLI: `run(...args)` calls main(args) there; `close()` ends it. */
export interface CliThread {
  run(...args: string[]): Promise<Ran>;
  close(): Promise<void>;
}

/**
 * Starts a thread that runs src/cli/main.ts's main() on request (through tsx's loader, as qkv runs
 * from source), with `env` added to its environment.
 *
 * @example
 * const cli = startCliThread({ QKV_THREADS: '1' });
 * const { code, stdout } = await cli.run('info', 'runs/demo');
 */
export function startCliThread(env: Record<string, string> = {}): CliThread {
  // The native addon must be loaded by this thread first: a worker that was first to load it, and
  // trained with it, crashes the process (SIGSEGV) when it is terminated.
  loadNativeBackend({ threads: 1 });
  const entry = new URL('./cli-thread-worker.ts', import.meta.url).href;
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(code, { eval: true, env: { ...process.env, ...env } });
  let queue: Promise<unknown> = Promise.resolve();
  const run = (...args: string[]): Promise<Ran> => {
    const next = queue.then(() => new Promise<Ran>((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      worker.once('error', onError);
      worker.once('message', (m: Ran) => { worker.off('error', onError); resolve(m); });
      worker.postMessage(args);
    }));
    queue = next.catch(() => undefined);
    return next;
  };
  return { run, close: async () => { await worker.terminate(); } };
}
