// A backend's fused attention, layer-norm backward, cross-entropy, GELU and Adam kernels against their composed
// twins on ref (in float64 where the oracle should be exact): outputs and gradients, masks, odd sizes. Written once,
// run for native (native-fused.test.ts) and wasm (wasm.test.ts).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from '../../src/backend/backend.js';
import { refBackend } from '../../src/backend/ref.js';
import type { DType } from '../../src/core/dtype.js';
import { Rng } from '../../src/core/rng.js';
import { scaledDotProductAttention } from '../../src/nn/attention.js';
import { Adam, AdamW } from '../../src/optim/adam.js';
import { Tensor, crossEntropy, dropout, dropoutMask, gelu, geluTanh, layerNorm, tensor } from '../../src/tensor/index.js';
import { assertClose } from '../helpers/assert-close.js';

const normals = (rng: Rng, n: number, scale = 1) => Float32Array.from({ length: n }, () => rng.normal() * scale);
const on = (data: Float32Array | Int32Array, shape: number[], backend: Backend, dtype?: DType, grad = false) =>
  tensor(data, { shape, backend, dtype, requiresGrad: grad });

/**
 * Registers the fused-kernel suite for `backend` with node:test.
 *
 * @example
 * describeFusedKernels(loadNativeBackend()!);
 */
export function describeFusedKernels(backend: Backend): void {
  describeAttention(backend);
  describeLayerNorm(backend);
  describeDropout(backend);
  describeCrossEntropy(backend);
  describeGelu(backend);
  describeAdam(backend);
}

interface AttnCase {
  name: string;
  B: number; H: number; T: number; S: number; K: number; Vd: number;
  /** The mask's shape and its values (1 = not allowed), or none. */
  mask?: { shape: number[]; values: (i: number[]) => number; dtype?: DType };
  /** q, k, v stored [B, T, H, K] and viewed [B, H, T, K] (as MultiHeadAttention makes them). */
  permuted?: boolean;
}

