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

  /**
   * A buffer over given tensors k [B, H, maxLen, K] and v [B, H, maxLen, Vd] (views into a larger cache, such as a row
   * of a {@link SlotKVCache}), with positions [0, length) counted as filled: appends write into them in place.
   *
   * @example
   * const row = KVBuffer.over(k.narrow(0, 3, 1), v.narrow(0, 3, 1)); // row 3 of a [slots, H, maxLen, K] pair
   */
  static over(k: Tensor, v: Tensor, length = 0): KVBuffer {
    if (k.ndim !== 4 || v.ndim !== 4 || k.shape[0] !== v.shape[0] || k.shape[1] !== v.shape[1] || k.shape[2] !== v.shape[2]) {
      throw new ShapeError(`KVBuffer.over: keys ${fmtShape(k.shape)} and values ${fmtShape(v.shape)} must be [B, H, maxLen, K] and [B, H, maxLen, Vd]`);
    }
    const buf = new KVBuffer(k.shape[2]);
    if (!Number.isInteger(length) || length < 0 || length > buf.maxLen) throw new ArgumentError(`KVBuffer.over: length ${length} is not in [0, ${buf.maxLen}]`);
    buf.kBuf = k;
    buf.vBuf = v;
    buf.length = length;
    return buf;
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

/** The shape of a {@link SlotKVCache}: its rows, their positions, and each attention's heads and key/value sizes. */
export interface SlotKVCacheShape {
  layers: number;
  /** Rows (sequences) it holds at once. */
  slots: number;
  /** Positions per row. */
  maxLen: number;
  heads: number;
  /** Values per head of a key (and of a value). */
  headDim: number;
}

/**
 * A KV cache of `slots` rows that fill independently, for continuous batching: each row is one sequence with its
 * own length, so sequences can join (prefill their row through {@link SlotKVCache.row}, an ordinary one-row
 * KVCache over that row) and leave between decoding steps. Buffers are allocated once, [slots, H, maxLen, K] per
 * layer for keys and for values; nothing grows while serving. Rows 0..n-1 of {@link SlotKVCache.views} are what a
 * batched step (Backend.decodeStackRows) reads, so the active sequences are kept in the first rows (`move`).
 *
 * @example
 * const cache = new SlotKVCache({ layers: 2, slots: 8, maxLen: 64, heads: 4, headDim: 8 }, like);
 * model.forward(prompt, { cache: cache.row(0) });   // row 0: positions [0, P)
 * cache.length(0);                                  // P
 */
export class SlotKVCache {
  readonly slots: number;
  readonly maxLen: number;
  private readonly k: Tensor[];
  private readonly v: Tensor[];
  private readonly rows: KVCache[];

  constructor(readonly shape: SlotKVCacheShape, like: Tensor) {
    const { layers, slots, maxLen, heads, headDim } = shape;
    for (const [name, n] of Object.entries(shape)) {
      if (!Number.isInteger(n) || n < 1) throw new ArgumentError(`SlotKVCache: ${name} must be a positive integer, got ${n}`);
    }
    this.slots = slots;
    this.maxLen = maxLen;
    const o = { dtype: like.dtype as FloatDType, backend: like.backend };
    this.k = Array.from({ length: layers }, () => zeros([slots, heads, maxLen, headDim], o));
    this.v = Array.from({ length: layers }, () => zeros([slots, heads, maxLen, headDim], o));
    this.rows = Array.from({ length: slots }, (_, r) => {
      const c = new KVCache(layers, maxLen);
      c.layers.forEach((l, i) => { l.self = KVBuffer.over(this.k[i].narrow(0, r, 1), this.v[i].narrow(0, r, 1)); });
      return c;
    });
  }

  /** Row r as a one-row KVCache (batch 1) writing into this cache: what GPT.forward takes to prefill or step that row alone. */
  row(r: number): KVCache {
    const c = this.rows[r];
    if (!c) throw new ArgumentError(`SlotKVCache: row ${r} out of range [0, ${this.slots})`);
    return c;
  }

  /** Positions filled in row r. */
  length(r: number): number {
    return this.row(r).length;
  }

  /** Empties row r (its buffers are overwritten by the next sequence). */
  clear(r: number): void {
    for (const l of this.row(r).layers) l.self.length = 0;
  }

  /** Copies row `from`'s filled positions into row `to` (which takes its length), so the live rows stay first. */
  move(from: number, to: number): void {
    const src = this.row(from);
    const dst = this.row(to);
    if (from === to) return;
    const n = src.length;
    for (let i = 0; i < this.k.length; i++) {
      if (n > 0) {
        this.k[i].narrow(0, to, 1).narrow(2, 0, n).assign(this.k[i].narrow(0, from, 1).narrow(2, 0, n));
        this.v[i].narrow(0, to, 1).narrow(2, 0, n).assign(this.v[i].narrow(0, from, 1).narrow(2, 0, n));
      }
      dst.layers[i].self.length = n;
    }
  }

  /** Per layer, keys and values [n, H, maxLen, K] of rows 0..n-1 (views): a batched step's caches. */
  views(n: number): KeyValue[] {
    if (!Number.isInteger(n) || n < 1 || n > this.slots) throw new ArgumentError(`SlotKVCache: ${n} rows asked, expected 1 to ${this.slots}`);
    return this.k.map((k, i) => ({ k: k.narrow(0, 0, n), v: this.v[i].narrow(0, 0, n) }));
  }

  /** Counts one more position filled in each of rows 0..n-1 (after a batched step wrote them). */
  advance(n: number): void {
    for (let r = 0; r < n; r++) for (const l of this.rows[r].layers) l.self.advance(1);
  }
}
