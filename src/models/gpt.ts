// GPT (Radford et al. 2018, 2019): a decoder-only Transformer language model, and its sequence-classification head.
//
// Shapes: B batch, T new positions, S attended positions (cached + new), D d_model, H heads,
// V vocabulary.
//
// State-dict names:
//   wte.weight [V, D]                 token embeddings
//   wpe.weight [context, D]           learned position embeddings
//   layers.N.self_attn.{in_proj_weight [3D, D], in_proj_bias [3D], out_proj.weight, out_proj.bias}
//   layers.N.{linear1 [4D, D], linear2 [D, 4D], norm1, norm2}.{weight, bias}
//   norm.{weight, bias}               (with finalNorm: GPT-2's ln_f)
//   lm_head.weight [V, D]             (with tieEmbeddings, the same tensor as wte.weight)
// GPTForSequenceClassification (at the end): `transformer.` + the names above, and score.weight [L, D] (no bias, as
// Hugging Face's GPT2ForSequenceClassification), scoring the final-normed state of each row's last non-pad token.
// Each block is our encoder layer (torch.nn.TransformerEncoderLayer's names) under a causal mask.

import type { Backend, CacheViews, StackWeights } from '../backend/backend.js';
import type { FloatDType } from '../core/dtype.js';
import { BOOL, DROP_RATE, LAYER_NORM_EPS, POSITIONS, POSITIVE_INT, SEED, checkConfigFields, checkLabels } from '../core/config-checks.js';
import type { ConfigRule } from '../core/config-checks.js';
import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { Tensor, embedding, isGradEnabled, noGrad, randn, tensor, zeros } from '../tensor/index.js';
import {
  ACTIVATIONS, Activation, Dropout, Embedding, LayerNorm, LearnedPositionalEncoding, Linear, Module, ModuleList,
  TransformerEncoderLayer, sharedCausalMask,
} from '../nn/index.js';
import { KVCache, SlotKVCache } from '../nn/kv-cache.js';
import type { ModelInitOptions } from '../nn/index.js';

/** The model's hyper-parameters. Defaults are GPT-2 small's (124M) except the vocabulary. */
export interface GPTConfig {
  /** Vocabulary size (GPT-2: 50257). */
  vocab: number;
  /** d_model (768). */
  dModel?: number;
  /** Attention heads (12). */
  heads?: number;
  /** Blocks (12). */
  layers?: number;
  /** Inner size of the feed-forward network (4 · dModel). */
  dFF?: number;
  /** Longest sequence: the size of the position table (1024). */
  context?: number;
  /** Dropout on embeddings, residual branches and inside the FFN (0.1). */
  dropout?: number;
  /** Dropout on attention weights (0; GPT-2 and torch's layers use `dropout` here too). At 0 training uses fused attention. */
  attentionDropout?: number;
  /** Pre-norm blocks, x + f(LN(x)) (true: GPT-2; false: GPT-1's post-norm). */
  normFirst?: boolean;
  /** A LayerNorm after the last block (true: GPT-2's ln_f). */
  finalNorm?: boolean;
  /** Feed-forward non-linearity ('gelu'; GPT-2 checkpoints use 'gelu_new', the tanh form). */
  activation?: Activation;
  /** The output projection is the token embedding matrix (true). */
  tieEmbeddings?: boolean;
  /** LayerNorm ε (1e-5). */
  eps?: number;
  /** Seed of initialisation and dropout (0). */
  seed?: number;
  dtype?: FloatDType;
  backend?: Backend;
}

/** The config with every default filled in. */
export type ResolvedGPTConfig = Required<Omit<GPTConfig, 'backend'>> & { backend?: Backend };

/** The type and range of every field of a resolved config (the loader runs them too, through resolveGPTConfig). */
export const GPT_RULES: Readonly<Record<keyof Omit<ResolvedGPTConfig, 'backend'>, ConfigRule>> = {
  vocab: POSITIVE_INT, dModel: POSITIVE_INT, heads: POSITIVE_INT, layers: POSITIVE_INT, dFF: POSITIVE_INT, context: POSITIONS,
  dropout: DROP_RATE, attentionDropout: DROP_RATE, eps: LAYER_NORM_EPS, seed: SEED, normFirst: BOOL, finalNorm: BOOL, tieEmbeddings: BOOL,
  activation: { oneOf: ACTIVATIONS }, dtype: { oneOf: ['float32', 'float64'] },
};

