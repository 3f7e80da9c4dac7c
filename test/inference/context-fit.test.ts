// Generation that does not fit the model's context says so (issue 14, finding 6): maxNewTokens capped, prompt cut, both named.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { CharTokenizer, GPT, fitContext, generateText, saveCheckpoint } from '../../src/node/index.js';
import type { Tokenizer } from '../../src/node/index.js';
import { pipeline } from '../../src/node/pretrained.js';

const scratch = mkdtempSync(join(tmpdir(), 'qkv-fit-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
const CONTEXT = 8;
let tok: Tokenizer;
let model: GPT;
let dir: string;

before(async () => {
  tok = CharTokenizer.fromCorpus(['abcdefghij']);
  model = new GPT({ vocab: tok.vocabSize, dModel: 8, heads: 2, layers: 1, context: CONTEXT, dropout: 0, seed: 3 });
  dir = join(scratch, 'gpt');
  await saveCheckpoint(dir, { modelKind: 'gpt', modelConfig: model.config, model, tokenizer: tok, task: { name: 'letters', options: {} } });
});

test('fitContext: within the context nothing is cut and there is no warning', () => {
  const f = fitContext([1, 2, 3], 5, 8); // 3 + 5 = 8 positions
  assert.deepEqual(f, { maxNewTokens: 5, promptIds: [1, 2, 3], warnings: [] });
});

test('fitContext: more new tokens than the context: capped at context − 1, the prompt cut to its last token, both said', () => {
  const f = fitContext([1, 2, 3], 10_000_000, 8);
  assert.equal(f.maxNewTokens, 7);
  assert.deepEqual(f.promptIds, [3]);
  assert.deepEqual(f.warnings, [
    "maxNewTokens 10000000 is more than the model's context of 8 tokens allows: generating at most 7 new tokens (the context less one)",
    "the prompt's 3 tokens and 7 new tokens do not fit the model's context of 8 tokens: the first 2 prompt tokens were cut, the model reads the last 1",
  ]);
});

test('fitContext: a long prompt with few new tokens: only the prompt cut is said', () => {
  const f = fitContext([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 2, 8);
  assert.deepEqual(f.promptIds, [5, 6, 7, 8, 9, 10]);
  assert.deepEqual(f.warnings, ["the prompt's 10 tokens and 2 new tokens do not fit the model's context of 8 tokens: the first 4 prompt tokens were cut, the model reads the last 6"]);
});

test('generateText and the pipeline report the cut: in the answer, to onWarning, with outputAttentions', async () => {
  const seen: string[] = [];
  const a = generateText({ model, tokenizer: tok, targetTokenizer: tok }, 'abcdefghij', { maxNewTokens: 3, onWarning: (m) => seen.push(m) });
  assert.equal(a.promptLength, 5); // 8 − 3 positions for the prompt of 10 characters
  assert.deepEqual(a.warnings, ["the prompt's 10 tokens and 3 new tokens do not fit the model's context of 8 tokens: the first 5 prompt tokens were cut, the model reads the last 5"]);
  assert.deepEqual(seen, a.warnings);
  assert.deepEqual(generateText({ model, tokenizer: tok, targetTokenizer: tok }, 'ab', { maxNewTokens: 3 }).warnings, []);

  const generate = await pipeline('text-generation', dir);
  const fromPipe: string[] = [];
  await generate('ab', { maxNewTokens: 100, onWarning: (m) => fromPipe.push(m) });
  assert.equal(fromPipe[0], "maxNewTokens 100 is more than the model's context of 8 tokens allows: generating at most 7 new tokens (the context less one)");
  const streamed: string[] = [];
  for await (const _ of generate.stream('ab', { maxNewTokens: 100, onWarning: (m) => streamed.push(m) })) { /* drain */ }
  assert.deepEqual(streamed, fromPipe);
  const out = await generate('ab', { maxNewTokens: 100, outputAttentions: true });
  assert.deepEqual(out.warnings, fromPipe);
});
