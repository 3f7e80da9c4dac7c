// The backend fuzz driver: feeds seeds to a worker process (backend-fuzz-cases.ts --worker), one at a time, and
// counts what each came to. A worker that dies is a crash, one silent past the timeout a hang; either is
// restarted and the run goes on. `npm run fuzz -- [calls] [first seed]` runs it from the command line.

import { spawn, ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Result } from './backend-fuzz-cases.js';

export interface FuzzCounts {
  calls: number;
  /** Invalid calls refused with a typed error naming the method. */
  clear: number;
  /** Valid calls whose result matched the oracle (or, without one, returned cleanly). */
  ok: number;
  crashes: number;
  hangs: number;
  /** Invalid calls that returned, and valid ones whose result differs from the oracle. */
  silentWrong: number;
  /** Errors that are not a typed QkvError naming the method. */
  unclear: number;
  /** Valid calls that threw. */
  rejectedValid: number;
  /** The first few failures, to reproduce by seed. */
  failures: (Result | { seed: number; outcome: 'crash' | 'hang'; detail: string })[];
}

const worker = fileURLToPath(new URL('./backend-fuzz-cases.ts', import.meta.url));

/** Runs `calls` cases from seed `first` on; each case gets `timeoutMs` before it counts as a hang. */
export async function fuzzBackend(calls: number, first = 1, opts: { timeoutMs?: number; backend?: 'native' | 'ref' } = {}): Promise<FuzzCounts> {
  const counts: FuzzCounts = { calls: 0, clear: 0, ok: 0, crashes: 0, hangs: 0, silentWrong: 0, unclear: 0, rejectedValid: 0, failures: [] };
  const timeoutMs = opts.timeoutMs ?? 20_000;
  let child: ChildProcessWithoutNullStreams | null = null;
  let buffer = '';
  let pending: ((r: Result | 'died' | 'hang') => void) | null = null;
  const start = () => {
    const c = spawn(process.execPath, ['--import', 'tsx', worker, '--worker', opts.backend ?? 'native'], { stdio: ['pipe', 'pipe', 'pipe'] });
    buffer = '';
    c.stdout.setEncoding('utf8');
    c.stdout.on('data', (d: string) => {
      buffer += d;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        pending?.(JSON.parse(line) as Result);
      }
    });
    c.stderr.resume();
    c.on('exit', () => { if (child === c) { child = null; pending?.('died'); } });
    return c;
  };
  const note = (f: FuzzCounts['failures'][number]) => { if (counts.failures.length < 20) counts.failures.push(f); };
  for (let seed = first; seed < first + calls; seed++) {
    child ??= start();
    const c = child;
    const r = await new Promise<Result | 'died' | 'hang'>((resolve) => {
      const timer = setTimeout(() => resolve('hang'), timeoutMs);
      pending = (x) => { clearTimeout(timer); pending = null; resolve(x); };
      c.stdin.write(`${seed}\n`);
    });
    counts.calls++;
    if (r === 'died') { counts.crashes++; note({ seed, outcome: 'crash', detail: 'the worker died' }); continue; }
    if (r === 'hang') { counts.hangs++; note({ seed, outcome: 'hang', detail: `no answer in ${timeoutMs} ms` }); child = null; c.kill('SIGKILL'); continue; }
    if (r.outcome === 'clear') counts.clear++;
    else if (r.outcome === 'ok') counts.ok++;
    else {
      if (r.outcome === 'silent-wrong') counts.silentWrong++;
      else if (r.outcome === 'unclear') counts.unclear++;
      else counts.rejectedValid++;
      note(r);
    }
  }
  if (child) { const c = child as ChildProcessWithoutNullStreams; child = null; c.stdin.end(); c.kill(); }
  return counts;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const calls = Number(process.argv[2] ?? 2000);
  const first = Number(process.argv[3] ?? 1);
  const counts = await fuzzBackend(calls, first);
  console.log(JSON.stringify(counts, null, 2));
  process.exitCode = counts.crashes + counts.hangs + counts.silentWrong + counts.unclear + counts.rejectedValid === 0 ? 0 : 1;
}
