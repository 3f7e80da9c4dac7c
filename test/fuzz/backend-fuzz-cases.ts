// Backend fuzz cases: from one seed, a random call of one backend method (random shapes, strides, offsets, dtypes,
// ids), valid or broken on purpose in one way, run on native and checked against ref or a plain-JS oracle.
//
// Run as a script this file is the fuzz worker: it reads one seed a line on stdin and prints one JSON result a line,
// so the parent (backend-fuzz.ts) sees a segfault as a dead child, and a hang as a silent one.

import { createInterface } from 'node:readline';
import type { Backend, Storage, View } from '../../src/backend/backend.js';
import { refBackend } from '../../src/backend/ref.js';
import { erf } from '../../src/backend/ref-math.js';
import { DType, TypedArray, allocArray } from '../../src/core/dtype.js';
import { QkvError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import type { NativeBackend } from '../../src/backend/native.js';

/** What one case came to: a valid call that matched its oracle, an invalid one refused with a typed error naming the method, or a failure. */
export type Outcome = 'ok' | 'clear' | 'silent-wrong' | 'unclear' | 'rejected-valid';
export interface Result { seed: number; method: string; mutation: string; outcome: Outcome; detail?: string }

/** An operand as data plus layout, built on any backend. */
interface Op { data: TypedArray; shape: number[]; strides: number[]; offset: number }

const int = (r: Rng, lo: number, hi: number) => lo + r.int(hi - lo + 1);
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[r.int(xs.length)];

/** A random strided layout of `shape` over fresh data: permuted axes, maybe an offset, zero strides, a negative stride. */
function operand(r: Rng, shape: number[], dtype: DType, opts: { broadcast?: boolean; negative?: boolean; contiguousRows?: boolean; ints?: number } = {}): Op {
  const nd = shape.length;
  const order = [...Array(nd).keys()];
  if (!opts.contiguousRows) for (let i = nd - 1; i > 0; i--) { const j = r.int(i + 1); [order[i], order[j]] = [order[j], order[i]]; }
  else if (nd > 1) { const lead = order.slice(0, -1); for (let i = lead.length - 1; i > 0; i--) { const j = r.int(i + 1); [lead[i], lead[j]] = [lead[j], lead[i]]; } order.splice(0, nd - 1, ...lead); }
  const strides = new Array<number>(nd).fill(0);
  let s = 1;
  for (let k = nd - 1; k >= 0; k--) { strides[order[k]] = s; s *= shape[order[k]]; }
  for (let d = 0; d < nd; d++) {
    if (opts.broadcast && r.uniform() < 0.2 && !(opts.contiguousRows && d === nd - 1)) strides[d] = 0;
  }
  let offset = r.uniform() < 0.5 ? int(r, 0, 3) : 0;
  if (opts.negative && nd > 0 && r.uniform() < 0.2) {
    const d = r.int(nd);
    if (shape[d] > 1 && strides[d] > 0) { offset += (shape[d] - 1) * strides[d]; strides[d] = -strides[d]; }
  }
  let hi = offset;
  let empty = false;
  for (let d = 0; d < nd; d++) { if (shape[d] === 0) empty = true; if (strides[d] > 0) hi += (shape[d] - 1) * strides[d]; }
  const len = (empty ? offset : hi + 1) + int(r, 0, 2);
  const data = allocArray(dtype, len);
  for (let i = 0; i < len; i++) data[i] = opts.ints !== undefined ? r.int(opts.ints) : dtype === 'int32' ? int(r, -5, 5) : Math.round(r.normal() * 1000) / 500;
  return { data, shape, strides, offset };
}

const view = (b: Backend, o: Op): View => ({ storage: b.fromArray(o.data), layout: { shape: o.shape, strides: o.strides, offset: o.offset } });
const shapeOf = (r: Rng, nd: number, max = 5) => Array.from({ length: nd }, () => int(r, r.uniform() < 0.05 ? 0 : 1, max));
const numel = (s: readonly number[]) => s.reduce((a, d) => a * d, 1);

/** Values of a view in row-major order (ref reads them: it is the spec of a view). */
const values = (o: Op): number[] => [...refBackend.toArray(view(refBackend, o))];
const read = (b: Backend, s: Storage) => [...b.toArray({ storage: s, layout: { shape: [s.length], strides: [1], offset: 0 } })];

/** One way of breaking a call; `apply` edits the operands so the call is certainly outside the contract. */
type Mutation = 'none' | 'offset' | 'shape' | 'dtype' | 'rank' | 'huge' | 'nan' | 'ids' | 'scalar';

interface Built {
  method: string;
  ops: Record<string, Op | null>;
  /** Calls the method on a backend with operands made there. */
  call: (b: Backend, v: Record<string, View | null>) => unknown;
  /** The expected values (flat), or null when only survival and a clean return are checked. */
  oracle: (() => number[]) | null;
  /** The backend's result as flat values. */
  out: (b: Backend, res: unknown) => number[];
  /** A mutation that certainly breaks this call, applied in place; null when it has none of that kind. */
  mutate: (m: Mutation) => boolean;
  tol: number;
}

function breakOp(r: Rng, o: Op, m: Mutation): boolean {
  const nd = o.shape.length;
  if (m === 'offset' && numel(o.shape) > 0) { o.offset = o.data.length; return true; }
  if (m === 'huge' && nd > 0) { const d = r.int(nd); if (o.strides[d] === 0) o.strides[d] = 1; o.shape = o.shape.map((s, i) => (i === d ? 1_000_000 : Math.max(s, 1))); return true; }
  if (m === 'nan' && nd > 0) { o.strides = o.strides.map((s, i) => (i === 0 ? pick(r, [NaN, 0.5, Infinity]) : s)); return true; }
  if (m === 'rank') { o.shape = [...o.shape, 1]; o.strides = [...o.strides, 1]; return true; }
  return false;
}

/** Grows one axis of a dependent operand by one (its storage grown to fit), so only its relation to the loop shape breaks. */
function growAxis(r: Rng, o: Op): boolean {
  return o.shape.length > 0 && growAxisOf(r, o, r.int(o.shape.length));
}

function growAxisOf(_r: Rng, o: Op, d: number): boolean {
  o.shape = o.shape.map((s, i) => (i === d ? s + 1 : s));
  if (o.strides[d] === 0) o.strides[d] = 1;
  let hi = o.offset;
  for (let k = 0; k < o.shape.length; k++) if (o.strides[k] > 0) hi += (o.shape[k] - 1) * o.strides[k];
  const lo = o.offset + o.shape.reduce((a, s, k) => a + (o.strides[k] < 0 ? (s - 1) * o.strides[k] : 0), 0);
  if (lo < 0) return false;
  if (hi >= o.data.length) { const d2 = allocArray(o.data instanceof Int32Array ? 'int32' : o.data instanceof Float64Array ? 'float64' : 'float32', hi + 1); d2.set(o.data); o.data = d2; }
  return true;
}

const retype = (o: Op, to: DType): void => { const d = allocArray(to, o.data.length); for (let i = 0; i < d.length; i++) d[i] = o.data[i]; o.data = d; };

/** A random case of `method` from r. */
function build(r: Rng, method: string, fdt: DType): Built {
  const f32 = fdt === 'float32';
  const same = (expected: number[]) => () => expected;
  const flat = (b: Backend, s: unknown) => read(b, s as Storage);
  const mk = (ops: Record<string, Op | null>, call: Built['call'], oracle: Built['oracle'], mutate: Built['mutate'], tol = f32 ? 1e-4 : 1e-10, out: Built['out'] = flat): Built =>
    ({ method, ops, call, oracle, out, mutate, tol });
  const generic = (main: Op, deps: Op[], m: Mutation): boolean => {
    if (m === 'shape' && deps.length) return growAxis(r, pick(r, deps));
    if (m === 'dtype' && deps.length) { retype(pick(r, deps), fdt === 'float64' ? 'float32' : 'float64'); return true; }
    if (m === 'offset' || m === 'nan') return breakOp(r, pick(r, [main, ...deps]), m);
    if (m === 'huge') return deps.length ? breakOp(r, pick(r, deps), 'huge') : breakOp(r, main, 'offset');
    return false;
  };
  switch (method) {
    case 'copy': case 'unary': {
      const x = operand(r, shapeOf(r, int(r, 0, 4)), fdt, { broadcast: true, negative: true });
      const op = pick(r, ['neg', 'exp', 'tanh', 'relu', 'abs', 'erf', 'sqrt'] as const);
      const fn = { neg: (v: number) => -v, exp: Math.exp, tanh: Math.tanh, relu: (v: number) => Math.max(v, 0), abs: Math.abs, erf, sqrt: Math.sqrt }[op];
      if (method === 'copy') return mk({ x }, (b, v) => b.copy(v.x!), () => values(x), (m) => generic(x, [], m));
      return mk({ x }, (b, v) => b.unary(op, v.x!), () => values(x).map(fn), (m) => generic(x, [], m));
    }
    case 'binary': case 'where': case 'assign': {
      const shape = shapeOf(r, int(r, 0, 4));
      const a = operand(r, shape, fdt, { broadcast: method !== 'assign', negative: true });
      const bb = operand(r, shape, fdt, { broadcast: true, negative: true });
      if (method === 'assign') {
        return mk({ a, b: bb }, (b, v) => { b.assign(v.a!, v.b!); return v.a!.storage; }, () => {
          const d = Array.from(a.data); const src = values(bb); let i = 0;
          const walk = (k: number, off: number) => { if (k === shape.length) { d[off] = src[i++]; return; } for (let j = 0; j < shape[k]; j++) walk(k + 1, off + j * a.strides[k]); };
          if (numel(shape) > 0) walk(0, a.offset);
          return d;
        }, (m) => m !== 'dtype' && generic(a, [bb], m)); // assign converts to dst's dtype: a dtype difference is valid
      }
      if (method === 'binary') {
        const op = pick(r, ['add', 'sub', 'mul', 'max', 'min', 'lt'] as const);
        const fn = { add: (x: number, y: number) => x + y, sub: (x: number, y: number) => x - y, mul: (x: number, y: number) => x * y, max: Math.max, min: Math.min, lt: (x: number, y: number) => (x < y ? 1 : 0) }[op];
        return mk({ a, b: bb }, (b, v) => b.binary(op, v.a!, v.b!), () => { const y = values(bb); return values(a).map((x, i) => fn(x, y[i])); }, (m) => generic(a, [bb], m));
      }
      const c = operand(r, shape, pick(r, ['float32', 'int32'] as const), { broadcast: true, ints: 2 });
      return mk({ c, a, b: bb }, (b, v) => b.where(v.c!, v.a!, v.b!), () => { const cv = values(c); const av = values(a); const bv = values(bb); return cv.map((k, i) => (k !== 0 ? av[i] : bv[i])); },
        (m) => (m === 'dtype' ? (retype(bb, fdt === 'float64' ? 'float32' : 'float64'), true) : generic(a, [c, bb], m)));
    }
    case 'reduce': {
      const shape = shapeOf(r, int(r, 1, 4)).map((d) => Math.max(d, 1));
      const x = operand(r, shape, fdt, { broadcast: true, negative: true });
      let axis = r.int(shape.length);
      const op = pick(r, ['sum', 'max', 'argmax'] as const);
      const oracle = () => {
        const v = values(x); const len = shape[axis]; const inner = numel(shape.slice(axis + 1)); const outer = numel(shape.slice(0, axis)); const out: number[] = [];
        for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
          const xs = Array.from({ length: len }, (_, k) => v[(o * len + k) * inner + i]);
          out.push(op === 'sum' ? xs.reduce((p, q) => p + q, 0) : op === 'max' ? Math.max(...xs) : xs.indexOf(Math.max(...xs)));
        }
        return out;
      };
      return mk({ x }, (b, v) => b.reduce(op, v.x!, axis), op === 'argmax' ? null : oracle,
        (m) => (m === 'scalar' ? ((axis = pick(r, [-1, shape.length, 1.5])), true) : generic(x, [], m)));
    }
    case 'matmul': {
      const [N, M, K, P] = [int(r, 1, 3), int(r, 1, 9), int(r, 0, 9), int(r, 1, 9)];
      const a = operand(r, [N, M, K], fdt, { broadcast: true });
      const bb = operand(r, [N, K, P], fdt, { broadcast: true });
      const oracle = () => { const av = values(a); const bv = values(bb); const out: number[] = [];
        for (let n = 0; n < N; n++) for (let i = 0; i < M; i++) for (let j = 0; j < P; j++) { let s = 0; for (let k = 0; k < K; k++) s += av[(n * M + i) * K + k] * bv[(n * K + k) * P + j]; out.push(s); }
        return out; };
      return mk({ a, b: bb }, (b, v) => b.matmul(v.a!, v.b!), oracle, (m) => (m === 'rank' ? breakOp(r, pick(r, [a, bb]), 'rank') : m === 'shape' ? growAxisOf(r, bb, r.int(2)) : generic(a, [bb], m)), f32 ? 1e-3 : 1e-9);
    }
    case 'indexSelect': case 'indexAdd': {
      const [R, C, n] = [int(r, 1, 6), int(r, 1, 6), int(r, 0, 8)];
      const ids = operand(r, [n], 'int32', { ints: R });
      const src = operand(r, method === 'indexSelect' ? [R, C] : [n, C], fdt, { broadcast: method === 'indexAdd' });
      let rows = R;
      const mutate = (m: Mutation) => {
        if (m === 'ids') { if (n === 0) return false; ids.data[ids.offset + r.int(n) * ids.strides[0]] = pick(r, [-1, R, 1e9]); return true; }
        if (m === 'dtype') { retype(ids, 'float32'); return true; }
        if (m === 'scalar' && method === 'indexAdd') { rows = pick(r, [-1, 0.5, NaN]); return true; }
        if (m === 'shape' && method === 'indexSelect') return false; // any table [R, C] and any number of ids are valid
        if (m === 'shape' && method === 'indexAdd') return growAxis(r, src) && src.shape[0] !== n ? true : (src.shape = [n + 1, C], src.strides = [C, 1], src.offset = 0, src.data = allocArray(fdt, (n + 1) * C), true);
        return generic(src, [ids], m);
      };
      if (method === 'indexSelect') {
        return mk({ t: src, ids }, (b, v) => b.indexSelect(v.t!, v.ids!), () => { const t = values(src); return values(ids).flatMap((id) => t.slice(id * C, id * C + C)); }, mutate);
      }
      return mk({ s: src, ids }, (b, v) => b.indexAdd(v.s!, v.ids!, rows), () => { const s = values(src); const out = new Array(R * C).fill(0); values(ids).forEach((id, i) => { for (let c = 0; c < C; c++) out[id * C + c] += s[i * C + c]; }); return out; }, mutate);
    }
    default: return buildFused(r, method, mk, generic);
  }
}

