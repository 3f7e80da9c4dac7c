// Seeded random numbers (xoshiro128**), so initialisation, dropout and shuffling are reproducible.

import { ArgumentError } from './errors.js';

/**
 * A small seeded generator. Its whole state is four 32-bit words, so a checkpoint can save and
 * restore it exactly.
 *
 * @example
 * const rng = new Rng(42);
 * rng.uniform(); // in [0, 1)
 */
export class Rng {
  private s: Uint32Array;
  private spare: number | null = null;

  constructor(seed = 0) {
    if (!Number.isInteger(seed)) throw new ArgumentError(`Rng: seed must be an integer, got ${seed}`);
    // splitmix32 spreads a small seed over the four words.
    this.s = new Uint32Array(4);
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /**
   * Fills `out` with standard normals times `std`: the values and the generator's state afterwards are exactly
   * those of `out[i] = this.normal() * std` in a loop (the same stream, spare included), only without a call
   * per value (randn of GPT-2 small draws 124M of them).
   *
   * @example
   * const a = new Float32Array(5);
   * new Rng(1).fillNormal(a, 0.02); // a[i] === Math.fround(new Rng(1) ... .normal() * 0.02), in order
   */
  fillNormal(out: { length: number; [i: number]: number }, std = 1): void {
    const n = out.length;
    let i = 0;
    if (n > 0 && this.spare !== null) {
      out[i++] = this.spare * std;
      this.spare = null;
    }
    const st = this.s;
    let s0 = st[0] | 0, s1 = st[1] | 0, s2 = st[2] | 0, s3 = st[3] | 0;
    // nextU32 written out on int32 locals (the same bits; `>>> 0` reads the result unsigned), twice per pair.
    while (i < n) {
      let u = 0;
      while (u === 0) {
        const m = Math.imul(s1, 5);
        u = (Math.imul((m << 7) | (m >>> 25), 9) >>> 0) / 4294967296;
        const t = s1 << 9;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
      }
      const m = Math.imul(s1, 5);
      const v = (Math.imul((m << 7) | (m >>> 25), 9) >>> 0) / 4294967296;
      const t = s1 << 9;
      s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
      const r = Math.sqrt(-2 * Math.log(u));
      const sin = r * Math.sin(2 * Math.PI * v);
      out[i++] = r * Math.cos(2 * Math.PI * v) * std;
      if (i < n) out[i++] = sin * std;
      else this.spare = sin;
    }
    st[0] = s0;
    st[1] = s1;
    st[2] = s2;
    st[3] = s3;
  }

  /**
   * Fills `out` with uniforms in [low, high): exactly `out[i] = low + (high - low) * this.uniform()` in a loop.
   *
   * @example
   * new Rng(0).fillUniform(new Float32Array(4), -0.5, 0.5);
   */
  fillUniform(out: { length: number; [i: number]: number }, low = 0, high = 1): void {
    for (let i = 0; i < out.length; i++) out[i] = low + (high - low) * this.uniform();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = xs[i];
      xs[i] = xs[j];
      xs[j] = t;
    }
    return xs;
  }

  /** The full state, for checkpoints. */
  getState(): number[] {
    return [...this.s, this.spare === null ? NaN : this.spare];
  }

  setState(state: readonly number[]): void {
    if (state.length !== 5) throw new ArgumentError(`Rng.setState: expected 5 numbers, got ${state.length}`);
    for (let i = 0; i < 4; i++) this.s[i] = state[i] >>> 0;
    this.spare = Number.isNaN(state[4]) ? null : state[4];
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
