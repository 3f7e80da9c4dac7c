// GPT for sequence classification: the final-normed state of each row's last non-pad token, scored by one linear map (HF's GPT2ForSequenceClassification).
//
// Shapes: B batch, T positions, D d_model, L labels.
//
// State-dict names: `transformer.` + GPT's (transformer.wte.weight, ..., transformer.norm.*; the tied lm_head adds
// no tensor of its own), and score.weight [L, D] (no bias, as Hugging Face).

import { checkLabels } from '../core/config-checks.js';
import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { Tensor, embedding, noGrad, randn, tensor } from '../tensor/index.js';
import { Linear, Module } from '../nn/index.js';
import type { ModelInitOptions } from '../nn/index.js';
import { GPT, resolveGPTConfig } from './gpt.js';
import type { GPTConfig, ResolvedGPTConfig } from './gpt.js';

/** A GPT config with the classifier's labels (id order, at least 2) and the padding id that marks a row's end. */
export interface GPTClassifierConfig extends GPTConfig {
  labels: string[];
  /** The id of padding tokens (right padding): a row's last token is its last one with another id. */
  padId: number;
}

export type ResolvedGPTClassifierConfig = ResolvedGPTConfig & { labels: string[]; padId: number };

/**
 * resolveGPTConfig, the labels, and a padId in [0, vocab).
 *
 * @example
 * resolveGPTClassifierConfig({ vocab: 96, labels: ['ham', 'spam'], padId: 0 }).dModel; // 768
 */
export function resolveGPTClassifierConfig(c: GPTClassifierConfig): ResolvedGPTClassifierConfig {
  const r = resolveGPTConfig(c);
  const labels = checkLabels('GPTForSequenceClassification', c.labels);
  if (!Number.isSafeInteger(c.padId) || c.padId < 0 || c.padId >= r.vocab) {
    throw new ArgumentError(`GPTForSequenceClassification: padId is ${String(c.padId)}, expected an integer from 0 to ${r.vocab - 1} (vocab - 1)`);
  }
  return { ...r, labels, padId: c.padId };
}

/** Per-call options of {@link GPTForSequenceClassification.forward}. */
export interface GPTClassifierCallOptions {
  /** [B, T], 1 at padded keys (default: none; the causal mask already keeps right padding from the scored token). */
  keyPaddingMask?: Tensor | null;
  /** Return each block's per-head attention weights [B, H, T, T]. */
  needWeights?: boolean;
}

export interface GPTClassifierOutput {
  /** Shape `[B, L]`: unnormalised scores of each label. */
  logits: Tensor;
  attentions?: Tensor[];
}

/**
 * A GPT body with a classification head: the last token sees the whole text through causal attention, so its
 * state after the final LayerNorm summarises it; `score` maps that state onto the labels. Rows are right-padded
 * with padId; a row of padding only is scored at position 0, and one with no padding at its last position.
 *
 * @example
 * const clf = new GPTForSequenceClassification({ vocab: 96, dModel: 32, heads: 4, layers: 2, context: 64, labels: ['ham', 'spam'], padId: 0 });
 * const { logits } = clf.forward(tensor([[5, 17, 3, 0], [9, 4, 8, 2]], { dtype: 'int32' })); // [2, 2]
 */
export class GPTForSequenceClassification extends Module {
  readonly config: ResolvedGPTClassifierConfig;
  /** The label names, in id order (the same array as config.labels). */
  readonly labels: string[];
  readonly transformer: GPT;
  readonly score: Linear;

  constructor(config: GPTClassifierConfig, build: ModelInitOptions = {}) {
    super();
    const c = (this.config = resolveGPTClassifierConfig(config));
    this.labels = c.labels;
    const { labels: _labels, padId: _padId, ...body } = c;
    this.transformer = this.addModule('transformer', new GPT({ ...body, backend: c.backend }, build));
    const rng = new Rng((c.seed ^ 0x51ed270b) | 0);
    this.score = this.addModule('score', new Linear(c.dModel, c.labels.length, { rng, dtype: c.dtype, backend: c.backend, bias: false, init: build.init }));
    // GPT-2's initialisation for the new head too: N(0, 0.02).
    if (build.init !== false) noGrad(() => this.score.weight.assign(randn(this.score.weight.shape, rng, { dtype: c.dtype, backend: c.backend, std: 0.02 })));
  }

  /**
   * h = LN(h_N)[b, last_b] with last_b the position of row b's last token ≠ padId;  logits = h · W_scoreᵀ
   *
   * ids int32 [B, T] → logits [B, L].
   */
  forward(ids: Tensor, opts: GPTClassifierCallOptions = {}): GPTClassifierOutput {
    if (ids.dtype !== 'int32') throw new DTypeError(`GPTForSequenceClassification: ids must be int32, got ${ids.dtype}`);
    if (ids.ndim !== 2 || ids.shape[1] < 1) throw new ShapeError(`GPTForSequenceClassification: ids must be [B, T] with T ≥ 1, got ${fmtShape(ids.shape)}`);
    const [B, T] = ids.shape;
    const r = this.transformer.hidden(ids, opts); // [B, T, D]
    const D = this.config.dModel;
    // One row of the flattened states per batch row: the gather's backward scatters the gradient to that position only.
    const rows = lastTokenRows(ids, this.config.padId).map((t, b) => b * T + t);
    const at = tensor(Int32Array.from(rows), { dtype: 'int32', shape: [B], backend: ids.backend });
    const h = embedding(at, r.hidden.reshape([B * T, D])); // [B, D]
    const logits = this.score.forward(h); // [B, L]
    return opts.needWeights ? { logits, attentions: r.attentions } : { logits };
  }
}

/**
 * Each row's last position holding a token other than padId (HF: the first pad's position minus 1, taken modulo T,
 * which is the same for right padding); 0 for a row of padding only.
 *
 * @example
 * lastTokenRows(tensor([[5, 3, 0], [7, 0, 0]], { dtype: 'int32' }), 0); // [1, 0]
 */
export function lastTokenRows(ids: Tensor, padId: number): number[] {
  const [B, T] = ids.shape;
  const a = ids.contiguous().toArray();
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    let last = 0;
    for (let t = T - 1; t >= 0; t--) if (a[b * T + t] !== padId) { last = t; break; }
    out.push(last);
  }
  return out;
}
