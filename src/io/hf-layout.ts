// Hugging Face folders, the model-independent part: which mapping a config.json needs, the qkv block an export
// carries, tokenizer_config.json, and GPT-2's tokenizer.json from its encoder.json + vocab.bpe.

import { FormatError } from '../core/errors.js';
import type { Tensor } from '../tensor/index.js';
import { bertFromHF, bertToHF, BERT_ARCHITECTURES } from './hf-bert.js';
import type { HFConfig, HFLayout, QkvLayout } from './hf-fields.js';
import { gpt2FromHF, gpt2ToHF, GPT2_ARCHITECTURES } from './hf-gpt2.js';

export type { HFConfig, HFLayout, QkvLayout } from './hf-fields.js';

/** The model kinds qkv writes in Hugging Face's layout, and the model_type each becomes. */
export const HF_MODEL_TYPES: Readonly<Record<string, 'gpt2' | 'bert'>> = { gpt: 'gpt2', 'gpt-classifier': 'gpt2', bert: 'bert', 'bert-classifier': 'bert' };

/** The `qkv` field of an exported config.json: what HF's fields cannot say (seed, task), so qkv reads the folder back as it was. */
export interface HFQkvBlock {
  modelKind: string;
  qkvVersion: string;
  /** The model's full resolved config as qkv saved it. */
  model: Record<string, unknown>;
  task: { name: string; options: Record<string, unknown> } | null;
}

/**
 * Whether a parsed config.json is a Hugging Face one (it has `model_type`) rather than a qkv
 * checkpoint's (`format: "qkv-checkpoint"`).
 *
 * @example
 * isHFConfig({ model_type: 'gpt2', n_embd: 768 }); // true
 */
export function isHFConfig(json: unknown): json is HFConfig {
  return json !== null && typeof json === 'object' && !Array.isArray(json) && 'model_type' in json && (json as HFConfig)['format'] !== 'qkv-checkpoint';
}

/**
 * A qkv model's config and state dict in Hugging Face's layout, for model kinds 'gpt',
 * 'gpt-classifier', 'bert' and 'bert-classifier'. With `qkv`, config.json also carries it (under
 * the key "qkv"), which transformers ignores and qkv reads back.
 *
 * @example
 * const { config, tensors } = toHFLayout('gpt', gpt.config, gpt.stateDict());
 * serializeSafetensors(tensors, { format: 'pt' });
 */
export function toHFLayout(modelKind: string, model: Record<string, unknown>, state: ReadonlyMap<string, Tensor>, qkv?: HFQkvBlock): HFLayout {
  let layout: HFLayout;
  if (modelKind === 'gpt' || modelKind === 'gpt-classifier') layout = gpt2ToHF(modelKind, model, state);
  else if (modelKind === 'bert' || modelKind === 'bert-classifier') layout = bertToHF(modelKind, model, state);
  else throw new FormatError(`toHFLayout: model kind "${modelKind}" has no Hugging Face layout in qkv, expected one of ${Object.keys(HF_MODEL_TYPES).join(', ')}`);
  if (qkv) layout.config.qkv = qkv;
  return layout;
}

/**
 * A Hugging Face folder's config.json object and model.safetensors tensors in qkv's terms,
 * dispatching on `model_type` ("gpt2" or "bert"). A folder qkv exported carries a `qkv` block
 * whose seed (and dropout, which HF's fields hold only approximately) are kept, provided its
 * kind agrees. An unknown model_type or architecture, a missing tensor or a wrong shape is a
 * FormatError naming it.
 *
 * @example
 * const q = fromHFLayout(JSON.parse(text), tensors, 'gpt2/config.json', 'gpt2/model.safetensors');
 * q.modelKind; // 'gpt'
 */
