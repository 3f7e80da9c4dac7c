// GPT inference, qkv against its PyTorch twin (bench/infer_torch.py): forward tokens/s at batch 32 and 1,
// and batch-1 greedy generation of 100 tokens with a KV cache.
//
// Not a test: run with `npm run bench` or `node --import tsx bench/infer.ts [--quick] [--rounds=3] [--composed]`.
// Each round is one fresh process per side, qkv and torch in alternating turns; the table shows medians.

import { NODE_TSX, PYTHON, benchFile, flag, fmt, median, option, printTable, runWorker, workerEnv } from './common.js';

export interface InferRow { label: string; qkv: number; torch: number; target: string }

/** Runs the inference benchmark and prints its table; returns the medians. */
export async function benchInfer(quick: boolean, rounds: number, composed: boolean, threads = 2): Promise<InferRow[]> {
  const seconds = quick ? 0.6 : 2;
  const env = workerEnv(threads);
  const q: Record<string, number>[] = [];
  const p: Record<string, number>[] = [];
  for (let r = 0; r < rounds; r++) {
    const a = await runWorker(process.execPath, [...NODE_TSX, benchFile('infer-worker.ts'), `--seconds=${seconds}`, ...(composed ? ['--composed'] : [])], env);
    if (a) q.push(a);
    const b = await runWorker(PYTHON, [benchFile('infer_torch.py'), String(seconds), '100', String(threads)], env);
    if (b) p.push(b);
  }
  const m = (xs: Record<string, number>[], k: string) => median(xs.map((x) => x[k] ?? NaN));
  const rows: InferRow[] = [
    { label: 'forward, B32 T128', qkv: m(q, 'forward32'), torch: m(p, 'forward32'), target: '≥ 2.2×' },
    { label: 'forward, B1 T128', qkv: m(q, 'forward1'), torch: m(p, 'forward1'), target: '' },
    { label: 'greedy 100 tokens, B1, KV cache', qkv: m(q, 'generate'), torch: m(p, 'generate'), target: '≥ 5,000 tok/s' },
    { label: 'greedy 100 tokens, B1, torch without cache', qkv: NaN, torch: m(p, 'generateNoCache'), target: '' },
  ];
  const agrees = p.every((x) => x.cacheAgrees === 1);
  printTable(
    `inference, GPT 4×128 (vocab 96), tokens/s under noGrad / no_grad, ${threads} threads, median of ${rounds} round(s)${composed ? ', qkv without its fused kernels (--composed)' : ''}\n` +
      `(torch's cached decoding is a 20-line Python loop over the same layers' weights; its tokens ${agrees ? 'agree' : 'DIFFER'} with the uncached loop's)`,
    ['case', 'qkv', 'torch', 'qkv/torch', 'target'],
    rows.map((r) => [r.label, fmt(r.qkv), fmt(r.torch), Number.isNaN(r.qkv) ? '' : `${fmt(r.qkv / r.torch, 2)}×`, r.target]),
  );
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchInfer(flag('quick'), Number(option('rounds', flag('quick') ? '1' : '3')), flag('composed'));
}
