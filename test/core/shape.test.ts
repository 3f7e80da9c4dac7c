// Shapes: numel, contiguous strides, numpy broadcasting, axis normalisation, shape validation.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ArgumentError, ShapeError } from '../../src/core/errors.js';
import { broadcastShapes, checkShape, contiguousStrides, normAxis, numel, shapesEqual } from '../../src/core/shape.js';
import { DTypeError } from '../../src/core/errors.js';
import { assertSameDType, dtypeSize, isFloat } from '../../src/core/dtype.js';

describe('numel and contiguousStrides', () => {
  it('count elements, with 1 for a scalar and 0 for an empty axis', () => {
    assert.equal(numel([]), 1);
    assert.equal(numel([2, 3, 4]), 24);
    assert.equal(numel([3, 0, 2]), 0);
  });
  it('row-major strides', () => {
    assert.deepEqual(contiguousStrides([2, 3, 4]), [12, 4, 1]);
    assert.deepEqual(contiguousStrides([5]), [1]);
    assert.deepEqual(contiguousStrides([]), []);
    assert.deepEqual(contiguousStrides([2, 1, 3]), [3, 3, 1]);
  });
});

describe('broadcastShapes (numpy rules)', () => {
  const ok: [number[], number[], number[]][] = [
    [[2, 3], [2, 3], [2, 3]],
    [[2, 3, 4], [4], [2, 3, 4]],
    [[4], [2, 3, 4], [2, 3, 4]],
    [[3, 1], [1, 4], [3, 4]],
    [[2, 1, 4], [3, 1], [2, 3, 4]],
    [[], [2, 3], [2, 3]],
    [[2, 3], [], [2, 3]],
    [[1], [0], [0]],
    [[5, 0], [1], [5, 0]],
    [[1, 1], [1], [1, 1]],
  ];
  for (const [a, b, out] of ok) {
    it(`[${a}] with [${b}] → [${out}]`, () => assert.deepEqual(broadcastShapes(a, b), out));
  }
  it('throws ShapeError naming both shapes and the axis', () => {
    assert.throws(() => broadcastShapes([2, 3], [4], 'add'), (e: unknown) =>
      e instanceof ShapeError && /add/.test((e as Error).message) && /\[2, 3\]/.test((e as Error).message) && /\[4\]/.test((e as Error).message) && /3 vs 4/.test((e as Error).message));
    assert.throws(() => broadcastShapes([2, 1], [3, 1]), ShapeError);
    assert.throws(() => broadcastShapes([0], [2]), ShapeError);
  });
});

describe('normAxis', () => {
  it('resolves negative axes', () => {
    assert.equal(normAxis(-1, 3), 2);
    assert.equal(normAxis(-3, 3), 0);
    assert.equal(normAxis(1, 3), 1);
  });
  it('throws ArgumentError naming the axis and the rank', () => {
    for (const [axis, ndim] of [[3, 3], [-4, 3], [1.5, 3], [1, 0]] as [number, number][]) {
      assert.throws(() => normAxis(axis, ndim, 'sum'), (e: unknown) =>
        e instanceof ArgumentError && (e as Error).message.includes(`axis ${axis}`) && (e as Error).message.includes(`rank ${ndim}`) && (e as Error).message.startsWith('sum'), `axis ${axis} of rank ${ndim}`);
    }
  });
});

describe('checkShape and shapesEqual', () => {
  it('accept non-negative integers only', () => {
    checkShape([0, 3, 1]);
    for (const bad of [[-1], [1.5], [NaN], [2, Infinity]]) assert.throws(() => checkShape(bad), ShapeError, `[${bad}]`);
  });
  it('compare shapes by rank and size', () => {
    assert.ok(shapesEqual([2, 3], [2, 3]));
    assert.ok(!shapesEqual([2, 3], [3, 2]));
    assert.ok(!shapesEqual([6], [6, 1]));
    assert.ok(shapesEqual([], []));
  });
});

describe('dtypes', () => {
  it('sizes and float-ness', () => {
    assert.deepEqual(['float32', 'float64', 'int32'].map((d) => dtypeSize(d as 'float32')), [4, 8, 4]);
    assert.deepEqual(['float32', 'float64', 'int32'].map((d) => isFloat(d as 'float32')), [true, true, false]);
  });
  it('assertSameDType throws DTypeError naming both dtypes', () => {
    assertSameDType('add', 'float32', 'float32');
    assert.throws(() => assertSameDType('add', 'float32', 'float64'), (e: unknown) => e instanceof DTypeError && /float32/.test((e as Error).message) && /float64/.test((e as Error).message));
  });
});
