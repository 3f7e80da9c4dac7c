// BERT (Devlin et al. 2019): an encoder-only Transformer, its masked-LM head and its sequence-classification head.
//
// Shapes: B batch, T positions, D d_model, H heads, F d_ff, V vocabulary, L labels.
//
// State-dict names (BertForMaskedLM; BertForSequenceClassification shares the `bert.` part):
//   bert.embeddings.word_embeddings.weight [V, D]         token embeddings
//   bert.embeddings.position_embeddings.weight [P, D]     learned positions (P = maxPositions)
//   bert.embeddings.token_type_embeddings.weight [2, D]   segment A / B
//   bert.embeddings.norm.{weight, bias} [D]
//   bert.encoder.layers.N.self_attn.{in_proj_weight [3D, D] (rows q, k, v), in_proj_bias, out_proj.weight, out_proj.bias}
//   bert.encoder.layers.N.{linear1 [F, D], linear2 [D, F], norm1 (after attention), norm2 (after the FFN)}.{weight, bias}
//   bert.pooler.dense.{weight [D, D], bias [D]}
//   cls.transform.dense.{weight [D, D], bias}, cls.transform.norm.{weight, bias}   masked-LM head
//   cls.decoder.weight [V, D] (the same tensor as word_embeddings), cls.bias [V]
//   classifier.{weight [L, D], bias [L]}                                            classification head
// Each encoder layer is nn's TransformerEncoderLayer, post-norm (the paper's, and Vaswani et al.'s).

import type { Backend } from '../backend/backend.js';
import type { FloatDType } from '../core/dtype.js';
import { DROP_RATE, LAYER_NORM_EPS, POSITIONS, POSITIVE_INT, SEED, checkConfigFields, checkLabels } from '../core/config-checks.js';
import type { ConfigRule } from '../core/config-checks.js';
import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { Tensor, full, noGrad, randn, zeros } from '../tensor/index.js';
import {
  ACTIVATIONS, Activation, Dropout, Embedding, LayerNorm, LearnedPositionalEncoding, Linear, Module, TransformerEncoder, activate, linear,
} from '../nn/index.js';
import type { ModelInitOptions } from '../nn/index.js';

/** The encoder's hyper-parameters. Defaults are BERT-base's (110M) except the vocabulary. */
export interface BertConfig {
  /** Vocabulary size (BERT-base uncased: 30522). */
  vocab: number;
  /** d_model, hidden_size (768). */
  dModel?: number;
  /** Attention heads (12). */
  heads?: number;
  /** Encoder layers (12). */
  layers?: number;
  /** Inner size of the feed-forward network, intermediate_size (3072). */
  dFF?: number;
  /** Longest sequence: the size of the position table, max_position_embeddings (512). */
  maxPositions?: number;
  /** Segment types, type_vocab_size (2: sentence A and B). */
  typeVocab?: number;
  /** Dropout on the embeddings, each residual branch and inside the FFN: hidden_dropout_prob (0.1). */
  dropout?: number;
  /** Dropout on attention weights: attention_probs_dropout_prob (0.1). */
  attentionDropout?: number;
  /** Feed-forward (and MLM transform) non-linearity ('gelu', exact). */
  activation?: Activation;
  /** LayerNorm ε (1e-12, BERT's). */
  eps?: number;
  /** Seed of initialisation and dropout (0). */
  seed?: number;
  dtype?: FloatDType;
  backend?: Backend;
}

/** The config with every default filled in. */
export type ResolvedBertConfig = Required<Omit<BertConfig, 'backend'>> & { backend?: Backend };

/** A BERT config with the classifier's labels, in id order (at least 2; kept in the checkpoint). */
export interface BertClassifierConfig extends BertConfig {
  labels: string[];
}

export type ResolvedBertClassifierConfig = ResolvedBertConfig & { labels: string[] };

