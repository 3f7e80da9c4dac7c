// One encoder layer (paper §3.1): self-attention, then the feed-forward network, each wrapped
// in a residual connection and layer normalisation. Names as torch.nn.TransformerEncoderLayer.

import type { Rng } from '../core/rng.js';
import { Tensor, isGradEnabled } from '../tensor/index.js';
import { MultiHeadAttention, type AttentionResult } from './attention.js';
import { Dropout } from './dropout.js';
import { Activation, FeedForward } from './feed-forward.js';
import type { ParamOptions } from './init.js';
import type { KVBuffer } from './kv-cache.js';
import { LayerNorm } from './layer-norm.js';
import type { Linear } from './linear.js';
import { Module } from './module.js';
import { residual } from './sublayer.js';

/** Options shared by encoder and decoder layers; defaults are the paper's base model. */
export interface TransformerLayerOptions extends ParamOptions {
  /** d_ff, the inner size of the feed-forward network (default 2048). */
  dFF?: number;
  /** P_drop (default 0.1): on each sublayer's output and inside the FFN (after the activation). */
  dropout?: number;
  /**
   * Dropout on the attention weights (default 0, the paper: §5.4 drops only sublayer outputs and
   * embedding sums). torch.nn.Transformer's single `dropout` also drops attention weights; set
   * this equal to `dropout` to match it. At 0, training can use a fused attention kernel.
   */
  attentionDropout?: number;
  activation?: Activation;
  /** Pre-norm, x + Sublayer(LN(x)), instead of the paper's post-norm LN(x + Sublayer(x)). */
  normFirst?: boolean;
  /** LayerNorm ε (default 1e-5). */
  eps?: number;
  /** Generator of dropout masks (default: `rng`). */
  dropoutRng?: Rng;
}

export interface EncoderLayerCallOptions {
  /** [S, S] or broadcastable to [B, H, S, S]; 1 = not allowed. */
  srcMask?: Tensor | null;
  /** [B, S], 1 at padding. */
  srcKeyPaddingMask?: Tensor | null;
  needWeights?: boolean;
  /**
   * Incremental decoding (a decoder-only model built from these layers): keys and values are
   * appended here, and the masks cover every cached key ([T, S], [B, S]).
   */
  kvCache?: KVBuffer | null;
}

export interface EncoderLayerOutput {
  /** [B, S, D] */
  output: Tensor;
  /** [B, H, S, S], when asked for. */
  selfAttention?: Tensor;
  /** The scores before the softmax that gave selfAttention, [B, H, S, S] (Q·Kᵀ/√d_k, −Infinity where masked). */
  selfAttentionScores?: Tensor;
}

/**
 * Post-norm (the paper):  x = LN(x + Dropout(SelfAttn(x)));  x = LN(x + Dropout(FFN(x)))
 * Pre-norm (normFirst):   x = x + Dropout(SelfAttn(LN(x)));  x = x + Dropout(FFN(LN(x)))
 *
 * @example
 * const layer = new TransformerEncoderLayer(16, 4, { dFF: 32, dropout: 0, rng: new Rng(0) });
 * const { output } = layer.forward(x, { srcKeyPaddingMask: paddingMask([5, 3], 5) });
 */
export class TransformerEncoderLayer extends Module {
  readonly selfAttn: MultiHeadAttention;
  readonly ff: FeedForward;
  readonly linear1: Linear;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly dropout1: Dropout;
  readonly dropout2: Dropout;
  readonly normFirst: boolean;

