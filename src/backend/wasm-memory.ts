// Tensor storage in WebAssembly linear memory: who owns each block, and what happens when memory runs short.
//
// Ownership (DESIGN.md, "Memory", as for native's buffer pool): a storage's block is the module's malloc'd
// memory, freed
//   - at once when a storage scope that made it closes without keeping it, or is released inside the scope
//     (the Trainer's step: the common case, no garbage collector involved);
//   - else by a FinalizationRegistry after the garbage collector drops the storage object.
// The collector sees only the small JS object, not its block, and finalizers run only between tasks, so a
// long synchronous loop outside a scope (generation) could fill memory with blocks of dead storages. So
// resident blocks are capped by a budget: past it, every storage not in use by the running kernel moves out
// to a JS typed array (which the collector does account for) and its block is freed; it comes back into
// linear memory on its next use. Growing memory detaches every typed array over the old buffer, so views
// are made fresh from the current buffer for each use and never kept.

import { DType, TypedArray, allocArray, dtypeSize } from '../core/dtype.js';
import { ArgumentError } from '../core/errors.js';
import type { Storage } from './backend.js';
import { WasmError, WasmExports } from './wasm-module.js';

/** dtype codes of native/strided.h's qkv_dtype. */
export const DT: Record<DType, number> = { float32: 0, float64: 1, int32: 2 };

/** The block of a storage, shared with its finalizer (which must not hold the storage itself). */
export interface WasmBlock {
  /** Byte address of the block, 0 when there is none (moved out, freed, or empty). */
  ptr: number;
  bytes: number;
  ref: WeakRef<WasmStorage> | null;
}

/**
 * Storage of the wasm backend: `length` values of `dtype` at byte address `ptr` of the module's memory
 * (resident), or in a JS typed array (moved out when memory ran short; back in on its next use).
 */
export class WasmStorage implements Storage {
  /** The values while moved out of linear memory, else null. */
  heap: TypedArray | null = null;
  /** Set when a storage scope took its memory back: reading it again is a bug. */
  released = false;
  /** The kernel call (WasmMemory.epoch) that last used it: those of the running call are never moved out. */
  epoch = 0;
  constructor(readonly memory: WasmMemory, readonly dtype: DType, readonly length: number, readonly cell: WasmBlock, readonly owned: boolean) {}
}

/** Options of the memory behind a wasm backend. */
export interface WasmMemoryOptions {
  /**
   * Bytes of storage kept in linear memory before storages idle at that moment are moved out to JS typed arrays
   * (they come back on their next use). Default 1 GiB; at most 4 GiB, wasm32's limit.
   */
  budget?: number;
}

const META_DOUBLES = 4096;
const GiB = 2 ** 30;

/** The module's memory as tensor storage: allocation, typed views, metadata, scopes and moving out. */
export class WasmMemory {
  readonly budget: number;
  /** Bytes in resident blocks of owned storages. */
  residentBytes = 0;
  /** Incremented by each top-level kernel call; storages it touched carry it until the next. */
  epoch = 1;
  private depth = 0;
  private readonly cells = new Set<WasmBlock>();
  private readonly registry = new FinalizationRegistry<WasmBlock>((cell) => this.freeCell(cell));
  private recorded: Set<WasmStorage> | null = null;
  private buffer: ArrayBufferLike | null = null;
  private views: { u8: Uint8Array; f32: Float32Array; f64: Float64Array; i32: Int32Array } | null = null;
  /** A scratch region for kernel metadata (META_DOUBLES doubles), allocated once. */
  readonly meta: number;
  /** Times storages were moved out (for tests and benchmarks). */
  evictions = 0;

  constructor(readonly ex: WasmExports, opts: WasmMemoryOptions = {}) {
    const budget = opts.budget ?? GiB;
    if (!(budget > 0 && budget <= 4 * GiB)) throw new ArgumentError(`wasm backend: budget must be a number of bytes in (0, 2^32], got ${budget}`);
    this.budget = budget;
    this.meta = this.malloc(META_DOUBLES * 8);
  }

  /** Typed arrays over the current buffer (fresh after memory grew). */
  get u8(): Uint8Array { return this.v().u8; }
  get f32(): Float32Array { return this.v().f32; }
  get f64(): Float64Array { return this.v().f64; }
  get i32(): Int32Array { return this.v().i32; }

  private v() {
    const buf = this.ex.memory.buffer;
    if (buf !== this.buffer || !this.views) {
      this.buffer = buf;
      this.views = { u8: new Uint8Array(buf), f32: new Float32Array(buf), f64: new Float64Array(buf), i32: new Int32Array(buf) };
    }
    return this.views;
  }

  /** Runs one backend method: storages it touches stay resident until it returns (nested calls share its epoch). */
  call<T>(fn: () => T): T {
    if (this.depth++ === 0) this.epoch++;
    try {
      return fn();
    } finally {
      this.depth--;
    }
  }

