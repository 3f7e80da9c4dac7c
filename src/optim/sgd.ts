// Stochastic gradient descent with momentum, Nesterov momentum and weight decay, as torch.optim.SGD.

import { ArgumentError } from '../core/errors.js';
import { Tensor } from '../tensor/tensor.js';
import { Optimizer, checkNonNegative } from './optimizer.js';

export interface SgdOptions {
  /** Learning rate (required, as in torch). */
  lr: number;
  /** Momentum factor μ (default 0: plain SGD). */
  momentum?: number;
  /** L2 penalty λ added to the gradient (default 0). */
  weightDecay?: number;
  /** Nesterov momentum (default false; needs momentum > 0). */
  nesterov?: boolean;
}

/**
 * SGD, as torch.optim.SGD with dampening 0:
 *
 *   g ← g + λ·p      b ← μ·b + g  (b = g on the first step)
 *   p ← p − lr · (nesterov ? g + μ·b : b)
 *
 * @example
 * const opt = new SGD(params, { lr: 0.1, momentum: 0.9, nesterov: true });
 */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  protected readonly bufferNames = ['momentum_buffer'] as const;

  constructor(params: Iterable<Tensor>, opts: SgdOptions) {
    super(params, opts.lr, 'SGD');
    this.momentum = opts.momentum ?? 0;
    this.weightDecay = opts.weightDecay ?? 0;
    this.nesterov = opts.nesterov ?? false;
    checkNonNegative('SGD', 'momentum', this.momentum);
    checkNonNegative('SGD', 'weightDecay', this.weightDecay);
    if (this.nesterov && this.momentum <= 0) throw new ArgumentError(`SGD: nesterov needs momentum > 0, got momentum ${this.momentum}`);
  }

  protected update(param: Tensor, grad: Tensor, i: number): Tensor {
    let d = this.weightDecay !== 0 ? grad.add(param.mul(this.weightDecay)) : grad;
    if (this.momentum !== 0) {
      const b0 = this.buffer('momentum_buffer', i);
      const b = b0 ? b0.mul(this.momentum).add(d) : d;
      this.setBuffer('momentum_buffer', i, b);
      d = this.nesterov ? d.add(b.mul(this.momentum)) : b;
    }
    return param.sub(d.mul(this.lr));
  }
}
