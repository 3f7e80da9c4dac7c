// The native backend: the shared conformance suite, then sgemm on awkward shapes, views, batches,
// thread counts and every micro-kernel this CPU runs, checked against a plain-JS double-precision loop.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Storage, View } from '../../src/backend/backend.js';
import { refBackend } from '../../src/backend/ref.js';
import type { Layout } from '../../src/core/layout.js';
import { Rng } from '../../src/core/rng.js';
import { loadNativeBackend } from '../../src/node/backend-select.js';
import { layerNorm, softmax, tensor } from '../../src/tensor/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { describeConformance } from './conformance.js';

const native = loadNativeBackend();

if (!native) {
  describe('native backend', () => {
    it('is not built (run `npm run build:native`); its tests are skipped', { skip: 'qkv_native.node did not load' }, () => {});
  });
} else {
  describeConformance(native);
  describeGemm();
}

/** A [N, R, C] operand: contiguous, or stored as [N, C, R] and viewed transposed, or one matrix broadcast over N. */
function operand(rng: Rng, N: number, R: number, C: number, kind: 'plain' | 'transposed' | 'broadcast'): { data: Float32Array; layout: Layout } {
  const count = kind === 'broadcast' ? R * C : N * R * C;
  const data = Float32Array.from({ length: count + 3 }, () => rng.normal());
  const offset = 3; // never start at element 0, so offsets are exercised too
  if (kind === 'plain') return { data, layout: { shape: [N, R, C], strides: [R * C, C, 1], offset } };
  if (kind === 'transposed') return { data, layout: { shape: [N, R, C], strides: [R * C, 1, R], offset } };
  return { data, layout: { shape: [N, R, C], strides: [0, C, 1], offset } };
}

/** C = A·B in double, with Σ|a·b| per element for the tolerance: the independent reference. */
function reference(a: { data: Float32Array; layout: Layout }, b: { data: Float32Array; layout: Layout }): { values: Float64Array; scale: Float64Array } {
  const [N, M, K] = a.layout.shape;
  const P = b.layout.shape[2];
  const [sa0, sa1, sa2] = a.layout.strides;
  const [sb0, sb1, sb2] = b.layout.strides;
  const values = new Float64Array(N * M * P);
  const scale = new Float64Array(N * M * P);
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      for (let p = 0; p < P; p++) {
        let s = 0;
        let abs = 0;
        for (let k = 0; k < K; k++) {
          const t = a.data[a.layout.offset + n * sa0 + m * sa1 + k * sa2] * b.data[b.layout.offset + n * sb0 + k * sb1 + p * sb2];
          s += t;
          abs += Math.abs(t);
        }
        values[(n * M + m) * P + p] = s;
        scale[(n * M + m) * P + p] = abs;
      }
    }
  }
  return { values, scale };
}

