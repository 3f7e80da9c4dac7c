// The backend conformance suite: written once, run for every backend (ref, native, ...).
//
// Every expectation is computed here in plain JavaScript from the stored values (Math.exp for exp,
// a naive triple loop for matmul, known constants for erf), never by another backend.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend, BinaryOp, UnaryOp, View } from '../../src/backend/backend.js';
import type { DType } from '../../src/core/dtype.js';
import { Case, contiguousView, expectValues, gather, gens, prod, rowMajor, typed, viewCases, viewOf } from './conformance-helpers.js';
import { describeConformanceKernels } from './conformance-kernels.js';

const SHAPES: number[][] = [[3, 4], [2, 1, 3], [0, 4], [3, 0], [], [5]];
const FLOATS: DType[] = ['float32', 'float64'];

const UNARY: Record<Exclude<UnaryOp, 'erf'>, { f: (x: number) => number; domain: 'normal' | 'positive'; int: boolean }> = {
  neg: { f: (x) => -x, domain: 'normal', int: true },
  exp: { f: Math.exp, domain: 'normal', int: false },
  log: { f: Math.log, domain: 'positive', int: false },
  sqrt: { f: Math.sqrt, domain: 'positive', int: false },
  tanh: { f: Math.tanh, domain: 'normal', int: false },
  relu: { f: (x) => (x > 0 ? x : 0), domain: 'normal', int: true },
  step: { f: (x) => (x > 0 ? 1 : 0), domain: 'normal', int: true },
  abs: { f: Math.abs, domain: 'normal', int: true },
  recip: { f: (x) => 1 / x, domain: 'positive', int: false },
};

const BINARY: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => a ** b,
  max: (a, b) => (a > b ? a : b),
  min: (a, b) => (a < b ? a : b),
  eq: (a, b) => (a === b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
  gt: (a, b) => (a > b ? 1 : 0),
};

/** Values rounded the way a dtype stores them (float32 rounding, int32 truncation toward zero). */
function stored(dtype: DType, xs: number[]): number[] {
  return Array.from(typed(dtype, xs));
}

/**
 * Registers the whole conformance suite for `backend` with node:test.
 *
 * @example
 * describeConformance(refBackend);
 */
export function describeConformance(backend: Backend): void {
  describe(`backend conformance: ${backend.name}`, () => {
    describeMemory(backend);
    describeUnary(backend);
    describeBinary(backend);
    describeConformanceKernels(backend);
  });
}

function describeMemory(backend: Backend): void {
  describe('alloc, fromArray, toArray, copy', () => {
    for (const dtype of ['float32', 'float64', 'int32'] as DType[]) {
      it(`alloc ${dtype} is zero-filled with the right length and dtype`, () => {
        for (const n of [0, 1, 7, 1000]) {
          const s = backend.alloc(dtype, n);
          assert.equal(s.dtype, dtype);
          assert.equal(s.length, n);
          const a = backend.toArray({ storage: s, layout: { shape: [n], strides: [1], offset: 0 } });
          assert.equal(a.length, n);
          assert.ok(a.every((v) => v === 0), `alloc(${dtype}, ${n}) is not all zeros`);
        }
      });
      it(`fromArray ${dtype} copies its input; toArray returns a fresh ${dtype} array`, () => {
        const src = typed(dtype, [1, -2, 3, 4.5, -0]);
        const s = backend.fromArray(src);
        assert.equal(s.dtype, dtype);
        assert.equal(s.length, 5);
        const expected = Array.from(src);
        src[0] = 99;
        const v = { storage: s, layout: { shape: [5], strides: [1], offset: 0 } };
        const out = backend.toArray(v);
        assert.equal(out.constructor, src.constructor, 'toArray keeps the dtype');
        assert.deepEqual(Array.from(out), expected);
        out[1] = 77;
        assert.deepEqual(Array.from(backend.toArray(v)), expected, 'mutating toArray output must not touch storage');
      });
      it(`toArray and copy of strided ${dtype} views`, () => {
        const g = gens(1);
        for (const shape of SHAPES) {
          for (const c of viewCases(shape, dtype, g.normal)) {
            const label = `${dtype} ${c.name} [${shape}]`;
            const view = viewOf(backend, c);
            const expected = gather(c.data, c.layout);
            assert.deepEqual(Array.from(backend.toArray(view)), expected, `toArray ${label}`);
            const copy = backend.copy(view);
            assert.equal(copy.dtype, dtype);
            assert.equal(copy.length, prod(shape));
            assert.deepEqual(Array.from(backend.toArray({ storage: copy, layout: { shape, strides: rowMajor(shape), offset: 0 } })), expected, `copy ${label}`);
          }
        }
      });
    }
    const casts: [DType, DType][] = [['float32', 'float64'], ['float64', 'float32'], ['float32', 'int32'], ['float64', 'int32'], ['int32', 'float32'], ['int32', 'float64']];
    for (const [from, to] of casts) {
      it(`copy with a cast ${from} → ${to} (float → int truncates toward zero)`, () => {
        const g = gens(2);
        const draw = () => (from === 'int32' ? g.rng.int(2000001) - 1000000 : g.normal() * 1000);
        for (const shape of [[3, 4], [2, 1, 3], [0, 2], []]) {
          for (const c of viewCases(shape, from, draw)) {
            const s = backend.copy(viewOf(backend, c), to);
            assert.equal(s.dtype, to);
            const out = backend.toArray({ storage: s, layout: { shape, strides: rowMajor(shape), offset: 0 } });
            assert.deepEqual(Array.from(out), stored(to, gather(c.data, c.layout).map((v) => (to === 'int32' ? Math.trunc(v) : v))), `${c.name} [${shape}]`);
          }
        }
      });
    }
    it('copy float64 → float32 rounds to nearest float32', () => {
      const xs = [0.1, 1 / 3, -2.718281828459045, 1e-40, 3.4e38, 123456789.123];
      const s = backend.copy(contiguousView(backend, Float64Array.from(xs), [6]), 'float32');
      assert.deepEqual(Array.from(backend.toArray({ storage: s, layout: { shape: [6], strides: [1], offset: 0 } })), xs.map(Math.fround));
    });
  });
}

