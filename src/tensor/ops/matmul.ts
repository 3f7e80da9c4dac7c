// Matrix products: batched and broadcast over leading axes, transposes as free views.

import { assertSameDType } from '../../core/dtype.js';
import { ShapeError, fmtShape } from '../../core/errors.js';
import { broadcastShapes, numel } from '../../core/shape.js';
import { Tensor } from '../tensor.js';
import { sumToShape } from './reduce.js';

/** [N, M, K] · [N, K, P] on the backend; inputs may be any strided views. */
function bmm(a: Tensor, b: Tensor): Tensor {
  const [N, M] = a.shape;
  const P = b.shape[2];
  return Tensor.fromStorage(a.backend.matmul(a, b), [N, M, P], a.backend);
}

/**
 * a [..., M, K] · b [..., K, P] → [..., M, P]. Leading axes broadcast. A 2-D `b` (a weight) folds
 * all of `a`'s leading axes into M, so a Linear layer is one large product.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  assertSameDType('matmul', a.dtype, b.dtype);
  if (a.ndim < 2 || b.ndim < 2) throw new ShapeError(`matmul: both operands need at least 2 dims, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  const M = a.dim(-2);
  const K = a.dim(-1);
  const P = b.dim(-1);
  if (b.dim(-2) !== K) throw new ShapeError(`matmul: inner sizes differ: ${fmtShape(a.shape)} · ${fmtShape(b.shape)} (${K} vs ${b.dim(-2)})`);
  let out: Tensor;
  let shape: number[];
  if (b.ndim === 2) {
    const lead = a.shape.slice(0, -2);
    shape = [...lead, M, P];
    const a3 = a.detach().reshape([1, numel(lead) * M, K]);
    out = bmm(a3, b.detach().reshape([1, K, P]));
  } else {
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'matmul');
    const N = numel(batch);
    shape = [...batch, M, P];
    const a3 = a.detach().expand([...batch, M, K]).reshape([N, M, K]);
    const b3 = b.detach().expand([...batch, K, P]).reshape([N, K, P]);
    out = bmm(a3, b3);
  }
  return Tensor.track('matmul', out.reshape(shape), [a, b], (g) => [
    // dA = dC · Bᵀ, dB = Aᵀ · dC, summed over broadcast axes
    a.requiresGrad ? sumToShape(matmul(g, b.detach().transpose(-2, -1)), a.shape) : null,
    b.requiresGrad ? sumToShape(matmulTA(a.detach(), g, b.ndim === 2), b.shape) : null,
  ]);
}

/** Aᵀ · G; for a 2-D weight, folds the leading axes into the contraction (one large product). */
function matmulTA(a: Tensor, g: Tensor, weight2d: boolean): Tensor {
  if (!weight2d) return matmul(a.transpose(-2, -1), g);
  const K = a.dim(-1);
  const P = g.dim(-1);
  return matmul(a.reshape([-1, K]).transpose(0, 1), g.reshape([-1, P]));
}
