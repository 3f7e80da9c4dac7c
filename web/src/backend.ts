// The one place the page chooses the backend its models run on: wasm (qkv.wasm beside the page), else ref with a note.

import { createWasmBackend, instantiateWasm, refBackend, setDefaultBackend } from './qkv.js';
import type { Backend } from './qkv.js';

/** The backends the page knows, by name. */
export type PageBackendName = 'wasm' | 'ref';

/** The backend chosen, and why not wasm when it is ref (a note for the page to show; null on wasm). */
export interface PageBackend {
  name: PageBackendName;
  backend: Backend;
  /** The sgemm kernel on wasm ('simd128-fma' or 'simd128'), '' on ref. */
  kernel: string;
  note: string | null;
}

/** Options of {@link pageBackend}. */
export interface PageBackendOptions {
  /** Where qkv.wasm is (default: beside the script, as `qkv view` and dist/web/ serve it). */
  wasmUrl?: string | URL;
  /** 'ref' skips the wasm backend (the page's ?backend=ref, for comparing). */
  force?: PageBackendName | null;
}

/** A module of one function using a SIMD128 instruction (i8x16.splat): engines without SIMD refuse it. */
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

/** Whether this engine runs WebAssembly with 128-bit SIMD, which qkv.wasm needs. */
export function hasWasmSimd(): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

/**
 * The backend for the page's models (the main thread's and the training worker's), made the default for new
 * tensors: the wasm backend over qkv.wasm, or ref (slower, same answers) with a note saying why.
 *
 * @example
 * const { name, backend, note } = await pageBackend();
 * if (note) showNote(note);
 */
export async function pageBackend(o: PageBackendOptions = {}): Promise<PageBackend> {
  const ref = (note: string | null): PageBackend => {
    setDefaultBackend(refBackend);
    return { name: 'ref', backend: refBackend, kernel: '', note };
  };
  if (o.force === 'ref') return ref('Running on the ref backend (plain TypeScript), as asked by ?backend=ref: slower than wasm, same answers.');
  if (!hasWasmSimd()) return ref('This browser has no WebAssembly SIMD, so the page runs on the ref backend (plain TypeScript): same answers, several times slower.');
  const url = o.wasmUrl ?? new URL('qkv.wasm', import.meta.url);
  try {
    const wasm = createWasmBackend(await instantiateWasm(String(url)));
    setDefaultBackend(wasm);
    return { name: 'wasm', backend: wasm, kernel: wasm.gemmKernel(), note: null };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return ref(`The wasm backend did not load (${why}), so the page runs on the ref backend (plain TypeScript): same answers, slower.`);
  }
}
