// The native Linear kernel (bias and ReLU in the GEMM epilogue, db summed from the packed dW product) against
// the composed matmul + add (+ relu) on ref in float64 and on native without fused kernels; finite differences.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from '../../src/backend/backend.js';
import { refBackend } from '../../src/backend/ref.js';
import type { DType } from '../../src/core/dtype.js';
import { Rng } from '../../src/core/rng.js';
import { Linear, linear } from '../../src/nn/linear.js';
import { loadNativeBackend } from '../../src/node/backend-select.js';
import { Tensor, noGrad, tensor } from '../../src/tensor/index.js';
import { assertClose } from '../helpers/assert-close.js';

const native = loadNativeBackend();
const composed = native ? loadNativeBackend({ fused: false }) : null;

const normals = (rng: Rng, n: number, scale = 1) => Float32Array.from({ length: n }, () => rng.normal() * scale);

interface Case {
  name: string;
  /** x's shape; its last axis is K. */
  x: number[];
  N: number;
  bias?: boolean;
  relu?: boolean;
  /** How the weight [N, K] is stored: plain, as the transpose of a [K, N] matrix, or rows of a larger [3N, K] one (attention's in_proj). */
  weight?: 'plain' | 'transposed' | 'rows';
  /** x stored [T, B, K] and viewed [B, T, K] (not foldable into rows without a copy), or as every other column of [.., 2K]. */
  xView?: 'permuted' | 'strided';
  /** Threads for this case (the long-K weight gradient splits K over threads only with 2 or more). */
  threads?: number;
}

const cases: Case[] = [
  { name: 'small, sizes off the tile grid', x: [7, 5], N: 3 },
  { name: '37×70 → 45 with ReLU', x: [37, 70], N: 45, relu: true },
  { name: 'one row (the unpacked path)', x: [1, 33], N: 17 },
  { name: 'one row with ReLU', x: [1, 64], N: 40, relu: true },
  { name: 'one output feature (dW is a one-row product)', x: [9, 7], N: 1, relu: true },
  { name: 'batch dims [B, T, K]', x: [3, 5, 24], N: 40 },
  { name: 'no bias', x: [4, 9, 20], N: 13, bias: false },
  { name: 'no bias, ReLU', x: [50, 16], N: 70, bias: false, relu: true },
  { name: 'weight a transposed view', x: [2, 11, 19], N: 21, weight: 'transposed' },
  { name: 'weight and bias rows of a packed projection', x: [2, 6, 32], N: 32, weight: 'rows', relu: true },
  { name: 'x a permuted view', x: [4, 3, 10], N: 9, xView: 'permuted' },
  { name: 'x every other column', x: [20, 12], N: 30, xView: 'strided', relu: true },
  { name: '300×128 → 384 (several cache blocks)', x: [300, 128], N: 384 },
  { name: '2100 rows, 2 threads (K split in dW)', x: [2100, 64], N: 96, relu: true, threads: 2 },
  { name: '2100 rows, 2 threads, no bias', x: [2100, 40], N: 33, bias: false, threads: 2 },
];

interface Run { op: string; y: Tensor; dx: Tensor; dw: Tensor; db: Tensor | null }

