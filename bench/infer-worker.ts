// One qkv inference measurement in its own process: GPT forward tokens/s at batch 32 and 1 (context
// 128, under noGrad) and batch-1 greedy generation of 100 tokens with the KV cache; one JSON line out.
// Run by bench/infer.ts and bench/wasm.ts; by hand: node --import tsx bench/infer-worker.ts [--seconds=2] [--composed]
// [--backend=wasm] [--profile=out.cpuprofile] [--profile-part=generate|forward1|forward32] (a profile of that part
// only: by default the generation).

import { GPT, Rng, generate, noGrad, tensor, withStorageScope } from '../src/node/index.js';
import { cpuSeconds, flag, median, option, profiled } from './common.js';
import { BenchBackend, GPT_CONFIG, useBenchBackend } from './models.js';

useBenchBackend(option('backend', 'native') as BenchBackend, flag('composed'));
const seconds = Number(option('seconds', '2'));
const newTokens = Number(option('tokens', '100'));
const model = new GPT(GPT_CONFIG);
model.eval();
const rng = new Rng(99);
const T = GPT_CONFIG.context;

/** CPU seconds per call (all threads) of the last timeIt, median: for a one-thread run, the time less waits for a core. */
let cpuPerCall = NaN;

/** Median seconds per call of f over about `budget` seconds (at least 3 calls, after one warm-up). */
function timeIt(f: () => unknown, budget: number): number {
  f();
  const times: number[] = [];
  const cpu: number[] = [];
  const start = performance.now();
  while (times.length < 3 || performance.now() - start < budget * 1000) {
    const t0 = performance.now();
    const c0 = cpuSeconds();
    f();
    times.push((performance.now() - t0) / 1000);
    cpu.push(cpuSeconds() - c0);
  }
  cpuPerCall = median(cpu);
  return median(times);
}

function forwardTokensPerSec(B: number, budget: number): number {
  const ids = tensor(Int32Array.from({ length: B * T }, () => rng.int(GPT_CONFIG.vocab)), { dtype: 'int32' }).reshape([B, T]);
  // The logits leave the scope as a plain array, so every buffer of the pass backs the next one's.
  return (B * T) / timeIt(() => withStorageScope(ids.backend, () => noGrad(() => model.forward(ids).logits.toArray()), () => []), budget);
}

const part = option('profile-part', 'generate');
const profileOf = (name: string) => (part === name ? option('profile', '') : '');
const forward32 = await profiled(profileOf('forward32'), () => forwardTokensPerSec(32, seconds));
const cpuForward32 = (32 * T) / cpuPerCall;
const forward1 = await profiled(profileOf('forward1'), () => forwardTokensPerSec(1, seconds / 2));
const cpuForward1 = T / cpuPerCall;
let tokens: number[] = [];
const gen = await profiled(profileOf('generate'), () =>
  timeIt(() => { tokens = generate(model, [[1]], { maxNewTokens: newTokens, useCache: true })[0]; }, seconds / 2));
console.log(JSON.stringify({ forward32, forward1, generate: tokens.length / gen, generated: tokens.length,
  cpuForward32, cpuForward1, cpuGenerate: tokens.length / cpuPerCall }));