function describeAttention(backend: Backend): void {
  const cases: AttnCase[] = [
    { name: 'no mask, T ≠ S, K not a multiple of 8', B: 2, H: 3, T: 5, S: 7, K: 10, Vd: 9 },
    { name: 'causal [T, S]', B: 1, H: 2, T: 13, S: 13, K: 16, Vd: 16, mask: { shape: [13, 13], values: ([t, s]) => (s > t ? 1 : 0) } },
    { name: 'causal with a cache (S > T)', B: 2, H: 2, T: 3, S: 8, K: 8, Vd: 5, mask: { shape: [3, 8], values: ([t, s]) => (s > t + 5 ? 1 : 0) } },
    {
      name: 'key padding [B, 1, 1, S] int32, one batch fully masked', B: 3, H: 2, T: 6, S: 9, K: 12, Vd: 7,
      mask: { shape: [3, 1, 1, 9], dtype: 'int32', values: ([b, , , s]) => (b === 1 ? 1 : s >= 9 - 2 * b ? 1 : 0) },
    },
    { name: 'one [B, 1, T, S] mask for every head, with holes (not a suffix) that differ by batch entry', B: 3, H: 2, T: 5, S: 7, K: 6, Vd: 5,
      mask: { shape: [3, 1, 5, 7], values: ([b, , t, s]) => ((s * (b + 1) + t) % 3 === 0 ? 1 : 0) } },
    { name: 'one [T, S] mask for every head, a fully masked row, T not a multiple of 4', B: 2, H: 3, T: 6, S: 5, K: 4, Vd: 3,
      mask: { shape: [6, 5], values: ([t, s]) => (t === 2 || s > t + 1 ? 1 : 0) } },
    { name: 'T = 1, S = 1', B: 2, H: 1, T: 1, S: 1, K: 3, Vd: 2 },
    { name: 'T = 1 over many keys', B: 1, H: 2, T: 1, S: 37, K: 20, Vd: 33, mask: { shape: [1, 37], values: ([, s]) => (s % 5 === 0 ? 1 : 0) } },
    {
      name: 'general [B, H, T, S] mask with fully masked rows', B: 2, H: 2, T: 7, S: 6, K: 5, Vd: 4,
      mask: { shape: [2, 2, 7, 6], values: ([b, h, t, s]) => (t === 3 || (b + h + t * s) % 3 === 0 ? 1 : 0) },
    },
    { name: 'permuted views, 70 × 70, K = 64 (several tiles, 2 threads)', B: 2, H: 2, T: 70, S: 70, K: 64, Vd: 64, permuted: true,
      mask: { shape: [70, 70], values: ([t, s]) => (s > t ? 1 : 0) } },
  ];

  describe(`${backend.name} fused attention against the composed softmax(QKᵀ/√K + mask)V on ref (float64)`, () => {
    for (const c of cases) {
      it(c.name, () => {
        const rng = new Rng(c.T * 31 + c.S * 7 + c.K);
        const { B, H, T, S, K, Vd } = c;
        const qd = normals(rng, B * H * T * K, 1.5);
        const kd = normals(rng, B * H * S * K, 1.5);
        const vd = normals(rng, B * H * S * Vd);
        const up = normals(rng, B * H * T * Vd);
        let maskData: Float32Array | null = null;
        if (c.mask) {
          const shape = c.mask.shape;
          maskData = new Float32Array(shape.reduce((p, q) => p * q, 1));
          for (let i = 0; i < maskData.length; i++) {
            const idx: number[] = [];
            let r = i;
            for (let d = shape.length - 1; d >= 0; d--) { idx.unshift(r % shape[d]); r = Math.floor(r / shape[d]); }
            maskData[i] = c.mask.values(idx);
          }
        }
        const run = (b: Backend, dtype: DType, fused: boolean) => {
          const make = (d: Float32Array, L: number, D: number) => {
            if (!c.permuted) return on(d, [B, H, L, D], b, dtype, true);
            return on(d, [B, L, H, D], b, dtype, true); // the same numbers, read as [B, T, H, K] below
          };
          const [q, k, v] = [make(qd, T, K), make(kd, S, K), make(vd, S, Vd)];
          const view = (x: Tensor) => (c.permuted ? x.permute([0, 2, 1, 3]) : x);
          const mask = maskData ? on(maskData, c.mask!.shape, b, c.mask!.dtype ?? 'float32') : null;
          const r = scaledDotProductAttention(view(q), view(k), view(v), mask, { needWeights: !fused ? true : false });
          r.output.mul(on(up, [B, H, T, Vd], b, dtype)).sum().backward();
          return { out: r.output, op: r.output.node!.op, dq: q.grad!, dk: k.grad!, dv: v.grad! };
        };
        const got = run(backend, 'float32', true);
        const want = run(refBackend, 'float64', false);
        assert.equal(got.op, 'attention', `${backend.name} took the fused kernel`);
        const tol = { atol: 2e-5, rtol: 1e-4 };
        assertClose(got.out.toArray(), want.out.toArray(), { ...tol, label: `${c.name}: output` });
        assertClose(got.dq.toArray(), want.dq.toArray(), { ...tol, label: `${c.name}: dq` });
        assertClose(got.dk.toArray(), want.dk.toArray(), { ...tol, label: `${c.name}: dk` });
        assertClose(got.dv.toArray(), want.dv.toArray(), { ...tol, label: `${c.name}: dv` });
      });
    }
    it('fully masked rows give exactly zero output and zero gradients', () => {
      const rng = new Rng(5);
      const [q, k, v] = [[1, 1, 3, 4], [1, 1, 2, 4], [1, 1, 2, 3]].map((s) => on(normals(rng, s.reduce((p, x) => p * x)), s, backend, 'float32', true));
      const mask = on(Float32Array.from([0, 1, 1, 1, 1, 0]), [3, 2], backend);
      const { output } = scaledDotProductAttention(q, k, v, mask, { needWeights: false });
      output.sum().backward();
      assert.deepEqual(Array.from(output.toArray().slice(3, 6)), [0, 0, 0]);
      assert.deepEqual(Array.from(q.grad!.toArray().slice(4, 8)), [0, 0, 0, 0]);
      assert.ok(Array.from(k.grad!.toArray()).every(Number.isFinite));
    });
    it('weights asked for, or dropout in training: the composed path', () => {
      const rng = new Rng(6);
      const [q, k, v] = [0, 1, 2].map(() => on(normals(rng, 2 * 3 * 4), [1, 2, 3, 4], backend, 'float32', true));
      assert.notEqual(scaledDotProductAttention(q, k, v).output.node!.op, 'attention');
      const drop = scaledDotProductAttention(q, k, v, null, { needWeights: false, dropout: 0.5, training: true, rng });
      assert.notEqual(drop.output.node!.op, 'attention');
      const evalMode = scaledDotProductAttention(q, k, v, null, { needWeights: false, dropout: 0.5, training: false });
      assert.equal(evalMode.output.node!.op, 'attention');
      assert.equal(evalMode.weights, undefined);
    });
  });
}

