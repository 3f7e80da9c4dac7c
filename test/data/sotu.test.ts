// State of the Union: the split by speech, synthetic and packaged.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { SotuSpeech, loadSotu, sotuKey, splitSotu } from '../../src/data/sotu.js';
import type { Splits } from '../../src/data/split.js';
import { skipSotu } from './available.js';

test('splitSotu puts each speech in one split by FNV-1a of "year name", in year order', () => {
  // Buckets from a Python FNV-1a: "1790 George Washington" 61 (train), "2020 Donald J Trump" 93 (valid).
  const speeches: SotuSpeech[] = [
    { year: 2020, name: 'Donald J Trump', party: 'r', text: 'b' },
    { year: 1790, name: 'George Washington', party: 'none', text: 'a' },
  ];
  const s = splitSotu(speeches);
  assert.deepEqual(s.train.map(sotuKey), ['1790 George Washington']);
  assert.deepEqual(s.valid.map(sotuKey), ['2020 Donald J Trump']);
  assert.deepEqual(s.test, []);
});

describe('packaged State of the Union', { skip: skipSotu }, () => {
  let s: Splits<SotuSpeech>;
  before(async () => {
    s = await loadSotu();
  });

  test('every speech is in exactly one split, and each split has some', () => {
    const keys = [...s.train, ...s.valid, ...s.test].map(sotuKey);
    assert.equal(new Set(keys).size, keys.length, 'a speech appears twice');
    assert.ok(keys.includes('1953 Harry S Truman') && keys.includes('1953 Dwight D Eisenhower'), 'both 1953 speeches kept');
    assert.ok(s.train.length > 150 && s.valid.length >= 5 && s.test.length >= 5, `${s.train.length}/${s.valid.length}/${s.test.length}`);
    for (const sp of [...s.train, ...s.valid, ...s.test]) assert.ok(sp.text.length > 1000, sotuKey(sp));
  });

  test('known speeches land where a Python FNV-1a puts them', () => {
    assert.ok(s.train.some((sp) => sotuKey(sp) === '1790 George Washington'));
    assert.ok(s.valid.some((sp) => sotuKey(sp) === '2020 Donald J Trump'));
  });
});
