// fusedMultiHeadAttention (native): heads read straight from token-major projections and written back as their
// concatenation, against the composed path on ref in float64 (narrow → heads → softmax(QKᵀ/√d + mask)V → concat).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from '../../src/backend/backend.js';
import { refBackend } from '../../src/backend/ref.js';
import type { DType } from '../../src/core/dtype.js';
import { Rng } from '../../src/core/rng.js';
import { scaledDotProductAttention } from '../../src/nn/attention.js';
import { loadNativeBackend } from '../../src/node/backend-select.js';
import { Tensor, tensor } from '../../src/tensor/index.js';
import { fusedMultiHeadAttention } from '../../src/tensor/ops/fused.js';
import { assertClose } from '../helpers/assert-close.js';

const native = loadNativeBackend();
const normals = (rng: Rng, n: number, scale = 1) => Float32Array.from({ length: n }, () => rng.normal() * scale);

/** Which source each of q, k, v reads (index into `widths`) and from which column. */
interface MhaCase {
  name: string;
  B: number; H: number; d: number; T: number; S: number;
  /** Source widths; source 0 has T rows, the others S rows. */
  widths: number[];
  parts: [number, number][];
  mask?: (b: number, h: number, t: number, s: number) => number;
  maskShape?: (B: number, H: number, T: number, S: number) => number[];
}

const cases: MhaCase[] = [
  { name: 'self-attention from one [B, T, 3D] product, causal + padding mask', B: 3, H: 2, d: 8, T: 9, S: 9, widths: [48], parts: [[0, 0], [0, 16], [0, 32]],
    mask: (b, _h, t, s) => (s > t || s >= 9 - b ? 1 : 0), maskShape: (B, _H, T, S) => [B, 1, T, S] },
  { name: 'cross-attention: q [B, T, D], keys and values from one [B, S, 2D], padding mask [B, 1, 1, S]', B: 2, H: 4, d: 4, T: 5, S: 11, widths: [16, 32],
    parts: [[0, 0], [1, 0], [1, 16]], mask: (b, _h, _t, s) => (s >= 11 - 3 * b ? 1 : 0), maskShape: (B, _H, _T, S) => [B, 1, 1, S] },
  { name: 'three sources, extra columns no head reads (their gradient is 0), no mask', B: 2, H: 3, d: 5, T: 6, S: 7, widths: [20, 17, 15],
    parts: [[0, 3], [1, 2], [2, 0]] },
  { name: 'values before keys in one source, T = 1', B: 1, H: 2, d: 16, T: 1, S: 40, widths: [32, 64], parts: [[0, 0], [1, 32], [1, 0]] },
];

function runCase(c: MhaCase, backend: Backend, dtype: DType, fused: boolean) {
  const rng = new Rng(c.T * 13 + c.S * 5 + c.d);
  const { B, H, d, T, S } = c;
  const srcs = c.widths.map((W, i) => tensor(normals(rng, B * (i === 0 ? T : S) * W, 1.3), { shape: [B, i === 0 ? T : S, W], backend, dtype, requiresGrad: true }));
  const up = tensor(normals(rng, B * T * H * d), { shape: [B, T, H * d], backend, dtype });
  let mask: Tensor | null = null;
  if (c.mask) {
    const shape = c.maskShape!(B, H, T, S);
    const vals = new Float32Array(shape.reduce((p, q) => p * q, 1));
    const [sb, sh, st, ss] = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1];
    for (let b = 0; b < shape[0]; b++) for (let h = 0; h < shape[1]; h++) for (let t = 0; t < shape[2]; t++) for (let s = 0; s < shape[3]; s++) {
      vals[b * sb + h * sh + t * st + s * ss] = c.mask(b, h, t, s);
    }
    mask = tensor(vals, { shape, backend });
  }
  const parts = c.parts.map(([i, col]) => ({ src: srcs[i], col }));
  let out: Tensor;
  if (fused) {
    out = fusedMultiHeadAttention(parts[0], parts[1], parts[2], H, d, mask, 1 / Math.sqrt(d))!;
    assert.ok(out, 'native has the kernel');
    assert.equal(out.node!.op, 'multiHeadAttention');
  } else {
    const heads = (p: { src: Tensor; col: number }) => p.src.narrow(-1, p.col, H * d).reshape([B, p.src.shape[1], H, d]).permute([0, 2, 1, 3]);
    const r = scaledDotProductAttention(heads(parts[0]), heads(parts[1]), heads(parts[2]), mask, { needWeights: true });
    out = r.output.permute([0, 2, 1, 3]).reshape([B, T, H * d]);
  }
  out.mul(up).sum().backward();
  return { out, grads: srcs.map((s) => s.grad!) };
}

if (!native) {
  describe('fusedMultiHeadAttention', () => {
    it('needs the native addon (run `npm run build:native`); skipped', { skip: 'qkv_native.node did not load' }, () => {});
  });
} else {
  describe('fusedMultiHeadAttention (native) against the composed heads on ref (float64)', () => {
    for (const c of cases) {
      it(c.name, () => {
        const got = runCase(c, native, 'float32', true);
        const want = runCase(c, refBackend, 'float64', false);
        const tol = { atol: 2e-5, rtol: 1e-4 };
        assertClose(got.out.toArray(), want.out.toArray(), { ...tol, label: `${c.name}: output` });
        got.grads.forEach((g, i) => assertClose(g.toArray(), want.grads[i].toArray(), { ...tol, label: `${c.name}: gradient of source ${i}` }));
      });
    }
    it('overlapping parts of one source fall back (null); shapes that do not fit throw', () => {
      const x = tensor(new Float32Array(2 * 3 * 8), { shape: [2, 3, 8], backend: native });
      assert.equal(fusedMultiHeadAttention({ src: x, col: 0 }, { src: x, col: 0 }, { src: x, col: 4 }, 2, 2, null, 1), null);
      assert.throws(() => fusedMultiHeadAttention({ src: x, col: 0 }, { src: x, col: 4 }, { src: x, col: 6 }, 2, 2, null, 1),
        /2 heads of 2 from column 6 of \[2, 3, 8\] do not fit \[2, 3, ≥ 10\]/);
    });
    it('a source on ref, or not contiguous: null', () => {
      const r = tensor(new Float32Array(2 * 3 * 8), { shape: [2, 3, 8], backend: refBackend });
      assert.equal(fusedMultiHeadAttention({ src: r, col: 0 }, { src: r, col: 4 }, { src: r, col: 4 }, 1, 4, null, 1), null);
      const t = tensor(new Float32Array(2 * 3 * 8), { shape: [3, 2, 8], backend: native }).permute([1, 0, 2]);
      assert.equal(fusedMultiHeadAttention({ src: t, col: 0 }, { src: t, col: 2 }, { src: t, col: 4 }, 1, 2, null, 1), null);
    });
  });
}
