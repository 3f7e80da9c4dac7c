// The one place the page chooses the backend its models run on (ref today; wasm when src/backend/wasm.ts lands).

import { refBackend, setDefaultBackend } from './qkv.js';
import type { Backend } from './qkv.js';

/** The backends the page knows, by name. */
export type PageBackendName = 'ref';

/**
 * The backend for the page's models (the main thread's and the training worker's), made the default
 * for new tensors. Swapping in the WebAssembly backend is a change here and nowhere else.
 */
export async function pageBackend(): Promise<{ name: PageBackendName; backend: Backend }> {
  setDefaultBackend(refBackend);
  return { name: 'ref', backend: refBackend };
}