/** The fused kernels (native only): float32, checked against plain-JS loops in float64. */
function buildFused(r: Rng, method: string, mk: (...a: any[]) => Built, generic: (main: Op, deps: Op[], m: Mutation) => boolean): Built {
  const rowsOp = () => { const shape = [...shapeOf(r, int(r, 0, 2)), int(r, 1, 7)]; return { shape, x: operand(r, shape, 'float32', { broadcast: true, contiguousRows: r.uniform() < 0.5 }) }; };
  const byRow = (v: number[], n: number, f: (row: number[]) => number[]) => { const out: number[] = []; for (let i = 0; i < v.length; i += n) out.push(...f(v.slice(i, i + n))); return out; };
  switch (method) {
    case 'softmax': {
      const { shape, x } = rowsOp(); const n = shape[shape.length - 1];
      return mk({ x }, (b: Backend, v: Record<string, View>) => b.softmax!(v.x), () => byRow(values(x), n, (row) => { const m = Math.max(...row); const e = row.map((q) => Math.exp(q - m)); const s = e.reduce((p, q) => p + q, 0); return e.map((q) => q / s); }), (m: Mutation) => generic(x, [], m));
    }
    case 'layerNorm': {
      const { shape, x } = rowsOp(); const n = shape[shape.length - 1];
      const w = operand(r, [n], 'float32'); const bias = operand(r, [n], 'float32'); let eps = 1e-5;
      const oracle = () => { const wv = values(w); const bv = values(bias); return byRow(values(x), n, (row) => { const mu = row.reduce((p, q) => p + q, 0) / n; const va = row.reduce((p, q) => p + (q - mu) ** 2, 0) / n; const rs = 1 / Math.sqrt(va + eps); return row.map((q, i) => (q - mu) * rs * wv[i] + bv[i]); }); };
      return mk({ x, w, b: bias }, (b: Backend, v: Record<string, View>) => b.layerNorm!(v.x, v.w, v.b, eps), oracle,
        (m: Mutation) => (m === 'scalar' ? ((eps = pick(r, [NaN, -1])), true) : m === 'shape' ? growAxis(r, pick(r, [w, bias])) : generic(x, [w, bias], m)), 1e-3,
        (b: Backend, res: any) => read(b, res.y));
    }
    case 'gelu': {
      const x = operand(r, shapeOf(r, int(r, 0, 3)), 'float32', { broadcast: true, negative: true }); const tanh = r.uniform() < 0.5;
      const f = (q: number) => (tanh ? 0.5 * q * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (q + 0.044715 * q ** 3))) : 0.5 * q * (1 + erf(q / Math.SQRT2)));
      return mk({ x }, (b: Backend, v: Record<string, View>) => b.gelu!(v.x, tanh ? 'tanh' : 'none'), () => values(x).map(f), (m: Mutation) => generic(x, [], m), 1e-4);
    }
    case 'crossEntropy': {
      const [N, V] = [int(r, 1, 6), int(r, 1, 7)]; const ignore = -100; let ls = pick(r, [0, 0.1]);
      const x = operand(r, [N, V], 'float32', { contiguousRows: r.uniform() < 0.5 });
      const t = operand(r, [N], 'int32', { ints: V });
      if (r.uniform() < 0.3) t.data[t.offset + r.int(N) * t.strides[0]] = ignore;
      const oracle = () => { const xv = values(x); let sum = 0; values(t).forEach((tg, i) => { if (tg === ignore) return; const row = xv.slice(i * V, i * V + V); const mx = Math.max(...row); const lse = mx + Math.log(row.reduce((p, q) => p + Math.exp(q - mx), 0)); sum += lse - (1 - ls) * row[tg] - (ls / V) * row.reduce((p, q) => p + q, 0); }); return [sum]; };
      return mk({ x, t }, (b: Backend, v: Record<string, View>) => b.crossEntropy!(v.x, v.t, ignore, ls), oracle,
        (m: Mutation) => (m === 'ids' ? ((t.data[t.offset + r.int(N) * t.strides[0]] = pick(r, [-1, V, 1e9])), true) : m === 'scalar' ? ((ls = pick(r, [NaN, 2, -0.5])), true) : m === 'shape' ? growAxis(r, t) : m === 'dtype' ? (retype(t, 'float32'), true) : generic(x, [t], m)),
        1e-3, (_b: Backend, res: any) => [res.sum]);
    }
    case 'linear': {
      const [M, K, N] = [int(r, 1, 7), int(r, 1, 7), int(r, 1, 7)]; const relu = r.uniform() < 0.5;
      const x = operand(r, [M, K], 'float32'); const w = operand(r, [N, K], 'float32'); const bias = r.uniform() < 0.7 ? operand(r, [N], 'float32') : null;
      const oracle = () => { const xv = values(x); const wv = values(w); const bv = bias ? values(bias) : null; const out: number[] = [];
        for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) { let s = bv ? bv[j] : 0; for (let k = 0; k < K; k++) s += xv[i * K + k] * wv[j * K + k]; out.push(relu ? Math.max(s, 0) : s); } return out; };
      return mk({ x, w, b: bias }, (b: Backend, v: Record<string, View | null>) => b.linear!(v.x!, v.w!, v.b, relu ? 'relu' : 'none'), oracle,
        (m: Mutation) => (m === 'rank' ? breakOp(r, pick(r, [x, w]), 'rank') : m === 'shape' ? growAxisOf(r, w, 1) : generic(x, bias ? [w, bias] : [w], m)), 1e-3);
    }
    case 'attention': {
      const [B, H, T, S, K, Vd] = [int(r, 1, 2), int(r, 1, 2), int(r, 1, 5), int(r, 1, 5), int(r, 1, 6), int(r, 1, 6)];
      const q = operand(r, [B, H, T, K], 'float32', { contiguousRows: true }); const k = operand(r, [B, H, S, K], 'float32', { contiguousRows: true });
      const v = operand(r, [B, H, S, Vd], 'float32', { contiguousRows: true }); const scale = 1 / Math.sqrt(K);
      const oracle = () => { const qv = values(q); const kv = values(k); const vv = values(v); const out: number[] = [];
        for (let bh = 0; bh < B * H; bh++) for (let t = 0; t < T; t++) {
          const sc = Array.from({ length: S }, (_, s) => { let d = 0; for (let j = 0; j < K; j++) d += qv[(bh * T + t) * K + j] * kv[(bh * S + s) * K + j]; return d * scale; });
          const mx = Math.max(...sc); const e = sc.map((z) => Math.exp(z - mx)); const sum = e.reduce((p, z) => p + z, 0);
          for (let j = 0; j < Vd; j++) out.push(e.reduce((p, z, s) => p + (z / sum) * vv[(bh * S + s) * Vd + j], 0));
        } return out; };
      return mk({ q, k, v }, (b: Backend, w: Record<string, View>) => b.attention!(w.q, w.k, w.v, null, scale), oracle,
        (m: Mutation) => (m === 'rank' ? breakOp(r, pick(r, [q, k, v]), 'rank') : m === 'shape' ? (r.uniform() < 0.5 ? growAxis(r, k) : growAxisOf(r, v, r.int(3))) : generic(q, [k, v], m)), 1e-3, (b: Backend, res: any) => read(b, res.out));
    }
    default: { // dropoutMask: survival and the mask's two values only
      let n = int(r, 0, 50); let p = pick(r, [0, 0.1, 0.5]);
      return mk({}, (b: Backend) => b.dropoutMask!(n, p, 1 / (1 - p), [r.int(1000), 7]), null,
        (m: Mutation) => (m === 'scalar' ? ((r.uniform() < 0.5 ? (n = pick(r, [-1, 0.5, NaN])) : (p = pick(r, [2, -1, NaN]))), true) : false));
    }
  }
}

