// This machine's fp32 FMA peak, measured: bench/fma-peak.c built with -march=native and run per thread count.
//
// `node --import tsx bench/peak.ts [--threads=1,2] [--seconds=0.6]` prints it alone; bench/sgemm.ts divides by it.

import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { benchFile, option } from './common.js';

/** What the FMA loop reached on `threads` threads together, and the vector width it ran at. */
export interface FmaPeak {
  threads: number;
  /** 'avx512', 'avx2' or 'scalar': the widest FMA the compiler targets on this CPU (-march=native). */
  isa: string;
  gflops: number;
}

const BUILD = fileURLToPath(new URL('../build', import.meta.url));

/** Builds bench/fma-peak.c into build/fma-peak (with `cc`, as node-gyp builds the addon); returns its path. */
export function buildFmaPeak(): string {
  mkdirSync(BUILD, { recursive: true });
  const exe = `${BUILD}/fma-peak`;
  execFileSync(process.env.CC ?? 'cc', ['-O2', '-march=native', '-pthread', benchFile('fma-peak.c'), '-o', exe], { stdio: ['ignore', 'ignore', 'inherit'] });
  return exe;
}

/**
 * Runs the FMA loop on each thread count for `seconds` (best of three turns, so a busy machine reads low, never high).
 *
 * @example
 * measureFmaPeak([1, 2]); // [{ threads: 1, isa: 'avx2', gflops: 93.4 }, { threads: 2, isa: 'avx2', gflops: 184.0 }]
 */
export function measureFmaPeak(threads: readonly number[], seconds = 0.6): FmaPeak[] {
  const exe = buildFmaPeak();
  return threads.map((t) => {
    const out = execFileSync(exe, [String(t), String(seconds)], { encoding: 'utf8' }).trim();
    const [isa, g] = out.split(' ');
    const gflops = Number(g);
    if (!isa || !(gflops > 0)) throw new Error(`bench/fma-peak printed '${out}', expected '<isa> <GFLOP/s>'`);
    return { threads: t, isa, gflops };
  });
}

/** One line for a table's heading: `avx2 FMA peak measured here: 93.4 GFLOP/s on 1 thread, 184.0 on 2`. */
export function describePeak(peaks: readonly FmaPeak[]): string {
  const parts = peaks.map((p, i) => `${p.gflops.toFixed(1)}${i === 0 ? ' GFLOP/s' : ''} on ${p.threads} thread${p.threads === 1 ? '' : 's'}`);
  return `${peaks[0]?.isa ?? '?'} FMA peak measured here: ${parts.join(', ')}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const threads = option('threads', '1,2').split(',').map(Number);
  console.log(describePeak(measureFmaPeak(threads, Number(option('seconds', '0.6')))));
}
