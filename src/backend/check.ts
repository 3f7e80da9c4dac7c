// The backend contract's preconditions, checked once for every backend (ref, native, ...) at each entry point.
//
// A kernel loops over the shape the contract says it walks (binary: a's shape; matmul: [N, M, K]·[N, K, P]),
// not over each operand's own shape, so each operand is checked against that shape, and then every element it
// addresses against its storage. A broken precondition throws a typed error naming the method, the operand,
// what was expected and what came; nothing reaches C that could read or write past an array's end. Every check
// is O(ndim) per operand; id ranges are checked inside the kernels' own loops (ref in TS, native in C).

import type { DType } from '../core/dtype.js';
import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../core/errors.js';
import type { Layout } from '../core/layout.js';
import type { AdamHyper, BinaryOp, BlockWeights, ReduceOp, Storage, UnaryOp, View } from './backend.js';

/** The most axes a view may have: native/strided.h's QKV_MAXDIM. */
export const MAX_DIMS = 16;
/** The most elements one storage or kernel output may hold (2³² − 1: what a typed array and C's int64 sizes take). */
export const MAX_ELEMENTS = 2 ** 32 - 1;

/** The most kernel threads a backend runs (native/pool.c's MAX_THREADS): setThreads above it throws. */
export const MAX_THREADS = 256;

const DTYPES: readonly DType[] = ['float32', 'float64', 'int32'];
const UNARY: readonly UnaryOp[] = ['neg', 'exp', 'log', 'sqrt', 'tanh', 'relu', 'step', 'erf', 'abs', 'recip'];
const BINARY: readonly BinaryOp[] = ['add', 'sub', 'mul', 'div', 'pow', 'max', 'min', 'eq', 'lt', 'gt'];
const REDUCE: readonly ReduceOp[] = ['sum', 'max', 'argmax'];

const isInt = (x: unknown): x is number => Number.isInteger(x);

function fail(method: string, what: string): never {
  throw new ArgumentError(`backend.${method}: ${what}`);
}

/** A whole number in [lo, hi]. */
export function checkInt(method: string, name: string, x: unknown, lo: number, hi = MAX_ELEMENTS): number {
  if (!isInt(x) || x < lo || x > hi) fail(method, `${name} is ${String(x)}, expected a whole number in [${lo}, ${hi}]`);
  return x;
}

/** A finite number. */
export function checkFinite(method: string, name: string, x: unknown): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) fail(method, `${name} is ${String(x)}, expected a finite number`);
  return x;
}

/** A dtype qkv stores. */
export function checkDType(method: string, name: string, dtype: unknown): DType {
  if (!DTYPES.includes(dtype as DType)) throw new DTypeError(`backend.${method}: ${name} is ${String(dtype)}, expected one of ${DTYPES.join(', ')}`);
  return dtype as DType;
}

/** One of a fixed set of names (an op code, an approximation). */
export function checkChoice<T extends string>(method: string, name: string, x: unknown, choices: readonly T[]): T {
  if (!choices.includes(x as T)) fail(method, `${name} is ${String(x)}, expected one of ${choices.join(', ')}`);
  return x as T;
}

/** Elements of a shape, checked against MAX_ELEMENTS. */
function sizeOf(method: string, name: string, shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  if (n > MAX_ELEMENTS) fail(method, `${name} has shape ${fmtShape(shape)} of ${n} elements, more than the ${MAX_ELEMENTS} a kernel takes`);
  return n;
}

/**
 * A well-formed view: integer shape (≥ 0), strides and offset (≥ 0), as many strides as axes, at most MAX_DIMS
 * axes, a dtype qkv stores, and every element it addresses inside its storage. When `shape` is given, the view
 * must have exactly that shape (the one the kernel walks). Returns the view's element count.
 */