/**
 * Fills in the defaults and checks every field's type and range.
 *
 * @example
 * resolveGPTConfig({ vocab: 96, dModel: 128 }).dFF; // 512
 */
export function resolveGPTConfig(c: GPTConfig): ResolvedGPTConfig {
  const dModel = or(c.dModel, 768);
  const r: ResolvedGPTConfig = {
    vocab: c.vocab, dModel, heads: or(c.heads, 12), layers: or(c.layers, 12), dFF: or(c.dFF, 4 * dModel),
    context: or(c.context, 1024), dropout: or(c.dropout, 0.1), attentionDropout: or(c.attentionDropout, 0), normFirst: or(c.normFirst, true), finalNorm: or(c.finalNorm, true),
    activation: or<Activation>(c.activation, 'gelu'), tieEmbeddings: or(c.tieEmbeddings, true), eps: or(c.eps, 1e-5), seed: or(c.seed, 0),
    dtype: or<FloatDType>(c.dtype, 'float32'), backend: c.backend,
  };
  checkConfigFields('GPT', r, GPT_RULES);
  if (r.dModel % r.heads !== 0) throw new ArgumentError(`GPT: dModel ${r.dModel} must be divisible by heads ${r.heads}`);
  return r;
}

/** The default only for a field not given: null (from a JSON file) stays, for the field check to refuse. */
function or<T>(v: T | undefined, d: T): T {
  return v === undefined ? d : v;
}

/** Per-call options of {@link GPT.forward}. */
export interface GPTCallOptions {
  /** Return each block's per-head attention weights [B, H, T, S]. */
  needWeights?: boolean;
  /** From {@link GPT.createCache}: `ids` then hold only the new positions, starting at `cache.length`. */
  cache?: KVCache | null;
  /** [B, S], 1 at padded keys; S counts cached positions too. */
  keyPaddingMask?: Tensor | null;
}

export interface GPTOutput {
  /** Shape [B, T, V]: scores of the next token at each position. */
  logits: Tensor;
  /** One [B, H, T, S] per block, when asked for. */
  attentions?: Tensor[];
  /** The scores before each block's softmax (Q·Kᵀ/√d_k, −Infinity where masked), with attentions. */
  attentionScores?: Tensor[];
}

/**
 * The longest prompt GPT.prefillStep takes in one call. Its products run on the decode step's kernels, which read the
 * weights in place; past a few dozen rows the blocks' packed GEMM (which packs the weights once per product, and
 * splits attention over threads) wins.
 */
const PREFILL_MAX_TOKENS = 32;

/**
 * The decoder-only Transformer of GPT: token and position embeddings, N causal blocks, a final
 * LayerNorm, and the (tied) output projection.
 *
 * @example
 * const gpt = new GPT({ vocab: 96, dModel: 32, heads: 4, layers: 2, context: 64, seed: 1 });
 * const ids = tensor([[5, 17, 3]], { dtype: 'int32' });   // [B, T]
 * const { logits } = gpt.forward(ids);                     // [1, 3, 96]
 * const empty = new GPT(gpt.config, { init: false });      // zeros, no random draws: for loading weights into
 */
export class GPT extends Module {
  readonly config: ResolvedGPTConfig;
  readonly wte: Embedding;
  readonly wpe: LearnedPositionalEncoding;
  readonly drop: Dropout;
  readonly layers: ModuleList<TransformerEncoderLayer>;
  readonly norm: LayerNorm | null;
  readonly lmHead: Linear;

