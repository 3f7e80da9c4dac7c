// The native backend: the contract's kernels in C (native/), run on typed arrays the JS heap owns.
//
// This file only adapts an already-loaded addon to the Backend interface; finding and loading the
// compiled file is the Node room's job (src/node/backend-select.ts), so a browser bundle never
// meets `require`. Storage is a plain typed array allocated here and lent to C for the length of
// one call (zero-copy); the garbage collector frees it as it frees ref's, except inside a storage
// scope, where large outputs come from and go back to a pool (buffer-pool.ts).

import type { DType, TypedArray } from '../core/dtype.js';
import { ArgumentError, DTypeError, ShapeError } from '../core/errors.js';
import { isContiguous } from '../core/layout.js';
import { contiguousStrides, numel } from '../core/shape.js';
import type { Backend, BinaryOp, BlockSpec, BlockWeights, CacheViews, ReduceOp, StackWeights, Storage, UnaryOp, View } from './backend.js';
import { BufferPool } from './buffer-pool.js';
import * as check from './check.js';
import { NativeStorage, data, targetErrors, meta, idsOf, rowsContiguous, flatF32, param, rowsOf, headStrides, attentionMeta, headsView, maskData } from './native-views.js';
import type { NativeAddon } from './native-addon.js';

export type { NativeAddon } from './native-addon.js';

/** The Backend contract plus the knobs only native has. */
export interface NativeBackend extends Backend {
  readonly addon: NativeAddon;
  /** Threads the kernels use (the caller included). */
  threads(): number;
  /** The reuse pool of kernel outputs (its `poison` switch is for tests). */
  readonly pool: BufferPool;
  /** Sets the thread count, 0 (all cores) to MAX_THREADS (256; more throws an ArgumentError). Returns the count now in use. */
  setThreads(n: number): number;
  /** The sgemm micro-kernel in use ('avx512', 'avx2', 'portable'...), or chooses one; null if this CPU cannot run it. */
  gemmKernel(name?: string): string | null;
}

// Op codes: the order of the enums in native/kernels.h.
const UNARY: Record<UnaryOp, number> = { neg: 0, exp: 1, log: 2, sqrt: 3, tanh: 4, relu: 5, step: 6, erf: 7, abs: 8, recip: 9 };
const BINARY: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3, pow: 4, max: 5, min: 6, eq: 7, lt: 8, gt: 9 };
const REDUCE: Record<ReduceOp, number> = { sum: 0, max: 1, argmax: 2 };

/** The optional fused methods `fused: false` leaves out. */
const FUSED_METHODS = ['softmax', 'layerNorm', 'layerNormBackward', 'dropoutMask', 'attention', 'attentionBackward', 'crossEntropy', 'crossEntropyBackward', 'gelu', 'geluBackward', 'adamUpdate', 'decodeBlock', 'decodeStack', 'decodeStackRows', 'decodeStackPrefill', 'linear', 'linearBackward'] as const;

/** A block's 12 weights in the order native/addon.c's decodeBlock takes them. */
function blockWeightViews(w: BlockWeights): (View | null)[] {
  return [w.inProjWeight, w.inProjBias, w.outProjWeight, w.outProjBias, w.norm1Weight, w.norm1Bias, w.norm2Weight, w.norm2Bias,
    w.linear1Weight, w.linear1Bias, w.linear2Weight, w.linear2Bias];
}

/** The decode kernels' meta flag for the FFN's non-linearity: 0 ReLU, 1 exact GELU (erf), 2 GELU's tanh form. */
const geluFlag = (a: BlockSpec['activation']): number => (a === 'relu' ? 0 : a === 'gelu' ? 1 : 2);

const f32 = (...views: (View | null)[]) => views.every((v) => v === null || v.storage.dtype === 'float32');

/** decodeStack's meta: 15 numbers, then one offset per array. */
const STACK_HEAD = 15;

