// The backend contract: the short list of kernels every backend (ref, native, ...) implements.
//
// Kernels take strided views (storage + layout) and return new contiguous storage. Everything
// else (softmax, layer norm, GELU, attention, cross-entropy) is composed from these in tensor/.
// A backend may add fused kernels later, but only behind a benchmark win, with the composed
// version kept as its test oracle.

import type { DType, TypedArray } from '../core/dtype.js';
import type { Layout } from '../core/layout.js';

/** Flat memory owned by a backend. Opaque to everyone but that backend. */
export interface Storage {
  readonly dtype: DType;
  readonly length: number;
}

/** A strided view: what every kernel reads. */
export interface View {
  readonly storage: Storage;
  readonly layout: Layout;
}

/** Element-wise functions of one input. `step` is x > 0 ? 1 : 0 (relu's derivative). */
export type UnaryOp = 'neg' | 'exp' | 'log' | 'sqrt' | 'tanh' | 'relu' | 'step' | 'erf' | 'abs' | 'recip';
/** Element-wise functions of two inputs of one dtype; comparisons give 1 or 0 in that dtype. */
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'max' | 'min' | 'eq' | 'lt' | 'gt';
/** Reductions over one axis; `argmax` gives int32 indices. */
export type ReduceOp = 'sum' | 'max' | 'argmax';

export interface Backend {
  readonly name: string;

  /** A zero-filled buffer. */
  alloc(dtype: DType, length: number): Storage;
  /** Copies a typed array in. */
  fromArray(data: TypedArray): Storage;
  /**
   * Storage over `data` itself, no copy: what is written through either shows in the other (a
   * SharedArrayBuffer's view shares it between threads). Never pooled.
   */
  wrapArray(data: TypedArray): Storage;
  /** Copies a view out as a new contiguous typed array. */
  toArray(x: View): TypedArray;

  /** Contiguous copy of a view, optionally cast to another dtype. */
  copy(x: View, dtype?: DType): Storage;
  /** out[i] = op(x[i]); out is contiguous with x's shape. */
  unary(op: UnaryOp, x: View): Storage;
  /** out[i] = op(a[i], b[i]); a and b have the same shape (broadcast with zero strides). */
  binary(op: BinaryOp, a: View, b: View): Storage;
  /** out[i] = cond[i] != 0 ? a[i] : b[i]; all three have the same shape. */
  where(cond: View, a: View, b: View): Storage;
  /** Reduces `axis`, which stays in the output with size 1. */
  reduce(op: ReduceOp, x: View, axis: number): Storage;
  /** Batched matrix product: a [N, M, K] · b [N, K, P] → out [N, M, P] contiguous. */
  matmul(a: View, b: View): Storage;
  /** Rows of a 2-D table: table [R, C], ids int32 [N] → out [N, C]. Ids out of range throw. */
  indexSelect(table: View, ids: View): Storage;
  /** Writes src into the strided region dst, in place (concat, slice gradients, optimizer updates, KV caches). */
  assign(dst: View, src: View): void;
  /** The adjoint of indexSelect: out [rows, C] zeros, then out[ids[n]] += src[n] for src [N, C]. */
  indexAdd(src: View, ids: View, rows: number): Storage;

  // Optional fused kernels. A backend may omit them, or return null for a dtype it has no fused
  // kernel for; ops then compose the result from the kernels above, and that composed version is
  // the fused kernel's test oracle.

