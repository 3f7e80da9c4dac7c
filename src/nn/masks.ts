// Attention masks, PyTorch's boolean convention: 1 where attention is NOT allowed.

import type { Backend } from '../backend/backend.js';
import type { DType } from '../core/dtype.js';
import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../core/errors.js';
import { Tensor, defaultBackend, tensor } from '../tensor/index.js';

export interface MaskOptions {
  /** Element type of the mask (default float32; any dtype works, non-zero means masked). */
  dtype?: DType;
  backend?: Backend;
}

/**
 * [T, S] with 1 where key j lies in the future of query i (j > i + S - T), 0 elsewhere.
 * With S = T (the default) this is 1 strictly above the diagonal; S > T is for queries that are
 * the last T of S positions (incremental decoding).
 *
 * @example
 * causalMask(3).toList(); // [[0, 1, 1], [0, 0, 1], [0, 0, 0]]
 */
export function causalMask(T: number, S = T, opts: MaskOptions = {}): Tensor {
  if (!Number.isInteger(T) || !Number.isInteger(S) || T < 0 || S < T) {
    throw new ArgumentError(`causalMask: need integers 0 <= T <= S, got T=${T}, S=${S}`);
  }
  const data = new Float64Array(T * S);
  for (let i = 0; i < T; i++) for (let j = i + S - T + 1; j < S; j++) data[i * S + j] = 1;
  return tensor(data, { shape: [T, S], dtype: opts.dtype ?? 'float32', backend: opts.backend });
}

/** What is known of a mask without reading its values (see {@link knownMaskKind}). */
export interface MaskKind {
  /** Added to the scores (false: boolean, non-zero where attention is not allowed). */
  additive: boolean;
  /** The causal pattern of causalMask(T, S): 1 where key j > i + S - T. */
  causal: boolean;
}

/** Kinds of the read-only masks made here, by tensor (a view of one is a new tensor, and is read again). */
const kinds = new WeakMap<Tensor, MaskKind>();

/** float32 causal masks by "T,S": at most CACHED of them, the last used kept (JS memory, wrapped per call). */
const causalData = new Map<string, Float32Array>();
const CACHED = 8;

/**
 * causalMask(T, S) as float32, read-only ({@link Tensor.markReadOnly}) and known boolean and causal
 * ({@link knownMaskKind}), so that attention need not scan it: what a model passes its blocks on every forward.
 * Its values are computed once per (T, S) and shared: each call wraps the same memory without a copy where the
 * backend can (native, ref), and the tensor refuses `assign`, so no caller can change what the others read.
 *
 * @example
 * const m = sharedCausalMask(3); // the values of causalMask(3)
 * knownMaskKind(m); // { additive: false, causal: true }
 * m.assign(zeros([3, 3])); // throws: read-only
 */
export function sharedCausalMask(T: number, S = T, opts: { backend?: Backend } = {}): Tensor {
  if (!Number.isInteger(T) || !Number.isInteger(S) || T < 0 || S < T) {
    throw new ArgumentError(`sharedCausalMask: need integers 0 <= T <= S, got T=${T}, S=${S}`);
  }
  const key = `${T},${S}`;
  let data = causalData.get(key);
  if (data) {
    causalData.delete(key); // re-inserted below: the Map's order is the order of last use
  } else {
    data = new Float32Array(T * S);
    for (let i = 0; i < T; i++) data.fill(1, i * S + i + S - T + 1, (i + 1) * S);
    if (causalData.size >= CACHED) causalData.delete(causalData.keys().next().value!);
  }
  causalData.set(key, data);
  const backend = opts.backend ?? defaultBackend();
  const mask = Tensor.fromStorage(backend.wrapArray(data), [T, S], backend).markReadOnly();
  kinds.set(mask, { additive: false, causal: true });
  return mask;
}

/**
 * What is known of `mask` without reading it: the kind {@link sharedCausalMask} gave it, or null for any other
 * tensor (whose values decide; see isAdditiveMask).
 *
 * @example
 * knownMaskKind(sharedCausalMask(4))?.additive; // false
 * knownMaskKind(causalMask(4)); // null: a tensor of the caller's, which it may change
 */
export function knownMaskKind(mask: Tensor): MaskKind | null {
  return kinds.get(mask) ?? null;
}

/**
 * [B, maxLen] with 1 at positions j >= lengths[b] (padding keys).
 *
 * @example
 * paddingMask([2, 3], 3).toList(); // [[0, 0, 1], [0, 0, 0]]
 */
export function paddingMask(lengths: readonly number[], maxLen: number, opts: MaskOptions = {}): Tensor {
  const data = new Float64Array(lengths.length * maxLen);
  lengths.forEach((len, b) => {
    if (!Number.isInteger(len) || len < 0 || len > maxLen) throw new ArgumentError(`paddingMask: length ${len} of row ${b} is not in [0, ${maxLen}]`);
    for (let j = len; j < maxLen; j++) data[b * maxLen + j] = 1;
  });
  return tensor(data, { shape: [lengths.length, maxLen], dtype: opts.dtype ?? 'float32', backend: opts.backend });
}

/**
 * [B, S] with 1 where ids [B, S] equal `padId`: the key padding mask of a padded batch.
 *
 * @example
 * keyPaddingMaskFromIds(tensor([[5, 6, 0]], { dtype: 'int32' }), 0).toList(); // [[0, 0, 1]]
 */
export function keyPaddingMaskFromIds(ids: Tensor, padId: number, opts: Omit<MaskOptions, 'backend'> = {}): Tensor {
  if (ids.dtype !== 'int32') throw new DTypeError(`keyPaddingMaskFromIds: ids must be int32, got ${ids.dtype}`);
  if (ids.ndim !== 2) throw new ShapeError(`keyPaddingMaskFromIds: ids must be [B, S], got ${fmtShape(ids.shape)}`);
  return ids.eq(padId).to(opts.dtype ?? 'float32');
}