/** linear on `backend` in `dtype` with the case's views; backward of Σ y ⊙ u. */
function run(c: Case, backend: Backend, dtype: DType, data: { x: Float32Array; w: Float32Array; b: Float32Array; u: Float32Array }): Run {
  const K = c.x[c.x.length - 1];
  const N = c.N;
  const on = (d: Float32Array, shape: number[], grad = false) => tensor(dtype === 'float64' ? Float64Array.from(d) : d, { shape, backend, requiresGrad: grad });
  // x: the leaf is stored in the case's layout; the op sees the view.
  let xLeaf: Tensor;
  let x: Tensor;
  if (c.xView === 'permuted') {
    const [B, T] = c.x;
    xLeaf = on(data.x, [T, B, K], true);
    x = xLeaf.permute([1, 0, 2]);
  } else if (c.xView === 'strided') {
    const rows = c.x[0];
    xLeaf = on(data.x, [rows, K, 2], true);
    x = xLeaf.narrow(2, 1, 1).reshape([rows, K]);
  } else {
    xLeaf = on(data.x, c.x, true);
    x = xLeaf;
  }
  let wLeaf: Tensor;
  let w: Tensor;
  let bLeaf: Tensor | null = null;
  let b: Tensor | null = null;
  if (c.weight === 'transposed') {
    wLeaf = on(data.w, [K, N], true);
    w = wLeaf.transpose(0, 1);
  } else if (c.weight === 'rows') {
    wLeaf = on(data.w, [3 * N, K], true);
    w = wLeaf.narrow(0, N, N);
  } else {
    wLeaf = on(data.w, [N, K], true);
    w = wLeaf;
  }
  if (c.bias !== false) {
    bLeaf = on(data.b, [c.weight === 'rows' ? 3 * N : N], true);
    b = c.weight === 'rows' ? bLeaf.narrow(0, N, N) : bLeaf;
  }
  const y = linear(x, w, b, c.relu ? 'relu' : 'none');
  y.mul(on(data.u, [...c.x.slice(0, -1), N])).sum().backward();
  return { op: y.node!.op, y, dx: xLeaf.grad!, dw: wLeaf.grad!, db: bLeaf ? bLeaf.grad! : null };
}

function caseData(c: Case) {
  const K = c.x[c.x.length - 1];
  const M = c.x.slice(0, -1).reduce((p, q) => p * q, 1);
  const rng = new Rng(M * 7 + K * 13 + c.N);
  const xs = c.xView === 'strided' ? 2 : 1;
  const ws = c.weight === 'rows' ? 3 : 1;
  return { x: normals(rng, M * K * xs), w: normals(rng, ws * c.N * K, 1 / Math.sqrt(K)), b: normals(rng, ws * c.N), u: normals(rng, M * c.N) };
}