export function fromHFLayout(config: HFConfig, tensors: ReadonlyMap<string, Tensor>, configWhere: string, tensorsWhere: string): QkvLayout {
  const type = config['model_type'];
  let q: QkvLayout;
  if (type === 'gpt2') q = gpt2FromHF(config, tensors, configWhere, tensorsWhere);
  else if (type === 'bert') q = bertFromHF(config, tensors, configWhere, tensorsWhere);
  else {
    const known = [...GPT2_ARCHITECTURES, ...BERT_ARCHITECTURES].join(', ');
    throw new FormatError(`${configWhere}: model_type is ${type === undefined ? 'missing' : JSON.stringify(type)}, which qkv cannot read, expected "gpt2" or "bert" (architectures ${known})`);
  }
  const block = config['qkv'];
  if (block !== null && typeof block === 'object' && !Array.isArray(block)) {
    const b = block as Partial<HFQkvBlock>;
    if (b.modelKind === q.modelKind && b.model && typeof b.model === 'object') {
      // Not dtype: the weights decide it (a float64 export that PyTorch saved back in float32 is a float32 model).
      const keep = ['seed', 'dropout', 'attentionDropout'];
      for (const k of keep) if (k in b.model) q.model[k] = b.model[k];
    }
  }
  return q;
}

/** The task recorded in an exported config.json's qkv block, or null. */
export function hfTask(config: HFConfig): { name: string; options: Record<string, unknown> } | null {
  const t = (config['qkv'] as Partial<HFQkvBlock> | undefined)?.task;
  if (t && typeof t === 'object' && typeof t.name === 'string' && t.options && typeof t.options === 'object') return { name: t.name, options: t.options };
  return null;
}

/** The special tokens tokenizer_config.json names (absent roles are left out). */
export interface HFSpecialTokens {
  pad?: string; bos?: string; eos?: string; unk?: string; mask?: string; cls?: string; sep?: string;
}

/**
 * tokenizer_config.json for an exported folder: the tokenizer class transformers should load
 * (GPT2Tokenizer for byte-level BPE, BertTokenizer for WordPiece), its special tokens and the
 * longest input.
 *
 * @example
 * hfTokenizerConfig('gpt2', { bos: '<|endoftext|>', eos: '<|endoftext|>' }, 1024).tokenizer_class; // 'GPT2Tokenizer'
 */
export function hfTokenizerConfig(modelType: 'gpt2' | 'bert', special: HFSpecialTokens, maxLength: number, lowercase = true): Record<string, unknown> {
  const out: Record<string, unknown> = {
    tokenizer_class: modelType === 'gpt2' ? 'GPT2Tokenizer' : 'BertTokenizer',
    model_max_length: maxLength,
    clean_up_tokenization_spaces: false,
  };
  if (modelType === 'gpt2') out.add_prefix_space = false;
  else out.do_lower_case = lowercase;
  const roles: [keyof HFSpecialTokens, string][] = [['pad', 'pad_token'], ['bos', 'bos_token'], ['eos', 'eos_token'], ['unk', 'unk_token'], ['mask', 'mask_token'], ['cls', 'cls_token'], ['sep', 'sep_token']];
  for (const [role, field] of roles) if (special[role] !== undefined) out[field] = special[role];
  return out;
}

/**
 * GPT-2's tokenizer.json (Hugging Face's layout of a byte-level BPE) from OpenAI's two files:
 * encoder.json (token → id) and vocab.bpe (a "#version" line, then one merge per line).
 *
 * @example
 * const json = gpt2TokenizerJSON(readFileSync('encoder.json', 'utf8'), readFileSync('vocab.bpe', 'utf8'));
 * tokenizerFromJSON(json).encode('Hello world'); // [15496, 995]
 */
export function gpt2TokenizerJSON(encoderJson: string, vocabBpe: string, source = 'gpt2'): Record<string, unknown> {
  let vocab: unknown;
  try {
    vocab = JSON.parse(encoderJson);
  } catch (e) {
    throw new FormatError(`${source}/encoder.json: not JSON (${(e as Error).message}), expected an object of token → id`);
  }
  if (vocab === null || typeof vocab !== 'object' || Array.isArray(vocab)) throw new FormatError(`${source}/encoder.json: expected an object of token → id`);
  // Lines numbered as in the file (the #version line and blank lines count); CRLF files read as LF.
  const lines = vocabBpe.split(/\r?\n/);
  const merges: string[] = [];
  lines.forEach((m, i) => {
    if (m.length === 0 || (i === 0 && m.startsWith('#version'))) return;
    if (m.split(' ').length !== 2) throw new FormatError(`${source}/vocab.bpe: line ${i + 1} is ${JSON.stringify(m.slice(0, 40))}, expected two symbols separated by one space`);
    merges.push(m);
  });
  const eot = (vocab as Record<string, unknown>)['<|endoftext|>'];
  const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: eot === undefined ? [] : [{ id: eot, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', ...byteLevel },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges },
  };
}
