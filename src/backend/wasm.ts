// The wasm backend: native/'s C kernels compiled to WebAssembly (SIMD128), with tensor storage in the module's memory.
//
// It runs wherever WebAssembly does (Node, browsers, workers) and is built like the native backend: this file
// adapts the module's exports (native/wasm/exports*.c) to the Backend contract, wasm-fused.ts adds the fused
// kernels, wasm-memory.ts owns the memory. The module comes from the caller (bytes, a compiled Module, or a URL
// to fetch); src/node/wasm.ts reads the one the package ships. Single-threaded.

import { dtypeOf } from '../core/dtype.js';
import { ArgumentError } from '../core/errors.js';
import { isContiguous } from '../core/layout.js';
import { numel } from '../core/shape.js';
import type { Backend, BinaryOp, ReduceOp, UnaryOp } from './backend.js';
import * as check from './check.js';
import { meta } from './native-views.js';
import { fusedMethods, FUSED_METHODS } from './wasm-fused.js';
import { WasmMemory, WasmMemoryOptions, WasmStorage } from './wasm-memory.js';
import { InstantiateOptions, WasmExports, WasmSource, instantiate, instantiateSync, readCString } from './wasm-module.js';
import { WasmCalls, contiguousCopy, idsView } from './wasm-views.js';

export { WasmError } from './wasm-module.js';
export type { InstantiateOptions, WasmExports, WasmSource } from './wasm-module.js';
export { hasRelaxedSimd } from './wasm-fma.js';
export type { WasmMemory, WasmMemoryOptions, WasmBlock } from './wasm-memory.js';

/** The Backend contract plus what only the wasm backend has. */
export interface WasmBackend extends Backend {
  /** The module's exports (benchmarks and tests call kernels directly). */
  readonly exports: WasmExports;
  /** The module's memory as tensor storage: resident bytes, the budget, how often storages were moved out. */
  readonly memory: WasmMemory;
  /** 1: the module runs on the calling thread. */
  threads(): number;
  /** The sgemm micro-kernel in use: 'simd128-fma' (relaxed SIMD's FMA) or 'simd128' (mul + add). */
  gemmKernel(): string;
}

/** Options of {@link createWasmBackend}. */
export interface WasmOptions extends WasmMemoryOptions {
  /** Use the fused kernels (softmax, layer norm, attention, ...; default true); `false` gives the composed ops, as native's option. */
  fused?: boolean;
}

// Op codes: the order of the enums in native/kernels.h.
const UNARY: Record<UnaryOp, number> = { neg: 0, exp: 1, log: 2, sqrt: 3, tanh: 4, relu: 5, step: 6, erf: 7, abs: 8, recip: 9 };
const BINARY: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3, pow: 4, max: 5, min: 6, eq: 7, lt: 8, gt: 9 };
const REDUCE: Record<ReduceOp, number> = { sum: 0, max: 1, argmax: 2 };

/**
 * Wraps an instantiated module (see {@link instantiateWasm}) as a Backend. In Node, `loadWasmBackend()` of 'qkv' does
 * both with the qkv.wasm the package ships.
 *
 * @example
 * import { createWasmBackend, instantiateWasm } from 'qkv';
 * const wasm = createWasmBackend(await instantiateWasm(await fetch('/qkv.wasm')));
 * const y = matmul(randn([64, 64], new Rng(0), { backend: wasm }), randn([64, 64], new Rng(1), { backend: wasm }));
 */
