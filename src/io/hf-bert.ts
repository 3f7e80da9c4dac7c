// BERT in Hugging Face's layout: qkv's BERT (and classifier) ⇄ BertForMaskedLM / BertForSequenceClassification.
//
// Tensor names (HF ← qkv), N a layer; both sides use Linear [out, in], so nothing is transposed:
//   bert.embeddings.{word,position,token_type}_embeddings.weight ← the same names
//   bert.embeddings.LayerNorm.{weight,bias}                    ← bert.embeddings.norm.*
//   bert.encoder.layer.N.attention.self.{query,key,value}.*    ← bert.encoder.layers.N.self_attn.in_proj_{weight,bias}
//                                                                 (rows [0, D) q, [D, 2D) k, [2D, 3D) v)
//   bert.encoder.layer.N.attention.output.dense.*              ← ….self_attn.out_proj.*
//   bert.encoder.layer.N.attention.output.LayerNorm.*          ← ….norm1.*
//   bert.encoder.layer.N.intermediate.dense.*                  ← ….linear1.*
//   bert.encoder.layer.N.output.dense.*                        ← ….linear2.*
//   bert.encoder.layer.N.output.LayerNorm.*                    ← ….norm2.*
//   bert.pooler.dense.*                                        ← bert.pooler.dense.*
//   cls.predictions.transform.dense.*                          ← cls.transform.dense.*       (masked LM)
//   cls.predictions.transform.LayerNorm.*                      ← cls.transform.norm.*
//   cls.predictions.bias [V]                                   ← cls.bias (the decoder's weight is tied to
//                                                                 word_embeddings, so stored once)
//   classifier.{weight [L, D], bias [L]}                       ← classifier.*                 (sequence classification)
// Old TensorFlow-converted files name LayerNorm's weight and bias gamma and beta; both are read.

