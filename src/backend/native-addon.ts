// The functions the compiled addon exports, as TypeScript sees them (the C side: native/addon*.c).

import type { TypedArray } from '../core/dtype.js';

/** A weight of decodeBlock: float32, or null where a bias is absent. */
type W = Float32Array | null;

/**
 * The functions the compiled addon (build/Release/qkv_native.node) exports. Layout metadata is a
 * Float64Array: `[ndim, ...shape, then per operand: offset, ...strides]` (see native/addon.c).
 */
export interface NativeAddon {
  copy(out: TypedArray, x: TypedArray, meta: Float64Array): void;
  assign(dst: TypedArray, src: TypedArray, meta: Float64Array): void;
  unary(op: number, out: TypedArray, x: TypedArray, meta: Float64Array): void;
  binary(op: number, out: TypedArray, a: TypedArray, b: TypedArray, meta: Float64Array): void;
  where(out: TypedArray, cond: TypedArray, a: TypedArray, b: TypedArray, meta: Float64Array): void;
  reduce(op: number, out: TypedArray, x: TypedArray, meta: Float64Array, axis: number): void;
  matmul(out: TypedArray, a: TypedArray, b: TypedArray, meta: Float64Array): void;
  indexSelect(out: TypedArray, table: TypedArray, ids: Int32Array, meta: Float64Array): number;
  indexAdd(out: TypedArray, src: TypedArray, ids: Int32Array, meta: Float64Array): number;
  softmax(out: Float32Array, x: Float32Array, meta: Float64Array): void;
  layerNorm(out: Float32Array, mean: Float32Array, rstd: Float32Array, x: Float32Array, meta: Float64Array,
    weight: Float32Array | null, bias: Float32Array | null, eps: number): void;
  dropoutMask(mask: Float32Array, meta: Float64Array): void;
  layerNormBackward(dx: Float32Array, dw: Float32Array, db: Float32Array, x: Float32Array, g: Float32Array,
    mean: Float32Array, rstd: Float32Array, weight: Float32Array | null, meta: Float64Array): void;
  attention(out: Float32Array, lse: Float32Array, q: Float32Array, k: Float32Array, v: Float32Array,
    mask: Float32Array | Int32Array | null, meta: Float64Array): void;
  attentionBackward(dq: Float32Array, dk: Float32Array, dv: Float32Array, dout: Float32Array, out: Float32Array, lse: Float32Array,
    q: Float32Array, k: Float32Array, v: Float32Array, mask: Float32Array | Int32Array | null, meta: Float64Array): void;
  crossEntropy(lse: Float32Array, x: Float32Array, targets: Int32Array, meta: Float64Array): number;
  crossEntropyBackward(dx: Float32Array, x: Float32Array, lse: Float32Array, targets: Int32Array, meta: Float64Array): void;
  gelu(out: Float32Array, x: Float32Array, meta: Float64Array): void;
  geluBackward(dx: Float32Array, x: Float32Array, g: Float32Array, meta: Float64Array): void;
  adam(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, meta: Float64Array): void;
  /** The 12 weights in BlockWeights' order (null: none); meta [B, D, H, F, maxLen, s0, normFirst, gelu (0 ReLU, 1 erf, 2 tanh), eps, offsets of x, k, v, the weights]. */
  decodeBlock(out: Float32Array, x: Float32Array, k: Float32Array, v: Float32Array, inW: W, inB: W, outW: W, outB: W, n1W: W, n1B: W, n2W: W, n2B: W,
    l1W: W, l1B: W, l2W: W, l2B: W, meta: Float64Array): void;
  /**
   * arrays: tokEmb, posEmb, normW, normB, head, then per block k, v and decodeBlock's 12 weights; meta [B, D, H, F,
   * layers, maxLen, s0, embRows, vocab, normFirst, gelu (0/1/2 as decodeBlock's), finalNorm, eps, normEps, idsOffset, one offset per array].
   * Returns 1, or -1 - b when ids[b] is out of range (nothing written).
   */
  decodeStack(out: Float32Array, ids: Int32Array, meta: Float64Array, ...arrays: W[]): number;
  /** decodeStack with row b at positions[b] (each in [0, s0], meta's s0 the largest); absent in addons built before it. */
  decodeStackRows?(out: Float32Array, ids: Int32Array, positions: Int32Array, meta: Float64Array, ...arrays: W[]): number;
  /**
   * B tokens of one sequence in one call: positions must be s0 - B + 1 .. s0 (meta's s0 the last), the caches of one
   * row ([1, H, maxLen, K]); token b attends to positions up to its own. Absent in addons built before it.
   */
  decodeStackPrefill?(out: Float32Array, ids: Int32Array, positions: Int32Array, meta: Float64Array, ...arrays: W[]): number;
  /** 3 where decodeBlock/decodeStack know the tanh GELU (flag 2); absent in addons built before it. */
  decodeGeluForms?(): number;
  /**
   * Whether products of several rows in a decoding step run as one product over the rows (the default) or row by
   * row (the same outputs bit for bit), after setting it when `on` is given; absent in addons built before it.
   */
  decodeRowTiles?(on?: boolean): boolean;
  setThreads(n: number): number;
  threads(): number;
  gemmKernel(name?: string): string | null;
  gemmKernels(): string[];
  sgemmNaive(out: Float32Array, a: Float32Array, b: Float32Array, meta: Float64Array): void;
  /** meta [M, N, K, x: offset, row and column strides, w: the same, bias offset, relu]. */
  linear(y: Float32Array, x: Float32Array, w: Float32Array, bias: Float32Array | null, meta: Float64Array): void;
  /** meta [M, N, K, then offset, row and column strides of x, w and g]; y and gmask only after a ReLU. */
  linearBackward(dx: Float32Array | null, dw: Float32Array | null, db: Float32Array | null, g: Float32Array, x: Float32Array, w: Float32Array,
    y: Float32Array | null, gmask: Float32Array | null, meta: Float64Array): void;
}
