// The copy task (examples/copy-task.ts) as a TrainTask: seeded batches, cross-entropy loss, exact-match evaluation.

import { COPY_LEN, COPY_VOCAB, copyBatch } from '../../examples/copy-task.js';
import { Rng, Transformer, crossEntropy, greedyDecode, tensor } from '../../src/index.js';
import type { Tensor, TrainTask } from '../../src/index.js';

export interface CopyTaskOptions {
  batch: number;
  batchesPerEpoch: number;
  labelSmoothing?: number;
}

function ids(rows: number[][]): Tensor {
  return tensor(rows.flat(), { dtype: 'int32', shape: [rows.length, rows[0].length] });
}

/** Epochs of `batchesPerEpoch` random batches, drawn lazily from the trainer's data Rng. */
export function copyTask(options: CopyTaskOptions): TrainTask<Transformer, number[][]> {
  return {
    name: 'copy',
    options: { ...options },
    *batches(_epoch: number, rng: Rng) {
      for (let i = 0; i < options.batchesPerEpoch; i++) yield copyBatch(rng, options.batch);
    },
    loss(model, rows) {
      const { logits } = model.forward(ids(rows), ids(rows.map((r) => r.slice(0, -1)))); // [B, T, V]
      const tgt = ids(rows.map((r) => r.slice(1)));
      const loss = crossEntropy(logits.reshape([-1, COPY_VOCAB]), tgt.reshape([-1]), { ignoreIndex: 0, labelSmoothing: options.labelSmoothing ?? 0 });
      return { loss, tokens: rows.length * (COPY_LEN - 1) };
    },
    evaluate(model) {
      const held = copyBatch(new Rng(424242), 8);
      const out = greedyDecode(model, ids(held), { bos: 1, maxLen: COPY_LEN - 1 });
      return { exactMatch: out.filter((o, b) => o.join(' ') === held[b].slice(1).join(' ')).length / held.length };
    },
  };
}

/** A tiny encoder-decoder with dropout, so the dropout Rng's state matters. */
export function tinyCopyModel(seed = 3): Transformer {
  return new Transformer({
    srcVocab: COPY_VOCAB, tgtVocab: COPY_VOCAB, dModel: 16, heads: 2, dFF: 32,
    encoderLayers: 1, decoderLayers: 1, dropout: 0.1, seed,
  });
}
