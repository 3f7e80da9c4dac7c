// Round trips over every packaged dataset: CMUdict, Ding EN→DE, State of the Union.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { DatasetMissingError, loadCmudict, loadDing, loadSotu } from '../../src/data/index.js';
import type { Splits } from '../../src/data/index.js';
import { ByteLevelBPE, CharTokenizer, SymbolTokenizer, type Tokenizer } from '../../src/tokenizers/index.js';

/** Loads a dataset, or skips the test (saying why) when it is not installed. */
async function loadOrSkip<T>(t: TestContext, load: () => Promise<Splits<T>>): Promise<T[] | null> {
  try {
    const s = await load();
    return [...s.train, ...s.valid, ...s.test];
  } catch (e) {
    if (e instanceof DatasetMissingError) {
      t.skip(e.message);
      return null;
    }
    throw e;
  }
}

function assertRoundTrip(name: string, tok: Tokenizer, texts: Iterable<string>): number {
  let n = 0;
  for (const s of texts) {
    const back = tok.decode(tok.encode(s));
    if (back !== s) assert.fail(`${name}: ${JSON.stringify(s)} came back as ${JSON.stringify(back)}`);
    n++;
  }
  return n;
}

test('CMUdict: every pronunciation through SymbolTokenizer, every word through CharTokenizer and BPE', async (t) => {
  const entries = await loadOrSkip(t, loadCmudict);
  if (entries === null) return;
  const prons = entries.flatMap((e) => e.pronunciations);
  const words = entries.map((e) => e.word);
  const sym = SymbolTokenizer.fromCorpus(prons);
  // ARPAbet: 39 phonemes, vowels with stress 0/1/2 → 15×3 + 24 = 69 symbols.
  assert.equal(sym.vocabSize, 4 + 69);
  assert.equal(assertRoundTrip('cmudict symbols', sym, prons), prons.length);
  assertRoundTrip('cmudict chars', CharTokenizer.fromCorpus(words), words);
  const bpe = ByteLevelBPE.train(words.filter((_, i) => i % 2 === 0), { vocabSize: 2000 });
  assertRoundTrip('cmudict bpe', bpe, words);
});

test('Ding EN→DE: every pair through CharTokenizer and BPE', async (t) => {
  const pairs = await loadOrSkip(t, () => loadDing());
  if (pairs === null) return;
  const texts = pairs.flatMap((p) => [p.src, p.tgt]);
  assertRoundTrip('ding chars', CharTokenizer.fromCorpus(texts), texts);
  const bpe = ByteLevelBPE.train(texts.filter((_, i) => i % 4 === 0), { vocabSize: 4000 });
  assert.equal(bpe.vocabSize, 4000);
  assertRoundTrip('ding bpe', bpe, texts);
});

test('State of the Union: every speech through BPE trained on the train split, and CharTokenizer', async (t) => {
  const speeches = await loadOrSkip(t, loadSotu);
  if (speeches === null) return;
  const texts = speeches.map((s) => s.text);
  const train = (await loadSotu()).train.map((s) => s.text);
  const bpe = ByteLevelBPE.train(train, { vocabSize: 8000 });
  assert.equal(bpe.vocabSize, 8000);
  assertRoundTrip('sotu bpe', bpe, texts);
  // Merges compress: well under one token per 3 bytes of English.
  const sample = texts[texts.length - 1]!;
  assert.ok(bpe.encode(sample).length * 3 < new TextEncoder().encode(sample).length);
  assertRoundTrip('sotu chars', CharTokenizer.fromCorpus(texts), texts);
});