  constructor(config: GPTConfig, build: ModelInitOptions = {}) {
    super();
    const c = (this.config = resolveGPTConfig(config));
    const rng = new Rng(c.seed);
    const dropoutRng = new Rng((c.seed ^ 0x2545f491) | 0);
    const p = { rng, dtype: c.dtype, backend: c.backend, init: build.init };
    const D = c.dModel;

    this.wte = this.addModule('wte', new Embedding(c.vocab, D, p));
    this.wpe = this.addModule('wpe', new LearnedPositionalEncoding(D, c.context, p));
    this.drop = this.addModule('drop', new Dropout(c.dropout, dropoutRng));
    this.layers = this.addModule('layers', new ModuleList<TransformerEncoderLayer>());
    const block = { ...p, dFF: c.dFF, dropout: c.dropout, attentionDropout: c.attentionDropout, activation: c.activation, normFirst: c.normFirst, eps: c.eps, dropoutRng };
    for (let i = 0; i < c.layers; i++) this.layers.append(new TransformerEncoderLayer(D, c.heads, block));
    this.norm = c.finalNorm ? this.addModule('norm', new LayerNorm(D, p)) : null;
    this.lmHead = this.addModule('lm_head', new Linear(D, c.vocab, { ...p, bias: false, weight: c.tieEmbeddings ? this.wte.weight : undefined }));
    if (build.init !== false) this.initWeights(rng);
  }

  /**
   * GPT-2's initialisation: every matrix N(0, 0.02), biases 0, and "the weights of residual
   * layers scaled by 1/√N" (N = residual branches, two per block) so the residual stream's
   * variance does not grow with depth (Radford et al. 2019, §2.3).
   */
  private initWeights(rng: Rng): void {
    const residual = 1 / Math.sqrt(2 * this.config.layers);
    noGrad(() => {
      for (const [name, w] of this.namedParameters()) {
        if (name.includes('norm')) continue; // LayerNorm stays at γ = 1, β = 0
        const o = { dtype: w.dtype, backend: w.backend };
        if (w.ndim === 1) { w.assign(zeros(w.shape, o)); continue; }
        const isResidual = name.endsWith('out_proj.weight') || name.endsWith('linear2.weight');
        w.assign(randn(w.shape, rng, { ...o, std: 0.02 * (isResidual ? residual : 1) }));
      }
    });
  }

  /**
   * An empty KV cache for {@link forward}, holding up to `maxLen` positions (default: the context).
   *
   * @example
   * const cache = gpt.createCache();
   * gpt.forward(prompt, { cache });                        // positions [0, P)
   * gpt.forward(tensor([[7]], { dtype: 'int32' }), { cache }); // position P only
   */
  createCache(maxLen = this.config.context): KVCache {
    if (maxLen > this.config.context) throw new ArgumentError(`GPT: cache maxLen ${maxLen} exceeds the context ${this.config.context}`);
    return new KVCache(this.config.layers, maxLen);
  }

  /**
   * h_0 = Dropout(U·W_e + W_p)                  (GPT-1, eq. 2: token plus position embeddings)
   * h_l = block(h_{l-1}),  l = 1..N             (masked self-attention, then the FFN)
   * logits = LN(h_N) · W_eᵀ                     (the output projection shares W_e)
   *
   * ids int32 [B, T] → logits [B, T, V]. With a cache, the T ids sit at positions
   * cache.length .. cache.length + T - 1 and attend to every cached position.
   */
  forward(ids: Tensor, opts: GPTCallOptions = {}): GPTOutput {
    this.checkIds(ids);
    const cache = opts.cache ?? null;
    if (cache && cache.layers.length !== this.layers.length) {
      throw new ArgumentError(`GPT: cache has ${cache.layers.length} layers, the model ${this.layers.length}`);
    }
    if (cache && !opts.needWeights && !opts.keyPaddingMask) {
      // [B, 1, V] (one new position) or [1, T, V] (a prompt of one row), or null where the one-call step does not apply
      const logits = ids.shape[1] === 1 ? this.decodeStep(ids, cache) : this.prefillStep(ids, cache);
      if (logits) return { logits };
    }
    const r = this.body(ids, opts);
    const logits = this.lmHead.forward(r.hidden); // [B, T, V]
    return opts.needWeights ? { logits, attentions: r.attentions, attentionScores: r.attentionScores } : { logits };
  }