function describeCrossEntropy(backend: Backend): void {
  describe(`${backend.name} fused cross-entropy against the composed log-softmax on ref (float64)`, () => {
    const settings = [
      { labelSmoothing: 0, reduction: 'mean' as const },
      { labelSmoothing: 0.1, reduction: 'mean' as const },
      { labelSmoothing: 0.2, reduction: 'sum' as const },
    ];
    for (const [N, V] of [[13, 37], [4, 1000], [1, 1], [40, 17]]) {
      for (const s of settings) {
        it(`[${N}, ${V}] smoothing ${s.labelSmoothing}, ${s.reduction}, ignored rows`, () => {
          const rng = new Rng(N * V);
          const x = normals(rng, N * V, 3);
          const t = Int32Array.from({ length: N }, (_, n) => (n % 4 === 2 ? -100 : rng.int(V)));
          const run = (b: Backend, dtype: DType) => {
            const logits = on(x, [N, V], b, dtype, true);
            const loss = crossEntropy(logits, on(t, [N], b, 'int32'), s);
            loss.mul(1.7).backward();
            return { loss: loss.item(), dx: logits.grad!.toArray(), op: loss.node!.op };
          };
          const got = run(backend, 'float32');
          const want = run(refBackend, 'float64');
          assert.equal(got.op, 'crossEntropy');
          assertClose(got.loss, want.loss, { rtol: 1e-5, atol: 1e-6, label: 'loss' });
          assertClose(got.dx, want.dx, { rtol: 1e-4, atol: 1e-7, label: 'dlogits' });
        });
      }
    }
    it('a −∞ logit off the target gives a finite loss without smoothing; all rows ignored gives NaN for the mean', () => {
      const x = on(Float32Array.from([0, -Infinity, 1, 2, -Infinity, 0]), [2, 3], backend, 'float32', true);
      const xr = on(Float32Array.from([0, -Infinity, 1, 2, -Infinity, 0]), [2, 3], refBackend, 'float64');
      const t = Int32Array.from([2, 0]);
      assertClose(crossEntropy(x, on(t, [2], backend, 'int32')).item(), crossEntropy(xr, on(t, [2], refBackend, 'int32')).item(), { rtol: 1e-6 });
      assert.ok(Number.isNaN(crossEntropy(x, on(Int32Array.from([-100, -100]), [2], backend, 'int32')).item()));
    });
    it('strided logits (a transposed view)', () => {
      const rng = new Rng(9);
      const x = normals(rng, 6 * 11);
      const t = Int32Array.from([1, 5, 0, 3, 2, 4]);
      const got = crossEntropy(on(x, [11, 6], backend).transpose(0, 1), on(t, [6], backend, 'int32')).item();
      const want = crossEntropy(on(x, [11, 6], refBackend, 'float64').transpose(0, 1), on(t, [6], refBackend, 'int32')).item();
      assertClose(got, want, { rtol: 1e-5 });
    });
  });
}

function describeGelu(backend: Backend): void {
  describe(`${backend.name} fused GELU against the composed formulas on ref (float64)`, () => {
    for (const [name, f] of [['erf', gelu], ['tanh', geluTanh]] as const) {
      it(`${name} form: forward and backward, odd length, a strided view`, () => {
        const rng = new Rng(name.length);
        const xs = normals(rng, 37 * 5, 3);
        xs[0] = 0; xs[1] = -12; xs[2] = 12;
        const up = normals(rng, 37 * 5);
        const run = (b: Backend, dtype: DType) => {
          const x = on(xs, [37, 5], b, dtype, true);
          const y = f(x.transpose(0, 1));
          y.mul(on(up, [5, 37], b, dtype)).sum().backward();
          return { y: y.toArray(), dx: x.grad!.toArray(), op: y.node!.op };
        };
        const got = run(backend, 'float32');
        const want = run(refBackend, 'float64');
        assert.equal(got.op, name === 'erf' ? 'gelu' : 'geluTanh');
        assertClose(got.y, want.y, { atol: 1e-6, rtol: 1e-5, label: `gelu ${name}` });
        assertClose(got.dx, want.dx, { atol: 1e-6, rtol: 1e-5, label: `gelu ${name} dx` });
      });
    }
  });
}

