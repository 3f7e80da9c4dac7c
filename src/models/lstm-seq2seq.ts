// The LSTM encoder-decoder with attention of Luong, Pham & Manning (2015), "Effective Approaches to Attention-based NMT".
//
// Shapes: B batch, S source length, T target length, H hidden size (also the embedding size), L layers, V vocabulary.
//
// State-dict names:
//   src_embed.weight [V_src, H]              tgt_embed.weight [V_tgt, H]
//   encoder.{weight_ih_lN, weight_hh_lN, bias_ih_lN, bias_hh_lN}   (torch.nn.LSTM's; and …_reverse when bidirectional)
//   bridge.weight [L_dec·H, H], bridge.bias  (decoder's initial h from the encoder's last state)
//   decoder.{weight_ih_lN, …}                (layer 0 reads [embedding; h̃_{t-1}] with inputFeeding: [4H, 2H])
//   attn_weight [H, H]                       (W_a of the 'general' score; absent with 'dot')
//   attn_out.weight [H, 2H]                  (W_c)
//   generator.weight [V_tgt, H], generator.bias [V_tgt]
//
// It offers what the Transformer offers to training and decoding: forward(src, tgt) for teacher forcing, and
// encode / decode / generator / createCache, so greedyDecode and beamSearch drive it unchanged.

import type { Backend } from '../backend/backend.js';
import type { FloatDType } from '../core/dtype.js';
import { BOOL, DROP_RATE, POSITIONS, POSITIVE_INT, SEED, checkConfigFields } from '../core/config-checks.js';
import type { ConfigRule } from '../core/config-checks.js';
import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { Tensor, concat, embedding, softmax, tensor, zeros } from '../tensor/index.js';
import { Dropout, Embedding, LSTM, Linear, Module, linear, uniformInit } from '../nn/index.js';
import type { LSTMLayerStates, ModelInitOptions } from '../nn/index.js';
import { selectRows } from '../nn/kv-cache.js';

/** The model's hyper-parameters. Defaults are Luong et al.'s (§4.1): 4 layers of 1000 cells, dropout 0.2, general score, input feeding. */
export interface LSTMSeq2SeqConfig {
  srcVocab: number;
  tgtVocab: number;
  /** Cells per layer, and the embedding size (1000). */
  hidden?: number;
  /** Encoder layers (4). */
  encoderLayers?: number;
  /** Decoder layers (4). */
  decoderLayers?: number;
  /** Dropout on embeddings, between LSTM layers and on h̃ (0.2). */
  dropout?: number;
  /** score(h_t, h̄_s): 'general' h_tᵀ·W_a·h̄_s (the default) or 'dot' h_tᵀ·h̄_s. */
  attention?: 'general' | 'dot';
  /** Feed h̃_{t-1} into the decoder's next step (§3.3; true). false lets the decoder run all steps as one sequence. */
  inputFeeding?: boolean;
  /**
   * A bidirectional encoder (false, the paper's stacked unidirectional one): each direction has hidden / 2 cells, so
   * h̄_s = [forward; backward] is `hidden` wide (hidden must be even).
   */
  bidirectional?: boolean;
  /** Most target positions decoding may produce (256); an LSTM has no position table, this only caps decoding. */
  maxLen?: number;
  /** Seed of initialisation and dropout (0). */
  seed?: number;
  dtype?: FloatDType;
  backend?: Backend;
}

export type ResolvedLSTMSeq2SeqConfig = Required<Omit<LSTMSeq2SeqConfig, 'backend'>> & { backend?: Backend };

/** The type and range of every field of a resolved config. */
export const LSTM_SEQ2SEQ_RULES: Readonly<Record<keyof Omit<ResolvedLSTMSeq2SeqConfig, 'backend'>, ConfigRule>> = {
  srcVocab: POSITIVE_INT, tgtVocab: POSITIVE_INT, hidden: POSITIVE_INT, encoderLayers: POSITIVE_INT, decoderLayers: POSITIVE_INT,
  dropout: DROP_RATE, attention: { oneOf: ['general', 'dot'] }, inputFeeding: BOOL, bidirectional: BOOL, maxLen: POSITIONS, seed: SEED,
  dtype: { oneOf: ['float32', 'float64'] },
};

