// WordPieceTokenizer: BERT's tokenizer — BERT normalisation and pre-tokenisation, greedy longest-match WordPiece, train, tokenizer.json.

import { ArgumentError } from '../core/errors.js';
import { learnSymbolMerges, type SymbolWord } from './bpe-train.js';
import { BaseTokenizer, WordCache, type VocabSpec } from './tokenizer.js';

/** BERT's special tokens in id order: [PAD] 0, [CLS] 1, [SEP] 2, [UNK] 3, [MASK] 4. */
export const BERT_SPECIAL_TOKENS = Object.freeze(['[PAD]', '[CLS]', '[SEP]', '[UNK]', '[MASK]'] as const);

/** Hugging Face's BertNormalizer settings (tokenizer.json field names in camelCase). */
export interface BertNormalizerOptions {
  /** Drop control characters, NUL and U+FFFD; turn every whitespace into a space. Default true. */
  cleanText?: boolean;
  /** Put spaces around CJK ideographs, so each is a word. Default true. */
  handleChineseChars?: boolean;
  /** NFD, then drop nonspacing marks. Default: the same as `lowercase` (HF's `strip_accents: null`). */
  stripAccents?: boolean | null;
  /** Default true (bert-base-uncased). */
  lowercase?: boolean;
}

/** A full WordPiece layout: vocabulary, specials, normaliser and model settings. */
export interface WordPieceSpec extends VocabSpec {
  /** Default: the id of `[MASK]`, or -1 when the vocabulary has none. */
  maskId?: number;
  normalizer?: BertNormalizerOptions | null;
  /** Marks a piece that continues a word. Default `##`. */
  continuingSubwordPrefix?: string;
  /** A longer word (in code points) is one [UNK]. Default 100. */
  maxInputCharsPerWord?: number;
  /** The WordPiece decoder's `cleanup` (" ." → ".", " n't" → "n't", …). Default true, as BertTokenizerFast. */
  decoderCleanup?: boolean;
}

/** Options of {@link WordPieceTokenizer.train}. */
export interface WordPieceTrainOptions {
  /** Final vocabulary size, the 5 special tokens and the alphabet included. */
  vocabSize: number;
  /** Lowercase and strip accents (bert-base-uncased). Default true. */
  lowercase?: boolean;
  /** Stop merging when the best pair occurs fewer times than this. Default 2. */
  minFrequency?: number;
}