/**
 * What decodeStack derives once from a weights object (its parameters are written in place, never replaced): the
 * addon's arguments out, ids, meta, then the arrays, with the weights' filled in (the caches', 2 per block, and the
 * first two are set per call), and the checked sizes. null when there is no kernel for them (dtype, layout).
 */
interface StackPlan {
  args: (TypedArray | null)[];
  meta: Float64Array;
  D: number;
  R: number;
  V: number;
  F: number;
  L: number;
}
const stackPlans = new WeakMap<StackWeights, StackPlan | null>();

function stackPlan(w: StackWeights): StackPlan | null {
  const L = w.blocks.length;
  const views: (View | null)[] = [w.tokenEmbedding, w.positionEmbedding, w.finalNorm?.weight ?? null, w.finalNorm?.bias ?? null, w.head];
  for (let l = 0; l < L; l++) views.push(null, null, ...blockWeightViews(w.blocks[l]));
  const meta = new Float64Array(STACK_HEAD + views.length);
  const args: (TypedArray | null)[] = [null, null, meta];
  for (let i = 0; i < views.length; i++) {
    const t = views[i];
    args.push(t && data(t.storage));
    if (t === null) continue;
    if (t.storage.dtype !== 'float32' || !isContiguous(t.layout)) return null;
    meta[STACK_HEAD + i] = t.layout.offset;
  }
  const [R, D] = w.tokenEmbedding.layout.shape;
  const [V, hd] = w.head.layout.shape;
  const F = w.blocks[0]?.linear1Weight.layout.shape[0];
  const pos = w.positionEmbedding?.layout.shape;
  const is2 = (t: View, r: number, c: number) => t.layout.shape.length === 2 && t.layout.shape[0] === r && t.layout.shape[1] === c;
  const uniform = w.blocks.every((b) => is2(b.inProjWeight, 3 * D, D) && is2(b.linear1Weight, F, D) && is2(b.linear2Weight, D, F));
  if (L < 1 || !uniform || hd !== D || (pos && pos[1] !== D)) {
    throw new ShapeError(`decodeStack: embedding [${R}, ${D}], head [${V}, ${hd}], positions [${pos?.join(', ') ?? ''}] and ${L} blocks ` +
      `do not fit [R, D], [V, D], [P, D] and at least one block, each with in_proj [3D, D], linear1 [F, D] and linear2 [D, F] of one F`);
  }
  const method = 'decodeStack';
  check.checkView(method, 'tokenEmbedding', w.tokenEmbedding, [R, D]);
  check.checkView(method, 'head', w.head, [V, D]);
  if (w.positionEmbedding) check.checkView(method, 'positionEmbedding', w.positionEmbedding, [pos![0], D]);
  if (w.finalNorm) for (const t of [w.finalNorm.weight, w.finalNorm.bias]) check.checkView(method, 'finalNorm', t, [D]);
  for (const b of w.blocks) check.checkBlockWeights(method, b, D, F);
  return { args, meta, D, R, V, F, L };
}

/**
 * Wraps a loaded addon as a Backend, with the fused kernels (softmax, layer norm, attention,
 * cross-entropy, GELU, the Adam update) unless `fused: false`. The ops use them when present; float32
 * results differ from the composed ones in the last bits, which changes the trajectory of a training run.
 *
 * @example
 * import { loadNativeBackend } from 'qkv/node';      // finds and loads the addon
 * const native = loadNativeBackend();                // null when it is not built
 * if (native) zeros([2, 3], { backend: native });
 */
