// The wasm backend (native/'s kernels compiled to WebAssembly): the shared conformance and fused-kernel suites, then
// what is its own: sgemm against a double loop, memory (scopes, the budget, growth), GPT training and decoding against ref.
//
// Skipped only when wasm/qkv.wasm is not built and CI is not set; under CI a missing module fails (as native's addon).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import type { Backend, View } from '../../src/backend/backend.js';
import { refBackend } from '../../src/backend/ref.js';
import { WasmBackend, WasmStorage, createWasmBackend, hasRelaxedSimd, instantiateWasmSync } from '../../src/backend/wasm.js';
import { ArgumentError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { GPT, type GPTConfig } from '../../src/models/gpt.js';
import { loadWasmBackend, packagedWasmPath } from '../../src/node/wasm.js';
import { Adam } from '../../src/optim/adam.js';
import { crossEntropy, noGrad, tensor, withStorageScope } from '../../src/tensor/index.js';
import { underCi } from '../helpers/ci.js';
import { describeConformance } from './conformance.js';
import { describeFusedKernels } from './fused-kernels.js';

const path = packagedWasmPath();
const wasm = existsSync(path) || underCi ? loadWasmBackend() : null;

if (!wasm) {
  describe('wasm backend', () => {
    it('loads (required under CI)', { skip: underCi ? false : 'wasm/qkv.wasm is not built (run `npm run build:wasm`) and CI is not set' }, () => {
      assert.ok(wasm, `the wasm backend did not load from ${path} although CI=${process.env.CI} (see the 'qkv: wasm backend unavailable' warning above)`);
    });
  });
} else {
  describeConformance(wasm);
  describeFusedKernels(wasm);
  const fma = relaxed();
  describeGemm(fresh({ relaxedSimd: false }), 'simd128');
  describeGemm(fma, 'simd128-fma');
  describeMemory(wasm);
  describeModels(wasm);
  if (fma) describeModels(fma);
}

/**
 * A backend whose sgemm uses relaxed SIMD's FMA: Node 20's engine has relaxed SIMD behind a flag, which is switched
 * on here (later engines have it on); null when even then the engine refuses it.
 */
function relaxed(): WasmBackend | null {
  if (!hasRelaxedSimd()) {
    try { setFlagsFromString('--experimental-wasm-relaxed-simd'); } catch { /* not a flag of this engine */ }
  }
  return hasRelaxedSimd() ? fresh({ relaxedSimd: true }) : null;
}

/** A fresh backend over its own instance of the module (its own memory), with options. */
function fresh(opts: { budget?: number; relaxedSimd?: boolean } = {}): WasmBackend {
  return createWasmBackend(instantiateWasmSync(readFileSync(path), { relaxedSimd: opts.relaxedSimd }), opts);
}

const flat = (b: Backend, s: View['storage']) => b.toArray({ storage: s, layout: { shape: [s.length], strides: [1], offset: 0 } });

function describeGemm(backend: WasmBackend | null, kernel: string): void {
  if (!backend) {
    describe(`wasm sgemm on ${kernel}`, () => it('needs relaxed SIMD', { skip: 'this engine has no relaxed SIMD, even with --experimental-wasm-relaxed-simd' }, () => {}));
    return;
  }
  /** A [N, R, C] operand: contiguous, stored [N, C, R] and viewed transposed, or one matrix broadcast over N (offset 3). */
  const operand = (rng: Rng, N: number, R: number, C: number, kind: 'plain' | 'transposed' | 'broadcast') => {
    const data = Float32Array.from({ length: (kind === 'broadcast' ? R * C : N * R * C) + 3 }, () => rng.normal());
    const strides = kind === 'plain' ? [R * C, C, 1] : kind === 'transposed' ? [R * C, 1, R] : [0, C, 1];
    return { data, layout: { shape: [N, R, C], strides, offset: 3 } };
  };
  const at = (o: ReturnType<typeof operand>, n: number, r: number, c: number) => o.data[o.layout.offset + n * o.layout.strides[0] + r * o.layout.strides[1] + c * o.layout.strides[2]];

  describe(`wasm sgemm on ${kernel} against a double-precision loop`, () => {
    it(`${kernel}: packed, direct (small) and one-row products, transposed and broadcast operands, K = 0`, () => {
      assert.equal(backend.gemmKernel(), kernel, `the ${kernel} micro-kernel passed its self-check and is in use`);
      const KINDS = ['plain', 'transposed', 'broadcast'] as const;
      let seed = 1;
      for (const [N, M, K, P] of [[1, 1, 1, 1], [1, 7, 13, 5], [1, 257, 129, 67], [3, 33, 17, 65], [1, 150, 300, 70], [2, 5, 0, 7], [1, 1, 200, 300],
        [1, 300, 64, 1], [9, 6, 16, 16], [24, 8, 32, 8], [1, 37, 3000, 45]]) {
        for (const ka of KINDS) {
          for (const kb of KINDS) {
            if (ka === 'broadcast' && kb === 'broadcast') continue;
            const rng = new Rng(seed++);
            const a = operand(rng, N, M, K, ka);
            const b = operand(rng, N, K, P, kb);
            const out = flat(backend, backend.matmul({ storage: backend.fromArray(a.data), layout: a.layout }, { storage: backend.fromArray(b.data), layout: b.layout }));
            for (let n = 0; n < N; n++) {
              for (let m = 0; m < M; m++) {
                for (let p = 0; p < P; p++) {
                  let s = 0;
                  let abs = 0;
                  for (let k = 0; k < K; k++) { const t = at(a, n, m, k) * at(b, n, k, p); s += t; abs += Math.abs(t); }
                  const got = out[(n * M + m) * P + p];
                  const allowed = 1e-30 + 2 ** -23 * Math.sqrt(K) * 2 * abs;
                  if (!(Math.abs(got - s) <= allowed)) assert.fail(`[${N},${M},${K}]·[${N},${K},${P}] ${ka}·${kb}: [${n},${m},${p}] is ${got}, expected ${s} (allowed ${allowed})`);
                }
              }
            }
          }
        }
      }
    });
    it('the fast kernel matches the naive C oracle (version 0) on a product spanning several cache blocks', () => {
      const rng = new Rng(7);
      const [M, K, P] = [301, 600, 333];
      const a = backend.fromArray(Float32Array.from({ length: M * K }, () => rng.normal()));
      const b = backend.fromArray(Float32Array.from({ length: K * P }, () => rng.normal()));
      const fast = flat(backend, backend.matmul({ storage: a, layout: { shape: [1, M, K], strides: [0, K, 1], offset: 0 } }, { storage: b, layout: { shape: [1, K, P], strides: [0, 1, K], offset: 0 } }));
      const slow = backend.alloc('float32', M * P);
      const ex = backend.exports;
      const mem = backend.memory;
      const ptr = (s: View['storage']) => mem.ptr(s as WasmStorage);
      const m = mem.writeMeta([1, M, K, P, 0, 0, K, 1, 0, 0, 1, K]);
      assert.equal(ex.qkv_w_sgemm_naive(ptr(slow), M * P, ptr(a), M * K, ptr(b), K * P, m, 12), 0);
      let worst = 0;
      const s = flat(backend, slow);
      for (let i = 0; i < fast.length; i++) worst = Math.max(worst, Math.abs(fast[i] - s[i]));
      assert.ok(worst < 6e-3, `largest difference ${worst}`); // 2^-23·sqrt(600)·600·0.8·4 ≈ 0.006
    });
  });
}

function describeMemory(backend: WasmBackend): void {
  describe('wasm memory', () => {
    it('past the budget, idle storages move out to the JS heap and come back on use, values intact', () => {
      const b = fresh({ budget: 1 << 20 });
      const rng = new Rng(3);
      const arrays = Array.from({ length: 12 }, () => Float32Array.from({ length: 65536 }, () => rng.normal())); // 256 KiB each
      const stored = arrays.map((a) => b.fromArray(a));
      assert.ok(b.memory.evictions > 0, 'storing 3 MiB under a 1 MiB budget moved storages out');
      assert.ok(b.memory.residentBytes <= 1 << 20, `${b.memory.residentBytes} bytes resident, budget 1 MiB`);
      const v = (s: View['storage']): View => ({ storage: s, layout: { shape: [65536], strides: [1], offset: 0 } });
      for (let i = 0; i < 12; i++) {
        const sum = flat(b, b.binary('add', v(stored[i]), v(stored[(i + 5) % 12])));
        assert.deepEqual(sum, Float32Array.from(arrays[i], (x, j) => x + arrays[(i + 5) % 12][j]), `storage ${i} + ${(i + 5) % 12}`);
      }
    });
    it('storages made before the memory grows keep their values (views are made from the current buffer)', () => {
      const b = fresh();
      const before = b.exports.memory.buffer.byteLength;
      const small = b.fromArray(Float64Array.from([1, 2, 3.5]));
      const big = b.alloc('float32', 64 << 20); // 256 MiB: the memory must grow
      assert.ok(b.exports.memory.buffer.byteLength > before, 'the memory grew');
      assert.deepEqual(Array.from(flat(b, small)), [1, 2, 3.5]);
      assert.equal(flat(b, big)[(64 << 20) - 1], 0, 'alloc is zero-filled');
    });
    it('a storage scope frees what it made at close, except what it keeps; reading a freed storage throws', () => {
      const b = fresh();
      const base = b.memory.residentBytes;
      const scope = b.openScope!();
      const kept = b.fromArray(new Float32Array(10000).fill(2));
      const dropped = b.unary('exp', { storage: kept, layout: { shape: [10000], strides: [1], offset: 0 } });
      const released = b.alloc('float32', 5000);
      b.release!(released);
      assert.equal(b.memory.residentBytes, base + 80000, 'release freed one storage inside the scope');
      scope.close([kept]);
      assert.equal(b.memory.residentBytes, base + 40000, 'close freed all but the kept storage');
      assert.equal(flat(b, kept)[9999], 2);
      assert.throws(() => flat(b, dropped), ArgumentError);
    });
    it('storages dropped outside a scope are freed by the finalizer after a garbage collection', async (t) => {
      const { setFlagsFromString } = await import('node:v8');
      const { runInNewContext } = await import('node:vm');
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as (() => void) | undefined;
      if (typeof gc !== 'function') return t.skip('this Node does not expose gc()');
      const b = fresh();
      const base = b.memory.residentBytes;
      (() => { for (let i = 0; i < 50; i++) b.alloc('float32', 10000); })();
      assert.equal(b.memory.residentBytes, base + 50 * 40000);
      for (let i = 0; i < 20 && b.memory.residentBytes > base; i++) {
        await new Promise((r) => setImmediate(r));
        gc();
      }
      assert.equal(b.memory.residentBytes, base, 'every dropped storage was freed');
    });
    it('wrapArray shares an array in the module\'s memory and copies any other', () => {
      const inside = backend.memory.view(backend.alloc('float32', 4) as WasmStorage) as Float32Array;
      const s = backend.wrapArray(inside);
      inside[2] = 7;
      assert.equal(flat(backend, s)[2], 7, 'an array in linear memory is the storage itself');
      const outside = new Float32Array([1, 2, 3]);
      const c = backend.wrapArray(outside);
      outside[0] = 9;
      assert.equal(flat(backend, c)[0], 1, 'an array elsewhere is copied in');
    });
  });
}

const GPT_CONFIG: GPTConfig = { vocab: 29, dModel: 32, heads: 4, layers: 2, dFF: 64, context: 24, dropout: 0, seed: 5 };

/** The same random GPT on two backends (the ref twin loaded from the first's state). */
function twins(backend: Backend, config: GPTConfig = GPT_CONFIG): [GPT, GPT] {
  const a = new GPT({ ...config, backend });
  const b = new GPT({ ...config, backend: refBackend });
  b.loadStateDict(new Map([...a.stateDict()].map(([k, v]) => [k, tensor(v.toArray(), { shape: v.shape, backend: refBackend })])));
  return [a, b];
}

function describeModels(backend: WasmBackend): void {
  const ids = (rows: number[][], b: Backend) => tensor(rows, { dtype: 'int32', backend: b });
  describe(`GPT on wasm (${backend.gemmKernel()} sgemm) against ref`, () => {
    it('10 Adam steps in storage scopes: the losses of ref, and resident memory flat after the first step', () => {
      const [fast, slow] = twins(backend);
      const rng = new Rng(11);
      const batches = Array.from({ length: 10 }, () => Array.from({ length: 3 }, () => Array.from({ length: 9 }, () => rng.int(29))));
      const run = (model: GPT, b: Backend) => {
        const opt = new Adam(model.parameters(), { lr: 3e-3 });
        const losses: number[] = [];
        const resident: number[] = [];
        for (const rows of batches) {
          losses.push(withStorageScope(b, () => {
            const x = ids(rows.map((r) => r.slice(0, 8)), b);
            const y = ids(rows.map((r) => r.slice(1)), b);
            const { logits } = model.forward(x);
            const loss = crossEntropy(logits.reshape([24, 29]), y.reshape([24]));
            opt.zeroGrad();
            loss.backward();
            opt.step();
            return loss.item();
          }, () => opt.liveTensors()));
          if (b === backend) resident.push(backend.memory.residentBytes);
        }
        return { losses, resident };
      };
      const got = run(fast, backend);
      const want = run(slow, refBackend);
      got.losses.forEach((l, i) => assert.ok(Math.abs(l - want.losses[i]) <= 1e-4 * want.losses[i], `step ${i}: loss ${l}, ref ${want.losses[i]}`));
      assert.ok(got.losses[9] < got.losses[0], 'the loss went down');
      assert.equal(got.resident[9], got.resident[1], 'steps 2 to 10 leave resident memory as step 1 left it');
    });
    it('cached decoding (one decodeStack call per token) gives ref\'s uncached logits', () => {
      const [fast, slow] = twins(backend);
      let calls = 0;
      const kernel = backend.decodeStack!;
      backend.decodeStack = (...args) => { calls++; return kernel.apply(backend, args); };
      try {
        noGrad(() => {
          const rng = new Rng(4);
          const seqs = [[1, 2, 3], [4, 5, 6]];
          const cache = fast.createCache();
          fast.forward(ids(seqs, backend), { cache });
          for (let s = 0; s < 8; s++) {
            const next = seqs.map(() => [rng.int(29)]);
            seqs.forEach((r, b) => r.push(next[b][0]));
            const step = fast.forward(ids(next, backend), { cache }).logits.toArray();
            const full = slow.forward(ids(seqs, refBackend)).logits.narrow(1, seqs[0].length - 1, 1).toArray();
            const scale = Math.max(...Array.from(full, Math.abs));
            const worst = Math.max(...Array.from(step, (v, i) => Math.abs(v - full[i])));
            assert.ok(worst <= 1e-5 * scale, `step ${s}: |Δ| ${worst} over max ${scale}`);
          }
        });
      } finally {
        backend.decodeStack = kernel;
      }
      assert.equal(calls, 8, 'every one-token step went through decodeStack');
    });
  });
}