export function checkView(method: string, name: string, v: View | null | undefined, shape?: readonly number[]): number {
  if (v === null || v === undefined || typeof v !== 'object' || !v.layout || !v.storage) fail(method, `${name} is ${String(v)}, expected a view (storage and layout)`);
  const l: Layout = v.layout;
  const s = l.shape;
  const st = l.strides;
  if (!Array.isArray(s) || !Array.isArray(st) || s.length !== st.length) {
    throw new ShapeError(`backend.${method}: ${name} has shape ${String(s && fmtShape(s))} and strides ${String(st && fmtShape(st))}, expected one stride per axis`);
  }
  if (s.length > MAX_DIMS) throw new ShapeError(`backend.${method}: ${name} has ${s.length} axes ${fmtShape(s)}, expected at most ${MAX_DIMS}`);
  for (let d = 0; d < s.length; d++) {
    if (!isInt(s[d]) || s[d] < 0) throw new ShapeError(`backend.${method}: ${name} has shape ${fmtShape(s)}, expected whole sizes >= 0`);
    if (!isInt(st[d]) || Math.abs(st[d]) > MAX_ELEMENTS) throw new ShapeError(`backend.${method}: ${name} has strides ${fmtShape(st)}, expected whole numbers`);
  }
  if (!isInt(l.offset) || l.offset < 0) fail(method, `${name} has offset ${String(l.offset)}, expected a whole number >= 0`);
  checkDType(method, `${name}'s dtype`, v.storage.dtype);
  if (shape && (shape.length !== s.length || shape.some((d, i) => d !== s[i]))) {
    throw new ShapeError(`backend.${method}: ${name} has shape ${fmtShape(s)}, expected ${fmtShape(shape)}`);
  }
  const n = sizeOf(method, name, s);
  if (n === 0) return 0;
  let lo = l.offset;
  let hi = l.offset;
  for (let d = 0; d < s.length; d++) {
    const span = (s[d] - 1) * st[d];
    if (span < 0) lo += span;
    else hi += span;
  }
  if (lo < 0 || hi >= v.storage.length) {
    fail(method, `${name} of shape ${fmtShape(s)}, strides ${fmtShape(st)}, offset ${l.offset} reaches element ${lo < 0 ? lo : hi}, outside its storage of ${v.storage.length}`);
  }
  return n;
}

/** A view of an exact rank; returns its shape. */
function checkRank(method: string, name: string, v: View, rank: number, letters: string): readonly number[] {
  checkView(method, name, v);
  const s = v.layout.shape;
  if (s.length !== rank) throw new ShapeError(`backend.${method}: ${name} has shape ${fmtShape(s)}, expected ${rank}-D ${letters}`);
  return s;
}

function checkSameDType(method: string, names: string, views: readonly (View | null)[]): void {
  const ds = views.filter((v): v is View => v !== null).map((v) => v.storage.dtype);
  if (ds.some((d) => d !== ds[0])) throw new DTypeError(`backend.${method}: ${names} have dtypes ${ds.join(', ')}, expected one dtype`);
}

/** A storage of a dtype holding exactly `n` values (a forward's saved statistics). */
function checkStorage(method: string, name: string, s: Storage, dtype: DType, n: number): void {
  if (!s || typeof s !== 'object') fail(method, `${name} is ${String(s)}, expected a storage`);
  if (s.dtype !== dtype) throw new DTypeError(`backend.${method}: ${name} is ${s.dtype}, expected ${dtype}`);
  if (s.length < n) fail(method, `${name} holds ${s.length} values, expected ${n}`);
}

// One check per contract method, in backend.ts's order.

export function checkAlloc(dtype: DType, length: number): void {
  checkDType('alloc', 'dtype', dtype);
  checkInt('alloc', 'length', length, 0);
}

/** A typed array of a dtype qkv stores (fromArray, wrapArray). */
export function checkArray(method: string, data: unknown): void {
  if (!(data instanceof Float32Array || data instanceof Float64Array || data instanceof Int32Array)) {
    throw new DTypeError(`backend.${method}: data is ${(data as object)?.constructor?.name ?? String(data)}, expected a Float32Array, Float64Array or Int32Array`);
  }
}

