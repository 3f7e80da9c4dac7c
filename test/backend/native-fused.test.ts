// The native backend's fused kernels against their composed twins on ref (the suite: fused-kernels.ts).

import { describe, it } from 'node:test';
import { loadNativeBackend } from '../../src/node/backend-select.js';
import { describeFusedKernels } from './fused-kernels.js';

const native = loadNativeBackend();

if (!native) {
  describe('native fused kernels', () => {
    it('are not built (run `npm run build:native`); skipped', { skip: 'qkv_native.node did not load' }, () => {});
  });
} else {
  describeFusedKernels(native);
}
