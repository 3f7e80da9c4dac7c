// Finite-difference gradient checks for views, copies, indexing, matmul and casts.

import { describe, it } from 'node:test';
import { Rng } from '../../src/core/rng.js';
import { refBackend } from '../../src/backend/ref.js';
import { concat, embedding, matmul, maskedFill, split, tensor, where } from '../../src/tensor/index.js';
import { gradcheck, randn64, t64 } from '../helpers/gradcheck.js';

const rng = () => new Rng(11);
const ids = (xs: number[], shape?: number[]) => tensor(Int32Array.from(xs), { backend: refBackend, ...(shape ? { shape } : {}) });

describe('gradcheck: views and copies', () => {
  it('narrow', () => {
    gradcheck((x) => x.narrow(1, 1, 2), [randn64([3, 4], rng())]);
    gradcheck((x) => x.narrow(0, 2, 1).narrow(-1, 0, 3), [randn64([3, 4], rng())]);
  });
  it('many slices of one tensor, added into its gradient in place, mixed with other uses of it', () => {
    // A recurrence's pattern: every time step's slice of one projection, plus the tensor used whole.
    gradcheck((x) => {
      let h = x.narrow(1, 0, 1);
      for (let t = 1; t < 5; t++) h = h.mul(x.narrow(1, t, 1)).add(x.narrow(1, t, 1).tanh());
      return h.add(x.sum(1, true)).mul(x.narrow(1, 2, 1));
    }, [randn64([3, 5], rng())]);
    // Slices of slices, overlapping slices, and one gradient passed unchanged (add) to two slices of the same input.
    gradcheck((x) => {
      const a = x.narrow(0, 0, 2), b = x.narrow(0, 1, 2);
      const s = a.add(b);
      return concat([s.narrow(1, 0, 2).mul(a.narrow(1, 1, 2)), x.narrow(0, 2, 1).narrow(1, 1, 2)], 0);
    }, [randn64([3, 4], rng())]);
    // The pending gradient of a sliced tensor shared with another tensor's (add passes one gradient to both
    // inputs): the slice must not be added into it in place. Both orders of the last add.
    // Here the add's gradient is also y's .grad when the slice of p arrives (backward visits y before the narrow).
    gradcheck((x, y) => { const p = x.mul(2); return p.narrow(1, 0, 1).add(p.add(y)); }, [randn64([3, 4], rng()), randn64([3, 4], new Rng(12))]);
    gradcheck((x, y) => { const p = x.mul(2); return p.add(y).add(p.narrow(1, 0, 1)); }, [randn64([3, 4], rng()), randn64([3, 4], new Rng(12))]);
    // Slices of a computed tensor whose gradient also arrives whole from another path (a view of it).
    gradcheck((x) => {
      const m = x.mul(x);
      const parts = [0, 1, 2].map((i) => m.narrow(1, i, 1));
      return parts[0].add(parts[2]).mul(m.reshape([3, 3]).narrow(1, 1, 1)).add(m.sum(1, true));
    }, [randn64([3, 3], rng())]);
  });
  it('permute and transpose', () => {
    gradcheck((x) => x.permute([2, 0, 1]), [randn64([2, 3, 4], rng())]);
    gradcheck((x) => x.transpose(0, 2), [randn64([2, 3, 4], rng())]);
    gradcheck((x) => x.transpose(), [randn64([3, 4], rng())]);
  });
  it('reshape of a contiguous tensor (a view)', () => {
    gradcheck((x) => x.reshape([4, -1]), [randn64([2, 3, 2], rng())]);
  });
  it('reshape of a non-contiguous view (a copy)', () => {
    gradcheck((x) => x.transpose(0, 1).reshape([12]), [randn64([3, 4], rng())]);
    gradcheck((x) => x.permute([1, 0, 2]).reshape([3, 8]), [randn64([2, 3, 4], rng())]);
  });
  it('reshape of a non-contiguous view that stays a view', () => {
    // [2,3,4] transposed to [3,2,4] (strides [4,12,1]); splitting the contiguous last axis needs no copy.
    gradcheck((x) => x.transpose(0, 1).reshape([3, 2, 2, 2]), [randn64([2, 3, 4], rng())]);
    gradcheck((x) => x.narrow(1, 1, 4).reshape([3, 2, 2]), [randn64([3, 6], rng())]);
  });
  it('expand', () => {
    gradcheck((x) => x.expand([2, 3, 4]), [randn64([3, 1], rng())]);
    gradcheck((x) => x.expand([5, 2]), [randn64([2], rng())]);
    gradcheck((x) => x.expand([2, 3]), [randn64([], rng())]);
  });
  it('unsqueeze and squeeze', () => {
    gradcheck((x) => x.unsqueeze(1), [randn64([3, 4], rng())]);
    gradcheck((x) => x.unsqueeze(-1), [randn64([3, 4], rng())]);
    gradcheck((x) => x.squeeze(1), [randn64([3, 1, 4], rng())]);
    gradcheck((x) => x.transpose(0, 2).squeeze(1), [randn64([3, 1, 4], rng())]);
  });
  it('contiguous of a transposed view', () => {
    gradcheck((x) => x.transpose(0, 1).contiguous(), [randn64([3, 4], rng())]);
    gradcheck((x) => x.narrow(1, 1, 2).contiguous(), [randn64([3, 4], rng())]);
  });
  it('concat along each axis', () => {
    const r = rng();
    gradcheck((a, b) => concat([a, b], 0), [randn64([2, 3], r), randn64([1, 3], r)]);
    gradcheck((a, b, c) => concat([a, b, c], 1), [randn64([2, 1], r), randn64([2, 3], r), randn64([2, 2], r)]);
    gradcheck((a, b) => concat([a.transpose(0, 1), b], -1), [randn64([2, 3], r), randn64([3, 2], r)]);
  });
  it('concat of a tensor with itself', () => {
    gradcheck((a) => concat([a, a.mul(2)], 0), [randn64([2, 3], rng())]);
  });
  it('split into equal chunks and into listed sizes', () => {
    const r = rng();
    const w = [1, -2, 0.5];
    gradcheck((x) => { const p = split(x, 2, 1); return p[0].mul(w[0]).add(p[1].mul(w[1])); }, [randn64([3, 4], r)]);
    gradcheck((x) => { const p = x.split([1, 3, 1], 0); return concat([p[2], p[0].mul(3)], 0); }, [randn64([5, 2], r)]);
  });
});

