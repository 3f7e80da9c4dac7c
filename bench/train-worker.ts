// One qkv training measurement in its own process: prints {tokensPerSec, ..., peakRssMiB} as a JSON line.
// Run by bench/train.ts and bench/wasm.ts; by hand: node --import tsx bench/train-worker.ts --model=gpt --steps=10 [--warmup=2]
// [--composed] [--backend=wasm] [--profile=out.cpuprofile]; QKV_BENCH_VERBOSE=1 prints each step's time and RSS on stderr.

import { MiB, cpuSeconds, flag, median, option, profiled } from './common.js';
import { BenchBackend, ModelName, trainSetup } from './models.js';

const name = option('model', 'gpt') as ModelName;
const steps = Number(option('steps', '10'));
const warmup = Number(option('warmup', '2'));
const baseRss = process.memoryUsage().rss;
const setup = trainSetup(name, warmup + steps, { composed: flag('composed'), backend: option('backend', 'native') as BenchBackend });

let peak = process.memoryUsage().rss;
const sample = () => { peak = Math.max(peak, process.memoryUsage().rss); };
const times: number[] = [];
const cpuTimes: number[] = [];
let loss = NaN;
const step = (i: number) => {
  const t0 = performance.now();
  const c0 = cpuSeconds();
  loss = setup.step(setup.batches[i], sample);
  const dt = performance.now() - t0;
  const dc = (cpuSeconds() - c0) * 1000;
  sample();
  if (i >= warmup) { times.push(dt); cpuTimes.push(dc); }
  if (process.env.QKV_BENCH_VERBOSE) console.error(`step ${i}: ${dt.toFixed(0)} ms, rss ${(process.memoryUsage().rss / MiB).toFixed(0)} MiB`);
};
for (let i = 0; i < warmup; i++) step(i);
// --profile=file.cpuprofile: V8's sampling profile of the timed steps only (bench/profile.ts reads it).
await profiled(option('profile', ''), () => { for (let i = warmup; i < warmup + steps; i++) step(i); });
const total = times.reduce((a, b) => a + b, 0);
console.log(JSON.stringify({
  tokensPerSec: setup.tokens / (median(times) / 1000),
  meanTokensPerSec: (setup.tokens * steps) / (total / 1000),
  stepMs: median(times),
  // CPU time of the process per step (all its threads): for a one-thread run, the step time less waits for a core.
  cpuStepMs: median(cpuTimes),
  peakRssMiB: peak / MiB,
  maxRssMiB: (process.resourceUsage().maxRSS * 1024) / MiB, // the kernel's high-water mark, as ru_maxrss
  baseRssMiB: baseRss / MiB,
  loss,
}));
