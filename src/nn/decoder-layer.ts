// One decoder layer (paper §3.1): masked self-attention, attention over the encoder's output,
// and the feed-forward network, each with residual and layer norm. Names as torch's.

import type { Tensor } from '../tensor/index.js';
import { MultiHeadAttention, type AttentionResult } from './attention.js';
import { Dropout } from './dropout.js';
import type { TransformerLayerOptions } from './encoder-layer.js';
import { FeedForward } from './feed-forward.js';
import type { LayerKVCache } from './kv-cache.js';
import { LayerNorm } from './layer-norm.js';
import type { Linear } from './linear.js';
import { Module } from './module.js';
import { residual } from './sublayer.js';

export interface DecoderLayerCallOptions {
  /** [T, T] (usually causalMask(T)) or broadcastable to [B, H, T, T]; 1 = not allowed. */
  tgtMask?: Tensor | null;
  /** [T, S] or broadcastable to [B, H, T, S]. */
  memoryMask?: Tensor | null;
  /** [B, T], 1 at target padding. */
  tgtKeyPaddingMask?: Tensor | null;
  /** [B, S], 1 at source padding. */
  memoryKeyPaddingMask?: Tensor | null;
  needWeights?: boolean;
  /**
   * Incremental decoding: self-attention keys and values are appended to `cache.self` (so
   * `tgtMask` is [T, S] and `tgtKeyPaddingMask` [B, S] over all cached positions), and the
   * memory's keys and values are projected once into `cache.cross` and reused.
   */
  cache?: LayerKVCache | null;
}

export interface DecoderLayerOutput {
  /** [B, T, D] */
  output: Tensor;
  /** [B, H, T, T], when asked for. */
  selfAttention?: Tensor;
  /** [B, H, T, S], when asked for. */
  crossAttention?: Tensor;
  /** The scores before the softmax (Q·Kᵀ/√d_k, −Infinity where masked) of selfAttention and crossAttention. */
  selfAttentionScores?: Tensor;
  crossAttentionScores?: Tensor;
}

/**
 * Post-norm (the paper):
 *   x = LN(x + Dropout(SelfAttn(x)));  x = LN(x + Dropout(CrossAttn(x, m)));  x = LN(x + Dropout(FFN(x)))
 * Pre-norm (normFirst):
 *   x = x + Dropout(SelfAttn(LN(x)));  x = x + Dropout(CrossAttn(LN(x), m));  x = x + Dropout(FFN(LN(x)))
 *
 * @example
 * const layer = new TransformerDecoderLayer(16, 4, { dFF: 32, dropout: 0, rng: new Rng(0) });
 * const { output } = layer.forward(tgt, memory, { tgtMask: causalMask(T) });
 */
export class TransformerDecoderLayer extends Module {
  readonly selfAttn: MultiHeadAttention;
  readonly multiheadAttn: MultiHeadAttention;
  readonly ff: FeedForward;
  readonly linear1: Linear;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly norm3: LayerNorm;
  readonly dropout1: Dropout;
  readonly dropout2: Dropout;
  readonly dropout3: Dropout;
  readonly normFirst: boolean;

  constructor(readonly dModel: number, readonly numHeads: number, opts: TransformerLayerOptions) {
    super();
    const p = opts.dropout ?? 0.1;
    const dropRng = opts.dropoutRng ?? opts.rng;
    this.normFirst = opts.normFirst ?? false;
    this.selfAttn = this.addModule('self_attn', new MultiHeadAttention(dModel, numHeads, { ...opts, dropout: opts.attentionDropout ?? 0, dropoutRng: dropRng }));
    this.multiheadAttn = this.addModule('multihead_attn', new MultiHeadAttention(dModel, numHeads, { ...opts, dropout: opts.attentionDropout ?? 0, dropoutRng: dropRng }));
    this.ff = new FeedForward(dModel, opts.dFF ?? 2048, { ...opts, dropout: p, dropoutRng: dropRng });
    this.linear1 = this.addModule('linear1', this.ff.linear1);
    this.addModule('dropout', this.ff.dropout);
    this.linear2 = this.addModule('linear2', this.ff.linear2);
    this.norm1 = this.addModule('norm1', new LayerNorm(dModel, opts));
    this.norm2 = this.addModule('norm2', new LayerNorm(dModel, opts));
    this.norm3 = this.addModule('norm3', new LayerNorm(dModel, opts));
    this.dropout1 = this.addModule('dropout1', new Dropout(p, dropRng));
    this.dropout2 = this.addModule('dropout2', new Dropout(p, dropRng));
    this.dropout3 = this.addModule('dropout3', new Dropout(p, dropRng));
  }

  /** tgt [B, T, D], memory [B, S, D] → [B, T, D] */
  forward(tgt: Tensor, memory: Tensor, opts: DecoderLayerCallOptions = {}): DecoderLayerOutput {
    const need = opts.needWeights;
    const cache = opts.cache;
    if (cache && !cache.cross) cache.cross = this.multiheadAttn.projectKeyValue(memory, memory);
    const selfAttn = (x: Tensor) => this.selfAttn.forward(x, x, x, {
      attnMask: opts.tgtMask, keyPaddingMask: opts.tgtKeyPaddingMask, needWeights: need, kvCache: cache?.self,
    });
    const crossAttn = (x: Tensor) => this.multiheadAttn.forward(x, memory, memory, {
      attnMask: opts.memoryMask, keyPaddingMask: opts.memoryKeyPaddingMask, needWeights: need, keyValue: cache?.cross,
    });
    let sa: AttentionResult | undefined;
    let ca: AttentionResult | undefined;
    let x = residual(tgt, this.norm1, this.dropout1, this.normFirst, (h) => (sa = selfAttn(h)).output);
    x = residual(x, this.norm2, this.dropout2, this.normFirst, (h) => (ca = crossAttn(h)).output);
    x = residual(x, this.norm3, this.dropout3, this.normFirst, (h) => this.ff.forward(h));
    return need ? { output: x, selfAttention: sa!.weights, crossAttention: ca!.weights, selfAttentionScores: sa!.scores, crossAttentionScores: ca!.scores } : { output: x };
  }
}
