// Caps on beam size and token counts (LIMITS): the pipeline and the CLI refuse values past them before decoding starts.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { CharTokenizer, GPT, LIMITS, PipelineError, SymbolTokenizer, Transformer, pipeline, saveCheckpoint } from '../../src/node/index.js';

const root = mkdtempSync(join(tmpdir(), 'qkv-limits-'));
after(() => rmSync(root, { recursive: true, force: true }));
const BIN = join(fileURLToPath(new URL('../..', import.meta.url)), 'bin', 'qkv.js');

const letters = CharTokenizer.fromCorpus(['HELOWRD']);
const phonemes = SymbolTokenizer.fromCorpus(['HH AH0 L OW1']);

async function g2p(): Promise<string> {
  const dir = join(root, 'g2p');
  const model = new Transformer({ srcVocab: letters.vocabSize, tgtVocab: phonemes.vocabSize, dModel: 8, heads: 2, dFF: 16, encoderLayers: 1, decoderLayers: 1 });
  await saveCheckpoint(dir, { modelKind: 'transformer', modelConfig: model.config, model, tokenizer: letters, targetTokenizer: phonemes, task: { name: 'g2p', options: {} } });
  return dir;
}

async function lm(): Promise<string> {
  const dir = join(root, 'lm');
  const model = new GPT({ vocab: letters.vocabSize, dModel: 8, heads: 2, layers: 1, context: 16 });
  await saveCheckpoint(dir, { modelKind: 'gpt', modelConfig: model.config, model, tokenizer: letters, task: { name: 'lm', options: {} } });
  return dir;
}

test('the caps are the documented values', () => {
  assert.equal(LIMITS.maxBeams, 256);
  assert.equal(LIMITS.maxNewTokens, 65_536);
  assert.equal(LIMITS.maxBatch, 4_096);
  assert.equal(LIMITS.maxBatchTokens, 1_048_576);
});

test('pipeline: an array of 4,097 texts is a PipelineError naming the count and the cap; 4,096 are answered in order', async () => {
  const p = await pipeline('g2p', await g2p());
  await assert.rejects(p(Array(4_097).fill('HELLO')), (e: Error) => e instanceof PipelineError && /input holds 4097 texts, expected at most 4096 a call \(the cap LIMITS\.maxBatch/.test(e.message));
  const words = Array.from({ length: 4_096 }, (_, i) => (i % 2 ? 'HELLO' : 'WORLD'));
  const out = await p(words, { numBeams: 1, maxNewTokens: 2 });
  assert.equal(out.length, 4_096);
  assert.equal(out[2], out[0]);
  assert.equal(out[3], out[1]);
});

test('pipeline: numBeams 100000 and maxNewTokens 10000000 are PipelineErrors naming the value and the cap', async () => {
  const p = await pipeline('g2p', await g2p());
  await assert.rejects(p('HELLO', { numBeams: 100_000 }), (e: Error) => e instanceof PipelineError && /numBeams is 100000, expected an integer from 1 to 256 \(the cap LIMITS\.maxBeams/.test(e.message));
  await assert.rejects(p('HELLO', { maxNewTokens: 10_000_000 }), /maxNewTokens is 10000000, expected an integer from 1 to 65536/);
  assert.equal(typeof (await p('HELLO', { numBeams: 256, maxNewTokens: 3 })), 'string'); // at the cap is fine
  await assert.rejects(pipeline('g2p', await g2p(), { numBeams: 257 }), /numBeams is 257/);
  const g = await pipeline('text-generation', await lm());
  await assert.rejects(g('HE', { maxNewTokens: 1e7 }), /maxNewTokens is 10000000, expected an integer from 1 to 65536/);
});

function qkv(...args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, QKV_THREADS: '1' }, timeout: 60_000 }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stderr });
    });
  });
}

test('CLI: --beam 100000 and --tokens 10000000 are usage errors (exit 2) naming the cap', async () => {
  const dir = await g2p();
  const lmDir = await lm();
  const [beam, tokens] = await Promise.all([qkv('g2p', dir, 'HELLO', '--beam', '100000'), qkv('generate', lmDir, '--prompt', 'HE', '--tokens', '10000000')]);
  assert.equal(beam.code, 2, beam.stderr);
  assert.match(beam.stderr, /--beam.*'100000' is invalid\. expected an integer from 1 to 256 \(the cap LIMITS\.maxBeams/);
  assert.equal(tokens.code, 2, tokens.stderr);
  assert.match(tokens.stderr, /expected an integer from 1 to 65536 \(the cap LIMITS\.maxNewTokens/);
});
