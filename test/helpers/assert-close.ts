// assertClose: element-wise comparison with a message that names the worst index and both values.

import assert from 'node:assert/strict';
import { Tensor } from '../../src/tensor/index.js';

/** Nested arrays of numbers, a typed array, a Tensor or a plain number. */
export type Numeric = Tensor | ArrayLike<number> | number | NestedNumbers;
type NestedNumbers = readonly (number | NestedNumbers)[];

export interface CloseOptions {
  /** Absolute tolerance (default 1e-6). */
  atol?: number;
  /** Relative tolerance, against |expected| (default 1e-5). */
  rtol?: number;
  /** Prefix for the failure message. */
  label?: string;
}

function shapeOf(x: Numeric): number[] | null {
  if (x instanceof Tensor) return [...x.shape];
  if (typeof x === 'number') return [];
  if (Array.isArray(x)) {
    const shape: number[] = [];
    let cur: unknown = x;
    while (Array.isArray(cur)) {
      shape.push(cur.length);
      cur = cur[0];
    }
    return shape;
  }
  return null;
}

/** Flattens any Numeric into a plain array of numbers, row-major. */
export function flatten(x: Numeric): number[] {
  if (x instanceof Tensor) return Array.from(x.toArray());
  if (typeof x === 'number') return [x];
  if (Array.isArray(x)) return (x as unknown[]).flat(Infinity) as number[];
  return Array.from(x as ArrayLike<number>);
}

function multiIndex(flat: number, shape: number[] | null): string {
  if (!shape || shape.length === 0) return `[${flat}]`;
  const idx: number[] = [];
  let rest = flat;
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(rest % shape[d]);
    rest = Math.floor(rest / shape[d]);
  }
  return `[${idx.join(', ')}]`;
}

/**
 * Asserts |actual - expected| <= atol + rtol·|expected| everywhere (NaN matches only NaN, ±Infinity
 * only itself). Shapes must agree when both sides carry one.
 *
 * @example
 * assertClose(x.softmax(), [[0.5, 0.5]], { atol: 1e-6 });
 */
export function assertClose(actual: Numeric, expected: Numeric, opts: CloseOptions = {}): void {
  const { atol = 1e-6, rtol = 1e-5, label = 'assertClose' } = opts;
  const sa = shapeOf(actual);
  const se = shapeOf(expected);
  if (sa && se) {
    assert.deepEqual(sa, se, `${label}: shape [${sa.join(', ')}] differs from expected [${se.join(', ')}]`);
  }
  const a = flatten(actual);
  const e = flatten(expected);
  assert.equal(a.length, e.length, `${label}: ${a.length} values, expected ${e.length}`);
  let worst = -1;
  let worstExcess = 0;
  let bad = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = e[i];
    let excess: number;
    if (Number.isNaN(y) || Number.isNaN(x)) excess = Number.isNaN(x) && Number.isNaN(y) ? 0 : Infinity;
    else if (!Number.isFinite(y) || !Number.isFinite(x)) excess = x === y ? 0 : Infinity;
    else excess = Math.abs(x - y) - (atol + rtol * Math.abs(y));
    if (excess > 0) {
      bad++;
      if (excess > worstExcess || worst < 0) { worst = i; worstExcess = excess; }
    }
  }
  if (worst >= 0) {
    const where = multiIndex(worst, sa ?? se);
    assert.fail(
      `${label}: ${bad} of ${a.length} values differ; worst at ${where}: actual ${a[worst]}, expected ${e[worst]} ` +
        `(|diff| ${Math.abs(a[worst] - e[worst]).toExponential(3)}, allowed ${(atol + rtol * Math.abs(e[worst])).toExponential(3)})`,
    );
  }
}