/**
 * Fills in Luong et al.'s defaults and checks every field.
 *
 * @example
 * resolveLSTMSeq2SeqConfig({ srcVocab: 30, tgtVocab: 40 }).hidden; // 1000
 */
export function resolveLSTMSeq2SeqConfig(c: LSTMSeq2SeqConfig): ResolvedLSTMSeq2SeqConfig {
  const given = Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined));
  const r: ResolvedLSTMSeq2SeqConfig = {
    hidden: 1000, encoderLayers: 4, decoderLayers: 4, dropout: 0.2, attention: 'general', inputFeeding: true, bidirectional: false, maxLen: 256, seed: 0, dtype: 'float32',
    ...given, srcVocab: c.srcVocab, tgtVocab: c.tgtVocab,
  };
  checkConfigFields('LSTMSeq2Seq', r, LSTM_SEQ2SEQ_RULES);
  if (r.bidirectional && r.hidden % 2 !== 0) throw new ArgumentError(`LSTMSeq2Seq: hidden ${r.hidden} must be even with bidirectional (each direction gets hidden / 2 cells)`);
  return r;
}

/**
 * The decoder's state between calls of {@link LSTMSeq2Seq.decode}: each layer's (h, c), the last h̃ (input feeding)
 * and the attention keys of the memory. Written outside autograd: use it under noGrad, as decoding does.
 *
 * @example
 * const cache = model.createCache(32);
 * const memory = model.encode(src).output;
 * model.decode(bosIds, memory, { cache });   // then one new token per call; cache.length counts them
 */
export class LSTMDecoderCache {
  /** Target positions consumed so far. */
  length = 0;
  state: LSTMLayerStates | null = null;
  /** h̃ of the last position [B, H]. */
  feed: Tensor | null = null;
  /** W_a·h̄_s for every source position [B, S, H] (the memory itself with 'dot'). */
  keys: Tensor | null = null;

  constructor(readonly maxLen: number) {
    if (!Number.isInteger(maxLen) || maxLen < 1) throw new ArgumentError(`LSTMDecoderCache: maxLen must be a positive integer, got ${maxLen}`);
  }

  /** Keeps rows `indices` of every tensor (beam search's surviving hypotheses). */
  reorder(indices: readonly number[]): void {
    if (!this.state) return;
    this.state = { h: this.state.h.map((t) => selectRows(t, indices)), c: this.state.c.map((t) => selectRows(t, indices)) };
    this.feed = this.feed && selectRows(this.feed, indices);
    this.keys = this.keys && selectRows(this.keys, indices);
  }
}

/** Options of {@link LSTMSeq2Seq.forward}: the Transformer's names, so the training loop calls both alike. */
export interface LSTMSeq2SeqCallOptions {
  /** [B, S], 1 at source padding (right-padded rows): sets the encoder's lengths and masks attention. */
  srcPaddingMask?: Tensor | null;
  /** Accepted for the Transformer's interface; a recurrent decoder never reads later positions. */
  tgtPaddingMask?: Tensor | null;
  /** Also return the attention weights. */
  needWeights?: boolean;
}

export interface LSTMSeq2SeqDecodeOptions extends LSTMSeq2SeqCallOptions {
  /** From {@link LSTMSeq2Seq.createCache}: `tgt` then holds only the new positions. */
  cache?: LSTMDecoderCache | null;
}

export interface LSTMSeq2SeqOutput {
  /** [B, T, V] */
  logits: Tensor;
  /** One [B, 1, T, S] (a single head) when asked for: the Transformer's crossAttentions shape. */
  crossAttentions?: Tensor[];
}

