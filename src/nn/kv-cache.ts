// KV cache for incremental decoding: each attention's keys and values, written in place, step by step.
//
// Decoding one token at a time recomputes nothing: the keys and values of earlier positions are
// kept, the new position's are appended, and only its query attends over them. Buffers are
// preallocated to `maxLen` positions on the first append (when the batch size and head shape are
// known) and written with `assign` into `narrow` views, so no step reallocates. A cache is for
// inference: values are written outside autograd, so use it under noGrad.

import type { FloatDType } from '../core/dtype.js';
import { ArgumentError, ShapeError, fmtShape } from '../core/errors.js';
import { Tensor, embedding, tensor, zeros } from '../tensor/index.js';

/** Keys and values [B, H, S, K] of one attention. */
export interface KeyValue {
  k: Tensor;
  v: Tensor;
}

/**
 * Rows of the batch axis: x [B, ...] → [N, ...] with row n = x[indices[n]] (a fresh tensor).
 *
 * @example
 * selectRows(tensor([[1, 2], [3, 4]]), [1, 1, 0]).toList(); // [[3, 4], [3, 4], [1, 2]]
 */
export function selectRows(x: Tensor, indices: readonly number[]): Tensor {
  const B = x.shape[0];
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= B) throw new ArgumentError(`selectRows: index ${i} is not a row of ${fmtShape(x.shape)}`);
  }
  const ids = tensor(Int32Array.from(indices), { backend: x.backend });
  return embedding(ids, x.reshape([B, -1])).reshape([indices.length, ...x.shape.slice(1)]);
}

/**
 * One self-attention's growing keys and values, preallocated to `maxLen` positions.
 *
 * @example
 * const buf = new KVBuffer(16);
 * const { k, v } = buf.append(kNew, vNew); // kNew [B, H, 1, K] → k [B, H, buf.length, K]
 */
export class KVBuffer {
  private kBuf: Tensor | null = null;
  private vBuf: Tensor | null = null;
  /** Positions filled so far. */
  length = 0;

  constructor(readonly maxLen: number) {
    if (!Number.isInteger(maxLen) || maxLen < 1) throw new ArgumentError(`KVBuffer: maxLen must be a positive integer, got ${maxLen}`);
  }

  /** Writes k, v [B, H, T, K] at positions [length, length+T) and returns the filled prefix (views). */
  append(k: Tensor, v: Tensor): KeyValue {
    if (k.ndim !== 4 || v.ndim !== 4 || k.shape.some((d, i) => i !== 3 && d !== v.shape[i])) {
      throw new ShapeError(`KVBuffer: keys ${fmtShape(k.shape)} and values ${fmtShape(v.shape)} must be [B, H, T, K] and [B, H, T, Vd]`);
    }
    const T = k.shape[2];
    const [B, H] = k.shape;
    if (!this.kBuf || !this.vBuf) {
      const o = { dtype: k.dtype as FloatDType, backend: k.backend };
      this.kBuf = zeros([B, H, this.maxLen, k.shape[3]], o);
      this.vBuf = zeros([B, H, this.maxLen, v.shape[3]], o);
    }
    const want = [this.kBuf.shape[0], this.kBuf.shape[1], T, this.kBuf.shape[3]];
    if (k.shape.some((d, i) => d !== want[i]) || v.shape[3] !== this.vBuf.shape[3]) {
      throw new ShapeError(`KVBuffer: keys ${fmtShape(k.shape)} do not fit the cache ${fmtShape(this.kBuf.shape)}`);
    }
    if (this.length + T > this.maxLen) {
      throw new ArgumentError(`KVBuffer: positions [${this.length}, ${this.length + T}) exceed the cache's maxLen ${this.maxLen}`);
    }
    this.kBuf.narrow(2, this.length, T).assign(k.detach());
    this.vBuf.narrow(2, this.length, T).assign(v.detach());
    this.length += T;
    return this.view();
  }