  private malloc(bytes: number): number {
    let p = this.ex.qkv_w_malloc(bytes) >>> 0;
    if (p === 0) {
      this.evictIdle();
      p = this.ex.qkv_w_malloc(bytes) >>> 0;
    }
    if (p === 0) throw new WasmError(`wasm backend: out of WebAssembly memory allocating ${bytes} bytes (${this.residentBytes} bytes resident, memory at ${this.ex.memory.buffer.byteLength} bytes)`);
    return p;
  }

  /** A block of `bytes` for a storage, moving idle storages out first when it would pass the budget. */
  private block(bytes: number): number {
    if (this.residentBytes + bytes > this.budget) this.evictIdle();
    const p = this.malloc(bytes);
    this.residentBytes += bytes;
    return p;
  }

  /** A new storage of n values; zero-filled when asked (a kernel that writes every element skips it). */
  alloc(dtype: DType, n: number, zero: boolean): WasmStorage {
    const bytes = n * dtypeSize(dtype);
    const cell: WasmBlock = { ptr: 0, bytes, ref: null };
    const s = new WasmStorage(this, dtype, n, cell, true);
    s.epoch = this.epoch;
    if (bytes === 0) return s;
    cell.ptr = this.block(bytes);
    if (zero) this.u8.fill(0, cell.ptr, cell.ptr + bytes);
    cell.ref = new WeakRef(s);
    this.cells.add(cell);
    this.registry.register(s, cell, cell);
    this.recorded?.add(s);
    return s;
  }

  /** A storage over memory the module already holds at byte address p (not ours to free or move). */
  foreign(dtype: DType, n: number, p: number): WasmStorage {
    return new WasmStorage(this, dtype, n, { ptr: p, bytes: 0, ref: null }, false);
  }

  /** The byte address of s's values, bringing them back into linear memory if they were moved out. */
  ptr(s: WasmStorage): number {
    if (s.released) throw new ArgumentError('wasm backend: storage read after its storage scope took it back (a tensor made inside withStorageScope used after it)');
    s.epoch = this.epoch;
    if (s.heap) {
      const values = s.heap;
      const p = this.block(s.cell.bytes);
      s.cell.ptr = p;
      s.heap = null;
      this.cells.add(s.cell);
      this.view(s).set(values);
    }
    return s.cell.ptr;
  }

  /** A typed array over s's values: in linear memory (valid until memory next grows) or the moved-out copy. */
  view(s: WasmStorage): TypedArray {
    if (s.released) throw new ArgumentError('wasm backend: storage read after its storage scope took it back (a tensor made inside withStorageScope used after it)');
    if (s.heap) return s.heap;
    const p = s.cell.ptr;
    switch (s.dtype) {
      case 'float32': return new Float32Array(this.ex.memory.buffer, p, s.length);
      case 'float64': return new Float64Array(this.ex.memory.buffer, p, s.length);
      case 'int32': return new Int32Array(this.ex.memory.buffer, p, s.length);
    }
  }

  /** Writes numbers into the metadata region from double `at`; returns the byte address written to. */
  writeMeta(values: ArrayLike<number>, at = 0): number {
    if (at + values.length > META_DOUBLES) throw new ArgumentError(`wasm backend: ${values.length} numbers of kernel metadata, more than the ${META_DOUBLES - at} the region holds`);
    this.f64.set(values, this.meta / 8 + at);
    return this.meta + 8 * at;
  }

  /** Moves every storage not touched by the running kernel call out of linear memory, freeing its block. */
  evictIdle(): void {
    this.evictions++;
    for (const cell of this.cells) {
      const s = cell.ref?.deref();
      if (!s) { // collected, its finalizer not yet run
        this.freeCell(cell);
        continue;
      }
      if (s.epoch === this.epoch && this.depth > 0) continue;
      const out = allocArray(s.dtype, s.length);
      out.set(this.view(s));
      this.freeCell(cell);
      s.heap = out;
    }
  }

  private freeCell(cell: WasmBlock): void {
    if (cell.ptr === 0 || !this.cells.delete(cell)) return;
    this.residentBytes -= cell.bytes;
    this.ex.qkv_w_free(cell.ptr);
    cell.ptr = 0;
  }

  /** Frees s's block now (a scope's close or release); s must not be read again. */
  free(s: WasmStorage): void {
    if (!s.owned || s.released) return;
    s.released = true;
    s.heap = null;
    this.registry.unregister(s.cell);
    this.freeCell(s.cell);
  }

  /** Starts recording storages made, for a scope's close to free (scopes do not nest: an inner one does nothing). */
  openScope(): { close(keep: Iterable<Storage>): void; discard(): void } {
    if (this.recorded) return { close: () => {}, discard: () => {} };
    const recorded = new Set<WasmStorage>();
    this.recorded = recorded;
    let open = true;
    const stop = () => {
      if (open && this.recorded === recorded) this.recorded = null;
      open = false;
    };
    return {
      discard: stop,
      close: (keep) => {
        if (!open) return;
        stop();
        const kept = new Set<Storage>(keep);
        for (const s of recorded) if (!kept.has(s)) this.free(s);
      },
    };
  }

  /** Inside an open scope, frees one storage made in it; anything else is left to the collector. */
  release(s: Storage): void {
    if (s instanceof WasmStorage && this.recorded?.delete(s)) this.free(s);
  }
}