  /**
   * The last block's states after the final LayerNorm (h_N, or LN(h_N) with finalNorm): what the output projection
   * reads, for heads other than the language model's (GPTForSequenceClassification). ids int32 [B, T] → [B, T, D].
   *
   * @example
   * const { hidden } = gpt.hidden(ids, { keyPaddingMask }); // [B, T, D]
   */
  hidden(ids: Tensor, opts: Omit<GPTCallOptions, 'cache'> = {}): { hidden: Tensor; attentions?: Tensor[] } {
    this.checkIds(ids);
    return this.body(ids, opts);
  }

  private checkIds(ids: Tensor): void {
    if (ids.dtype !== 'int32') throw new DTypeError(`GPT: ids must be int32, got ${ids.dtype}`);
    if (ids.ndim !== 2) throw new ShapeError(`GPT: ids must be [B, T], got ${fmtShape(ids.shape)}`);
  }

  /** Embeddings, the blocks (through the cache when given) and the final norm: ids [B, T] → [B, T, D]. */
  private body(ids: Tensor, opts: GPTCallOptions): { hidden: Tensor; attentions?: Tensor[]; attentionScores?: Tensor[] } {
    const cache = opts.cache ?? null;
    const T = ids.shape[1];
    const offset = cache ? cache.length : 0;
    let x = this.drop.forward(this.wpe.forward(this.wte.forward(ids), offset)); // [B, T, D]
    // Query t (position offset + t) sees positions ≤ offset + t (§2.3 of GPT-1: "masked").
    const mask = cache && T === 1 ? null : sharedCausalMask(T, offset + T, { backend: x.backend }); // [T, S]
    const attentions: Tensor[] = [];
    const attentionScores: Tensor[] = [];
    // One new position, no masks, no weights wanted: a block may run as one fused kernel (decodeStep, null when it cannot).
    const oneStep = cache && T === 1 && !opts.needWeights && !opts.keyPaddingMask;
    for (let i = 0; i < this.layers.length; i++) {
      const fast = oneStep ? this.layers.at(i).decodeStep(x, cache.layer(i).self) : null; // [B, 1, D] or null
      if (fast) { x = fast; continue; }
      const r = this.layers.at(i).forward(x, {
        srcMask: mask, srcKeyPaddingMask: opts.keyPaddingMask, needWeights: opts.needWeights, kvCache: cache?.layer(i).self,
      });
      x = r.output; // [B, T, D]
      if (r.selfAttention) attentions.push(r.selfAttention); // [B, H, T, S]
      if (r.selfAttentionScores) attentionScores.push(r.selfAttentionScores);
    }
    if (this.norm) x = this.norm.forward(x);
    return opts.needWeights ? { hidden: x, attentions, attentionScores } : { hidden: x };
  }

  /**
   * One cached decoding step of the whole model in one backend call (Backend.decodeStack): ids [B, 1] at
   * position cache.length → logits [B, 1, V], what forward(ids, { cache }) computes, with the cache advanced
   * alike. forward takes this path by itself; it returns null, leaving the cache's positions as they were, when
   * it does not apply: gradients recorded, dropout active, no kernel on the backend (or none for its dtype and
   * layouts), a cache full, of another batch size or of another model, or a position past the context.
   *
   * @example
   * const logits = noGrad(() => gpt.decodeStep(next, cache)) ?? gpt.forward(next, { cache }).logits;
   */
  decodeStep(ids: Tensor, cache: KVCache): Tensor | null {
    const c = this.config;
    const backend = this.wte.weight.backend;
    if (!backend.decodeStack || isGradEnabled() || ids.dtype !== 'int32' || ids.ndim !== 2 || ids.shape[1] !== 1) return null;
    if (this.training && (c.dropout > 0 || c.attentionDropout > 0)) return null;
    const B = ids.shape[0];
    const s0 = cache.length;
    if (cache.layers.length !== this.layers.length || s0 >= cache.maxLen || s0 >= c.context) return null;
    const K = c.dModel / c.heads;
    const caches: CacheViews[] = [];
    for (const { self } of cache.layers) {
      const kv = self.reserve(B, c.heads, K, K, this.wte.weight); // [B, H, maxLen, K] each
      if (self.length !== s0 || kv.k.shape[0] !== B) return null;
      caches.push(kv);
    }
    const spec = { heads: c.heads, normFirst: c.normFirst, activation: c.activation, eps: this.layers.at(0).norm1.eps };
    const logits = backend.decodeStack(ids.reshape([B]), this.decodeWeights(), caches, s0, spec); // [B, V]
    if (!logits) return null;
    for (const { self } of cache.layers) self.advance(1);
    return Tensor.fromStorage(logits, [B, 1, c.vocab], backend);
  }

