// The copy task of the Annotated Transformer: learn to output the source sequence unchanged.
// Run: node --import tsx examples/copy-task.ts

import {
  Adam, LrScheduler, PAPER_ADAM, Rng, Transformer, crossEntropy, greedyDecode, noamSchedule, tensor,
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
  exactMatch: number;
}

/** Trains a 2-layer encoder-decoder on the copy task, then greedy-decodes held-out sequences. */
export function trainCopyTask(opts: { steps?: number; batch?: number; seed?: number; log?: (s: string) => void } = {}): CopyTaskResult {
  const { steps = 800, batch = 32, seed = 1, log } = opts;
  const model = new Transformer({
    srcVocab: COPY_VOCAB, tgtVocab: COPY_VOCAB, dModel: 32, heads: 4, dFF: 64,
    encoderLayers: 2, decoderLayers: 2, dropout: 0, seed,
  });
  const optim = new Adam(model.parameters(), { lr: 0, ...PAPER_ADAM });
  const schedule = new LrScheduler(optim, noamSchedule({ dModel: 32, warmup: 200, factor: 0.4 }));
  const rng = new Rng(seed + 1000);
  const losses: number[] = [];
  model.train();
  for (let step = 0; step < steps; step++) {
    const rows = copyBatch(rng, batch);
    const src = ids(rows);
    const tgtIn = ids(rows.map((r) => r.slice(0, -1)));
    const tgtOut = ids(rows.map((r) => r.slice(1)));
    const { logits } = model.forward(src, tgtIn); // [B, T, V]
    const loss = crossEntropy(logits.reshape([-1, COPY_VOCAB]), tgtOut.reshape([-1]), { ignoreIndex: 0 });
    optim.zeroGrad();
    loss.backward();
    schedule.step();
    optim.step();
    losses.push(loss.item());
    if (log && step % 50 === 0) log(`step ${step} loss ${loss.item().toFixed(4)}`);
  }
  const held = copyBatch(new Rng(seed + 99_999), 64);
  const out = greedyDecode(model, ids(held), { bos: 1, maxLen: COPY_LEN - 1 });
  const exact = out.filter((o, b) => o.join(' ') === held[b].slice(1).join(' ')).length;
  return { losses, exactMatch: exact / held.length };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const t0 = Date.now();
  const r = trainCopyTask({ log: console.log });
  console.log(`final loss ${r.losses.at(-1)!.toFixed(4)}, exact match on 64 held-out sequences: ${(r.exactMatch * 100).toFixed(1)}%, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
