// The nn room's public face: modules, layers, attention, positions and masks.

export { Module, ModuleList } from './module.js';
export type { LoadStateDictOptions, LoadStateDictResult } from './module.js';
export { xavierUniform, uniformInit, normalInit, resetXavier } from './init.js';
export type { ModelInitOptions, ParamOptions } from './init.js';
export { Linear, linear } from './linear.js';
export type { LinearOptions } from './linear.js';
export { Embedding } from './embedding.js';
export type { EmbeddingOptions } from './embedding.js';
export { LayerNorm } from './layer-norm.js';
export type { LayerNormOptions } from './layer-norm.js';
export { Dropout } from './dropout.js';
export { ACTIVATIONS, FeedForward, activate } from './feed-forward.js';
export type { Activation, FeedForwardOptions } from './feed-forward.js';
export { SinusoidalPositionalEncoding, LearnedPositionalEncoding } from './positional.js';
export { causalMask, paddingMask, keyPaddingMaskFromIds } from './masks.js';
export type { MaskOptions } from './masks.js';
export { MultiHeadAttention, isAdditiveMask, scaledDotProductAttention } from './attention.js';
export type { AttentionResult, SdpaOptions, MultiHeadAttentionOptions, MultiHeadAttentionCallOptions } from './attention.js';
export { TransformerEncoderLayer } from './encoder-layer.js';
export type { TransformerLayerOptions, EncoderLayerCallOptions, EncoderLayerOutput } from './encoder-layer.js';
export { TransformerDecoderLayer } from './decoder-layer.js';
export type { DecoderLayerCallOptions, DecoderLayerOutput } from './decoder-layer.js';
export { TransformerEncoder } from './encoder.js';
export type { TransformerEncoderOptions, EncoderOutput } from './encoder.js';
export { TransformerDecoder } from './decoder.js';
export type { DecoderOutput } from './decoder.js';
