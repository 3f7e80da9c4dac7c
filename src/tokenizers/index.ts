// The tokenizers room: character, symbol, byte-level BPE and WordPiece tokenizers, and tokenizer.json.

export {
  BaseTokenizer,
  DEFAULT_SPECIAL_TOKENS,
  specialTokenList,
  type DecodeOptions,
  type EncodeOptions,
  type SpecialTokens,
  type Template,
  type Tokenizer,
  type VocabSpec,
  type ExtensibleTokenizer,
  isExtensible,
} from './tokenizer.js';
export { CharTokenizer, CHAR_SPLIT_PRE_TOKENIZER, type CharTokenizerOptions } from './char.js';
export { SymbolTokenizer, type SymbolTokenizerOptions } from './symbol.js';
export {
  BYTE_TO_CHAR,
  CHAR_TO_BYTE,
  GPT2_PATTERN_SOURCE,
  bytesToUnicode,
  fromByteChars,
  gpt2PreTokenize,
  splitIsolated,
  toByteChars,
} from './byte-level.js';
export { learnMerges, type LearnedMerges } from './bpe-train.js';
export { ByteLevelBPE, type ByteLevelBPESpec, type ByteLevelBPETrainOptions, type ByteLevelBPETrainer } from './bpe.js';
export { TOKENIZER_KINDS, tokenizerBuilder, tokenizerKindOf, type TokenizerKind, type TokenizerBuilder } from './builder.js';
export { tokenizerFromJSON, type FromJSONOptions } from './json.js';
export {
  BERT_SPECIAL_TOKENS,
  WordPieceTokenizer,
  bertNormalize,
  bertPreTokenize,
  wordPieceTokenizerConfig,
  type BertNormalizerOptions,
  type WordPieceSpec,
  type WordPieceTrainOptions,
} from './wordpiece.js';
