// The wasm backend beside native: sgemm GFLOP/s against the engine's measured wasm peak, a GPT training step, and
// GPT forward and generation tokens/s, all in one run so the ratios share the machine's load.
//
// Not a test: `node --import tsx bench/wasm.ts [--quick] [--rounds=2] [--seconds=0.6] [--no-models]`; `npm run bench`
// runs it at the end. wasm runs on one thread (the module is single-threaded), its sgemm in mul + add and, where the
// engine has relaxed SIMD (Node 20: behind --experimental-wasm-relaxed-simd, switched on here), in FMA; native is
// shown on one thread (the same thread count) and on two. Each sgemm figure is the best of short runs taken in alternating turns
// (peak loop, wasm, native 1, native 2, ...), one-thread ones timed by CPU time (a busy machine's waits for a core do
// not count); the model figures are medians over fresh processes, also alternating, with CPU time beside wall time.

import type { View } from '../src/backend/backend.js';
import type { NativeBackend } from '../src/backend/native.js';
import { type WasmBackend, hasRelaxedSimd } from '../src/backend/wasm.js';
import { setFlagsFromString } from 'node:v8';
import { Rng } from '../src/core/rng.js';
import { loadNativeBackend } from '../src/node/backend-select.js';
import { loadWasmBackend } from '../src/node/wasm.js';
import { NODE_TSX, benchFile, cpuSeconds, flag, fmt, median, option, printTable, runWorker, workerEnv } from './common.js';
import { WasmPeak, describeWasmPeak, measureWasmPeak } from './wasm-peak.js';

interface Shape { label: string; batch?: number; m: number; k: number; n: number; tb?: boolean; note?: string }

const SHAPES: Shape[] = [
  { label: '256³', m: 256, k: 256, n: 256 },
  { label: '512³', m: 512, k: 512, n: 512 },
  { label: '1024³', m: 1024, k: 1024, n: 1024 },
  { label: '4096×128·128×512', m: 4096, k: 128, n: 512, note: 'GPT FFN up' },
  { label: '4096×512·512×128', m: 4096, k: 512, n: 128, note: 'GPT FFN down' },
  { label: '512×[32×32·32×32]ᵀ', batch: 512, m: 32, k: 32, n: 32, tb: true, note: 'attention scores' },
  { label: '1×128·128×384ᵀ', m: 1, k: 128, n: 384, tb: true, note: 'decoding QKV' },
];

type AnyBackend = WasmBackend | NativeBackend;

function operands(backend: AnyBackend, s: Shape): [View, View] {
  const rng = new Rng(0);
  const N = s.batch ?? 1;
  const view = (r: number, c: number, transposed = false): View => ({
    storage: backend.fromArray(Float32Array.from({ length: N * r * c }, () => rng.normal())),
    layout: { shape: [N, r, c], strides: transposed ? [r * c, 1, r] : [r * c, c, 1], offset: 0 },
  });
  return [view(s.m, s.k), view(s.k, s.n, s.tb)];
}

/**
 * Best GFLOP/s of ~5 ms runs (each a storage scope, as a training step) within `seconds`. One-thread runs are timed by
 * the process's CPU time (`clock` 'cpu'), so that waiting for a core on a busy machine does not count; runs on more
 * threads by the wall clock.
 */
function time(backend: AnyBackend, [a, b]: [View, View], s: Shape, seconds: number, clock: 'cpu' | 'wall'): number {
  const flop = 2 * (s.batch ?? 1) * s.m * s.k * s.n;
  const reps = Math.max(1, Math.floor(0.005 / Math.max(flop / 20e9, 1e-9)));
  const now = clock === 'cpu' ? cpuSeconds : () => performance.now() / 1000;
  let best = Infinity;
  const start = performance.now();
  for (let runs = 0; runs < 2 || performance.now() - start < seconds * 1000; runs++) {
    const scope = backend.openScope!();
    const t0 = now();
    for (let r = 0; r < reps; r++) backend.matmul(a, b);
    const dt = (now() - t0) / reps;
    if (dt > 0) best = Math.min(best, dt);
    scope.close([]);
  }
  return flop / best / 1e9;
}

