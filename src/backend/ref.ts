// The ref backend: plain TypeScript, slow, obviously correct. It is the spec other backends match.

import { DType, TypedArray, allocArray, dtypeOf } from '../core/dtype.js';
import { ArgumentError } from '../core/errors.js';
import { Layout, isContiguous } from '../core/layout.js';
import { numel } from '../core/shape.js';
import type { Backend, BinaryOp, ReduceOp, Storage, UnaryOp, View } from './backend.js';
import * as check from './check.js';
import { erf } from './ref-math.js';

/** Ref storage is just a typed array. */
class RefStorage implements Storage {
  constructor(readonly data: TypedArray) {}
  get dtype(): DType { return dtypeOf(this.data); }
  get length(): number { return this.data.length; }
}

function data(s: Storage): TypedArray {
  if (!(s instanceof RefStorage)) throw new ArgumentError(`ref backend: storage from another backend (${s.constructor.name})`);
  return s.data;
}

/** Flat offsets of every element of a layout, in row-major order of its shape. */
function offsets(l: Layout): Int32Array | null {
  if (isContiguous(l)) return null;
  const n = numel(l.shape);
  const out = new Int32Array(n);
  const nd = l.shape.length;
  const idx = new Array<number>(nd).fill(0);
  let off = l.offset;
  for (let i = 0; i < n; i++) {
    out[i] = off;
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]++;
      off += l.strides[d];
      if (idx[d] < l.shape[d]) break;
      off -= l.strides[d] * l.shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/** Reads a view element by element through a getter (offset table or contiguous run). */
function reader(x: View): (i: number) => number {
  const d = data(x.storage);
  const offs = offsets(x.layout);
  const base = x.layout.offset;
  return offs ? (i) => d[offs[i]] : (i) => d[base + i];
}

function unaryFn(op: UnaryOp): (x: number) => number {
  switch (op) {
    case 'neg': return (x) => -x;
    case 'exp': return Math.exp;
    case 'log': return Math.log;
    case 'sqrt': return Math.sqrt;
    case 'tanh': return Math.tanh;
    case 'relu': return (x) => (x > 0 ? x : 0);
    case 'step': return (x) => (x > 0 ? 1 : 0);
    case 'erf': return erf;
    case 'abs': return Math.abs;
    case 'recip': return (x) => 1 / x;
  }
}

function binaryFn(op: BinaryOp): (a: number, b: number) => number {
  switch (op) {
    case 'add': return (a, b) => a + b;
    case 'sub': return (a, b) => a - b;
    case 'mul': return (a, b) => a * b;
    case 'div': return (a, b) => a / b;
    case 'pow': return Math.pow;
    case 'max': return (a, b) => (a >= b || Number.isNaN(a) ? a : b);
    case 'min': return (a, b) => (a <= b || Number.isNaN(a) ? a : b);
    case 'eq': return (a, b) => (a === b ? 1 : 0);
    case 'lt': return (a, b) => (a < b ? 1 : 0);
    case 'gt': return (a, b) => (a > b ? 1 : 0);
  }
}

/** Integer results of int32 division are truncated, as in C and torch's trunc mode. */
function intFix(dtype: DType, f: (a: number, b: number) => number): (a: number, b: number) => number {
  return dtype === 'int32' ? (a, b) => Math.trunc(f(a, b)) : f;
}

export const refBackend: Backend = {
  name: 'ref',

  alloc(dtype, length) {
    check.checkAlloc(dtype, length);
    return new RefStorage(allocArray(dtype, length));
  },

  fromArray(src) {
    check.checkArray('fromArray', src);
    return new RefStorage(src.slice());
  },

  wrapArray(src) {
    check.checkArray('wrapArray', src);
    return new RefStorage(src);
  },

  toArray(x) {
    check.checkView('toArray', 'x', x);
    return data(this.copy(x));
  },

  copy(x, dtype) {
    check.checkCopy(x, dtype);
    const n = numel(x.layout.shape);
    const out = allocArray(dtype ?? x.storage.dtype, n);
    const d = data(x.storage);
    const o = offsets(x.layout);
    const base = x.layout.offset;
    for (let i = 0; i < n; i++) out[i] = d[o ? o[i] : base + i];
    return new RefStorage(out);
  },

  unary(op, x) {
    check.checkUnary(op, x);
    const n = numel(x.layout.shape);
    const out = allocArray(x.storage.dtype, n);
    const d = data(x.storage);
    const o = offsets(x.layout);
    const base = x.layout.offset;
    const f = unaryFn(op);
    for (let i = 0; i < n; i++) out[i] = f(d[o ? o[i] : base + i]);
    return new RefStorage(out);
  },

  binary(op, a, b) {
    check.checkBinary(op, a, b);
    const n = numel(a.layout.shape);
    const out = allocArray(a.storage.dtype, n);
    const da = data(a.storage);
    const db = data(b.storage);
    const oa = offsets(a.layout);
    const ob = offsets(b.layout);
    const ba = a.layout.offset;
    const bb = b.layout.offset;
    const f = intFix(a.storage.dtype, binaryFn(op));
    for (let i = 0; i < n; i++) out[i] = f(da[oa ? oa[i] : ba + i], db[ob ? ob[i] : bb + i]);
    return new RefStorage(out);
  },

  where(cond, a, b) {
    check.checkWhere(cond, a, b);
    const n = numel(a.layout.shape);
    const out = allocArray(a.storage.dtype, n);
    const gc = reader(cond);
    const ga = reader(a);
    const gb = reader(b);
    for (let i = 0; i < n; i++) out[i] = gc(i) !== 0 ? ga(i) : gb(i);
    return new RefStorage(out);
  },

  reduce(op: ReduceOp, x, axis) {
    check.checkReduce(op, x, axis);
    const shape = x.layout.shape;
    const outer = numel(shape.slice(0, axis));
    const len = shape[axis];
    const inner = numel(shape.slice(axis + 1));
    const get = reader(x);
    const out = allocArray(op === 'argmax' ? 'int32' : x.storage.dtype, outer * inner);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * len * inner + i;
        if (op === 'sum') {
          let s = 0;
          for (let k = 0; k < len; k++) s += get(base + k * inner);
          out[o * inner + i] = s;
        } else {
          let best = -Infinity;
          let arg = 0;
          for (let k = 0; k < len; k++) {
            const v = get(base + k * inner);
            if (v > best || Number.isNaN(v)) { best = v; arg = k; if (Number.isNaN(v)) break; }
          }
          out[o * inner + i] = op === 'max' ? (len === 0 ? -Infinity : best) : arg;
        }
      }
    }
    return new RefStorage(out);
  },

  matmul(a, b) {
    check.checkMatmul(a, b);
    const [N, M, K] = a.layout.shape;
    const P = b.layout.shape[2];
    const da = data(a.storage);
    const db = data(b.storage);
    const [sa0, sa1, sa2] = a.layout.strides;
    const [sb0, sb1, sb2] = b.layout.strides;
    const out = allocArray(a.storage.dtype, N * M * P);
    // Copy each operand into a plain row-major float64 matrix first, then the textbook
    // i-k-j loop, accumulating in float64.
    const A = new Float64Array(M * K);
    const Bm = new Float64Array(K * P);
    const row = new Float64Array(P);
    for (let n = 0; n < N; n++) {
      for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) A[m * K + k] = da[a.layout.offset + n * sa0 + m * sa1 + k * sa2];
      for (let k = 0; k < K; k++) for (let p = 0; p < P; p++) Bm[k * P + p] = db[b.layout.offset + n * sb0 + k * sb1 + p * sb2];
      for (let m = 0; m < M; m++) {
        row.fill(0);
        for (let k = 0; k < K; k++) {
          const av = A[m * K + k];
          const bo = k * P;
          for (let p = 0; p < P; p++) row[p] += av * Bm[bo + p];
        }
        const oo = (n * M + m) * P;
        for (let p = 0; p < P; p++) out[oo + p] = row[p];
      }
    }
    return new RefStorage(out);
  },

  assign(dst, src) {
    check.checkAssign(dst, src);
    const d = data(dst.storage);
    const n = numel(dst.layout.shape);
    const offs = offsets(dst.layout);
    const get = reader(src);
    const base = dst.layout.offset;
    if (d === data(src.storage)) {
      // Overlapping source and destination: read everything first.
      const tmp = Array.from({ length: n }, (_, i) => get(i));
      for (let i = 0; i < n; i++) d[offs ? offs[i] : base + i] = tmp[i];
      return;
    }
    for (let i = 0; i < n; i++) d[offs ? offs[i] : base + i] = get(i);
  },

  indexSelect(table, ids) {
    check.checkIndexSelect(table, ids);
    const [R, C] = table.layout.shape;
    const n = numel(ids.layout.shape);
    const getId = reader(ids);
    const getT = reader(table);
    const out = allocArray(table.storage.dtype, n * C);
    for (let i = 0; i < n; i++) {
      const r = getId(i);
      if (r < 0 || r >= R) throw new ArgumentError(`indexSelect: id ${r} at position ${i} is out of range [0, ${R})`);
      for (let c = 0; c < C; c++) out[i * C + c] = getT(r * C + c);
    }
    return new RefStorage(out);
  },

  indexAdd(src, ids, rows) {
    check.checkIndexAdd(src, ids, rows);
    const C = src.layout.shape[1];
    const n = numel(ids.layout.shape);
    const getId = reader(ids);
    const getS = reader(src);
    const out = allocArray(src.storage.dtype, rows * C);
    for (let i = 0; i < n; i++) {
      const r = getId(i);
      if (r < 0 || r >= rows) throw new ArgumentError(`indexAdd: id ${r} at position ${i} is out of range [0, ${rows})`);
      for (let c = 0; c < C; c++) out[r * C + c] += getS(i * C + c);
    }
    return new RefStorage(out);
  },
};
