// The copy task of the Annotated Transformer: learn to output the source sequence unchanged.
// Run: node --import tsx examples/copy-task.ts

import {
  Adam, LrScheduler, PAPER_ADAM, Rng, Transformer, clipGradNorm, crossEntropy, greedyDecode, cosineSchedule, tensor,
} from '../src/node/index.js';
import type { Tensor } from '../src/node/index.js';

export const COPY_VOCAB = 11; // 0 = padding, 1 = start symbol, 1..10 = data
export const COPY_LEN = 10;

/** B random sequences of length 10 whose first token is the start symbol 1 (as in the Annotated Transformer). */
export function copyBatch(rng: Rng, B: number): number[][] {
  return Array.from({ length: B }, () => [1, ...Array.from({ length: COPY_LEN - 1 }, () => 1 + rng.int(COPY_VOCAB - 1))]);
}

function ids(rows: number[][]): Tensor {
  return tensor(rows.flat(), { dtype: 'int32', shape: [rows.length, rows[0].length] });
}

export interface CopyTaskResult {
  losses: number[];
  /** Exact-match rate of greedy decoding on 128 held-out test sequences. */
  exactMatch: number;
  /** Steps trained. */
  steps: number;
}

/** Share of rows whose greedy decoding equals the row without its start symbol. */
function exactMatchOn(model: Transformer, rows: number[][]): number {
  const out = greedyDecode(model, ids(rows), { bos: 1, maxLen: COPY_LEN - 1 });
  return out.filter((o, b) => o.join(' ') === rows[b].slice(1).join(' ')).length / rows.length;
}

/**
 * Trains a 2-layer encoder-decoder on the copy task (logging validation exact match when asked),
 * then greedy-decodes a separate held-out test set.
 */
export function trainCopyTask(opts: { steps?: number; batch?: number; seed?: number; log?: (s: string) => void } = {}): CopyTaskResult {
  const { steps = 1000, batch = 32, seed = 1, log } = opts;
  const model = new Transformer({
    srcVocab: COPY_VOCAB, tgtVocab: COPY_VOCAB, dModel: 32, heads: 4, dFF: 64,
    encoderLayers: 2, decoderLayers: 2, dropout: 0, seed,
  });
  const optim = new Adam(model.parameters(), { lr: 0, ...PAPER_ADAM });
  // Warm up, then decay to zero: the model ends at a still point rather than mid-bounce.
  const schedule = new LrScheduler(optim, cosineSchedule({ baseLr: 3e-3, warmup: 100, totalSteps: steps, minLr: 0 }));
  const rng = new Rng(seed + 1000);
  const valid = copyBatch(new Rng(seed + 50_000), 64);
  const test = copyBatch(new Rng(seed + 99_999), 128);
  const losses: number[] = [];
  for (let step = 1; step <= steps; step++) {
    model.train();
    const rows = copyBatch(rng, batch);
    const src = ids(rows);
    const tgtIn = ids(rows.map((r) => r.slice(0, -1)));
    const tgtOut = ids(rows.map((r) => r.slice(1)));
    const { logits } = model.forward(src, tgtIn); // [B, T, V]
    const loss = crossEntropy(logits.reshape([-1, COPY_VOCAB]), tgtOut.reshape([-1]), { ignoreIndex: 0 });
    optim.zeroGrad();
    loss.backward();
    clipGradNorm(model.parameters(), 1);
    schedule.step();
    optim.step();
    losses.push(loss.item());
    if (log && step % 200 === 0) log(`step ${step} loss ${loss.item().toFixed(4)} valid exact match ${(exactMatchOn(model, valid) * 100).toFixed(1)}%`);
  }
  return { losses, exactMatch: exactMatchOn(model, test), steps };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const t0 = Date.now();
  const r = trainCopyTask({ log: console.log });
  console.log(`${r.steps} steps, final loss ${r.losses.at(-1)!.toFixed(4)}, exact match on 128 held-out sequences: ${(r.exactMatch * 100).toFixed(1)}%, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
