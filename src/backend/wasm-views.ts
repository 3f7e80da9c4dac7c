// How the wasm backend hands views to its kernels: storages as (address, dtype, length) arguments, metadata
// in the module's scratch region, and views made contiguous (copied) only where a kernel needs it.

import type { DType } from '../core/dtype.js';
import { ArgumentError } from '../core/errors.js';
import { isContiguous } from '../core/layout.js';
import { contiguousStrides, numel } from '../core/shape.js';
import type { Backend, Storage, View } from './backend.js';
import { DT, WasmMemory, WasmStorage } from './wasm-memory.js';
import { WasmExports, checkStatus } from './wasm-module.js';

/** What the wasm backend's methods share: the module, its memory, and the argument builders below. */
export class WasmCalls {
  constructor(readonly ex: WasmExports, readonly mem: WasmMemory) {}

  /** The wasm storage behind s (from this backend). */
  s(s: Storage): WasmStorage {
    if (!(s instanceof WasmStorage) || s.memory !== this.mem) {
      throw new ArgumentError(`wasm backend: storage from another backend (${s?.constructor?.name ?? String(s)}); move the tensor first`);
    }
    return s;
  }

  /** (address, dtype code, elements) of any storage. */
  buf(s: Storage): [number, number, number] {
    const w = this.s(s);
    return [this.mem.ptr(w), DT[w.dtype], w.length];
  }

  /** (address, elements) of a float32 storage, or (0, 0) for none. */
  f32(s: Storage | null): [number, number] {
    if (s === null) return [0, 0];
    const w = this.s(s);
    return [this.mem.ptr(w), w.length];
  }

  /** (address of the view's first element, elements from there) of a float32 view: a parameter passed as a plain array. */
  at(v: View | null): [number, number] {
    if (v === null) return [0, 0];
    const w = this.s(v.storage);
    return [this.mem.ptr(w) + 4 * v.layout.offset, w.length - v.layout.offset];
  }

  /** An output every element of which the kernel writes. */
  out(dtype: DType, n: number): WasmStorage {
    return this.mem.alloc(dtype, n, false);
  }

  /** A zero-filled output (the kernel accumulates into it). */
  zeros(dtype: DType, n: number): WasmStorage {
    return this.mem.alloc(dtype, n, true);
  }

  /** Metadata written for the next kernel call: (address, count). Build every other argument first (a nested call rewrites it). */
  meta(m: ArrayLike<number>, at = 0): [number, number] {
    return [this.mem.writeMeta(m, at), m.length];
  }

  /** Throws unless a kernel's status is ok. */
  check(kernel: string, status: number): void {
    checkStatus(kernel, status);
  }

  /** Frees a temporary made by the method now running (a contiguous copy), unless it is the caller's own storage. */
  drop(made: View, original: View): void {
    if (made.storage !== original.storage) this.mem.free(this.s(made.storage));
  }
}

/** A view whose last axis has stride 1 (the fused kernels' requirement): itself, or a contiguous copy. */
export function rowsContiguous(backend: Backend, v: View): View {
  const l = v.layout;
  const nd = l.shape.length;
  if (nd === 0 || l.strides[nd - 1] === 1 || l.shape[nd - 1] <= 1) return v;
  return contiguousCopy(backend, v);
}

/** A contiguous view over a copy of v. */
export function contiguousCopy(backend: Backend, v: View, dtype?: DType): View {
  return { storage: backend.copy(v, dtype), layout: { shape: v.layout.shape, strides: contiguousStrides(v.layout.shape), offset: 0 } };
}

/** A contiguous view of v's values: itself when it is contiguous, else a copy. */
export function contiguous(backend: Backend, v: View): View {
  return isContiguous(v.layout) ? v : contiguousCopy(backend, v);
}

/** Ids as a contiguous int32 view (a copy when they are another dtype or strided). */
export function idsView(backend: Backend, ids: View): View {
  return ids.storage.dtype === 'int32' && isContiguous(ids.layout) ? ids : contiguousCopy(backend, ids, 'int32');
}

/** A flat, contiguous, float32 view of v's values (copied when v is strided or another dtype). */
export function flatF32(backend: Backend, v: View): View {
  const n = numel(v.layout.shape);
  const flat = (x: View): View => ({ storage: x.storage, layout: { shape: [n], strides: [1], offset: x.layout.offset } });
  if (v.storage.dtype === 'float32' && isContiguous(v.layout)) return flat(v);
  return flat(contiguousCopy(backend, v, 'float32'));
}
