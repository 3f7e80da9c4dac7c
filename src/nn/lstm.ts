// LSTM: the long short-term memory layer (Hochreiter & Schmidhuber 1997), torch.nn.LSTM's gates, names and layout.
//
// Shapes: B batch, T time steps, I input size, H hidden size, L layers.
//
// State-dict names (torch.nn.LSTM's):
//   weight_ih_lN [4H, I] (layer 0) or [4H, H]     weight_hh_lN [4H, H]
//   bias_ih_lN [4H]                                bias_hh_lN [4H]
// The four row blocks of each are the gates in torch's order: input i, forget f, cell g, output o.
//
// Per step t and layer, with x_t the layer's input:
//   [i f g o] = x_t·W_ihᵀ + b_ih + h_{t-1}·W_hhᵀ + b_hh
//   c_t = σ(f) ⊙ c_{t-1} + σ(i) ⊙ tanh(g)
//   h_t = σ(o) ⊙ tanh(c_t)
// The input projection x·W_ihᵀ + b_ih is one matmul over all T steps; only the recurrent product is per step.

import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { Tensor, concat, scalarLike, tensor, zeros } from '../tensor/index.js';
import { where } from '../tensor/ops/index.js';
import { Dropout } from './dropout.js';
import { uniformInit } from './init.js';
import type { ParamOptions } from './init.js';
import { linear } from './linear.js';
import { Module } from './module.js';

export interface LSTMOptions extends ParamOptions {
  /** Stacked layers L (1); layer l > 0 reads layer l-1's outputs. */
  layers?: number;
  /** Add bias_ih and bias_hh (true). */
  bias?: boolean;
  /** Dropout on each layer's outputs except the last one's, in training (0), as torch.nn.LSTM's `dropout`. */
  dropout?: number;
  /** Generator of that dropout (default: one seeded from 0). */
  dropoutRng?: Rng;
}

/** Hidden and cell states of every layer: h [L, B, H] and c [L, B, H], as torch's (h_n, c_n). */
export interface LSTMState {
  h: Tensor;
  c: Tensor;
}

/** Per-layer states as lists of [B, H], the form {@link LSTM.step} passes from one step to the next. */
export interface LSTMLayerStates {
  h: Tensor[];
  c: Tensor[];
}

export interface LSTMCallOptions {
  /** (h0, c0), each [L, B, H]; default zeros. */
  initial?: LSTMState | null;
  /**
   * Each row's length (0 ≤ length ≤ T), as a packed sequence in torch: outputs at t ≥ length are zero, and h_n, c_n
   * are the states after the row's last valid step. Default: every row has length T.
   */
  lengths?: readonly number[] | null;
}

export interface LSTMOutput {
  /** [B, T, H]: the last layer's h_t at every step (zero past a row's length). */
  output: Tensor;
  /** [L, B, H]: each layer's final hidden state. */
  h: Tensor;
  /** [L, B, H]: each layer's final cell state. */
  c: Tensor;
}

/**
 * One LSTM cell update from the summed gate pre-activations: gates [B, 4H] (blocks i, f, g, o) and c [B, H] → the
 * new h and c, each [B, H].
 *
 * @example
 * const { h, c } = lstmCell(zeros([1, 8]), zeros([1, 2])); // h = σ(0)·tanh(0) = 0 everywhere
 */
export function lstmCell(gates: Tensor, c: Tensor): { h: Tensor; c: Tensor } {
  const H = c.shape[c.ndim - 1];
  if (gates.shape[gates.ndim - 1] !== 4 * H) throw new ShapeError(`lstmCell: gates ${fmtShape(gates.shape)} must end in 4H = ${4 * H} for c ${fmtShape(c.shape)}`);
  const [i, f, g, o] = gates.split(H, -1);
  const cNext = f.sigmoid().mul(c).add(i.sigmoid().mul(g.tanh())); // c_t = σ(f)⊙c_{t-1} + σ(i)⊙tanh(g)
  return { h: o.sigmoid().mul(cNext.tanh()), c: cNext }; // h_t = σ(o)⊙tanh(c_t)
}

/**
 * A multi-layer LSTM over batch-first sequences, with torch.nn.LSTM's parameters (loadable from its state_dict)
 * and its uniform initialisation U(-1/√H, 1/√H).
 *
 * @example
 * const lstm = new LSTM(3, 4, { layers: 2, rng: new Rng(0) });
 * const { output, h, c } = lstm.forward(randn([2, 5, 3], new Rng(1)), { lengths: [5, 3] });
 * output.shape; // [2, 5, 4]; h.shape and c.shape: [2, 2, 4]
 */
export class LSTM extends Module {
  readonly layers: number;
  /** [4H, I or H] per layer. */
  readonly weightIh: Tensor[] = [];
  /** [4H, H] per layer. */
  readonly weightHh: Tensor[] = [];
  /** [4H] per layer, or null without bias. */
  readonly biasIh: (Tensor | null)[] = [];
  readonly biasHh: (Tensor | null)[] = [];
  readonly dropout: Dropout;

