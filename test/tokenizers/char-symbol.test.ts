// CharTokenizer and SymbolTokenizer: vocabularies, unknowns, specials and round trips.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArgumentError } from '../../src/core/errors.js';
import { CharTokenizer, SymbolTokenizer } from '../../src/tokenizers/index.js';
import { TRICKY, randomStrings } from './strings.js';

test('CharTokenizer: specials at 0..3, then characters in code point order', () => {
  const tok = CharTokenizer.fromCorpus(['cab', 'b a']);
  assert.equal(tok.vocabSize, 4 + 4);
  assert.deepEqual([tok.padId, tok.bosId, tok.eosId, tok.unkId], [0, 1, 2, 3]);
  assert.deepEqual([4, 5, 6, 7].map((i) => tok.idToToken(i)), [' ', 'a', 'b', 'c']);
  assert.deepEqual(tok.encode('cab'), [7, 5, 6]);
  assert.deepEqual(tok.encode('zab'), [3, 5, 6]);
  assert.equal(tok.tokenToId('z'), undefined);
  assert.deepEqual(tok.encode('ab', { addSpecial: true }), [1, 5, 6, 2]);
  assert.deepEqual(tok.encode('<s>ab</s>'), [1, 5, 6, 2]);
  assert.equal(tok.decode([1, 5, 6, 2]), '<s>ab</s>');
  assert.equal(tok.decode([1, 5, 6, 2, 0, 0], { skipSpecial: true }), 'ab');
  assert.equal(tok.decode([5, 3, 6]), 'a<unk>b');
});

test('CharTokenizer: an emoji is one token; a flag is two code points', () => {
  const tok = CharTokenizer.fromCorpus(['🙂🇩🇪']);
  assert.equal(tok.vocabSize, 4 + 3);
  assert.equal(tok.encode('🙂').length, 1);
  assert.equal(tok.encode('🇩🇪').length, 2);
});

test('CharTokenizer round-trips every string made of its corpus characters', () => {
  const corpus = [...TRICKY, ...randomStrings(4, 300)];
  const tok = CharTokenizer.fromCorpus(corpus);
  for (const s of corpus) assert.equal(tok.decode(tok.encode(s)), s, JSON.stringify(s));
  assert.deepEqual(tok.encode(''), []);
});

test('CharTokenizer.fromChars rejects a multi-character entry', () => {
  assert.throws(() => CharTokenizer.fromChars(['ab']), (e: Error) => e instanceof ArgumentError && /"ab"/.test(e.message));
});

test('SymbolTokenizer: ARPAbet phonemes', () => {
  const tok = SymbolTokenizer.fromCorpus(['HH AH0 L OW1', 'W ER1 L D']);
  // sorted: AH0 D ER1 HH L OW1 W
  assert.deepEqual([4, 5, 6, 7, 8, 9, 10].map((i) => tok.idToToken(i)), ['AH0', 'D', 'ER1', 'HH', 'L', 'OW1', 'W']);
  assert.deepEqual(tok.encode('HH AH0 L OW1'), [7, 4, 8, 9]);
  assert.deepEqual(tok.encode('  HH\tAH0\n'), [7, 4]);
  assert.deepEqual(tok.encode('HH XX'), [7, 3]);
  assert.equal(tok.decode(tok.encode('W  ER1 L   D')), 'W ER1 L D');
  assert.deepEqual(tok.encode('L OW1', { addSpecial: true }), [1, 8, 9, 2]);
  assert.equal(tok.decode([1, 8, 9, 2]), '<s> L OW1 </s>');
  assert.equal(tok.decode([1, 8, 9, 2], { skipSpecial: true }), 'L OW1');
  assert.deepEqual(tok.encode(''), []);
  assert.deepEqual(tok.encode('   '), []);
});

test('SymbolTokenizer round-trips single-spaced symbol strings', () => {
  const lines = ['K AE1 T', 'D AO1 G', 'B ER1 D IH0 NG', 'Ä ö ü 🙂 中文'];
  const tok = SymbolTokenizer.fromCorpus(lines);
  for (const s of lines) assert.equal(tok.decode(tok.encode(s)), s);
});

test('SymbolTokenizer.fromSymbols rejects whitespace inside a symbol', () => {
  assert.throws(() => SymbolTokenizer.fromSymbols(['A B']), ArgumentError);
  assert.throws(() => SymbolTokenizer.fromSymbols(['']), ArgumentError);
});

test('custom special tokens', () => {
  const tok = CharTokenizer.fromCorpus(['ab'], { specialTokens: { pad: '_', extra: ['<mask>'] } });
  assert.equal(tok.idToToken(0), '_');
  assert.equal(tok.tokenToId('<mask>'), 4);
  assert.deepEqual(tok.encode('a<mask>b'), [5, 4, 6]);
});