const CONTROL = /(?![\t\n\r])[\p{C}\uFFFD]/gu;
const WHITESPACE = /\p{White_Space}/gu;
// The CJK ideograph blocks of Google's BERT (and tokenizers.js): Unified, Ext A–E, Compatibility.
const CJK = /[\u{4E00}-\u{9FFF}\u{3400}-\u{4DBF}\u{20000}-\u{2A6DF}\u{2A700}-\u{2B73F}\u{2B740}-\u{2B81F}\u{2B820}-\u{2CEAF}\u{F900}-\u{FAFF}\u{2F800}-\u{2FA1F}]/gu;
const NONSPACING_MARK = /\p{Mn}/gu;
// ASCII punctuation (BERT counts $, +, <, =, >, ^, `, |, ~ too) or any Unicode P* character.
const WORD_OR_PUNCT = /[^\p{White_Space}!-\/:-@\[-`{-~\p{P}]+|[!-\/:-@\[-`{-~\p{P}]/gu;

/**
 * Hugging Face's BertNormalizer: clean the text, space out CJK ideographs, strip accents, lowercase
 * (in that order, as the Rust `tokenizers` does). Lowercasing is per character, so a final Σ
 * becomes σ as in Rust, not ς as JavaScript's context-aware `toLowerCase` would give.
 *
 * @example
 * bertNormalize('Héllo\tWORLD'); // 'hello world'
 */
export function bertNormalize(text: string, o: BertNormalizerOptions = {}): string {
  const lowercase = o.lowercase ?? true;
  if (o.cleanText ?? true) text = text.replace(CONTROL, '').replace(WHITESPACE, ' ');
  if (o.handleChineseChars ?? true) text = text.replace(CJK, ' $& ');
  if (o.stripAccents ?? lowercase) text = text.normalize('NFD').replace(NONSPACING_MARK, '');
  if (lowercase) text = text.replaceAll('Σ', 'σ').toLowerCase();
  return text;
}

/**
 * Hugging Face's BertPreTokenizer: split on whitespace (dropped), and cut every punctuation
 * character out as a word of its own.
 *
 * @example
 * bertPreTokenize("don't stop!"); // ['don', "'", 't', 'stop', '!']
 */
export function bertPreTokenize(text: string): string[] {
  return text.match(WORD_OR_PUNCT) ?? [];
}

/**
 * BERT's WordPiece tokenizer, laid out as Hugging Face's BertTokenizerFast: text is normalised
 * ({@link bertNormalize}), cut into words ({@link bertPreTokenize}), and each word is split
 * greedily into the longest pieces of the vocabulary, left to right, pieces after the first
 * carrying `##`. A word that cannot be split, or of more than 100 code points, is one `[UNK]`.
 * `addSpecial` gives `[CLS] … [SEP]`.
 *
 * @example
 * ```ts
 * const wp = WordPieceTokenizer.train(['unaffable, affable!'], { vocabSize: 60, minFrequency: 1 });
 * wp.encode('Affable!', { addSpecial: true }); // [CLS] affable ! [SEP] as ids
 * wp.decode(wp.encode('affable, unaffable')); // 'affable, unaffable'
 * ```
 */
export class WordPieceTokenizer extends BaseTokenizer {
  /** Id of `[MASK]` (4 in ours), -1 when the vocabulary has none. */
  readonly maskId: number;
  readonly normalizer: Readonly<Required<BertNormalizerOptions>> | null;
  readonly continuingSubwordPrefix: string;
  readonly maxInputCharsPerWord: number;
  readonly decoderCleanup: boolean;
  private readonly cache = new WordCache((w) => this.encodeWord(w));

  /**
   * Learns a vocabulary as Hugging Face's WordPieceTrainer: words are counted after normalising
   * and pre-tokenising, every character seen is a token (bare, and with `##` where it continues a
   * word), then the most frequent adjacent pair is merged again and again (ties to the pair of
   * smaller ids) until `vocabSize` or `minFrequency` stops it. Ids: the 5 specials, the
   * characters in code point order, the `##` characters in code point order, then one per merge.
   * The alphabet is always kept whole, so a tiny `vocabSize` can be exceeded.
   *
   * @example
   * ```ts
   * const wp = WordPieceTokenizer.train(texts, { vocabSize: 8000 });
   * ```
   */
  static train(texts: Iterable<string>, o: WordPieceTrainOptions): WordPieceTokenizer {
    const trainer = WordPieceTokenizer.trainer(o);
    for (const text of texts) trainer.add(text);
    return trainer.finish();
  }

  /**
   * {@link WordPieceTokenizer.train} one text at a time (for texts read as a stream): `add`
   * counts a text's words, `finish` learns the vocabulary. The same texts give the same tokenizer.
   *
   * @example
   * ```ts
   * const t = WordPieceTokenizer.trainer({ vocabSize: 8000 });
   * for (const doc of docs) t.add(doc);
   * const wp = t.finish();
   * ```
   */
  static trainer(o: WordPieceTrainOptions): { add(text: string): void; finish(): WordPieceTokenizer } {
    const lowercase = o.lowercase ?? true;
    const minFrequency = o.minFrequency ?? 2;
    if (!(minFrequency >= 1)) throw new ArgumentError(`minFrequency ${minFrequency}: expected a number >= 1`);
    if (!Number.isInteger(o.vocabSize) || o.vocabSize < BERT_SPECIAL_TOKENS.length) {
      throw new ArgumentError(`vocabSize ${o.vocabSize}: expected an integer >= ${BERT_SPECIAL_TOKENS.length} (the special tokens)`);
    }
    const normalizer = { cleanText: true, handleChineseChars: true, stripAccents: null, lowercase };
    const special = new RegExp(BERT_SPECIAL_TOKENS.map((s) => s.replace(/[[\]]/g, '\\$&')).join('|'), 'g');
    const counts = new Map<string, number>();
    const add = (text: string): void => {
      for (const part of text.split(special)) {
        for (const w of bertPreTokenize(bertNormalize(part, normalizer))) counts.set(w, (counts.get(w) ?? 0) + 1);
      }
    };
    const finish = (): WordPieceTokenizer => {
      const first = new Set<string>();
      const rest = new Set<string>();
      for (const w of counts.keys()) {
        let i = 0;
        for (const c of w) (i++ === 0 ? first : rest).add(c);
      }
      const byCodePoint = (a: string, b: string) => a.codePointAt(0)! - b.codePointAt(0)!;
      const alphabet = [...new Set([...first, ...rest])].sort(byCodePoint);
      const base = [...BERT_SPECIAL_TOKENS, ...alphabet, ...[...rest].sort(byCodePoint).map((c) => '##' + c)];
      const idOf = new Map(base.map((t, i) => [t, i]));
      // Words in sorted order, so nothing depends on the order texts came in.
      const words: SymbolWord[] = [...counts].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([w, count]) => ({
        symbols: Array.from(w, (c, i) => idOf.get(i === 0 ? c : '##' + c)!),
        count,
      }));
      const { tokens } = learnSymbolMerges(words, base, o.vocabSize, minFrequency, (x, y) => x + (y.startsWith('##') ? y.slice(2) : y));
      return new WordPieceTokenizer({ tokens, padId: 0, bosId: 1, eosId: 2, unkId: 3, maskId: 4, specialIds: [0, 1, 2, 3, 4], normalizer });
    };
    return { add, finish };
  }

  /** Builds from a full layout (used by tokenizerFromJSON). */
  constructor(spec: WordPieceSpec) {
    super(spec);
    const mask = spec.maskId ?? this.tokenToId('[MASK]') ?? -1;
    if (mask !== -1 && !(Number.isInteger(mask) && mask >= 0 && mask < this.vocabSize)) {
      throw new ArgumentError(`maskId ${mask}: expected -1 or an integer in [0, ${this.vocabSize})`);
    }
    this.maskId = mask;
    const n = spec.normalizer;
    this.normalizer =
      n === null
        ? null
        : Object.freeze({
            cleanText: n?.cleanText ?? true,
            handleChineseChars: n?.handleChineseChars ?? true,
            stripAccents: n?.stripAccents ?? null,
            lowercase: n?.lowercase ?? true,
          });
    this.continuingSubwordPrefix = spec.continuingSubwordPrefix ?? '##';
    this.maxInputCharsPerWord = spec.maxInputCharsPerWord ?? 100;
    this.decoderCleanup = spec.decoderCleanup ?? true;
    if (!(Number.isInteger(this.maxInputCharsPerWord) && this.maxInputCharsPerWord >= 1)) {
      throw new ArgumentError(`maxInputCharsPerWord ${this.maxInputCharsPerWord}: expected an integer >= 1`);
    }
  }

  /** Ids of the special tokens, in id order. */
  get specialIdList(): number[] {
    return [...this.specialIds].sort((a, b) => a - b);
  }

  /** The words of `text` after normalisation and pre-tokenisation (what the WordPiece model sees). */
  words(text: string): string[] {
    return bertPreTokenize(this.normalizer === null ? text : bertNormalize(text, this.normalizer));
  }

  protected encodeText(text: string, out: number[]): void {
    for (const w of this.words(text)) for (const id of this.cache.ids(w)) out.push(id);
  }

  /** Greedy longest-match-first over code points; one [UNK] when any position has no piece. */
  private encodeWord(word: string): number[] {
    const chars = Array.from(word);
    if (chars.length > this.maxInputCharsPerWord) return [this.unkId];
    const pieces: number[] = [];
    let start = 0;
    while (start < chars.length) {
      let found = -1;
      let end = chars.length;
      for (; end > start; end--) {
        const sub = (start > 0 ? this.continuingSubwordPrefix : '') + chars.slice(start, end).join('');
        const id = this.ids.get(sub);
        if (id !== undefined) {
          found = id;
          break;
        }
      }
      if (found < 0) return [this.unkId];
      pieces.push(found);
      start = end;
    }
    return pieces;
  }

  /** Hugging Face's WordPiece decoder: `##` pieces glue on, other tokens get a space, then cleanup per token. */
  protected decodeTokens(tokens: readonly string[]): string {
    const prefix = this.continuingSubwordPrefix;
    let out = '';
    tokens.forEach((t, i) => {
      if (i > 0) t = prefix !== '' && t.startsWith(prefix) ? t.slice(prefix.length) : ' ' + t;
      out += this.decoderCleanup ? cleanup(t) : t;
    });
    return out;
  }

  /** tokenizer.json as Hugging Face writes it for BertTokenizerFast. */
  toJSON(): object {
    const n = this.normalizer;
    return {
      ...this.hfHeader(),
      normalizer:
        n === null
          ? null
          : { type: 'BertNormalizer', clean_text: n.cleanText, handle_chinese_chars: n.handleChineseChars, strip_accents: n.stripAccents, lowercase: n.lowercase },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: this.hfPostProcessor(),
      decoder: { type: 'WordPiece', prefix: this.continuingSubwordPrefix, cleanup: this.decoderCleanup },
      model: {
        type: 'WordPiece',
        unk_token: this.tokens[this.unkId],
        continuing_subword_prefix: this.continuingSubwordPrefix,
        max_input_chars_per_word: this.maxInputCharsPerWord,
        vocab: this.hfVocab(),
      },
    };
  }
}

/** The decoder's cleanup of spaces before punctuation and English contractions (HF's `cleanup`). */
function cleanup(s: string): string {
  return s
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(' do not', " don't")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

/**
 * The `tokenizer_config.json` that Hugging Face's transformers reads beside a BERT tokenizer.json:
 * the class, the special tokens by role, lowercasing and the maximum length.
 *
 * @example
 * JSON.stringify(wordPieceTokenizerConfig(wp, { modelMaxLength: 512 }));
 */
export function wordPieceTokenizerConfig(tok: WordPieceTokenizer, o: { modelMaxLength?: number } = {}): Record<string, unknown> {
  const n = tok.normalizer;
  const added: Record<string, object> = {};
  for (const id of [...tok.specialIdList].sort((a, b) => a - b)) {
    added[String(id)] = { content: tok.idToToken(id), lstrip: false, normalized: false, rstrip: false, single_word: false, special: true };
  }
  return {
    added_tokens_decoder: added,
    clean_up_tokenization_spaces: tok.decoderCleanup,
    cls_token: tok.idToToken(tok.bosId),
    do_lower_case: n?.lowercase ?? false,
    mask_token: tok.maskId >= 0 ? tok.idToToken(tok.maskId) : null,
    model_max_length: o.modelMaxLength ?? 512,
    pad_token: tok.idToToken(tok.padId),
    sep_token: tok.idToToken(tok.eosId),
    strip_accents: n?.stripAccents ?? null,
    tokenize_chinese_chars: n?.handleChineseChars ?? false,
    tokenizer_class: 'BertTokenizer',
    unk_token: tok.idToToken(tok.unkId),
  };
}
