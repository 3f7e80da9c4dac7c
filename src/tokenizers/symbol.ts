// SymbolTokenizer: whitespace-separated symbols (ARPAbet phonemes, words), joined by single spaces.

import { ArgumentError } from '../core/errors.js';
import { BaseTokenizer, vocabSpecFrom, type ExtensibleTokenizer, type SpecialTokens, type VocabSpec } from './tokenizer.js';

/** Options of {@link SymbolTokenizer.fromCorpus}. */
export interface SymbolTokenizerOptions {
  /** Default `<pad>`, `<s>`, `</s>`, `<unk>` at ids 0..3. */
  specialTokens?: Partial<SpecialTokens>;
}

const WHITESPACE = /\s+/u;

/**
 * A symbol tokenizer: the text is split on whitespace and each symbol is one token (symbols in
 * sorted order after the special tokens); unknown symbols become `<unk>`. Decoding joins the
 * symbols with single spaces, so `decode(encode(s))` is `s` with its whitespace runs collapsed.
 *
 * @example
 * ```ts
 * const tok = SymbolTokenizer.fromCorpus(['HH AH0 L OW1']);
 * tok.encode('L OW1');            // [6, 7]
 * tok.decode(tok.encode('HH  AH0')); // 'HH AH0'
 * ```
 */
export class SymbolTokenizer extends BaseTokenizer implements ExtensibleTokenizer {
  /** Builds the vocabulary from every distinct whitespace-separated symbol of `texts`. */
  static fromCorpus(texts: Iterable<string>, opts: SymbolTokenizerOptions = {}): SymbolTokenizer {
    const seen = new Set<string>();
    for (const text of texts) {
      for (const s of splitSymbols(text)) seen.add(s);
    }
    return SymbolTokenizer.fromSymbols([...seen].sort(), opts);
  }

  /** Builds the tokenizer from a list of symbols, kept in the order given. */
  static fromSymbols(symbols: Iterable<string>, opts: SymbolTokenizerOptions = {}): SymbolTokenizer {
    return new SymbolTokenizer(vocabSpecFrom(symbols, opts.specialTokens, (s) => {
      if (s.length === 0 || WHITESPACE.test(s)) throw new ArgumentError(`symbol ${JSON.stringify(s)}: expected a non-empty string without whitespace`);
    }));
  }

  /** Builds from a full vocabulary layout (used by tokenizerFromJSON). */
  constructor(spec: VocabSpec) {
    super(spec);
  }

  /** Adds to `into` the whitespace-separated symbols of `text` this vocabulary lacks. */
  collectUnknown(text: string, into: Set<string>): void {
    for (const s of splitSymbols(text)) if (!this.ids.has(s)) into.add(s);
  }

  /**
   * A copy with `symbols` appended after the existing tokens (whose ids stay as they are).
   *
   * @example
   * SymbolTokenizer.fromCorpus(['K AE1 T']).withTokens(['ZH']).encode('ZH'); // [7]
   */
  withTokens(symbols: Iterable<string>): SymbolTokenizer {
    const list = [...symbols];
    for (const s of list) if (s.length === 0 || WHITESPACE.test(s)) throw new ArgumentError(`symbol ${JSON.stringify(s)}: expected a non-empty string without whitespace`);
    return new SymbolTokenizer(this.extendedSpec(list));
  }

  protected encodeText(text: string, out: number[]): void {
    for (const s of splitSymbols(text)) out.push(this.ids.get(s) ?? this.unkId);
  }

  protected decodeTokens(tokens: readonly string[]): string {
    return tokens.join(' ');
  }

  /** tokenizer.json: WordLevel with a WhitespaceSplit pre-tokenizer; no decoder, so HF joins with spaces. */
  toJSON(): object {
    const vocab = this.hfVocab();
    return {
      ...this.hfHeader(),
      normalizer: null,
      pre_tokenizer: { type: 'WhitespaceSplit' },
      post_processor: this.hfPostProcessor(),
      decoder: null,
      model: { type: 'WordLevel', vocab, unk_token: this.tokens[this.unkId] },
    };
  }
}

function splitSymbols(text: string): string[] {
  return text.split(WHITESPACE).filter((s) => s.length > 0);
}