export const METHODS = ['copy', 'unary', 'binary', 'where', 'assign', 'reduce', 'matmul', 'indexSelect', 'indexAdd', 'softmax', 'layerNorm', 'gelu', 'crossEntropy', 'linear', 'attention', 'dropoutMask'] as const;
const FUSED = new Set(['softmax', 'layerNorm', 'gelu', 'crossEntropy', 'linear', 'attention', 'dropoutMask']);
const MUTATIONS: Mutation[] = ['offset', 'shape', 'dtype', 'rank', 'huge', 'nan', 'ids', 'scalar'];

/** Runs the case of one seed on `backend` (native), compared with the oracle; never throws. */
export function runCase(seed: number, backend: Backend): Result {
  const r = new Rng(seed);
  const methods = METHODS.filter((m) => typeof (backend as unknown as Record<string, unknown>)[m] === 'function');
  const method = methods[r.int(methods.length)];
  const fdt: DType = FUSED.has(method) ? 'float32' : pick(r, ['float32', 'float64', 'float32'] as const);
  const c = build(r, method, fdt);
  let mutation: Mutation = 'none';
  if (r.uniform() < 0.5) {
    for (let tries = 0; tries < 8 && mutation === 'none'; tries++) { const m = pick(r, MUTATIONS); if (c.mutate(m)) mutation = m; }
  }
  const res = (outcome: Outcome, detail?: string): Result => ({ seed, method, mutation, outcome, ...(detail ? { detail } : {}) });
  let out: unknown;
  try {
    const views: Record<string, View | null> = {};
    for (const [k, o] of Object.entries(c.ops)) views[k] = o && view(backend, o);
    out = c.call(backend, views);
  } catch (e) {
    const err = e as Error;
    if (mutation === 'none') return res('rejected-valid', `${err.constructor.name}: ${err.message}`);
    const named = err.message.includes(method);
    return res(e instanceof QkvError && named ? 'clear' : 'unclear', `${err.constructor.name}: ${err.message}`);
  }
  if (mutation !== 'none' && out !== null) return res('silent-wrong', 'an invalid call returned without an error');
  // A fused kernel declines a dtype it has no kernel for by returning null (the contract): a clean answer.
  if (out === null) return res(mutation === 'dtype' ? 'clear' : 'ok', 'no kernel for the case (null)');
  if (!c.oracle) return res('ok');
  const got = c.out(backend, out);
  const want = c.oracle();
  if (got.length < want.length) return res('silent-wrong', `got ${got.length} values, expected ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= c.tol * (1 + Math.abs(want[i]))) && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) return res('silent-wrong', `value ${i}: got ${got[i]}, expected ${want[i]}`);
  }
  return res('ok');
}

// The worker: one seed a line in, one JSON result a line out.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!) && process.argv[2] === '--worker') {
  const { loadNativeBackend } = await import('../../src/node/backend-select.js');
  const backend: NativeBackend | Backend = (process.argv[3] === 'ref' ? null : loadNativeBackend({ threads: 2 })) ?? refBackend;
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (line.trim() === '') continue;
    process.stdout.write(JSON.stringify(runCase(Number(line), backend)) + '\n');
  }
}
