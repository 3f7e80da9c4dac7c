// Scaled dot-product attention and multi-head attention (paper §3.2), torch's parameter names.

import type { Rng } from '../core/rng.js';
import { ArgumentError, ShapeError, fmtShape } from '../core/errors.js';
import { broadcastShapes } from '../core/shape.js';
import { Tensor, dropout as dropoutFn, full, isGradEnabled, softmax } from '../tensor/index.js';
import { fusedAttention, fusedMultiHeadAttention } from '../tensor/ops/fused.js';
import type { HeadColumns } from '../tensor/ops/fused.js';
import { Module } from './module.js';
import { ParamOptions, xavierUniform } from './init.js';
import type { KVBuffer } from './kv-cache.js';
import { Linear, linear } from './linear.js';
import { knownMaskKind } from './masks.js';

/** What an attention call returns: the output, and the attention weights when asked for. */
export interface AttentionResult {
  /** [B, T, D] (or [..., T, Vd] from scaledDotProductAttention) */
  output: Tensor;
  /** [B, H, T, S] (or [..., T, S]): softmax weights before dropout, per head. */
  weights?: Tensor;
  /**
   * With `weights`: the scores they are the softmax of, Q·Kᵀ/√d_k (plus an additive mask), −Infinity where a mask
   * blocks the key. What a viewer shows "before the softmax".
   */
  scores?: Tensor;
}

export interface SdpaOptions {
  /** Dropout on the attention weights (default 0); needs `rng` when > 0 and training. */
  dropout?: number;
  rng?: Rng;
  training?: boolean;
  /**
   * Return the weights (default true). With false, and no active dropout, a backend with a fused
   * attention kernel computes the output without the [T, S] matrix; `weights` is then absent.
   */
  needWeights?: boolean;
}