function describeUnary(backend: Backend): void {
  describe('unary', () => {
    for (const [op, spec] of Object.entries(UNARY) as [Exclude<UnaryOp, 'erf'>, (typeof UNARY)[keyof typeof UNARY]][]) {
      const dtypes: DType[] = spec.int ? ['float32', 'float64', 'int32'] : FLOATS;
      for (const dtype of dtypes) {
        it(`${op} ${dtype} on strided views`, () => {
          const g = gens(3);
          const draw = dtype === 'int32' ? g.smallInt : spec.domain === 'positive' ? g.positive : g.normal;
          for (const shape of SHAPES) {
            for (const c of viewCases(shape, dtype, draw)) {
              const s = backend.unary(op, viewOf(backend, c));
              assert.equal(s.dtype, dtype, `${op} keeps the dtype`);
              const out = backend.toArray({ storage: s, layout: { shape, strides: rowMajor(shape), offset: 0 } });
              expectValues(out, gather(c.data, c.layout).map(spec.f), dtype, `${op} ${dtype} ${c.name} [${shape}]`);
            }
          }
        });
      }
    }
    it('relu and step at exactly 0 give 0; abs(-0) is 0', () => {
      for (const dtype of ['float32', 'float64', 'int32'] as DType[]) {
        const v = contiguousView(backend, typed(dtype, [0, -0, 1, -1]), [4]);
        const read = (op: UnaryOp) => Array.from(backend.toArray({ storage: backend.unary(op, v), layout: v.layout }));
        assert.deepEqual(read('relu').map((x) => x + 0), [0, 0, 1, 0], `relu ${dtype}`);
        assert.deepEqual(read('step'), [0, 0, 1, 0], `step ${dtype}`);
        assert.deepEqual(read('abs').map((x) => x + 0), [0, 0, 1, 1], `abs ${dtype}`);
      }
    });
    it('log, sqrt and recip at the edges of their domains', () => {
      for (const dtype of FLOATS) {
        const v = contiguousView(backend, typed(dtype, [0, -1, Infinity]), [3]);
        const read = (op: UnaryOp) => Array.from(backend.toArray({ storage: backend.unary(op, v), layout: v.layout }));
        expectValues(read('log'), [-Infinity, NaN, Infinity], dtype, `log ${dtype}`);
        expectValues(read('sqrt'), [0, NaN, Infinity], dtype, `sqrt ${dtype}`);
        expectValues(read('recip'), [Infinity, -1, 0], dtype, `recip ${dtype}`);
        expectValues(read('exp'), [1, Math.exp(-1), Infinity], dtype, `exp ${dtype}`);
      }
    });
    it('erf at known values, odd symmetry, on a strided view', () => {
      const known: [number, number][] = [[0, 0], [0.5, 0.5204998778130465], [1, 0.8427007929497149], [2, 0.9953222650189527], [3.5, 0.9999992569016276], [10, 1]];
      const xs = known.flatMap(([x]) => [x, -x]);
      const ys = known.flatMap(([, y]) => [y, -y]);
      for (const dtype of FLOATS) {
        // Stored transposed: a [2, 6] view of [6, 2] storage.
        const stor = typed(dtype, xs);
        const view: View = { storage: backend.fromArray(stor), layout: { shape: [2, 6], strides: [1, 2], offset: 0 } };
        const out = backend.toArray({ storage: backend.unary('erf', view), layout: { shape: [2, 6], strides: [6, 1], offset: 0 } });
        const expected = [...ys.filter((_, i) => i % 2 === 0), ...ys.filter((_, i) => i % 2 === 1)];
        expectValues(out, expected, dtype, `erf ${dtype}`);
      }
    });
    it('large: exp and tanh of 5000 elements through a transposed view', () => {
      const g = gens(4);
      for (const dtype of FLOATS) {
        const c: Case = { name: 'transposed', data: typed(dtype, Array.from({ length: 5000 }, g.normal)), layout: { shape: [100, 50], strides: [1, 100], offset: 0 } };
        for (const [op, f] of [['exp', Math.exp], ['tanh', Math.tanh]] as const) {
          const out = backend.toArray({ storage: backend.unary(op, viewOf(backend, c)), layout: { shape: [5000], strides: [1], offset: 0 } });
          expectValues(out, gather(c.data, c.layout).map(f), dtype, `${op} ${dtype} large`);
        }
      }
    });
  });
}

