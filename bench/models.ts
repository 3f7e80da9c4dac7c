// The two reference configs of the benchmarks (GPT and S2S), their random batches and one training step.

import { Adam, GPT, Rng, Transformer, crossEntropy, installDefaultBackend, loadWasmBackend, setDefaultBackend, tensor, withStorageScope } from '../src/node/index.js';
import type { Backend, Tensor } from '../src/node/index.js';
import { setFlagsFromString } from 'node:v8';

/** GPT: vocab 96, 4 layers, 4 heads, d 128, d_ff 512, context 128, batch 32, pre-norm, gelu, learned positions, tied head. */
export const GPT_CONFIG = { vocab: 96, dModel: 128, heads: 4, layers: 4, dFF: 512, context: 128, dropout: 0, seed: 0 } as const;
export const GPT_BATCH = 32;

/** S2S: torch.nn.Transformer's layout (post-norm, relu, final norms) at d 256, 4 heads, 3+3 layers, d_ff 1024. */
export const S2S_CONFIG = {
  srcVocab: 64, tgtVocab: 64, dModel: 256, heads: 4, encoderLayers: 3, decoderLayers: 3, dFF: 1024,
  dropout: 0, finalNorm: true, maxLen: 64, seed: 0,
} as const;
export const S2S_BATCH = 64;
export const S2S_LEN = 32;

export type ModelName = 'gpt' | 's2s';

/**
 * The backends a benchmark worker runs on (--backend=): native (threads from QKV_THREADS), wasm (one thread; its sgemm
 * mul + add) or wasm-fma (its sgemm on relaxed SIMD's FMA, switched on in Node 20's engine by its flag).
 */
export type BenchBackend = 'native' | 'wasm' | 'wasm-fma';

/** Makes `name` the default backend, without its fused kernels when `composed`; exits with a message when it does not load. */
export function useBenchBackend(name: BenchBackend, composed = false): Backend {
  if (name === 'native') return installDefaultBackend(composed ? { fused: false } : {});
  const relaxedSimd = name === 'wasm-fma';
  if (relaxedSimd) setFlagsFromString('--experimental-wasm-relaxed-simd');
  const wasm = loadWasmBackend({ relaxedSimd, ...(composed ? { fused: false } : {}) });
  if (!wasm) {
    console.error('bench: the wasm backend did not load; run `npm run build:wasm`');
    process.exit(1);
  }
  setDefaultBackend(wasm);
  return wasm;
}

/** One benchmark run's model and a closure for one Adam training step on a batch; returns the loss. */
export interface TrainSetup {
  /** Tokens per step: GPT B·T; S2S source plus target tokens, B·(S + T). */
  tokens: number;
  /** Seeded random batches, made up front so that drawing them is not timed. */
  batches: Tensor[][];
  step: (batch: Tensor[], onPhase?: () => void) => number;
}

/** Random int32 [rows, cols] ids in [0, vocab). */
function randomIds(rng: Rng, rows: number, cols: number, vocab: number): Tensor {
  const ids = Int32Array.from({ length: rows * cols }, () => Math.floor(rng.uniform() * vocab));
  return tensor(ids, { dtype: 'int32' }).reshape([rows, cols]);
}

/**
 * The model, its optimizer and `count` batches, on the native backend (or `backend`). `composed: true` turns its
 * fused kernels off (the composed ops of src/tensor on the same native kernels); by default the
 * backend's own default applies (see src/node/backend-select.ts).
 */
export function trainSetup(name: ModelName, count: number, opts: { composed?: boolean; batch?: number; context?: number; backend?: BenchBackend } = {}): TrainSetup {
  useBenchBackend(opts.backend ?? 'native', opts.composed);
  const rng = new Rng(1234);
  if (name === 'gpt') {
    const B = opts.batch ?? GPT_BATCH;
    const T = opts.context ?? GPT_CONFIG.context;
    const model = new GPT(GPT_CONFIG);
    model.train();
    const opt = new Adam(model.parameters(), { lr: 3e-4 });
    const batches = Array.from({ length: count }, () => {
      const ids = randomIds(rng, B, T + 1, GPT_CONFIG.vocab); // [B, T+1]
      return [ids.narrow(1, 0, T).contiguous(), ids.narrow(1, 1, T).contiguous()];
    });
    // A storage scope per step, as the Trainer does (src/tensor/scope.ts): its buffers back the next step's.
    const step = ([x, y]: Tensor[], onPhase?: () => void): number => withStorageScope(x.backend, () => {
      const { logits } = model.forward(x); // [B, T, V]
      const loss = crossEntropy(logits.reshape([-1, GPT_CONFIG.vocab]), y.reshape([-1]));
      onPhase?.();
      loss.backward();
      onPhase?.();
      opt.step();
      opt.zeroGrad();
      return loss.item();
    }, () => opt.liveTensors());
    return { tokens: B * T, batches, step };
  }
  const B = opts.batch ?? S2S_BATCH;
  const L = opts.context ?? S2S_LEN;
  const model = new Transformer(S2S_CONFIG);
  model.train();
  const opt = new Adam(model.parameters(), { lr: 3e-4 });
  const batches = Array.from({ length: count }, () => {
    const src = randomIds(rng, B, L, S2S_CONFIG.srcVocab); // [B, S]
    const tgt = randomIds(rng, B, L + 1, S2S_CONFIG.tgtVocab); // [B, T+1]
    return [src, tgt.narrow(1, 0, L).contiguous(), tgt.narrow(1, 1, L).contiguous()];
  });
  const step = ([src, tgtIn, tgtOut]: Tensor[], onPhase?: () => void): number => withStorageScope(src.backend, () => {
    const { logits } = model.forward(src, tgtIn); // [B, T, V]; the causal target mask is the default
    const loss = crossEntropy(logits.reshape([-1, S2S_CONFIG.tgtVocab]), tgtOut.reshape([-1]));
    onPhase?.();
    loss.backward();
    onPhase?.();
    opt.step();
    opt.zeroGrad();
    return loss.item();
  }, () => opt.liveTensors());
  return { tokens: B * 2 * L, batches, step };
}