  /** Softmax over the last axis; out is contiguous with x's shape. */
  softmax?(x: View): Storage | null;
  /**
   * Layer norm over the last axis, y = (x - mean)·rstd·weight + bias with rstd = 1/√(var + eps)
   * (biased variance); weight and bias are 1-D with the last axis' length, or null. Also returns
   * each row's mean and rstd (shape x.shape[:-1]) for the backward pass.
   */
  layerNorm?(x: View, weight: View | null, bias: View | null, eps: number): { y: Storage; mean: Storage; rstd: Storage } | null;
  /**
   * An inverted-dropout mask of n float32 values: scale where h_i = fmix32(fmix32(i ⊕ k0) ⊕ k1) is
   * ≥ p·2³², else 0 (src/tensor/ops/functional.ts `dropoutMask` is the spec).
   */
  dropoutMask?(n: number, p: number, scale: number, key: readonly [number, number]): Storage | null;
  /**
   * The gradients of layerNorm given g (x's shape) and the forward's mean and rstd: dx (x's shape), and
   * dweight = Σ g ⊙ x̂, dbias = Σ g over every row ([n] each; the caller drops those it has no parameter for).
   */
  layerNormBackward?(x: View, g: View, mean: Storage, rstd: Storage, weight: View | null): { dx: Storage; dweight: Storage; dbias: Storage } | null;
  /**
   * softmax(q·kᵀ·scale, masked)·v without the [T, S] matrix: q [B, H, T, K], k [B, H, S, K], v [B, H, S, Vd],
   * mask [B, H, T, S] (broadcast strides allowed; non-zero = not allowed) or null. Returns out [B, H, T, Vd]
   * and each row's log-sum-exp [B, H, T] for the backward; a row with every key masked gets out 0, lse -∞.
   * out's storage is laid out [B, H, T, Vd], or [B, T, H, Vd] with `tokenMajor` (the heads concatenated).
   */
  attention?(q: View, k: View, v: View, mask: View | null, scale: number, tokenMajor?: boolean): { out: Storage; lse: Storage } | null;
  /**
   * The gradients of attention given dout [B, H, T, Vd] (any strides) and what the forward returned (out in the
   * layout asked for then, `tokenMajor`). dq, dk, dv are fresh [B, H, rows, d] storages, or written into `into`'s
   * views ([B, H, rows, d], rows contiguous, every element written; they may share one storage).
   */
  attentionBackward?(q: View, k: View, v: View, mask: View | null, scale: number, out: Storage, lse: Storage, dout: View,
    opts?: { tokenMajor?: boolean; into?: { dq: View; dk: View; dv: View } }): { dq: Storage; dk: Storage; dv: Storage };
  /**
   * Cross-entropy of logits [N, V] against int32 targets [N] (rows at ignoreIndex skipped, label smoothing ε):
   * Σ_n loss_n, and each row's log-sum-exp [N] for the backward. Targets are already checked to be in range.
   */
  crossEntropy?(logits: View, targets: View, ignoreIndex: number, labelSmoothing: number): { sum: number; lse: Storage } | null;
  /** d(scale·Σ loss)/dlogits = scale·(softmax − q) per row, 0 on ignored rows: [N, V]. */
  crossEntropyBackward?(logits: View, targets: View, lse: Storage, ignoreIndex: number, labelSmoothing: number, scale: number): Storage;
  /** GELU of x, exact (erf) or the tanh approximation; contiguous with x's shape. */
  gelu?(x: View, approximate: 'none' | 'tanh'): Storage | null;
  /** g·GELU'(x), contiguous with x's shape. */
  geluBackward?(x: View, g: View, approximate: 'none' | 'tanh'): Storage;
  /**
   * One Adam/AdamW step in place on param (its own storage) and the moment buffers m, v (contiguous, the
   * parameter's length), in torch.optim's order of operations. Returns false, touching nothing, when it
   * has no kernel for the case (dtype, a non-contiguous parameter); the optimizer then composes.
   */
  adamUpdate?(param: View, grad: View, m: Storage, v: Storage, hp: AdamHyper): boolean;
  /**
   * One decoding step of one Transformer block (torch.nn.TransformerEncoderLayer at inference, no dropout) for
   * B rows of one new position each: x [B, D]; the layer's key and value caches k, v [B, H, maxLen, K], whose
   * positions [0, s0) are filled. Writes this position's keys and values at s0 (in place), attends over
   * positions 0..s0, and returns the block's output [B, D]; or null, touching nothing, when it has no kernel
   * for the case (dtype, non-contiguous operands). The composed layer (src/nn/encoder-layer.ts) is its oracle.
   */
  decodeBlock?(x: View, weights: BlockWeights, k: View, v: View, s0: number, spec: BlockSpec): Storage | null;
  /**
   * One decoding step of a whole decoder-only stack (GPT) for B rows of one new token each: ids int32 [B] pick
   * rows of the token embedding, position s0's row is added, every block runs as decodeBlock does, with one spec
   * for all (caches[l] are block l's, positions [0, s0) filled, s0 written in place), then the final norm and the
   * head give logits [B, V]. Returns null, touching nothing, when it has no kernel for the case (dtype,
   * non-contiguous operands); ids out of range throw before anything is written. A backend may keep what it
   * derives from `weights` for later calls with the same object, so a caller that replaces a parameter (rather
   * than writing into it) passes a new one. The composed model (src/models/gpt.ts) is its oracle.
   */
  decodeStack?(ids: View, weights: StackWeights, caches: readonly CacheViews[], s0: number, spec: BlockSpec): Storage | null;
  /**
   * decodeStack for rows at their own positions (continuous batching: sequences that joined at different times
   * share one step): row b's new token sits at positions[b], its position-table row is positions[b]'s, and it
   * attends to its own cached positions 0..positions[b] - 1 and itself; positions[b] is written in place in row
   * b of every cache. With every position equal to s0 it computes what decodeStack(…, s0, …) does, bit for bit.
   * Returns null, touching nothing, when it has no kernel for the case; ids or positions out of range throw
   * before anything is written.
   */
  decodeStackRows?(ids: View, weights: StackWeights, caches: readonly CacheViews[], positions: Int32Array, spec: BlockSpec): Storage | null;
  /**
   * T tokens of one sequence in one call (a prompt's prefill): ids int32 [T] at positions s0..s0+T-1 of caches with
   * one row ([1, H, maxLen, K], positions [0, s0) filled), token t attending to positions 0..s0+t, every block as
   * decodeStack runs it → logits [T, V], what T decodeStack steps compute; positions s0..s0+T-1 are written in
   * place. Returns null, touching nothing, when it has no kernel for the case; ids out of range throw before
   * anything is written.
   */
  decodeStackPrefill?(ids: View, weights: StackWeights, caches: readonly CacheViews[], s0: number, spec: BlockSpec): Storage | null;