/** The type and range of every field of a resolved config (the loader runs them too, through resolveBertConfig). */
export const BERT_RULES: Readonly<Record<keyof Omit<ResolvedBertConfig, 'backend'>, ConfigRule>> = {
  vocab: POSITIVE_INT, dModel: POSITIVE_INT, heads: POSITIVE_INT, layers: POSITIVE_INT, dFF: POSITIVE_INT, maxPositions: POSITIONS,
  typeVocab: POSITIVE_INT, dropout: DROP_RATE, attentionDropout: DROP_RATE, activation: { oneOf: ACTIVATIONS }, eps: LAYER_NORM_EPS,
  seed: SEED, dtype: { oneOf: ['float32', 'float64'] },
};

/**
 * Fills in the defaults and checks every field's type and range.
 *
 * @example
 * resolveBertConfig({ vocab: 30522 }).dFF; // 3072
 */
export function resolveBertConfig(c: BertConfig): ResolvedBertConfig {
  const r: ResolvedBertConfig = {
    vocab: c.vocab, dModel: or(c.dModel, 768), heads: or(c.heads, 12), layers: or(c.layers, 12), dFF: or(c.dFF, 3072),
    maxPositions: or(c.maxPositions, 512), typeVocab: or(c.typeVocab, 2), dropout: or(c.dropout, 0.1),
    attentionDropout: or(c.attentionDropout, 0.1), activation: or<Activation>(c.activation, 'gelu'), eps: or(c.eps, 1e-12),
    seed: or(c.seed, 0), dtype: or<FloatDType>(c.dtype, 'float32'), backend: c.backend,
  };
  checkConfigFields('BERT', r, BERT_RULES);
  if (r.dModel % r.heads !== 0) throw new ArgumentError(`BERT: dModel ${r.dModel} must be divisible by heads ${r.heads}`);
  return r;
}

/**
 * resolveBertConfig, and the labels: an array of at least 2 distinct non-empty strings.
 *
 * @example
 * resolveBertClassifierConfig({ vocab: 100, labels: ['ham', 'spam'] }).labels; // ['ham', 'spam']
 */
export function resolveBertClassifierConfig(c: BertClassifierConfig): ResolvedBertClassifierConfig {
  return { ...resolveBertConfig(c), labels: checkLabels('BertForSequenceClassification', c.labels) };
}

/** The default only for a field not given: null (from a JSON file) stays, for the field check to refuse. */
function or<T>(v: T | undefined, d: T): T {
  return v === undefined ? d : v;
}

/** Per-call options of the BERT models' forward. */
export interface BertCallOptions {
  /** int32 [B, T], the segment of each token (0 = sentence A, 1 = B); default all 0. */
  tokenTypeIds?: Tensor | null;
  /** [B, T], 1 at padded positions (qkv's convention; Hugging Face's attention_mask is 1 minus this). */
  keyPaddingMask?: Tensor | null;
  /** Return each layer's per-head attention weights [B, H, T, T]. */
  needWeights?: boolean;
}

export interface BertModelOutput {
  /** Shape `[B, T, D]`: the last layer's hidden states. */
  hidden: Tensor;
  /** Shape `[B, D]`: `tanh(W·h_[CLS] + b)`, the pooler's summary of the sequence. */
  pooled: Tensor;
  /** One [B, H, T, T] per layer, when asked for. */
  attentions?: Tensor[];
}

/** Token, learned position and segment embeddings, summed, then LayerNorm and dropout (paper §3, Figure 2). */
class BertEmbeddings extends Module {
  readonly wordEmbeddings: Embedding;
  readonly positionEmbeddings: LearnedPositionalEncoding;
  readonly tokenTypeEmbeddings: Embedding;
  readonly norm: LayerNorm;
  readonly dropout: Dropout;

  constructor(c: ResolvedBertConfig, rng: Rng, dropoutRng: Rng, init: boolean) {
    super();
    const p = { rng, dtype: c.dtype, backend: c.backend, init };
    this.wordEmbeddings = this.addModule('word_embeddings', new Embedding(c.vocab, c.dModel, p));
    this.positionEmbeddings = this.addModule('position_embeddings', new LearnedPositionalEncoding(c.dModel, c.maxPositions, p));
    this.tokenTypeEmbeddings = this.addModule('token_type_embeddings', new Embedding(c.typeVocab, c.dModel, p));
    this.norm = this.addModule('norm', new LayerNorm(c.dModel, { ...p, eps: c.eps }));
    this.dropout = this.addModule('dropout', new Dropout(c.dropout, dropoutRng));
  }

