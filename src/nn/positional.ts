// Positional encodings (paper §3.5): the fixed sinusoids, and a learned table as the alternative.

import type { Backend } from '../backend/backend.js';
import type { FloatDType } from '../core/dtype.js';
import { ArgumentError, ShapeError, fmtShape } from '../core/errors.js';
import { Tensor, tensor } from '../tensor/index.js';
import { normalInit } from './init.js';
import type { ParamOptions } from './init.js';
import { Module } from './module.js';

function checkRange(op: string, x: Tensor, dModel: number, maxLen: number, offset: number): number {
  if (x.ndim < 2 || x.dim(-1) !== dModel) throw new ShapeError(`${op}: input ${fmtShape(x.shape)} must be [..., T, ${dModel}]`);
  const T = x.dim(-2);
  if (!Number.isInteger(offset) || offset < 0 || offset + T > maxLen) {
    throw new ArgumentError(`${op}: positions [${offset}, ${offset + T}) exceed maxLen ${maxLen}`);
  }
  return T;
}

/**
 * PE(pos, 2i) = sin(pos / 10000^(2i/D)),  PE(pos, 2i+1) = cos(pos / 10000^(2i/D)).
 * The table is computed once (in float64, then cast) and is not a parameter, so it is not in
 * the state dict.
 *
 * @example
 * const pe = new SinusoidalPositionalEncoding(16, 100);
 * pe.forward(x).shape; // x [B, T, 16] plus PE[0..T)
 */
export class SinusoidalPositionalEncoding extends Module {
  /** [maxLen, D] */
  readonly table: Tensor;

  constructor(readonly dModel: number, readonly maxLen = 5000, opts: { dtype?: FloatDType; backend?: Backend } = {}) {
    super();
    const data = new Float64Array(maxLen * dModel);
    for (let pos = 0; pos < maxLen; pos++) {
      for (let i = 0; 2 * i < dModel; i++) {
        const angle = pos / Math.pow(10000, (2 * i) / dModel);
        data[pos * dModel + 2 * i] = Math.sin(angle);
        if (2 * i + 1 < dModel) data[pos * dModel + 2 * i + 1] = Math.cos(angle);
      }
    }
    this.table = tensor(data, { shape: [maxLen, dModel], dtype: opts.dtype ?? 'float32', backend: opts.backend });
  }

  /** x [B, T, D] → x + PE[offset .. offset+T). `offset` is for decoding one step at a time. */
  forward(x: Tensor, offset = 0): Tensor {
    const T = checkRange('SinusoidalPositionalEncoding', x, this.dModel, this.maxLen, offset);
    return x.add(this.table.narrow(0, offset, T));
  }
}

/**
 * A learned table of positions [maxLen, D] (parameter `weight`), added like the sinusoids.
 * The paper found it "produced nearly identical results" (§3.5).
 *
 * @example
 * const pe = new LearnedPositionalEncoding(16, 64, { rng: new Rng(0) });
 */
export class LearnedPositionalEncoding extends Module {
  /** [maxLen, D] */
  readonly weight: Tensor;

  constructor(readonly dModel: number, readonly maxLen: number, opts: ParamOptions) {
    super();
    this.weight = this.addParameter('weight', normalInit([maxLen, dModel], 1, opts));
  }

  /** x [B, T, D] → x + weight[offset .. offset+T) */
  forward(x: Tensor, offset = 0): Tensor {
    const T = checkRange('LearnedPositionalEncoding', x, this.dModel, this.maxLen, offset);
    return x.add(this.weight.narrow(0, offset, T));
  }
}
