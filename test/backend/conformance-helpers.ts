// Plain-JS helpers for the conformance suite: strided test views and independent readers of them.

import assert from 'node:assert/strict';
import type { Backend, View } from '../../src/backend/backend.js';
import type { DType, TypedArray } from '../../src/core/dtype.js';
import type { Layout } from '../../src/core/layout.js';
import { Rng } from '../../src/core/rng.js';

/** One strided view to test: storage contents (already in the dtype) and a layout over them. */
export interface Case {
  readonly name: string;
  readonly data: TypedArray;
  readonly layout: Layout;
}

export function typed(dtype: DType, values: ArrayLike<number>): TypedArray {
  switch (dtype) {
    case 'float32': return Float32Array.from(values);
    case 'float64': return Float64Array.from(values);
    case 'int32': return Int32Array.from(values);
  }
}

const prod = (xs: readonly number[]) => xs.reduce((p, q) => p * q, 1);

function rowMajor(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
  return s;
}

/** Every element a layout addresses, in row-major order, found by walking index tuples. */
export function gather(data: ArrayLike<number>, l: Layout): number[] {
  const out: number[] = [];
  const walk = (axis: number, off: number): void => {
    if (axis === l.shape.length) { out.push(data[off]); return; }
    for (let i = 0; i < l.shape[axis]; i++) walk(axis + 1, off + i * l.strides[axis]);
  };
  walk(0, l.offset);
  return out;
}

/**
 * The same logical shape laid out in several ways: contiguous, with an offset, transposed,
 * narrowed out of a larger buffer, broadcast with zero strides, with odd strides on size-1 axes,
 * and a middle-axes permutation. `gen` draws each stored value.
 */
export function viewCases(shape: readonly number[], dtype: DType, gen: () => number): Case[] {
  const n = shape.length;
  const fill = (len: number) => typed(dtype, Array.from({ length: len }, gen));
  const cases: Case[] = [
    { name: 'contiguous', data: fill(prod(shape)), layout: { shape, strides: rowMajor(shape), offset: 0 } },
    { name: 'offset', data: fill(prod(shape) + 5), layout: { shape, strides: rowMajor(shape), offset: 3 } },
  ];
  if (n >= 2) {
    const rev = [...shape].reverse();
    const rs = rowMajor(rev);
    cases.push({ name: 'transposed', data: fill(prod(rev)), layout: { shape, strides: shape.map((_, i) => rs[n - 1 - i]), offset: 0 } });
  }
  if (n >= 3) {
    const sw = [shape[1], shape[0], ...shape.slice(2)];
    const ss = rowMajor(sw);
    cases.push({ name: 'axes 0,1 swapped', data: fill(prod(sw)), layout: { shape, strides: [ss[1], ss[0], ...ss.slice(2)], offset: 0 } });
  }
  if (n >= 1) {
    const padded = shape.map((d) => d + 2);
    const ps = rowMajor(padded);
    cases.push({ name: 'narrowed', data: fill(prod(padded)), layout: { shape, strides: ps, offset: ps.reduce((p, q) => p + q, 0) } });
    const inner = shape.slice(1);
    cases.push({ name: 'broadcast outer (stride 0)', data: fill(prod(inner) + 1), layout: { shape, strides: [0, ...rowMajor(inner)], offset: 1 } });
    const outer = shape.slice(0, -1);
    cases.push({ name: 'broadcast inner (stride 0)', data: fill(prod(outer)), layout: { shape, strides: [...rowMajor(outer), 0], offset: 0 } });
  }
  if (shape.includes(1)) {
    cases.push({ name: 'size-1 axes with odd strides', data: fill(prod(shape)), layout: { shape, strides: rowMajor(shape).map((s, i) => (shape[i] === 1 ? 977 : s)), offset: 0 } });
  }
  return cases;
}

export function viewOf(backend: Backend, c: Case): View {
  return { storage: backend.fromArray(c.data), layout: c.layout };
}

/** A contiguous view over an array. */
export function contiguousView(backend: Backend, data: TypedArray, shape: readonly number[]): View {
  return { storage: backend.fromArray(data), layout: { shape, strides: rowMajor(shape), offset: 0 } };
}

/** Tolerance for values computed in `dtype`: float32 is compared loosely, float64 tightly, int32 exactly. */
export function tol(dtype: DType): { atol: number; rtol: number } {
  if (dtype === 'float32') return { atol: 1e-6, rtol: 2e-6 };
  if (dtype === 'float64') return { atol: 1e-14, rtol: 1e-12 };
  return { atol: 0, rtol: 0 };
}

/**
 * Asserts actual ≈ expected element-wise. `scale[i]`, when given, is Σ|terms| of a sum, so long
 * float32 accumulations are judged against the size of what they add up (atol + rtol·scale).
 */
export function expectValues(actual: ArrayLike<number>, expected: readonly number[], dtype: DType, label: string, scale?: readonly number[]): void {
  assert.equal(actual.length, expected.length, `${label}: ${actual.length} values, expected ${expected.length}`);
  const { atol, rtol } = tol(dtype);
  const r = scale && dtype === 'float32' ? 1e-5 : rtol;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e)) { assert.ok(Number.isNaN(a), `${label}: [${i}] is ${a}, expected NaN`); continue; }
    if (!Number.isFinite(e)) { assert.equal(a, e, `${label}: [${i}] is ${a}, expected ${e}`); continue; }
    const allowed = atol + r * (scale ? scale[i] : Math.abs(e));
    assert.ok(Math.abs(a - e) <= allowed, `${label}: [${i}] is ${a}, expected ${e} (|diff| ${Math.abs(a - e)}, allowed ${allowed})`);
  }
}

/** Generators of stored values for a dtype and domain. */
export function gens(seed: number) {
  const rng = new Rng(seed);
  return {
    rng,
    normal: () => rng.normal() * 1.5,
    positive: () => 0.1 + 3 * rng.uniform(),
    smallInt: () => rng.int(7) - 3,
    nonZeroInt: () => (rng.int(2) ? 1 : -1) * (1 + rng.int(9)),
    ties: () => rng.int(3) - 1,
  };
}

export { rowMajor, prod };