export function checkCopy(x: View, dtype: DType | undefined): void {
  checkView('copy', 'x', x);
  if (dtype !== undefined) checkDType('copy', 'dtype', dtype);
}

export function checkUnary(op: UnaryOp, x: View): void {
  checkChoice('unary', 'op', op, UNARY);
  checkView('unary', 'x', x);
}

/** a and b walk a's shape: b must have it too (broadcasting is zero strides, made by the caller). */
export function checkBinary(op: BinaryOp, a: View, b: View): void {
  checkChoice('binary', 'op', op, BINARY);
  checkView('binary', 'a', a);
  checkView('binary', 'b', b, a.layout.shape);
  checkSameDType('binary', 'a and b', [a, b]);
}

export function checkWhere(cond: View, a: View, b: View): void {
  checkView('where', 'a', a);
  checkView('where', 'cond', cond, a.layout.shape);
  checkView('where', 'b', b, a.layout.shape);
  checkSameDType('where', 'a and b', [a, b]);
}

export function checkReduce(op: ReduceOp, x: View, axis: number): void {
  checkChoice('reduce', 'op', op, REDUCE);
  checkView('reduce', 'x', x);
  checkInt('reduce', `axis (of ${fmtShape(x.layout.shape)})`, axis, 0, x.layout.shape.length - 1);
}

/** a [N, M, K] · b [N, K, P]. */
export function checkMatmul(a: View, b: View): void {
  const [N, , K] = checkRank('matmul', 'a', a, 3, '[N, M, K]');
  const sb = checkRank('matmul', 'b', b, 3, '[N, K, P]');
  if (sb[0] !== N || sb[1] !== K) throw new ShapeError(`backend.matmul: b has shape ${fmtShape(sb)}, expected [${N}, ${K}, P] to follow a ${fmtShape(a.layout.shape)}`);
  checkSameDType('matmul', 'a and b', [a, b]);
  sizeOf('matmul', 'the output', [N, a.layout.shape[1], sb[2]]);
}

function checkIds(method: string, ids: View): number {
  const n = checkView(method, 'ids', ids);
  if (ids.storage.dtype !== 'int32') throw new DTypeError(`backend.${method}: ids are ${ids.storage.dtype}, expected int32`);
  return n;
}

/** table [R, C], int32 ids of any shape; the ids' range is checked in the kernel's loop. */
export function checkIndexSelect(table: View, ids: View): void {
  const [, C] = checkRank('indexSelect', 'table', table, 2, '[R, C]');
  const n = checkIds('indexSelect', ids);
  sizeOf('indexSelect', 'the output', [n, C]);
}

/** src [N, C] with N the ids' count, rows ≥ 0; the ids' range is checked in the kernel's loop. */
export function checkIndexAdd(src: View, ids: View, rows: number): void {
  const [N, C] = checkRank('indexAdd', 'src', src, 2, '[N, C]');
  const n = checkIds('indexAdd', ids);
  if (n !== N) throw new ShapeError(`backend.indexAdd: src has shape ${fmtShape(src.layout.shape)}, expected [${n}, C] (one row per id)`);
  checkInt('indexAdd', 'rows', rows, 0);
  sizeOf('indexAdd', 'the output', [rows, C]);
}

export function checkAssign(dst: View, src: View): void {
  checkView('assign', 'dst', dst);
  checkView('assign', 'src', src, dst.layout.shape);
}

/** An optional last-axis parameter (LayerNorm's weight or bias): null or [n]. */
function checkParam(method: string, name: string, p: View | null, n: number): void {
  if (p !== null) checkView(method, name, p, [n]);
}

export function checkSoftmax(x: View): void {
  checkView('softmax', 'x', x);
}

