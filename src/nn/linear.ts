// Linear: y = x·Wᵀ + b, with torch's layout (weight [out, in]) and initialisation.

import { ShapeError, fmtShape } from '../core/errors.js';
import { Tensor } from '../tensor/index.js';
import { fusedLinear } from '../tensor/ops/fused.js';
import { Module } from './module.js';
import { ParamOptions, uniformInit } from './init.js';

export interface LinearOptions extends ParamOptions {
  /** Add a bias (default true). */
  bias?: boolean;
  /** Use this existing [out, in] tensor as the weight (tied weights) instead of a fresh one. */
  weight?: Tensor;
}

/**
 * A fully connected layer. Weight and bias start in U(-1/√in, 1/√in), torch's default.
 *
 * @example
 * const fc = new Linear(16, 4, { rng: new Rng(0) });
 * fc.forward(randn([2, 3, 16], new Rng(1))).shape; // [2, 3, 4]
 */
export class Linear extends Module {
  /** [out, in] */
  readonly weight: Tensor;
  /** [out], or null without bias. */
  readonly bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: LinearOptions) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    const w = opts.weight;
    if (w && (w.ndim !== 2 || w.shape[0] !== outFeatures || w.shape[1] !== inFeatures)) {
      throw new ShapeError(`Linear: tied weight has shape ${fmtShape(w.shape)}, expected [${outFeatures}, ${inFeatures}]`);
    }
    this.weight = this.addParameter('weight', w ?? uniformInit([outFeatures, inFeatures], bound, opts));
    this.bias = opts.bias === false ? null : this.addParameter('bias', uniformInit([outFeatures], bound, opts));
  }

  /** x [..., in] → [..., out], then ReLU when `activation` is 'relu' (applied as the product is stored on native). */
  forward(x: Tensor, activation: 'none' | 'relu' = 'none'): Tensor {
    return linear(x, this.weight, this.bias, activation);
  }
}

/**
 * x·Wᵀ + b for weight [out, in] (a transposed view: no copy), then ReLU when `activation` is 'relu'. On a
 * backend with a `linear` kernel (native, float32) the bias and ReLU are applied as the product is stored and
 * the backward is one call; elsewhere the composed matmul, add and relu, which are its definition.
 *
 * @example
 * linear(tensor([[1, 1]]), tensor([[1, 2], [3, 4]]), tensor([0, 1])).toList(); // [[3, 8]]
 * linear(tensor([[1, -1]]), tensor([[1, 2], [3, 4]]), null, 'relu').toList(); // [[0, 0]]
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null, activation: 'none' | 'relu' = 'none'): Tensor {
  const fused = fusedLinear(x, weight, bias, activation);
  if (fused) return fused;
  const y = x.matmul(weight.transpose(0, 1));
  const z = bias ? y.add(bias) : y;
  return activation === 'relu' ? z.relu() : z;
}
