// This engine's WebAssembly fp32 peak on one thread: loops of independent f32x4 multiply-adds, assembled here.
//
// `node --import tsx bench/wasm-peak.ts [--seconds=0.6]` prints it alone; bench/wasm.ts divides the wasm sgemm by it.
// Each loop updates independent f32x4 accumulators by multiply-adds, as f32x4.mul then f32x4.add (plain SIMD128, what
// native/wasm/gemm-wasm.c's micro-kernel issues) and as relaxed SIMD's f32x4.relaxed_madd (one FMA where the CPU has
// it; measured only when the engine validates it: Node 20 hides it behind --experimental-wasm-relaxed-simd, which
// this file tries to switch on). Three shapes, each at several sizes, and the best of all is the peak:
//   chain  acc_i = acc_i·w + c, registers only (the multiply on each accumulator's chain);
//   load   acc_i += x_i·w, x_i loaded from L1 (the multiply off the chain);
//   tile   acc_rv += a_r·b_v over an R×V tile, b_v loaded and a_r broadcast from L1 (a GEMM micro-kernel's loop).
// The engine keeps v128 values in the CPU's 16 vector registers less a few, so too many accumulators spill.

import { setFlagsFromString } from 'node:v8';
import { cpuSeconds, option } from './common.js';
import { get, op, section, set, uleb } from '../src/backend/wasm-fma.js';

const UNROLL = 4;

const f32 = (x: number): number[] => [...new Uint8Array(new Float32Array([x]).buffer)];

/** One loop to time: its shape, R rows by V vectors of accumulators (chain and load: R = 1), plain or fused. */
interface Loop {
  shape: 'chain' | 'load' | 'tile';
  R: number;
  V: number;
  fma: boolean;
}

/** v128.load (0x00) or v128.load32_splat (0x09) at a constant byte offset from address 0. */
const load = (offset: number) => [0x41, 0x00, ...op(0x00), 0x04, ...uleb(offset)];
const splat = (offset: number) => [0x41, 0x00, ...op(0x09), 0x02, ...uleb(offset)];
const MUL = op(0xe6);
const ADD = op(0xe4);
const MADD = op(0x105); // relaxed_madd(a, b, c) = a·b + c

/** A module exporting peak(n: i32) → f32: n rounds of UNROLL steps of the loop's R·V multiply-adds on f32x4. */
function peakModule(l: Loop): Uint8Array<ArrayBuffer> {
  const A = l.R * l.V;
  const n = 0;
  const acc = (r: number, v: number) => 1 + r * l.V + v;
  const bl = (v: number) => 1 + A + v; // tile: b_v; chain and load: w (v = 0), c (v = 1)
  const al = 1 + A + Math.max(l.V, 2); // tile: the broadcast a_r
  const locals = A + Math.max(l.V, 2) + 1;
  const madd = (x: number[], y: number[], r: number, v: number) =>
    l.fma ? [...x, ...y, ...get(acc(r, v)), ...MADD, ...set(acc(r, v))] : [...get(acc(r, v)), ...x, ...y, ...MUL, ...ADD, ...set(acc(r, v))];
  const code: number[] = [];
  code.push(0x43, ...f32(0.9999), ...op(0x13), ...set(bl(0)), 0x43, ...f32(0.0001), ...op(0x13), ...set(bl(1)));
  for (let i = 0; i < A; i++) code.push(0x43, ...f32(1 + i / 64), ...op(0x13), ...set(1 + i));
  code.push(0x02, 0x40, 0x03, 0x40); // block, loop
  code.push(...get(n), 0x45, 0x0d, 0x01); // br_if out when n == 0
  for (let u = 0; u < UNROLL; u++) {
    if (l.shape === 'chain') {
      for (let v = 0; v < l.V; v++) {
        code.push(...(l.fma ? [...get(acc(0, v)), ...get(bl(0)), ...get(bl(1)), ...MADD] : [...get(acc(0, v)), ...get(bl(0)), ...MUL, ...get(bl(1)), ...ADD]), ...set(acc(0, v)));
      }
    } else if (l.shape === 'load') {
      for (let v = 0; v < l.V; v++) code.push(...madd(load(16 * ((u * l.V + v) % 64)), get(bl(0)), 0, v));
    } else {
      for (let v = 0; v < l.V; v++) code.push(...load(16 * (u * l.V + v)), ...set(bl(v)));
      for (let r = 0; r < l.R; r++) {
        code.push(...splat(2048 + 4 * (u * l.R + r)), ...set(al));
        for (let v = 0; v < l.V; v++) code.push(...madd(get(al), get(bl(v)), r, v));
      }
    }
  }
  code.push(...get(n), 0x41, 0x01, 0x6b, ...set(n), 0x0c, 0x00, 0x0b, 0x0b); // n -= 1; br loop; end; end
  code.push(...get(1));
  for (let i = 1; i < A; i++) code.push(...get(1 + i), ...ADD);
  code.push(...set(bl(0)));
  for (let lane = 0; lane < 4; lane++) {
    code.push(...get(bl(0)), ...op(0x1f), lane);
    if (lane > 0) code.push(0x92); // f32.add
  }
  code.push(0x0b);
  const body = [0x01, ...uleb(locals), 0x7b, ...code]; // one local group of v128
  const name = [...new TextEncoder().encode('peak')];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [0x01, 0x60, 0x01, 0x7f, 0x01, 0x7d]),
    ...section(3, [0x01, 0x00]),
    ...section(5, [0x01, 0x00, 0x01]), // one page of memory, zeros: x = 0 costs what any x does
    ...section(7, [0x01, ...uleb(name.length), ...name, 0x00, 0x00]),
    ...section(10, [0x01, ...uleb(body.length), ...body]),
  ]);
}

