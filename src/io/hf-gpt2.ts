// GPT-2 in Hugging Face's layout: qkv's GPT (and GPT classifier) ⇄ GPT2LMHeadModel / GPT2ForSequenceClassification.
//
// Tensor names (HF ← qkv), N a block, D d_model, F d_ff; HF's Conv1D keeps its weight as [in, out],
// the transpose of qkv's Linear [out, in]:
//   transformer.wte.weight [V, D]              ← wte.weight
//   transformer.wpe.weight [P, D]              ← wpe.weight
//   transformer.h.N.ln_1.{weight,bias}         ← layers.N.norm1.*
//   transformer.h.N.attn.c_attn.weight [D, 3D] ← layers.N.self_attn.in_proj_weight [3D, D]ᵀ (columns q, k, v)
//   transformer.h.N.attn.c_attn.bias [3D]      ← layers.N.self_attn.in_proj_bias
//   transformer.h.N.attn.c_proj.weight [D, D]  ← layers.N.self_attn.out_proj.weightᵀ, bias as is
//   transformer.h.N.ln_2.{weight,bias}         ← layers.N.norm2.*
//   transformer.h.N.mlp.c_fc.weight [D, F]     ← layers.N.linear1.weight [F, D]ᵀ, bias as is
//   transformer.h.N.mlp.c_proj.weight [F, D]   ← layers.N.linear2.weight [D, F]ᵀ, bias as is
//   transformer.ln_f.{weight,bias}             ← norm.*
//   lm_head.weight                             ← lm_head.weight, only when untied (tied weights are stored once)
//   score.weight [L, D]                        ← score.weight (GPT2ForSequenceClassification; qkv's GPT under transformer.)
// Files saved from a bare GPT2Model (the hub's gpt2) lack the `transformer.` prefix; both are read.
// HF's attention buffers h.N.attn.bias / h.N.attn.masked_bias (the causal mask) are ignored.

import { FormatError } from '../core/errors.js';
import type { Tensor } from '../tensor/index.js';
import { FieldReader, TensorTaker, dims, labelFields, readArchitecture, readLabels, transposed, transposedView } from './hf-fields.js';
import type { HFConfig, HFLayout, QkvLayout } from './hf-fields.js';

/** The architectures of model_type "gpt2" that qkv reads and writes. */
export const GPT2_ARCHITECTURES = ['GPT2LMHeadModel', 'GPT2ForSequenceClassification'] as const;

/** qkv activation → HF activation_function, and back (HF's tanh forms all read as 'gelu_new'). */
const ACT_TO_HF: Record<string, string> = { relu: 'relu', gelu: 'gelu', gelu_new: 'gelu_new' };
const ACT_FROM_HF: Record<string, string> = { relu: 'relu', gelu: 'gelu', gelu_new: 'gelu_new', gelu_pytorch_tanh: 'gelu_new' };

/** The fields of a resolved qkv GPT config that the mapping reads. */
interface GPTFields {
  vocab: number; dModel: number; heads: number; layers: number; dFF: number; context: number;
  dropout: number; attentionDropout: number; normFirst: boolean; finalNorm: boolean; activation: string;
  tieEmbeddings: boolean; eps: number;
}

/**
 * A qkv GPT ('gpt') or GPT classifier ('gpt-classifier') as Hugging Face's GPT-2: config.json's
 * fields and model.safetensors' tensors. `model` is the resolved config (a classifier's with
 * `labels` and `padId`); `state` the model's state dict. A config GPT-2 cannot express (post-norm
 * blocks, no final LayerNorm) is a FormatError saying which field.
 *
 * @example
 * const { config, tensors } = gpt2ToHF('gpt', gpt.config, gpt.stateDict());
 * config.n_embd;                                      // gpt.config.dModel
 * tensors.get('transformer.h.0.attn.c_attn.weight'); // [D, 3D]
 */
