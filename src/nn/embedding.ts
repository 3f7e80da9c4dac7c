// Embedding: a table of vectors looked up by int32 ids.

import { ShapeError, fmtShape } from '../core/errors.js';
import { Tensor, embedding } from '../tensor/index.js';
import { Module } from './module.js';
import { normalInit } from './init.js';
import type { ParamOptions } from './init.js';

export interface EmbeddingOptions extends ParamOptions {
  /** Use this existing [num, dim] tensor as the table (tied weights) instead of a fresh one. */
  weight?: Tensor;
}

/**
 * A lookup table [num, dim], initialised N(0, 1) as torch.nn.Embedding.
 *
 * @example
 * const emb = new Embedding(11, 16, { rng: new Rng(0) });
 * emb.forward(tensor([[1, 2, 3]], { dtype: 'int32' })).shape; // [1, 3, 16]
 */
export class Embedding extends Module {
  /** [num, dim] */
  readonly weight: Tensor;

  constructor(readonly num: number, readonly dim: number, opts: EmbeddingOptions) {
    super();
    if (opts.weight && (opts.weight.ndim !== 2 || opts.weight.shape[0] !== num || opts.weight.shape[1] !== dim)) {
      throw new ShapeError(`Embedding: tied weight has shape ${fmtShape(opts.weight.shape)}, expected [${num}, ${dim}]`);
    }
    const w = opts.weight ?? normalInit([num, dim], 1, opts);
    this.weight = this.addParameter('weight', w);
  }

  /** ids int32 [...] → [..., dim] */
  forward(ids: Tensor): Tensor {
    return embedding(ids, this.weight);
  }
}