/**
 * Attention(Q, K, V) = softmax(Q·Kᵀ / √d_k) · V                       (paper, equation 1)
 *
 * q [..., T, K], k [..., S, K], v [..., S, Vd] → output [..., T, Vd], weights [..., T, S].
 * `mask` broadcasts to [..., T, S]. A boolean mask (int32, or float holding only 0s and 1s, as
 * causalMask and paddingMask make) has 1 (any non-zero) where attention is not allowed; those
 * scores become -Infinity before the softmax. Any other float mask is additive, as PyTorch reads a
 * float attn_mask: it is added to the scores (a bias such as ALiBi's; -Infinity entries mask),
 * see {@link isAdditiveMask}.
 *
 * A query row whose keys are all masked has no softmax (torch returns NaN there). Here such a
 * row gets all-zero weights, so its output is 0 and its gradient is 0 — finite, and easy to
 * spot in the returned weights. This happens only when a mask removes every key (an empty
 * source sequence, say); padded batches with at least one real token never hit it.
 *
 * @example
 * const { output, weights } = scaledDotProductAttention(q, k, v, causalMask(T));
 * const { output: fast } = scaledDotProductAttention(q, k, v, causalMask(T), { needWeights: false });
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, mask?: Tensor | null, opts?: SdpaOptions & { needWeights?: true }): Required<AttentionResult>;
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null | undefined, opts: SdpaOptions): AttentionResult;
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, mask?: Tensor | null, opts: SdpaOptions = {}): AttentionResult {
  const K = q.dim(-1);
  if (k.dim(-1) !== K || k.dim(-2) !== v.dim(-2)) {
    throw new ShapeError(`scaledDotProductAttention: q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)} do not fit [..., T, K], [..., S, K], [..., S, Vd]`);
  }
  const p = opts.dropout ?? 0;
  const additive = mask ? isAdditiveMask(mask) : false;
  // The fused kernels read a mask as boolean: an additive one goes the composed way.
  if (opts.needWeights === false && !(p > 0 && opts.training) && !additive) {
    // The weights are not wanted and no dropout touches them: the fused kernel, when the backend has one.
    if (mask) {
      const scoreShape = [...q.shape.slice(0, -1), k.dim(-2)];
      const shape = broadcastShapes(scoreShape, mask.shape, 'scaledDotProductAttention mask');
      if (shape.length !== scoreShape.length || shape.some((d, i) => d !== scoreShape[i])) {
        throw new ShapeError(`scaledDotProductAttention: mask ${fmtShape(mask.shape)} does not broadcast to scores ${fmtShape(scoreShape)}`);
      }
    }
    const fused = fusedAttention(q, k, v, mask ?? null, 1 / Math.sqrt(K));
    if (fused) return { output: fused };
  }
  // Scale Q before the product, as torch does, so rounding matches the reference closely.
  let scores = q.mul(1 / Math.sqrt(K)).matmul(k.transpose(-2, -1)); // [..., T, S]
  let keep: Tensor | null = null;
  if (mask) {
    let m = mask.dtype === scores.dtype ? mask : mask.to(scores.dtype);
    const shape = broadcastShapes(scores.shape, m.shape, 'scaledDotProductAttention mask');
    if (shape.length !== scores.ndim || shape.some((d, i) => d !== scores.shape[i])) {
      throw new ShapeError(`scaledDotProductAttention: mask ${fmtShape(mask.shape)} does not broadcast to scores ${fmtShape(scores.shape)}`);
    }
    if (additive) {
      // softmax(Q·Kᵀ/√d_k + M): the finite entries are added; the -Infinity ones mask as a boolean mask does
      // (so that a row they close completely gets zero weights, not NaN).
      const blocked = m.eq(-Infinity);
      scores = scores.add(m.maskedFill(blocked, 0));
      m = blocked;
    }
    // rowOpen [..., T, 1] is 1 where a query row has at least one allowed key.
    const rowOpen = m.eq(0).max(-1, true);
    if (rowOpen.toArray().includes(0)) {
      // Unmask fully masked rows (so the softmax stays finite), then zero their weights below.
      keep = rowOpen;
      scores = scores.maskedFill(m.mul(rowOpen), -Infinity);
    } else {
      scores = scores.maskedFill(m, -Infinity);
    }
  }
  let weights = softmax(scores, -1);
  if (keep) weights = weights.mul(keep);
  let attn = weights;
  if (p > 0 && opts.training) {
    if (!opts.rng) throw new ArgumentError(`scaledDotProductAttention: dropout ${p} in training needs an rng`);
    attn = dropoutFn(weights, p, opts.rng, true);
  }
  return { output: attn.matmul(v), weights, scores };
}

/** Per-call options of {@link MultiHeadAttention.forward}. */
export interface MultiHeadAttentionCallOptions {
  /** [B, S], 1 at padded keys. */
  keyPaddingMask?: Tensor | null;
  /** [T, S], or anything broadcastable to [B, H, T, S]; 1 where attention is not allowed. */
  attnMask?: Tensor | null;
  /** Return the per-head attention weights [B, H, T, S]. */
  needWeights?: boolean;
  /**
   * Already projected keys and values [B, H, S, K], from {@link MultiHeadAttention.projectKeyValue}.
   * When given, `key` and `value` are not used: this is the hook for an incremental-decoding
   * KV cache (project the new positions, append them, pass the whole cache here).
   */
  keyValue?: { k: Tensor; v: Tensor } | null;
  /**
   * Self-attention only: append this call's keys and values to the buffer and attend over all
   * of it (incremental decoding). `attnMask` and `keyPaddingMask` then cover every cached key:
   * [T, S] and [B, S] with S = the buffer's length after the append.
   */
  kvCache?: KVBuffer | null;
}

export interface MultiHeadAttentionOptions extends ParamOptions {
  /** Dropout on the attention weights (default 0). */
  dropout?: number;
  /** Generator of the dropout masks (default: `rng`). */
  dropoutRng?: Rng;
}