  /** ids [B, T], types [B, T] or null → [B, T, D] */
  forward(ids: Tensor, types: Tensor | null): Tensor {
    const x = this.positionEmbeddings.forward(this.wordEmbeddings.forward(ids)); // E_token + E_position, [B, T, D]
    // Without types every token is segment A: one row of the table, broadcast.
    const seg = types ? this.tokenTypeEmbeddings.forward(types) : this.tokenTypeEmbeddings.weight.narrow(0, 0, 1); // [B, T, D] or [1, D]
    return this.dropout.forward(this.norm.forward(x.add(seg)));
  }
}

/** The pooler: a dense layer and tanh over the first token ([CLS]), the sequence's summary for classification. */
class BertPooler extends Module {
  readonly dense: Linear;

  constructor(c: ResolvedBertConfig, rng: Rng, init: boolean) {
    super();
    this.dense = this.addModule('dense', new Linear(c.dModel, c.dModel, { rng, dtype: c.dtype, backend: c.backend, init }));
  }

  /** hidden [B, T, D] → [B, D] */
  forward(hidden: Tensor): Tensor {
    return this.dense.forward(hidden.narrow(1, 0, 1).squeeze(1)).tanh();
  }
}

/**
 * The bidirectional encoder: embeddings, N post-norm Transformer layers, and the pooler.
 *
 * @example
 * const bert = new BertModel({ vocab: 100, dModel: 32, heads: 4, layers: 2, dFF: 64, maxPositions: 16 });
 * const ids = tensor([[1, 17, 42, 2]], { dtype: 'int32' });   // [CLS] … [SEP]
 * const { hidden, pooled } = bert.forward(ids);              // [1, 4, 32], [1, 32]
 */
export class BertModel extends Module {
  readonly config: ResolvedBertConfig;
  readonly embeddings: BertEmbeddings;
  readonly encoder: TransformerEncoder;
  readonly pooler: BertPooler;

  constructor(config: BertConfig, build: ModelInitOptions = {}) {
    super();
    const c = (this.config = resolveBertConfig(config));
    const rng = new Rng(c.seed);
    const drop = new Rng((c.seed ^ 0x2545f491) | 0);
    const init = build.init !== false;
    this.embeddings = this.addModule('embeddings', new BertEmbeddings(c, rng, drop, init));
    this.encoder = this.addModule('encoder', new TransformerEncoder(c.dModel, c.heads, c.layers, {
      rng, dtype: c.dtype, backend: c.backend, init, dFF: c.dFF, dropout: c.dropout, attentionDropout: c.attentionDropout,
      activation: c.activation, normFirst: false, eps: c.eps, dropoutRng: drop,
    }));
    this.pooler = this.addModule('pooler', new BertPooler(c, rng, init));
    if (init) initBertWeights([this], new Rng((c.seed ^ 0x6a09e667) | 0));
  }

  /**
   * h_0 = Dropout(LN(E_token + E_position + E_segment))     (§3, "Input/Output Representations")
   * h_l = LN(x + FFN(x)),  x = LN(h_{l-1} + SelfAttn(h_{l-1}))   l = 1..N, every token sees every other
   * pooled = tanh(h_N[CLS] · W_pᵀ + b_p)
   *
   * ids int32 [B, T] → hidden [B, T, D], pooled [B, D].
   */
  forward(ids: Tensor, opts: BertCallOptions = {}): BertModelOutput {
    const [B, T] = checkIds('BertModel', ids, this.config.maxPositions);
    const types = opts.tokenTypeIds ?? null;
    if (types && (types.dtype !== 'int32' || types.ndim !== 2 || types.shape[0] !== B || types.shape[1] !== T)) {
      throw new ShapeError(`BertModel: tokenTypeIds must be int32 [B, T] = [${B}, ${T}] like ids, got ${types.dtype} ${fmtShape(types.shape)}`);
    }
    const kpm = opts.keyPaddingMask ?? null;
    if (kpm && (kpm.ndim !== 2 || kpm.shape[0] !== B || kpm.shape[1] !== T)) {
      throw new ShapeError(`BertModel: keyPaddingMask must be [B, T] = [${B}, ${T}] like ids, got ${fmtShape(kpm.shape)}`);
    }
    const x = this.embeddings.forward(ids, types); // [B, T, D]
    const r = this.encoder.forward(x, { srcKeyPaddingMask: kpm, needWeights: opts.needWeights });
    const pooled = this.pooler.forward(r.output); // [B, D]
    return opts.needWeights ? { hidden: r.output, pooled, attentions: r.selfAttentions } : { hidden: r.output, pooled };
  }
}

