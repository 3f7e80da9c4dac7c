// sgemm GFLOP/s: qkv's native kernels against torch.mm (OpenBLAS) at the same shapes and thread counts.
//
// Not a test: `node --import tsx bench/sgemm.ts` (options: --threads=1,2 --seconds=0.6 --rounds=4
// --no-torch --quick --family=square,linear,batched,wgrad,g2p,decode --addon=path/to/qkv_native.node
// --peak=GFLOP/s per thread, instead of measuring it); `npm run bench` runs it with bench/train.ts and bench/infer.ts.
// The %peak columns are shares of this machine's FMA peak at the same thread count, measured first (bench/peak.ts).
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
import { describePeak, measureFmaPeak } from './peak.js';
import type { FmaPeak } from './peak.js';

/**
 * One product shape: `batch` products [m×k]·[k×n]; `ta` reads A as a transposed view (stored [k, m]: a
 * weight gradient xᵀ·g), `tb` reads B as one (stored [n, k]: x·Wᵀ in a Linear layer, q·kᵀ in attention).
 */
interface Shape { family: string; label: string; batch?: number; m: number; k: number; n: number; ta?: boolean; tb?: boolean; note?: string }

const square = (s: number): Shape => ({ family: 'square', label: `${s}³`, m: s, k: s, n: s });
/** Attention-shaped batches of N = B·H tiny products, and the two products of their backward. */
const attention = (N: number, T: number, S: number, K: number): Shape[] => [
  { family: 'batched', label: `${N}×[${T}×${K}·${K}×${S}]ᵀ`, batch: N, m: T, k: K, n: S, tb: true, note: 'scores q·kᵀ' },
  { family: 'batched', label: `${N}×[${T}×${S}·${S}×${K}]`, batch: N, m: T, k: S, n: K, note: 'weights·v, dQ' },
  { family: 'batched', label: `${N}×[${K}×${T}]ᵀ·[${T}×${S}]`, batch: N, m: K, k: T, n: S, ta: true, note: 'dK = dSᵀ·q' },
];

const SHAPES: Shape[] = [
  ...[128, 256, 512, 1024, 2048].map(square),
  { family: 'linear', label: '4096×128·128×384', m: 4096, k: 128, n: 384, note: 'QKV projection' },
  { family: 'linear', label: '4096×128·128×512', m: 4096, k: 128, n: 512, note: 'FFN up' },
  { family: 'linear', label: '4096×512·512×128', m: 4096, k: 512, n: 128, note: 'FFN down' },
  { family: 'linear', label: '4096×96·96×128', m: 4096, k: 96, n: 128 },
  { family: 'linear', label: '4096×128·128×128', m: 4096, k: 128, n: 128, note: 'output projection' },
  { family: 'linear', label: '2048×256·256×1024ᵀ', m: 2048, k: 256, n: 1024, tb: true, note: 'S2S FFN up, x·Wᵀ' },
  { family: 'linear', label: '2048×1024·1024×256ᵀ', m: 2048, k: 1024, n: 256, tb: true, note: 'S2S FFN down, x·Wᵀ' },
  ...attention(1024, 32, 32, 32),
  ...attention(256, 8, 8, 32),
  ...attention(512, 16, 24, 32),
  { family: 'wgrad', label: '[2048×256]ᵀ·2048×1024', m: 256, k: 2048, n: 1024, ta: true, note: 'S2S FFN up dW' },
  { family: 'wgrad', label: '[2048×1024]ᵀ·2048×256', m: 1024, k: 2048, n: 256, ta: true, note: 'S2S FFN down dW' },
  { family: 'wgrad', label: '[4096×128]ᵀ·4096×512', m: 128, k: 4096, n: 512, ta: true, note: 'GPT FFN up dW' },
  { family: 'wgrad', label: '[4096×128]ᵀ·4096×384', m: 128, k: 4096, n: 384, ta: true, note: 'GPT QKV dW' },
  { family: 'g2p', label: '1500×128·128×128ᵀ', m: 1500, k: 128, n: 128, tb: true, note: 'G2P projections' },
  { family: 'g2p', label: '1500×128·128×384ᵀ', m: 1500, k: 128, n: 384, tb: true, note: 'G2P QKV' },
  { family: 'g2p', label: '1500×512·512×128ᵀ', m: 1500, k: 512, n: 128, tb: true, note: 'G2P FFN down' },
  { family: 'g2p', label: '1500×128·128×75ᵀ', m: 1500, k: 128, n: 75, tb: true, note: 'G2P generator' },
  { family: 'g2p', label: '1500×128·128×512', m: 1500, k: 128, n: 512, note: 'G2P dX of FFN down' },
  { family: 'decode', label: '1×128·128×384ᵀ', m: 1, k: 128, n: 384, tb: true, note: 'decoding QKV' },
  { family: 'decode', label: '1×128·128×512ᵀ', m: 1, k: 128, n: 512, tb: true, note: 'decoding FFN up' },
  { family: 'decode', label: '1×512·512×128ᵀ', m: 1, k: 512, n: 128, tb: true, note: 'decoding FFN down' },
  { family: 'decode', label: '1×512·512×1536ᵀ', m: 1, k: 512, n: 1536, tb: true },
];

/** The issue's target: at least 0.9× OpenBLAS for square n ≥ 256 on 2 threads. */
function target(s: Shape, threads: number): string {
  return s.family === 'square' && s.m >= 256 && threads === 2 ? '≥ 0.9×' : '';
}