export function checkLayerNorm(x: View, weight: View | null, bias: View | null, eps: number): void {
  checkView('layerNorm', 'x', x);
  const s = x.layout.shape;
  if (s.length === 0) throw new ShapeError(`backend.layerNorm: x has shape [], expected at least one axis`);
  checkParam('layerNorm', 'weight', weight, s[s.length - 1]);
  checkParam('layerNorm', 'bias', bias, s[s.length - 1]);
  if (checkFinite('layerNorm', 'eps', eps) < 0) fail('layerNorm', `eps is ${eps}, expected >= 0`);
}

export function checkDropoutMask(n: number, p: number, scale: number, key: readonly [number, number]): void {
  checkInt('dropoutMask', 'n', n, 0);
  if (checkFinite('dropoutMask', 'p', p) < 0 || p > 1) fail('dropoutMask', `p is ${p}, expected a probability in [0, 1]`);
  checkFinite('dropoutMask', 'scale', scale);
  if (!Array.isArray(key) || key.length !== 2 || !key.every(isInt)) fail('dropoutMask', `key is ${String(key)}, expected two whole numbers`);
}

export function checkLayerNormBackward(x: View, g: View, mean: Storage, rstd: Storage, weight: View | null): void {
  checkView('layerNormBackward', 'x', x);
  const s = x.layout.shape;
  if (s.length === 0) throw new ShapeError(`backend.layerNormBackward: x has shape [], expected at least one axis`);
  checkView('layerNormBackward', 'g', g, s);
  const n = s[s.length - 1];
  const rows = n === 0 ? 0 : sizeOf('layerNormBackward', 'x', s) / n;
  checkStorage('layerNormBackward', 'mean', mean, 'float32', rows);
  checkStorage('layerNormBackward', 'rstd', rstd, 'float32', rows);
  checkParam('layerNormBackward', 'weight', weight, n);
}

/** q [B, H, T, K], k [B, H, S, K], v [B, H, S, Vd], mask null or [B, H, T, S]; returns [B, H, T, S, K, Vd]. */
function checkAttentionViews(method: string, q: View, k: View, v: View, mask: View | null, scale: number): number[] {
  const [B, H, T, K] = checkRank(method, 'q', q, 4, '[B, H, T, K]');
  const sk = checkRank(method, 'k', k, 4, '[B, H, S, K]');
  const S = sk[2];
  checkView(method, 'k', k, [B, H, S, K]);
  const Vd = checkRank(method, 'v', v, 4, '[B, H, S, Vd]')[3];
  checkView(method, 'v', v, [B, H, S, Vd]);
  if (mask !== null) checkView(method, 'mask', mask, [B, H, T, S]);
  checkFinite(method, 'scale', scale);
  return [B, H, T, S, K, Vd];
}

export function checkAttention(q: View, k: View, v: View, mask: View | null, scale: number): void {
  const [B, H, T, , , Vd] = checkAttentionViews('attention', q, k, v, mask, scale);
  sizeOf('attention', 'the output', [B, H, T, Vd]);
}

export function checkAttentionBackward(q: View, k: View, v: View, mask: View | null, scale: number, out: Storage, lse: Storage, dout: View,
  into?: { dq: View; dk: View; dv: View }): void {
  const m = 'attentionBackward';
  const [B, H, T, S, K, Vd] = checkAttentionViews(m, q, k, v, mask, scale);
  checkStorage(m, 'out', out, 'float32', B * H * T * Vd);
  checkStorage(m, 'lse', lse, 'float32', B * H * T);
  checkView(m, 'dout', dout, [B, H, T, Vd]);
  if (into) {
    checkView(m, 'into.dq', into.dq, [B, H, T, K]);
    checkView(m, 'into.dk', into.dk, [B, H, S, K]);
    checkView(m, 'into.dv', into.dv, [B, H, S, Vd]);
  }
}