describe('gradcheck: indexing', () => {
  it('embedding with repeated ids', () => {
    const r = rng();
    gradcheck((t) => embedding(ids([2, 0, 2, 3, 2, 0], [2, 3]), t), [randn64([5, 3], r)]);
  });
  it('embedding of a transposed table', () => {
    gradcheck((t) => embedding(ids([1, 1, 0]), t.transpose(0, 1)), [randn64([3, 4], rng())]);
  });
  it('where with a broadcast condition', () => {
    const r = rng();
    const cond = tensor(Float64Array.from([1, 0, 1]), { backend: refBackend });
    gradcheck((a, b) => where(cond, a, b), [randn64([2, 3], r), randn64([2, 3], r)]);
    gradcheck((a, b) => where(cond, a, b), [randn64([2, 1], r), randn64([3], r)]);
  });
  it('where with an int32 condition', () => {
    const r = rng();
    const cond = ids([0, 1, 1, 0, 0, 1], [2, 3]);
    gradcheck((a, b) => where(cond, a, b), [randn64([2, 3], r), randn64([2, 3], r)]);
  });
  it('maskedFill with a broadcast mask', () => {
    const mask = tensor(Float64Array.from([0, 1, 0, 1]), { backend: refBackend, shape: [1, 4] });
    gradcheck((x) => maskedFill(x, mask, -3), [randn64([3, 4], rng())]);
    gradcheck((x) => x.maskedFill(mask.transpose(0, 1).expand([4, 3]).transpose(0, 1), 5), [randn64([3, 4], rng())]);
  });
});

describe('gradcheck: matmul', () => {
  it('2-D', () => {
    const r = rng();
    gradcheck((a, b) => matmul(a, b), [randn64([3, 4], r), randn64([4, 2], r)]);
  });
  it('batched 3-D', () => {
    const r = rng();
    gradcheck((a, b) => a.matmul(b), [randn64([2, 3, 4], r), randn64([2, 4, 2], r)]);
  });
  it('broadcast batch ([2,1,3,4] · [3,4,2] and [1,3,4] · [2,4,2])', () => {
    const r = rng();
    gradcheck((a, b) => a.matmul(b), [randn64([2, 1, 3, 4], r), randn64([3, 4, 2], r)]);
    gradcheck((a, b) => a.matmul(b), [randn64([1, 3, 4], r), randn64([2, 4, 2], r)]);
  });
  it('2-D input against a 3-D batch', () => {
    const r = rng();
    gradcheck((a, b) => a.matmul(b), [randn64([3, 4], r), randn64([2, 4, 2], r)]);
  });
  it('2-D weight against a 3-D input', () => {
    const r = rng();
    gradcheck((x, w) => x.matmul(w), [randn64([2, 3, 4], r), randn64([4, 5], r)]);
  });
  it('transposed views on both sides', () => {
    const r = rng();
    gradcheck((a, b) => a.transpose().matmul(b.transpose()), [randn64([4, 3], r), randn64([2, 4], r)]);
    gradcheck((x, w) => x.matmul(w.transpose()), [randn64([2, 3, 4], r), randn64([5, 4], r)]);
    gradcheck((a, b) => a.permute([0, 2, 1]).matmul(b), [randn64([2, 4, 3], r), randn64([2, 4, 2], r)]);
  });
  it('a product of a matrix with itself (Aᵀ·A)', () => {
    gradcheck((a) => a.transpose().matmul(a), [randn64([3, 2], rng())]);
  });
});

describe('gradcheck: casts', () => {
  it('float64 → float32 → float64 (looser: float32 rounding)', () => {
    // The float32 leg rounds at ~6e-8 relative, so the step must be large and the tolerance loose.
    gradcheck((x) => x.to('float32').mul(3).to('float64'), [randn64([2, 3], rng())], { eps: 1e-2, atol: 1e-4, rtol: 1e-4 });
  });
  it('float32 output (the projection weights follow the output dtype)', () => {
    gradcheck((x) => x.to('float32').exp(), [randn64([4], rng(), 0.5)], { eps: 1e-2, atol: 1e-3, rtol: 1e-3 });
  });
  it('a cast to the same dtype is the identity', () => {
    gradcheck((x) => x.to('float64').mul(2), [randn64([3], rng())]);
  });
});
