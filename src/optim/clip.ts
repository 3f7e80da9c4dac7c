// Gradient clipping by global L2 norm, as torch.nn.utils.clip_grad_norm_.

import { ArgumentError } from '../core/errors.js';
import { noGrad } from '../tensor/grad-mode.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * Scales all gradients together so that their global L2 norm is at most `maxNorm`, and returns
 * the norm before clipping. As torch: the scale is maxNorm / (norm + 1e-6), applied only when it
 * is below 1. Parameters with a null grad are skipped.
 *
 * Each `.grad` is replaced by a scaled tensor rather than written in place, because after backward
 * two parameters may share one gradient tensor.
 *
 * @example
 * loss.backward();
 * const norm = clipGradNorm(params, 1.0);
 * opt.step();
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): number {
  if (!(Number.isFinite(maxNorm) && maxNorm > 0)) throw new ArgumentError(`clipGradNorm: maxNorm is ${maxNorm}, expected a finite number > 0`);
  const withGrad = [...params].filter((p) => p.grad);
  return noGrad(() => {
    let sq = 0;
    for (const p of withGrad) sq += p.grad!.mul(p.grad!).sum().item();
    const norm = Math.sqrt(sq);
    const coef = maxNorm / (norm + 1e-6);
    if (coef < 1) for (const p of withGrad) p.grad = p.grad!.mul(coef);
    return norm;
  });
}
