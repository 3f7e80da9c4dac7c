// qkv: the Transformer of "Attention Is All You Need" in TypeScript.

export * from './core/errors.js';
export type { DType, FloatDType, TypedArray } from './core/dtype.js';
export { Rng } from './core/rng.js';
export { LIMITS, checkLimit } from './core/limits.js';
export type { LimitName } from './core/limits.js';
export type { Backend, Storage, View } from './backend/backend.js';
export { refBackend } from './backend/ref.js';
export { createWasmBackend, instantiateWasm, instantiateWasmSync, hasRelaxedSimd, WasmError, WasmStorage } from './backend/wasm.js';
export type { WasmBackend, WasmOptions, WasmExports, WasmSource, WasmMemory, WasmMemoryOptions, WasmBlock, InstantiateOptions } from './backend/wasm.js';
export * from './tensor/index.js';
export * from './optim/index.js';
export { parseSafetensors, serializeSafetensors } from './io/safetensors.js';
export type { SafetensorsFile, ParseSafetensorsOptions } from './io/safetensors.js';
export { toHFLayout, fromHFLayout, isHFConfig, hfTokenizerConfig, gpt2TokenizerJSON, HF_MODEL_TYPES } from './io/hf-layout.js';
export type { HFConfig, HFLayout, QkvLayout, HFQkvBlock, HFSpecialTokens } from './io/hf-layout.js';
export { gpt2ToHF, gpt2FromHF, GPT2_ARCHITECTURES } from './io/hf-gpt2.js';
export { bertToHF, bertFromHF, BERT_ARCHITECTURES } from './io/hf-bert.js';
export * from './data/index.js';
export * from './nn/index.js';
export { Transformer, resolveConfig } from './models/transformer.js';
export type { TransformerConfig, ResolvedTransformerConfig, TransformerCallOptions, TransformerOutput } from './models/transformer.js';
export { LSTMSeq2Seq, LSTMDecoderCache, resolveLSTMSeq2SeqConfig } from './models/lstm-seq2seq.js';
export type { LSTMSeq2SeqConfig, ResolvedLSTMSeq2SeqConfig, LSTMSeq2SeqCallOptions, LSTMSeq2SeqDecodeOptions, LSTMSeq2SeqOutput } from './models/lstm-seq2seq.js';
export * from './generate/index.js';
export * from './tokenizers/index.js';
export * from './train/metrics/index.js';
export * from './train/index.js';
export { GPT, resolveGPTConfig } from './models/gpt.js';
export type { GPTConfig, ResolvedGPTConfig, GPTCallOptions, GPTOutput } from './models/gpt.js';
export { GPTForSequenceClassification, resolveGPTClassifierConfig, lastTokenRows } from './models/gpt.js';
export type { GPTClassifierConfig, ResolvedGPTClassifierConfig, GPTClassifierCallOptions, GPTClassifierOutput } from './models/gpt.js';
export { BertModel, BertForMaskedLM, BertForSequenceClassification, BERT_RULES, resolveBertConfig, resolveBertClassifierConfig } from './models/bert.js';
export type {
  BertConfig, ResolvedBertConfig, BertClassifierConfig, ResolvedBertClassifierConfig, BertCallOptions, BertModelOutput, BertMaskedLMOutput,
  BertClassifierOutput,
} from './models/bert.js';
export { MAX_LABELS, checkLabels } from './core/config-checks.js';
export { maskTokens, IGNORE_LABEL } from './data/mlm.js';
export type { MaskTokensOptions, MaskedTokens } from './data/mlm.js';
export { KVCache, KVBuffer, SlotKVCache, selectRows } from './nn/kv-cache.js';
export type { KeyValue, LayerKVCache, SlotKVCacheShape } from './nn/kv-cache.js';
export type { TransformerDecodeOptions } from './models/transformer.js';
export * from './train/tasks/index.js';
export * from './inference/index.js';
