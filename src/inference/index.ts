// The inference room's public face: loading a checkpoint from its files, answering, streaming, attention maps, pipeline().

export type { TrainedModel, SpecialIds, EncoderDecoder } from './model.js';
export { specialIds, ENCODER_DECODER_KINDS } from './model.js';
export { TextStream } from './text-stream.js';
export {
  decodeAll, answerIds, answerSeq2Seq, streamSeq2Seq, encodeSources, maxLenRule, pronounce, translate,
  G2P_RULES, TRANSLATE_RULES, TEXT2TEXT_RULES,
} from './seq2seq.js';
export type { DecodeAllOptions, Seq2SeqRules, Seq2SeqGenerationOptions, BeamOption } from './seq2seq.js';
export { streamText, generateText, continueText, fitContext, beamTexts, DEFAULT_MAX_NEW_TOKENS } from './causal.js';
export type { TextGenerationOptions, CausalAnswer, ContextFit, ContinueOptions, BeamTextOptions, BeamTextAnswer } from './causal.js';
export { toAttentionMap, tokenStrings, seq2seqAttentions, causalAttentions, causalAttentionsBatch } from './attentions.js';
export type { AttentionMap, Seq2SeqAttentions, CausalAttentions } from './attentions.js';
export { traceBeamSearch, seq2seqNextTokens, causalNextTokens } from './trace.js';
export type { BeamTrace, BeamTraceStep, TracedHypothesis, NextTokenDistribution } from './trace.js';
export { attentionView } from './view-data.js';
export type { AttentionViewOptions } from './view-data.js';
export { attentionViewToJSON, attentionViewFromJSON, embedAttentionView, VIEW_FORMAT, VIEW_DATA_MARKER } from './view-json.js';
export type { AttentionView, AttentionGroup, AttentionKind } from './view-json.js';
export { loadPretrained, isPretrainedFiles, PRETRAINED_FILES, PRETRAINED_KINDS } from './pretrained.js';
export type { Pretrained, PretrainedSeq2Seq, PretrainedCausal, PretrainedMaskedLM, PretrainedClassifier, PretrainedFiles, LoadPretrainedOptions } from './pretrained.js';
export { classifierIds, classifierPadId, classifierPositions, classifyTexts, fillMask, paddedBatch } from './classification.js';
export type { SequenceClassifier, LabelScore, MaskFill } from './classification.js';
export { readHFCheckpoint, hfFolderFiles, isHFFolder, HF_FILES } from './hf-folder.js';
export type { HFCheckpointData } from './hf-folder.js';
export { pipeline, pipelineFor, pipelineTask, checkpointDefaults, PipelineError, PIPELINE_TASKS, PIPELINE_ALIASES } from './pipeline.js';
export type {
  Seq2SeqPipeline, TextGenerationPipeline, PipelineTypes, PipelineTaskName, PipelineTask, PipelineOptions, PipelineSource,
  Seq2SeqCallOptions, Seq2SeqOutput, TextGenerationCallOptions, TextGenerationOutput,
  TextClassificationPipeline, TextClassificationCallOptions, FillMaskPipeline, FillMaskCallOptions, AnyPipeline,
} from './pipeline.js';
export { TextBatch } from './batch-text.js';
export type { BatchTextOptions, TextEvent, TextFinish, JoinedText } from './batch-text.js';
export { ARPABET_LETTERS, alignmentAgreement, monotonicAlignment } from './alignment.js';
export type { HeadAgreement } from './alignment.js';
