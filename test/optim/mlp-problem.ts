// The tiny MLP problem of scripts/gen_optim_golden.py, rebuilt with qkv tensors from the fixture.

import { readFileSync } from 'node:fs';
import { Tensor, tensor } from '../../src/tensor/index.js';

export interface GoldenCase {
  losses: number[];
  final: Record<ParamName, number[]>;
  gradNorms?: number[];
}

export interface Golden {
  steps: number;
  x: number[];
  xShape: number[];
  y: number[];
  yShape: number[];
  init: Record<ParamName, number[]>;
  shapes: Record<ParamName, number[]>;
  cases: Record<string, GoldenCase>;
}

export const NAMES = ['w1', 'b1', 'w2', 'b2'] as const;
export type ParamName = (typeof NAMES)[number];

export const golden: Golden = JSON.parse(readFileSync(new URL('../fixtures/optim/golden.json', import.meta.url), 'utf8'));

/** Fresh float32 parameters at the fixture's initial values, in NAMES order. */
export function initParams(): Tensor[] {
  return NAMES.map((k) => tensor(new Float32Array(golden.init[k]), { shape: golden.shapes[k], requiresGrad: true }));
}

const X = tensor(new Float32Array(golden.x), { shape: golden.xShape });
const Y = tensor(new Float32Array(golden.y), { shape: golden.yShape });

/** MSE of y = tanh(x·W1ᵀ + b1)·W2ᵀ + b2 against the fixed targets. */
export function lossOf([w1, b1, w2, b2]: Tensor[]): Tensor {
  const h = X.matmul(w1.transpose()).add(b1).tanh();
  const d = h.matmul(w2.transpose()).add(b2).sub(Y);
  return d.mul(d).mean();
}
