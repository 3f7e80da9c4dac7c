// The seeded generator: the xoshiro128** reference sequence, determinism, ranges, state save/restore.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ArgumentError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';

const draw = (rng: Rng, n: number, f: (r: Rng) => number) => Array.from({ length: n }, () => f(rng));

describe('Rng', () => {
  it('matches the xoshiro128** reference outputs from state {1, 2, 3, 4}', () => {
    // From the reference C algorithm (Blackman & Vigna), computed independently in Python.
    const rng = new Rng(0);
    rng.setState([1, 2, 3, 4, NaN]);
    assert.deepEqual(draw(rng, 6, (r) => r.nextU32()), [11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  it('the same seed gives the same sequence; different seeds differ', () => {
    assert.deepEqual(draw(new Rng(42), 20, (r) => r.nextU32()), draw(new Rng(42), 20, (r) => r.nextU32()));
    assert.notDeepEqual(draw(new Rng(42), 20, (r) => r.nextU32()), draw(new Rng(43), 20, (r) => r.nextU32()));
    assert.notDeepEqual(draw(new Rng(0), 5, (r) => r.nextU32()), draw(new Rng(-1), 5, (r) => r.nextU32()));
  });

  it('uniform lies in [0, 1) with a mean near 1/2', () => {
    const xs = draw(new Rng(1), 20000, (r) => r.uniform());
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    const mean = xs.reduce((p, q) => p + q, 0) / xs.length;
    assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
  });

  it('normal has mean near 0 and variance near 1', () => {
    const xs = draw(new Rng(2), 20000, (r) => r.normal());
    const mean = xs.reduce((p, q) => p + q, 0) / xs.length;
    const variance = xs.reduce((p, q) => p + (q - mean) ** 2, 0) / xs.length;
    assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 0.05, `variance ${variance}`);
  });

  it('int(n) covers [0, n) and nothing else', () => {
    const xs = draw(new Rng(3), 2000, (r) => r.int(7));
    assert.deepEqual([...new Set(xs)].sort(), [0, 1, 2, 3, 4, 5, 6]);
  });

  it('shuffle is a seeded permutation', () => {
    const a = new Rng(4).shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual([...a].sort((p, q) => p - q), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(new Rng(4).shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), a);
  });

  it('getState / setState resume the exact sequence, including a pending normal', () => {
    const rng = new Rng(5);
    rng.normal(); // leaves the second Box-Muller value pending
    const state = rng.getState();
    const after = [rng.normal(), rng.normal(), rng.uniform(), rng.nextU32()];
    const other = new Rng(999);
    other.setState(state);
    assert.deepEqual([other.normal(), other.normal(), other.uniform(), other.nextU32()], after);
    // And through JSON, as a checkpoint would store it (NaN becomes null there, so map it back).
    const json = JSON.parse(JSON.stringify(new Rng(6).getState().map((v) => (Number.isNaN(v) ? null : v))));
    const restored = new Rng(0);
    restored.setState(json.map((v: number | null) => v ?? NaN));
    assert.deepEqual(draw(restored, 5, (r) => r.nextU32()), draw(new Rng(6), 5, (r) => r.nextU32()));
  });

  it('fillNormal and fillUniform give exactly the values and end state of the one-at-a-time loop', () => {
    for (const pending of [false, true]) {
      for (const n of [0, 1, 2, 3, 8, 101]) {
        for (const std of [1, 0.02]) {
          const a = new Rng(11);
          const b = new Rng(11);
          if (pending) a.normal(), b.normal(); // a Box-Muller value left over goes first
          const want = new Float32Array(n);
          for (let i = 0; i < n; i++) want[i] = a.normal() * std;
          const got = new Float32Array(n);
          b.fillNormal(got, std);
          assert.deepEqual(Array.from(got), Array.from(want), `n ${n}, std ${std}, pending ${pending}`);
          assert.deepEqual(b.getState(), a.getState(), `state after n ${n}`);
          assert.equal(b.normal(), a.normal());
        }
      }
    }
    const f64 = new Float64Array(9);
    new Rng(3).fillNormal(f64);
    assert.deepEqual(Array.from(f64), draw(new Rng(3), 9, (r) => r.normal()));
    const u = new Float32Array(7);
    const r = new Rng(4);
    r.fillUniform(u, -0.5, 0.5);
    const ref = new Rng(4);
    assert.deepEqual(Array.from(u), Array.from(Float32Array.from(draw(ref, 7, (q) => -0.5 + 1 * q.uniform()))));
    assert.equal(r.nextU32(), ref.nextU32());
  });

  it('rejects bad seeds and bad states with ArgumentError', () => {
    assert.throws(() => new Rng(1.5), (e: unknown) => e instanceof ArgumentError && /1\.5/.test((e as Error).message));
    assert.throws(() => new Rng(0).setState([1, 2, 3]), (e: unknown) => e instanceof ArgumentError && /3/.test((e as Error).message));
  });
});