function describeGemm(): void {
  const backend = native!;
  // float32 sums of K products: rounding error grows like sqrt(K) times the size of the terms.
  const check = (N: number, M: number, K: number, P: number, ka: 'plain' | 'transposed' | 'broadcast', kb: 'plain' | 'transposed' | 'broadcast', seed: number) => {
    const rng = new Rng(seed);
    const a = operand(rng, N, M, K, ka);
    const b = operand(rng, N, K, P, kb);
    const va: View = { storage: backend.fromArray(a.data), layout: a.layout };
    const vb: View = { storage: backend.fromArray(b.data), layout: b.layout };
    const out = backend.toArray({ storage: backend.matmul(va, vb), layout: { shape: [N * M * P], strides: [1], offset: 0 } });
    const ref = reference(a, b);
    assert.equal(out.length, N * M * P);
    const label = `[${N},${M},${K}]·[${N},${K},${P}] ${ka}·${kb} on ${backend.gemmKernel()} with ${backend.threads()} threads`;
    for (let i = 0; i < out.length; i++) {
      const allowed = 1e-30 + 2 ** -23 * Math.sqrt(K) * 2 * ref.scale[i];
      if (!(Math.abs(out[i] - ref.values[i]) <= allowed)) {
        assert.fail(`${label}: [${i}] is ${out[i]}, expected ${ref.values[i]} (allowed ${allowed})`);
      }
    }
  };
  const SHAPES: [number, number, number, number][] = [
    [1, 1, 1, 1], [1, 7, 13, 5], [1, 257, 129, 67], [3, 33, 17, 65], [1, 150, 300, 70], [2, 5, 0, 7], [1, 1, 200, 300], [1, 300, 64, 1], [9, 6, 16, 16],
  ];
  const KINDS = ['plain', 'transposed', 'broadcast'] as const;

  describe('native sgemm against a double-precision loop', () => {
    const kernels = backend.addon.gemmKernels();
    const original = backend.gemmKernel();
    const originalThreads = backend.threads();
    for (const kernel of kernels) {
      it(`${kernel}: awkward shapes, transposed and broadcast operands, 1 and 2 threads`, (t) => {
        if (backend.gemmKernel(kernel) === null) { t.skip(`this CPU cannot run ${kernel}`); return; }
        try {
          for (const threads of [1, 2]) {
            backend.setThreads(threads);
            let seed = 1;
            for (const [N, M, K, P] of SHAPES) {
              for (const ka of KINDS) {
                for (const kb of KINDS) {
                  if (ka === 'broadcast' && kb === 'broadcast') continue;
                  check(N, M, K, P, ka, kb, seed++);
                }
              }
            }
          }
        } finally {
          backend.gemmKernel(original!);
          backend.setThreads(originalThreads);
        }
      });
    }
    it('views reaching outside their storage are refused before C reads or writes them', () => {
      const s = backend.fromArray(new Float32Array(10));
      assert.throws(() => backend.copy({ storage: s, layout: { shape: [4, 3], strides: [3, 1], offset: 0 } }), /outside/);
      assert.throws(() => backend.assign({ storage: s, layout: { shape: [5], strides: [2], offset: 2 } }, { storage: s, layout: { shape: [5], strides: [0], offset: 0 } }), /outside/);
      assert.throws(() => backend.matmul({ storage: s, layout: { shape: [1, 2, 5], strides: [0, 5, 1], offset: 1 } }, { storage: s, layout: { shape: [1, 5, 1], strides: [0, 1, 1], offset: 0 } }), /outside/);
    });
    it('attention-shaped batches (the direct small-product kernel), long-K products (split over K) and one-row products, 1 and 2 threads', () => {
      const originalThreads = backend.threads();
      try {
        for (const threads of [1, 2]) {
          backend.setThreads(threads);
          let seed = 100;
          // q·kᵀ, weights·v and dSᵀ·q at T, S = 8-32, K = 32, with edge rows and columns; then wᵀ·g-like products
          for (const [N, M, K, P, ka, kb] of [
            [64, 32, 32, 32, 'plain', 'transposed'], [64, 32, 32, 32, 'plain', 'plain'], [64, 32, 32, 32, 'transposed', 'plain'],
            [24, 8, 32, 8, 'plain', 'transposed'], [24, 8, 8, 32, 'plain', 'plain'], [24, 32, 8, 8, 'transposed', 'plain'],
            [10, 13, 32, 29, 'plain', 'transposed'], [7, 17, 5, 3, 'transposed', 'transposed'], [5, 7, 11, 40, 'broadcast', 'plain'],
            [1, 37, 3000, 45, 'transposed', 'plain'], [1, 70, 2100, 19, 'plain', 'transposed'],
            [1, 1, 300, 1000, 'plain', 'transposed'], [1, 1, 517, 389, 'plain', 'plain'], [3, 1, 130, 75, 'plain', 'transposed'],
          ] as const) check(N, M, K, P, ka, kb, seed++);
        }
      } finally {
        backend.setThreads(originalThreads);
      }
    });
    it('K = 0 gives a zero product', () => {
      const a: View = { storage: backend.alloc('float32', 0), layout: { shape: [2, 3, 0], strides: [0, 0, 1], offset: 0 } };
      const b: View = { storage: backend.alloc('float32', 0), layout: { shape: [2, 0, 4], strides: [0, 4, 1], offset: 0 } };
      const out = backend.toArray({ storage: backend.matmul(a, b), layout: { shape: [24], strides: [1], offset: 0 } });
      assert.deepEqual(Array.from(out), new Array(24).fill(0));
    });
    it('the fast kernel matches the naive C oracle (version 0) on a product that spans several cache blocks', () => {
      const rng = new Rng(7);
      const [M, K, P] = [301, 600, 333];
      const a = Float32Array.from({ length: M * K }, () => rng.normal());
      const b = Float32Array.from({ length: K * P }, () => rng.normal());
      const meta = new Float64Array([1, M, K, P, 0, 0, K, 1, 0, 0, 1, K]); // b read transposed: [K, P] with strides [1, K]
      const fast = new Float32Array(M * P);
      const slow = new Float32Array(M * P);
      backend.addon.matmul(fast, a, b, meta);
      backend.addon.sgemmNaive(slow, a, b, meta);
      let worst = 0;
      for (let i = 0; i < fast.length; i++) worst = Math.max(worst, Math.abs(fast[i] - slow[i]));
      // |terms| ~ 0.8 each, 600 of them: 2^-23·sqrt(600)·600·0.8·4 ≈ 0.006
      assert.ok(worst < 6e-3, `largest difference ${worst}`);
    });
  });
}

