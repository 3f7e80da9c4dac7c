// Shared pieces of the benchmarks: options, medians, fresh worker processes that answer in JSON, tables.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** `--name=value` from argv, else the fallback. */
export function option(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}

export function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

export function median(xs: readonly number[]): number {
  const s = [...xs].filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A file next to this one, as a path. */
export function benchFile(name: string): string {
  return fileURLToPath(new URL(`./${name}`, import.meta.url));
}

/** The environment every worker runs in: `threads` kernel threads (qkv, OpenMP, OpenBLAS), OpenMP threads that sleep when idle. */
export function workerEnv(threads: number): NodeJS.ProcessEnv {
  return { ...process.env, QKV_THREADS: String(threads), OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), OMP_WAIT_POLICY: 'PASSIVE' };
}

/**
 * Runs one measurement in a fresh process (so peak memory is its own) and returns the JSON object
 * it prints as its last stdout line; null, with stderr echoed, when it fails.
 */
export function runWorker(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Record<string, number> | null> {
  return new Promise((resolve) => {
    const proc = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => { out += d; });
    proc.stderr.on('data', (d) => { err += d; });
    proc.on('error', (e) => { console.error(`bench: cannot start ${cmd}: ${e.message}`); resolve(null); });
    proc.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      try {
        if (code !== 0) throw new Error(`exit code ${code}`);
        resolve(JSON.parse(last) as Record<string, number>);
      } catch (e) {
        console.error(`bench: ${cmd} ${args.join(' ')} failed (${(e as Error).message})\n${err.trim().split('\n').slice(-8).join('\n')}`);
        resolve(null);
      }
    });
  });
}

export const NODE_TSX = ['--import', 'tsx'];
export const PYTHON = '/usr/bin/python3';

/** Fixed-width table: the first column left-aligned, the rest right-aligned. */
export function printTable(title: string, head: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(`\n${title}`);
  console.log(line(head));
  console.log('-'.repeat(widths.reduce((a, b) => a + b + 2, -2)));
  for (const r of rows) console.log(line(r));
}

/** A number for a table cell: '-' when missing. */
export function fmt(x: number | undefined, digits = 0): string {
  return x === undefined || Number.isNaN(x) ? '-' : x.toFixed(digits);
}

/**
 * Seconds of CPU time this process has used (user + system). On a busy machine a one-thread measurement timed by
 * it does not count the time the thread waited for a core, as wall-clock time does.
 */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Mebibytes. */
export const MiB = 1024 * 1024;

/**
 * Runs `f` under V8's sampling CPU profiler when `file` is set (only `f`, not start-up), writing a
 * .cpuprofile there for bench/profile.ts or Chrome DevTools; otherwise just runs it.
 */
export async function profiled<T>(file: string, f: () => T): Promise<T> {
  if (!file) return f();
  const { Session } = await import('node:inspector/promises');
  const { writeFileSync } = await import('node:fs');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  const out = f();
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(file, JSON.stringify(profile));
  session.disconnect();
  return out;
}
