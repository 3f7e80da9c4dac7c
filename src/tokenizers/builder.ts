// Building a tokenizer from texts that arrive one at a time (a file read as a stream): char, symbol or byte-level BPE.

import { ArgumentError } from '../core/errors.js';
import { ByteLevelBPE } from './bpe.js';
import { CharTokenizer } from './char.js';
import { SymbolTokenizer } from './symbol.js';
import type { Tokenizer } from './tokenizer.js';

/** The tokenizers a run on your own data can build. */
export const TOKENIZER_KINDS = ['char', 'symbol', 'bpe'] as const;
export type TokenizerKind = (typeof TOKENIZER_KINDS)[number];

/** Sees texts one at a time, then builds the tokenizer. */
export interface TokenizerBuilder {
  add(text: string): void;
  finish(): Tokenizer;
}

/**
 * A builder of a tokenizer of `kind`: 'char' (every character seen, in code point order),
 * 'symbol' (every whitespace-separated symbol seen, sorted) or 'bpe' (byte-level BPE of
 * `vocabSize` tokens). The same texts give the same tokenizer as the kind's fromCorpus or train.
 *
 * @example
 * const b = tokenizerBuilder('char');
 * b.add('hello'); b.add('world');
 * b.finish().vocabSize; // 4 specials + 7 letters = 11
 */
export function tokenizerBuilder(kind: TokenizerKind, opts: { vocabSize?: number } = {}): TokenizerBuilder {
  if (kind === 'bpe') {
    if (opts.vocabSize === undefined) throw new ArgumentError('tokenizerBuilder: a bpe tokenizer needs vocabSize, got none');
    return ByteLevelBPE.trainer({ vocabSize: opts.vocabSize });
  }
  if (kind !== 'char' && kind !== 'symbol') throw new ArgumentError(`tokenizerBuilder: kind is ${JSON.stringify(kind)}, expected one of ${TOKENIZER_KINDS.join(', ')}`);
  const seen = new Set<string>();
  const splitter = /\s+/u;
  return {
    add: kind === 'char'
      ? (text) => { for (const ch of text) seen.add(ch); }
      : (text) => { for (const s of text.split(splitter)) if (s) seen.add(s); },
    finish: () => (kind === 'char' ? CharTokenizer.fromCorpus(seen) : SymbolTokenizer.fromSymbols([...seen].sort())),
  };
}

/**
 * The kind of one of qkv's tokenizers ('char', 'symbol', 'bpe'), or null for another.
 *
 * @example
 * tokenizerKindOf(CharTokenizer.fromCorpus(['ab'])); // 'char'
 */
export function tokenizerKindOf(t: Tokenizer): TokenizerKind | null {
  if (t instanceof CharTokenizer) return 'char';
  if (t instanceof SymbolTokenizer) return 'symbol';
  if (t instanceof ByteLevelBPE) return 'bpe';
  return null;
}
