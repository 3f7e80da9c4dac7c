// Attention masks, PyTorch's boolean convention: 1 where attention is NOT allowed.

import type { Backend } from '../backend/backend.js';
import type { DType } from '../core/dtype.js';
import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../core/errors.js';
import { Tensor, tensor } from '../tensor/index.js';

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
