// Growing a vocabulary for fine-tuning (old ids kept, new tokens appended), and tokenizers built from
// texts one at a time (the same as from the whole corpus).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteLevelBPE, CharTokenizer, SymbolTokenizer, isExtensible, tokenizerBuilder, tokenizerFromJSON, tokenizerKindOf } from '../../src/tokenizers/index.js';

test('CharTokenizer.withTokens: every old id keeps its token, new characters follow in the order given, JSON round trip', () => {
  const old = CharTokenizer.fromCorpus(['cab']);
  assert.deepEqual(old.encode('abc'), [4, 5, 6]);
  const grown = old.withTokens(['é', 'a', '🙂']); // 'a' is already there: not added again
  assert.equal(grown.vocabSize, old.vocabSize + 2);
  for (let id = 0; id < old.vocabSize; id++) assert.equal(grown.idToToken(id), old.idToToken(id));
  assert.deepEqual(grown.encode('aé🙂z'), [4, 7, 8, 3]);
  assert.equal(grown.padId, 0);
  assert.equal(grown.unkId, 3);
  assert.deepEqual(grown.encode('ab', { addSpecial: true }), [1, 4, 5, 2]);
  const back = tokenizerFromJSON(JSON.stringify(grown.toJSON()));
  assert.deepEqual(back.encode('aé🙂z'), [4, 7, 8, 3]);
  assert.throws(() => old.withTokens(['ab']), /character "ab": expected exactly one code point/);
});

test('SymbolTokenizer.withTokens and collectUnknown: unknown symbols are found, appended, and encode to their new ids', () => {
  const old = SymbolTokenizer.fromCorpus(['K AE1 T', 'D AO1 G']);
  const unknown = new Set<string>();
  old.collectUnknown('K AE1 ZH', unknown);
  old.collectUnknown('  ZH  NG ', unknown);
  assert.deepEqual([...unknown], ['ZH', 'NG']);
  const grown = old.withTokens([...unknown].sort());
  assert.equal(grown.vocabSize, old.vocabSize + 2);
  assert.deepEqual(grown.encode('K NG ZH'), [old.tokenToId('K')!, old.vocabSize, old.vocabSize + 1]);
  assert.throws(() => old.withTokens(['A B']), /symbol "A B": expected a non-empty string without whitespace/);
});

test('CharTokenizer.collectUnknown finds characters outside the vocabulary; isExtensible is true for char and symbol, false for BPE', () => {
  const tok = CharTokenizer.fromCorpus(['hello']);
  const unknown = new Set<string>();
  tok.collectUnknown('help ünïcode', unknown);
  assert.deepEqual([...unknown].sort(), [' ', 'c', 'd', 'n', 'p', 'ï', 'ü'].sort());
  assert.equal(isExtensible(tok), true);
  assert.equal(isExtensible(SymbolTokenizer.fromCorpus(['A'])), true);
  assert.equal(isExtensible(ByteLevelBPE.train(['a b'], { vocabSize: 262 })), false);
});

test('tokenizerBuilder gives the tokenizer fromCorpus / train gives for the same texts', () => {
  const texts = ['hello world', 'HH AH0 L OW1', 'lowest lower low, 🙂', 'hello again'];
  const build = (kind: 'char' | 'symbol' | 'bpe') => {
    const b = tokenizerBuilder(kind, { vocabSize: 300 });
    for (const t of texts) b.add(t);
    return JSON.stringify(b.finish().toJSON());
  };
  assert.equal(build('char'), JSON.stringify(CharTokenizer.fromCorpus(texts).toJSON()));
  assert.equal(build('symbol'), JSON.stringify(SymbolTokenizer.fromCorpus(texts).toJSON()));
  assert.equal(build('bpe'), JSON.stringify(ByteLevelBPE.train(texts, { vocabSize: 300 }).toJSON()));
  assert.throws(() => tokenizerBuilder('bpe'), /needs vocabSize/);
  assert.throws(() => tokenizerBuilder('word' as never), /kind is "word", expected one of char, symbol, bpe/);
});

test('tokenizerKindOf names our three tokenizers', () => {
  assert.equal(tokenizerKindOf(CharTokenizer.fromCorpus(['a'])), 'char');
  assert.equal(tokenizerKindOf(SymbolTokenizer.fromCorpus(['A'])), 'symbol');
  assert.equal(tokenizerKindOf(ByteLevelBPE.train(['a'], { vocabSize: 260 })), 'bpe');
});