function describeLayerNorm(backend: Backend): void {
  describe(`${backend.name} fused layer-norm backward against the composed backward on ref (float64)`, () => {
    const cases = [
      { name: 'weight and bias, 7 × 13', rows: 7, n: 13, weight: true, bias: true },
      { name: 'no parameters, 5 × 3', rows: 5, n: 3, weight: false, bias: false },
      { name: 'weight only, a transposed (strided) input', rows: 9, n: 17, weight: true, bias: false, transposed: true },
      { name: 'bias only, 1 × 1', rows: 1, n: 1, weight: false, bias: true },
      { name: '600 × 130 (several tasks summing dweight, dbias)', rows: 600, n: 130, weight: true, bias: true },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const rng = new Rng(c.rows * 131 + c.n);
        const xs = normals(rng, c.rows * c.n, 2);
        const up = normals(rng, c.rows * c.n);
        const ws = normals(rng, c.n);
        const bs = normals(rng, c.n);
        const run = (b: Backend, dtype: DType) => {
          const x = c.transposed ? on(xs, [c.n, c.rows], b, dtype, true) : on(xs, [c.rows, c.n], b, dtype, true);
          const w = c.weight ? on(ws, [c.n], b, dtype, true) : null;
          const bias = c.bias ? on(bs, [c.n], b, dtype, true) : null;
          const y = layerNorm(c.transposed ? x.transpose(0, 1) : x, w, bias);
          y.mul(on(up, [c.rows, c.n], b, dtype)).sum().backward();
          return { y: y.toArray(), dx: x.grad!.toArray(), dw: w?.grad!.toArray(), db: bias?.grad!.toArray() };
        };
        const kernel = backend.layerNormBackward!;
        let calls = 0;
        backend.layerNormBackward = (...args) => { calls++; return kernel.apply(backend, args); };
        let got;
        try {
          got = run(backend, 'float32');
        } finally {
          backend.layerNormBackward = kernel;
        }
        const want = run(refBackend, 'float64');
        assert.equal(calls, 1, 'the fused backward ran');
        assertClose(got.y, want.y, { atol: 1e-5, rtol: 1e-5, label: 'y' });
        assertClose(got.dx, want.dx, { atol: 2e-5, rtol: 1e-4, label: 'dx' });
        if (c.weight) assertClose(got.dw!, want.dw!, { atol: 1e-4, rtol: 1e-4, label: 'dweight' });
        if (c.bias) assertClose(got.db!, want.db!, { atol: 1e-4, rtol: 1e-4, label: 'dbias' });
      });
    }
  });
}

function describeDropout(backend: Backend): void {
  describe(`${backend.name} dropout masks against the spec (ref)`, () => {
    for (const [seed, p, n] of [[1, 0.1, 100_003], [42, 0.5, 17], [-3, 0.9, 1], [8, 0.3, 1_000_003]] as const) {
      it(`seed ${seed}, p ${p}, ${n} elements: the same mask and the same generator state after`, () => {
        const a = new Rng(seed);
        const key: [number, number] = [a.nextU32(), a.nextU32()];
        const got = backend.dropoutMask!(n, p, 1 / (1 - p), key)!;
        const want = dropoutMask('float32', n, p, new Rng(seed));
        assert.deepEqual(backend.toArray({ storage: got, layout: { shape: [n], strides: [1], offset: 0 } }), want);
        // dropout() on the backend: x ⊙ mask through the kernel, and the Rng advanced as on ref.
        const xs = normals(new Rng(5), n);
        const ra = new Rng(seed);
        const rb = new Rng(seed);
        const yn = dropout(on(xs, [n], backend), p, ra, true).toArray();
        const yr = dropout(on(xs, [n], refBackend), p, rb, true).toArray();
        assert.deepEqual(yn, yr);
        assert.deepEqual(ra.getState(), rb.getState());
        assert.deepEqual(dropoutMask('float32', 8, p, ra), dropoutMask('float32', 8, p, rb));
      });
    }
  });
}

function describeAdam(backend: Backend): void {
  describe(`${backend.name} fused Adam/AdamW update against the composed update on ref (float64)`, () => {
    for (const [name, make] of [
      ['Adam', (p: Tensor[]) => new Adam(p, { lr: 0.01, betas: [0.9, 0.98], eps: 1e-9 })],
      ['Adam with L2 weight decay', (p: Tensor[]) => new Adam(p, { lr: 0.01, weightDecay: 0.05 })],
      ['AdamW', (p: Tensor[]) => new AdamW(p, { lr: 0.02, weightDecay: 0.1 })],
    ] as const) {
      it(`${name}: 6 steps on a parameter and a view-shaped gradient`, () => {
        const rng = new Rng(name.length);
        const p0 = normals(rng, 1000 * 3);
        const grads = Array.from({ length: 6 }, () => normals(rng, 1000 * 3));
        const run = (b: Backend, dtype: DType) => {
          const p = on(p0, [1000, 3], b, dtype);
          const opt = make([p]);
          for (const g of grads) {
            p.grad = on(g, [3, 1000], b, dtype).transpose(0, 1); // not contiguous: the kernel gets a copy
            opt.step();
          }
          return { p: p.toArray(), m: opt.stateDict().tensors.get('exp_avg.0')!.toArray() };
        };
        const got = run(backend, 'float32');
        const want = run(refBackend, 'float64');
        assertClose(got.p, want.p, { atol: 1e-6, rtol: 1e-5, label: `${name} parameter` });
        assertClose(got.m, want.m, { atol: 1e-6, rtol: 1e-5, label: `${name} exp_avg` });
      });
    }
  });
}
