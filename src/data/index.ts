// The data room's public face: packaged datasets (CMUdict, DING, SOTU, SpamAssassin, the pre-training corpus), your own files, deterministic splits, batching.

export { fnv1a32, splitOf, splitByKey, DEFAULT_THRESHOLDS, isHeldOut, HOLD_OUT_BUCKETS } from './split.js';
export type { SplitName, Splits, SplitThresholds } from './split.js';
export { DatasetMissingError, DataFileError } from './errors.js';
export { readLines } from './load.js';
export type { ReadProgress, ReadLinesOptions } from './load.js';
export { pairFormatOf, textFormatOf, isBlank, parsePairRow, parseDocumentRow, BadRowError, BadRows, LineGroups, LINES_PER_GROUP } from './user-files.js';
export type { PairFormat, TextFormat, TextPair, Row } from './user-files.js';
export { readPairs, readTextGroups, splitOfRow, TokenBuffer } from './user-data.js';
export type { ReadDataOptions } from './user-data.js';
export { parseCmudict, splitCmudict, loadCmudict, withoutStressMarks } from './cmudict.js';
export type { CmudictEntry } from './cmudict.js';
export { DING_PATH, cleanDingText, isSentencePair, isPhrasePair, parseDingLine, parseDing, splitDing, loadDing } from './ding.js';
export type { TranslationPair, DingLine, DingSplitOptions } from './ding.js';
export { sotuKey, splitSotu, loadSotu } from './sotu.js';
export type { SotuSpeech } from './sotu.js';
export { planBatches, padSequences, pairLength, collatePairs, pairBatches, lmChunkCount, lmBatches } from './batching.js';
export type { BatchPlanOptions, Padded, SeqPair, PairSpecialIds, PairBatch, PairBatchOptions, LmBatchOptions, LmBatch } from './batching.js';
export { mailToText, withoutListTags, duplicateKey, dedupeByBody, stratifiedSplit, labelSubset, spamLabelOf, prepareSpamAssassin } from './spam.js';
export type { LabeledText, RawMail, StratifiedShares, SpamCounts } from './spam.js';
export { loadSpamAssassin, loadPretrainingCorpus } from './load.js';
export { brownToText, buildPretrainingCorpus, CORPUS_SOURCES, CORPUS_VALID_SHARE, DEFAULT_CORPUS_SOURCES } from './corpus.js';
export type { CorpusDocument, CorpusSize, CorpusSource, CorpusSourceName, PretrainingCorpus } from './corpus.js';
export { readLabeledTexts, parseLabeledJson } from './labeled-files.js';
export type { TextLabel, LabelColumns, ReadLabeledOptions } from './labeled-files.js';