/**
 * The attentional LSTM encoder-decoder.
 *
 * @example
 * const model = new LSTMSeq2Seq({ srcVocab: 11, tgtVocab: 11, hidden: 16, encoderLayers: 1, decoderLayers: 1, seed: 1 });
 * const src = tensor([[5, 7, 2]], { dtype: 'int32' });   // [B, S]
 * const tgt = tensor([[1, 5, 7]], { dtype: 'int32' });   // [B, T]
 * model.forward(src, tgt).logits.shape;                 // [1, 3, 11]
 */
export class LSTMSeq2Seq extends Module {
  readonly config: ResolvedLSTMSeq2SeqConfig;
  readonly srcEmbed: Embedding;
  readonly tgtEmbed: Embedding;
  readonly dropout: Dropout;
  readonly encoder: LSTM;
  readonly bridge: Linear;
  readonly decoder: LSTM;
  /** W_a [H, H], or null with the 'dot' score. */
  readonly attnWeight: Tensor | null;
  /** W_c [H, 2H] */
  readonly attnOut: Linear;
  readonly generator: Linear;

  constructor(config: LSTMSeq2SeqConfig, build: ModelInitOptions = {}) {
    super();
    const c = (this.config = resolveLSTMSeq2SeqConfig(config));
    const rng = new Rng(c.seed);
    const dropoutRng = new Rng((c.seed ^ 0x5bd1e995) | 0);
    const p = { rng, dtype: c.dtype, backend: c.backend, init: build.init };
    const H = c.hidden;
    this.srcEmbed = this.addModule('src_embed', new Embedding(c.srcVocab, H, p));
    this.tgtEmbed = this.addModule('tgt_embed', new Embedding(c.tgtVocab, H, p));
    this.dropout = this.addModule('dropout', new Dropout(c.dropout, dropoutRng));
    const encoderCells = c.bidirectional ? H / 2 : H;
    this.encoder = this.addModule('encoder', new LSTM(H, encoderCells, { ...p, layers: c.encoderLayers, dropout: c.dropout, dropoutRng, bidirectional: c.bidirectional }));
    this.bridge = this.addModule('bridge', new Linear(H, c.decoderLayers * H, p));
    this.decoder = this.addModule('decoder', new LSTM(c.inputFeeding ? 2 * H : H, H, { ...p, layers: c.decoderLayers, dropout: c.dropout, dropoutRng }));
    this.attnWeight = c.attention === 'general' ? this.addParameter('attn_weight', uniformInit([H, H], 1 / Math.sqrt(H), p)) : null;
    this.attnOut = this.addModule('attn_out', new Linear(2 * H, H, { ...p, bias: false }));
    this.generator = this.addModule('generator', new Linear(H, c.tgtVocab, p));
    // "All parameters are initialized uniformly in [-0.1, 0.1]" (§4.1).
    if (build.init !== false) for (const w of this.parameters()) w.assign(uniformInit(w.shape, 0.1, p));
  }

  /** An empty decoder state for {@link decode}, for up to `maxLen` target positions. */
  createCache(maxLen: number): LSTMDecoderCache {
    return new LSTMDecoderCache(maxLen);
  }

  /**
   * h̄ = LSTM_enc(Dropout(Embed(src))), each row run to its length (from the padding mask).
   * src int32 [B, S] → memory [B, S, H], zero at padding.
   */
  encode(src: Tensor, opts: Pick<LSTMSeq2SeqCallOptions, 'srcPaddingMask'> = {}): { output: Tensor } {
    if (src.dtype !== 'int32') throw new DTypeError(`LSTMSeq2Seq: source ids must be int32, got ${src.dtype}`);
    if (src.ndim !== 2) throw new ShapeError(`LSTMSeq2Seq: source ids must be [B, S], got ${fmtShape(src.shape)}`);
    const x = this.dropout.forward(this.srcEmbed.forward(src)); // [B, S, H]
    const lengths = opts.srcPaddingMask ? sourceLengths(opts.srcPaddingMask, src.shape) : null;
    return { output: this.encoder.forward(x, { lengths }).output };
  }

