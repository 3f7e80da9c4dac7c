// Making a tensor allocates its memory once (issue 14: zeros([2**31]) peaked at twice the tensor's size).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from '../../src/backend/backend.js';
import { refBackend } from '../../src/backend/ref.js';
import { loadNativeBackend } from '../../src/node/backend-select.js';
import { arange, full, ones, tensor, zeros } from '../../src/tensor/index.js';

/** refBackend, counting the values copied in by fromArray and wrapped without a copy by wrapArray. */
function counting(): Backend & { copied: number; wrapped: number } {
  const b = {
    ...refBackend,
    copied: 0,
    wrapped: 0,
    fromArray(data: Parameters<Backend['fromArray']>[0]) { b.copied += data.length; return refBackend.fromArray(data); },
    wrapArray(data: Parameters<Backend['wrapArray']>[0]) { b.wrapped += data.length; return refBackend.wrapArray(data); },
  };
  return b;
}

describe('tensor creation allocates once', () => {
  it('zeros, ones, full, arange and nested arrays of 2^20 elements or more hand their fresh array to the backend without a copy', () => {
    const b = counting();
    const big = 1 << 20;
    zeros([big], { backend: b });
    ones([1024, 1024], { backend: b });
    full([big], 2.5, { backend: b });
    arange(big, { backend: b });
    assert.equal(b.copied, 0);
    assert.equal(b.wrapped, 4 * big);
  });

  it('smaller ones are copied into the backend storage, which a storage scope recycles (a wrapped array never is)', () => {
    const b = counting();
    zeros([1000], { backend: b });
    ones([10, 10], { backend: b });
    tensor([[1, 2], [3, 4]], { backend: b });
    assert.equal(b.wrapped, 0);
    assert.equal(b.copied, 1000 + 100 + 4);
  });

  it("a caller's typed array is still copied, so writing it later does not change the tensor", () => {
    const b = counting();
    const data = new Float32Array([1, 2, 3]);
    const t = tensor(data, { backend: b });
    data[0] = 99;
    assert.equal(b.copied, 3);
    assert.deepEqual([...t.toArray()], [1, 2, 3]);
  });

  it('values are right: zeros are +0, full(-0) keeps -0, ones are 1', () => {
    assert.ok(Object.is(zeros([2], { backend: refBackend }).toArray()[1], 0));
    assert.ok(Object.is(full([2], -0, { backend: refBackend }).toArray()[0], -0));
    assert.deepEqual([...ones([3], { backend: refBackend }).toArray()], [1, 1, 1]);
  });

  const native = loadNativeBackend();
  for (const backend of [refBackend, ...(native ? [native] : [])]) {
    it(`${backend.name}: zeros of 64 MiB grows external memory by at most about 1× its size, not 2×`, () => {
      const n = 2 ** 24; // float32: 64 MiB
      const bytes = 4 * n;
      const before = process.memoryUsage().arrayBuffers;
      const t = zeros([n], { backend });
      const grew = process.memoryUsage().arrayBuffers - before;
      assert.equal(t.size, n);
      // A copy leaves the first array alive until the next collection: ~2× the size. (No lower bound: a collection
      // during the call may free an earlier test's tensor.)
      assert.ok(grew < 1.5 * bytes, `grew by ${grew} bytes for a ${bytes}-byte tensor`);
    });
  }
});