/** The better of two peak measurements, loop by loop. */
function better(a: WasmPeak | null, b: WasmPeak): WasmPeak {
  if (!a) return b;
  const mulAdd = b.mulAdd > a.mulAdd ? b : a;
  const fma = (b.fma ?? 0) > (a.fma ?? 0) ? b : a;
  return { mulAdd: mulAdd.mulAdd, mulAddLoop: mulAdd.mulAddLoop, fma: fma.fma, fmaLoop: fma.fmaLoop };
}

/**
 * The sgemm table; returns the best peak it measured. Each shape's shares are of the peaks measured in its own turns
 * (peak loops, wasm, wasm FMA, native 1t, native 2t, repeated), so that all see the same clock and the same neighbours:
 * the mul + add kernel's of the mul + add peak, the FMA kernel's of the FMA peak.
 */
function benchSgemmWasm(wasm: WasmBackend, fma: WasmBackend | null, native: NativeBackend | null, quick: boolean): WasmPeak {
  const seconds = Number(option('seconds', quick ? '0.2' : '0.6'));
  const turns = quick ? 2 : 4;
  let overall: WasmPeak | null = null;
  const rows: { s: Shape; w: number; f: number; n1: number; n2: number; peak: WasmPeak }[] = [];
  const threads = native?.threads() ?? 1;
  for (const s of SHAPES) {
    const wo = operands(wasm, s);
    const fo = fma ? operands(fma, s) : null;
    const no = native ? operands(native, s) : null;
    let peak: WasmPeak | null = null;
    let [w, f, n1, n2] = [0, NaN, NaN, NaN];
    const most = (a: number, b: number) => Math.max(Number.isNaN(a) ? 0 : a, b);
    for (let t = 0; t < turns; t++) {
      peak = better(peak, measureWasmPeak(seconds / 2));
      w = Math.max(w, time(wasm, wo, s, seconds / turns, 'cpu'));
      if (fma && fo) f = most(f, time(fma, fo, s, seconds / turns, 'cpu'));
      if (native && no) {
        native.setThreads(1);
        n1 = most(n1, time(native, no, s, seconds / turns, 'cpu'));
        native.setThreads(2);
        n2 = most(n2, time(native, no, s, seconds / turns, 'wall'));
      }
    }
    rows.push({ s, w, f, n1, n2, peak: peak! });
    overall = better(overall, peak!);
  }
  native?.setThreads(threads);
  const pct = (x: number, p: number | null) => (p && !Number.isNaN(x) ? `${((100 * x) / p).toFixed(0)}%` : '-');
  const best = (r: (typeof rows)[number]) => (Number.isNaN(r.f) ? r.w : Math.max(r.w, r.f));
  printTable(
    `sgemm, GFLOP/s, 1 thread: wasm (mul + add: ${wasm.gemmKernel()}; FMA: ${fma?.gemmKernel() ?? 'no relaxed SIMD'}) beside native ` +
      `(${native?.gemmKernel() ?? 'not built'}); best ${describeWasmPeak(overall!)}; each row's peaks and shares from the loops timed in ` +
      'turns with its products; one-thread figures timed by CPU time, native 2t by the wall clock',
    ['shape (M×K·K×N)', 'wasm', 'mul+add peak', '%', 'wasm FMA', 'FMA peak', '%', 'native 1t', 'native 2t', 'best wasm/native 1t', 'target', 'note'],
    rows.map((r) => [r.s.label, fmt(r.w, 1), fmt(r.peak.mulAdd, 1), pct(r.w, r.peak.mulAdd), fmt(r.f, 1), r.peak.fma === null ? '-' : fmt(r.peak.fma, 1),
      pct(r.f, r.peak.fma), fmt(r.n1, 1), fmt(r.n2, 1), Number.isNaN(r.n1) ? '' : `${fmt(best(r) / r.n1, 2)}×`,
      r.s.m >= 256 && r.s.k >= 256 && r.s.n >= 256 ? '≥ 70%' : '', r.s.note ?? '']),
  );
  return overall!;
}

