// The residual connection around every sub-layer (paper §3.1, §5.4), post-norm or pre-norm.

import type { Tensor } from '../tensor/index.js';
import type { Dropout } from './dropout.js';
import type { LayerNorm } from './layer-norm.js';

/**
 * Post-norm (the paper):  LN(x + Dropout(Sublayer(x)))
 * Pre-norm (normFirst):   x + Dropout(Sublayer(LN(x)))
 *
 * @example
 * x = residual(x, this.norm2, this.dropout2, this.normFirst, (h) => this.ff.forward(h));
 */
export function residual(x: Tensor, norm: LayerNorm, dropout: Dropout, normFirst: boolean, sublayer: (h: Tensor) => Tensor): Tensor {
  if (normFirst) return x.add(dropout.forward(sublayer(norm.forward(x))));
  return norm.forward(x.add(dropout.forward(sublayer(x))));
}