  /**
   * The decoder's initial state: h_0 of each layer = tanh(W_b·h̄_last + b_b), the encoder's top state at each row's
   * last source token (bidirectional: the forward half there, the backward half at the first token, where that
   * direction ends); c_0 = 0. (The encoder's states are not part of `memory`, which is all decode is given.)
   */
  private initialState(memory: Tensor, srcPaddingMask: Tensor | null | undefined): LSTMLayerStates {
    const [B, S, H] = memory.shape;
    const lengths = srcPaddingMask ? sourceLengths(srcPaddingMask, [B, S]) : new Array<number>(B).fill(S);
    const at = (pos: (n: number) => number) => embedding(tensor(Int32Array.from(lengths, (n, b) => b * S + pos(n)), { dtype: 'int32', backend: memory.backend }), memory.reshape([B * S, H])); // [B, H]
    const end = at((n) => Math.max(n - 1, 0));
    const last = this.config.bidirectional ? concat([end.narrow(1, 0, H / 2), at(() => 0).narrow(1, H / 2, H / 2)], 1) : end;
    const h0 = this.bridge.forward(last).tanh(); // [B, L·H]
    const z = zeros([B, H], { dtype: memory.dtype, backend: memory.backend });
    return { h: h0.split(H, 1), c: h0.split(H, 1).map(() => z) };
  }

  /**
   * score(h_t, h̄_s) = h_tᵀ·W_a·h̄_s (general) or h_tᵀ·h̄_s (dot);  a_t = softmax_s(score)    (eq. 7, 8)
   * c_t = Σ_s a_t(s)·h̄_s;  h̃_t = tanh(W_c·[c_t; h_t])                                        (eq. 5)
   * h [B, T, H], keys [B, S, H] (W_a·h̄_s), memory [B, S, H] → h̃ [B, T, H] and a [B, T, S].
   */
  private attend(h: Tensor, keys: Tensor, memory: Tensor, srcPaddingMask: Tensor | null | undefined): { out: Tensor; weights: Tensor } {
    let scores = h.matmul(keys.transpose(1, 2)); // [B, T, S]
    if (srcPaddingMask) scores = scores.maskedFill(srcPaddingMask.unsqueeze(1), -Infinity);
    const weights = softmax(scores, -1); // [B, T, S]
    const context = weights.matmul(memory); // [B, T, H]
    return { out: this.attnOut.forward(concat([context, h], -1)).tanh(), weights };
  }

