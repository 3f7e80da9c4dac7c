// The compiled WebAssembly kernels (native/wasm/, built by `npm run build:wasm`): instantiating them and their exports.
//
// The module is native/'s C compiled for wasm32 with SIMD128 against wasi-libc. It imports its memory (made here),
// the FMA tile of wasm-fma.ts (where the engine has relaxed SIMD; a stub it never calls elsewhere) and the few WASI
// functions libc's getenv and fprintf reach (stubbed: no environment, stderr to console.warn), so it runs the same
// in Node and in a browser. Nothing here touches a file system: the caller brings the bytes.

import { ArgumentError, QkvError } from '../core/errors.js';
import { fmaTileModule, hasRelaxedSimd } from './wasm-fma.js';

/** Raised when a kernel of the WebAssembly module fails (out of memory, or arguments its own checks refuse). */
export class WasmError extends QkvError {}

type P = number;
/** A buffer of any dtype as the exports take it: byte address, dtype code (0 float32, 1 float64, 2 int32), elements. */
type Buf = [P, number, number];

/** The functions the module exports (native/wasm/exports*.c); every kernel returns a status (0: done). */
export interface WasmExports {
  /** The module's memory (imported: made by instantiate). */
  memory: WebAssembly.Memory;
  _initialize(): void;
  /** Makes the relaxed-SIMD FMA kernel the sgemm kernel; 1 when it passed its self-check. */
  qkv_w_enable_fma(): number;
  qkv_w_malloc(bytes: number): P;
  qkv_w_free(p: P): void;
  qkv_w_result(): number;
  qkv_w_result_index(): number;
  qkv_w_gemm_kernel(): P;
  qkv_w_copy(...a: [...Buf, ...Buf, P, number]): number;
  qkv_w_assign(...a: [...Buf, ...Buf, P, number]): number;
  qkv_w_unary(op: number, ...a: [...Buf, ...Buf, P, number]): number;
  qkv_w_binary(op: number, ...a: [...Buf, ...Buf, ...Buf, P, number]): number;
  qkv_w_where(...a: [...Buf, ...Buf, ...Buf, ...Buf, P, number]): number;
  qkv_w_reduce(op: number, ...a: [...Buf, ...Buf, P, number, number]): number;
  qkv_w_matmul(...a: [...Buf, ...Buf, ...Buf, P, number]): number;
  qkv_w_index_select(...a: [...Buf, ...Buf, P, number, P, number]): number;
  qkv_w_index_add(...a: [...Buf, ...Buf, P, number, P, number]): number;
  qkv_w_sgemm_naive(...a: number[]): number;
  qkv_w_linear(...a: number[]): number;
  qkv_w_linear_backward(...a: number[]): number;
  qkv_w_softmax(...a: number[]): number;
  qkv_w_layer_norm(...a: number[]): number;
  qkv_w_layer_norm_backward(...a: number[]): number;
  qkv_w_dropout_mask(...a: number[]): number;
  qkv_w_attention(...a: number[]): number;
  qkv_w_attention_backward(...a: number[]): number;
  qkv_w_cross_entropy(...a: number[]): number;
  qkv_w_cross_entropy_backward(...a: number[]): number;
  qkv_w_gelu(...a: number[]): number;
  qkv_w_gelu_backward(...a: number[]): number;
  qkv_w_adam(...a: number[]): number;
  qkv_w_decode_block(m: P, ml: number, arrays: P, na: number): number;
  qkv_w_decode_stack(m: P, ml: number, arrays: P, na: number): number;
}

/** The statuses of native/wasm/exports.h. */
export const STATUS = { ok: 0, badArgs: -1, bounds: -2, noMemory: -3, badTarget: -4 } as const;

/** Throws for a status other than ok, naming the kernel (bad targets are the caller's to report: see badTarget). */
export function checkStatus(kernel: string, status: number): void {
  if (status === STATUS.ok) return;
  if (status === STATUS.noMemory) throw new WasmError(`wasm backend: ${kernel} ran out of WebAssembly memory`);
  if (status === STATUS.bounds) throw new WasmError(`wasm backend: ${kernel}: a view reaches outside its buffer (a bug: the checks before the call should have refused it)`);
  throw new WasmError(`wasm backend: ${kernel} refused its arguments (status ${status}; a bug in src/backend/wasm.ts)`);
}

/** What a caller may hand over as the compiled module: its bytes, a compiled Module, or (async only) a URL or fetch Response. */
export type WasmSource = BufferSource | WebAssembly.Module;

/** Options of instantiating the module. */
export interface InstantiateOptions {
  /** Use relaxed SIMD's FMA in the sgemm micro-kernel (default: when the engine has it, see hasRelaxedSimd). */
  relaxedSimd?: boolean;
}

/** The memory the module imports: 16 MiB at first (its link-time size, scripts/build-wasm.mjs), up to wasm32's 4 GiB. */
const INITIAL_PAGES = 256;
const MAX_PAGES = 65536;

