// GPT-2's byte-to-unicode map and pre-tokenisation regex against known answers.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BYTE_TO_CHAR,
  CHAR_TO_BYTE,
  bytesToUnicode,
  fromByteChars,
  gpt2PreTokenize,
  toByteChars,
} from '../../src/tokenizers/index.js';
import { TRICKY, randomStrings } from './strings.js';

test('bytesToUnicode: known entries of GPT-2 map', () => {
  const m = bytesToUnicode();
  // From GPT-2's encoder.json: Ā is byte 0, Ġ (U+0120) is space, ġ (U+0121) is DEL, ÿ stands for itself.
  assert.equal(m[0], '\u0100');
  assert.equal(m[32], '\u0120');
  assert.equal(m[32], 'Ġ');
  assert.equal(m[10], 'Ċ');
  assert.equal(m[127], '\u0121');
  assert.equal(m[255], 'ÿ');
  assert.equal(m[33], '!');
  assert.equal(m[126], '~');
  assert.equal(m[160], '\u0142'); // NBSP: the 67th non-printable byte → 256 + 66
  assert.equal(m[173], '\u0143'); // soft hyphen: the last one, 256 + 67
  assert.equal(new Set(m).size, 256);
});

test('CHAR_TO_BYTE inverts BYTE_TO_CHAR', () => {
  for (let b = 0; b < 256; b++) assert.equal(CHAR_TO_BYTE.get(BYTE_TO_CHAR[b]!), b);
});

test('toByteChars writes UTF-8 bytes in the alphabet', () => {
  assert.equal(toByteChars('a b\n'), 'aĠbĊ');
  assert.equal(toByteChars('é'), 'Ã©'); // UTF-8 C3 A9
  assert.equal(toByteChars('🙂'), 'ðŁĻĤ'); // UTF-8 F0 9F 99 82
});

test('fromByteChars(toByteChars(s)) === s on tricky and random strings', () => {
  for (const s of [...TRICKY, ...randomStrings(1, 300)]) {
    assert.equal(fromByteChars([toByteChars(s)]), s, JSON.stringify(s));
  }
});

test('fromByteChars reads a token outside the alphabet as its own UTF-8', () => {
  assert.equal(fromByteChars(['Hello', '<|im_start|>', 'Ġworld']), 'Hello<|im_start|> world');
});

test('gpt2PreTokenize: the splits of the GPT-2 regex', () => {
  assert.deepEqual(gpt2PreTokenize("Hello world's  end"), ['Hello', ' world', "'s", ' ', ' end']);
  assert.deepEqual(gpt2PreTokenize("I'll pay 100 dollars!!"), ['I', "'ll", ' pay', ' 100', ' dollars', '!!']);
  assert.deepEqual(gpt2PreTokenize('a\n\nb   '), ['a', '\n', '\n', 'b', '   ']);
  assert.deepEqual(gpt2PreTokenize(''), []);
});

test('gpt2PreTokenize pieces always join back to the input', () => {
  for (const s of [...TRICKY, ...randomStrings(2, 300)]) assert.equal(gpt2PreTokenize(s).join(''), s);
});