export function createWasmBackend(ex: WasmExports, opts: WasmOptions = {}): WasmBackend {
  const mem = new WasmMemory(ex, opts);
  const c = new WasmCalls(ex, mem);
  const kernel = readCString(ex, ex.qkv_w_gemm_kernel());
  const backend: WasmBackend = {
    name: 'wasm',
    exports: ex,
    memory: mem,
    threads: () => 1,
    gemmKernel: () => kernel,
    openScope: () => mem.openScope(),
    release: (s) => mem.release(s),

    alloc(dtype, length) {
      check.checkAlloc(dtype, length);
      return c.zeros(dtype, length);
    },

    fromArray(src) {
      check.checkArray('fromArray', src);
      const s = c.out(dtypeOf(src), src.length);
      mem.view(s).set(src);
      return s;
    },

    // Zero-copy only for an array that lies in the module's own memory; any other array is copied in (the
    // kernels can read nothing else), so later writes through it do not reach the storage.
    wrapArray(src) {
      check.checkArray('wrapArray', src);
      if (src.buffer === ex.memory.buffer) return mem.foreign(dtypeOf(src), src.length, src.byteOffset);
      return this.fromArray(src);
    },

    toArray(x) {
      check.checkView('toArray', 'x', x);
      const w = c.s(x.storage);
      if (isContiguous(x.layout)) {
        const start = x.layout.offset;
        return mem.view(w).slice(start, start + numel(x.layout.shape));
      }
      const tmp = c.s(this.copy(x));
      const values = mem.view(tmp).slice();
      mem.free(tmp);
      return values;
    },

    copy(x, dtype) {
      check.checkCopy(x, dtype);
      const shape = x.layout.shape;
      const out = c.out(dtype ?? x.storage.dtype, numel(shape));
      c.check('copy', ex.qkv_w_copy(...c.buf(out), ...c.buf(x.storage), ...c.meta(meta(shape, [x.layout]))));
      return out;
    },

    unary(op, x) {
      check.checkUnary(op, x);
      const shape = x.layout.shape;
      const out = c.out(x.storage.dtype, numel(shape));
      c.check('unary', ex.qkv_w_unary(UNARY[op], ...c.buf(out), ...c.buf(x.storage), ...c.meta(meta(shape, [x.layout]))));
      return out;
    },

    binary(op, a, b) {
      check.checkBinary(op, a, b);
      const shape = a.layout.shape;
      const out = c.out(a.storage.dtype, numel(shape));
      c.check('binary', ex.qkv_w_binary(BINARY[op], ...c.buf(out), ...c.buf(a.storage), ...c.buf(b.storage), ...c.meta(meta(shape, [a.layout, b.layout]))));
      return out;
    },

    where(cond, a, b) {
      check.checkWhere(cond, a, b);
      const shape = a.layout.shape;
      const out = c.out(a.storage.dtype, numel(shape));
      c.check('where', ex.qkv_w_where(...c.buf(out), ...c.buf(cond.storage), ...c.buf(a.storage), ...c.buf(b.storage),
        ...c.meta(meta(shape, [cond.layout, a.layout, b.layout]))));
      return out;
    },

    reduce(op, x, axis) {
      check.checkReduce(op, x, axis);
      const shape = x.layout.shape;
      const outShape = shape.map((d, i) => (i === axis ? 1 : d));
      const out = c.out(op === 'argmax' ? 'int32' : x.storage.dtype, numel(outShape));
      c.check('reduce', ex.qkv_w_reduce(REDUCE[op], ...c.buf(out), ...c.buf(x.storage), ...c.meta(meta(shape, [x.layout])), axis));
      return out;
    },

    matmul(a, b) {
      check.checkMatmul(a, b);
      const [N, M, K] = a.layout.shape;
      const P = b.layout.shape[2];
      const sa = a.layout.strides;
      const sb = b.layout.strides;
      const out = c.out(a.storage.dtype, N * M * P);
      const m = [N, M, K, P, a.layout.offset, sa[0], sa[1], sa[2], b.layout.offset, sb[0], sb[1], sb[2]];
      c.check('matmul', ex.qkv_w_matmul(...c.buf(out), ...c.buf(a.storage), ...c.buf(b.storage), ...c.meta(m)));
      return out;
    },

    indexSelect(table, ids) {
      check.checkIndexSelect(table, ids);
      const [R, C] = table.layout.shape;
      const n = numel(ids.layout.shape);
      const iv = idsView(this, ids);
      const st = table.layout.strides;
      const out = c.out(table.storage.dtype, n * C);
      const [ip, il] = c.f32(iv.storage);
      c.check('indexSelect', ex.qkv_w_index_select(...c.buf(out), ...c.buf(table.storage), ip, il, ...c.meta([R, C, table.layout.offset, st[0], st[1], iv.layout.offset, 1, n])));
      const bad = ex.qkv_w_result_index();
      const badId = bad >= 0 ? mem.view(c.s(iv.storage))[iv.layout.offset + bad] : 0;
      c.drop(iv, ids);
      if (bad >= 0) throw new ArgumentError(`indexSelect: id ${badId} at position ${bad} is out of range [0, ${R})`);
      return out;
    },

    indexAdd(src, ids, rows) {
      check.checkIndexAdd(src, ids, rows);
      const C = src.layout.shape[1];
      const n = numel(ids.layout.shape);
      const iv = idsView(this, ids);
      const st = src.layout.strides;
      const out = c.zeros(src.storage.dtype, rows * C);
      const [ip, il] = c.f32(iv.storage);
      c.check('indexAdd', ex.qkv_w_index_add(...c.buf(out), ...c.buf(src.storage), ip, il, ...c.meta([rows, C, src.layout.offset, st[0], st[1], iv.layout.offset, 1, n])));
      const bad = ex.qkv_w_result_index();
      const badId = bad >= 0 ? mem.view(c.s(iv.storage))[iv.layout.offset + bad] : 0;
      c.drop(iv, ids);
      if (bad >= 0) throw new ArgumentError(`indexAdd: id ${badId} at position ${bad} is out of range [0, ${rows})`);
      return out;
    },

    assign(dst, src) {
      check.checkAssign(dst, src);
      // Overlapping source and destination: read everything first, as ref does.
      const s = src.storage === dst.storage ? contiguousCopy(this, src) : src;
      c.check('assign', ex.qkv_w_assign(...c.buf(dst.storage), ...c.buf(s.storage), ...c.meta(meta(dst.layout.shape, [dst.layout, s.layout]))));
      c.drop(s, src);
    },

    ...fusedMethods(c),
  };
  if (opts.fused === false) for (const name of FUSED_METHODS) delete backend[name];
  // Every method runs as one kernel call of the memory: what it touches stays resident until it returns.
  for (const [name, f] of Object.entries(backend)) {
    if (typeof f !== 'function' || name === 'threads' || name === 'gemmKernel') continue;
    (backend as unknown as Record<string, unknown>)[name] = function (this: Backend, ...args: unknown[]) {
      return mem.call(() => (f as (...a: unknown[]) => unknown).apply(this, args));
    };
  }
  return backend;
}

/**
 * Instantiates qkv.wasm from its bytes, a compiled Module, a fetch Response or a URL (fetched), in Node or a browser;
 * its sgemm uses relaxed SIMD's FMA where the engine has it (Chrome 114+, Node 21+), unless `relaxedSimd: false`.
 *
 * @example
 * const wasm = createWasmBackend(await instantiateWasm(fetch('/qkv.wasm')));
 */
export async function instantiateWasm(source: WasmSource | Response | URL | string | PromiseLike<Response>, opts: InstantiateOptions = {}): Promise<WasmExports> {
  return instantiate(source, opts);
}

/**
 * The same, synchronously, from bytes or a compiled Module (Node, workers; a browser's main thread compiles only tiny
 * modules synchronously).
 *
 * @example
 * const wasm = createWasmBackend(instantiateWasmSync(bytes));
 */
export function instantiateWasmSync(source: WasmSource, opts: InstantiateOptions = {}): WasmExports {
  return instantiateSync(source, opts);
}

export { WasmStorage };
