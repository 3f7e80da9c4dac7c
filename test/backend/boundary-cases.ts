// The five calls that crashed the process at the native boundary (issue 14), run one per child process by
// boundary.test.ts: prints the error's class and message as JSON, so a segfault shows as a dead child.

import type { Backend, View } from '../../src/backend/backend.js';
import type { DType } from '../../src/core/dtype.js';
import { contiguousStrides } from '../../src/core/shape.js';
import { loadNativeBackend } from '../../src/node/backend-select.js';
import { refBackend } from '../../src/backend/ref.js';

const view = (b: Backend, shape: number[], length = shape.reduce((a, d) => a * d, 1), dtype: DType = 'float32'): View =>
  ({ storage: b.alloc(dtype, length), layout: { shape, strides: contiguousStrides(shape), offset: 0 } });

/** Each case calls one backend method with operands that break its contract. */
export const CASES: Record<string, (b: Backend) => unknown> = {
  'binary add, a of 1e7 elements, b of 1': (b) => b.binary('add', view(b, [1e7]), view(b, [1])),
  'matmul [1, 64, 1e6] by [1, 1, 64]': (b) => b.matmul(view(b, [1, 64, 1e6]), view(b, [1, 1, 64])),
  'layerNorm x [2, 1e6], weight and bias of 2': (b) => b.layerNorm!(view(b, [2, 1e6]), view(b, [2]), view(b, [2]), 1e-5),
  'crossEntropy logits [2, 4], targets [0, 1e9]': (b) => {
    const targets = { storage: b.fromArray(new Int32Array([0, 1e9])), layout: { shape: [2], strides: [1], offset: 0 } };
    return b.crossEntropy!(view(b, [2, 4]), targets, -100, 0);
  },
  'where cond of 1, a and b of 1e6': (b) => b.where(view(b, [1]), view(b, [1e6]), view(b, [1e6])),
};

if (process.argv[2] !== undefined) {
  const backend = process.argv[3] === 'ref' ? refBackend : loadNativeBackend();
  const run = CASES[process.argv[2]];
  if (!backend || !run) {
    console.log(JSON.stringify({ skipped: !backend, unknown: !run }));
  } else {
    try {
      run(backend);
      console.log(JSON.stringify({ returned: true }));
    } catch (e) {
      console.log(JSON.stringify({ error: (e as Error).constructor.name, message: (e as Error).message }));
    }
  }
}
