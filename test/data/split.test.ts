// FNV-1a-32 against published values and the hash split rule.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fnv1a32, splitByKey, splitOf } from '../../src/data/split.js';
import { ArgumentError } from '../../src/core/errors.js';

test('fnv1a32 matches the published FNV-1a test vectors', () => {
  assert.equal(fnv1a32(''), 0x811c9dc5);
  assert.equal(fnv1a32('a'), 0xe40c292c);
  assert.equal(fnv1a32('foobar'), 0xbf9cf968);
});

test('fnv1a32 hashes UTF-8 bytes (values from a Python reimplementation)', () => {
  // python: h=2166136261; for b in s.encode('utf-8'): h=((h^b)*16777619)&0xffffffff
  assert.equal(fnv1a32('für'), 0xcf6c8eac);
  assert.equal(fnv1a32('Straße'), 0x1dc32e38);
});

test('splitOf buckets by hash mod 100: < 90 train, < 95 valid, else test', () => {
  // Buckets from the same Python reimplementation: HELLO 39, DOG 89, BOOK 92, ABACHA 93, HOUSE 95, WORLD 83.
  assert.equal(splitOf('HELLO'), 'train');
  assert.equal(splitOf('DOG'), 'train');
  assert.equal(splitOf('BOOK'), 'valid');
  assert.equal(splitOf('ABACHA'), 'valid');
  assert.equal(splitOf('HOUSE'), 'test');
  assert.equal(splitOf('WORLD', { train: 80, valid: 85 }), 'valid');
  assert.equal(splitOf('WORLD', { train: 70, valid: 80 }), 'test');
  assert.throws(() => splitOf('x', { train: 96, valid: 95 }), ArgumentError);
});

test('splitByKey partitions items and keeps their order', () => {
  const items = Array.from({ length: 2000 }, (_, i) => `item-${i}`);
  const s = splitByKey(items, (x) => x);
  const all = [...s.train, ...s.valid, ...s.test];
  assert.equal(all.length, items.length);
  assert.equal(new Set(all).size, items.length);
  for (const part of [s.train, s.valid, s.test]) {
    const pos = part.map((x) => Number(x.slice(5)));
    assert.deepEqual(pos, [...pos].sort((a, b) => a - b));
  }
  assert.ok(s.train.length > 1700 && s.valid.length > 50 && s.test.length > 50, `sizes ${s.train.length}/${s.valid.length}/${s.test.length}`);
});