/** Throws unless ids are int32 [B, T] with 1 ≤ T ≤ maxPositions; returns [B, T]. */
function checkIds(model: string, ids: Tensor, maxPositions: number): [number, number] {
  if (ids.dtype !== 'int32') throw new DTypeError(`${model}: ids must be int32, got ${ids.dtype}`);
  if (ids.ndim !== 2 || ids.shape[1] < 1) throw new ShapeError(`${model}: ids must be [B, T] with T ≥ 1, got ${fmtShape(ids.shape)}`);
  if (ids.shape[1] > maxPositions) throw new ArgumentError(`${model}: ${ids.shape[1]} positions exceed maxPositions ${maxPositions}`);
  return [ids.shape[0], ids.shape[1]];
}

/**
 * BERT's initialisation (Hugging Face's BertPreTrainedModel._init_weights, after the original TensorFlow code): every
 * matrix and embedding N(0, 0.02), biases 0, LayerNorm γ = 1, β = 0. A tensor met twice (tied) is drawn once.
 */
function initBertWeights(modules: readonly Module[], rng: Rng): void {
  noGrad(() => {
    const seen = new Set<Tensor>();
    for (const m of modules) {
      for (const [name, w] of m.namedParameters()) {
        if (seen.has(w)) continue;
        seen.add(w);
        const o = { dtype: w.dtype, backend: w.backend };
        if (/(^|\.)norm\d?\.weight$/.test(name)) w.assign(full(w.shape, 1, o));
        else if (w.ndim === 1) w.assign(zeros(w.shape, o));
        else w.assign(randn(w.shape, rng, { ...o, std: 0.02 }));
      }
    }
  });
}

/** A head's generators: one for its parameters, one for its dropout; apart from the body's so that a seed gives every head the same body. */
function headRngs(seed: number): { rng: Rng; dropoutRng: Rng } {
  return { rng: new Rng((seed ^ 0x3c6ef372) | 0), dropoutRng: new Rng((seed ^ 0x510e527f) | 0) };
}

/** The masked-LM head: transform (dense, activation, LayerNorm), then the decoder tied to the token embeddings, plus a bias. */
class BertLMHead extends Module {
  readonly transform: BertTransform;
  readonly decoder: Linear;
  readonly bias: Tensor;

  constructor(c: ResolvedBertConfig, wordEmbeddings: Tensor, rng: Rng, init: boolean) {
    super();
    const p = { rng, dtype: c.dtype, backend: c.backend, init };
    this.transform = this.addModule('transform', new BertTransform(c, rng, init));
    this.decoder = this.addModule('decoder', new Linear(c.dModel, c.vocab, { ...p, bias: false, weight: wordEmbeddings }));
    this.bias = this.addParameter('bias', zeros([c.vocab], { dtype: c.dtype, backend: c.backend }));
  }

  /** hidden [B, T, D] → logits [B, T, V] */
  forward(hidden: Tensor): Tensor {
    return linear(this.transform.forward(hidden), this.decoder.weight, this.bias);
  }
}

/** dense → activation → LayerNorm: HF's BertPredictionHeadTransform. */
class BertTransform extends Module {
  readonly dense: Linear;
  readonly norm: LayerNorm;

  constructor(readonly c: ResolvedBertConfig, rng: Rng, init: boolean) {
    super();
    const p = { rng, dtype: c.dtype, backend: c.backend, init };
    this.dense = this.addModule('dense', new Linear(c.dModel, c.dModel, p));
    this.norm = this.addModule('norm', new LayerNorm(c.dModel, { ...p, eps: c.eps }));
  }

  forward(x: Tensor): Tensor {
    return this.norm.forward(activate(this.dense.forward(x), this.c.activation));
  }
}