/** Operands for one shape, made once. */
function operands(backend: NativeBackend, s: Shape): [View, View] {
  const rng = new Rng(0);
  const N = s.batch ?? 1;
  const view = (r: number, c: number, transposed = false): View => ({
    storage: backend.fromArray(Float32Array.from({ length: N * r * c }, () => rng.normal())),
    layout: { shape: [N, r, c], strides: transposed ? [r * c, 1, r] : [r * c, c, 1], offset: 0 },
  });
  return [view(s.m, s.k, s.ta), view(s.k, s.n, s.tb)];
}

/** Timed runs per turn at least, however long they take: a 2048³ product (~0.1 s) would otherwise get one or two. */
const MIN_RUNS = 3;

/**
 * Best GFLOP/s of ~10 ms runs of backend.matmul within `seconds`. Output allocation is included, as in
 * torch.mm, and each run is a storage scope (as a training step is): its outputs go back to the buffer
 * pool and back the next run's, as glibc's malloc hands torch.mm's freed outputs back to it.
 */
function timeQkv(backend: NativeBackend, [a, b]: [View, View], s: Shape, seconds: number): number {
  const flop = 2 * (s.batch ?? 1) * s.m * s.k * s.n;
  const reps = Math.max(1, Math.floor(0.01 / Math.max(flop / 100e9, 1e-9)));
  const run = (): number => {
    const scope = backend.openScope!();
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) backend.matmul(a, b);
    const t = (performance.now() - t0) / 1000 / reps;
    scope.close([]);
    return t;
  };
  run();
  let best = Infinity;
  const start = performance.now();
  for (let runs = 0; runs < MIN_RUNS || performance.now() - start < seconds * 1000; runs++) best = Math.min(best, run());
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
    this.proc.stdin.write(`${threads} ${s.m} ${s.k} ${s.n} ${seconds} ${s.batch ?? 1} ${s.ta ? 1 : 0} ${s.tb ? 1 : 0}\n`);
    const r = await this.lines.next();
    return r.done ? NaN : Number(r.value);
  }

  close(): void { this.proc.stdin.end(); }
}

/** Runs the sgemm benchmark and prints its table (--quick: 2 threads only, shorter turns). */
export async function benchSgemm(): Promise<void> {
  const addonPath = option('addon', '');
  const backend = loadNativeBackend(addonPath ? { addonPath } : {});
  if (!backend) { console.error('bench: the native addon is not built; run `npm run install` first'); process.exit(1); }
  const quick = flag('quick');
  const threads = option('threads', quick ? '2' : '1,2').split(',').map(Number);
  const given = option('peak', '');
  const peaks: FmaPeak[] = given
    ? threads.map((t) => ({ threads: t, isa: 'given', gflops: Number(given) * t }))
    : measureFmaPeak(threads);
  const seconds = Number(option('seconds', quick ? '0.2' : '0.6'));
  const rounds = Number(option('rounds', quick ? '2' : '4'));
  const families = option('family', 'square,linear,batched,wgrad,g2p,decode').split(',');
  const twins = new Map<number, TorchTwin | null>();
  for (const t of threads) twins.set(t, flag('no-torch') ? null : await TorchTwin.start(t));
  const version = [...twins.values()].find((x) => x)?.version;
  console.log(`sgemm, GFLOP/s: qkv native (${backend.gemmKernel()} micro-kernel) vs ${version ? `torch.mm ${version}` : 'no torch'}; ` +
    `% = share of the fp32 FMA peak at the same thread count (${given ? `--peak=${given} per thread` : describePeak(peaks)})`);
  const head = `${'shape (M×K·K×N)'.padEnd(24)} thr ${'qkv'.padStart(7)} ${'%peak'.padStart(6)} ${'torch'.padStart(7)} ${'%peak'.padStart(6)} ${'qkv/torch'.padStart(9)} ${'target'.padStart(7)}  note`;
  console.log(head);
  console.log('-'.repeat(head.length));
  for (const t of threads) {
    backend.setThreads(t);
    const torch = twins.get(t) ?? null;
    for (const s of SHAPES.filter((x) => families.includes(x.family))) {
      // Alternate short turns so both libraries see the same background load; keep each one's best.
      const ops = operands(backend, s);
      let q = 0;
      let p = torch ? 0 : NaN;
      for (let turn = 0; turn < rounds; turn++) {
        q = Math.max(q, timeQkv(backend, ops, s, seconds / rounds));
        if (torch) p = Math.max(p, await torch.gflops(t, s, seconds / rounds));
      }
      const pk = peaks.find((p) => p.threads === t)!.gflops;
      const pct = (x: number) => (Number.isNaN(x) ? '' : `${((100 * x) / pk).toFixed(0)}%`);
      console.log(`${s.label.padEnd(24)} ${String(t).padStart(3)} ${q.toFixed(1).padStart(7)} ${pct(q).padStart(6)} ${Number.isNaN(p) ? '-'.padStart(7) : p.toFixed(1).padStart(7)} ${pct(p).padStart(6)} ${(Number.isNaN(p) ? '' : (q / p).toFixed(2)).padStart(9)} ${target(s, t).padStart(7)}  ${s.note ?? ''}`);
    }
  }
  for (const twin of twins.values()) twin?.close();
}

if (import.meta.url === `file://${process.argv[1]}`) await benchSgemm();
