// sgemm GFLOP/s: qkv's native kernels against torch.mm (OpenBLAS) at the same shapes and thread counts.
//
// Not a test: `node --import tsx bench/sgemm.ts` (options: --threads=1,2 --peak=232 --seconds=0.6 --rounds=4
// --no-torch --quick); `npm run bench` runs it with bench/train.ts and bench/infer.ts.
// Each figure is the best of repeated ~10 ms runs, taken in alternating turns (qkv, torch, qkv, ...)
// so that a busy machine shows as noise rather than as a bias towards either side.

import { spawn, ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { View } from '../src/backend/backend.js';
import { Rng } from '../src/core/rng.js';
import type { NativeBackend } from '../src/backend/native.js';
import { loadNativeBackend } from '../src/node/backend-select.js';
import { flag, option } from './common.js';

interface Shape { label: string; m: number; k: number; n: number; note?: string }

const SHAPES: Shape[] = [
  ...[128, 256, 512, 1024, 2048].map((s) => ({ label: `${s}³`, m: s, k: s, n: s })),
  { label: '4096×128·128×384', m: 4096, k: 128, n: 384, note: 'QKV projection' },
  { label: '4096×128·128×512', m: 4096, k: 128, n: 512, note: 'FFN up' },
  { label: '4096×512·512×128', m: 4096, k: 512, n: 128, note: 'FFN down' },
  { label: '4096×96·96×128', m: 4096, k: 96, n: 128 },
  { label: '4096×128·128×128', m: 4096, k: 128, n: 128, note: 'output projection' },
];

/** The issue's target: at least 0.9× OpenBLAS for square n ≥ 256 on 2 threads. */
function target(s: Shape, threads: number): string {
  return s.m === s.k && s.k === s.n && s.m >= 256 && threads === 2 ? '≥ 0.9×' : '';
}

/** Operands for one shape, made once. */
function operands(backend: NativeBackend, s: Shape): [View, View] {
  const rng = new Rng(0);
  const a: View = { storage: backend.fromArray(Float32Array.from({ length: s.m * s.k }, () => rng.normal())), layout: { shape: [1, s.m, s.k], strides: [0, s.k, 1], offset: 0 } };
  const b: View = { storage: backend.fromArray(Float32Array.from({ length: s.k * s.n }, () => rng.normal())), layout: { shape: [1, s.k, s.n], strides: [0, s.n, 1], offset: 0 } };
  return [a, b];
}

/** Best GFLOP/s of ~10 ms runs of backend.matmul (output allocation included, as in torch.mm) within `seconds`. */
function timeQkv(backend: NativeBackend, [a, b]: [View, View], s: Shape, seconds: number): number {
  backend.matmul(a, b);
  const flop = 2 * s.m * s.k * s.n;
  const reps = Math.max(1, Math.floor(0.01 / Math.max(flop / 100e9, 1e-9)));
  let best = Infinity;
  const start = performance.now();
  do {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) backend.matmul(a, b);
    best = Math.min(best, (performance.now() - t0) / 1000 / reps);
  } while (performance.now() - start < seconds * 1000);
  return flop / best / 1e9;
}

/** The PyTorch twin as a long-lived child: one question, one answer per line. */
class TorchTwin {
  private lines: AsyncIterableIterator<string>;
  private constructor(private proc: ChildProcessWithoutNullStreams, rl: Interface, readonly version: string) {
    this.lines = rl[Symbol.asyncIterator]();
  }

  /**
   * One twin per thread count: torch.set_num_threads does not reach OpenBLAS's own pool (Debian's
   * torch calls the system BLAS), so its threads are fixed by the environment at start.
   */
  static async start(threads: number): Promise<TorchTwin | null> {
    const script = fileURLToPath(new URL('./sgemm-torch.py', import.meta.url));
    const env = { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
    const proc = spawn('/usr/bin/python3', [script], { env });
    proc.on('error', () => {});
    const rl = createInterface({ input: proc.stdout });
    const it = rl[Symbol.asyncIterator]();
    const first = await it.next();
    if (first.done || !first.value.startsWith('ready')) { proc.kill(); return null; }
    const twin = new TorchTwin(proc, rl, first.value.slice(6));
    twin.lines = it;
    return twin;
  }

  async gflops(threads: number, s: Shape, seconds: number): Promise<number> {
    this.proc.stdin.write(`${threads} ${s.m} ${s.k} ${s.n} ${seconds}\n`);
    const r = await this.lines.next();
    return r.done ? NaN : Number(r.value);
  }

  close(): void { this.proc.stdin.end(); }
}

/** Runs the sgemm benchmark and prints its table (--quick: 2 threads only, shorter turns). */
export async function benchSgemm(): Promise<void> {
  const backend = loadNativeBackend();
  if (!backend) { console.error('bench: the native addon is not built; run `npm run install` first'); process.exit(1); }
  const quick = flag('quick');
  const threads = option('threads', quick ? '2' : '1,2').split(',').map(Number);
  const peak = Number(option('peak', '232'));
  const seconds = Number(option('seconds', quick ? '0.2' : '0.6'));
  const rounds = Number(option('rounds', quick ? '2' : '4'));
  const twins = new Map<number, TorchTwin | null>();
  for (const t of threads) twins.set(t, flag('no-torch') ? null : await TorchTwin.start(t));
  const version = [...twins.values()].find((x) => x)?.version;
  const perThread = peak / 2;
  console.log(`sgemm, GFLOP/s: qkv native (${backend.gemmKernel()} micro-kernel) vs ${version ? `torch.mm ${version}` : 'no torch'}; ` +
    `% = share of the fp32 FMA peak (${peak} GFLOP/s on 2 threads, ${perThread} per thread)`);
  const head = `${'shape (M×K·K×N)'.padEnd(20)} thr ${'qkv'.padStart(7)} ${'%peak'.padStart(6)} ${'torch'.padStart(7)} ${'%peak'.padStart(6)} ${'qkv/torch'.padStart(9)} ${'target'.padStart(7)}  note`;
  console.log(head);
  console.log('-'.repeat(head.length));
  for (const t of threads) {
    backend.setThreads(t);
    const torch = twins.get(t) ?? null;
    for (const s of SHAPES) {
      // Alternate short turns so both libraries see the same background load; keep each one's best.
      const ops = operands(backend, s);
      let q = 0;
      let p = torch ? 0 : NaN;
      for (let turn = 0; turn < rounds; turn++) {
        q = Math.max(q, timeQkv(backend, ops, s, seconds / rounds));
        if (torch) p = Math.max(p, await torch.gflops(t, s, seconds / rounds));
      }
      const pk = perThread * t;
      const pct = (x: number) => (Number.isNaN(x) ? '' : `${((100 * x) / pk).toFixed(0)}%`);
      console.log(`${s.label.padEnd(20)} ${String(t).padStart(3)} ${q.toFixed(1).padStart(7)} ${pct(q).padStart(6)} ${Number.isNaN(p) ? '-'.padStart(7) : p.toFixed(1).padStart(7)} ${pct(p).padStart(6)} ${(Number.isNaN(p) ? '' : (q / p).toFixed(2)).padStart(9)} ${target(s, t).padStart(7)}  ${s.note ?? ''}`);
    }
  }
  for (const twin of twins.values()) twin?.close();
}

if (import.meta.url === `file://${process.argv[1]}`) await benchSgemm();
