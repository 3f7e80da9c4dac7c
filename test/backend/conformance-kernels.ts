// Conformance, part two: where, reduce, matmul, indexSelect, indexAdd and assign on strided views.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend, View } from '../../src/backend/backend.js';
import type { DType } from '../../src/core/dtype.js';
import type { Layout } from '../../src/core/layout.js';
import { ArgumentError } from '../../src/core/errors.js';
import { Case, contiguousView, expectValues, gather, gens, prod, rowMajor, typed, viewCases, viewOf } from './conformance-helpers.js';

const ALL: DType[] = ['float32', 'float64', 'int32'];
const FLOATS: DType[] = ['float32', 'float64'];

function read(backend: Backend, storage: View['storage'], shape: readonly number[]): number[] {
  return Array.from(backend.toArray({ storage, layout: { shape, strides: rowMajor(shape), offset: 0 } }));
}

/** Reduces `axis` of row-major `xs` with `shape` by a plain loop; returns values and Σ|x| per output. */
function reduceRef(xs: number[], shape: readonly number[], axis: number, op: 'sum' | 'max' | 'argmax'): { values: number[]; scale: number[] } {
  const outer = prod(shape.slice(0, axis));
  const len = shape[axis];
  const inner = prod(shape.slice(axis + 1));
  const values: number[] = [];
  const scale: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const run = Array.from({ length: len }, (_, k) => xs[(o * len + k) * inner + i]);
      scale.push(run.reduce((p, q) => p + Math.abs(q), 0));
      if (op === 'sum') values.push(run.reduce((p, q) => p + q, 0));
      else {
        const nan = run.findIndex(Number.isNaN);
        const best = nan >= 0 ? NaN : Math.max(-Infinity, ...run);
        values.push(op === 'max' ? best : nan >= 0 ? nan : Math.max(0, run.indexOf(best)));
      }
    }
  }
  return { values, scale };
}

/** Naive matmul over nested arrays: a [N][M][K] · b [N][K][P]; also Σ|a·b| per entry. */
function matmulRef(a: number[][][], b: number[][][], P: number): { values: number[]; scale: number[] } {
  const values: number[] = [];
  const scale: number[] = [];
  for (let n = 0; n < a.length; n++) {
    for (const row of a[n]) {
      for (let p = 0; p < P; p++) {
        let s = 0;
        let abs = 0;
        for (let k = 0; k < row.length; k++) { s += row[k] * b[n][k][p]; abs += Math.abs(row[k] * b[n][k][p]); }
        values.push(s);
        scale.push(abs);
      }
    }
  }
  return { values, scale };
}

function nest3(xs: number[], [N, M, K]: readonly number[]): number[][][] {
  return Array.from({ length: N }, (_, n) => Array.from({ length: M }, (_, m) => xs.slice((n * M + m) * K, (n * M + m + 1) * K)));
}

/** Layouts of a logical [N, R, C] matrix stack: contiguous, transposed in the last two axes, batch-broadcast, narrowed. */
function matCases(N: number, R: number, C: number, dtype: DType, gen: () => number): Case[] {
  const shape = [N, R, C];
  const fill = (len: number) => typed(dtype, Array.from({ length: len }, gen));
  return [
    { name: 'contiguous', data: fill(N * R * C), layout: { shape, strides: rowMajor(shape), offset: 0 } },
    { name: 'transposed', data: fill(N * R * C), layout: { shape, strides: [R * C, 1, R], offset: 0 } },
    { name: 'batch-broadcast', data: fill(R * C), layout: { shape, strides: [0, C, 1], offset: 0 } },
    { name: 'narrowed', data: fill(N * (R + 1) * (C + 2) + 1), layout: { shape, strides: [(R + 1) * (C + 2), C + 2, 1], offset: C + 3 } },
  ];
}