  /**
   * The whole preallocated buffers [B, H, maxLen, K], or null before the first append: for a kernel that
   * writes position `length` in place (Backend.decodeBlock), which then calls advance(1).
   */
  buffers(): KeyValue | null {
    return this.kBuf && this.vBuf ? { k: this.kBuf, v: this.vBuf } : null;
  }

  /**
   * Allocates the buffers for B rows of H heads (keys of K values, values of Vd) before the first append, as
   * append would, so that a kernel can write position 0 in place; once allocated, leaves them as they are.
   * Returns buffers() (whose shape the caller checks: they may be of another batch size).
   *
   * @example
   * const { k, v } = buf.reserve(1, 4, 32, 32, x); // [1, 4, buf.maxLen, 32] each, x's dtype and backend
   */
  reserve(B: number, H: number, K: number, Vd: number, like: Tensor): KeyValue {
    if (!this.kBuf || !this.vBuf) {
      const o = { dtype: like.dtype as FloatDType, backend: like.backend };
      this.kBuf = zeros([B, H, this.maxLen, K], o);
      this.vBuf = zeros([B, H, this.maxLen, Vd], o);
    }
    return { k: this.kBuf, v: this.vBuf };
  }

  /** Counts T positions that a kernel has written into buffers() as filled, as append would. */
  advance(T: number): void {
    if (!this.kBuf || !Number.isInteger(T) || T < 0 || this.length + T > this.maxLen) {
      throw new ArgumentError(`KVBuffer: cannot advance ${this.length} by ${T} (maxLen ${this.maxLen}${this.kBuf ? '' : ', nothing appended yet'})`);
    }
    this.length += T;
  }

  /** The filled prefix [B, H, length, K] of keys and values (views into the buffers). */
  view(): KeyValue {
    if (!this.kBuf || !this.vBuf) throw new ArgumentError('KVBuffer: nothing appended yet');
    return { k: this.kBuf.narrow(2, 0, this.length), v: this.vBuf.narrow(2, 0, this.length) };
  }

  /** Batch rows in a new order (beam search): row n becomes old row indices[n]. */
  reorder(indices: readonly number[]): void {
    if (!this.kBuf || !this.vBuf) return;
    this.kBuf = selectRows(this.kBuf, indices);
    this.vBuf = selectRows(this.vBuf, indices);
  }
}

/** The cache of one layer: its self-attention buffer and, in a decoder, the memory's keys and values. */
export interface LayerKVCache {
  self: KVBuffer;
  /** Cross-attention keys and values of the encoder output, projected once on the first step. */
  cross: KeyValue | null;
}

/**
 * The cache of a whole stack: one {@link LayerKVCache} per layer. `length` is the number of
 * positions already decoded, which is also the position offset of the next input.
 *
 * @example
 * const cache = new KVCache(model.layers.length, 64);
 * model.forward(prompt, { cache });           // prefill: positions [0, P)
 * model.forward(nextToken, { cache });        // position P only
 */
export class KVCache {
  readonly layers: LayerKVCache[];

  constructor(numLayers: number, readonly maxLen: number) {
    if (!Number.isInteger(numLayers) || numLayers < 1) throw new ArgumentError(`KVCache: numLayers must be a positive integer, got ${numLayers}`);
    this.layers = Array.from({ length: numLayers }, () => ({ self: new KVBuffer(maxLen), cross: null }));
  }

  /** Positions decoded so far (the offset of the next call). */
  get length(): number {
    return this.layers[0].self.length;
  }

  /** Gathers batch rows of every buffer (self and cross): row n becomes old row indices[n]. */
  reorder(indices: readonly number[]): void {
    for (const layer of this.layers) {
      layer.self.reorder(indices);
      if (layer.cross) layer.cross = { k: selectRows(layer.cross.k, indices), v: selectRows(layer.cross.v, indices) };
    }
  }

  /** The layer cache of layer `i`. */
  layer(i: number): LayerKVCache {
    const l = this.layers[i];
    if (!l) throw new ArgumentError(`KVCache: layer ${i} out of range [0, ${this.layers.length})`);
    return l;
  }
}
