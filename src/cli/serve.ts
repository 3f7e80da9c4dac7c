// `qkv serve`: serves checkpoints over HTTP (OpenAI's completions API and qkv's task endpoints) until SIGTERM or SIGINT.

import { basename, dirname, resolve } from 'node:path';
import { startServer } from '../serve/server.js';
import type { ModelSpec } from '../serve/server.js';
import { UsageError } from './errors.js';

/** The flags of `qkv serve`. */
export interface ServeFlags {
  host: string;
  port: number;
  slots: number;
  maxQueue: number;
  maxTokens: number;
  maxBody: number;
  timeout: number;
  requestTimeout: number;
  grace: number;
  threads: number;
  batching: boolean;
}

const NAMED = /^([A-Za-z0-9][A-Za-z0-9._:-]{0,127})=(.+)$/;

/**
 * A model argument: `name=path`, or a path named by its folder (a run folder's best/ or last/ by the run's).
 *
 * @example
 * modelSpec('runs/lm-small');     // { name: 'lm-small', path: 'runs/lm-small' }
 * modelSpec('poet=runs/lm/best'); // { name: 'poet', path: 'runs/lm/best' }
 */
export function modelSpec(arg: string): ModelSpec {
  const named = NAMED.exec(arg);
  if (named) return { name: named[1], path: named[2] };
  const full = resolve(arg);
  let name = basename(full);
  if (name === 'best' || name === 'last') name = basename(dirname(full));
  return { name, path: arg };
}

/** Starts the server and resolves once it has stopped (SIGTERM or SIGINT: in-flight requests finish within --grace). */
export async function serveCommand(paths: string[], flags: ServeFlags): Promise<void> {
  if (paths.length === 0) throw new UsageError('no checkpoint given, expected at least one (a checkpoint or run folder, or name=folder)');
  const server = await startServer({
    models: paths.map(modelSpec), host: flags.host, port: flags.port, slots: flags.slots, maxQueue: flags.maxQueue, maxTokens: flags.maxTokens,
    maxBodyBytes: flags.maxBody, timeoutSeconds: flags.timeout, requestTimeoutSeconds: flags.requestTimeout, graceSeconds: flags.grace,
    threads: flags.threads, batching: flags.batching, log: (line) => process.stderr.write(`${line}\n`),
  });
  const list = [...server.models.values()].map((m) => `${m.name} (${m.host.info.kind}${m.host.info.task ? `, ${m.host.info.task}` : ''}: ${m.host.info.endpoints.map((e) => `/v1/${e}`).join(' ')})`);
  process.stdout.write(`qkv serve: listening on ${server.url}\n${list.map((l) => `  ${l}\n`).join('')}`);
  await new Promise<void>((done) => {
    let signals = 0;
    const stop = (signal: NodeJS.Signals) => {
      if (++signals > 1) {
        process.stderr.write(`qkv serve: ${signal} again, exiting now\n`);
        process.exit(1);
      }
      process.stderr.write(`qkv serve: ${signal}: no new requests; finishing those in flight (at most ${flags.grace} s)\n`);
      void server.shutdown().then(() => done(), () => done());
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
