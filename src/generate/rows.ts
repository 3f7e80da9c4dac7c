// Small tensor helpers of decoding: ids from JS rows, the last position's scores, batch row gathers.

import { ArgumentError, fmtShape } from '../core/errors.js';
import type { Backend } from '../backend/backend.js';
import { Tensor, embedding, tensor } from '../tensor/index.js';

/**
 * int32 [B, T] from equal-length rows.
 *
 * @example
 * idsTensor([[1, 2], [3, 4]]).shape; // [2, 2]
 */
export function idsTensor(rows: readonly (readonly number[])[], backend?: Backend): Tensor {
  const T = rows[0]?.length ?? 0;
  if (rows.some((r) => r.length !== T)) throw new ArgumentError(`idsTensor: rows have lengths [${rows.map((r) => r.length).join(', ')}], expected one length`);
  return tensor(Int32Array.from(rows.flat()), { dtype: 'int32', shape: [rows.length, T], backend });
}

/**
 * The last position of scores [B, T, V] as B rows of float64 numbers.
 *
 * @example
 * lastRows(logits)[0].length; // V
 */
export function lastRows(scores: Tensor): Float64Array[] {
  const [B, T, V] = scores.shape;
  const flat = scores.narrow(1, T - 1, 1).toArray();
  return Array.from({ length: B }, (_, b) => Float64Array.from(flat.subarray(b * V, (b + 1) * V)));
}

/**
 * Batch rows of x [B, ...] → [N, ...], row n = x[indices[n]] (a fresh tensor).
 *
 * @example
 * gatherRows(memory, [0, 0, 1, 1]); // each source twice, for a beam of 2
 */
export function gatherRows(x: Tensor, indices: readonly number[]): Tensor {
  const B = x.shape[0];
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= B) throw new ArgumentError(`gatherRows: index ${i} is not a row of ${fmtShape(x.shape)}`);
  }
  const ids = tensor(Int32Array.from(indices), { dtype: 'int32', backend: x.backend });
  return embedding(ids, x.reshape([B, -1])).reshape([indices.length, ...x.shape.slice(1)]);
}

/**
 * log softmax of one row, in float64.
 *
 * @example
 * logSoftmaxRow(Float64Array.of(0, 0)); // [-0.693, -0.693]
 */
export function logSoftmaxRow(x: Float64Array): Float64Array {
  let m = -Infinity;
  for (const v of x) if (v > m) m = v;
  if (m === -Infinity) return x.map(() => -Infinity);
  let s = 0;
  for (const v of x) s += Math.exp(v - m);
  const lse = m + Math.log(s);
  return x.map((v) => v - lse);
}
