// Position-wise feed-forward network (paper §3.3): FFN(x) = max(0, x·W1 + b1)·W2 + b2.

import type { Rng } from '../core/rng.js';
import { ArgumentError } from '../core/errors.js';
import { Tensor, gelu, geluTanh } from '../tensor/index.js';
import { Dropout } from './dropout.js';
import type { ParamOptions } from './init.js';
import { Linear } from './linear.js';
import { Module } from './module.js';

/**
 * The non-linearity between the two projections: the paper's ReLU, exact GELU (BERT), or GELU's tanh
 * form under Hugging Face's name 'gelu_new' (GPT-2: ½x(1 + tanh(√(2/π)(x + 0.044715x³)))).
 */
export type Activation = 'relu' | 'gelu' | 'gelu_new';

/** Every Activation, for config checks. */
export const ACTIVATIONS: readonly Activation[] = ['relu', 'gelu', 'gelu_new'];

/**
 * Applies the named non-linearity.
 *
 * @example
 * activate(tensor([-1, 2]), 'relu').toList(); // [0, 2]
 * activate(tensor([0]), 'gelu_new').toList();    // [0]
 */
export function activate(x: Tensor, activation: Activation): Tensor {
  switch (activation) {
    case 'relu': return x.relu();
    case 'gelu': return gelu(x);
    case 'gelu_new': return geluTanh(x);
    default: throw new ArgumentError(`activation: '${activation as string}' is not 'relu', 'gelu' or 'gelu_new'`);
  }
}

export interface FeedForwardOptions extends ParamOptions {
  activation?: Activation;
  /** Dropout after the activation (default 0). */
  dropout?: number;
  /** Generator of the dropout masks (default: `rng`). */
  dropoutRng?: Rng;
}

/**
 * linear1 [D → F] → activation → dropout → linear2 [F → D], applied to each position alike.
 * Its parts keep torch's names (linear1, dropout, linear2); a Transformer layer registers them
 * directly on itself, as torch.nn.TransformerEncoderLayer does.
 *
 * @example
 * const ff = new FeedForward(16, 32, { rng: new Rng(0), activation: 'gelu' });
 * ff.forward(x).shape; // same as x: [B, T, 16]
 */
export class FeedForward extends Module {
  readonly linear1: Linear;
  readonly dropout: Dropout;
  readonly linear2: Linear;
  readonly activation: Activation;

  constructor(dModel: number, dFF: number, opts: FeedForwardOptions) {
    super();
    this.activation = opts.activation ?? 'relu';
    if (!ACTIVATIONS.includes(this.activation)) {
      throw new ArgumentError(`FeedForward: activation '${this.activation as string}' is not 'relu', 'gelu' or 'gelu_new'`);
    }
    this.linear1 = this.addModule('linear1', new Linear(dModel, dFF, opts));
    this.dropout = this.addModule('dropout', new Dropout(opts.dropout ?? 0, opts.dropoutRng ?? opts.rng));
    this.linear2 = this.addModule('linear2', new Linear(dFF, dModel, opts));
  }

  /** x [B, T, D] → [B, T, D] */
  forward(x: Tensor): Tensor {
    // ReLU goes into linear1's product (one pass fewer each way on native); GELU is its own op.
    const h = this.activation === 'relu' ? this.linear1.forward(x, 'relu') : activate(this.linear1.forward(x), this.activation);
    return this.linear2.forward(this.dropout.forward(h));
  }
}
