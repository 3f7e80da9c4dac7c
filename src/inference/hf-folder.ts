// Hugging Face folders as bytes: a qkv checkpoint's files in HF's layout (qkv export --format hf), and an HF folder
// (config.json with model_type, model.safetensors, tokenizer.json) read as a qkv checkpoint.

import { LIMITS } from '../core/limits.js';
import { fromHFLayout, hfTask, hfTokenizerConfig, HF_MODEL_TYPES, isHFConfig, toHFLayout } from '../io/hf-layout.js';
import type { HFSpecialTokens, QkvLayout } from '../io/hf-layout.js';
import { parseSafetensors, serializeSafetensors } from '../io/safetensors.js';
import { tokenizerFromJSON } from '../tokenizers/json.js';
import type { FromJSONOptions } from '../tokenizers/json.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { WordPieceTokenizer, wordPieceTokenizerConfig } from '../tokenizers/wordpiece.js';
import { CHECKPOINT_FORMAT, CheckpointError, asCheckpointError, checkFinite, QKV_VERSION } from '../train/checkpoint.js';
import type { CheckpointData } from '../train/checkpoint.js';

/** The files of a Hugging Face folder that qkv writes and reads. */
export const HF_FILES = {
  config: 'config.json',
  model: 'model.safetensors',
  tokenizer: 'tokenizer.json',
  tokenizerConfig: 'tokenizer_config.json',
} as const;

/** A checkpoint read from a Hugging Face folder: CheckpointData, plus what the mapping filled in or dropped. */
export interface HFCheckpointData extends CheckpointData {
  /** Tensors the file lacked that the model never reads for its outputs, given fresh values (BertForMaskedLM's pooler). */
  initialized: string[];
  /** Tensors of the file that were dropped as safe to drop (attention-mask buffers, other heads). */
  ignored: string[];
}

/**
 * Whether a checkpoint's config.json bytes are a Hugging Face config (with `model_type`) rather
 * than a qkv checkpoint's. Malformed bytes are left for the reader to report: false.
 *
 * @example
 * isHFFolder(files); // true for a folder transformers' save_pretrained wrote
 */
export function isHFFolder(files: ReadonlyMap<string, Uint8Array>): boolean {
  const b = files.get(HF_FILES.config);
  if (!b || b.length > LIMITS.maxJsonBytes) return false;
  try {
    return isHFConfig(JSON.parse(new TextDecoder().decode(b)));
  } catch {
    return false;
  }
}

/**
 * Reads a Hugging Face folder's files (GPT2LMHeadModel, GPT2ForSequenceClassification,
 * BertForMaskedLM, BertForSequenceClassification; written by qkv or by anyone) as a qkv
 * checkpoint, for modelFromCheckpoint. tokenizer_config.json, when present, names the special
 * tokens' roles. Every problem is a CheckpointError naming the file and the field or tensor: an
 * unknown model_type or architecture, a missing tensor, a wrong shape.
 *
 * @example
 * const ck = readHFCheckpoint(files, { source: 'exports/gpt2' });
 * ck.config.modelKind; // 'gpt'
 * const model = modelFromCheckpoint(ck);
 */
export function readHFCheckpoint(files: ReadonlyMap<string, Uint8Array>, opts: { source?: string } = {}): HFCheckpointData {
  const dir = opts.source ?? 'checkpoint';
  const at = (name: string): string => `${dir}/${name}`;
  const need = (name: string): Uint8Array => {
    const b = files.get(name);
    if (!b) throw new CheckpointError(`${at(name)}: file is missing, expected it in a Hugging Face folder`);
    return b;
  };
  const text = (name: string): string => {
    const b = need(name);
    if (b.length > LIMITS.maxJsonBytes) throw new CheckpointError(`${at(name)}: is ${b.length} bytes, expected at most ${LIMITS.maxJsonBytes} (the cap LIMITS.maxJsonBytes)`);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(b);
    } catch {
      throw new CheckpointError(`${at(name)}: not UTF-8 text, expected JSON`);
    }
  };
  const json = (name: string): Record<string, unknown> => {
    let v: unknown;
    try {
      v = JSON.parse(text(name));
    } catch (e) {
      if (e instanceof CheckpointError) throw e;
      throw new CheckpointError(`${at(name)}: not valid JSON (${(e as Error).message})`);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new CheckpointError(`${at(name)}: the top level is not an object, expected a JSON object`);
    return v as Record<string, unknown>;
  };

  const config = json(HF_FILES.config);
  // Views over the file's bytes (no copy): the weights are copied once, into the model's parameters.
  const tensors = asCheckpointError(() => parseSafetensors(need(HF_FILES.model), { source: at(HF_FILES.model), view: true }).tensors);
  checkFinite(tensors, at(HF_FILES.model));
  const q: QkvLayout = asCheckpointError(() => fromHFLayout(config, tensors, at(HF_FILES.config), at(HF_FILES.model)));
  let tokenizer: Tokenizer | null = null;
  if (files.has(HF_FILES.tokenizer)) {
    const roles = files.has(HF_FILES.tokenizerConfig) ? tokenizerRoles(json(HF_FILES.tokenizerConfig)) : {};
    tokenizer = asCheckpointError(() => tokenizerFromJSON(text(HF_FILES.tokenizer), at(HF_FILES.tokenizer), roles));
  }
  return {
    source: dir,
    config: { format: CHECKPOINT_FORMAT, qkvVersion: QKV_VERSION, modelKind: q.modelKind, model: q.model, task: hfTask(config) },
    modelState: q.state,
    tokenizer,
    targetTokenizer: tokenizer,
    optimizerState: null,
    trainerState: null,
    initialized: q.initialized,
    ignored: q.ignored,
  };
}

