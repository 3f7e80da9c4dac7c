// Fused softmax and layer norm against their composed versions, both on the native backend's kernels
// (the composed path runs on the default flavour of the backend, which has no fused methods).
//
// Not a test: `node --import tsx bench/fused.ts [--threads=1]`. A fused kernel earns its place in the
// ops only with a win here; the composed version stays as its test oracle (test/backend/native.test.ts).

import type { Backend } from '../src/backend/backend.js';
import { Rng } from '../src/core/rng.js';
import { loadNativeBackend } from '../src/node/backend-select.js';
import { layerNorm, noGrad, randn, softmax } from '../src/tensor/index.js';

function option(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}

/** Best milliseconds per call over ~0.3 s. */
function time(f: () => unknown): number {
  f();
  let best = Infinity;
  const start = performance.now();
  while (performance.now() - start < 300) {
    const t0 = performance.now();
    f();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

const backend = loadNativeBackend({ threads: Number(option('threads', '0')), fused: true });
if (!backend) { console.error('bench: the native addon is not built; run `npm run install` first'); process.exit(1); }
// The same native kernels without the fused ones: softmax and layerNorm then take their composed path.
const unfused: Backend = loadNativeBackend({ threads: backend.threads(), fused: false })!;
console.log(`fused vs composed on native, ${backend.threads()} threads; ms per call (best of many)`);
console.log(`${'kernel'.padEnd(12)} ${'shape'.padEnd(12)} ${'composed'.padStart(9)} ${'fused'.padStart(9)} ${'speed-up'.padStart(9)}`);
const rng = new Rng(0);
noGrad(() => {
  for (const shape of [[4096, 128], [1024, 512], [256, 4096]]) {
    const x = randn(shape, rng, { backend });
    const xu = randn(shape, rng, { backend: unfused });
    const composed = time(() => softmax(xu, -1));
    const fused = time(() => softmax(x, -1));
    console.log(`${'softmax'.padEnd(12)} ${`${shape[0]}×${shape[1]}`.padEnd(12)} ${composed.toFixed(3).padStart(9)} ${fused.toFixed(3).padStart(9)} ${(composed / fused).toFixed(1).padStart(8)}×`);
  }
  for (const shape of [[4096, 128], [4096, 512], [1024, 1024]]) {
    const [x, w, b] = [shape, [shape[1]], [shape[1]]].map((s) => randn(s, rng, { backend }));
    const [xu, wu, bu] = [shape, [shape[1]], [shape[1]]].map((s) => randn(s, rng, { backend: unfused }));
    const composed = time(() => layerNorm(xu, wu, bu, 1e-5));
    const fused = time(() => layerNorm(x, w, b, 1e-5));
    console.log(`${'layerNorm'.padEnd(12)} ${`${shape[0]}×${shape[1]}`.padEnd(12)} ${composed.toFixed(3).padStart(9)} ${fused.toFixed(3).padStart(9)} ${(composed / fused).toFixed(1).padStart(8)}×`);
  }
});