export function gpt2ToHF(modelKind: 'gpt' | 'gpt-classifier', model: Record<string, unknown>, state: ReadonlyMap<string, Tensor>): HFLayout {
  const c = model as unknown as GPTFields;
  if (c.normFirst !== true) throw new FormatError(`gpt2ToHF: model.normFirst is ${String(c.normFirst)}, expected true (GPT-2's blocks are pre-norm; post-norm GPT-1 has no GPT-2 layout)`);
  if (c.finalNorm !== true) throw new FormatError(`gpt2ToHF: model.finalNorm is ${String(c.finalNorm)}, expected true (GPT-2 has ln_f)`);
  if (!Object.hasOwn(ACT_TO_HF, c.activation)) throw new FormatError(`gpt2ToHF: model.activation is ${JSON.stringify(c.activation)}, expected one of ${Object.keys(ACT_TO_HF).join(', ')}`);
  const classifier = modelKind === 'gpt-classifier';
  const src = classifier ? 'transformer.' : '';
  const get = (name: string): Tensor => {
    const t = state.get(src + name);
    if (!t) throw new FormatError(`gpt2ToHF: the state dict has no "${src + name}", expected every tensor of a ${c.layers}-block GPT`);
    return t;
  };
  const out = new Map<string, Tensor>();
  out.set('transformer.wte.weight', get('wte.weight'));
  out.set('transformer.wpe.weight', get('wpe.weight'));
  for (let i = 0; i < c.layers; i++) {
    const q = `layers.${i}.`;
    const h = `transformer.h.${i}.`;
    out.set(`${h}ln_1.weight`, get(`${q}norm1.weight`));
    out.set(`${h}ln_1.bias`, get(`${q}norm1.bias`));
    out.set(`${h}attn.c_attn.weight`, transposed(get(`${q}self_attn.in_proj_weight`)));
    out.set(`${h}attn.c_attn.bias`, get(`${q}self_attn.in_proj_bias`));
    out.set(`${h}attn.c_proj.weight`, transposed(get(`${q}self_attn.out_proj.weight`)));
    out.set(`${h}attn.c_proj.bias`, get(`${q}self_attn.out_proj.bias`));
    out.set(`${h}ln_2.weight`, get(`${q}norm2.weight`));
    out.set(`${h}ln_2.bias`, get(`${q}norm2.bias`));
    out.set(`${h}mlp.c_fc.weight`, transposed(get(`${q}linear1.weight`)));
    out.set(`${h}mlp.c_fc.bias`, get(`${q}linear1.bias`));
    out.set(`${h}mlp.c_proj.weight`, transposed(get(`${q}linear2.weight`)));
    out.set(`${h}mlp.c_proj.bias`, get(`${q}linear2.bias`));
  }
  out.set('transformer.ln_f.weight', get('norm.weight'));
  out.set('transformer.ln_f.bias', get('norm.bias'));
  if (!c.tieEmbeddings && !classifier) out.set('lm_head.weight', get('lm_head.weight'));

  const config: HFConfig = {
    architectures: [classifier ? 'GPT2ForSequenceClassification' : 'GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: c.vocab,
    n_positions: c.context,
    n_ctx: c.context,
    n_embd: c.dModel,
    n_layer: c.layers,
    n_head: c.heads,
    n_inner: c.dFF === 4 * c.dModel ? null : c.dFF,
    activation_function: ACT_TO_HF[c.activation],
    resid_pdrop: c.dropout,
    embd_pdrop: c.dropout,
    attn_pdrop: c.attentionDropout,
    layer_norm_epsilon: c.eps,
    initializer_range: 0.02,
    scale_attn_weights: true,
    scale_attn_by_inverse_layer_idx: false,
    reorder_and_upcast_attn: false,
    tie_word_embeddings: classifier ? true : c.tieEmbeddings,
    use_cache: true,
    torch_dtype: (model['dtype'] as string | undefined) === 'float64' ? 'float64' : 'float32',
  };
  if (classifier) {
    const labels = model['labels'] as string[];
    out.set('score.weight', state.get('score.weight') ?? fail('score.weight'));
    Object.assign(config, labelFields(labels), { pad_token_id: model['padId'] as number });
  }
  return { config, tensors: out };
}

function fail(name: string): never {
  throw new FormatError(`gpt2ToHF: the state dict has no "${name}", expected the classifier's head`);
}

/**
 * Reads a GPT-2 folder's config.json object and model.safetensors tensors (written by qkv, by
 * transformers' save_pretrained, or by hand) into qkv's GPT or GPT classifier. Hugging Face's
 * defaults fill absent fields (gelu_new, ε 1e-5, n_inner 4·n_embd). An unknown architecture, a
 * feature qkv lacks (cross-attention, unscaled attention), a missing tensor, a wrong shape or a
 * tensor with no place are FormatErrors naming the field or tensor.
 *
 * @example
 * const q = gpt2FromHF(JSON.parse(configText), parseSafetensors(bytes).tensors, 'gpt2/config.json', 'gpt2/model.safetensors');
 * q.modelKind;           // 'gpt'
 * q.model.dModel;        // 768
 */
export function gpt2FromHF(raw: HFConfig, tensors: ReadonlyMap<string, Tensor>, configWhere: string, tensorsWhere: string): QkvLayout {
  const r = new FieldReader(raw, configWhere);
  const architecture = readArchitecture(r, GPT2_ARCHITECTURES, 'GPT2LMHeadModel');
  const classifier = architecture === 'GPT2ForSequenceClassification';
  r.require('add_cross_attention', false, 'qkv\'s GPT has no cross-attention');
  r.require('scale_attn_weights', true, 'qkv scales attention scores by 1/√d_k');
  r.require('scale_attn_by_inverse_layer_idx', false, 'qkv does not scale attention by layer');
  const D = r.int('n_embd', 1, r.int('hidden_size', 1, 768));
  const H = r.int('n_head', 1, 12);
  if (D % H !== 0) r.fail('n_head', `a divisor of n_embd ${D}`);
  const L = r.int('n_layer', 0, 12);
  const P = r.int('n_positions', 1, r.int('n_ctx', 1, 1024));
  const V = r.int('vocab_size', 1, 50257);
  const inner = raw['n_inner'];
  const F = inner === undefined || inner === null ? 4 * D : r.int('n_inner', 1);
  const model: Record<string, unknown> = {
    vocab: V, dModel: D, heads: H, layers: L, dFF: F, context: P,
    dropout: r.rate('resid_pdrop', 0.1), attentionDropout: r.rate('attn_pdrop', 0.1),
    normFirst: true, finalNorm: true,
    activation: r.oneOf('activation_function', ACT_FROM_HF, 'gelu_new'),
    tieEmbeddings: classifier ? true : r.bool('tie_word_embeddings', true),
    eps: r.rate('layer_norm_epsilon', 1e-5, true), seed: 0, dtype: 'float32',
  };

  // The hub's gpt2 was saved from a bare GPT2Model: its names lack the `transformer.` prefix.
  const prefixed = [...tensors.keys()].some((n) => n.startsWith('transformer.'));
  const hf = prefixed ? 'transformer.' : '';
  const take = new TensorTaker(tensors, tensorsWhere, architecture, configWhere);
  const dst = classifier ? 'transformer.' : '';
  const state = new Map<string, Tensor>();
  const vD = dims([D, 'n_embd']);
  const wte = take.take(`${hf}wte.weight`, [[V, 'vocab_size'], [D, 'n_embd']]);
  // The weights' float type is the model's (HF's torch_dtype is only a hint): a float64 file builds a float64 model.
  model.dtype = wte.dtype;
  state.set(`${dst}wte.weight`, wte);
  state.set(`${dst}wpe.weight`, take.take(`${hf}wpe.weight`, [[P, 'n_positions'], [D, 'n_embd']]));
  for (let i = 0; i < L; i++) {
    const h = `${hf}h.${i}.`;
    const q = `${dst}layers.${i}.`;
    state.set(`${q}norm1.weight`, take.take(`${h}ln_1.weight`, vD));
    state.set(`${q}norm1.bias`, take.take(`${h}ln_1.bias`, vD));
    state.set(`${q}self_attn.in_proj_weight`, transposedView(take.take(`${h}attn.c_attn.weight`, [[D, 'n_embd'], [3 * D, '3 · n_embd']])));
    state.set(`${q}self_attn.in_proj_bias`, take.take(`${h}attn.c_attn.bias`, [[3 * D, '3 · n_embd']]));
    state.set(`${q}self_attn.out_proj.weight`, transposedView(take.take(`${h}attn.c_proj.weight`, [[D, 'n_embd'], [D, 'n_embd']])));
    state.set(`${q}self_attn.out_proj.bias`, take.take(`${h}attn.c_proj.bias`, vD));
    state.set(`${q}norm2.weight`, take.take(`${h}ln_2.weight`, vD));
    state.set(`${q}norm2.bias`, take.take(`${h}ln_2.bias`, vD));
    state.set(`${q}linear1.weight`, transposedView(take.take(`${h}mlp.c_fc.weight`, [[D, 'n_embd'], [F, 'n_inner']])));
    state.set(`${q}linear1.bias`, take.take(`${h}mlp.c_fc.bias`, [[F, 'n_inner']]));
    state.set(`${q}linear2.weight`, transposedView(take.take(`${h}mlp.c_proj.weight`, [[F, 'n_inner'], [D, 'n_embd']])));
    state.set(`${q}linear2.bias`, take.take(`${h}mlp.c_proj.bias`, vD));
  }
  state.set(`${dst}norm.weight`, take.take(`${hf}ln_f.weight`, vD));
  state.set(`${dst}norm.bias`, take.take(`${hf}ln_f.bias`, vD));
  const ignorable = [/^(transformer\.)?h\.\d+\.attn\.(masked_)?bias$/];
  if (classifier) {
    const labels = readLabels(r);
    model.labels = labels;
    model.padId = readPadId(r, V);
    state.set(`${dst}lm_head.weight`, wte);
    state.set('score.weight', take.take('score.weight', [[labels.length, 'id2label'], [D, 'n_embd']]));
    ignorable.push(/^lm_head\.weight$/);
  } else if (model.tieEmbeddings) {
    state.set('lm_head.weight', wte);
    ignorable.push(/^lm_head\.weight$/); // a copy of wte that some writers keep
  } else {
    state.set('lm_head.weight', take.take('lm_head.weight', [[V, 'vocab_size'], [D, 'n_embd']]));
  }
  const ignored = take.rest(ignorable);
  return { modelKind: classifier ? 'gpt-classifier' : 'gpt', model, state, initialized: [], ignored };
}

/** GPT2ForSequenceClassification pools at the last non-pad token: without pad_token_id it cannot batch, so qkv requires one. */
function readPadId(r: FieldReader, vocab: number): number {
  const v = r.config['pad_token_id'];
  if (!Number.isSafeInteger(v) || (v as number) < 0 || (v as number) >= vocab) r.fail('pad_token_id', `a token id in [0, ${vocab}) (the classifier scores the last token that is not padding)`);
  return v as number;
}