  constructor(readonly dModel: number, readonly numHeads: number, opts: TransformerLayerOptions) {
    super();
    const p = opts.dropout ?? 0.1;
    const dropRng = opts.dropoutRng ?? opts.rng;
    this.normFirst = opts.normFirst ?? false;
    this.selfAttn = this.addModule('self_attn', new MultiHeadAttention(dModel, numHeads, { ...opts, dropout: opts.attentionDropout ?? 0, dropoutRng: dropRng }));
    // The feed-forward parts sit directly on the layer, under torch's names.
    this.ff = new FeedForward(dModel, opts.dFF ?? 2048, { ...opts, dropout: p, dropoutRng: dropRng });
    this.linear1 = this.addModule('linear1', this.ff.linear1);
    this.addModule('dropout', this.ff.dropout);
    this.linear2 = this.addModule('linear2', this.ff.linear2);
    this.norm1 = this.addModule('norm1', new LayerNorm(dModel, opts));
    this.norm2 = this.addModule('norm2', new LayerNorm(dModel, opts));
    this.dropout1 = this.addModule('dropout1', new Dropout(p, dropRng));
    this.dropout2 = this.addModule('dropout2', new Dropout(p, dropRng));
  }

  /** src [B, S, D] → [B, S, D] */
  forward(src: Tensor, opts: EncoderLayerCallOptions = {}): EncoderLayerOutput {
    const selfAttn = (x: Tensor) => this.selfAttn.forward(x, x, x, {
      attnMask: opts.srcMask, keyPaddingMask: opts.srcKeyPaddingMask, needWeights: opts.needWeights, kvCache: opts.kvCache,
    });
    let sa: AttentionResult | undefined;
    let x = residual(src, this.norm1, this.dropout1, this.normFirst, (h) => (sa = selfAttn(h)).output);
    x = residual(x, this.norm2, this.dropout2, this.normFirst, (h) => this.ff.forward(h));
    return opts.needWeights ? { output: x, selfAttention: sa!.weights, selfAttentionScores: sa!.scores } : { output: x };
  }

  /**
   * One cached decoding step in one backend call (Backend.decodeBlock): x [B, 1, D] → [B, 1, D], what
   * forward(x, { kvCache: cache }) gives for a single new position (which sees every cached one: the causal
   * mask is implicit), with the cache advanced alike. Returns null, touching nothing, when that fast path
   * does not apply: gradients recorded, dropout active, no kernel on x's backend (or none for its dtype and
   * layouts), or a cache not yet allocated, full, or of another batch size. Masks and attention weights are
   * not supported here: callers with either use forward.
   *
   * @example
   * const y = noGrad(() => layer.decodeStep(x, cache.layer(i).self)) ?? layer.forward(x, { kvCache }).output;
   */
  decodeStep(x: Tensor, cache: KVBuffer): Tensor | null {
    const backend = x.backend;
    if (!backend.decodeBlock || isGradEnabled() || x.ndim !== 3 || x.shape[1] !== 1 || x.shape[2] !== this.dModel) return null;
    const dropping = [this.dropout1, this.dropout2, this.ff.dropout].some((d) => d.p > 0) || this.selfAttn.dropout > 0;
    if (this.training && dropping) return null;
    const kv = cache.buffers(); // [B, H, maxLen, K] each
    const B = x.shape[0];
    if (!kv || kv.k.shape[0] !== B || cache.length >= cache.maxLen) return null;
    const weights = {
      inProjWeight: this.selfAttn.inProjWeight, inProjBias: this.selfAttn.inProjBias,
      outProjWeight: this.selfAttn.outProj.weight, outProjBias: this.selfAttn.outProj.bias,
      norm1Weight: this.norm1.weight, norm1Bias: this.norm1.bias, norm2Weight: this.norm2.weight, norm2Bias: this.norm2.bias,
      linear1Weight: this.linear1.weight, linear1Bias: this.linear1.bias, linear2Weight: this.linear2.weight, linear2Bias: this.linear2.bias,
    };
    const spec = { heads: this.numHeads, normFirst: this.normFirst, activation: this.ff.activation, eps: this.norm1.eps };
    const out = backend.decodeBlock(x.reshape([B, this.dModel]), weights, kv.k, kv.v, cache.length, spec); // [B, D]
    if (!out) return null;
    cache.advance(1);
    return Tensor.fromStorage(out, [B, 1, this.dModel], backend);
  }
}
