// The backends a test suite runs on: ref always, native when its addon is built and loads.

import { describe } from 'node:test';
import type { Backend } from '../../src/backend/backend.js';
import { refBackend } from '../../src/backend/ref.js';
import { loadNativeBackend } from '../../src/node/backend-select.js';

/**
 * ref, then native when it loads (loadNativeBackend warns once, saying why, when it does not).
 *
 * @example
 * for (const b of testBackends()) describe(`golden on ${b.name}`, () => { ... });
 */
export function testBackends(): Backend[] {
  const native = loadNativeBackend();
  return native ? [refBackend, native] : [refBackend];
}

/**
 * One `describe(\`${title} on ${backend.name}\`)` per backend of testBackends(); when native does
 * not load, a skipped `${title} on native` says so in the test report instead of vanishing.
 *
 * @example
 * describeBackends('attention golden', (backend) => {
 *   test('matches torch', () => { const x = tensor([1, 2], { backend }); ... });
 * });
 */
export function describeBackends(title: string, body: (backend: Backend) => void): void {
  const backends = testBackends();
  for (const b of backends) describe(`${title} on ${b.name}`, () => body(b));
  if (!backends.some((b) => b.name === 'native')) {
    describe(`${title} on native`, { skip: 'the native addon (build/Release/qkv_native.node) did not load; run `npm run build:native`' }, () => {});
  }
}