/**
 * MultiHead(Q, K, V) = Concat(head_1, ..., head_H) · W^O,
 * head_i = Attention(Q·W_i^Q, K·W_i^K, V·W_i^V)                       (paper §3.2.2)
 *
 * Parameters as torch.nn.MultiheadAttention: `in_proj_weight` [3D, D] (W^Q, W^K, W^V stacked,
 * head i owning rows i·K..(i+1)·K of each), `in_proj_bias` [3D], `out_proj.weight` [D, D],
 * `out_proj.bias` [D]. Batch first: [B, T, D].
 *
 * @example
 * const mha = new MultiHeadAttention(16, 4, { rng: new Rng(0) });
 * const { output, weights } = mha.forward(x, x, x, { attnMask: causalMask(T), needWeights: true });
 * // output [B, T, 16], weights [B, 4, T, T]
 */
export class MultiHeadAttention extends Module {
  readonly inProjWeight: Tensor;
  readonly inProjBias: Tensor;
  readonly outProj: Linear;
  readonly headDim: number;
  readonly dropout: number;
  private readonly dropoutRng: Rng;

  constructor(readonly dModel: number, readonly numHeads: number, opts: MultiHeadAttentionOptions) {
    super();
    if (!Number.isInteger(numHeads) || numHeads < 1 || dModel % numHeads !== 0) {
      throw new ArgumentError(`MultiHeadAttention: dModel ${dModel} must be divisible by numHeads ${numHeads}`);
    }
    this.headDim = dModel / numHeads;
    this.dropout = opts.dropout ?? 0;
    this.dropoutRng = this.addRng('dropout_rng', opts.dropoutRng ?? opts.rng);
    // torch: xavier_uniform_ on the packed weight, zero biases.
    this.inProjWeight = this.addParameter('in_proj_weight', xavierUniform([3 * dModel, dModel], opts));
    this.inProjBias = this.addParameter('in_proj_bias', full([3 * dModel], 0, { dtype: opts.dtype ?? 'float32', backend: opts.backend }));
    this.outProj = this.addModule('out_proj', new Linear(dModel, dModel, opts));
    this.outProj.bias!.assign(full([dModel], 0, { dtype: this.outProj.bias!.dtype, backend: this.outProj.bias!.backend }));
  }

  /** Rows [i·D, (i+1)·D) of the packed projection: 0 = Q, 1 = K, 2 = V (views, no copy). */
  private proj(i: number, n = 1): [Tensor, Tensor] {
    const D = this.dModel;
    return [this.inProjWeight.narrow(0, i * D, n * D), this.inProjBias.narrow(0, i * D, n * D)];
  }

  /**
   * x·W_iᵀ + b_i for the n parts i = first .. first+n-1 of the packed projection ([..., D] each).
   * Without gradients, one product against the packed rows, split by views. With them, one product
   * per part: the split's backward would fill a zero [..., nD] gradient per part and add the n of
   * them up, several passes over the largest activation of the layer for nothing.
   */
  private projectParts(x: Tensor, first: number, n: number): Tensor[] {
    if (!isGradEnabled()) {
      const [w, b] = this.proj(first, n);
      return linear(x, w, b).split(this.dModel, -1); // [..., nD] → n × [..., D]
    }
    return Array.from({ length: n }, (_, i) => {
      const [w, b] = this.proj(first + i);
      return linear(x, w, b);
    });
  }

  /** [B, T, D] → [B, H, T, K] (a view when strides allow). */
  private heads(x: Tensor): Tensor {
    const [B, T] = x.shape;
    return x.reshape([B, T, this.numHeads, this.headDim]).permute([0, 2, 1, 3]);
  }

  private checkInput(name: string, x: Tensor): void {
    if (x.ndim !== 3 || x.shape[2] !== this.dModel) {
      throw new ShapeError(`MultiHeadAttention: ${name} ${fmtShape(x.shape)} must be [B, len, ${this.dModel}]`);
    }
  }

  /** Q heads: query [B, T, D] → [B, H, T, K]. */
  projectQuery(query: Tensor): Tensor {
    this.checkInput('query', query);
    const [w, b] = this.proj(0);
    return this.heads(linear(query, w, b));
  }

