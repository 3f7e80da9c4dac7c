// The copy task trained in the page (the Annotated Transformer's, as examples/copy-task.ts trains it in Node),
// over ten symbols a..j so that its checkpoint is an ordinary encoder-decoder that `qkv seq2seq` reads.

import {
  Adam, CHECKPOINT_FORMAT, LrScheduler, PAPER_ADAM, QKV_VERSION, Rng, SymbolTokenizer, Transformer, attentionView,
  checkpointFiles, clipGradNorm, cosineSchedule, crossEntropy, decodeAll, tensor, withStorageScope,
} from '../qkv.js';
import type { AttentionView, Backend, PretrainedSeq2Seq, Tensor } from '../qkv.js';

/** The symbols copied. */
export const COPY_SYMBOLS = 'abcdefghij'.split('');
/** Symbols per sequence (the Annotated Transformer's 10, less its start symbol). */
export const COPY_LENGTH = 9;
/** The input whose attention is redrawn as the model learns. */
export const FIXED_INPUT = 'c a f e b j d g h';

/** Options of a copy-task run; the defaults are examples/copy-task.ts's. */
export interface CopyTaskOptions {
  steps?: number;
  batch?: number;
  seed?: number;
}

/** A random sequence of COPY_LENGTH symbols as text ('c a f ...'). */
export function copySequence(rng: Rng): string {
  return Array.from({ length: COPY_LENGTH }, () => COPY_SYMBOLS[rng.int(COPY_SYMBOLS.length)]).join(' ');
}

/** A model learning to copy, one step at a time (so a worker can pause between steps). */
export class CopyTaskRun {
  readonly tokenizer = SymbolTokenizer.fromSymbols(COPY_SYMBOLS);
  readonly model: Transformer;
  readonly steps: number;
  step = 0;
  private readonly optim: Adam;
  private readonly schedule: LrScheduler;
  private readonly rng: Rng;
  private readonly batch: number;
  /** 128 held-out sequences, as examples/copy-task.ts scores. */
  readonly test: string[];

  constructor(o: CopyTaskOptions = {}, readonly backend?: Backend) {
    this.steps = o.steps ?? 1000;
    this.batch = o.batch ?? 32;
    const seed = o.seed ?? 1;
    const V = this.tokenizer.vocabSize;
    this.model = new Transformer({ srcVocab: V, tgtVocab: V, dModel: 32, heads: 4, dFF: 64, encoderLayers: 2, decoderLayers: 2, dropout: 0, maxLen: 32, seed, backend });
    this.optim = new Adam(this.model.parameters(), { lr: 0, ...PAPER_ADAM });
    // Warm up, then decay to zero: the model ends at a still point rather than mid-bounce.
    this.schedule = new LrScheduler(this.optim, cosineSchedule({ baseLr: 3e-3, warmup: Math.min(100, Math.floor(this.steps / 4)), totalSteps: this.steps, minLr: 0 }));
    this.rng = new Rng(seed + 1000);
    const testRng = new Rng(seed + 99_999);
    this.test = Array.from({ length: 128 }, () => copySequence(testRng));
  }

  private ids(rows: number[][]): Tensor {
    return tensor(Int32Array.from(rows.flat()), { dtype: 'int32', shape: [rows.length, rows[0].length], backend: this.backend });
  }

  /** One training step on a fresh batch; returns its loss. */
  trainStep(): number {
    const tok = this.tokenizer;
    const src = Array.from({ length: this.batch }, () => tok.encode(copySequence(this.rng)));
    const tgt = src.map((r) => [tok.bosId, ...r, tok.eosId]);
    this.model.train();
    const loss = withStorageScope(this.model.parameters()[0].backend, () => {
      const { logits } = this.model.forward(this.ids(src), this.ids(tgt.map((r) => r.slice(0, -1)))); // [B, T, V]
      const l = crossEntropy(logits.reshape([-1, tok.vocabSize]), this.ids(tgt.map((r) => r.slice(1))).reshape([-1]), { ignoreIndex: tok.padId });
      this.optim.zeroGrad();
      l.backward();
      clipGradNorm(this.model.parameters(), 1);
      this.schedule.step();
      this.optim.step();
      this.optim.zeroGrad();
      return l.item();
    }, () => this.optim.liveTensors());
    this.step++;
    return loss;
  }

  /** Share of the held-out sequences that greedy decoding copies exactly. */
  exactMatch(): number {
    const tok = this.tokenizer;
    const out = decodeAll(this.model, this.test.map((s) => tok.encode(s)), { padId: tok.padId, bosId: tok.bosId, eosId: tok.eosId, maxLen: () => COPY_LENGTH + 1 });
    return out.filter((ids, i) => tok.decode(ids) === this.test[i]).length / this.test.length;
  }

  /** The model as a loaded checkpoint (what the page's views and pipelines take). */
  pretrained(): PretrainedSeq2Seq {
    const { backend: _b, ...model } = this.model.config as unknown as Record<string, unknown>;
    return {
      kind: 'transformer', model: this.model, tokenizer: this.tokenizer, targetTokenizer: this.tokenizer, task: 'copy', source: 'trained in the page',
      config: { format: CHECKPOINT_FORMAT, qkvVersion: QKV_VERSION, modelKind: 'transformer', model, task: { name: 'copy', options: { beam: 1 } } },
    };
  }

  /** The attention of FIXED_INPUT now, greedy. */
  async view(): Promise<AttentionView> {
    this.model.eval();
    return attentionView(this.pretrained(), FIXED_INPUT, { numBeams: 1 });
  }

  /** The checkpoint's files (config.json, model.safetensors, tokenizer.json): what `qkv` reads. */
  files(): Record<string, Uint8Array | string> {
    return checkpointFiles({
      modelKind: 'transformer', modelConfig: this.model.config, model: this.model, tokenizer: this.tokenizer, targetTokenizer: this.tokenizer,
      task: { name: 'copy', options: { beam: 1, steps: this.step } },
    });
  }
}