import { FormatError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { concat, noGrad, randn, zeros } from '../tensor/index.js';
import type { Tensor } from '../tensor/index.js';
import { FieldReader, TensorTaker, dims, labelFields, readArchitecture, readLabels } from './hf-fields.js';
import type { HFConfig, HFLayout, QkvLayout } from './hf-fields.js';

/** The architectures of model_type "bert" that qkv reads and writes. */
export const BERT_ARCHITECTURES = ['BertForMaskedLM', 'BertForSequenceClassification'] as const;

const ACT_TO_HF: Record<string, string> = { relu: 'relu', gelu: 'gelu', gelu_new: 'gelu_new' };
const ACT_FROM_HF: Record<string, string> = { relu: 'relu', gelu: 'gelu', gelu_new: 'gelu_new', gelu_pytorch_tanh: 'gelu_new' };

interface BertFields {
  vocab: number; dModel: number; heads: number; layers: number; dFF: number; maxPositions: number; typeVocab: number;
  dropout: number; attentionDropout: number; activation: string; eps: number;
}

/** The qkv ⇄ HF name pairs of one encoder layer that are copied as they are. */
function layerPairs(i: number): [qkv: string, hf: string][] {
  const q = `bert.encoder.layers.${i}.`;
  const h = `bert.encoder.layer.${i}.`;
  const pairs: [string, string][] = [];
  for (const p of ['weight', 'bias']) {
    pairs.push([`${q}self_attn.out_proj.${p}`, `${h}attention.output.dense.${p}`]);
    pairs.push([`${q}norm1.${p}`, `${h}attention.output.LayerNorm.${p}`]);
    pairs.push([`${q}linear1.${p}`, `${h}intermediate.dense.${p}`]);
    pairs.push([`${q}linear2.${p}`, `${h}output.dense.${p}`]);
    pairs.push([`${q}norm2.${p}`, `${h}output.LayerNorm.${p}`]);
  }
  return pairs;
}

/**
 * A qkv BERT ('bert', a masked LM) or BERT classifier ('bert-classifier') as Hugging Face's
 * BertForMaskedLM / BertForSequenceClassification: config.json's fields and the tensors.
 *
 * @example
 * const { config, tensors } = bertToHF('bert', mlm.config, mlm.stateDict());
 * config.hidden_size;                                               // mlm.config.dModel
 * tensors.get('bert.encoder.layer.0.attention.self.query.weight');  // [D, D]
 */
export function bertToHF(modelKind: 'bert' | 'bert-classifier', model: Record<string, unknown>, state: ReadonlyMap<string, Tensor>): HFLayout {
  const c = model as unknown as BertFields;
  if (!Object.hasOwn(ACT_TO_HF, c.activation)) throw new FormatError(`bertToHF: model.activation is ${JSON.stringify(c.activation)}, expected one of ${Object.keys(ACT_TO_HF).join(', ')}`);
  const classifier = modelKind === 'bert-classifier';
  const get = (name: string): Tensor => {
    const t = state.get(name);
    if (!t) throw new FormatError(`bertToHF: the state dict has no "${name}", expected every tensor of a ${c.layers}-layer ${classifier ? 'BERT classifier' : 'BERT masked LM'}`);
    return t;
  };
  const out = new Map<string, Tensor>();
  for (const e of ['word', 'position', 'token_type']) out.set(`bert.embeddings.${e}_embeddings.weight`, get(`bert.embeddings.${e}_embeddings.weight`));
  for (const p of ['weight', 'bias']) out.set(`bert.embeddings.LayerNorm.${p}`, get(`bert.embeddings.norm.${p}`));
  const D = c.dModel;
  noGrad(() => {
    for (let i = 0; i < c.layers; i++) {
      const q = `bert.encoder.layers.${i}.self_attn.`;
      const h = `bert.encoder.layer.${i}.attention.self.`;
      const w = get(`${q}in_proj_weight`);
      const b = get(`${q}in_proj_bias`);
      ['query', 'key', 'value'].forEach((n, k) => {
        out.set(`${h}${n}.weight`, w.narrow(0, k * D, D).contiguous());
        out.set(`${h}${n}.bias`, b.narrow(0, k * D, D).contiguous());
      });
      for (const [qn, hn] of layerPairs(i)) out.set(hn, get(qn));
    }
  });
  for (const p of ['weight', 'bias']) out.set(`bert.pooler.dense.${p}`, get(`bert.pooler.dense.${p}`));
  if (classifier) {
    for (const p of ['weight', 'bias']) out.set(`classifier.${p}`, get(`classifier.${p}`));
  } else {
    for (const p of ['weight', 'bias']) {
      out.set(`cls.predictions.transform.dense.${p}`, get(`cls.transform.dense.${p}`));
      out.set(`cls.predictions.transform.LayerNorm.${p}`, get(`cls.transform.norm.${p}`));
    }
    out.set('cls.predictions.bias', get('cls.bias'));
  }
  const config: HFConfig = {
    architectures: [classifier ? 'BertForSequenceClassification' : 'BertForMaskedLM'],
    model_type: 'bert',
    vocab_size: c.vocab,
    hidden_size: c.dModel,
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    intermediate_size: c.dFF,
    hidden_act: ACT_TO_HF[c.activation],
    hidden_dropout_prob: c.dropout,
    attention_probs_dropout_prob: c.attentionDropout,
    max_position_embeddings: c.maxPositions,
    type_vocab_size: c.typeVocab,
    initializer_range: 0.02,
    layer_norm_eps: c.eps,
    pad_token_id: 0,
    position_embedding_type: 'absolute',
    classifier_dropout: null,
    tie_word_embeddings: true,
    use_cache: true,
    torch_dtype: (model['dtype'] as string | undefined) === 'float64' ? 'float64' : 'float32',
  };
  if (classifier) Object.assign(config, labelFields(model['labels'] as string[]));
  return { config, tensors: out };
}

/**
 * Reads a BERT folder's config.json object and tensors (qkv's export, save_pretrained, or a
 * converted TensorFlow checkpoint) into qkv's BERT or BERT classifier. HF's defaults fill absent
 * fields (gelu, ε 1e-12, type_vocab_size 2). A BertForMaskedLM file has no pooler (HF builds that
 * model without one): qkv's BERT has one, unused by the masked-LM logits, so it gets a fresh
 * N(0, 0.02) weight and zero bias, listed in `initialized`.
 *
 * @example
 * const q = bertFromHF(JSON.parse(configText), tensors, 'bert/config.json', 'bert/model.safetensors');
 * q.modelKind;   // 'bert'
 * q.model.eps;   // 1e-12
 */
export function bertFromHF(raw: HFConfig, tensors: ReadonlyMap<string, Tensor>, configWhere: string, tensorsWhere: string): QkvLayout {
  const r = new FieldReader(raw, configWhere);
  const architecture = readArchitecture(r, BERT_ARCHITECTURES, 'BertForMaskedLM');
  const classifier = architecture === 'BertForSequenceClassification';
  r.require('position_embedding_type', 'absolute', 'qkv\'s BERT has learned absolute positions');
  r.require('is_decoder', false, 'qkv\'s BERT is an encoder');
  r.require('add_cross_attention', false, 'qkv\'s BERT has no cross-attention');
  if (!classifier) r.require('tie_word_embeddings', true, 'qkv\'s masked-LM decoder is the word embeddings');
  const D = r.int('hidden_size', 1, 768);
  const H = r.int('num_attention_heads', 1, 12);
  if (D % H !== 0) r.fail('num_attention_heads', `a divisor of hidden_size ${D}`);
  const L = r.int('num_hidden_layers', 0, 12);
  const F = r.int('intermediate_size', 1, 3072);
  const P = r.int('max_position_embeddings', 1, 512);
  const T = r.int('type_vocab_size', 1, 2);
  const V = r.int('vocab_size', 1, 30522);
  const model: Record<string, unknown> = {
    vocab: V, dModel: D, heads: H, layers: L, dFF: F, maxPositions: P, typeVocab: T,
    dropout: r.rate('hidden_dropout_prob', 0.1), attentionDropout: r.rate('attention_probs_dropout_prob', 0.1),
    activation: r.oneOf('hidden_act', ACT_FROM_HF, 'gelu'), eps: r.rate('layer_norm_eps', 1e-12, true), seed: 0, dtype: 'float32',
  };

  const take = new TensorTaker(tensors, tensorsWhere, architecture, configWhere);
  const state = new Map<string, Tensor>();
  const vD = dims([D, 'hidden_size']);
  const DD = dims([D, 'hidden_size'], [D, 'hidden_size']);
  const norm = (hf: string, p: 'weight' | 'bias'): Tensor => take.take(`${hf}.${p}`, vD, [`${hf}.${p === 'weight' ? 'gamma' : 'beta'}`]);
  const wte = take.take('bert.embeddings.word_embeddings.weight', [[V, 'vocab_size'], [D, 'hidden_size']]);
  // The weights' float type is the model's (HF's torch_dtype is only a hint): a float64 file builds a float64 model.
  model.dtype = wte.dtype;
  state.set('bert.embeddings.word_embeddings.weight', wte);
  state.set('bert.embeddings.position_embeddings.weight', take.take('bert.embeddings.position_embeddings.weight', [[P, 'max_position_embeddings'], [D, 'hidden_size']]));
  state.set('bert.embeddings.token_type_embeddings.weight', take.take('bert.embeddings.token_type_embeddings.weight', [[T, 'type_vocab_size'], [D, 'hidden_size']]));
  for (const p of ['weight', 'bias'] as const) state.set(`bert.embeddings.norm.${p}`, norm('bert.embeddings.LayerNorm', p));
  noGrad(() => {
    for (let i = 0; i < L; i++) {
      const h = `bert.encoder.layer.${i}.`;
      const q = `bert.encoder.layers.${i}.`;
      const qkv = ['query', 'key', 'value'];
      state.set(`${q}self_attn.in_proj_weight`, concat(qkv.map((n) => take.take(`${h}attention.self.${n}.weight`, DD)), 0));
      state.set(`${q}self_attn.in_proj_bias`, concat(qkv.map((n) => take.take(`${h}attention.self.${n}.bias`, vD)), 0));
      const shapes: Record<string, [number, string][]> = {
        [`${h}attention.output.dense.weight`]: DD,
        [`${h}intermediate.dense.weight`]: [[F, 'intermediate_size'], [D, 'hidden_size']],
        [`${h}intermediate.dense.bias`]: [[F, 'intermediate_size']],
        [`${h}output.dense.weight`]: [[D, 'hidden_size'], [F, 'intermediate_size']],
      };
      for (const [qn, hn] of layerPairs(i)) {
        if (hn.includes('LayerNorm')) state.set(qn, norm(hn.slice(0, hn.lastIndexOf('.')), hn.endsWith('weight') ? 'weight' : 'bias'));
        else state.set(qn, take.take(hn, shapes[hn] ?? vD));
      }
    }
  });
  const initialized: string[] = [];
  const ignorable = [/^bert\.embeddings\.position_ids$/, /^cls\.seq_relationship\./];
  if (take.has('bert.pooler.dense.weight') || classifier) {
    state.set('bert.pooler.dense.weight', take.take('bert.pooler.dense.weight', DD));
    state.set('bert.pooler.dense.bias', take.take('bert.pooler.dense.bias', vD));
  } else {
    const dtype = wte.dtype === 'float64' ? 'float64' : 'float32';
    state.set('bert.pooler.dense.weight', randn([D, D], new Rng(0), { std: 0.02, dtype }));
    state.set('bert.pooler.dense.bias', zeros([D], { dtype }));
    initialized.push('bert.pooler.dense.weight', 'bert.pooler.dense.bias');
  }
  if (classifier) {
    const labels = readLabels(r);
    model.labels = labels;
    state.set('classifier.weight', take.take('classifier.weight', [[labels.length, 'id2label'], [D, 'hidden_size']]));
    state.set('classifier.bias', take.take('classifier.bias', [[labels.length, 'id2label']]));
    ignorable.push(/^cls\./); // a pre-training head left in a fine-tuned file
  } else {
    for (const p of ['weight', 'bias'] as const) {
      state.set(`cls.transform.dense.${p}`, take.take(`cls.predictions.transform.dense.${p}`, p === 'weight' ? DD : vD));
      state.set(`cls.transform.norm.${p}`, norm('cls.predictions.transform.LayerNorm', p));
    }
    state.set('cls.decoder.weight', wte);
    state.set('cls.bias', take.take('cls.predictions.bias', [[V, 'vocab_size']], ['cls.predictions.decoder.bias']));
    // The decoder's weight (tied) and bias (the same tensor as cls.predictions.bias) when a writer kept them.
    ignorable.push(/^cls\.predictions\.decoder\.(weight|bias)$/);
  }
  const ignored = take.rest(ignorable);
  return { modelKind: classifier ? 'bert-classifier' : 'bert', model, state, initialized, ignored };
}
