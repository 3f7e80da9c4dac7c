// One side of bench/ort.ts in its own process: qkv (native or wasm) or onnxruntime (node's CPU EP or web's wasm EP),
// answering the parent's JSON lines on stdin with JSON lines on stdout, so the two sides take turns in one invocation.
//
// Requests: {"op":"check"} → the logits of a fixed B2 T128 batch (base64 float32) and greedy tokens; {"op":"time",
// "case":"forward32","seconds":1} → {"value": tokens/s}. Cases: forward32 / forward1 (B32 or B1 × T128), gen1 (B1
// greedy 100 tokens), dec4 / dec16 / dec64 (B rows greedy 32 tokens), s2s64 / s2s1 (the S2S model's forward, B64 or
// B1 × S32 T32, tokens counted B·(S + T) as bench/models.ts does); an ORT side adds the suffix "kv" for its
// KV-cache graph (gen1kv, dec16kv), and without it re-runs the growing prefix; qkv always decodes with its cache.
// By hand: node --import tsx bench/ort-worker.ts --side=ort-node --onnx=<dir> --s2s=<s2s.onnx> --config='{"vocab":96,...}'

import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import { Rng } from '../src/core/rng.js';
import { median, option } from './common.js';

export type OrtSide = 'qkv-native' | 'qkv-wasm' | 'ort-node' | 'ort-web';

/** What the worker needs of the model's config (GPT_CONFIG), given by the parent so an ORT side never loads qkv. */
export interface WorkerConfig {
  vocab: number; dModel: number; heads: number; layers: number; context: number;
  /** The S2S model's vocabulary (source and target) and the benchmark's source and target length. */
  s2sVocab: number; s2sLen: number;
}

/** One side's model: a forward of ids [B, T] to flat logits [B, T, V], and greedy decoding of B rows. */
interface Runner {
  forward(ids: Int32Array, B: number, T: number): Promise<Float32Array>;
  /** New tokens of each row, `n` per row, after one-token prompts; `kv`: an ORT side's KV-cache graph. */
  generate(prompts: number[], n: number, kv: boolean): Promise<number[][]>;
  /** An ORT side's decode graph run position by position from an empty cache over ids [B, T]: flat logits [B, T, V]. */
  stepLogits?(ids: Int32Array, B: number, T: number): Promise<Float32Array>;
  /** The S2S model: src [B, S] and tgt [B, T] → flat logits [B, T, V]. */
  s2s(src: Int32Array, tgt: Int32Array, B: number, S: number, T: number): Promise<Float32Array>;
}

export const CHECK_B = 2;
export const GEN_TOKENS = 100;
export const DEC_TOKENS = 32;

function argmaxRows(logits: Float32Array, rows: number, V: number, stride: number, offset: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < rows; b++) {
    const base = b * stride + offset;
    let best = 0;
    for (let v = 1; v < V; v++) if (logits[base + v] > logits[base + best]) best = v;
    out.push(best);
  }
  return out;
}

async function qkvRunner(side: 'qkv-native' | 'qkv-wasm'): Promise<Runner> {
  const { GPT, Transformer, generate, noGrad, tensor, withStorageScope } = await import('../src/node/index.js');
  const { GPT_CONFIG, S2S_CONFIG, useBenchBackend } = await import('./models.js');
  useBenchBackend(side === 'qkv-native' ? 'native' : 'wasm');
  const model = new GPT(GPT_CONFIG);
  model.eval();
  let s2s: InstanceType<typeof Transformer> | null = null;
  return {
    async s2s(src, tgt, B, S, T) {
      s2s ??= new Transformer(S2S_CONFIG);
      s2s.eval();
      const a = tensor(src, { dtype: 'int32' }).reshape([B, S]);
      const b = tensor(tgt, { dtype: 'int32' }).reshape([B, T]);
      return withStorageScope(a.backend, () => noGrad(() => s2s!.forward(a, b).logits.toArray() as Float32Array), () => []);
    },
    async forward(ids, B, T) {
      const x = tensor(ids, { dtype: 'int32' }).reshape([B, T]);
      return withStorageScope(x.backend, () => noGrad(() => model.forward(x).logits.toArray() as Float32Array), () => []);
    },
    async generate(prompts, n) {
      return generate(model, prompts.map((p) => [p]), { maxNewTokens: n, useCache: true });
    },
  };
}