  /** K and V heads: key, value [B, S, D] → [B, H, S, K] each; one product when key === value (no gradients). */
  projectKeyValue(key: Tensor, value: Tensor): { k: Tensor; v: Tensor } {
    this.checkInput('key', key);
    this.checkInput('value', value);
    if (key === value) {
      const [k, v] = this.projectParts(key, 1, 2); // 2 × [B, S, D]
      return { k: this.heads(k), v: this.heads(v) };
    }
    const [wk, bk] = this.proj(1);
    const [wv, bv] = this.proj(2);
    return { k: this.heads(linear(key, wk, bk)), v: this.heads(linear(value, wv, bv)) };
  }

  /**
   * query [B, T, D], key and value [B, S, D] → output [B, T, D] and, when `needWeights`,
   * weights [B, H, T, S]. Self-attention (query === key === value) projects Q, K and V with
   * one product against the packed weight when no gradients are recorded.
   */
  forward(query: Tensor, key: Tensor, value: Tensor, opts: MultiHeadAttentionCallOptions = {}): AttentionResult {
    this.checkInput('query', query);
    const [B, T, D] = query.shape;
    let q: Tensor, k: Tensor, v: Tensor;
    if (opts.kvCache && !(query === key && key === value && !opts.keyValue)) {
      throw new ArgumentError('MultiHeadAttention: kvCache is for self-attention (query === key === value, no keyValue)');
    }
    const fused = this.fusedForward(query, key, value, opts);
    if (fused) return { output: fused };
    if (opts.keyValue) {
      q = this.projectQuery(query);
      ({ k, v } = opts.keyValue);
    } else if (query === key && key === value) {
      [q, k, v] = this.projectParts(query, 0, 3).map((t) => this.heads(t)); // 3 × [B, H, T, K]
      if (opts.kvCache) ({ k, v } = opts.kvCache.append(k, v)); // [B, H, S, K], S = cached + T
    } else {
      q = this.projectQuery(query);
      ({ k, v } = this.projectKeyValue(key, value));
    }
    const S = k.dim(-2);
    if (k.ndim !== 4 || k.shape[0] !== B || k.shape[1] !== this.numHeads || k.shape[3] !== this.headDim) {
      throw new ShapeError(`MultiHeadAttention: keys ${fmtShape(k.shape)} must be [${B}, ${this.numHeads}, S, ${this.headDim}]`);
    }
    const mask = combineMasks(B, this.numHeads, T, S, opts.keyPaddingMask, opts.attnMask);
    const { output, weights, scores } = scaledDotProductAttention(q, k, v, mask, {
      dropout: this.dropout, rng: this.dropoutRng, training: this.training, needWeights: opts.needWeights ?? false,
    }); // [B, H, T, K], [B, H, T, S] when asked for
    const concat = output.permute([0, 2, 1, 3]).reshape([B, T, D]); // Concat(head_1..head_H)
    const out = this.outProj.forward(concat);
    return opts.needWeights ? { output: out, weights, scores } : { output: out };
  }