if (native) describeFused();
if (native) describeParallel();

/** Tensors large enough that the kernels split them over threads (the conformance suite's are not), against ref. */
function describeParallel(): void {
  const backend = native!;
  const pair = (data: Float32Array | Int32Array, layout: Layout): [View, View] => [
    { storage: backend.fromArray(data), layout },
    { storage: refBackend.fromArray(data), layout },
  ];
  const read = (b: typeof backend | typeof refBackend, s: Storage) => b.toArray({ storage: s, layout: { shape: [s.length], strides: [1], offset: 0 } });
  describe('native kernels split over 2 threads agree with ref', () => {
    it('copy, unary, binary, where, reduce, indexSelect, indexAdd on large strided views', () => {
      const before = backend.threads();
      backend.setThreads(2);
      try {
        const rng = new Rng(31);
        const big = Float32Array.from({ length: 300 * 257 + 7 }, () => rng.normal());
        const row = Float32Array.from({ length: 257 }, () => rng.normal());
        const [tN, tR] = pair(big, { shape: [257, 300], strides: [1, 257], offset: 7 }); // transposed, offset
        const [cN, cR] = pair(big, { shape: [300, 257], strides: [257, 1], offset: 7 });
        const [rN, rR] = pair(row, { shape: [300, 257], strides: [0, 1], offset: 0 }); // broadcast row
        const long = Float32Array.from({ length: 100005 }, () => rng.normal() * 3);
        const [lN, lR] = pair(long, { shape: [100003], strides: [1], offset: 2 }); // one long odd-length row
        assert.deepEqual(read(backend, backend.copy(tN)), read(refBackend, refBackend.copy(tR)), 'copy transposed');
        assert.deepEqual(read(backend, backend.copy(lN, 'int32')), read(refBackend, refBackend.copy(lR, 'int32')), 'copy long row to int32');
        assert.deepEqual(read(backend, backend.binary('add', cN, rN)), read(refBackend, refBackend.binary('add', cR, rR)), 'add broadcast row');
        assert.deepEqual(read(backend, backend.binary('mul', lN, lN)), read(refBackend, refBackend.binary('mul', lR, lR)), 'mul long row');
        assertClose(read(backend, backend.unary('exp', tN)), read(refBackend, refBackend.unary('exp', tR)), { rtol: 2e-6, label: 'exp transposed' });
        assertClose(read(backend, backend.unary('tanh', lN)), read(refBackend, refBackend.unary('tanh', lR)), { rtol: 2e-6, label: 'tanh long row' });
        const [gN, gR] = pair(Float32Array.from(big, (v) => (v > 0 ? 1 : 0)), { shape: [300, 257], strides: [257, 1], offset: 7 });
        assert.deepEqual(read(backend, backend.where(gN, cN, rN)), read(refBackend, refBackend.where(gR, cR, rR)), 'where');
        for (const op of ['sum', 'max', 'argmax'] as const) {
          for (const axis of [0, 1]) {
            assertClose(read(backend, backend.reduce(op, tN, axis)), read(refBackend, refBackend.reduce(op, tR, axis)), { rtol: 1e-5, atol: 1e-5, label: `${op} axis ${axis}` });
          }
        }
        const table = Float32Array.from({ length: 50 * 640 }, () => rng.normal());
        const ids = Int32Array.from({ length: 4000 }, () => rng.int(50));
        const [tabN, tabR] = pair(table, { shape: [50, 640], strides: [640, 1], offset: 0 });
        const [idN, idR] = pair(ids, { shape: [4000], strides: [1], offset: 0 });
        assert.deepEqual(read(backend, backend.indexSelect(tabN, idN)), read(refBackend, refBackend.indexSelect(tabR, idR)), 'indexSelect');
        const src = Float32Array.from({ length: 4000 * 640 }, () => rng.normal());
        const [sN, sR] = pair(src, { shape: [4000, 640], strides: [640, 1], offset: 0 });
        assert.deepEqual(read(backend, backend.indexAdd(sN, idN, 50)), read(refBackend, refBackend.indexAdd(sR, idR, 50)), 'indexAdd (same order of sums as ref)');
      } finally {
        backend.setThreads(before);
      }
    });
  });
}