export function createNativeBackend(addon: NativeAddon, opts: { fused?: boolean } = {}): NativeBackend {
  // Outputs the kernel overwrites completely skip the zero-fill (zeroing a fresh 6 MiB array costs
  // ~0.6 ms of page faults, ~15% of a [4096×128]·[128×384] product); see buffer-pool.ts for reuse.
  const pool = new BufferPool();
  const output = (dtype: DType, n: number): TypedArray => pool.take(dtype, n, false);
  const zeros = (dtype: DType, n: number): TypedArray => pool.take(dtype, n, true);
  // An addon built before the tanh GELU would read gelu_new's flag as erf: those steps take the composed path there.
  const tanhDecode = (addon.decodeGeluForms?.() ?? 0) >= 3;
  /**
   * decodeStack's call, all rows at s0, or each at positions[b] (decodeStackRows, s0 their largest), or with `prefill`
   * the rows as positions[b] of one sequence in caches of one row (decodeStackPrefill, s0 the last position).
   */
  const stackStep = (self: NativeBackend, ids: View, w: StackWeights, caches: readonly CacheViews[], s0: number, positions: Int32Array | null, spec: BlockSpec,
    prefill = false): Storage | null => {
    if (spec.activation === 'gelu_new' && !tanhDecode) return null;
    const method = prefill ? 'decodeStackPrefill' : positions ? 'decodeStackRows' : 'decodeStack';
    // Once per token: the weights' part of the call is prepared once per weights object (stackPlan), the rest in
    // plain loops. C checks every array against the sizes in meta; the shapes are checked here for the message.
    let plan = stackPlans.get(w);
    if (plan === undefined) stackPlans.set(w, (plan = stackPlan(w)));
    if (!plan) return null;
    const { args, meta: m, D, R, V, F, L } = plan;
    check.checkView(method, 'ids', ids);
    if (ids.storage.dtype !== 'int32') throw new DTypeError(`backend.${method}: ids are ${ids.storage.dtype}, expected int32`);
    for (const c of caches) for (const t of [c.k, c.v]) check.checkView(method, 'a cache', t);
    const B = ids.layout.shape[0];
    const H = spec.heads;
    const c0 = caches[0]?.k.layout.shape ?? [];
    const pos = w.positionEmbedding?.layout.shape;
    const fits = (t: View) => t.layout.shape.length === 4 && t.layout.shape.every((d, i) => d === c0[i]);
    if (caches.length !== L || ids.layout.shape.length !== 1 || c0[0] !== (prefill ? 1 : B) || c0[1] !== H || c0[3] * H !== D ||
        !caches.every((c) => fits(c.k) && fits(c.v)) || !(s0 >= 0 && s0 < c0[2]) || (pos && pos[0] <= s0)) {
      throw new ShapeError(`${method}: ids [${ids.layout.shape.join(', ')}], ${caches.length} caches like [${c0.join(', ')}] for ${L} ` +
        `blocks, positions [${pos?.join(', ') ?? ''}] at position ${s0} do not fit [B], one [${prefill ? 1 : 'B'}, ${H}, maxLen > ${s0}, ${D}/${H}] ` +
        `pair per block, [P > ${s0}, ${D}]`);
    }
    if (!caches.every(({ k, v }) => f32(k, v) && isContiguous(k.layout) && isContiguous(v.layout))) return null;
    for (let l = 0; l < L; l++) {
      const { k, v } = caches[l];
      const i = 5 + 14 * l;
      args[3 + i] = data(k.storage);
      args[4 + i] = data(v.storage);
      m[STACK_HEAD + i] = k.layout.offset;
      m[STACK_HEAD + i + 1] = v.layout.offset;
    }
    const [idArr, idOff] = idsOf(self, ids);
    m.set([B, D, H, F, L, c0[2], s0, R, V, spec.normFirst ? 1 : 0, geluFlag(spec.activation), w.finalNorm ? 1 : 0, spec.eps,
      w.finalNorm?.eps ?? 0, idOff]);
    const out = output('float32', B * V) as Float32Array;
    args[0] = out;
    args[1] = idArr;
    let r: number;
    try {
      r = positions
        ? ((prefill ? addon.decodeStackPrefill : addon.decodeStackRows) as (...a: unknown[]) => number)(args[0], args[1], positions, ...args.slice(2))
        : (addon.decodeStack as (...a: unknown[]) => number)(...args);
    } finally {
      // The plan outlives the call: it must not keep this call's caches, ids or output alive.
      args[0] = args[1] = null;
      for (let l = 0; l < L; l++) args[8 + 14 * l] = args[9 + 14 * l] = null;
    }
    if (r < 0) throw new ArgumentError(`${method}: id ${idArr[idOff - 1 - r]} at position ${-1 - r} is out of range [0, ${R})`);
    return new NativeStorage(out);
  };
  const backend: NativeBackend = {
    name: 'native',
    addon,
    pool,
    openScope() {
      const scope = pool.openScope();
      return {
        close: (keep) => scope.close([...keep].flatMap((k) => (k instanceof NativeStorage ? [k.data] : []))),
        discard: () => scope.discard(),
      };
    },

    release(s) {
      if (s instanceof NativeStorage) pool.release(s.data);
    },

    threads: () => addon.threads(),
    setThreads: (n) => addon.setThreads(check.checkInt('setThreads', 'n (0: all cores)', n, 0, check.MAX_THREADS)),
    gemmKernel: (name) => (name === undefined ? addon.gemmKernel() : addon.gemmKernel(name)),

    alloc(dtype, length) {
      check.checkAlloc(dtype, length);
      return new NativeStorage(zeros(dtype, length));
    },

    fromArray(src) {
      check.checkArray('fromArray', src);
      return new NativeStorage(src.slice());
    },

    wrapArray(src) {
      check.checkArray('wrapArray', src);
      return new NativeStorage(src);
    },

    toArray(x) {
      check.checkView('toArray', 'x', x);
      const d = data(x.storage);
      if (isContiguous(x.layout)) {
        const start = x.layout.offset;
        return d.slice(start, start + numel(x.layout.shape));
      }
      return data(this.copy(x));
    },

    copy(x, dtype) {
      check.checkCopy(x, dtype);
      const shape = x.layout.shape;
      const out = output(dtype ?? x.storage.dtype, numel(shape));
      addon.copy(out, data(x.storage), meta(shape, [x.layout]));
      return new NativeStorage(out);
    },

    unary(op, x) {
      check.checkUnary(op, x);
      const shape = x.layout.shape;
      const out = output(x.storage.dtype, numel(shape));
      addon.unary(UNARY[op], out, data(x.storage), meta(shape, [x.layout]));
      return new NativeStorage(out);
    },

    binary(op, a, b) {
      check.checkBinary(op, a, b);
      const shape = a.layout.shape;
      const out = output(a.storage.dtype, numel(shape));
      addon.binary(BINARY[op], out, data(a.storage), data(b.storage), meta(shape, [a.layout, b.layout]));
      return new NativeStorage(out);
    },

    where(cond, a, b) {
      check.checkWhere(cond, a, b);
      const shape = a.layout.shape;
      const out = output(a.storage.dtype, numel(shape));
      addon.where(out, data(cond.storage), data(a.storage), data(b.storage), meta(shape, [cond.layout, a.layout, b.layout]));
      return new NativeStorage(out);
    },

    reduce(op, x, axis) {
      check.checkReduce(op, x, axis);
      const shape = x.layout.shape;
      const outShape = shape.map((d, i) => (i === axis ? 1 : d));
      const out = output(op === 'argmax' ? 'int32' : x.storage.dtype, numel(outShape));
      addon.reduce(REDUCE[op], out, data(x.storage), meta(shape, [x.layout]), axis);
      return new NativeStorage(out);
    },

    matmul(a, b) {
      check.checkMatmul(a, b);
      const [N, M, K] = a.layout.shape;
      const P = b.layout.shape[2];
      const sa = a.layout.strides;
      const sb = b.layout.strides;
      const out = output(a.storage.dtype, N * M * P);
      const m = new Float64Array([N, M, K, P, a.layout.offset, sa[0], sa[1], sa[2], b.layout.offset, sb[0], sb[1], sb[2]]);
      addon.matmul(out, data(a.storage), data(b.storage), m);
      return new NativeStorage(out);
    },

    indexSelect(table, ids) {
      check.checkIndexSelect(table, ids);
      const [R, C] = table.layout.shape;
      const n = numel(ids.layout.shape);
      const [idArr, idOff] = idsOf(this, ids);
      const st = table.layout.strides;
      const out = output(table.storage.dtype, n * C);
      const bad = addon.indexSelect(out, data(table.storage), idArr, new Float64Array([R, C, table.layout.offset, st[0], st[1], idOff, 1, n]));
      if (bad >= 0) throw new ArgumentError(`indexSelect: id ${idArr[idOff + bad]} at position ${bad} is out of range [0, ${R})`);
      return new NativeStorage(out);
    },

    indexAdd(src, ids, rows) {
      check.checkIndexAdd(src, ids, rows);
      const C = src.layout.shape[1];
      const n = numel(ids.layout.shape);
      const [idArr, idOff] = idsOf(this, ids);
      const st = src.layout.strides;
      const out = zeros(src.storage.dtype, rows * C);
      const bad = addon.indexAdd(out, data(src.storage), idArr, new Float64Array([rows, C, src.layout.offset, st[0], st[1], idOff, 1, n]));
      if (bad >= 0) throw new ArgumentError(`indexAdd: id ${idArr[idOff + bad]} at position ${bad} is out of range [0, ${rows})`);
      return new NativeStorage(out);
    },

    softmax(x) {
      check.checkSoftmax(x);
      if (x.storage.dtype !== 'float32') return null;
      const shape = x.layout.shape;
      if (shape.length === 0 || shape[shape.length - 1] === 0) return null;
      const out = output('float32', numel(shape)) as Float32Array;
      addon.softmax(out, data(x.storage) as Float32Array, meta(shape, [x.layout]));
      return new NativeStorage(out);
    },

    layerNorm(x, weight, bias, eps) {
      check.checkLayerNorm(x, weight, bias, eps);
      const f32 = (v: View | null) => v === null || v.storage.dtype === 'float32';
      const shape = x.layout.shape;
      if (x.storage.dtype !== 'float32' || !f32(weight) || !f32(bias) || shape.length === 0 || shape[shape.length - 1] === 0) return null;
      const n = numel(shape);
      const rows = n / shape[shape.length - 1];
      const y = output('float32', n) as Float32Array;
      const mean = output('float32', rows) as Float32Array;
      const rstd = output('float32', rows) as Float32Array;
      addon.layerNorm(y, mean, rstd, data(x.storage) as Float32Array, meta(shape, [x.layout]), param(this, weight), param(this, bias), eps);
      return { y: new NativeStorage(y), mean: new NativeStorage(mean), rstd: new NativeStorage(rstd) };
    },

    dropoutMask(n, p, scale, key) {
      check.checkDropoutMask(n, p, scale, key);
      const [k0, k1] = key;
      const mask = output('float32', n) as Float32Array;
      addon.dropoutMask(mask, new Float64Array([n, p * 4294967296, scale, k0 >>> 0, k1 >>> 0]));
      return new NativeStorage(mask);
    },

    layerNormBackward(x, g, mean, rstd, weight) {
      check.checkLayerNormBackward(x, g, mean, rstd, weight);
      const shape = x.layout.shape;
      if (!f32(x, g, weight) || shape.length === 0) return null;
      const n = shape[shape.length - 1];
      const rows = n === 0 ? 0 : numel(shape) / n;
      const xs = rowsOf(this, x);
      const gs = rowsOf(this, g);
      const dx = output('float32', rows * n) as Float32Array;
      const dw = zeros('float32', n) as Float32Array;
      const db = zeros('float32', n) as Float32Array;
      addon.layerNormBackward(dx, dw, db, xs.data, gs.data, data(mean) as Float32Array, data(rstd) as Float32Array, param(this, weight),
        new Float64Array([rows, n, xs.offset, gs.offset]));
      return { dx: new NativeStorage(dx), dweight: new NativeStorage(dw), dbias: new NativeStorage(db) };
    },

    attention(q, k, v, mask, scale, tokenMajor = false) {
      check.checkAttention(q, k, v, mask, scale);
      if (!f32(q, k, v) || q.layout.shape.length !== 4) return null;
      const [qc, kc, vc] = [q, k, v].map((x) => rowsContiguous(this, x));
      const [B, H, T] = q.layout.shape;
      const Vd = v.layout.shape[3];
      const out = new NativeStorage(output('float32', B * H * T * Vd));
      const lse = output('float32', B * H * T) as Float32Array;
      const [md, mv] = maskData(this, mask);
      const o = headsView(out, B, H, T, Vd, tokenMajor);
      addon.attention(out.data as Float32Array, lse, data(qc.storage) as Float32Array, data(kc.storage) as Float32Array, data(vc.storage) as Float32Array, md,
        attentionMeta(qc, kc, vc, mv, scale, [o, o, o, o, o])); // only out's layout is read
      return { out, lse: new NativeStorage(lse) };
    },

    attentionBackward(q, k, v, mask, scale, out, lse, dout, opts = {}) {
      check.checkAttentionBackward(q, k, v, mask, scale, out, lse, dout, opts.into);
      const [qc, kc, vc] = [q, k, v].map((x) => rowsContiguous(this, x));
      // dout's rows apart (a broadcast gradient, rows at stride 0, is copied out); the kernel reads it at its strides.
      const gs = dout.layout.strides;
      const gc = gs[3] === 1 && gs[2] >= dout.layout.shape[3] && gs[1] >= 0 && gs[0] >= 0 ? dout
        : { storage: this.copy(dout), layout: { shape: dout.layout.shape, strides: contiguousStrides(dout.layout.shape), offset: 0 } };
      const [B, H, T, K] = q.layout.shape;
      const S = k.layout.shape[2];
      const Vd = v.layout.shape[3];
      const fresh = (rows: number, d: number) => headsView(new NativeStorage(output('float32', B * H * rows * d)), B, H, rows, d, false);
      const { dq, dk, dv } = opts.into ?? { dq: fresh(T, K), dk: fresh(S, K), dv: fresh(S, Vd) };
      const [md, mv] = maskData(this, mask);
      const o = headsView(out, B, H, T, Vd, opts.tokenMajor ?? false);
      addon.attentionBackward(data(dq.storage) as Float32Array, data(dk.storage) as Float32Array, data(dv.storage) as Float32Array, data(gc.storage) as Float32Array, data(out) as Float32Array, data(lse) as Float32Array,
        data(qc.storage) as Float32Array, data(kc.storage) as Float32Array, data(vc.storage) as Float32Array, md, attentionMeta(qc, kc, vc, mv, scale, [o, gc, dq, dk, dv]));
      return { dq: dq.storage, dk: dk.storage, dv: dv.storage };
    },

    crossEntropy(logits, targets, ignoreIndex, labelSmoothing) {
      check.checkCrossEntropy('crossEntropy', logits, targets, ignoreIndex, labelSmoothing);
      if (!f32(logits) || logits.layout.shape.length !== 2) return null;
      const x = rowsContiguous(this, logits);
      const [N, V] = x.layout.shape;
      const [ids, idOff] = idsOf(this, targets);
      const lse = output('float32', N) as Float32Array;
      const sum = targetErrors(() => addon.crossEntropy(lse, data(x.storage) as Float32Array, ids, new Float64Array([N, V, x.layout.offset, x.layout.strides[0], ignoreIndex, labelSmoothing, idOff])));
      return { sum, lse: new NativeStorage(lse) };
    },

    crossEntropyBackward(logits, targets, lse, ignoreIndex, labelSmoothing, scale) {
      check.checkCrossEntropyBackward(logits, targets, lse, ignoreIndex, labelSmoothing, scale);
      const x = rowsContiguous(this, logits);
      const [N, V] = x.layout.shape;
      const [ids, idOff] = idsOf(this, targets);
      const dx = output('float32', N * V) as Float32Array;
      targetErrors(() => addon.crossEntropyBackward(dx, data(x.storage) as Float32Array, data(lse) as Float32Array, ids,
        new Float64Array([N, V, x.layout.offset, x.layout.strides[0], ignoreIndex, labelSmoothing, idOff, scale])));
      return new NativeStorage(dx);
    },

    gelu(x, approximate) {
      check.checkGelu('gelu', x, approximate);
      if (!f32(x)) return null;
      const n = numel(x.layout.shape);
      const xs = flatF32(this, x);
      const out = output('float32', n) as Float32Array;
      addon.gelu(out, xs, new Float64Array([0, n, approximate === 'tanh' ? 1 : 0]));
      return new NativeStorage(out);
    },

    geluBackward(x, g, approximate) {
      check.checkGelu('geluBackward', x, approximate, g);
      const n = numel(x.layout.shape);
      const dx = output('float32', n) as Float32Array;
      addon.geluBackward(dx, flatF32(this, x), flatF32(this, g), new Float64Array([0, 0, n, approximate === 'tanh' ? 1 : 0]));
      return new NativeStorage(dx);
    },

    adamUpdate(param, grad, m, v, hp) {
      check.checkAdam(param, grad, m, v, hp);
      const n = numel(param.layout.shape);
      if (!f32(param, grad) || m.dtype !== 'float32' || v.dtype !== 'float32' || m.length !== n || v.length !== n || !isContiguous(param.layout)) return false;
      const p = data(param.storage) as Float32Array;
      const g = flatF32(this, grad);
      addon.adam(p, g, data(m) as Float32Array, data(v) as Float32Array, new Float64Array([
        param.layout.offset, 0, n, hp.lr, hp.beta1, hp.beta2, hp.eps, hp.weightDecay, hp.decoupled ? 1 : 0, hp.stepSize, hp.bias2Sqrt,
      ]));
      return true;
    },

    decodeBlock(x, w, k, v, s0, spec) {
      // Called once per block and token: plain loops, no closures. C checks every array against the sizes in meta.
      if (spec.activation === 'gelu_new' && !tanhDecode) return null;
      for (const [name, t] of [['x', x], ['k', k], ['v', v]] as const) check.checkView('decodeBlock', name, t);
      const ws = blockWeightViews(w);
      const m = new Float64Array(24);
      const arrays: (Float32Array | null)[] = [];
      for (let i = 0; i < 15; i++) {
        const t = i === 0 ? x : i === 1 ? k : i === 2 ? v : ws[i - 3];
        if (t === null) { arrays.push(null); continue; }
        if (t.storage.dtype !== 'float32' || !isContiguous(t.layout)) return null;
        arrays.push(data(t.storage) as Float32Array);
        m[9 + i] = t.layout.offset;
      }
      const [B, D] = x.layout.shape;
      const H = spec.heads;
      const [kb, kh, maxLen, kk] = k.layout.shape;
      const fits = (t: View) => t.layout.shape.length === 4 && t.layout.shape.every((d, i) => d === k.layout.shape[i]);
      if (x.layout.shape.length !== 2 || kb !== B || kh !== H || kk * H !== D || !fits(v) || !(s0 >= 0 && s0 < maxLen)) {
        throw new ShapeError(`decodeBlock: x [${x.layout.shape.join(', ')}] and caches [${k.layout.shape.join(', ')}], [${v.layout.shape.join(', ')}] at position ${s0} do not fit [B, D] and [B, ${H}, maxLen > ${s0}, D/${H}]`);
      }
      check.checkBlockWeights('decodeBlock', w, D, w.linear1Weight.layout.shape[0]);
      m.set([B, D, H, w.linear1Weight.layout.shape[0], maxLen, s0, spec.normFirst ? 1 : 0, geluFlag(spec.activation), spec.eps]);
      const out = output('float32', B * D) as Float32Array;
      const a = arrays;
      addon.decodeBlock(out, a[0]!, a[1]!, a[2]!, a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], m);
      return new NativeStorage(out);
    },

    // A Linear layer: C checks every array against the sizes and strides in meta (native/addon.c).
    linear(x, w, bias, activation) {
      check.checkLinear(x, w, bias, activation);
      if (!f32(x, w, bias) || x.layout.shape.length !== 2 || w.layout.shape.length !== 2) return null;
      const [M, K] = x.layout.shape;
      const N = w.layout.shape[0];
      const [xs, ws] = [x.layout.strides, w.layout.strides];
      const y = output('float32', M * N) as Float32Array;
      addon.linear(y, data(x.storage) as Float32Array, data(w.storage) as Float32Array, param(this, bias),
        new Float64Array([M, N, K, x.layout.offset, xs[0], xs[1], w.layout.offset, ws[0], ws[1], 0, activation === 'relu' ? 1 : 0]));
      return new NativeStorage(y);
    },

    linearBackward(x, w, g, y, want) {
      check.checkLinearBackward(x, w, g, y);
      const [M, K] = x.layout.shape;
      const N = w.layout.shape[0];
      const [xs, ws, gs] = [x.layout.strides, w.layout.strides, g.layout.strides];
      const f = (n: number) => output('float32', n) as Float32Array;
      const [dx, dw, db] = [want.dx ? f(M * K) : null, want.dweight ? f(N * K) : null, want.dbias ? f(N) : null];
      const gmask = y ? f(M * N) : null;
      addon.linearBackward(dx, dw, db, data(g.storage) as Float32Array, data(x.storage) as Float32Array, data(w.storage) as Float32Array,
        y ? (data(y) as Float32Array) : null, gmask, new Float64Array([M, N, K, x.layout.offset, xs[0], xs[1], w.layout.offset, ws[0], ws[1], g.layout.offset, gs[0], gs[1]]));
      if (gmask) pool.release(gmask);
      const wrap = (d: Float32Array | null) => (d ? new NativeStorage(d) : null);
      return { dx: wrap(dx), dweight: wrap(dw), dbias: wrap(db) };
    },

    decodeStack(ids, w, caches, s0, spec) {
      return stackStep(this, ids, w, caches, s0, null, spec);
    },

    decodeStackRows(ids, w, caches, positions, spec) {
      if (!addon.decodeStackRows) return null;
      const B = ids.layout.shape[0];
      if (!(positions instanceof Int32Array) || positions.length !== B) {
        throw new ShapeError(`decodeStackRows: positions must be an Int32Array of ${B} (one per row of ids), got ${positions instanceof Int32Array ? positions.length : typeof positions}`);
      }
      let s0 = 0;
      for (let b = 0; b < B; b++) {
        const p = positions[b];
        if (!Number.isInteger(p) || p < 0) throw new ArgumentError(`decodeStackRows: position ${p} of row ${b} is not a position (an integer ≥ 0)`);
        if (p > s0) s0 = p;
      }
      return stackStep(this, ids, w, caches, s0, positions, spec);
    },

    decodeStackPrefill(ids, w, caches, s0, spec) {
      if (!addon.decodeStackPrefill) return null;
      const T = ids.layout.shape[0] ?? 0;
      if (!Number.isInteger(s0) || s0 < 0) throw new ArgumentError(`decodeStackPrefill: start position ${s0} is not a position (an integer ≥ 0)`);
      const positions = new Int32Array(T);
      for (let t = 0; t < T; t++) positions[t] = s0 + t;
      return stackStep(this, ids, w, caches, s0 + T - 1, positions, spec, true);
    },

    assign(dst, src) {
      check.checkAssign(dst, src);
      const d = data(dst.storage);
      let s = data(src.storage);
      let srcLayout = src.layout;
      // Overlapping source and destination: read everything first, as ref does.
      if (s.buffer === d.buffer) {
        s = data(this.copy(src));
        srcLayout = { shape: src.layout.shape, strides: contiguousStrides(src.layout.shape), offset: 0 };
      }
      addon.assign(d, s, meta(dst.layout.shape, [dst.layout, srcLayout]));
    },
  };
  if (opts.fused === false) {
    // Without the fused kernels every op composes from the contract's kernels above: the oracle of the
    // fused ones, and the baseline the benchmarks compare them against.
    for (const name of FUSED_METHODS) delete backend[name];
  }
  return backend;
}

