// Making tensors: from data, constants, ranges and seeded random numbers.

import type { Backend } from '../backend/backend.js';
import { DType, TypedArray, allocArray, dtypeOf } from '../core/dtype.js';
import { ArgumentError, ShapeError, fmtShape } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { checkShape, numel } from '../core/shape.js';
import { defaultBackend } from './default-backend.js';
import { Tensor } from './tensor.js';

export interface CreateOptions {
  dtype?: DType;
  backend?: Backend;
  requiresGrad?: boolean;
}

type Nested = number | Nested[];

/** From this many elements, an array made here becomes the storage itself instead of being copied. */
const WRAP_FROM = 1 << 20;

/**
 * The tensor over `data`. A large array made here (`owned`) becomes the storage itself, so the tensor
 * costs one allocation of its size, not two (zeros([2**31]) peaked at twice its size); smaller ones are
 * copied into the backend's storage, which a storage scope recycles (wrapped arrays are never pooled, and
 * a training step makes many small zeros and fulls). A caller's array is always copied.
 */
function finish(data: TypedArray, shape: readonly number[], opts: CreateOptions, owned = true): Tensor {
  const backend = opts.backend ?? defaultBackend();
  const wrap = owned && data.length >= WRAP_FROM;
  const t = Tensor.fromStorage(wrap ? backend.wrapArray(data) : backend.fromArray(data), shape, backend);
  if (opts.requiresGrad) t.requireGrad();
  return t;
}

function inferShape(x: Nested): number[] {
  const shape: number[] = [];
  let cur: Nested = x;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  return shape;
}

/**
 * A tensor from nested arrays, a flat typed array with a shape, or a number.
 *
 * @example
 * const x = tensor([[1, 2], [3, 4]]);            // float32 [2, 2]
 * const ids = tensor([0, 5, 2], { dtype: 'int32' });
 * const y = tensor(new Float64Array(6), { shape: [2, 3] });
 */
export function tensor(data: Nested | TypedArray, opts: CreateOptions & { shape?: readonly number[] } = {}): Tensor {
  if (ArrayBuffer.isView(data)) {
    const shape = opts.shape ?? [data.length];
    checkShape(shape, 'tensor');
    if (numel(shape) !== data.length) throw new ShapeError(`tensor: shape ${fmtShape(shape)} needs ${numel(shape)} values, got ${data.length}`);
    const dtype = opts.dtype ?? dtypeOf(data);
    if (dtype === dtypeOf(data)) return finish(data, shape, opts, false);
    return finish(allocArray(dtype, data.length).map((_, i) => data[i]), shape, opts);
  }
  const shape = inferShape(data);
  const flat = (Array.isArray(data) ? (data as unknown[]).flat(Infinity) : [data]) as number[];
  if (flat.length !== numel(shape)) throw new ShapeError(`tensor: ragged nested array (shape ${fmtShape(shape)} from the first elements, ${flat.length} values)`);
  if (opts.shape && numel(opts.shape) !== flat.length) throw new ShapeError(`tensor: shape ${fmtShape(opts.shape)} needs ${numel(opts.shape)} values, got ${flat.length}`);
  const arr = allocArray(opts.dtype ?? 'float32', flat.length);
  for (let i = 0; i < flat.length; i++) {
    if (typeof flat[i] !== 'number') throw new ArgumentError(`tensor: element ${i} is ${typeof flat[i]}, expected a number`);
    arr[i] = flat[i];
  }
  return finish(arr, opts.shape ?? shape, opts);
}

/** A tensor filled with `value`. */
export function full(shape: readonly number[], value: number, opts: CreateOptions = {}): Tensor {
  checkShape(shape, 'full');
  const arr = allocArray(opts.dtype ?? 'float32', numel(shape));
  if (!Object.is(value, 0)) arr.fill(value); // a fresh typed array is already +0s
  return finish(arr, shape, opts);
}

export function zeros(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return full(shape, 0, opts);
}

export function ones(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return full(shape, 1, opts);
}

/** 0, 1, ..., n-1 (int32 unless a dtype is given). */
export function arange(n: number, opts: CreateOptions = {}): Tensor {
  const arr = allocArray(opts.dtype ?? 'int32', n);
  for (let i = 0; i < n; i++) arr[i] = i;
  return finish(arr, [n], opts);
}

/** Standard normal samples times `std`, from a seeded generator. */
export function randn(shape: readonly number[], rng: Rng, opts: CreateOptions & { std?: number } = {}): Tensor {
  checkShape(shape, 'randn');
  const arr = allocArray(opts.dtype ?? 'float32', numel(shape));
  rng.fillNormal(arr, opts.std ?? 1); // the values of arr[i] = rng.normal() * std, in order
  return finish(arr, shape, opts);
}

/** Uniform samples in [low, high), from a seeded generator. */
export function uniform(shape: readonly number[], rng: Rng, low = 0, high = 1, opts: CreateOptions = {}): Tensor {
  checkShape(shape, 'uniform');
  const arr = allocArray(opts.dtype ?? 'float32', numel(shape));
  rng.fillUniform(arr, low, high);
  return finish(arr, shape, opts);
}
