// Which backend new tensors live on when the caller does not say.

import type { Backend } from '../backend/backend.js';
import { refBackend } from '../backend/ref.js';

let current: Backend = refBackend;

/** The backend tensors are created on by default (ref, until node/ installs native). */
export function defaultBackend(): Backend {
  return current;
}

/**
 * Makes `backend` the default for new tensors. Called once at start-up by the Node entry point
 * when the native addon loads; tests call it to run one suite per backend.
 */
export function setDefaultBackend(backend: Backend): void {
  current = backend;
}
