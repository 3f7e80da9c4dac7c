// The Transformer of "Attention Is All You Need" (Vaswani et al., 2017): encoder-decoder model.
//
// Shapes: B batch, S source length, T target length, D d_model, H heads, F d_ff, V vocabulary.
//
// State-dict names (torch.nn.Transformer's, without its `transformer.` prefix):
//   src_embed.weight [V_src, D]          tgt_embed.weight [V_tgt, D]
//   pos_embed.weight [maxLen, D]         (only with positional: 'learned'; the sinusoids are not saved)
//   encoder.layers.N.self_attn.{in_proj_weight [3D, D], in_proj_bias [3D], out_proj.weight, out_proj.bias}
//   encoder.layers.N.{linear1 [F, D], linear2 [D, F], norm1, norm2}.{weight, bias}
//   encoder.norm.{weight, bias}          (only with finalNorm)
//   decoder.layers.N.{self_attn, multihead_attn}.… as above
//   decoder.layers.N.{linear1, linear2, norm1, norm2, norm3}.{weight, bias}
//   decoder.norm.{weight, bias}          (only with finalNorm)
//   generator.weight [V_tgt, D], generator.bias [V_tgt]
// With shareEmbeddings, src_embed.weight, tgt_embed.weight and generator.weight are one tensor
// listed under all three names (as torch's state_dict lists tied weights).

import type { Backend } from '../backend/backend.js';
import type { FloatDType } from '../core/dtype.js';
import { BOOL, DROP_RATE, LAYER_NORM_EPS, NON_NEG_INT, POSITIONS, POSITIVE_INT, SEED, checkConfigFields } from '../core/config-checks.js';
import type { ConfigRule } from '../core/config-checks.js';
import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { Tensor } from '../tensor/index.js';
import {
  ACTIVATIONS, Activation, DecoderOutput, Dropout, EncoderOutput, Embedding, LearnedPositionalEncoding, Linear, Module, SinusoidalPositionalEncoding,
  TransformerDecoder, TransformerEncoder, resetXavier, sharedCausalMask,
} from '../nn/index.js';
import { KVCache } from '../nn/kv-cache.js';
import type { ModelInitOptions } from '../nn/index.js';

/** The model's hyper-parameters. Every default is the paper's base model (Table 3). */
export interface TransformerConfig {
  /** Source vocabulary size. */
  srcVocab: number;
  /** Target vocabulary size. */
  tgtVocab: number;
  /** d_model (512). */
  dModel?: number;
  /** h, attention heads (8); d_k = d_v = dModel / heads. */
  heads?: number;
  /** N for the encoder (6). */
  encoderLayers?: number;
  /** N for the decoder (6). */
  decoderLayers?: number;
  /** d_ff (2048). */
  dFF?: number;
  /** P_drop (0.1): on sublayer outputs, embedding sums (§5.4) and inside the FFN. */
  dropout?: number;
  /**
   * Dropout on attention weights (0, the paper). torch.nn.Transformer's `dropout` also drops
   * attention weights; set this equal to `dropout` to match it. At 0 training uses fused attention.
   */
  attentionDropout?: number;
  /** Pre-norm layers instead of the paper's post-norm (false). */
  normFirst?: boolean;
  /** A LayerNorm after each stack (default: normFirst; torch.nn.Transformer always has one). */
  finalNorm?: boolean;
  /** Feed-forward non-linearity ('relu'). */
  activation?: Activation;
  /** 'sinusoidal' (the paper's §3.5 choice) or 'learned'. */
  positional?: 'sinusoidal' | 'learned';
  /** Longest sequence the positional encoding covers (5000). */
  maxLen?: number;
  /** One embedding matrix for source, target and the pre-softmax projection (§3.4); needs srcVocab = tgtVocab. */
  shareEmbeddings?: boolean;
  /** LayerNorm ε (1e-5). */
  eps?: number;
  /** Seed of initialisation and dropout (0). */
  seed?: number;
  dtype?: FloatDType;
  backend?: Backend;
}

/** The config with every default filled in. */
export type ResolvedTransformerConfig = Required<Omit<TransformerConfig, 'backend'>> & { backend?: Backend };

/** The type and range of every field of a resolved config (the loader runs them too, through resolveConfig). */
export const TRANSFORMER_RULES: Readonly<Record<keyof Omit<ResolvedTransformerConfig, 'backend'>, ConfigRule>> = {
  srcVocab: POSITIVE_INT, tgtVocab: POSITIVE_INT, dModel: POSITIVE_INT, heads: POSITIVE_INT, dFF: POSITIVE_INT, maxLen: POSITIONS,
  encoderLayers: NON_NEG_INT, decoderLayers: NON_NEG_INT, dropout: DROP_RATE, attentionDropout: DROP_RATE, eps: LAYER_NORM_EPS, seed: SEED,
  normFirst: BOOL, finalNorm: BOOL, shareEmbeddings: BOOL, activation: { oneOf: ACTIVATIONS },
  positional: { oneOf: ['sinusoidal', 'learned'] }, dtype: { oneOf: ['float32', 'float64'] },
};