/**
 * Best GFLOP/s of ~2 ms calls over `seconds`, after warm-up calls (the engine's optimising tier takes over from the
 * baseline one), timed by the process's CPU time, so that waiting for a core on a busy machine does not count.
 */
function measure(l: Loop, seconds: number): number {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(peakModule(l)));
  const peak = instance.exports.peak as (n: number) => number;
  const flopPerRound = UNROLL * l.R * l.V * 4 * 2;
  let rounds = 1 << 10;
  for (let i = 0; i < 20; i++) peak(1 << 14);
  for (;;) { // rounds for ~2 ms of CPU time
    const t0 = cpuSeconds();
    peak(rounds);
    const dt = (cpuSeconds() - t0) * 1000;
    if (dt > 4) { rounds = Math.ceil((rounds * 2) / dt); break; }
    rounds *= 2;
  }
  let best = Infinity;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    const t0 = cpuSeconds();
    peak(rounds);
    const dt = cpuSeconds() - t0;
    if (dt > 0) best = Math.min(best, dt);
  }
  return (rounds * flopPerRound) / best / 1e9;
}

/** The two peaks in GFLOP/s and the loops that reached them; fma is null when the engine has no relaxed SIMD. */
export interface WasmPeak {
  mulAdd: number;
  mulAddLoop: string;
  fma: number | null;
  fmaLoop: string;
}

/** The loops timed: accumulator chains of 4 to 16, loaded multiplicands at 4 to 12, tiles around the micro-kernel's. */
const LOOPS: Omit<Loop, 'fma'>[] = [
  ...[4, 6, 8, 10, 12, 14, 16].map((V) => ({ shape: 'chain' as const, R: 1, V })),
  ...[4, 6, 8, 10, 12].map((V) => ({ shape: 'load' as const, R: 1, V })),
  ...[[2, 2], [3, 2], [4, 2], [5, 2], [2, 3], [3, 3], [8, 1]].map(([R, V]) => ({ shape: 'tile' as const, R, V })),
];

const describeLoop = (l: Omit<Loop, 'fma'>) => (l.shape === 'tile' ? `a ${l.R}×${l.V * 4} tile` : `${l.V} ${l.shape === 'chain' ? 'chained' : 'loaded'} accumulators`);

/** The best of every loop (best of `seconds`/count each, so a busy machine reads low, never high). */
function best(fma: boolean, seconds: number): [number, string] {
  let top: [number, string] = [0, ''];
  for (const l of LOOPS) {
    const g = measure({ ...l, fma }, seconds / LOOPS.length);
    if (g > top[0]) top = [g, describeLoop(l)];
  }
  return top;
}

/**
 * Measures both kinds of multiply-add.
 *
 * @example
 * measureWasmPeak(); // { mulAdd: 26.1, mulAddLoop: 'a 4×8 tile', fma: 47.0, fmaLoop: '8 chained accumulators' }
 */
export function measureWasmPeak(seconds = 0.6): WasmPeak {
  const probe: Loop = { shape: 'chain', R: 1, V: 4, fma: true };
  const [mulAdd, mulAddLoop] = best(false, seconds);
  if (!WebAssembly.validate(peakModule(probe))) {
    try { setFlagsFromString('--experimental-wasm-relaxed-simd'); } catch { /* not a flag of this engine */ }
  }
  const [fma, fmaLoop] = WebAssembly.validate(peakModule(probe)) ? best(true, seconds) : [null, ''];
  return { mulAdd, mulAddLoop, fma, fmaLoop };
}

/** One line: `wasm peak measured here, 1 thread: 26.1 GFLOP/s f32x4 mul+add (a 4×8 tile), 47.0 relaxed-SIMD FMA (...)`. */
export function describeWasmPeak(p: WasmPeak): string {
  return `wasm peak measured here, 1 thread: ${p.mulAdd.toFixed(1)} GFLOP/s f32x4 mul+add (${p.mulAddLoop}), ` +
    `${p.fma === null ? 'no relaxed SIMD in this engine' : `${p.fma.toFixed(1)} relaxed-SIMD FMA (${p.fmaLoop})`}`;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(describeWasmPeak(measureWasmPeak(Number(option('seconds', '0.6')))));
