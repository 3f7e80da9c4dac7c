// Indexing ops: embedding gather, where and masked fill.

import { assertSameDType } from '../../core/dtype.js';
import { DTypeError, ShapeError, fmtShape } from '../../core/errors.js';
import { broadcastShapes } from '../../core/shape.js';
import { Tensor } from '../tensor.js';
import { scalarLike } from './elementwise.js';
import { sumToShape } from './reduce.js';

/**
 * Rows of `table` [R, C] picked by int32 `ids` of any shape → [...ids.shape, C].
 * The gradient scatters back with indexAdd (rows picked twice get both).
 */
export function embedding(ids: Tensor, table: Tensor): Tensor {
  if (ids.dtype !== 'int32') throw new DTypeError(`embedding: ids must be int32, got ${ids.dtype}`);
  if (table.ndim !== 2) throw new ShapeError(`embedding: table must be 2-D [rows, dim], got ${fmtShape(table.shape)}`);
  const [R, C] = table.shape;
  const s = table.backend.indexSelect(table, ids);
  return Tensor.result('embedding', s, [...ids.shape, C], [table], (g) => {
    const g2 = g.reshape([-1, C]);
    return [Tensor.fromStorage(table.backend.indexAdd(g2, ids, R), [R, C], table.backend)];
  }, table.backend);
}

/** cond ? a : b element-wise, all three broadcast together. */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  assertSameDType('where', a.dtype, b.dtype);
  const shape = broadcastShapes(broadcastShapes(cond.shape, a.shape, 'where'), b.shape, 'where');
  const c = cond.expand(shape);
  const s = a.backend.where(c, a.detach().expand(shape), b.detach().expand(shape));
  return Tensor.result('where', s, shape, [a, b], (g) => {
    const toB = g.mul(cond.eq(0).to(g.dtype));
    return [sumToShape(g.sub(toB), a.shape), sumToShape(toB, b.shape)];
  }, a.backend);
}

/** `value` where mask is non-zero, else x; mask broadcasts to x's shape. */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  const shape = broadcastShapes(x.shape, mask.shape, 'maskedFill');
  if (shape.length !== x.ndim || shape.some((d, i) => d !== x.shape[i])) {
    throw new ShapeError(`maskedFill: mask ${fmtShape(mask.shape)} must broadcast to x ${fmtShape(x.shape)}`);
  }
  return where(mask, scalarLike(x, value), x);
}