/**
 * Fills in the paper's defaults and checks every field's type and range.
 *
 * @example
 * resolveConfig({ srcVocab: 100, tgtVocab: 100 }).dModel; // 512
 */
export function resolveConfig(c: TransformerConfig): ResolvedTransformerConfig {
  const normFirst = c.normFirst === undefined ? false : c.normFirst;
  const r: ResolvedTransformerConfig = {
    dModel: 512, heads: 8, encoderLayers: 6, decoderLayers: 6, dFF: 2048, dropout: 0.1, attentionDropout: 0, activation: 'relu',
    positional: 'sinusoidal', maxLen: 5000, shareEmbeddings: false, eps: 1e-5, seed: 0, dtype: 'float32',
    ...stripUndefined(c), srcVocab: c.srcVocab, tgtVocab: c.tgtVocab, normFirst, finalNorm: c.finalNorm === undefined ? normFirst : c.finalNorm,
  };
  checkConfigFields('Transformer', r, TRANSFORMER_RULES);
  if (r.dModel % r.heads !== 0) throw new ArgumentError(`Transformer: dModel ${r.dModel} must be divisible by heads ${r.heads}`);
  if (r.shareEmbeddings && r.srcVocab !== r.tgtVocab) {
    throw new ArgumentError(`Transformer: shareEmbeddings needs srcVocab = tgtVocab, got ${r.srcVocab} and ${r.tgtVocab}`);
  }
  return r;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Masks for a forward pass; 1 marks what may not be attended to. */
export interface TransformerCallOptions {
  /** [B, S], 1 at source padding (masks encoder self-attention keys and decoder cross-attention keys). */
  srcPaddingMask?: Tensor | null;
  /** [B, T], 1 at target padding. */
  tgtPaddingMask?: Tensor | null;
  /** [T, T]; default causalMask(T), so position t sees only positions ≤ t (§3.2.3). */
  tgtMask?: Tensor | null;
  /** Return every layer's per-head attention weights. */
  needWeights?: boolean;
}

/** Options of {@link Transformer.decode}: the masks, and a KV cache for incremental decoding. */
export interface TransformerDecodeOptions extends TransformerCallOptions {
  /**
   * From {@link Transformer.createCache}. `tgt` then holds only the new positions, which start at
   * `cache.length`; `tgtPaddingMask` is [B, cache.length + T] and `tgtMask` [T, cache.length + T].
   */
  cache?: KVCache | null;
}

export interface TransformerOutput {
  /** Shape [B, T, V]: unnormalised scores of the next token (softmax gives the paper's output probabilities). */
  logits: Tensor;
  /** One [B, H, S, S] per encoder layer, when asked for. */
  encoderSelfAttentions?: Tensor[];
  /** One [B, H, T, T] per decoder layer, when asked for. */
  decoderSelfAttentions?: Tensor[];
  /** One [B, H, T, S] per decoder layer, when asked for. */
  crossAttentions?: Tensor[];
  /** The scores before the softmax of each of the three (Q·Kᵀ/√d_k, −Infinity where masked), with the weights. */
  encoderSelfAttentionScores?: Tensor[];
  decoderSelfAttentionScores?: Tensor[];
  crossAttentionScores?: Tensor[];
}

/**
 * The encoder-decoder Transformer.
 *
 * @example
 * const model = new Transformer({ srcVocab: 11, tgtVocab: 11, dModel: 16, heads: 4, dFF: 32,
 *   encoderLayers: 2, decoderLayers: 2, seed: 1 });
 * const src = tensor([[1, 5, 7, 2]], { dtype: 'int32' });   // [B, S]
 * const tgt = tensor([[1, 5, 7]], { dtype: 'int32' });      // [B, T]
 * const { logits } = model.forward(src, tgt);               // [1, 3, 11]
 */
export class Transformer extends Module {
  readonly config: ResolvedTransformerConfig;
  readonly srcEmbed: Embedding;
  readonly tgtEmbed: Embedding;
  readonly positions: SinusoidalPositionalEncoding | LearnedPositionalEncoding;
  readonly embedDropout: Dropout;
  readonly encoder: TransformerEncoder;
  readonly decoder: TransformerDecoder;
  readonly generator: Linear;

  constructor(config: TransformerConfig, build: ModelInitOptions = {}) {
    super();
    const c = (this.config = resolveConfig(config));
    const rng = new Rng(c.seed);
    const dropoutRng = new Rng((c.seed ^ 0x5bd1e995) | 0);
    const p = { rng, dtype: c.dtype, backend: c.backend, init: build.init };
    const D = c.dModel;

    this.srcEmbed = this.addModule('src_embed', new Embedding(c.srcVocab, D, p));
    const shared = c.shareEmbeddings ? this.srcEmbed.weight : undefined;
    this.tgtEmbed = this.addModule('tgt_embed', new Embedding(c.tgtVocab, D, { ...p, weight: shared }));
    this.positions = c.positional === 'learned'
      ? this.addModule('pos_embed', new LearnedPositionalEncoding(D, c.maxLen, p))
      : this.addModule('pos_encoding', new SinusoidalPositionalEncoding(D, c.maxLen, p));
    this.embedDropout = this.addModule('dropout', new Dropout(c.dropout, dropoutRng));

    const layer = {
      ...p, dFF: c.dFF, dropout: c.dropout, attentionDropout: c.attentionDropout, activation: c.activation, normFirst: c.normFirst,
      eps: c.eps, finalNorm: c.finalNorm, dropoutRng,
    };
    this.encoder = this.addModule('encoder', new TransformerEncoder(D, c.heads, c.encoderLayers, layer));
    this.decoder = this.addModule('decoder', new TransformerDecoder(D, c.heads, c.decoderLayers, layer));
    this.generator = this.addModule('generator', new Linear(D, c.tgtVocab, { ...p, weight: shared }));

    // Xavier-uniform for every matrix, as torch.nn.Transformer and the Annotated Transformer do.
    // (init: false leaves the zeros for a checkpoint's weights.)
    if (build.init !== false) for (const w of this.parameters()) if (w.ndim > 1) resetXavier(w, rng);
  }

  /**
   * The embedding layers scale by √d_model (§3.4), the positional encoding is added, and dropout
   * is applied to the sum (§5.4):   x = Dropout(Embed(ids)·√D + PE)
   */
  private embed(table: Embedding, ids: Tensor, what: string, offset = 0): Tensor {
    if (ids.dtype !== 'int32') throw new DTypeError(`Transformer: ${what} ids must be int32, got ${ids.dtype}`);
    if (ids.ndim !== 2) throw new ShapeError(`Transformer: ${what} ids must be [B, len], got ${fmtShape(ids.shape)}`);
    const x = table.forward(ids).mul(Math.sqrt(this.config.dModel)); // [B, len, D]
    return this.embedDropout.forward(this.positions.forward(x, offset));
  }

  /**
   * An empty KV cache for {@link decode}, holding up to `maxLen` target positions.
   *
   * @example
   * const cache = model.createCache(32);
   * const memory = model.encode(src).output;
   * model.decode(bosIds, memory, { cache });   // then one new token per call
   */
  createCache(maxLen: number): KVCache {
    return new KVCache(this.config.decoderLayers, maxLen);
  }

  /**
   * memory = Encoder(Dropout(Embed(src)·√D + PE))
   * src int32 [B, S] → memory [B, S, D] (and, when asked, each layer's [B, H, S, S] weights).
   */
  encode(src: Tensor, opts: Pick<TransformerCallOptions, 'srcPaddingMask' | 'needWeights'> = {}): EncoderOutput {
    const x = this.embed(this.srcEmbed, src, 'source'); // [B, S, D]
    return this.encoder.forward(x, { srcKeyPaddingMask: opts.srcPaddingMask, needWeights: opts.needWeights });
  }

  /**
   * h = Decoder(Dropout(Embed(tgt)·√D + PE), memory), causal over the target.
   * tgt int32 [B, T], memory [B, S, D] → h [B, T, D]; logits are generator.forward(h).
   */
  decode(tgt: Tensor, memory: Tensor, opts: TransformerDecodeOptions = {}): DecoderOutput {
    const offset = opts.cache?.length ?? 0; // positions already in the cache
    const y = this.embed(this.tgtEmbed, tgt, 'target', offset); // [B, T, D]
    const T = tgt.shape[1];
    // With a cache, query t (position offset + t) sees keys 0 .. offset + t; one query sees all.
    const autoMask = opts.cache && T === 1 ? null : sharedCausalMask(T, offset + T, { backend: y.backend });
    const tgtMask = opts.tgtMask === undefined ? autoMask : opts.tgtMask;
    return this.decoder.forward(y, memory, {
      tgtMask,
      tgtKeyPaddingMask: opts.tgtPaddingMask,
      memoryKeyPaddingMask: opts.srcPaddingMask,
      needWeights: opts.needWeights,
      cache: opts.cache,
    });
  }

  /**
   * logits = h · W_genᵀ + b_gen, the "learned linear transformation" before the softmax (§3.4).
   * src int32 [B, S], tgt int32 [B, T] (the shifted-right target) → logits [B, T, V].
   */
  forward(src: Tensor, tgt: Tensor, opts: TransformerCallOptions = {}): TransformerOutput {
    if (src.ndim !== 2 || tgt.ndim !== 2 || src.shape[0] !== tgt.shape[0]) {
      throw new ShapeError(`Transformer: src ${fmtShape(src.shape)} and tgt ${fmtShape(tgt.shape)} must be [B, S] and [B, T] with one B`);
    }
    const enc = this.encode(src, opts);
    const dec = this.decode(tgt, enc.output, opts);
    const logits = this.generator.forward(dec.output); // [B, T, V]
    if (!opts.needWeights) return { logits };
    return {
      logits,
      encoderSelfAttentions: enc.selfAttentions,
      decoderSelfAttentions: dec.selfAttentions,
      crossAttentions: dec.crossAttentions,
      encoderSelfAttentionScores: enc.selfAttentionScores,
      decoderSelfAttentionScores: dec.selfAttentionScores,
      crossAttentionScores: dec.crossAttentionScores,
    };
  }
}
