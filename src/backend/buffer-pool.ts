// Reuse of large kernel-output buffers across training steps, within an explicit scope.
//
// Why: every kernel output is a fresh typed array; a training step makes hundreds of megabytes of them
// and V8 collects off-heap memory only through "external memory pressure" garbage collections (one
// every ~64 MiB allocated; 10–15% of a small model's step), then hands out fresh pages the kernels
// fault in again. FinalizationRegistry cannot help: V8 runs its callbacks only after full collections.
//
// Ownership (DESIGN.md, "Memory"): outside a scope nothing changes, every buffer belongs to the
// garbage collector. Between `openScope()` and `close(keep)` the pool records the buffers it hands
// out; `close` takes back every recorded buffer except those of the storages in `keep`, so the
// caller promises that nothing else made inside the scope is read afterwards. The Trainer's step is
// such a scope: the loss is read as a number, the gradients are dropped, and what survives (the
// optimizer's moments, made on the first step) is passed as `keep`.

import type { DType, TypedArray } from '../core/dtype.js';
import { allocArray, dtypeSize } from '../core/dtype.js';

/** What a scope returns: close it once, naming the buffers that live on. */
export interface BufferScope {
  /** Gives every buffer handed out since the scope opened back to the pool, except keep's. */
  close(keep: Iterable<TypedArray>): void;
  /** Stops recording and gives nothing back (the collector frees it all as usual). */
  discard(): void;
}

/** Smaller outputs stay on the JS heap, where V8's young generation frees them cheaply. */
const MIN_POOLED = 4096;

/** The capacity class of n bytes: the next m·2^k ≥ n with m in 8..15, so at most 1/8 is wasted. */
export function capacityClass(bytes: number): number {
  if (bytes <= 16) return 16;
  const k = Math.floor(Math.log2(bytes)) - 3;
  const unit = 2 ** k;
  return Math.ceil(bytes / unit) * unit;
}

/**
 * Free buffers by capacity class, and the list of buffers handed out in the open scope (if any).
 *
 * @example
 * const pool = new BufferPool();
 * const scope = pool.openScope();
 * const a = pool.take('float32', 8192, false); // recorded
 * scope.close([]);                             // a's memory backs the next take of its class
 */
export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private recorded: Set<TypedArray> | null = null;
  private freeBytes = 0;
  /** Bytes handed out in the open scope and not yet given back, and their peak. */
  private out = 0;
  private peakOut = 0;
  /** Fill released buffers with NaN (int32: a large negative), so a read after release shows. For tests. */
  poison = false;

  /** A typed array of n elements: pooled memory when there is some of its class, zero-filled when asked. */
  take(dtype: DType, n: number, zero: boolean): TypedArray {
    const bytes = n * dtypeSize(dtype);
    if (n < MIN_POOLED) return allocArray(dtype, n);
    const cap = capacityClass(bytes);
    const list = this.free.get(cap);
    let buf = list?.pop();
    if (buf) this.freeBytes -= cap;
    else buf = freshBuffer(cap);
    const out = view(dtype, buf, n);
    if (zero) out.fill(0);
    if (this.recorded) {
      this.recorded.add(out);
      this.out += cap;
      if (this.out > this.peakOut) this.peakOut = this.out;
    }
    return out;
  }

  /**
   * Starts recording. Scopes do not nest: an inner open returns a scope whose close does nothing,
   * and the outer close takes back the inner's buffers too.
   */
  openScope(): BufferScope {
    if (this.recorded) return { close: () => {}, discard: () => {} };
    const recorded = new Set<TypedArray>();
    this.recorded = recorded;
    let open = true;
    return {
      discard: () => {
        if (open && this.recorded === recorded) this.recorded = null;
        open = false;
        this.out = 0;
        this.peakOut = 0;
      },
      close: (keep) => {
        if (!open) return;
        open = false;
        this.recorded = null;
        const kept = new Set<ArrayBufferLike>();
        for (const a of keep) kept.add(a.buffer);
        for (const a of recorded) if (!kept.has(a.buffer)) this.giveBack(a);
        // Keep what the scope needed at once (twice, for batches of another shape); drop the rest.
        this.trim(2 * this.peakOut);
        this.out = 0;
        this.peakOut = 0;
      },
    };
  }

  /**
   * Takes back one buffer handed out in the open scope before the scope ends: the caller promises
   * nothing reads it again (autograd's gradients once passed on, src/tensor/tensor.ts). Anything
   * else (not from this pool, not recorded, or no scope open) is left alone.
   */
  release(a: TypedArray): void {
    if (this.recorded?.delete(a)) this.giveBack(a);
  }

  private giveBack(a: TypedArray): void {
    const cap = a.buffer.byteLength;
    if (this.poison) poisonFill(a);
    let l = this.free.get(cap);
    if (!l) this.free.set(cap, (l = []));
    l.push(a.buffer as ArrayBuffer);
    this.freeBytes += cap;
    this.out -= cap;
  }

  /** Bytes held for reuse. */
  get pooledBytes(): number {
    return this.freeBytes;
  }

  /** Drops free buffers (largest classes first) until at most `limit` bytes are held. */
  private trim(limit: number): void {
    if (this.freeBytes <= limit) return;
    const caps = [...this.free.keys()].sort((a, b) => b - a);
    for (const cap of caps) {
      const l = this.free.get(cap)!;
      while (l.length && this.freeBytes > limit) {
        l.pop();
        this.freeBytes -= cap;
      }
      if (!l.length) this.free.delete(cap);
    }
  }
}

/** An ArrayBuffer of `bytes` without the zero-fill where Node offers one (the kernel overwrites it). */
function freshBuffer(bytes: number): ArrayBuffer {
  const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;
  if (!NodeBuffer) return new ArrayBuffer(bytes);
  return NodeBuffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer;
}

function view(dtype: DType, buf: ArrayBuffer, n: number): TypedArray {
  switch (dtype) {
    case 'float32': return new Float32Array(buf, 0, n);
    case 'float64': return new Float64Array(buf, 0, n);
    case 'int32': return new Int32Array(buf, 0, n);
  }
}

function poisonFill(a: TypedArray): void {
  const full = a instanceof Int32Array ? new Int32Array(a.buffer) : new Float32Array(a.buffer);
  full.fill(a instanceof Int32Array ? -0x7fffffff : NaN);
}
