// The wasm backend (native/'s kernels compiled to WebAssembly): the shared conformance suite, then what is its own.

import { describe, it } from 'node:test';
import { loadWasmBackend, packagedWasmPath } from '../../src/node/wasm.js';
import { existsSync } from 'node:fs';
import { underCi } from '../helpers/ci.js';
import { describeConformance } from './conformance.js';

const built = existsSync(packagedWasmPath());
const wasm = built || underCi ? loadWasmBackend() : null;

if (!wasm) {
  describe('wasm backend', () => {
    it('is not built (run `npm run build:wasm`); its tests are skipped', { skip: 'wasm/qkv.wasm is missing and CI is not set' }, () => {});
  });
} else {
  describeConformance(wasm);
}
