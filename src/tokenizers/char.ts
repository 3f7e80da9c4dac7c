// CharTokenizer: one token per Unicode code point, built from the characters of a corpus.

import { ArgumentError } from '../core/errors.js';
import { BaseTokenizer, vocabSpecFrom, type ExtensibleTokenizer, type SpecialTokens, type VocabSpec } from './tokenizer.js';

/** Options of {@link CharTokenizer.fromCorpus}. */
export interface CharTokenizerOptions {
  /** Default `<pad>`, `<s>`, `</s>`, `<unk>` at ids 0..3. */
  specialTokens?: Partial<SpecialTokens>;
}

/**
 * Hugging Face's pre-tokenizer for one token per code point: `[\s\S]` isolated. Oniguruma, like a
 * JavaScript `u` regex, steps by code point, so emoji stay whole.
 */
export const CHAR_SPLIT_PRE_TOKENIZER = Object.freeze({
  type: 'Split',
  pattern: Object.freeze({ Regex: '[\\s\\S]' }),
  behavior: 'Isolated',
  invert: false,
});

/**
 * A character tokenizer: every distinct code point of the corpus is a token (in code point order,
 * after the special tokens); characters it never saw become `<unk>`.
 *
 * @example
 * ```ts
 * const tok = CharTokenizer.fromCorpus(['abc']);
 * tok.encode('cab');   // [6, 4, 5]
 * tok.decode([6, 4]);  // 'ca'
 * tok.encode('z');     // [3] (<unk>)
 * ```
 */
export class CharTokenizer extends BaseTokenizer implements ExtensibleTokenizer {
  /** Builds the vocabulary from every distinct character of `texts`. */
  static fromCorpus(texts: Iterable<string>, opts: CharTokenizerOptions = {}): CharTokenizer {
    const seen = new Set<string>();
    for (const text of texts) {
      for (const ch of text) seen.add(ch);
    }
    const chars = [...seen].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    return CharTokenizer.fromChars(chars, opts);
  }

  /** Builds the tokenizer from a list of characters, kept in the order given. */
  static fromChars(chars: Iterable<string>, opts: CharTokenizerOptions = {}): CharTokenizer {
    return new CharTokenizer(vocabSpecFrom(chars, opts.specialTokens, (ch) => {
      if ([...ch].length !== 1) throw new ArgumentError(`character ${JSON.stringify(ch)}: expected exactly one code point`);
    }));
  }

  /** Builds from a full vocabulary layout (used by tokenizerFromJSON). */
  constructor(spec: VocabSpec) {
    super(spec);
  }

  /** Adds to `into` the characters of `text` this vocabulary lacks. */
  collectUnknown(text: string, into: Set<string>): void {
    for (const ch of text) if (!this.ids.has(ch)) into.add(ch);
  }

  /**
   * A copy with `chars` appended after the existing tokens (whose ids stay as they are).
   *
   * @example
   * CharTokenizer.fromCorpus(['ab']).withTokens(['é']).encode('aé'); // [4, 6]
   */
  withTokens(chars: Iterable<string>): CharTokenizer {
    const list = [...chars];
    for (const ch of list) if ([...ch].length !== 1) throw new ArgumentError(`character ${JSON.stringify(ch)}: expected exactly one code point`);
    return new CharTokenizer(this.extendedSpec(list));
  }

  protected encodeText(text: string, out: number[]): void {
    for (const ch of text) out.push(this.ids.get(ch) ?? this.unkId);
  }

  protected decodeTokens(tokens: readonly string[]): string {
    return tokens.join('');
  }

  /** tokenizer.json: WordLevel over code points, a Split pre-tokenizer, and a Fuse decoder. */
  toJSON(): object {
    const vocab = this.hfVocab();
    return {
      ...this.hfHeader(),
      normalizer: null,
      pre_tokenizer: CHAR_SPLIT_PRE_TOKENIZER,
      post_processor: this.hfPostProcessor(),
      decoder: { type: 'Fuse' },
      model: { type: 'WordLevel', vocab, unk_token: this.tokens[this.unkId] },
    };
  }
}
