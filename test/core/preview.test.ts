// jsonPreview: JSON.stringify's text for small values, cut short for long or deeply nested ones.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonPreview } from '../../src/core/preview.js';

test('small values read as JSON.stringify writes them', () => {
  for (const v of [{ type: 'Metaspace' }, [1, 2], 'h i', 7, null, true, {}, [], { a: [1, { b: 'x' }] }]) assert.equal(jsonPreview(v), JSON.stringify(v));
  assert.equal(jsonPreview(undefined), 'missing');
  assert.equal(jsonPreview(NaN), 'null');
});

test('long and deep values are cut, without recursion past a few levels', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 200_000; i++) deep = [deep];
  assert.equal(jsonPreview(deep), '[[[[[[[…]]]]]]]');
  const long = jsonPreview(Array.from({ length: 1000 }, (_, i) => i));
  assert.ok(long.length <= 80 && long.startsWith('[0,1,2,') && long.endsWith('...'), long);
});