/** GPT training step and forward/generation tokens/s on wasm and native (1 and 2 threads), fresh processes in turns. */
async function benchModelsWasm(quick: boolean, rounds: number): Promise<void> {
  const sides = [
    { name: 'wasm', args: ['--backend=wasm'], threads: 1 },
    { name: 'wasm FMA', args: ['--backend=wasm-fma'], threads: 1 },
    { name: 'native 1t', args: [], threads: 1 },
    { name: 'native 2t', args: [], threads: 2 },
  ];
  const steps = quick ? 2 : 4;
  const seconds = quick ? 0.6 : 1.5;
  const train = new Map<string, Record<string, number>[]>(sides.map((s) => [s.name, []]));
  const infer = new Map<string, Record<string, number>[]>(sides.map((s) => [s.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const s of sides) {
      const t = await runWorker(process.execPath, [...NODE_TSX, benchFile('train-worker.ts'), '--model=gpt', `--steps=${steps}`, '--warmup=1', ...s.args], workerEnv(s.threads));
      if (t) train.get(s.name)!.push(t);
      const i = await runWorker(process.execPath, [...NODE_TSX, benchFile('infer-worker.ts'), `--seconds=${seconds}`, ...s.args], workerEnv(s.threads));
      if (i) infer.get(s.name)!.push(i);
    }
  }
  const m = (xs: Record<string, number>[] | undefined, k: string) => median((xs ?? []).map((x) => x[k] ?? NaN));
  // [label, worker table, key, per CPU time (one-thread columns only)]
  const metrics: [string, Map<string, Record<string, number>[]>, string, boolean][] = [
    ['training step, B32 T128, ms', train, 'stepMs', false],
    ['  by CPU time, ms', train, 'cpuStepMs', true],
    ['forward, B32 T128, tokens/s', infer, 'forward32', false],
    ['  by CPU time', infer, 'cpuForward32', true],
    ['forward, B1 T128, tokens/s', infer, 'forward1', false],
    ['  by CPU time', infer, 'cpuForward1', true],
    ['greedy 100 tokens, B1, KV cache, tokens/s', infer, 'generate', false],
    ['  by CPU time', infer, 'cpuGenerate', true],
  ];
  printTable(
    `GPT 4×128 (vocab 96) on wasm (1 thread; sgemm mul + add, and relaxed SIMD's FMA) beside native, median of ${rounds} round(s) of fresh processes taken in turns; ` +
      'wasm/native: the step time\'s ratio (lower is better), else the rate\'s (higher is better); "by CPU time": the process\'s ' +
      'CPU time instead of the wall clock (one-thread runs only: waits for a core on a busy machine do not count)',
    ['GPT 4×128', 'wasm', 'wasm FMA', 'native 1t', 'native 2t', 'wasm/native 1t', 'FMA/native 1t', 'FMA/native 2t'],
    metrics.map(([label, table, key, cpu]) => {
      const [w, f, n1, n2] = sides.map((s) => m(table.get(s.name), key));
      return [label, fmt(w), fmt(f), fmt(n1), cpu ? '' : fmt(n2), `${fmt(w / n1, 2)}×`, `${fmt(f / n1, 2)}×`, cpu ? '' : `${fmt(f / n2, 2)}×`];
    }),
  );
}

/** Runs the wasm section of the benchmark and prints its tables. */
export async function benchWasm(quick: boolean, rounds: number): Promise<void> {
  const wasm = loadWasmBackend({ relaxedSimd: false });
  if (!wasm) { console.error('bench: the wasm backend is not built; run `npm run build:wasm` (skipping its tables)'); return; }
  const native = loadNativeBackend();
  if (!hasRelaxedSimd()) {
    try { setFlagsFromString('--experimental-wasm-relaxed-simd'); } catch { /* not a flag of this engine */ }
  }
  const fma = hasRelaxedSimd() ? loadWasmBackend({ relaxedSimd: true }) : null;
  benchSgemmWasm(wasm, fma, native, quick);
  if (!flag('no-models')) await benchModelsWasm(quick, rounds);
}

if (import.meta.url === `file://${process.argv[1]}`) await benchWasm(flag('quick'), Number(option('rounds', flag('quick') ? '1' : '2')));
