// Reductions over axes (sum, mean, max, argmax) and sumToShape, the adjoint of broadcasting.

import { assertFloat } from '../../core/dtype.js';
import { normAxis } from '../../core/shape.js';
import { Tensor } from '../tensor.js';

function axesOf(x: Tensor, axes: number | readonly number[] | undefined): number[] {
  const list = axes === undefined ? x.shape.map((_, i) => i) : typeof axes === 'number' ? [axes] : [...axes];
  return [...new Set(list.map((a) => normAxis(a, x.ndim, 'sum')))].sort((p, q) => p - q);
}

function dropAxes(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.filter((_, i) => !axes.includes(i));
}

/** Sum over `axes` (all when omitted); the gradient broadcasts back. */
export function sum(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  const list = axesOf(x, axes);
  let storage = x.storage;
  let view: Tensor = x;
  const kept = [...x.shape];
  for (const a of list) {
    storage = x.backend.reduce('sum', view, a);
    kept[a] = 1;
    view = Tensor.fromStorage(storage, kept, x.backend);
  }
  const shape = keepdim ? kept : dropAxes(x.shape, list);
  if (list.length === 0) return x;
  return Tensor.result('sum', storage, shape, [x], (g) => [g.reshape(kept).expand(x.shape)], x.backend);
}

export function mean(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  assertFloat('mean', x.dtype);
  const list = axesOf(x, axes);
  const count = list.reduce((n, a) => n * x.shape[a], 1);
  return sum(x, list, keepdim).div(count);
}

/** Maximum over one axis. Ties share the gradient evenly (torch.amax's rule). */
export function max(x: Tensor, axis: number, keepdim = false): Tensor {
  const a = normAxis(axis, x.ndim, 'max');
  const kept = x.shape.map((d, i) => (i === a ? 1 : d));
  const storage = x.backend.reduce('max', x, a);
  const shape = keepdim ? kept : dropAxes(x.shape, [a]);
  const out: Tensor = Tensor.result('max', storage, shape, [x], (g) => {
    const m = x.eq(out.detach().reshape(kept));
    const share = m.div(m.sum(a, true));
    return [g.reshape(kept).mul(share)];
  }, x.backend);
  return out;
}

/** Index of the maximum along one axis, as int32 (no gradient). */
export function argmax(x: Tensor, axis: number, keepdim = false): Tensor {
  const a = normAxis(axis, x.ndim, 'argmax');
  const kept = x.shape.map((d, i) => (i === a ? 1 : d));
  return Tensor.fromStorage(x.backend.reduce('argmax', x, a), keepdim ? kept : dropAxes(x.shape, [a]), x.backend);
}

/** Sums a broadcast gradient back down to `shape` (leading axes dropped, size-1 axes kept). */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (g.ndim === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  return sum(g, axes, true).reshape(shape);
}

export { assertFloat };
