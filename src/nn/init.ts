// Parameter initialisers (PyTorch's defaults) and the options every layer with parameters takes.

import type { Backend } from '../backend/backend.js';
import type { FloatDType } from '../core/dtype.js';
import type { Rng } from '../core/rng.js';
import { Tensor, uniform } from '../tensor/index.js';

/** Where a layer's parameters come from: a seeded generator, and optionally dtype and backend. */
export interface ParamOptions {
  /** The seeded generator that initialises the parameters (no Math.random anywhere). */
  rng: Rng;
  /** float32 (default) or float64 (for gradient checks). */
  dtype?: FloatDType;
  backend?: Backend;
}

/**
 * U(-bound, bound) samples of `shape`.
 *
 * @example
 * const b = uniformInit([4], 0.5, { rng: new Rng(0) }); // every value in [-0.5, 0.5)
 */
export function uniformInit(shape: readonly number[], bound: number, opts: ParamOptions): Tensor {
  return uniform(shape, opts.rng, -bound, bound, { dtype: opts.dtype ?? 'float32', backend: opts.backend });
}

/**
 * Glorot/Xavier uniform for a matrix [fanOut, fanIn]: U(-a, a) with a = √(6 / (fanIn + fanOut)),
 * as torch.nn.init.xavier_uniform_.
 *
 * @example
 * const w = xavierUniform([64, 32], { rng: new Rng(0) });
 */
export function xavierUniform(shape: readonly number[], opts: ParamOptions): Tensor {
  const [fanOut, fanIn] = shape.length === 2 ? shape : [shape[0], shape.slice(1).reduce((p, q) => p * q, 1)];
  return uniformInit(shape, Math.sqrt(6 / (fanIn + fanOut)), opts);
}

/**
 * Re-draws a matrix parameter in place with Xavier uniform (used by models after construction).
 *
 * @example
 * for (const p of model.parameters()) if (p.ndim > 1) resetXavier(p, rng);
 */
export function resetXavier(p: Tensor, rng: Rng): void {
  p.assign(xavierUniform(p.shape, { rng, dtype: p.dtype === 'float64' ? 'float64' : 'float32', backend: p.backend }));
}