export interface BertMaskedLMOutput {
  /** Shape `[B, T, V]`: scores of the token at each position (the loss reads only the masked ones). */
  logits: Tensor;
  attentions?: Tensor[];
}

/**
 * BERT with its pre-training head for the masked-LM objective (§3.1, "Task #1: Masked LM"): each position's
 * final hidden state goes through a dense + activation + LayerNorm transform, then onto the vocabulary through
 * the token embedding matrix (tied) plus a per-token bias.
 *
 * @example
 * const mlm = new BertForMaskedLM({ vocab: 100, dModel: 32, heads: 4, layers: 2, dFF: 64, maxPositions: 16 });
 * const { logits } = mlm.forward(tensor([[1, 4, 42, 2]], { dtype: 'int32' })); // [1, 4, 100]
 * const loss = crossEntropy(logits.reshape([-1, 100]), labels.reshape([-1]), { ignoreIndex: -100 });
 */
export class BertForMaskedLM extends Module {
  readonly config: ResolvedBertConfig;
  readonly bert: BertModel;
  readonly cls: BertLMHead;

  constructor(config: BertConfig, build: ModelInitOptions = {}) {
    super();
    const c = (this.config = resolveBertConfig(config));
    this.bert = this.addModule('bert', new BertModel(c, build));
    const { rng } = headRngs(c.seed);
    const word = this.bert.embeddings.wordEmbeddings.weight;
    const init = build.init !== false;
    this.cls = this.addModule('cls', new BertLMHead(c, word, rng, init));
    // The head's own tensors only: the decoder is the body's word embedding, already drawn.
    if (init) initBertWeights([this.cls.transform], rng);
  }

  /** ids int32 [B, T] → logits [B, T, V] */
  forward(ids: Tensor, opts: BertCallOptions = {}): BertMaskedLMOutput {
    const r = this.bert.forward(ids, opts);
    const logits = this.cls.forward(r.hidden);
    return opts.needWeights ? { logits, attentions: r.attentions } : { logits };
  }
}

export interface BertClassifierOutput {
  /** Shape `[B, L]`: unnormalised scores of each label. */
  logits: Tensor;
  attentions?: Tensor[];
}

/**
 * BERT for sequence classification (§4.1): dropout on the pooled [CLS] state, then one linear layer onto the
 * labels. The label names travel with the model (config.labels, in id order).
 *
 * @example
 * const clf = new BertForSequenceClassification({ vocab: 100, dModel: 32, heads: 4, layers: 2, dFF: 64, maxPositions: 16, labels: ['ham', 'spam'] });
 * const { logits } = clf.forward(tensor([[1, 17, 42, 2]], { dtype: 'int32' })); // [1, 2]
 * clf.labels[logits.argmax(-1).toArray()[0]]; // 'ham' or 'spam'
 */
export class BertForSequenceClassification extends Module {
  readonly config: ResolvedBertClassifierConfig;
  /** The label names, in id order (the same array as config.labels). */
  readonly labels: string[];
  readonly bert: BertModel;
  readonly dropout: Dropout;
  readonly classifier: Linear;

  constructor(config: BertClassifierConfig, build: ModelInitOptions = {}) {
    super();
    const c = (this.config = resolveBertClassifierConfig(config));
    this.labels = c.labels;
    this.bert = this.addModule('bert', new BertModel(c, build));
    const { rng, dropoutRng } = headRngs(c.seed);
    this.dropout = this.addModule('dropout', new Dropout(c.dropout, dropoutRng));
    this.classifier = this.addModule('classifier', new Linear(c.dModel, c.labels.length, { rng, dtype: c.dtype, backend: c.backend, init: build.init }));
    if (build.init !== false) initBertWeights([this.classifier], rng);
  }

  /** ids int32 [B, T] → logits [B, L] */
  forward(ids: Tensor, opts: BertCallOptions = {}): BertClassifierOutput {
    const r = this.bert.forward(ids, opts);
    const logits = this.classifier.forward(this.dropout.forward(r.pooled)); // [B, L]
    return opts.needWeights ? { logits, attentions: r.attentions } : { logits };
  }
}
