// Training tokens/s and peak memory, qkv against its PyTorch twin (bench/train_torch.py), GPT and S2S.
//
// Not a test: run with `npm run bench` or `node --import tsx bench/train.ts [--quick] [--rounds=3] [--composed]`.
// Every measurement is a fresh process (so peak memory is its own), taken in alternating turns
// (qkv, torch, qkv, ...) so both see the same background load; the table shows medians over rounds.

import { NODE_TSX, PYTHON, benchFile, flag, fmt, median, option, printTable, runWorker, workerEnv } from './common.js';

interface Case { model: 'gpt' | 's2s'; label: string; steps: number; target: number }

export interface TrainRow { label: string; qkv: number; torch: number; qkvMiB: number; torchMiB: number; target: number }

/** Runs the training benchmark and prints its table; returns the medians. */
export async function benchTrain(quick: boolean, rounds: number, composed: boolean, threads = 2): Promise<TrainRow[]> {
  const cases: Case[] = [
    { model: 'gpt', label: 'GPT 4×128, B32 T128', steps: quick ? 3 : 8, target: 1.5 },
    { model: 's2s', label: 'S2S 3+3×256, B64 S32 T32', steps: quick ? 2 : 5, target: 1.2 },
  ];
  const warmup = quick ? 1 : 2;
  const env = workerEnv(threads);
  const rows: TrainRow[] = [];
  for (const c of cases) {
    const q: Record<string, number>[] = [];
    const p: Record<string, number>[] = [];
    for (let r = 0; r < rounds; r++) {
      const a = await runWorker(process.execPath, [...NODE_TSX, benchFile('train-worker.ts'), `--model=${c.model}`,
        `--steps=${c.steps}`, `--warmup=${warmup}`, ...(composed ? ['--composed'] : [])], env);
      if (a) q.push(a);
      const b = await runWorker(PYTHON, [benchFile('train_torch.py'), c.model, String(c.steps), String(warmup), String(threads)], env);
      if (b) p.push(b);
    }
    const m = (xs: Record<string, number>[], k: string) => median(xs.map((x) => x[k]));
    rows.push({ label: c.label, qkv: m(q, 'tokensPerSec'), torch: m(p, 'tokensPerSec'), qkvMiB: m(q, 'maxRssMiB'), torchMiB: m(p, 'maxRssMiB'), target: c.target });
  }
  printTable(
    `training, tokens/s (GPT: B·T tokens per step; S2S: source + target tokens) and peak RSS (MiB, ru_maxrss of a fresh process); ` +
      `Adam, ${threads} threads, median of ${rounds} round(s)${composed ? ', qkv without its fused kernels (--composed)' : ''}`,
    ['config', 'qkv tok/s', 'torch tok/s', 'qkv/torch', 'target', 'qkv MiB', 'torch MiB', 'mem target'],
    rows.map((r) => [r.label, fmt(r.qkv), fmt(r.torch), `${fmt(r.qkv / r.torch, 2)}×`, `≥ ${r.target}×`, fmt(r.qkvMiB), fmt(r.torchMiB), `≤ ${fmt(r.torchMiB)}`]),
  );
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchTrain(flag('quick'), Number(option('rounds', flag('quick') ? '1' : '3')), flag('composed'));
}