  /**
   * A Linear layer, y = x·wᵀ + bias, then ReLU when `activation` is 'relu', the bias and ReLU applied as the
   * product's tiles are stored: x [M, K] and weight [N, K] at any strides, bias [N] or null → y [M, N]. Null,
   * touching nothing, when it has no kernel for the case (dtype). The composed matmul, add and relu are its oracle.
   */
  linear?(x: View, weight: View, bias: View | null, activation: 'none' | 'relu'): Storage | null;
  /**
   * The gradients of linear given g [M, N] and, after a ReLU, the forward's output y: with g' = g ⊙ (y > 0)
   * (or g), dx = g'·weight [M, K], dweight = g'ᵀ·x [N, K] and dbias = Σ_rows g' [N]; only those `want` names
   * are computed, the others are null.
   */
  linearBackward?(x: View, weight: View, g: View, y: Storage | null, want: LinearGrads<boolean>): LinearGrads<Storage | null>;

  /**
   * Starts recording the buffers this backend hands out, for reuse after the scope's `close(keep)`
   * (buffer-pool.ts). Optional: a backend without it leaves everything to the garbage collector.
   */
  openScope?(): StorageScope;
  /**
   * Inside an open scope, takes back one storage made in it before the scope ends: the caller
   * promises nothing reads it again (autograd releases each gradient once it is passed on).
   * Anything else is ignored. Optional, like openScope.
   */
  release?(s: Storage): void;
}

/** A scope of {@link Backend.openScope}: on close, every storage made inside it may be reused, except keep's. */
export interface StorageScope {
  close(keep: Iterable<Storage>): void;
  /** Stops recording and recycles nothing. */
  discard(): void;
}

/** One value per gradient of {@link Backend.linearBackward}: what is wanted, or what came back. */
export interface LinearGrads<T> {
  dx: T;
  dweight: T;
  dbias: T;
}

/** The parameters of one Transformer block under torch.nn.TransformerEncoderLayer's names; biases may be null. */
export interface BlockWeights {
  /** [3D, D] and [3D]: W^Q, W^K, W^V stacked. */
  inProjWeight: View;
  inProjBias: View | null;
  /** [D, D] and [D]. */
  outProjWeight: View;
  outProjBias: View | null;
  /** [D] each. */
  norm1Weight: View;
  norm1Bias: View;
  norm2Weight: View;
  norm2Bias: View;
  /** [F, D] and [F]. */
  linear1Weight: View;
  linear1Bias: View | null;
  /** [D, F] and [D]. */
  linear2Weight: View;
  linear2Bias: View | null;
}

/** How a block computes: its heads, pre-norm (x + f(LN(x))) or post-norm (LN(x + f(x))), the FFN's non-linearity, LayerNorm ε. */
export interface BlockSpec {
  heads: number;
  normFirst: boolean;
  /** The FFN's non-linearity: ReLU, exact GELU, or GELU's tanh form ('gelu_new'). */
  activation: 'relu' | 'gelu' | 'gelu_new';
  eps: number;
}

/** A block's key and value caches for decodeStack: [B, H, maxLen, K] each. */
export interface CacheViews {
  k: View;
  v: View;
}

/** The parameters of a decoder-only stack (GPT) for {@link Backend.decodeStack}. */
export interface StackWeights {
  /** [R, D]: row ids[b] starts row b. */
  tokenEmbedding: View;
  /** [P, D]: row s0 is added (learned positions), or null for none. */
  positionEmbedding: View | null;
  blocks: readonly BlockWeights[];
  /** The LayerNorm after the last block ([D] each), or null for none. */
  finalNorm: { weight: View; bias: View; eps: number } | null;
  /** [V, D]: logits = h·headᵀ. */
  head: View;
}

/** What one Adam step needs besides the tensors; stepSize = lr/(1−β1ᵗ), bias2Sqrt = √(1−β2ᵗ). */
export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW's decay p ← p·(1 − lr·λ) rather than Adam's g ← g + λ·p. */
  decoupled: boolean;
  stepSize: number;
  bias2Sqrt: number;
}