export function describeConformanceKernels(backend: Backend): void {
  describe('where', () => {
    for (const dtype of ALL) {
      for (const condType of ['int32', 'float32', dtype] as DType[]) {
        it(`where ${dtype} with a ${condType} condition on strided views`, () => {
          const g = gens(7);
          for (const shape of [[3, 4], [2, 1, 3], [0, 4], []]) {
            const cs = viewCases(shape, condType, () => (g.rng.uniform() < 0.5 ? 0 : g.rng.int(3) + 1));
            const as = viewCases(shape, dtype, dtype === 'int32' ? g.smallInt : g.normal);
            const bs = viewCases(shape, dtype, dtype === 'int32' ? g.smallInt : g.normal);
            for (let i = 0; i < as.length; i++) {
              const c = cs[(i + 1) % cs.length];
              const a = as[i];
              const b = bs[(i + 2) % bs.length];
              const s = backend.where(viewOf(backend, c), viewOf(backend, a), viewOf(backend, b));
              assert.equal(s.dtype, dtype);
              const xc = gather(c.data, c.layout);
              const xa = gather(a.data, a.layout);
              const xb = gather(b.data, b.layout);
              assert.deepEqual(read(backend, s, shape), xc.map((v, k) => (v !== 0 ? xa[k] : xb[k])), `${c.name} ? ${a.name} : ${b.name} [${shape}]`);
            }
          }
        });
      }
    }
  });

  describe('reduce', () => {
    for (const dtype of ALL) {
      for (const op of ['sum', 'max', 'argmax'] as const) {
        it(`${op} ${dtype} over every axis of strided views`, () => {
          const g = gens(8);
          const draw = dtype === 'int32' ? g.smallInt : op === 'sum' ? g.normal : g.ties;
          for (const shape of [[2, 3, 4], [3, 1, 2], [5], [2, 0, 3]]) {
            for (const c of viewCases(shape, dtype, draw)) {
              for (let axis = 0; axis < shape.length; axis++) {
                if (shape[axis] === 0 && op !== 'sum') continue;
                const s = backend.reduce(op, viewOf(backend, c), axis);
                const outDtype = op === 'argmax' ? 'int32' : dtype;
                assert.equal(s.dtype, outDtype);
                const kept = shape.map((d, i) => (i === axis ? 1 : d));
                const ref = reduceRef(gather(c.data, c.layout), shape, axis, op);
                expectValues(read(backend, s, kept), ref.values, outDtype, `${op} ${dtype} ${c.name} [${shape}] axis ${axis}`, ref.scale);
              }
            }
          }
        });
      }
    }
    it('argmax picks the first of tied maxima; max and argmax see NaN', () => {
      for (const dtype of FLOATS) {
        const v = contiguousView(backend, typed(dtype, [1, 3, 3, 0, 2, NaN, 5, NaN]), [2, 4]);
        assert.deepEqual(read(backend, backend.reduce('argmax', v, 1), [2, 1]), [1, 1]);
        expectValues(read(backend, backend.reduce('max', v, 1), [2, 1]), [3, NaN], dtype, 'max with NaN');
      }
    });
    it('sum over an empty axis is 0; max over an empty axis is -Infinity', () => {
      for (const dtype of FLOATS) {
        const v: View = { storage: backend.alloc(dtype, 0), layout: { shape: [3, 0], strides: [0, 1], offset: 0 } };
        assert.deepEqual(read(backend, backend.reduce('sum', v, 1), [3, 1]), [0, 0, 0]);
        assert.deepEqual(read(backend, backend.reduce('max', v, 1), [3, 1]), [-Infinity, -Infinity, -Infinity]);
        assert.equal(backend.reduce('sum', v, 0).length, 0);
      }
    });
    it('large: sum, max, argmax over 1500 elements along either axis, contiguous and transposed', () => {
      const g = gens(9);
      for (const dtype of ALL) {
        const draw = dtype === 'int32' ? () => g.rng.int(20001) - 10000 : g.normal;
        const shape = [4, 1500];
        const cases: Case[] = [
          { name: 'contiguous', data: typed(dtype, Array.from({ length: 6000 }, draw)), layout: { shape, strides: [1500, 1], offset: 0 } },
          { name: 'transposed', data: typed(dtype, Array.from({ length: 6000 }, draw)), layout: { shape, strides: [1, 4], offset: 0 } },
          { name: 'tall', data: typed(dtype, Array.from({ length: 6000 }, draw)), layout: { shape: [1500, 4], strides: [4, 1], offset: 0 } },
        ];
        for (const c of cases) {
          for (const op of ['sum', 'max', 'argmax'] as const) {
            for (let axis = 0; axis < 2; axis++) {
              const s = backend.reduce(op, viewOf(backend, c), axis);
              const kept = c.layout.shape.map((d, i) => (i === axis ? 1 : d));
              const ref = reduceRef(gather(c.data, c.layout), c.layout.shape, axis, op);
              expectValues(read(backend, s, kept), ref.values, op === 'argmax' ? 'int32' : dtype, `${op} ${dtype} ${c.name} axis ${axis}`, ref.scale);
            }
          }
        }
      }
    });
  });

  describe('matmul', () => {
    for (const dtype of FLOATS) {
      it(`matmul ${dtype}: every pairing of contiguous, transposed, batch-broadcast and narrowed operands`, () => {
        const g = gens(10);
        for (const [N, M, K, P] of [[2, 3, 4, 5], [1, 1, 1, 1], [3, 2, 1, 4], [2, 0, 3, 2], [2, 3, 0, 2], [1, 4, 3, 0]]) {
          for (const a of matCases(N, M, K, dtype, g.normal)) {
            for (const b of matCases(N, K, P, dtype, g.normal)) {
              const s = backend.matmul(viewOf(backend, a), viewOf(backend, b));
              assert.equal(s.dtype, dtype);
              const ref = matmulRef(nest3(gather(a.data, a.layout), [N, M, K]), nest3(gather(b.data, b.layout), [N, K, P]), P);
              expectValues(read(backend, s, [N, M, P]), ref.values, dtype, `${a.name} · ${b.name} [${N},${M},${K}]·[${N},${K},${P}]`, ref.scale);
            }
          }
        }
      });
      it(`large matmul ${dtype}: 67×129 · 129×33, batch 2, plain and with transposed operands`, () => {
        const g = gens(11);
        const [N, M, K, P] = [2, 67, 129, 33];
        const as = matCases(N, M, K, dtype, g.normal);
        const bs = matCases(N, K, P, dtype, g.normal);
        for (const [a, b] of [[as[0], bs[0]], [as[1], bs[1]], [as[0], bs[1]], [as[3], bs[2]]]) {
          const s = backend.matmul(viewOf(backend, a), viewOf(backend, b));
          const ref = matmulRef(nest3(gather(a.data, a.layout), [N, M, K]), nest3(gather(b.data, b.layout), [N, K, P]), P);
          expectValues(read(backend, s, [N, M, P]), ref.values, dtype, `large ${a.name} · ${b.name}`, ref.scale);
        }
      });
    }
  });

  describe('indexSelect and indexAdd', () => {
    const tables = (dtype: DType, R: number, C: number, gen: () => number): Case[] => [
      { name: 'contiguous table', data: typed(dtype, Array.from({ length: R * C }, gen)), layout: { shape: [R, C], strides: [C, 1], offset: 0 } },
      { name: 'transposed table', data: typed(dtype, Array.from({ length: R * C }, gen)), layout: { shape: [R, C], strides: [1, R], offset: 0 } },
      { name: 'narrowed table', data: typed(dtype, Array.from({ length: (R + 1) * (C + 2) }, gen)), layout: { shape: [R, C], strides: [C + 2, 1], offset: C + 3 } },
    ];
    const idViews = (ids: number[]): Case[] => [
      { name: 'contiguous ids', data: Int32Array.from(ids), layout: { shape: [ids.length], strides: [1], offset: 0 } },
      { name: 'strided ids', data: Int32Array.from(ids.flatMap((v) => [v, -5])), layout: { shape: [ids.length], strides: [2], offset: 0 } },
      // embedding passes ids of any shape ([B, T]); kernels see them flattened row-major.
      ...(ids.length % 2 === 0 ? [{ name: '2-D transposed ids', data: Int32Array.from(ids.filter((_, i) => i % 2 === 0).concat(ids.filter((_, i) => i % 2 === 1))), layout: { shape: [ids.length / 2, 2], strides: [1, ids.length / 2], offset: 0 } }] : []),
    ];
    for (const dtype of FLOATS) {
      it(`indexSelect ${dtype}: repeated ids, strided tables and ids`, () => {
        const g = gens(12);
        const [R, C] = [5, 3];
        const ids = [4, 0, 2, 2, 4, 1];
        for (const t of tables(dtype, R, C, g.normal)) {
          for (const iv of idViews(ids)) {
            const s = backend.indexSelect(viewOf(backend, t), viewOf(backend, iv));
            const rows = gather(t.data, t.layout);
            const flat = gather(iv.data, iv.layout);
            assert.deepEqual(read(backend, s, [flat.length, C]), flat.flatMap((r) => rows.slice(r * C, (r + 1) * C)), `${t.name} / ${iv.name}`);
          }
        }
        const empty = backend.indexSelect(viewOf(backend, tables(dtype, R, C, g.normal)[0]), contiguousView(backend, new Int32Array(0), [0]));
        assert.equal(empty.length, 0);
      });
      it(`indexAdd ${dtype}: repeated ids accumulate, strided sources`, () => {
        const g = gens(13);
        const [N, C, rows] = [6, 3, 5];
        const ids = [4, 0, 2, 2, 4, 4];
        for (const src of tables(dtype, N, C, g.normal)) {
          for (const iv of idViews(ids)) {
            const s = backend.indexAdd(viewOf(backend, src), viewOf(backend, iv), rows);
            assert.equal(s.dtype, dtype);
            const xs = gather(src.data, src.layout);
            const expected = new Array<number>(rows * C).fill(0);
            gather(iv.data, iv.layout).forEach((r, n) => { for (let c = 0; c < C; c++) expected[r * C + c] += xs[n * C + c]; });
            expectValues(read(backend, s, [rows, C]), expected, dtype, `${src.name} / ${iv.name}`);
          }
        }
      });
      it(`indexSelect and indexAdd ${dtype} throw ArgumentError on out-of-range ids`, () => {
        const table = contiguousView(backend, typed(dtype, [1, 2, 3, 4, 5, 6]), [3, 2]);
        for (const bad of [3, -1, 1000]) {
          const ids = contiguousView(backend, Int32Array.from([0, bad, 1]), [3]);
          assert.throws(() => backend.indexSelect(table, ids), (e: unknown) => e instanceof ArgumentError && (e as Error).message.includes(String(bad)), `indexSelect id ${bad}`);
          assert.throws(() => backend.indexAdd(table, ids, 3), (e: unknown) => e instanceof ArgumentError && (e as Error).message.includes(String(bad)), `indexAdd id ${bad}`);
        }
      });
    }
  });

  describe('assign', () => {
    for (const dtype of ALL) {
      it(`assign ${dtype}: strided destinations from contiguous, transposed and broadcast sources`, () => {
        const g = gens(14);
        const draw = dtype === 'int32' ? g.smallInt : g.normal;
        // Destinations inside a [4, 6] buffer: a narrowed block, a transposed full view, a strided column set.
        const dsts: { name: string; layout: Layout }[] = [
          { name: 'narrowed block', layout: { shape: [2, 3], strides: [6, 1], offset: 8 } },
          { name: 'transposed', layout: { shape: [6, 4], strides: [1, 6], offset: 0 } },
          { name: 'every other column', layout: { shape: [4, 3], strides: [6, 2], offset: 1 } },
          { name: 'one row', layout: { shape: [6], strides: [1], offset: 12 } },
          { name: 'empty', layout: { shape: [0, 3], strides: [6, 1], offset: 0 } },
        ];
        for (const d of dsts) {
          for (const src of viewCases(d.layout.shape, dtype, draw)) {
            const init = typed(dtype, Array.from({ length: 24 }, draw));
            const dst: View = { storage: backend.fromArray(init), layout: d.layout };
            backend.assign(dst, viewOf(backend, src));
            const expected = Array.from(init);
            const vals = gather(src.data, src.layout);
            const targets = gather(Array.from({ length: 24 }, (_, i) => i), d.layout);
            targets.forEach((off, k) => { expected[off] = vals[k]; });
            assert.deepEqual(read(backend, dst.storage, [24]), expected, `${d.name} ← ${src.name}`);
          }
        }
      });
    }
    it('assign with overlapping source and destination reads before it writes', () => {
      for (const dtype of ALL) {
        const storage = backend.fromArray(typed(dtype, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
        backend.assign({ storage, layout: { shape: [9], strides: [1], offset: 1 } }, { storage, layout: { shape: [9], strides: [1], offset: 0 } });
        assert.deepEqual(read(backend, storage, [10]), [0, 0, 1, 2, 3, 4, 5, 6, 7, 8], `shift right ${dtype}`);
        const s2 = backend.fromArray(typed(dtype, [1, 2, 3, 4]));
        // In-place transpose of a 2×2 block.
        backend.assign({ storage: s2, layout: { shape: [2, 2], strides: [2, 1], offset: 0 } }, { storage: s2, layout: { shape: [2, 2], strides: [1, 2], offset: 0 } });
        assert.deepEqual(read(backend, s2, [4]), [1, 3, 2, 4], `in-place transpose ${dtype}`);
      }
    });
  });
}

