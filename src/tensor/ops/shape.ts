// Views that never copy (reshape when strides allow, permute, narrow, expand, squeeze) and the
// few shape ops that must copy (contiguous, concat).

import { ArgumentError, ShapeError, fmtShape } from '../../core/errors.js';
import { Layout, expandLayout, narrowLayout, permuteLayout, reshapeLayout } from '../../core/layout.js';
import { normAxis, numel } from '../../core/shape.js';
import { Tensor } from '../tensor.js';
import { sumToShape } from './reduce.js';

function view(x: Tensor, layout: Layout, op: string, backward: (g: Tensor) => Tensor): Tensor {
  return Tensor.track(op, new Tensor(x.storage, layout, x.backend), [x], (g) => [backward(g)]);
}

/** Resolves one -1 in a target shape. */
function resolveShape(x: Tensor, shape: readonly number[]): number[] {
  const out = [...shape];
  const hole = out.indexOf(-1);
  if (hole >= 0) {
    const rest = numel(out.filter((_, i) => i !== hole));
    if (rest === 0 || x.size % rest !== 0) throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
    out[hole] = x.size / rest;
  }
  if (numel(out) !== x.size || out.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)}`);
  }
  return out;
}

/** A view with a new shape when the strides allow it, else a contiguous copy (torch.reshape). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const target = resolveShape(x, shape);
  const layout = reshapeLayout(x.layout, target);
  const src = layout ? x : contiguous(x);
  return view(src, layout ?? reshapeLayout(src.layout, target)!, 'reshape', (g) => g.reshape(x.shape));
}

export function permute(x: Tensor, axes: readonly number[]): Tensor {
  const norm = axes.map((a) => normAxis(a, x.ndim, 'permute'));
  if (norm.length !== x.ndim || new Set(norm).size !== x.ndim) {
    throw new ArgumentError(`permute: axes [${axes.join(', ')}] are not a permutation of ${x.ndim} axes`);
  }
  const inverse = new Array<number>(norm.length);
  norm.forEach((a, i) => { inverse[a] = i; });
  return view(x, permuteLayout(x.layout, norm), 'permute', (g) => g.permute(inverse));
}

export function transpose(x: Tensor, a: number, b: number): Tensor {
  const axes = x.shape.map((_, i) => i);
  const i = normAxis(a, x.ndim, 'transpose');
  const j = normAxis(b, x.ndim, 'transpose');
  axes[i] = j;
  axes[j] = i;
  return permute(x, axes);
}

/** Elements [start, start+length) of one axis. The gradient lands in that slice of zeros. */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const a = normAxis(axis, x.ndim, 'narrow');
  if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > x.shape[a]) {
    throw new ArgumentError(`narrow: [${start}, ${start + length}) is out of range for axis ${a} of size ${x.shape[a]}`);
  }
  const out = view(x, narrowLayout(x.layout, a, start, length), 'narrow', (g) => {
    const full = Tensor.fromStorage(x.backend.alloc(g.dtype, x.size), x.shape, x.backend);
    full.narrow(a, start, length).assign(g);
    return full;
  });
  // The backward pass adds into the slice of x's gradient in place (GradNode.slice); `backward` above is its composed twin.
  if (out.node) out.node = { ...out.node, slice: { axis: a, start, length } };
  return out;
}

export function expand(x: Tensor, shape: readonly number[]): Tensor {
  return view(x, expandLayout(x.layout, shape), 'expand', (g) => sumToShape(g, x.shape));
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = axis < 0 ? axis + x.ndim + 1 : axis;
  if (a < 0 || a > x.ndim) throw new ArgumentError(`unsqueeze: axis ${axis} out of range for rank ${x.ndim}`);
  const shape = [...x.shape];
  shape.splice(a, 0, 1);
  return reshape(x, shape);
}

export function squeeze(x: Tensor, axis: number): Tensor {
  const a = normAxis(axis, x.ndim, 'squeeze');
  if (x.shape[a] !== 1) throw new ShapeError(`squeeze: axis ${a} of ${fmtShape(x.shape)} has size ${x.shape[a]}, expected 1`);
  return reshape(x, x.shape.filter((_, i) => i !== a));
}

export function contiguous(x: Tensor): Tensor {
  if (x.isContiguous && x.layout.offset === 0 && x.storage.length === x.size) return x;
  return Tensor.result('contiguous', x.backend.copy(x), x.shape, [x], (g) => [g], x.backend);
}

/** Joins tensors along an axis; the gradient is split back. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new ArgumentError('concat: no tensors given');
  const first = xs[0];
  const a = normAxis(axis, first.ndim, 'concat');
  for (const t of xs) {
    if (t.ndim !== first.ndim || t.shape.some((d, i) => i !== a && d !== first.shape[i]) || t.dtype !== first.dtype) {
      throw new ShapeError(`concat: ${fmtShape(t.shape)} ${t.dtype} does not fit ${fmtShape(first.shape)} ${first.dtype} along axis ${a}`);
    }
  }
  const shape = [...first.shape];
  shape[a] = xs.reduce((n, t) => n + t.shape[a], 0);
  const out = Tensor.fromStorage(first.backend.alloc(first.dtype, numel(shape)), shape, first.backend);
  const sizes: number[] = [];
  let at = 0;
  for (const t of xs) {
    out.narrow(a, at, t.shape[a]).assign(t);
    sizes.push(t.shape[a]);
    at += t.shape[a];
  }
  return Tensor.track('concat', out, xs, (g) => split(g, sizes, a));
}

/** Splits into views along an axis: equal chunks of `sizes`, or the listed sizes. */
export function split(x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] {
  const a = normAxis(axis, x.ndim, 'split');
  const n = x.shape[a];
  const list = typeof sizes === 'number' ? Array.from({ length: Math.ceil(n / sizes) }, (_, i) => Math.min(sizes, n - i * sizes)) : [...sizes];
  if (list.reduce((p, q) => p + q, 0) !== n) throw new ShapeError(`split: sizes [${list.join(', ')}] do not add up to ${n} (axis ${a} of ${fmtShape(x.shape)})`);
  let at = 0;
  return list.map((len) => { const t = narrow(x, a, at, len); at += len; return t; });
}
