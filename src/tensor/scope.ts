// A training step's buffer scope: kernel outputs made inside it are reused by later steps.

import type { Backend } from '../backend/backend.js';
import type { Tensor } from './tensor.js';

/**
 * Runs fn; then every buffer the backend handed out meanwhile goes back to its pool, except the
 * storages of `keep()`'s tensors (asked after fn, so it can name what fn created). Nothing else
 * made inside fn may be read afterwards: return plain numbers, not tensors. A backend without
 * scopes (ref) just runs fn. See src/backend/buffer-pool.ts for why.
 *
 * @example
 * const loss = withStorageScope(backend, () => { ...; return lossTensor.item(); }, () => opt.liveTensors());
 */
export function withStorageScope<T>(backend: Backend, fn: () => T, keep: () => Iterable<Tensor>): T {
  const scope = backend.openScope?.();
  if (!scope) return fn();
  let out: T;
  try {
    out = fn();
  } catch (e) {
    scope.discard(); // after a throw keep() may not be askable: recycle nothing, the collector frees it all
    throw e;
  }
  scope.close([...keep()].map((t) => t.storage));
  return out;
}
