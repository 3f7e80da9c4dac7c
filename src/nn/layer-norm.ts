// LayerNorm over the last axis, with a learned gain and bias (torch.nn.LayerNorm).

import { Tensor, full, layerNorm } from '../tensor/index.js';
import { Module } from './module.js';
import type { ParamOptions } from './init.js';

export interface LayerNormOptions extends Partial<ParamOptions> {
  /** Added to the variance (default 1e-5, torch's). */
  eps?: number;
}

/**
 * y = (x - μ) / √(σ² + ε) · weight + bias over the last axis; weight starts at 1, bias at 0.
 *
 * @example
 * const ln = new LayerNorm(16);
 * ln.forward(randn([2, 5, 16], new Rng(0))).shape; // [2, 5, 16]
 */
export class LayerNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly eps: number;

  constructor(readonly dim: number, opts: LayerNormOptions = {}) {
    super();
    const o = { dtype: opts.dtype ?? 'float32', backend: opts.backend } as const;
    this.eps = opts.eps ?? 1e-5;
    this.weight = this.addParameter('weight', full([dim], 1, o));
    this.bias = this.addParameter('bias', full([dim], 0, o));
  }

  /** x [..., dim] → [..., dim] */
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}