  /**
   * A prompt of one row in one backend call (Backend.decodeStackPrefill): ids [1, T] at positions cache.length ..
   * cache.length + T - 1 → logits [1, T, V], what forward(ids, { cache }) computes through the blocks, with the cache
   * advanced alike. forward takes this path by itself; null, leaving the cache as it was, where it does not apply
   * (as {@link decodeStep}, more than one row, or more than 32 tokens: PREFILL_MAX_TOKENS).
   *
   * @example
   * const logits = noGrad(() => gpt.prefillStep(prompt, cache)) ?? gpt.forward(prompt, { cache }).logits;
   */
  prefillStep(ids: Tensor, cache: KVCache): Tensor | null {
    const c = this.config;
    const backend = this.wte.weight.backend;
    if (!backend.decodeStackPrefill || isGradEnabled() || ids.dtype !== 'int32' || ids.ndim !== 2 || ids.shape[0] !== 1) return null;
    if (this.training && (c.dropout > 0 || c.attentionDropout > 0)) return null;
    const T = ids.shape[1];
    const s0 = cache.length;
    if (T < 1 || T > PREFILL_MAX_TOKENS || cache.layers.length !== this.layers.length || s0 + T > cache.maxLen || s0 + T > c.context) return null;
    const K = c.dModel / c.heads;
    const caches: CacheViews[] = [];
    for (const { self } of cache.layers) {
      const kv = self.reserve(1, c.heads, K, K, this.wte.weight); // [1, H, maxLen, K] each
      if (self.length !== s0 || kv.k.shape[0] !== 1) return null;
      caches.push(kv);
    }
    const spec = { heads: c.heads, normFirst: c.normFirst, activation: c.activation, eps: this.layers.at(0).norm1.eps };
    const logits = backend.decodeStackPrefill(ids.reshape([T]), this.decodeWeights(), caches, s0, spec); // [T, V]
    if (!logits) return null;
    for (const { self } of cache.layers) self.advance(T);
    return Tensor.fromStorage(logits, [1, T, c.vocab], backend);
  }

  /**
   * A cache of `slots` independent rows of up to `maxLen` positions (default: the context), for continuous batching:
   * each row is prefilled on its own through `cache.row(r)` and stepped with the others by {@link decodeRows}.
   *
   * @example
   * const cache = gpt.createSlotCache(16);
   * gpt.forward(prompt, { cache: cache.row(0) }); // sequence in row 0
   */
  createSlotCache(slots: number, maxLen = this.config.context): SlotKVCache {
    if (maxLen > this.config.context) throw new ArgumentError(`GPT: cache maxLen ${maxLen} exceeds the context ${this.config.context}`);
    const c = this.config;
    return new SlotKVCache({ layers: c.layers, slots, maxLen, heads: c.heads, headDim: c.dModel / c.heads }, this.wte.weight);
  }