/** logits [N, V], int32 targets of N values; each target's range (or ignoreIndex) is checked in the kernel's loop. */
export function checkCrossEntropy(method: string, logits: View, targets: View, ignoreIndex: number, labelSmoothing: number): void {
  const [N] = checkRank(method, 'logits', logits, 2, '[N, V]');
  const n = checkIds(method, targets);
  if (n !== N) throw new ShapeError(`backend.${method}: targets have shape ${fmtShape(targets.layout.shape)}, expected ${N} values (one per row of logits ${fmtShape(logits.layout.shape)})`);
  checkInt(method, 'ignoreIndex', ignoreIndex, -(2 ** 31), 2 ** 31 - 1);
  if (checkFinite(method, 'labelSmoothing', labelSmoothing) < 0 || labelSmoothing > 1) fail(method, `labelSmoothing is ${labelSmoothing}, expected a number in [0, 1]`);
}

export function checkCrossEntropyBackward(logits: View, targets: View, lse: Storage, ignoreIndex: number, labelSmoothing: number, scale: number): void {
  checkCrossEntropy('crossEntropyBackward', logits, targets, ignoreIndex, labelSmoothing);
  checkStorage('crossEntropyBackward', 'lse', lse, 'float32', logits.layout.shape[0]);
  checkFinite('crossEntropyBackward', 'scale', scale);
}

export function checkGelu(method: string, x: View, approximate: string, g?: View): void {
  checkView(method, 'x', x);
  if (g !== undefined) checkView(method, 'g', g, x.layout.shape);
  checkChoice(method, 'approximate', approximate, ['none', 'tanh']);
}

export function checkAdam(param: View, grad: View, m: Storage, v: Storage, hp: AdamHyper): void {
  const n = checkView('adamUpdate', 'param', param);
  checkView('adamUpdate', 'grad', grad, param.layout.shape);
  checkStorage('adamUpdate', 'm', m, param.storage.dtype, n);
  checkStorage('adamUpdate', 'v', v, param.storage.dtype, n);
  if (!hp || typeof hp !== 'object') fail('adamUpdate', `hyper-parameters are ${String(hp)}, expected an object`);
  for (const k of ['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'stepSize', 'bias2Sqrt'] as const) checkFinite('adamUpdate', k, hp[k]);
}

/** x [M, K], weight [N, K], bias null or [N]; returns [M, N, K]. */
export function checkLinear(x: View, weight: View, bias: View | null, activation: string): number[] {
  const [M, K] = checkRank('linear', 'x', x, 2, '[M, K]');
  const N = checkRank('linear', 'weight', weight, 2, '[N, K]')[0];
  checkView('linear', 'weight', weight, [N, K]);
  checkParam('linear', 'bias', bias, N);
  checkChoice('linear', 'activation', activation, ['none', 'relu']);
  sizeOf('linear', 'the output', [M, N]);
  return [M, N, K];
}

/** A block's weights against [B, D] rows and an FFN width F: torch.nn.TransformerEncoderLayer's shapes. */
export function checkBlockWeights(method: string, w: BlockWeights, D: number, F: number): void {
  const want: [keyof BlockWeights, number[]][] = [['inProjWeight', [3 * D, D]], ['inProjBias', [3 * D]], ['outProjWeight', [D, D]],
    ['outProjBias', [D]], ['norm1Weight', [D]], ['norm1Bias', [D]], ['norm2Weight', [D]], ['norm2Bias', [D]], ['linear1Weight', [F, D]],
    ['linear1Bias', [F]], ['linear2Weight', [D, F]], ['linear2Bias', [D]]];
  for (const [name, shape] of want) {
    const t = w[name];
    if (t !== null) checkView(method, name, t, shape);
  }
}

export function checkLinearBackward(x: View, weight: View, g: View, y: Storage | null): void {
  const [M, K] = checkRank('linearBackward', 'x', x, 2, '[M, K]');
  const N = checkRank('linearBackward', 'weight', weight, 2, '[N, K]')[0];
  checkView('linearBackward', 'weight', weight, [N, K]);
  checkView('linearBackward', 'g', g, [M, N]);
  if (y !== null) checkStorage('linearBackward', 'y', y, 'float32', M * N);
}