/** The pad, bos, eos and unk roles tokenizer_config.json names; cls/sep stand in for bos/eos (BERT). */
function tokenizerRoles(c: Record<string, unknown>): FromJSONOptions {
  const name = (k: string): string | undefined => {
    const v = c[k];
    if (typeof v === 'string') return v;
    if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content; // AddedToken form
    return undefined;
  };
  const s: NonNullable<FromJSONOptions['specialTokens']> = {};
  const pad = name('pad_token');
  const bos = name('bos_token') ?? name('cls_token');
  const eos = name('eos_token') ?? name('sep_token');
  const unk = name('unk_token');
  if (pad) s.pad = pad;
  if (bos) s.bos = bos;
  if (eos) s.eos = eos;
  if (unk) s.unk = unk;
  return { specialTokens: s };
}

/**
 * A qkv checkpoint's files in Hugging Face's layout: config.json (HF's fields, plus a `qkv` block
 * with the full config and task), model.safetensors (HF's names and layouts, tied weights once,
 * metadata {"format": "pt"}), tokenizer.json and tokenizer_config.json. Model kinds: 'gpt',
 * 'gpt-classifier', 'bert', 'bert-classifier'; another is a CheckpointError.
 *
 * @example
 * const ck = await readCheckpointDir('runs/lm-small/best');
 * await writeDirAtomic('exports/lm', hfFolderFiles(ck));
 */
export function hfFolderFiles(ck: CheckpointData): Record<string, Uint8Array | string> {
  const kind = ck.config.modelKind;
  const modelType = HF_MODEL_TYPES[kind];
  if (!modelType) throw new CheckpointError(`${ck.source}/config.json: modelKind is "${kind}", which has no Hugging Face layout, expected one of ${Object.keys(HF_MODEL_TYPES).join(', ')}`);
  const { config, tensors } = asCheckpointError(() => toHFLayout(kind, ck.config.model, ck.modelState, {
    modelKind: kind, qkvVersion: QKV_VERSION, model: ck.config.model, task: ck.config.task,
  }));
  if (modelType === 'gpt2' && ck.tokenizer) {
    config.bos_token_id = ck.tokenizer.bosId;
    config.eos_token_id = ck.tokenizer.eosId;
  }
  // BERT's pad_token_id is the padding row of word_embeddings for transformers (no gradient there): the tokenizer's [PAD].
  if (modelType === 'bert' && ck.tokenizer) config.pad_token_id = ck.tokenizer.padId;
  const files: Record<string, Uint8Array | string> = {
    [HF_FILES.config]: JSON.stringify(config, null, 2) + '\n',
    [HF_FILES.model]: serializeSafetensors(tensors, { format: 'pt' }),
  };
  const tok = ck.tokenizer;
  if (tok) {
    files[HF_FILES.tokenizer] = JSON.stringify(tok.toJSON());
    const maxLength = (ck.config.model[modelType === 'gpt2' ? 'context' : 'maxPositions'] as number | undefined) ?? 1024;
    const special: HFSpecialTokens = { pad: tok.idToToken(tok.padId), unk: tok.idToToken(tok.unkId) };
    if (modelType === 'gpt2') {
      special.bos = tok.idToToken(tok.bosId);
      special.eos = tok.idToToken(tok.eosId);
    } else {
      special.cls = tok.idToToken(tok.bosId);
      special.sep = tok.idToToken(tok.eosId);
      const maskId = (tok as Tokenizer & { maskId?: number }).maskId;
      if (typeof maskId === 'number') special.mask = tok.idToToken(maskId);
    }
    // A WordPiece tokenizer knows its own normalizer (lowercasing, accents) and writes its own config.
    const tc = tok instanceof WordPieceTokenizer ? wordPieceTokenizerConfig(tok, { modelMaxLength: maxLength }) : hfTokenizerConfig(modelType, special, maxLength);
    files[HF_FILES.tokenizerConfig] = JSON.stringify(tc, null, 2) + '\n';
  }
  return files;
}
