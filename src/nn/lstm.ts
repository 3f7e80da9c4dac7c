// LSTM: the long short-term memory layer (Hochreiter & Schmidhuber 1997), torch.nn.LSTM's gates, names and layout.
//
// Shapes: B batch, T time steps, I input size, H hidden size, L layers.
//
// State-dict names (torch.nn.LSTM's):
//   weight_ih_lN [4H, I] (layer 0) or [4H, D·H]   weight_hh_lN [4H, H]
//   bias_ih_lN [4H]                                bias_hh_lN [4H]
//   and the same with a _reverse suffix for the backward direction when bidirectional (D = 2)
// The four row blocks of each are the gates in torch's order: input i, forget f, cell g, output o.
//
// Per step t and layer, with x_t the layer's input:
//   [i f g o] = x_t·W_ihᵀ + b_ih + h_{t-1}·W_hhᵀ + b_hh
//   c_t = σ(f) ⊙ c_{t-1} + σ(i) ⊙ tanh(g)
//   h_t = σ(o) ⊙ tanh(c_t)
// The input projection x·W_ihᵀ + b_ih is one matmul over all T steps; only the recurrent product is per step.

import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { Tensor, concat, embedding, scalarLike, tensor, zeros } from '../tensor/index.js';
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
  /**
   * A second LSTM per layer reading each row backwards from its last valid step (false), as torch's
   * `bidirectional`: outputs are [forward; backward] (2H wide), and layer l > 0 reads both.
   */
  bidirectional?: boolean;
}

/** Hidden and cell states of every layer: h [L·D, B, H] and c [L·D, B, H], as torch's (h_n, c_n); D = 2 when bidirectional. */
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
  /** (h0, c0), each [L·D, B, H] (layer 0 forward, layer 0 backward, layer 1 forward…); default zeros. */
  initial?: LSTMState | null;
  /**
   * Each row's length (0 ≤ length ≤ T), as a packed sequence in torch: outputs at t ≥ length are zero, and h_n, c_n
   * are the states after the row's last valid step. Default: every row has length T.
   */
  lengths?: readonly number[] | null;
}

export interface LSTMOutput {
  /** The last layer's h_t at every step, [B, T, D·H] (zero past a row's length). */
  output: Tensor;
  /** Each layer's (and direction's) final hidden state, [L·D, B, H]. */
  h: Tensor;
  /** Each layer's (and direction's) final cell state, [L·D, B, H]. */
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
 * A multi-layer LSTM over batch-first sequences, with torch.nn.LSTM's parameters (loadable from its state_dict;
 * `weight_ih_lN_reverse`… for the backward direction) and its uniform initialisation U(-1/√H, 1/√H).
 *
 * @example
 * const lstm = new LSTM(3, 4, { layers: 2, rng: new Rng(0) });
 * const { output, h, c } = lstm.forward(randn([2, 5, 3], new Rng(1)), { lengths: [5, 3] });
 * output.shape; // [2, 5, 4]; h.shape and c.shape: [2, 2, 4]
 */
export class LSTM extends Module {
  readonly layers: number;
  /** D: 2 when bidirectional, else 1. */
  readonly directions: number;
  /** [4H, I or D·H] per layer and direction, at index l·D + d (torch's order of h_n). */
  readonly weightIh: Tensor[] = [];
  /** [4H, H] per layer and direction. */
  readonly weightHh: Tensor[] = [];
  /** [4H] per layer and direction, or null without bias. */
  readonly biasIh: (Tensor | null)[] = [];
  readonly biasHh: (Tensor | null)[] = [];
  readonly dropout: Dropout;