async function ortRunner(side: 'ort-node' | 'ort-web', dir: string, s2sPath: string, c: WorkerConfig): Promise<Runner> {
  type Ort = typeof import('onnxruntime-node');
  let ort: Ort;
  let options: object;
  if (side === 'ort-node') {
    ort = await import('onnxruntime-node');
    options = { executionProviders: ['cpu'], intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
  } else {
    ort = (await import('onnxruntime-web')) as unknown as Ort;
    const env = ort.env as unknown as { wasm: { numThreads: number; proxy: boolean } };
    env.wasm.numThreads = 1;
    env.wasm.proxy = false;
    options = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
  }
  const open = (path: string) => ort.InferenceSession.create(new Uint8Array(readFileSync(path)), options);
  const full = await open(`${dir}/gpt.onnx`);
  const step = await open(`${dir}/gpt-decode.onnx`);
  let s2s: Awaited<ReturnType<typeof open>> | null = null;
  const V = c.vocab;
  const H = c.heads;
  const K = c.dModel / c.heads;
  const int64 = (xs: ArrayLike<number>, dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(Array.from(xs, BigInt)), dims);
  const emptyPast = (B: number) => new ort.Tensor('float32', new Float32Array(0), [2 * c.layers, B, H, 0, K]);
  const forward = async (ids: Int32Array, B: number, T: number) => (await full.run({ ids: int64(ids, [B, T]) })).logits.data as Float32Array;
  return {
    forward,
    async s2s(src, tgt, B, S, T) {
      s2s ??= await open(s2sPath);
      return (await s2s.run({ src: int64(src, [B, S]), tgt: int64(tgt, [B, T]) })).logits.data as Float32Array;
    },
    async generate(prompts, n, kv) {
      const B = prompts.length;
      const seqs = prompts.map((p) => [p]);
      let past = emptyPast(B);
      for (let i = 0; i < n; i++) {
        let next: number[];
        if (kv) {
          const r = await step.run({ ids: int64(seqs.map((s) => s[s.length - 1]), [B, 1]), past });
          past = r.present as typeof past;
          next = argmaxRows(r.logits.data as Float32Array, B, V, V, 0);
        } else {
          const T = seqs[0].length;
          next = argmaxRows(await forward(Int32Array.from(seqs.flat()), B, T), B, V, T * V, (T - 1) * V);
        }
        next.forEach((t, b) => seqs[b].push(t));
      }
      return seqs.map((s) => s.slice(1));
    },
    async stepLogits(ids, B, T) {
      const out = new Float32Array(B * T * V);
      let past = emptyPast(B);
      for (let t = 0; t < T; t++) {
        const col = Array.from({ length: B }, (_, b) => ids[b * T + t]);
        const r = await step.run({ ids: int64(col, [B, 1]), past });
        past = r.present as typeof past;
        const l = r.logits.data as Float32Array;
        for (let b = 0; b < B; b++) out.set(l.subarray(b * V, (b + 1) * V), (b * T + t) * V);
      }
      return out;
    },
  };
}

const warmed = new Set<string>();

/** Median seconds per call of f over about `budget` seconds (at least 2 calls; the first time a case runs, after a warm-up call). */
async function timeIt(name: string, f: () => Promise<unknown>, budget: number): Promise<number> {
  if (!warmed.has(name)) await f();
  warmed.add(name);
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 2 || performance.now() - start < budget * 1000) {
    const t0 = performance.now();
    await f();
    times.push((performance.now() - t0) / 1000);
  }
  return median(times);
}

function randomIds(rng: Rng, n: number, vocab: number): Int32Array {
  return Int32Array.from({ length: n }, () => rng.int(vocab));
}

const b64 = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');

async function main(): Promise<void> {
  const side = option('side', 'qkv-native') as OrtSide;
  const c = JSON.parse(option('config', '{}')) as WorkerConfig;
  const runner = side.startsWith('qkv') ? await qkvRunner(side as 'qkv-native' | 'qkv-wasm') : await ortRunner(side as 'ort-node' | 'ort-web', option('onnx', ''), option('s2s', ''), c);
  const T = c.context;
  const rng = new Rng(99);
  const lines = createInterface({ input: process.stdin });
  console.log(JSON.stringify({ ready: side }));
  for await (const line of lines) {
    const req = JSON.parse(line) as { op: string; case?: string; seconds?: number };
    if (req.op === 'check') {
      const ids = randomIds(new Rng(7), CHECK_B * T, c.vocab);
      const logits = await runner.forward(ids, CHECK_B, T);
      const step = runner.stepLogits ? b64(await runner.stepLogits(ids, CHECK_B, T)) : null;
      const prompt = [1, 5, 9, 33];
      const tokens = await runner.generate(prompt, GEN_TOKENS, false);
      const tokensKV = runner.stepLogits ? await runner.generate(prompt, GEN_TOKENS, true) : null;
      const L = c.s2sLen;
      const s2s = await runner.s2s(randomIds(new Rng(8), CHECK_B * L, c.s2sVocab), randomIds(new Rng(9), CHECK_B * L, c.s2sVocab), CHECK_B, L, L);
      console.log(JSON.stringify({ logits: b64(logits), step, tokens, tokensKV, s2s: b64(s2s) }));
      continue;
    }
    const name = req.case ?? '';
    const kv = name.endsWith('kv');
    const base = kv ? name.slice(0, -2) : name;
    const budget = req.seconds ?? 1;
    let value: number;
    if (base === 'forward32' || base === 'forward1') {
      const B = base === 'forward32' ? 32 : 1;
      const ids = randomIds(rng, B * T, c.vocab);
      value = (B * T) / await timeIt(name, () => runner.forward(ids, B, T), budget);
    } else if (base === 's2s64' || base === 's2s1') {
      const B = base === 's2s64' ? 64 : 1;
      const L = c.s2sLen;
      const src = randomIds(rng, B * L, c.s2sVocab);
      const tgt = randomIds(rng, B * L, c.s2sVocab);
      value = (B * 2 * L) / await timeIt(name, () => runner.s2s(src, tgt, B, L, L), budget);
    } else if (base === 'gen1' || base.startsWith('dec')) {
      const B = base === 'gen1' ? 1 : Number(base.slice(3));
      const n = base === 'gen1' ? GEN_TOKENS : DEC_TOKENS;
      const prompts = Array.from({ length: B }, () => 1 + rng.int(c.vocab - 1));
      value = (B * n) / await timeIt(name, () => runner.generate(prompts, n, kv), budget);
    } else {
      throw new Error(`bench/ort-worker: unknown case '${name}', expected forward32, forward1, gen1, decN, s2s64 or s2s1, with 'kv' on an ORT side`);
    }
    console.log(JSON.stringify({ value }));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