if (!native || !composed) {
  describe('native linear kernel', () => {
    it('is not built (run `npm run build:native`); skipped', { skip: 'qkv_native.node did not load' }, () => {});
  });
} else {
  const threads0 = native.threads();
  after(() => native.setThreads(threads0));

  describe('native linear against the composed matmul + add (+ relu) on ref in float64', () => {
    for (const c of cases) {
      it(c.name, () => {
        const data = caseData(c);
        native.setThreads(c.threads ?? threads0);
        const got = run(c, native, 'float32', data);
        native.setThreads(threads0);
        const want = run(c, refBackend, 'float64', data);
        assert.equal(got.op, c.relu ? 'linearRelu' : 'linear', 'native took the fused kernel');
        assert.equal(want.op, c.relu ? 'relu' : c.bias === false ? 'matmul' : 'add', 'ref composed the op');
        const tol = { atol: 2e-5, rtol: 2e-5 };
        assertClose(got.y.toArray(), want.y.toArray(), { ...tol, label: `${c.name}: y` });
        assert.deepEqual(got.y.shape, want.y.shape);
        assertClose(got.dx.toArray(), want.dx.toArray(), { ...tol, label: `${c.name}: dx` });
        assertClose(got.dw.toArray(), want.dw.toArray(), { atol: 1e-4, rtol: 2e-5, label: `${c.name}: dweight` });
        if (want.db) assertClose(got.db!.toArray(), want.db.toArray(), { atol: 1e-4, rtol: 2e-5, label: `${c.name}: dbias` });
        else assert.equal(got.db, null);
      });
    }
  });

  describe('native linear against the composed ops on the same native kernels', () => {
    for (const c of cases) {
      it(`${c.name}: y and dx equal bit for bit (the epilogue rounds as the add and relu kernels do)`, () => {
        const data = caseData(c);
        native.setThreads(c.threads ?? threads0);
        const got = run(c, native, 'float32', data);
        const want = run(c, composed, 'float32', data);
        native.setThreads(threads0);
        assert.notEqual(want.op, got.op, 'fused: false composes');
        assert.deepEqual(got.y.toArray(), want.y.toArray());
        assert.deepEqual(got.dx.toArray(), want.dx.toArray());
        assertClose(got.dw.toArray(), want.dw.toArray(), { atol: 1e-5, rtol: 1e-5, label: `${c.name}: dweight` });
        if (want.db) assertClose(got.db!.toArray(), want.db.toArray(), { atol: 1e-4, rtol: 1e-5, label: `${c.name}: dbias` });
      });
    }
  });

  describe('native linear on every sgemm micro-kernel this CPU runs (epilogue in each kernel\'s registers)', () => {
    const picked = cases.filter((c) => ['37×70 → 45 with ReLU', 'weight and bias rows of a packed projection', '300×128 → 384 (several cache blocks)', '2100 rows, 2 threads (K split in dW)'].includes(c.name));
    for (const kernel of native.addon.gemmKernels()) {
      it(kernel, (t) => {
        const original = native.gemmKernel();
        if (native.gemmKernel(kernel) === null) { t.skip(`this CPU cannot run ${kernel}`); return; }
        try {
          for (const c of picked) {
            const data = caseData(c);
            native.setThreads(c.threads ?? threads0);
            const got = run(c, native, 'float32', data);
            const want = run(c, composed, 'float32', data);
            native.setThreads(threads0);
            const ref = run(c, refBackend, 'float64', data);
            assert.deepEqual(got.y.toArray(), want.y.toArray(), `${kernel}, ${c.name}: y`);
            assert.deepEqual(got.dx.toArray(), want.dx.toArray(), `${kernel}, ${c.name}: dx`);
            assertClose(got.dw.toArray(), ref.dw.toArray(), { atol: 1e-4, rtol: 2e-5, label: `${kernel}, ${c.name}: dweight` });
            assertClose(got.db!.toArray(), ref.db!.toArray(), { atol: 1e-4, rtol: 2e-5, label: `${kernel}, ${c.name}: dbias` });
          }
        } finally {
          native.setThreads(threads0);
          native.gemmKernel(original!);
        }
      });
    }
  });

  describe('native linear: finite differences and exact answers', () => {
    for (const relu of [false, true]) {
      it(`central differences of Σ y ⊙ u in float32${relu ? ', with ReLU' : ''}`, () => {
        const rng = new Rng(relu ? 11 : 10);
        const [B, T, K, N] = [2, 3, 4, 5];
        const data = { x: normals(rng, B * T * K), w: normals(rng, N * K, 0.5), b: normals(rng, N), u: normals(rng, B * T * N) };
        const h = 1 / 128;
        const f = (x: Float32Array, w: Float32Array, b: Float32Array) => noGrad(() => {
          const y = linear(tensor(x, { shape: [B, T, K], backend: native }), tensor(w, { shape: [N, K], backend: native }), tensor(b, { shape: [N], backend: native }), relu ? 'relu' : 'none');
          return Array.from(y.toArray()).reduce((s, yi, i) => s + yi * data.u[i], 0);
        });
        if (relu) {
          // Σ y ⊙ u is linear between ReLU kinks: every pre-activation must stay on its side of 0 when one input
          // moves by h, which changes it by at most h·max(|x|, |w|, 1).
          const pre = noGrad(() => linear(tensor(data.x, { shape: [B * T, K], backend: refBackend }), tensor(data.w, { shape: [N, K], backend: refBackend }), tensor(data.b, { shape: [N], backend: refBackend })).toArray());
          const margin = Math.min(...Array.from(pre, Math.abs));
          const step = h * Math.max(1, ...Array.from(data.x, Math.abs), ...Array.from(data.w, Math.abs));
          assert.ok(margin > step, `pre-activations ${margin} from the kink, a step moves them ${step}: choose another seed`);
        }
        const x = tensor(data.x, { shape: [B, T, K], backend: native, requiresGrad: true });
        const w = tensor(data.w, { shape: [N, K], backend: native, requiresGrad: true });
        const b = tensor(data.b, { shape: [N], backend: native, requiresGrad: true });
        const y = linear(x, w, b, relu ? 'relu' : 'none');
        assert.equal(y.node!.op, relu ? 'linearRelu' : 'linear');
        y.mul(tensor(data.u, { shape: [B, T, N], backend: native })).sum().backward();
        const inputs = [data.x, data.w, data.b];
        const grads = [x.grad!, w.grad!, b.grad!];
        for (let k = 0; k < 3; k++) {
          const fd = inputs[k].map((_, i) => {
            const plus = inputs.map((a, j) => (j === k ? a.map((v, q) => (q === i ? v + h : v)) : a));
            const minus = inputs.map((a, j) => (j === k ? a.map((v, q) => (q === i ? v - h : v)) : a));
            return (f(plus[0], plus[1], plus[2]) - f(minus[0], minus[1], minus[2])) / (2 * h);
          });
          assertClose(grads[k].toArray(), fd, { atol: 2e-3, rtol: 1e-3, label: `d${['x', 'weight', 'bias'][k]}` });
        }
      });
    }

    it('K = 0: y is the bias on every row, dbias counts the rows', () => {
      const x = tensor(new Float32Array(0), { shape: [3, 0], backend: native, requiresGrad: true });
      const w = tensor(new Float32Array(0), { shape: [4, 0], backend: native, requiresGrad: true });
      const b = tensor([1, -2, 3, -4], { backend: native, requiresGrad: true });
      const y = linear(x, w, b, 'relu');
      assert.deepEqual(y.toList(), [[1, 0, 3, 0], [1, 0, 3, 0], [1, 0, 3, 0]]);
      y.sum().backward();
      assert.deepEqual(Array.from(b.grad!.toArray()), [3, 0, 3, 0]);
    });

    it('no rows: an empty y and zero weight and bias gradients', () => {
      const x = tensor(new Float32Array(0), { shape: [0, 3], backend: native, requiresGrad: true });
      const w = tensor([[1, 2, 3], [4, 5, 6]], { backend: native, requiresGrad: true });
      const b = tensor([1, 2], { backend: native, requiresGrad: true });
      const y = linear(x, w, b);
      assert.deepEqual(y.shape, [0, 2]);
      y.sum().backward();
      assert.deepEqual(Array.from(w.grad!.toArray()), [0, 0, 0, 0, 0, 0]);
      assert.deepEqual(Array.from(b.grad!.toArray()), [0, 0]);
    });

    it('only the gradients asked for: a frozen weight still gives dx and dbias', () => {
      const rng = new Rng(3);
      const xd = normals(rng, 6 * 5);
      const wd = normals(rng, 4 * 5);
      const bd = normals(rng, 4);
      const grads = (backend: Backend) => {
        const x = tensor(xd, { shape: [6, 5], backend, requiresGrad: true });
        const w = tensor(wd, { shape: [4, 5], backend });
        const b = tensor(bd, { shape: [4], backend, requiresGrad: true });
        const y = linear(x, w, b, 'relu');
        y.mul(y).sum().backward();
        return { op: y.node!.op, dx: x.grad!.toArray(), db: b.grad!.toArray(), dw: w.grad };
      };
      const got = grads(native);
      const want = grads(composed);
      assert.equal(got.op, 'linearRelu');
      assert.equal(got.dw, null);
      assertClose(got.dx, want.dx, { atol: 1e-6 });
      assertClose(got.db, want.db, { atol: 1e-6 });
    });

    it('Linear modules use the kernel; fused: false and ref compose', () => {
      const fc = new Linear(8, 3, { rng: new Rng(0), backend: native });
      assert.equal(fc.forward(tensor(normals(new Rng(1), 16), { shape: [2, 8], backend: native })).node!.op, 'linear');
      assert.equal(composed.linear, undefined);
      assert.equal(refBackend.linear, undefined);
    });
  });
}