  /**
   * One decoding step of rows 0..B-1 of a slot cache, each at its own position (Backend.decodeStackRows): ids [B, 1],
   * row b's token at position cache.length(b) → logits [B, 1, V], what forward(ids[b], { cache: cache.row(b) })
   * computes for each row, with every row advanced by one. Returns null, leaving the cache as it was, where the
   * one-call step does not apply (as {@link decodeStep}: gradients, dropout, no kernel, a row full or past the
   * context); the caller then steps the rows one at a time.
   *
   * @example
   * const logits = noGrad(() => gpt.decodeRows(next, cache)); // [B, 1, V] or null
   */
  decodeRows(ids: Tensor, cache: SlotKVCache): Tensor | null {
    const c = this.config;
    const backend = this.wte.weight.backend;
    if (!backend.decodeStackRows || isGradEnabled() || ids.dtype !== 'int32' || ids.ndim !== 2 || ids.shape[1] !== 1) return null;
    if (this.training && (c.dropout > 0 || c.attentionDropout > 0)) return null;
    const B = ids.shape[0];
    if (B > cache.slots || cache.shape.layers !== this.layers.length || cache.shape.heads !== c.heads || cache.shape.headDim * c.heads !== c.dModel) return null;
    const positions = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      positions[b] = cache.length(b);
      if (positions[b] >= cache.maxLen || positions[b] >= c.context) return null;
    }
    const spec = { heads: c.heads, normFirst: c.normFirst, activation: c.activation, eps: this.layers.at(0).norm1.eps };
    const logits = backend.decodeStackRows(ids.reshape([B]), this.decodeWeights(), cache.views(B), positions, spec); // [B, V]
    if (!logits) return null;
    cache.advance(B);
    return Tensor.fromStorage(logits, [B, 1, c.vocab], backend);
  }

  private stackWeights: StackWeights | null = null;

  /** The parameters as decodeStack takes them; built once (parameters are written in place, never replaced). */
  private decodeWeights(): StackWeights {
    return (this.stackWeights ??= {
      tokenEmbedding: this.wte.weight,
      positionEmbedding: this.wpe.weight,
      blocks: [...this.layers].map((l) => ({
        inProjWeight: l.selfAttn.inProjWeight, inProjBias: l.selfAttn.inProjBias, outProjWeight: l.selfAttn.outProj.weight,
        outProjBias: l.selfAttn.outProj.bias, norm1Weight: l.norm1.weight, norm1Bias: l.norm1.bias, norm2Weight: l.norm2.weight,
        norm2Bias: l.norm2.bias, linear1Weight: l.linear1.weight, linear1Bias: l.linear1.bias, linear2Weight: l.linear2.weight,
        linear2Bias: l.linear2.bias,
      })),
      finalNorm: this.norm ? { weight: this.norm.weight, bias: this.norm.bias, eps: this.norm.eps } : null,
      head: this.lmHead.weight,
    });
  }
}

// ---- GPT for sequence classification (HF's GPT2ForSequenceClassification); L labels. ----

/** A GPT config with the classifier's labels (id order, at least 2) and the padding id that marks a row's end. */
export interface GPTClassifierConfig extends GPTConfig {
  labels: string[];
  /** The id of padding tokens (right padding): a row's last token is its last one with another id. */
  padId: number;
}

export type ResolvedGPTClassifierConfig = ResolvedGPTConfig & { labels: string[]; padId: number };

/**
 * resolveGPTConfig, the labels, and a padId in [0, vocab).
 *
 * @example
 * resolveGPTClassifierConfig({ vocab: 96, labels: ['ham', 'spam'], padId: 0 }).dModel; // 768
 */
export function resolveGPTClassifierConfig(c: GPTClassifierConfig): ResolvedGPTClassifierConfig {
  const r = resolveGPTConfig(c);
  const labels = checkLabels('GPTForSequenceClassification', c.labels);
  if (!Number.isSafeInteger(c.padId) || c.padId < 0 || c.padId >= r.vocab) {
    throw new ArgumentError(`GPTForSequenceClassification: padId is ${String(c.padId)}, expected an integer from 0 to ${r.vocab - 1} (vocab - 1)`);
  }
  return { ...r, labels, padId: c.padId };
}

/** Per-call options of {@link GPTForSequenceClassification.forward}. */
export interface GPTClassifierCallOptions {
  /** [B, T], 1 at padded keys (default: none; the causal mask already keeps right padding from the scored token). */
  keyPaddingMask?: Tensor | null;
  /** Return each block's per-head attention weights [B, H, T, T]. */
  needWeights?: boolean;
}