  /**
   * The decoder over target positions: tgt int32 [B, T] (the shifted-right target, or only the new positions with a
   * cache) and memory [B, S, H] → h̃ [B, T, H] (dropout applied); logits are generator.forward(h̃).
   */
  decode(tgt: Tensor, memory: Tensor, opts: LSTMSeq2SeqDecodeOptions = {}): { output: Tensor; crossAttention?: Tensor } {
    if (tgt.dtype !== 'int32') throw new DTypeError(`LSTMSeq2Seq: target ids must be int32, got ${tgt.dtype}`);
    if (tgt.ndim !== 2 || memory.ndim !== 3 || tgt.shape[0] !== memory.shape[0]) {
      throw new ShapeError(`LSTMSeq2Seq: target ${fmtShape(tgt.shape)} and memory ${fmtShape(memory.shape)} must be [B, T] and [B, S, H] with one B`);
    }
    const cache = opts.cache ?? null;
    const [B, T] = tgt.shape;
    const H = this.config.hidden;
    if (cache && cache.length + T > cache.maxLen) throw new ArgumentError(`LSTMSeq2Seq: ${cache.length} cached + ${T} new positions exceed the cache's maxLen ${cache.maxLen}`);
    let state = cache?.state ?? this.initialState(memory, opts.srcPaddingMask);
    let feed = cache?.feed ?? zeros([B, H], { dtype: memory.dtype, backend: memory.backend });
    const keys = cache?.keys ?? (this.attnWeight ? linear(memory, this.attnWeight, null) : memory); // [B, S, H]
    const y = this.dropout.forward(this.tgtEmbed.forward(tgt)); // [B, T, H]
    let out: Tensor;
    let weights: Tensor;
    if (!this.config.inputFeeding) {
      const r = this.decoder.forward(y, { initial: stack(state) }); // [B, T, H]
      ({ out, weights } = this.attend(r.output, keys, memory, opts.srcPaddingMask));
      state = unstack(r.h, r.c);
      feed = out.narrow(1, T - 1, 1).reshape([B, H]);
    } else {
      // Input feeding (§3.3): x_t = [embed(y_t); h̃_{t-1}], so the decoder knows what it attended to before.
      const outs: Tensor[] = [];
      const ws: Tensor[] = [];
      for (let t = 0; t < T; t++) {
        const x = concat([y.narrow(1, t, 1).reshape([B, H]), feed], -1); // [B, 2H]
        const step = this.decoder.step(x, state);
        state = step.state;
        const a = this.attend(step.output.unsqueeze(1), keys, memory, opts.srcPaddingMask); // [B, 1, H]
        feed = a.out.reshape([B, H]);
        outs.push(a.out);
        ws.push(a.weights);
      }
      out = concat(outs, 1);
      weights = concat(ws, 1);
    }
    if (cache) {
      cache.state = state;
      cache.feed = feed;
      cache.keys = keys;
      cache.length += T;
    }
    return { output: this.dropout.forward(out), ...(opts.needWeights ? { crossAttention: weights } : {}) };
  }

  /** src int32 [B, S], tgt int32 [B, T] (the shifted-right target) → logits [B, T, V]. */
  forward(src: Tensor, tgt: Tensor, opts: LSTMSeq2SeqCallOptions = {}): LSTMSeq2SeqOutput {
    if (src.ndim !== 2 || tgt.ndim !== 2 || src.shape[0] !== tgt.shape[0]) {
      throw new ShapeError(`LSTMSeq2Seq: src ${fmtShape(src.shape)} and tgt ${fmtShape(tgt.shape)} must be [B, S] and [B, T] with one B`);
    }
    const memory = this.encode(src, opts).output;
    const dec = this.decode(tgt, memory, opts);
    const logits = this.generator.forward(dec.output); // [B, T, V]
    return opts.needWeights && dec.crossAttention ? { logits, crossAttentions: [dec.crossAttention.unsqueeze(1)] } : { logits };
  }
}

/** Each row's length from a right-padded [B, S] mask (1 at padding). */
function sourceLengths(mask: Tensor, shape: readonly number[]): number[] {
  const [B, S] = shape;
  if (mask.ndim !== 2 || mask.shape[0] !== B || mask.shape[1] !== S) throw new ShapeError(`LSTMSeq2Seq: srcPaddingMask ${fmtShape(mask.shape)} must be [${B}, ${S}]`);
  const m = mask.toArray();
  return Array.from({ length: B }, (_, b) => {
    let n = 0;
    while (n < S && m[b * S + n] === 0) n++;
    return n;
  });
}

function stack(s: LSTMLayerStates): { h: Tensor; c: Tensor } {
  return { h: concat(s.h.map((t) => t.unsqueeze(0)), 0), c: concat(s.c.map((t) => t.unsqueeze(0)), 0) };
}

function unstack(h: Tensor, c: Tensor): LSTMLayerStates {
  const rows = (t: Tensor) => Array.from({ length: t.shape[0] }, (_, l) => t.narrow(0, l, 1).reshape(t.shape.slice(1)));
  return { h: rows(h), c: rows(c) };
}