  constructor(readonly inputSize: number, readonly hiddenSize: number, opts: LSTMOptions) {
    super();
    const L = (this.layers = opts.layers ?? 1);
    for (const [name, v] of [['inputSize', inputSize], ['hiddenSize', hiddenSize], ['layers', L]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ArgumentError(`LSTM: ${name} must be a positive integer, got ${v}`);
    }
    const bound = 1 / Math.sqrt(hiddenSize);
    const H4 = 4 * hiddenSize;
    for (let l = 0; l < L; l++) {
      this.weightIh.push(this.addParameter(`weight_ih_l${l}`, uniformInit([H4, l === 0 ? inputSize : hiddenSize], bound, opts)));
      this.weightHh.push(this.addParameter(`weight_hh_l${l}`, uniformInit([H4, hiddenSize], bound, opts)));
      const bias = opts.bias ?? true;
      this.biasIh.push(bias ? this.addParameter(`bias_ih_l${l}`, uniformInit([H4], bound, opts)) : null);
      this.biasHh.push(bias ? this.addParameter(`bias_hh_l${l}`, uniformInit([H4], bound, opts)) : null);
    }
    this.dropout = this.addModule('dropout', new Dropout(opts.dropout ?? 0, opts.dropoutRng ?? new Rng(0)));
  }

  /** Zero states of every layer for a batch of B rows, each [B, H]. */
  zeroState(B: number, like: Tensor): LSTMLayerStates {
    const z = () => zeros([B, this.hiddenSize], { dtype: like.dtype, backend: like.backend });
    return { h: Array.from({ length: this.layers }, z), c: Array.from({ length: this.layers }, z) };
  }

  /**
   * x [B, T, I] → output [B, T, H] and (h_n, c_n) [L, B, H], layer by layer: each layer's input projection for all
   * steps is one matmul, then T recurrent steps.
   */
  forward(x: Tensor, opts: LSTMCallOptions = {}): LSTMOutput {
    if (x.ndim !== 3 || x.shape[2] !== this.inputSize) throw new ShapeError(`LSTM: input ${fmtShape(x.shape)} must be [B, T, ${this.inputSize}]`);
    if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new DTypeError(`LSTM: input must be float32 or float64, got ${x.dtype}`);
    const [B, T] = x.shape;
    const H = this.hiddenSize;
    const init = this.initialStates(B, x, opts.initial ?? null);
    const masks = opts.lengths ? stepMasks(opts.lengths, B, T, x) : null; // [B, 1] per step, 1 where t < length
    const hs: Tensor[] = [];
    const cs: Tensor[] = [];
    let input = x;
    for (let l = 0; l < this.layers; l++) {
      if (l > 0) input = this.dropout.forward(input);
      const proj = linear(input, this.weightIh[l], this.biasIh[l]); // [B, T, 4H]
      let h = init.h[l];
      let c = init.c[l];
      const outs: Tensor[] = [];
      for (let t = 0; t < T; t++) {
        const gates = proj.narrow(1, t, 1).reshape([B, 4 * H]).add(linear(h, this.weightHh[l], this.biasHh[l])); // [B, 4H]
        const next = lstmCell(gates, c);
        if (masks) {
          // Past a row's length its state stays at the last valid step's, and its output is zero (pad_packed_sequence).
          h = where(masks[t], next.h, h);
          c = where(masks[t], next.c, c);
          outs.push(where(masks[t], next.h, scalarLike(next.h, 0)).unsqueeze(1));
        } else {
          h = next.h;
          c = next.c;
          outs.push(h.unsqueeze(1));
        }
      }
      hs.push(h.unsqueeze(0));
      cs.push(c.unsqueeze(0));
      input = T > 0 ? concat(outs, 1) : zeros([B, 0, H], { dtype: x.dtype, backend: x.backend }); // [B, T, H]
    }
    return { output: input, h: concat(hs, 0), c: concat(cs, 0) };
  }

  /**
   * One time step through every layer: x [B, I] and the layers' states → the last layer's h [B, H] and the new
   * states. The decoding loops of a seq2seq model call this once per target token.
   */
  step(x: Tensor, state: LSTMLayerStates): { output: Tensor; state: LSTMLayerStates } {
    if (x.ndim !== 2 || x.shape[1] !== this.inputSize) throw new ShapeError(`LSTM.step: input ${fmtShape(x.shape)} must be [B, ${this.inputSize}]`);
    const h: Tensor[] = [];
    const c: Tensor[] = [];
    let input = x;
    for (let l = 0; l < this.layers; l++) {
      if (l > 0) input = this.dropout.forward(input);
      const gates = linear(input, this.weightIh[l], this.biasIh[l]).add(linear(state.h[l], this.weightHh[l], this.biasHh[l])); // [B, 4H]
      const next = lstmCell(gates, state.c[l]);
      h.push(next.h);
      c.push(next.c);
      input = next.h;
    }
    return { output: input, state: { h, c } };
  }

  private initialStates(B: number, x: Tensor, initial: LSTMState | null): LSTMLayerStates {
    if (!initial) return this.zeroState(B, x);
    const want = [this.layers, B, this.hiddenSize];
    for (const [name, t] of [['h0', initial.h], ['c0', initial.c]] as const) {
      if (t.ndim !== 3 || t.shape.some((d, i) => d !== want[i])) throw new ShapeError(`LSTM: initial ${name} ${fmtShape(t.shape)} must be ${fmtShape(want)}`);
    }
    const rows = (t: Tensor) => Array.from({ length: this.layers }, (_, l) => t.narrow(0, l, 1).reshape([B, this.hiddenSize]));
    return { h: rows(initial.h), c: rows(initial.c) };
  }
}

/** Per step t, a [B, 1] tensor of x's dtype: 1 where t < lengths[b], else 0. */
function stepMasks(lengths: readonly number[], B: number, T: number, like: Tensor): Tensor[] {
  if (lengths.length !== B) throw new ShapeError(`LSTM: ${lengths.length} lengths for a batch of ${B} rows, expected one per row`);
  lengths.forEach((n, b) => {
    if (!Number.isInteger(n) || n < 0 || n > T) throw new ArgumentError(`LSTM: length ${n} of row ${b} is not an integer in [0, ${T}]`);
  });
  return Array.from({ length: T }, (_, t) => tensor(lengths.map((n) => (t < n ? 1 : 0)), { shape: [B, 1], dtype: like.dtype, backend: like.backend }));
}
