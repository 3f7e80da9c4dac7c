// How the native backend lends views to C: its storage class, the layout metadata native/addon.c parses,
// and views turned into the contiguous arrays (and offsets) the fused kernels take, copying only when they must.

import { DType, TypedArray, dtypeOf } from '../core/dtype.js';
import { ArgumentError } from '../core/errors.js';
import { Layout, isContiguous } from '../core/layout.js';
import { contiguousStrides, numel } from '../core/shape.js';
import type { Backend, Storage, View } from './backend.js';

/** Native storage is a typed array, as ref's is, but a class of its own so that mixing backends fails loudly. */
export class NativeStorage implements Storage {
  constructor(readonly data: TypedArray) {}
  get dtype(): DType { return dtypeOf(this.data); }
  get length(): number { return this.data.length; }
}

/** A storage's memory; a view's extent is checked at each method's entry (check.ts) before C walks it. */
export function data(s: Storage): TypedArray {
  if (!(s instanceof NativeStorage)) throw new ArgumentError(`native backend: storage from another backend (${s.constructor.name}); move the tensor first`);
  return s.data;
}

/** Runs a cross-entropy kernel, turning C's check of each target (code QKV_BAD_TARGET) into an ArgumentError. */
export function targetErrors<T>(call: () => T): T {
  try { return call(); } catch (e) {
    if ((e as { code?: string }).code === 'QKV_BAD_TARGET') throw new ArgumentError(`backend.${(e as Error).message}`);
    throw e;
  }
}

/** `[ndim, ...shape, (offset, ...strides) per layout]`: what native/addon.c parses. */
export function meta(shape: readonly number[], layouts: readonly Layout[]): Float64Array {
  const nd = shape.length;
  const m = new Float64Array(1 + nd + layouts.length * (1 + nd));
  m[0] = nd;
  for (let d = 0; d < nd; d++) m[1 + d] = shape[d];
  let k = 1 + nd;
  for (const l of layouts) {
    m[k++] = l.offset;
    for (let d = 0; d < nd; d++) m[k++] = l.strides[d];
  }
  return m;
}

/** Ids as a contiguous int32 array and the offset of the first one. */
export function idsOf(backend: Backend, ids: View): [Int32Array, number] {
  const d = data(ids.storage);
  if (d instanceof Int32Array && isContiguous(ids.layout)) return [d, ids.layout.offset];
  return [data(backend.copy(ids, 'int32')) as Int32Array, 0];
}

/** A view whose last axis has stride 1 (the fused kernels' requirement): itself, or a contiguous copy. */
export function rowsContiguous(backend: Backend, v: View): View {
  const l = v.layout;
  const nd = l.shape.length;
  if (nd === 0 || l.strides[nd - 1] === 1 || l.shape[nd - 1] <= 1) return v;
  return { storage: backend.copy(v), layout: { shape: l.shape, strides: contiguousStrides(l.shape), offset: 0 } };
}

/** A contiguous float32 array starting at element 0 holding the view's values (the view's own memory when it can). */
export function flatF32(backend: Backend, v: View): Float32Array {
  const d = data(v.storage) as Float32Array;
  if (isContiguous(v.layout) && v.layout.offset === 0 && d.length === numel(v.layout.shape)) return d;
  return data(backend.copy(v)) as Float32Array;
}

/**
 * A 1-D float32 parameter (LayerNorm's weight or bias) as a plain contiguous array: a subarray of its own
 * memory when its axis has stride 1 (always, for a module's parameters), so no copy per call.
 */
export function param(backend: Backend, v: View | null): Float32Array | null {
  if (v === null) return null;
  const d = data(v.storage) as Float32Array;
  const n = numel(v.layout.shape);
  if (v.layout.shape.length === 1 && (v.layout.strides[0] === 1 || n <= 1)) return d.subarray(v.layout.offset, v.layout.offset + n);
  return data(backend.copy(v)) as Float32Array;
}

/** A view's values as one contiguous run from an offset: its own memory when contiguous, else a copy. */
export function rowsOf(backend: Backend, v: View): { data: Float32Array; offset: number } {
  const d = data(v.storage) as Float32Array;
  if (isContiguous(v.layout)) return { data: d, offset: v.layout.offset };
  return { data: data(backend.copy(v)) as Float32Array, offset: 0 };
}

/** (offset, batch, head, row strides) of a [B, H, rows, d] view. */
export const headStrides = (x: View): number[] => [x.layout.offset, x.layout.strides[0], x.layout.strides[1], x.layout.strides[2]];

/**
 * Attention's metadata: sizes, scale, then (offset, batch, head, row strides) of q, k, v, then the mask's offset and
 * 4 strides, then the same four numbers for out, dout, dq, dk and dv (`rows`; the forward reads only out's).
 */
export function attentionMeta(q: View, k: View, v: View, mask: View | null, scale: number, rows: [View, View, View, View, View]): Float64Array {
  const [B, H, T, K] = q.layout.shape;
  const m = new Float64Array(44); // written in place: no spread arrays, once per attention call
  m[0] = B; m[1] = H; m[2] = T; m[3] = k.layout.shape[2]; m[4] = K; m[5] = v.layout.shape[3]; m[6] = scale;
  putHeadStrides(m, 7, q);
  putHeadStrides(m, 11, k);
  putHeadStrides(m, 15, v);
  if (mask) {
    m[19] = mask.layout.offset;
    for (let i = 0; i < 4; i++) m[20 + i] = mask.layout.strides[i];
  }
  for (let i = 0; i < 5; i++) putHeadStrides(m, 24 + 4 * i, rows[i]);
  return m;
}

/** headStrides(x) into m at `at`. */
function putHeadStrides(m: Float64Array, at: number, x: View): void {
  const st = x.layout.strides;
  m[at] = x.layout.offset; m[at + 1] = st[0]; m[at + 2] = st[1]; m[at + 3] = st[2];
}

/** [B, H, rows, d] over storage laid out [B, H, rows, d] (head-major) or [B, rows, H, d] (token-major). */
export function headsView(storage: Storage, B: number, H: number, rows: number, d: number, tokenMajor: boolean): View {
  const strides = tokenMajor ? [rows * H * d, d, H * d, 1] : [H * rows * d, rows * d, d, 1];
  return { storage, layout: { shape: [B, H, rows, d], strides, offset: 0 } };
}

/** The mask's memory: float32 or int32 as stored, any other dtype cast to float32 (layout then contiguous). */
export function maskData(backend: Backend, mask: View | null): [Float32Array | Int32Array | null, View | null] {
  if (!mask) return [null, null];
  const d = data(mask.storage);
  if (d instanceof Float32Array || d instanceof Int32Array) return [d, mask];
  const shape = mask.layout.shape;
  return [data(backend.copy(mask, 'float32')) as Float32Array, { storage: mask.storage, layout: { shape, strides: contiguousStrides(shape), offset: 0 } }];
}
