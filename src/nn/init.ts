// Parameter initialisers (PyTorch's defaults) and the options every layer with parameters takes.

import type { Backend } from '../backend/backend.js';
import type { FloatDType } from '../core/dtype.js';
import type { Rng } from '../core/rng.js';
import { Tensor, randn, uniform, zeros } from '../tensor/index.js';

/** Where a layer's parameters come from: a seeded generator, and optionally dtype and backend. */
export interface ParamOptions {
  /** The seeded generator that initialises the parameters (no Math.random anywhere). */
  rng: Rng;
  /** float32 (default) or float64 (for gradient checks). */
  dtype?: FloatDType;
  backend?: Backend;
  /**
   * Draw the starting values (true, the default). false leaves every parameter at zero without drawing a number,
   * for a model whose every weight is loaded next (modelFromCheckpoint); `rng` is then not advanced.
   */
  init?: boolean;
}

/**
 * How a model is built. `init: false` skips the whole random initialisation (parameters start at zero, LayerNorm
 * gains at one), for a model that a checkpoint's weights fill next: building GPT-2 small then costs allocation
 * only, not 250M random draws. Load every tensor afterwards (loadStateDict is strict by default), or the model
 * computes with zero weights.
 *
 * @example
 * const gpt = new GPT(config, { init: false });
 * gpt.loadStateDict(state); // every name, or a StateDictError naming the missing ones
 */
export interface ModelInitOptions {
  /** Draw the random initialisation (true, the default); false leaves zeros for loaded weights to overwrite. */
  init?: boolean;
}

/**
 * U(-bound, bound) samples of `shape`.
 *
 * @example
 * const b = uniformInit([4], 0.5, { rng: new Rng(0) }); // every value in [-0.5, 0.5)
 */
export function uniformInit(shape: readonly number[], bound: number, opts: ParamOptions): Tensor {
  if (opts.init === false) return zeros(shape, { dtype: opts.dtype ?? 'float32', backend: opts.backend });
  return uniform(shape, opts.rng, -bound, bound, { dtype: opts.dtype ?? 'float32', backend: opts.backend });
}

/**
 * N(0, std²) samples of `shape` (zeros without drawing when `opts.init` is false).
 *
 * @example
 * const table = normalInit([10, 4], 1, { rng: new Rng(0) }); // torch.nn.Embedding's N(0, 1)
 */
export function normalInit(shape: readonly number[], std: number, opts: ParamOptions): Tensor {
  const o = { dtype: opts.dtype ?? 'float32', backend: opts.backend } as const;
  return opts.init === false ? zeros(shape, o) : randn(shape, opts.rng, { ...o, std });
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
