// Adam and AdamW (Kingma & Ba 2015; Loshchilov & Hutter 2019), with torch.optim's exact update order.

import { ArgumentError } from '../core/errors.js';
import { noGrad } from '../tensor/grad-mode.js';
import { Tensor } from '../tensor/tensor.js';
import { Optimizer, checkNonNegative } from './optimizer.js';

export interface AdamOptions {
  /** Learning rate (default 1e-3; a schedule usually overrides it each step). */
  lr?: number;
  /** Decay rates of the first and second moment estimates (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** Added to the denominator for stability (default 1e-8). */
  eps?: number;
  /** Adam: L2 penalty added to the gradient. AdamW: decoupled decay (defaults 0 and 1e-2, as torch). */
  weightDecay?: number;
}

/** The paper's optimizer settings (section 5.3): β1 = 0.9, β2 = 0.98, ε = 10⁻⁹. */
export const PAPER_ADAM = { betas: [0.9, 0.98] as const, eps: 1e-9 } as const;

/** The shared update; `decoupled` chooses AdamW's decay over Adam's L2 penalty. */
abstract class AdamBase extends Optimizer {
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  protected readonly bufferNames = ['exp_avg', 'exp_avg_sq'] as const;

  constructor(params: Iterable<Tensor>, opts: AdamOptions, who: string, private readonly decoupled: boolean) {
    super(params, opts.lr ?? 1e-3, who);
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? (decoupled ? 1e-2 : 0);
    this.betas.forEach((b, i) => {
      if (!(b >= 0 && b < 1)) throw new ArgumentError(`${who}: betas[${i}] is ${b}, expected a number in [0, 1)`);
    });
    checkNonNegative(who, 'eps', this.eps);
    checkNonNegative(who, 'weightDecay', this.weightDecay);
  }

  /**
   * As Optimizer.step, but a parameter whose backend has a fused Adam kernel is updated in place by it
   * (p, m and v in one pass); the others, and any case the kernel declines, take the composed update.
   */
  override step(): void {
    if (!this.params.some((p) => p.backend.adamUpdate)) return super.step();
    this.stepCount++;
    noGrad(() => {
      this.params.forEach((p, i) => {
        if (!p.grad) return;
        if (!this.fusedUpdate(p, p.grad, i)) p.assign(this.update(p, p.grad, i));
      });
    });
  }

  /** The in-place kernel's update of parameter `i`; false when the backend has none for this case. */
  private fusedUpdate(param: Tensor, grad: Tensor, i: number): boolean {
    const backend = param.backend;
    if (!backend.adamUpdate || grad.backend !== backend || param.dtype !== 'float32') return false;
    // The moment buffers are updated in place, so each must be this optimizer's own contiguous tensor.
    const own = (t: Tensor | undefined) => {
      if (!t) return Tensor.fromStorage(backend.alloc(param.dtype, param.size), param.shape, backend);
      return t.isContiguous && t.layout.offset === 0 && t.storage.length === t.size ? t : Tensor.fromStorage(backend.copy(t), t.shape, backend);
    };
    const m = own(this.buffer('exp_avg', i));
    const v = own(this.buffer('exp_avg_sq', i));
    const [beta1, beta2] = this.betas;
    const t = this.stepCount;
    const done = backend.adamUpdate(param, grad, m.storage, v.storage, {
      lr: this.lr, beta1, beta2, eps: this.eps, weightDecay: this.weightDecay, decoupled: this.decoupled,
      stepSize: this.lr / (1 - beta1 ** t), bias2Sqrt: Math.sqrt(1 - beta2 ** t),
    });
    if (!done) return false;
    this.setBuffer('exp_avg', i, m);
    this.setBuffer('exp_avg_sq', i, v);
    return true;
  }

  protected update(param: Tensor, grad: Tensor, i: number): Tensor {
    const [beta1, beta2] = this.betas;
    const t = this.stepCount;
    let p = param;
    let g = grad;
    if (this.weightDecay !== 0) {
      if (this.decoupled) p = p.mul(1 - this.lr * this.weightDecay); // p ← p − lr·λ·p
      else g = g.add(p.mul(this.weightDecay)); // g ← g + λ·p
    }
    const m0 = this.buffer('exp_avg', i);
    const v0 = this.buffer('exp_avg_sq', i);
    const m = m0 ? m0.mul(beta1).add(g.mul(1 - beta1)) : g.mul(1 - beta1);
    const v = v0 ? v0.mul(beta2).add(g.mul(g).mul(1 - beta2)) : g.mul(g).mul(1 - beta2);
    this.setBuffer('exp_avg', i, m);
    this.setBuffer('exp_avg_sq', i, v);
    const stepSize = this.lr / (1 - beta1 ** t);
    const denom = v.sqrt().div(Math.sqrt(1 - beta2 ** t)).add(this.eps);
    return p.sub(m.mul(stepSize).div(denom));
  }
}

/**
 * Adam, as torch.optim.Adam: weight decay (default 0) is added to the gradient (L2 regularisation).
 *
 *   m ← β1·m + (1−β1)·g          v ← β2·v + (1−β2)·g²
 *   p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε)
 *
 * @example
 * const opt = new Adam(params, { lr: 1e-3, ...PAPER_ADAM });
 * loss.backward();
 * opt.step();
 * opt.zeroGrad();
 */
export class Adam extends AdamBase {
  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}) {
    super(params, opts, 'Adam', false);
  }
}

/**
 * AdamW, as torch.optim.AdamW: the decay is decoupled from the gradient, p ← p − lr·λ·p, then the
 * Adam update. Default weight decay 1e-2, as torch.
 *
 * @example
 * const opt = new AdamW(params, { lr: 3e-4, weightDecay: 0.1 });
 */
export class AdamW extends AdamBase {
  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}) {
    super(params, opts, 'AdamW', true);
  }
}
