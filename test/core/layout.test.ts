// Layouts: contiguity, expand, permute, narrow, and reshape-as-view checked against PyTorch's view rules.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ShapeError } from '../../src/core/errors.js';
import { Layout, expandLayout, isContiguous, narrowLayout, permuteLayout, reshapeLayout } from '../../src/core/layout.js';

interface ViewRule {
  name: string;
  shape: number[];
  strides: number[];
  offset: number;
  target: number[];
  view: { strides: number[]; offset: number } | null;
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/view-rules/view-rules.json', import.meta.url), 'utf8')) as { torch: string; cases: ViewRule[] };

/** Storage offsets of every element of a layout, row-major (an independent walk). */
function offsets(l: Layout): number[] {
  const out: number[] = [];
  const walk = (axis: number, off: number): void => {
    if (axis === l.shape.length) { out.push(off); return; }
    for (let i = 0; i < l.shape[axis]; i++) walk(axis + 1, off + i * l.strides[axis]);
  };
  walk(0, l.offset);
  return out;
}

describe('reshapeLayout against torch.Tensor.view', () => {
  it(`the fixture holds cases that view and cases that need a copy (torch ${fixture.torch})`, () => {
    assert.ok(fixture.cases.some((c) => c.view === null));
    assert.ok(fixture.cases.some((c) => c.view !== null));
  });
  for (const c of fixture.cases) {
    const expect = c.view ? 'a view' : 'a copy';
    it(`${c.name}: [${c.shape}] strides [${c.strides}] → [${c.target}] is ${expect}`, () => {
      const l: Layout = { shape: c.shape, strides: c.strides, offset: c.offset };
      const got = reshapeLayout(l, c.target);
      if (!c.view) {
        assert.equal(got, null, `torch needs a copy, reshapeLayout gave strides [${got?.strides}]`);
        return;
      }
      assert.ok(got, 'torch views this without a copy; reshapeLayout returned null');
      assert.deepEqual(got.shape, c.target);
      assert.equal(got.offset, c.view.offset);
      // Strides of size-1 axes are arbitrary; every other one must match torch.
      c.target.forEach((d, i) => { if (d !== 1) assert.equal(got.strides[i], c.view!.strides[i], `stride of axis ${i}`); });
      // And the view addresses the same elements in the same order.
      assert.deepEqual(offsets(got), offsets(l));
    });
  }
});

describe('isContiguous', () => {
  it('ignores strides of size-1 axes and allows an offset', () => {
    assert.ok(isContiguous({ shape: [3, 4], strides: [4, 1], offset: 0 }));
    assert.ok(isContiguous({ shape: [3, 1, 4], strides: [4, 99, 1], offset: 7 }));
    assert.ok(!isContiguous({ shape: [3, 4], strides: [1, 3], offset: 0 }));
    assert.ok(!isContiguous({ shape: [3, 4], strides: [0, 1], offset: 0 }));
    assert.ok(!isContiguous({ shape: [3, 2], strides: [4, 1], offset: 0 }));
  });
});

describe('expandLayout', () => {
  const l: Layout = { shape: [3, 1], strides: [1, 1], offset: 5 };
  it('gives new and size-1 axes stride 0, keeps the rest and the offset', () => {
    assert.deepEqual(expandLayout(l, [2, 3, 4]), { shape: [2, 3, 4], strides: [0, 1, 0], offset: 5 });
    assert.deepEqual(expandLayout(l, [3, 1]), { shape: [3, 1], strides: [1, 1], offset: 5 });
    assert.deepEqual(expandLayout({ shape: [], strides: [], offset: 2 }, [2, 2]), { shape: [2, 2], strides: [0, 0], offset: 2 });
    assert.deepEqual(offsets(expandLayout({ shape: [2], strides: [3], offset: 1 }, [2, 2])), [1, 4, 1, 4]);
  });
  it('throws ShapeError naming both shapes for a size that is not 1, or fewer dims', () => {
    assert.throws(() => expandLayout(l, [4, 4]), (e: unknown) => e instanceof ShapeError && /\[3, 1\]/.test((e as Error).message) && /\[4, 4\]/.test((e as Error).message));
    assert.throws(() => expandLayout(l, [3]), ShapeError);
  });
});

describe('permuteLayout and narrowLayout', () => {
  it('permute reorders shape and strides', () => {
    assert.deepEqual(permuteLayout({ shape: [2, 3, 4], strides: [12, 4, 1], offset: 1 }, [2, 0, 1]), { shape: [4, 2, 3], strides: [1, 12, 4], offset: 1 });
  });
  it('narrow moves the offset by start·stride', () => {
    const n = narrowLayout({ shape: [5, 6], strides: [6, 1], offset: 0 }, 1, 2, 3);
    assert.deepEqual(n, { shape: [5, 3], strides: [6, 1], offset: 2 });
    assert.deepEqual(offsets(narrowLayout(n, 0, 3, 2)), [20, 21, 22, 26, 27, 28]);
  });
});