  /**
   * The same output with the fused kernel on the projections as they come out of their products ([B, T, 3D] for
   * self-attention, [B, S, 2D] for keys and values together): no copies to split the heads or to concatenate them,
   * and one product (forward and backward) for Q, K and V. Null when it does not apply: weights wanted, dropout
   * on them, a KV cache or given keys and values, or no kernel for the backend.
   */
  private fusedForward(query: Tensor, key: Tensor, value: Tensor, opts: MultiHeadAttentionCallOptions): Tensor | null {
    if (opts.needWeights || opts.kvCache || opts.keyValue || (this.dropout > 0 && this.training)) return null;
    const [B, T, D] = query.shape;
    // The same conditions as fusedMultiHeadAttention's (its projections are contiguous), so no product is wasted.
    if (!query.backend.attention || !query.backend.attentionBackward || query.dtype !== 'float32' || T === 0) return null;
    this.checkInput('key', key);
    this.checkInput('value', value);
    const S = key.shape[1];
    const mask = combineMasks(B, this.numHeads, T, S, opts.keyPaddingMask, opts.attnMask);
    if (mask && isAdditiveMask(mask)) return null; // the fused kernel reads masks as boolean
    let parts: [HeadColumns, HeadColumns, HeadColumns];
    if (query === key && key === value) {
      const qkv = linear(query, this.inProjWeight, this.inProjBias); // [B, T, 3D]
      parts = [{ src: qkv, col: 0 }, { src: qkv, col: D }, { src: qkv, col: 2 * D }];
    } else if (key === value) {
      const [wq, bq] = this.proj(0);
      const [wkv, bkv] = this.proj(1, 2);
      const kv = linear(key, wkv, bkv); // [B, S, 2D]
      parts = [{ src: linear(query, wq, bq), col: 0 }, { src: kv, col: 0 }, { src: kv, col: D }];
    } else {
      parts = [0, 1, 2].map((i) => {
        const [w, b] = this.proj(i);
        return { src: linear([query, key, value][i], w, b), col: 0 };
      }) as [HeadColumns, HeadColumns, HeadColumns];
    }
    const concat = fusedMultiHeadAttention(...parts, this.numHeads, this.headDim, mask, 1 / Math.sqrt(this.headDim));
    if (!concat) return null;
    return this.outProj.forward(concat); // Concat(head_1..head_H)·W^O
  }
}

/**
 * True when `mask` is additive (added to the attention scores, as PyTorch adds a float attn_mask):
 * a float mask holding any value other than 0 and 1, such as an ALiBi bias or a 0/-Infinity mask.
 * An int32 mask, or a float one of only 0s and 1s (causalMask, paddingMask), is boolean: non-zero
 * where attention is not allowed. (A float mask meant as a bias of only 0s and 1s reads as boolean.)
 *
 * @example
 * isAdditiveMask(tensor([[0, -0.5]])); // true: scores + [0, -0.5]
 * isAdditiveMask(causalMask(3)); // false: 1 where attention is not allowed
 * isAdditiveMask(sharedCausalMask(3)); // false, known without reading the mask
 */
export function isAdditiveMask(mask: Tensor): boolean {
  if (mask.dtype === 'int32') return false;
  const known = knownMaskKind(mask); // a read-only mask of known kind (sharedCausalMask): no copy, no scan
  if (known) return known.additive;
  const a = mask.toArray();
  for (let i = 0; i < a.length; i++) if (a[i] !== 0 && a[i] !== 1) return true;
  return false;
}

/** keyPaddingMask [B, S] and attnMask (broadcastable to [B, H, T, S]) → one mask, or null. */
function combineMasks(B: number, H: number, T: number, S: number, kpm?: Tensor | null, attn?: Tensor | null): Tensor | null {
  let mask: Tensor | null = null;
  if (kpm) {
    if (kpm.ndim !== 2 || kpm.shape[0] !== B || kpm.shape[1] !== S) {
      throw new ShapeError(`MultiHeadAttention: keyPaddingMask ${fmtShape(kpm.shape)} must be [B, S] = [${B}, ${S}]`);
    }
    mask = kpm.reshape([B, 1, 1, S]);
  }
  if (attn) {
    const ok = attn.ndim <= 4 && attn.shape.every((d, i) => d === 1 || d === [B, H, T, S][4 - attn.ndim + i]);
    if (!ok) throw new ShapeError(`MultiHeadAttention: attnMask ${fmtShape(attn.shape)} does not broadcast to [B, H, T, S] = ${fmtShape([B, H, T, S])}`);
    if (!mask) return attn;
    if (isAdditiveMask(attn)) {
      // An additive attnMask stays additive: padded keys add -Infinity to it.
      const dt = attn.dtype === 'int32' ? 'float32' : attn.dtype;
      return full([B, 1, 1, S], 0, { dtype: dt, backend: attn.backend }).maskedFill(mask, -Infinity).add(attn.to(dt));
    }
    // Masked where either mask is non-zero.
    const dt = mask.dtype === attn.dtype ? mask.dtype : 'float32';
    return mask.to(dt).eq(0).mul(attn.to(dt).eq(0)).eq(0);
  }
  return mask;
}