/** The fused kernels against their oracles: the composed softmax and layerNorm of src/tensor/ops, run on ref. */
function describeFused(): void {
  // The flavour with the fused kernels (the default).
  const backend = loadNativeBackend({ fused: true })!;
  const viewOn = (data: Float32Array, layout: Layout): View => ({ storage: backend.fromArray(data), layout });
  const flat = (s: Storage, n: number) => backend.toArray({ storage: s, layout: { shape: [n], strides: [1], offset: 0 } });
  /** [rows, n] data laid out plainly or stored [n, rows] and viewed transposed (last-axis stride ≠ 1). */
  const cases = (rng: Rng, lead: number[], n: number, draw: () => number = () => rng.normal() * 3) => {
    const rows = lead.reduce((p, q) => p * q, 1);
    const shape = [...lead, n];
    const plain = Float32Array.from({ length: rows * n }, draw);
    const strides = shape.map((_, i) => shape.slice(i + 1).reduce((p, q) => p * q, 1));
    const out: { name: string; data: Float32Array; layout: Layout; values: Float32Array }[] = [
      { name: 'contiguous', data: plain, layout: { shape, strides, offset: 0 }, values: plain },
    ];
    if (lead.length === 1) {
      const t = new Float32Array(rows * n);
      for (let r = 0; r < rows; r++) for (let c = 0; c < n; c++) t[c * rows + r] = plain[r * n + c];
      out.push({ name: 'transposed', data: t, layout: { shape, strides: [1, rows], offset: 0 }, values: plain });
    }
    return out;
  };

  describe('native fused kernels against the composed ops on ref', () => {
    it('softmax over the last axis: widths around the 16-lane blocks, strided rows, extreme values', () => {
      const rng = new Rng(21);
      for (const [lead, n] of [[[7], 33], [[2, 3], 128], [[5], 1000], [[1], 1], [[300], 17]] as [number[], number][]) {
        for (const c of cases(rng, lead, n)) {
          const got = flat(backend.softmax!(viewOn(c.data, c.layout))!, c.values.length);
          const want = softmax(tensor(c.values, { shape: c.layout.shape, backend: refBackend }), -1).toArray();
          assertClose(got, want, { atol: 1e-7, rtol: 1e-5, label: `softmax ${c.name} [${c.layout.shape}]` });
        }
      }
      const edge = Float32Array.from([80, -1000, 0, -Infinity, 88, 1, 2, 3, NaN, 0, 0, 0]);
      const got = flat(backend.softmax!(viewOn(edge, { shape: [3, 4], strides: [4, 1], offset: 0 }))!, 12);
      const want = softmax(tensor(edge, { shape: [3, 4], backend: refBackend }), -1).toArray();
      assertClose(got, want, { atol: 1e-7, rtol: 1e-5, label: 'softmax edge values' });
    });
    it('layerNorm over the last axis with and without weight and bias, strided rows', () => {
      const rng = new Rng(22);
      for (const [lead, n] of [[[7], 33], [[2, 3], 128], [[4], 1000], [[300], 5]] as [number[], number][]) {
        const w = Float32Array.from({ length: n }, () => 1 + 0.5 * rng.normal());
        const b = Float32Array.from({ length: n }, () => rng.normal());
        for (const c of cases(rng, lead, n, () => 5 + rng.normal() * 2)) {
          for (const [useW, useB] of [[true, true], [false, false], [true, false]]) {
            const res = backend.layerNorm!(viewOn(c.data, c.layout), useW ? viewOn(w, { shape: [n], strides: [1], offset: 0 }) : null,
              useB ? viewOn(b, { shape: [n], strides: [1], offset: 0 }) : null, 1e-5)!;
            const x = tensor(c.values, { shape: c.layout.shape, backend: refBackend });
            const want = layerNorm(x, useW ? tensor(w, { backend: refBackend }) : null, useB ? tensor(b, { backend: refBackend }) : null, 1e-5);
            const label = `layerNorm ${c.name} [${c.layout.shape}] weight=${useW} bias=${useB}`;
            assertClose(flat(res.y, c.values.length), want.toArray(), { atol: 1e-5, rtol: 1e-5, label });
            const rows = c.values.length / n;
            assertClose(flat(res.mean, rows), x.mean(-1).toArray(), { atol: 1e-5, rtol: 1e-5, label: `${label} mean` });
          }
        }
      }
    });
    it('softmax and layerNorm ops on native (fused) match the composed ops on ref, forward and backward', () => {
      const rng = new Rng(23);
      const [B, T, D] = [3, 5, 40];
      const xs = Float32Array.from({ length: B * T * D }, () => rng.normal() * 2);
      const ws = Float32Array.from({ length: D }, () => 1 + 0.3 * rng.normal());
      const bs = Float32Array.from({ length: D }, () => rng.normal());
      const up = tensor(Float32Array.from({ length: B * T * D }, () => rng.normal()), { shape: [B, T, D], backend: refBackend });
      const run = (b: typeof backend | typeof refBackend, which: 'softmax' | 'layerNorm') => {
        const x = tensor(xs, { shape: [B, T, D], backend: b, requiresGrad: true });
        const w = tensor(ws, { backend: b, requiresGrad: true });
        const bias = tensor(bs, { backend: b, requiresGrad: true });
        // A transposed view as input, so the fused kernels meet strided rows inside the graph too.
        const xt = x.transpose(0, 1).contiguous().transpose(0, 1);
        const y = which === 'softmax' ? softmax(xt, -1) : layerNorm(xt, w, bias, 1e-5);
        y.mul(tensor(up.toArray(), { shape: [B, T, D], backend: b })).sum().backward();
        return { y: y.toArray(), dx: x.grad!.toArray(), dw: w.grad?.toArray(), db: bias.grad?.toArray(), op: y.node!.op };
      };
      for (const which of ['softmax', 'layerNorm'] as const) {
        const fused = run(backend, which);
        const composed = run(refBackend, which);
        assert.equal(fused.op, which, `native ${which} took the fused path`);
        assertClose(fused.y, composed.y, { atol: 1e-5, rtol: 1e-5, label: `${which} forward` });
        assertClose(fused.dx, composed.dx, { atol: 1e-5, rtol: 1e-4, label: `${which} dx` });
        if (which === 'layerNorm') {
          assertClose(fused.dw!, composed.dw!, { atol: 1e-4, rtol: 1e-4, label: 'layerNorm dweight' });
          assertClose(fused.db!, composed.db!, { atol: 1e-4, rtol: 1e-4, label: 'layerNorm dbias' });
        }
      }
    });
    it('the default flavour has the fused kernels; fused: false has none, so softmax and layerNorm compose', () => {
      assert.equal(typeof native!.softmax, 'function');
      const composed = loadNativeBackend({ fused: false })!;
      assert.equal(composed.softmax, undefined);
      assert.equal(composed.layerNorm, undefined);
    });
    it('declines what it has no kernel for (float64), so ops compose instead', () => {
      const x: View = { storage: backend.fromArray(new Float64Array(6)), layout: { shape: [2, 3], strides: [3, 1], offset: 0 } };
      assert.equal(backend.softmax!(x), null);
      assert.equal(backend.layerNorm!(x, null, null, 1e-5), null);
    });
  });
}
