// Runs the qkv command (bin/qkv.js) in a child process from the repo root, on one kernel thread.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repo root and the command. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'qkv.js');

/** What a run of the command gave: its exit code (-1 when killed), stdout and stderr. */
export interface Ran { code: number; stdout: string; stderr: string }

/**
 * `qkv ...args` as a user runs it; resolves (never rejects) with the exit code and output.
 *
 * @example
 * const r = await qkv('info', 'runs/demo');
 */
export function qkv(...args: string[]): Promise<Ran> {
  return runQkv(args);
}

/** {@link qkv} with a time limit other than 60 s. */
export function runQkv(args: readonly string[], timeout = 60_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, QKV_THREADS: '1' }, timeout }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}