export interface GPTClassifierOutput {
  /** Shape `[B, L]`: unnormalised scores of each label. */
  logits: Tensor;
  attentions?: Tensor[];
}

/**
 * A GPT body with a classification head: the last token sees the whole text through causal attention, so its
 * state after the final LayerNorm summarises it; `score` maps that state onto the labels. Rows are right-padded
 * with padId; a row of padding only is scored at position 0, and one with no padding at its last position.
 *
 * @example
 * const clf = new GPTForSequenceClassification({ vocab: 96, dModel: 32, heads: 4, layers: 2, context: 64, labels: ['ham', 'spam'], padId: 0 });
 * const { logits } = clf.forward(tensor([[5, 17, 3, 0], [9, 4, 8, 2]], { dtype: 'int32' })); // [2, 2]
 */
export class GPTForSequenceClassification extends Module {
  readonly config: ResolvedGPTClassifierConfig;
  /** The label names, in id order (the same array as config.labels). */
  readonly labels: string[];
  readonly transformer: GPT;
  readonly score: Linear;

  constructor(config: GPTClassifierConfig, build: ModelInitOptions = {}) {
    super();
    const c = (this.config = resolveGPTClassifierConfig(config));
    this.labels = c.labels;
    const { labels: _labels, padId: _padId, ...body } = c;
    this.transformer = this.addModule('transformer', new GPT({ ...body, backend: c.backend }, build));
    const rng = new Rng((c.seed ^ 0x51ed270b) | 0);
    this.score = this.addModule('score', new Linear(c.dModel, c.labels.length, { rng, dtype: c.dtype, backend: c.backend, bias: false, init: build.init }));
    // GPT-2's initialisation for the new head too: N(0, 0.02).
    if (build.init !== false) noGrad(() => this.score.weight.assign(randn(this.score.weight.shape, rng, { dtype: c.dtype, backend: c.backend, std: 0.02 })));
  }

  /**
   * h = LN(h_N)[b, last_b] with last_b the position of row b's last token ≠ padId;  logits = h · W_scoreᵀ
   *
   * ids int32 [B, T] → logits [B, L].
   */
  forward(ids: Tensor, opts: GPTClassifierCallOptions = {}): GPTClassifierOutput {
    if (ids.dtype !== 'int32') throw new DTypeError(`GPTForSequenceClassification: ids must be int32, got ${ids.dtype}`);
    if (ids.ndim !== 2 || ids.shape[1] < 1) throw new ShapeError(`GPTForSequenceClassification: ids must be [B, T] with T ≥ 1, got ${fmtShape(ids.shape)}`);
    const [B, T] = ids.shape;
    const r = this.transformer.hidden(ids, opts); // [B, T, D]
    const D = this.config.dModel;
    // One row of the flattened states per batch row: the gather's backward scatters the gradient to that position only.
    const rows = lastTokenRows(ids, this.config.padId).map((t, b) => b * T + t);
    const at = tensor(Int32Array.from(rows), { dtype: 'int32', shape: [B], backend: ids.backend });
    const h = embedding(at, r.hidden.reshape([B * T, D])); // [B, D]
    const logits = this.score.forward(h); // [B, L]
    return opts.needWeights ? { logits, attentions: r.attentions } : { logits };
  }
}

/**
 * Each row's last position holding a token other than padId (HF: the first pad's position minus 1, taken modulo T,
 * which is the same for right padding); 0 for a row of padding only.
 *
 * @example
 * lastTokenRows(tensor([[5, 3, 0], [7, 0, 0]], { dtype: 'int32' }), 0); // [1, 0]
 */
export function lastTokenRows(ids: Tensor, padId: number): number[] {
  const [B, T] = ids.shape;
  const a = ids.contiguous().toArray();
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    let last = 0;
    for (let t = T - 1; t >= 0; t--) if (a[b * T + t] !== padId) { last = t; break; }
    out.push(last);
  }
  return out;
}
