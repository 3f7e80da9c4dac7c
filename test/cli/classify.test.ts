// `qkv classify` and `qkv fill-mask` as a user runs them: texts from arguments, a file (lines or JSONL) and stdin,
// answers equal to the in-process pipeline's, and clear errors for a checkpoint of another kind.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BertForMaskedLM, BertForSequenceClassification, GPT, ByteLevelBPE, WordPieceTokenizer } from '../../src/index.js';
import type { Module, Tokenizer } from '../../src/index.js';
import { pipeline, saveCheckpoint } from '../../src/node/index.js';
import type { LabelScore } from '../../src/node/index.js';
import { textsOf } from '../../src/cli/classify.js';
import { BIN, ROOT, qkv } from '../helpers/cli-process.js';
import type { Ran } from '../helpers/cli-process.js';

const TEXTS = ['win money now', 'see you at the office', 'the report is due friday'];

/** `qkv ...args` with `input` on stdin. */
function qkvWithInput(input: string, ...args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, QKV_THREADS: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

async function save(dir: string, kind: string, model: Module & { config: object }, tokenizer: Tokenizer, task: string): Promise<string> {
  await saveCheckpoint(dir, { modelKind: kind, modelConfig: model.config, model, tokenizer, task: { name: task, options: {} } });
  return dir;
}

test('textsOf: one text a line, blank lines skipped; JSON Lines (by name or by a first line that is an object) read the "text" field; a bad row names file:line', () => {
  assert.deepEqual(textsOf('one\n\n two \r\n', 'a.txt', false), ['one', 'two']);
  assert.deepEqual(textsOf('{"text": "a b", "id": 1}\n{"text": "c"}\n', 'stdin', false), ['a b', 'c']);
  assert.throws(() => textsOf('{"text": "a"}\n{"body": "b"}\n', 'in.jsonl', true), /^CliError: in\.jsonl:2: missing field "text"$|in\.jsonl:2: missing field "text"/);
});

test('qkv classify: label and probability per text from arguments, --file (lines and JSONL) and stdin, equal to the pipeline\'s answers', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'qkv-cli-classify-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tok = WordPieceTokenizer.train(TEXTS, { vocabSize: 50 });
  const model = new BertForSequenceClassification({ vocab: tok.vocabSize, dModel: 16, heads: 2, layers: 1, dFF: 32, maxPositions: 32, labels: ['ham', 'spam'], seed: 6 });
  const ck = await save(join(dir, 'ck'), 'bert-classifier', model, tok, 'classify');
  const classify = await pipeline('text-classification', ck);
  const want = ((await classify(TEXTS)) as LabelScore[]).map((a) => `${a.label}\t${a.score.toFixed(4)}`);

  const args = await qkv('classify', ck, TEXTS[0]);
  assert.equal(args.code, 0, args.stderr);
  assert.equal(args.stdout, `${want[0]}\n`);

  writeFileSync(join(dir, 'texts.txt'), TEXTS.join('\n') + '\n\n');
  const file = await qkv('classify', ck, '--file', join(dir, 'texts.txt'));
  assert.equal(file.code, 0, file.stderr);
  assert.deepEqual(file.stdout.trim().split('\n'), want);

  writeFileSync(join(dir, 'texts.jsonl'), TEXTS.map((text, i) => JSON.stringify({ id: i, text })).join('\n') + '\n');
  const jsonl = await qkv('classify', ck, '--file', join(dir, 'texts.jsonl'), '--top-k', '2');
  assert.equal(jsonl.code, 0, jsonl.stderr);
  const lines = jsonl.stdout.trim().split('\n');
  assert.equal(lines.length, 3);
  for (const [i, line] of lines.entries()) {
    const [l1, p1, l2, p2] = line.split('\t');
    assert.equal(`${l1}\t${p1}`, want[i]);
    assert.ok(Math.abs(Number(p1) + Number(p2) - 1) < 2e-4 && l1 !== l2);
  }

  const stdin = await qkvWithInput(TEXTS.join('\n') + '\n', 'classify', ck);
  assert.equal(stdin.code, 0, stdin.stderr);
  assert.deepEqual(stdin.stdout.trim().split('\n'), want);
});

test('qkv classify of a checkpoint that is not a classifier, and of a missing file, fail with one clear line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'qkv-cli-classify-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tok = ByteLevelBPE.train(TEXTS, { vocabSize: 270 });
  const lm = await save(join(dir, 'lm'), 'gpt', new GPT({ vocab: tok.vocabSize, dModel: 16, heads: 2, layers: 1, context: 16 }), tok, 'lm');
  const r = await qkv('classify', lm, 'hello');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `qkv: pipeline('text-classification'): ${lm} holds a 'gpt' model (task 'lm'), expected a sequence classifier ('bert-classifier' or 'gpt-classifier', task classify); pipeline('text-generation') takes this one\n`);
  const missing = await qkv('classify', lm, '--file', join(dir, 'nope.txt'));
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, `qkv: ${join(dir, 'nope.txt')}: no such file\n`);
});

test('qkv fill-mask: the top fillers of the [MASK], one per line with its probability and the filled text', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'qkv-cli-fill-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tok = WordPieceTokenizer.train(TEXTS, { vocabSize: 50 });
  const ck = await save(join(dir, 'mlm'), 'bert', new BertForMaskedLM({ vocab: tok.vocabSize, dModel: 16, heads: 2, layers: 1, dFF: 32, maxPositions: 32, seed: 2 }), tok, 'mlm');
  const fill = await pipeline('fill-mask', ck);
  const want = ((await fill('win [MASK] now', { topK: 3 })) as { score: number; tokenStr: string; sequence: string }[]).map((f) => `${f.score.toFixed(4)}\t${f.tokenStr}\t${f.sequence}`);
  const r = await qkv('fill-mask', ck, 'win [MASK] now', '--top-k', '3');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), want);
});
