// Dropout as a module: holds its probability and its own seeded generator; off in eval().

import { ArgumentError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { Tensor, dropout } from '../tensor/index.js';
import { Module } from './module.js';

/**
 * Inverted dropout: in training, zeroes each element with probability p and scales the rest
 * by 1/(1-p); in evaluation (and when p = 0) the identity.
 *
 * @example
 * const drop = new Dropout(0.1, new Rng(0));
 * drop.eval().forward(x) === x; // true
 */
export class Dropout extends Module {
  constructor(readonly p: number, readonly rng: Rng) {
    super();
    if (!(p >= 0 && p < 1)) throw new ArgumentError(`Dropout: p must be in [0, 1), got ${p}`);
    this.addRng('rng', rng);
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.rng, this.training);
  }
}