  constructor(readonly inputSize: number, readonly hiddenSize: number, opts: LSTMOptions) {
    super();
    const L = (this.layers = opts.layers ?? 1);
    const D = (this.directions = opts.bidirectional ? 2 : 1);
    for (const [name, v] of [['inputSize', inputSize], ['hiddenSize', hiddenSize], ['layers', L]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ArgumentError(`LSTM: ${name} must be a positive integer, got ${v}`);
    }
    const bound = 1 / Math.sqrt(hiddenSize);
    const H4 = 4 * hiddenSize;
    const bias = opts.bias ?? true;
    for (let l = 0; l < L; l++) {
      for (let d = 0; d < D; d++) {
        const tag = `l${l}${d === 1 ? '_reverse' : ''}`;
        this.weightIh.push(this.addParameter(`weight_ih_${tag}`, uniformInit([H4, l === 0 ? inputSize : D * hiddenSize], bound, opts)));
        this.weightHh.push(this.addParameter(`weight_hh_${tag}`, uniformInit([H4, hiddenSize], bound, opts)));
        this.biasIh.push(bias ? this.addParameter(`bias_ih_${tag}`, uniformInit([H4], bound, opts)) : null);
        this.biasHh.push(bias ? this.addParameter(`bias_hh_${tag}`, uniformInit([H4], bound, opts)) : null);
      }
    }
    this.dropout = this.addModule('dropout', new Dropout(opts.dropout ?? 0, opts.dropoutRng ?? new Rng(0)));
  }

  /** Zero states of every layer (and direction) for a batch of B rows, each [B, H]. */
  zeroState(B: number, like: Tensor): LSTMLayerStates {
    const z = () => zeros([B, this.hiddenSize], { dtype: like.dtype, backend: like.backend });
    const n = this.layers * this.directions;
    return { h: Array.from({ length: n }, z), c: Array.from({ length: n }, z) };
  }

  /**
   * x [B, T, I] → output [B, T, D·H] and (h_n, c_n) [L·D, B, H], layer by layer: each layer's input projection for
   * all steps is one matmul, then T recurrent steps. The backward direction runs the same recurrence over each row
   * reversed within its length, and its outputs are reversed back.
   */
  forward(x: Tensor, opts: LSTMCallOptions = {}): LSTMOutput {
    if (x.ndim !== 3 || x.shape[2] !== this.inputSize) throw new ShapeError(`LSTM: input ${fmtShape(x.shape)} must be [B, T, ${this.inputSize}]`);
    if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new DTypeError(`LSTM: input must be float32 or float64, got ${x.dtype}`);
    const [B, T] = x.shape;
    const D = this.directions;
    const init = this.initialStates(B, x, opts.initial ?? null);
    const masks = opts.lengths ? stepMasks(opts.lengths, B, T, x) : null; // [B, 1] per step, 1 where t < length
    const reversed = D === 2 && T > 0 ? reverseIndex(opts.lengths ?? new Array<number>(B).fill(T), T, x) : null;
    const hs: Tensor[] = [];
    const cs: Tensor[] = [];
    let input = x;
    for (let l = 0; l < this.layers; l++) {
      if (l > 0) input = this.dropout.forward(input);
      const outs: Tensor[] = [];
      for (let d = 0; d < D; d++) {
        const k = l * D + d;
        const r = this.run(reversed && d === 1 ? reverseRows(input, reversed) : input, k, init.h[k], init.c[k], masks);
        hs.push(r.h.unsqueeze(0));
        cs.push(r.c.unsqueeze(0));
        outs.push(reversed && d === 1 ? reverseRows(r.output, reversed) : r.output);
      }
      input = D === 1 ? outs[0] : concat(outs, -1); // [B, T, D·H]
    }
    return { output: input, h: concat(hs, 0), c: concat(cs, 0) };
  }

  /** One direction of one layer (weights k) over all T steps from (h, c): its outputs [B, T, H] and final state. */
  private run(input: Tensor, k: number, h: Tensor, c: Tensor, masks: Tensor[] | null): { output: Tensor; h: Tensor; c: Tensor } {
    const [B, T] = input.shape;
    const H = this.hiddenSize;
    const proj = linear(input, this.weightIh[k], this.biasIh[k]); // [B, T, 4H]
    const outs: Tensor[] = [];
    for (let t = 0; t < T; t++) {
      const gates = proj.narrow(1, t, 1).reshape([B, 4 * H]).add(linear(h, this.weightHh[k], this.biasHh[k])); // [B, 4H]
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
    const output = T > 0 ? concat(outs, 1) : zeros([B, 0, H], { dtype: input.dtype, backend: input.backend });
    return { output, h, c };
  }

  /**
   * One time step through every layer: x [B, I] and the layers' states → the last layer's h [B, H] and the new
   * states. The decoding loops of a seq2seq model call this once per target token.
   *
   * @example
   * let state = lstm.zeroState(B, x);
   * for (const xt of steps) ({ output: h, state } = lstm.step(xt, state)); // xt [B, I] → h [B, H]
   */
  step(x: Tensor, state: LSTMLayerStates): { output: Tensor; state: LSTMLayerStates } {
    if (this.directions === 2) throw new ArgumentError('LSTM.step: a bidirectional LSTM reads whole sequences (its backward direction starts at the end), expected forward()');
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
    const n = this.layers * this.directions;
    const want = [n, B, this.hiddenSize];
    for (const [name, t] of [['h0', initial.h], ['c0', initial.c]] as const) {
      if (t.ndim !== 3 || t.shape.some((d, i) => d !== want[i])) throw new ShapeError(`LSTM: initial ${name} ${fmtShape(t.shape)} must be ${fmtShape(want)}`);
    }
    const rows = (t: Tensor) => Array.from({ length: n }, (_, l) => t.narrow(0, l, 1).reshape([B, this.hiddenSize]));
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

/** Row-major indices into x.reshape([B·T, F]) that reverse each row within its length (padding stays in place). */
function reverseIndex(lengths: readonly number[], T: number, like: Tensor): Tensor {
  const idx = new Int32Array(lengths.length * T);
  lengths.forEach((n, b) => {
    for (let t = 0; t < T; t++) idx[b * T + t] = b * T + (t < n ? n - 1 - t : t);
  });
  return tensor(idx, { dtype: 'int32', backend: like.backend });
}

/** x [B, T, F] with each row reversed by `index` (a gather: its gradient scatters back). */
function reverseRows(x: Tensor, index: Tensor): Tensor {
  const [B, T, F] = x.shape;
  return embedding(index, x.reshape([B * T, F])).reshape([B, T, F]);
}
