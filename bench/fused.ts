// Each fused kernel against its composed version, both on the native backend's kernels (the composed
// path runs on the `fused: false` flavour of the backend, which has no fused methods).
//
// Not a test: `node --import tsx bench/fused.ts [--threads=1] [--only=attention]`. A fused kernel earns
// its place in the ops only with a win here; the composed version stays as its test oracle
// (test/backend/native.test.ts, test/backend/native-fused.test.ts).

import type { Backend } from '../src/backend/backend.js';
import { Rng } from '../src/core/rng.js';
import { causalMask, scaledDotProductAttention } from '../src/nn/index.js';
import { loadNativeBackend } from '../src/node/backend-select.js';
import { Adam } from '../src/optim/adam.js';
import { Tensor, crossEntropy, gelu, layerNorm, noGrad, randn, softmax, tensor } from '../src/tensor/index.js';

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

const fusedBackend = loadNativeBackend({ threads: Number(option('threads', '0')), fused: true });
if (!fusedBackend) { console.error('bench: the native addon is not built; run `npm run install` first'); process.exit(1); }
// The same native kernels without the fused ones: every op then takes its composed path.
const unfused: Backend = loadNativeBackend({ threads: fusedBackend.threads(), fused: false })!;
const only = option('only', '');
console.log(`fused vs composed on native, ${fusedBackend.threads()} threads; ms per call (best of many)`);
console.log(`${'kernel'.padEnd(22)} ${'shape'.padEnd(22)} ${'composed'.padStart(9)} ${'fused'.padStart(9)} ${'speed-up'.padStart(9)}`);

/** Times `make(backend)()` on both flavours; `make` builds its inputs once per flavour from the same seed. */
function row(kernel: string, shape: string, make: (backend: Backend, rng: Rng) => () => unknown): void {
  if (only && !kernel.startsWith(only)) return;
  const composed = time(make(unfused, new Rng(0)));
  const fused = time(make(fusedBackend!, new Rng(0)));
  console.log(`${kernel.padEnd(22)} ${shape.padEnd(22)} ${composed.toFixed(3).padStart(9)} ${fused.toFixed(3).padStart(9)} ${(composed / fused).toFixed(1).padStart(8)}×`);
}

for (const [r, c] of [[4096, 128], [1024, 512], [256, 4096]]) {
  row('softmax', `${r}×${c}`, (backend, rng) => { const x = randn([r, c], rng, { backend }); return () => noGrad(() => softmax(x, -1)); });
}
for (const [r, c] of [[4096, 128], [4096, 512], [1024, 1024]]) {
  row('layerNorm', `${r}×${c}`, (backend, rng) => {
    const [x, w, b] = [[r, c], [c], [c]].map((s) => randn(s, rng, { backend }));
    return () => noGrad(() => layerNorm(x, w, b, 1e-5));
  });
}

/** q, k, v [B, H, T, K] that want gradients, a causal mask, and the upstream gradient. */
function attentionInputs(backend: Backend, rng: Rng, B: number, H: number, T: number, K: number) {
  const [q, k, v] = [0, 1, 2].map(() => randn([B, H, T, K], rng, { backend }).requireGrad());
  return { q, k, v, mask: causalMask(T, T, { backend }), up: randn([B, H, T, K], rng, { backend }) };
}
for (const [B, H, T, K] of [[8, 4, 64, 16], [4, 8, 128, 64], [2, 8, 512, 64]]) {
  const shape = `${B}×${H}×${T}×${K} causal`;
  row('attention forward', shape, (backend, rng) => {
    const { q, k, v, mask } = attentionInputs(backend, rng, B, H, T, K);
    return () => noGrad(() => scaledDotProductAttention(q, k, v, mask, { needWeights: false }).output);
  });
  row('attention fwd+bwd', shape, (backend, rng) => {
    const { q, k, v, mask, up } = attentionInputs(backend, rng, B, H, T, K);
    return () => scaledDotProductAttention(q, k, v, mask, { needWeights: false }).output.mul(up).sum().backward();
  });
}

for (const [N, V] of [[2048, 100], [1024, 8000]]) {
  row('crossEntropy fwd+bwd', `${N}×${V}, ε = 0.1`, (backend, rng) => {
    const logits = randn([N, V], rng, { backend }).requireGrad();
    const targets = tensor(Int32Array.from({ length: N }, () => rng.int(V)), { backend, dtype: 'int32' });
    return () => crossEntropy(logits, targets, { labelSmoothing: 0.1 }).backward();
  });
}

for (const [r, c] of [[4096, 512]]) {
  row('gelu forward', `${r}×${c}`, (backend, rng) => { const x = randn([r, c], rng, { backend }); return () => noGrad(() => gelu(x)); });
  row('gelu fwd+bwd', `${r}×${c}`, (backend, rng) => {
    const x = randn([r, c], rng, { backend }).requireGrad();
    return () => gelu(x).sum().backward();
  });
}

for (const n of [100_000, 1_000_000]) {
  row('adam step', `${n} params`, (backend, rng) => {
    const p = randn([n], rng, { backend });
    const opt = new Adam([p], { lr: 1e-3 });
    const g: Tensor = randn([n], rng, { backend });
    return () => { p.grad = g; opt.step(); };
  });
}