function describeBinary(backend: Backend): void {
  describe('binary', () => {
    const ops = Object.keys(BINARY) as BinaryOp[];
    for (const dtype of ['float32', 'float64', 'int32'] as DType[]) {
      for (const op of ops) {
        it(`${op} ${dtype}: every pairing of strided views`, () => {
          const g = gens(5);
          const f = BINARY[op];
          const drawA = dtype === 'int32' ? g.smallInt : op === 'pow' ? g.positive : ['eq', 'lt', 'gt', 'max', 'min'].includes(op) ? g.ties : g.normal;
          const drawB = dtype === 'int32'
            ? (op === 'div' ? g.nonZeroInt : op === 'pow' ? () => g.rng.int(4) : g.smallInt)
            : op === 'div' ? g.positive : ['eq', 'lt', 'gt', 'max', 'min'].includes(op) ? g.ties : g.normal;
          for (const shape of SHAPES) {
            const as = viewCases(shape, dtype, drawA);
            const bs = viewCases(shape, dtype, drawB);
            for (let i = 0; i < as.length; i++) {
              // Each a-layout with two b-layouts: the same one and a rotated one.
              for (const b of [bs[i], bs[(i + 3) % bs.length]]) {
                const a = as[i];
                const s = backend.binary(op, viewOf(backend, a), viewOf(backend, b));
                assert.equal(s.dtype, dtype);
                const xa = gather(a.data, a.layout);
                const xb = gather(b.data, b.layout);
                const exact = xa.map((v, k) => f(v, xb[k]));
                const expected = dtype === 'int32' ? exact.map(Math.trunc) : exact;
                const out = backend.toArray({ storage: s, layout: { shape, strides: rowMajor(shape), offset: 0 } });
                expectValues(out, expected, dtype, `${op} ${dtype} ${a.name} ∘ ${b.name} [${shape}]`);
              }
            }
          }
        });
      }
    }
    it('int32 div truncates toward zero', () => {
      const a = contiguousView(backend, Int32Array.from([7, -7, 7, -7, 1, 0]), [6]);
      const b = contiguousView(backend, Int32Array.from([2, 2, -2, -2, 3, 5]), [6]);
      assert.deepEqual(Array.from(backend.toArray({ storage: backend.binary('div', a, b), layout: a.layout })), [3, -3, -3, 3, 0, 0]);
    });
    it('max and min propagate NaN from either side; float division by zero follows IEEE', () => {
      for (const dtype of FLOATS) {
        const a = contiguousView(backend, typed(dtype, [NaN, 1, 1, -1, 0]), [5]);
        const b = contiguousView(backend, typed(dtype, [1, NaN, 0, 0, 0]), [5]);
        const read = (op: BinaryOp) => Array.from(backend.toArray({ storage: backend.binary(op, a, b), layout: a.layout }));
        expectValues(read('max').slice(0, 2), [NaN, NaN], dtype, `max NaN ${dtype}`);
        expectValues(read('min').slice(0, 2), [NaN, NaN], dtype, `min NaN ${dtype}`);
        expectValues(read('div').slice(2), [Infinity, -Infinity, NaN], dtype, `div by 0 ${dtype}`);
        assert.deepEqual(read('eq').slice(0, 2), [0, 0], 'NaN equals nothing');
      }
    });
    it('large: add and mul of [100, 70] transposed against a broadcast row', () => {
      const g = gens(6);
      for (const dtype of FLOATS) {
        const a: Case = { name: 'transposed', data: typed(dtype, Array.from({ length: 7000 }, g.normal)), layout: { shape: [100, 70], strides: [1, 100], offset: 0 } };
        const b: Case = { name: 'row', data: typed(dtype, Array.from({ length: 70 }, g.normal)), layout: { shape: [100, 70], strides: [0, 1], offset: 0 } };
        for (const op of ['add', 'mul', 'sub', 'div'] as const) {
          const out = backend.toArray({ storage: backend.binary(op, viewOf(backend, a), viewOf(backend, b)), layout: { shape: [7000], strides: [1], offset: 0 } });
          const xb = gather(b.data, b.layout);
          expectValues(out, gather(a.data, a.layout).map((v, k) => BINARY[op](v, xb[k])), dtype, `${op} ${dtype} large`);
        }
      }
    });
  });
}
