// The wasm backend in Node: the qkv.wasm this package ships (wasm/qkv.wasm, made by `npm run build:wasm`), read and
// instantiated synchronously.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InstantiateOptions, WasmBackend, WasmOptions, createWasmBackend, instantiateWasmSync } from '../backend/wasm.js';
import { packageRoot } from './backend-select.js';

/** Options of {@link loadWasmBackend}: the backend's, and where the module is. */
export interface WasmNodeOptions extends WasmOptions, InstantiateOptions {
  /** The compiled module; default: wasm/qkv.wasm in the package root ({@link packagedWasmPath}). */
  wasmPath?: string;
}

/**
 * Where the package keeps its compiled module: `<package root>/wasm/qkv.wasm` (also exported as 'qkv/qkv.wasm', for
 * a server or bundler to hand to a browser).
 *
 * @example
 * const bytes = readFileSync(packagedWasmPath());
 */
export function packagedWasmPath(): string {
  return join(packageRoot(), 'wasm', 'qkv.wasm');
}

/** How to build the module: the repo's script in a source checkout, else the package's files are incomplete. */
function buildHint(root: string): string {
  if (existsSync(join(root, 'src', 'index.ts'))) return 'Build it with `npm run build:wasm` (needs clang, lld and wasi-libc).';
  return 'The package should ship it: reinstall qkv.';
}

const backends = new Map<string, WasmBackend>();
let warned = false;

/**
 * The wasm backend over the package's qkv.wasm (or `wasmPath`); null, after one console warning that says why, when
 * the file is missing or does not instantiate. Later calls with the same options return the same backend.
 *
 * @example
 * const wasm = loadWasmBackend();
 * if (wasm) zeros([2, 3], { backend: wasm });
 */
export function loadWasmBackend(opts: WasmNodeOptions = {}): WasmBackend | null {
  const path = opts.wasmPath ?? packagedWasmPath();
  const key = JSON.stringify([path, opts.fused ?? true, opts.budget ?? null, opts.relaxedSimd ?? null]);
  const known = backends.get(key);
  if (known) return known;
  try {
    const backend = createWasmBackend(instantiateWasmSync(readFileSync(path), { relaxedSimd: opts.relaxedSimd }), opts);
    backends.set(key, backend);
    return backend;
  } catch (e) {
    if (!warned) {
      warned = true;
      const reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
      console.warn(`qkv: wasm backend unavailable (${reason}). ${buildHint(packageRoot())}`);
    }
    return null;
  }
}
