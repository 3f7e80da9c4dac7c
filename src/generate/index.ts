// The generate room's public face: processors, samplers, stopping rules, and the decoding loops.

export type { DecodingCache, CausalLM, Seq2SeqModel } from './model.js';
export { greedyDecode, greedyDecodeSteps } from './seq2seq.js';
export type { GreedyOptions, DecodedToken } from './seq2seq.js';
export { beamSearch, beamSearchCausal, lengthPenalty } from './beam.js';
export type { BeamSearchOptions, BeamHypothesis, BeamStep, CausalBeamOptions } from './beam.js';
export { generate, generateSteps, processorsFrom } from './causal.js';
export type { GenerateOptions } from './causal.js';
export { temperature, topK, topP, repetitionPenalty, forbidTokens, applyProcessors } from './processors.js';
export type { LogitsProcessor } from './processors.js';
export { greedy, multinomial } from './samplers.js';
export type { Sampler } from './samplers.js';
export { maxLength, eosToken, stopSequence } from './stopping.js';
export type { StoppingCriterion } from './stopping.js';
export { idsTensor, lastRows, gatherRows, logSoftmaxRow } from './rows.js';
export { BatchDecoder } from './batch.js';
export type { BatchDecoderOptions, BatchToken, FinishReason, SequenceOptions } from './batch.js';
export type { BatchedCausalLM, SlotCache } from './model.js';