/** The import object: the memory, the FMA tile (or a stub never called), WASI stubs for libc's getenv and fprintf. */
function imports(memory: WebAssembly.Memory, fma: boolean): WebAssembly.Imports {
  const EBADF = 8;
  let line = '';
  const tile = fma
    ? new WebAssembly.Instance(new WebAssembly.Module(fmaTileModule()), { env: { memory } }).exports.tile
    : () => { throw new WasmError('wasm backend: the FMA tile was called without relaxed SIMD (a bug in native/wasm/gemm-wasm.c)'); };
  return {
    env: { memory, qkv_fma_tile: tile },
    wasi_snapshot_preview1: {
      environ_sizes_get: (count: number, size: number) => {
        const v = new DataView(memory.buffer);
        v.setUint32(count, 0, true);
        v.setUint32(size, 0, true);
        return 0;
      },
      environ_get: () => 0,
      // stdout and stderr go to console.warn line by line (the kernels write only warnings).
      fd_write: (fd: number, iovs: number, n: number, written: number) => {
        const v = new DataView(memory.buffer);
        let total = 0;
        for (let i = 0; i < n; i++) {
          const ptr = v.getUint32(iovs + 8 * i, true);
          const len = v.getUint32(iovs + 8 * i + 4, true);
          line += new TextDecoder().decode(new Uint8Array(memory.buffer, ptr, len));
          total += len;
        }
        for (let nl = line.indexOf('\n'); nl >= 0; nl = line.indexOf('\n')) {
          if (fd === 1 || fd === 2) console.warn(line.slice(0, nl));
          line = line.slice(nl + 1);
        }
        v.setUint32(written, total, true);
        return 0;
      },
      fd_close: () => EBADF,
      fd_seek: () => EBADF,
      proc_exit: (code: number) => {
        throw new WasmError(`wasm backend: the module called exit(${code})`);
      },
    },
  };
}

/** The memory and imports for one instance, FMA as asked or as the engine allows. */
function prepare(opts: InstantiateOptions): { memory: WebAssembly.Memory; fma: boolean; imports: WebAssembly.Imports } {
  const fma = opts.relaxedSimd ?? hasRelaxedSimd();
  if (fma && !hasRelaxedSimd()) throw new ArgumentError('wasm backend: relaxedSimd: true, but this engine has no relaxed SIMD (it refuses f32x4.relaxed_madd)');
  const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES });
  return { memory, fma, imports: imports(memory, fma) };
}

function exportsOf(instance: WebAssembly.Instance, memory: WebAssembly.Memory, fma: boolean): WasmExports {
  const ex = { ...(instance.exports as unknown as WasmExports), memory };
  for (const name of ['_initialize', 'qkv_w_malloc', 'qkv_w_matmul', 'qkv_w_decode_stack', 'qkv_w_enable_fma'] as const) {
    if (!(name in ex)) throw new ArgumentError(`wasm backend: the module does not export ${name}; is it qkv.wasm from \`npm run build:wasm\`?`);
  }
  ex._initialize();
  // Before any product: the sgemm kernel is chosen once, at the first.
  if (fma && ex.qkv_w_enable_fma() !== 1) console.warn('qkv: the wasm FMA sgemm kernel failed its self-check; using the mul + add one');
  return ex;
}

/** A LinkError from a module built for another memory layout, said plainly. */
function linkHint(e: unknown): never {
  if (e instanceof WebAssembly.LinkError) {
    throw new ArgumentError(`wasm backend: the module does not link (${e.message}); is it qkv.wasm from this version's \`npm run build:wasm\`?`);
  }
  throw e;
}

/** Compiles and instantiates the module synchronously (Node, workers; a browser's main thread allows this only for tiny modules). */
export function instantiateSync(source: WasmSource, opts: InstantiateOptions = {}): WasmExports {
  const module = source instanceof WebAssembly.Module ? source : new WebAssembly.Module(source);
  const { memory, fma, imports: imp } = prepare(opts);
  try {
    return exportsOf(new WebAssembly.Instance(module, imp), memory, fma);
  } catch (e) {
    return linkHint(e);
  }
}

/** Compiles (streaming, for a fetch Response or URL) and instantiates the module. */
export async function instantiate(source: WasmSource | Response | URL | string | PromiseLike<Response>, opts: InstantiateOptions = {}): Promise<WasmExports> {
  const { memory, fma, imports: imp } = prepare(opts);
  let instance: WebAssembly.Instance;
  try {
    if (source instanceof WebAssembly.Module) instance = await WebAssembly.instantiate(source, imp);
    else if (ArrayBuffer.isView(source) || source instanceof ArrayBuffer) instance = (await WebAssembly.instantiate(source, imp)).instance;
    else {
      const response = typeof source === 'string' || source instanceof URL ? fetch(source) : Promise.resolve(source as Response | PromiseLike<Response>);
      const r = await response;
      if (!r.ok) throw new ArgumentError(`wasm backend: fetching ${r.url || String(source)} gave HTTP ${r.status}, expected 200 and qkv.wasm`);
      if (typeof WebAssembly.instantiateStreaming === 'function' && r.headers.get('content-type')?.startsWith('application/wasm')) {
        instance = (await WebAssembly.instantiateStreaming(r, imp)).instance;
      } else {
        instance = (await WebAssembly.instantiate(await r.arrayBuffer(), imp)).instance;
      }
    }
  } catch (e) {
    return linkHint(e);
  }
  return exportsOf(instance, memory, fma);
}

/** The NUL-terminated string at p in the module's memory. */
export function readCString(ex: WasmExports, p: number): string {
  const bytes = new Uint8Array(ex.memory.buffer);
  let end = p >>> 0;
  while (bytes[end] !== 0) end++;
  return new TextDecoder().decode(bytes.subarray(p >>> 0, end));
}
