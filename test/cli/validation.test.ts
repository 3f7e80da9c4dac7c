// The CLI checks config and checkpoint JSON before working (issue 14, findings 6 and 7): one line naming the file, field, value and range.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CharTokenizer, GPT, lmConfig, saveCheckpoint } from '../../src/node/index.js';
import { qkv } from '../helpers/cli-process.js';
import type { Ran } from '../helpers/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'qkv-validate-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));


/** Lines on stderr, without the native backend's note when the addon is not built. */
const errLines = (r: Ran) => r.stderr.split('\n').filter((l) => l.length > 0 && !l.includes('native backend unavailable'));

function assertOneLineError(r: Ran, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit code of: ${r.stderr}`);
  const lines = errLines(r);
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0], /^qkv: /);
  assert.match(lines[0], pattern);
  assert.equal(r.stdout, '');
}

const CONTEXT = 8;
const ck = join(dir, 'gpt');

before(async () => {
  const tok = CharTokenizer.fromCorpus(['the cat sat on the mat']);
  const model = new GPT({ vocab: tok.vocabSize, dModel: 8, heads: 2, layers: 1, context: CONTEXT, dropout: 0, seed: 1 });
  await saveCheckpoint(ck, { modelKind: 'gpt', modelConfig: model.config, model, tokenizer: tok, task: { name: 'lm', options: { ...lmConfig('tiny'), tokenizer: 'char' } } });
  writeFileSync(join(ck, 'metrics.json'), JSON.stringify({ step: 3, metrics: { validLoss: 2.5 } }));
});

/** A copy of the checkpoint with one file replaced. */
function variant(name: string, file: string, text: string): string {
  const d = join(dir, name);
  cpSync(ck, d, { recursive: true });
  writeFileSync(join(d, file), text);
  return d;
}

test('qkv train: an out-of-range field stops before any data is read, naming the field, value and range', async () => {
  const cases: [object, RegExp][] = [
    [{ task: 'g2p', preset: 'tiny', maxSteps: -5 }, /steps\.json: config field 'maxSteps' is -5, expected an integer ≥ 1$/],
    [{ task: 'lm', preset: 'tiny', labelSmoothing: 1.5 }, /steps\.json: config field 'labelSmoothing' is 1\.5, expected a number in \[0, 1\)$/],
    [{ task: 'translate', preset: 'tiny', model: { heads: 5 } }, /steps\.json: config field 'model\.heads' is 5, expected a divisor of model\.dModel \(32\)/],
  ];
  for (const [i, [config, pattern]] of cases.entries()) {
    const file = join(dir, `${i}-steps.json`);
    writeFileSync(file, JSON.stringify(config));
    const r = await qkv('train', file, '--out', join(dir, `run-${i}`));
    assertOneLineError(r, 1, pattern); // one line: no data summary, no "training up to" before it
  }
});

test('qkv info: a metrics.json of the wrong shape is one line naming the file and the field', async () => {
  assert.equal((await qkv('info', ck)).code, 0);
  assertOneLineError(await qkv('info', variant('m1', 'metrics.json', '{"step":3}')), 1, /m1\/metrics\.json: field 'metrics' is missing, expected an object of metric names and numbers$/);
  assertOneLineError(await qkv('info', variant('m2', 'metrics.json', '[]')), 1, /m2\/metrics\.json: the top level is \[\], expected an object/);
  assertOneLineError(await qkv('info', variant('m3', 'metrics.json', '{"step":-1,"metrics":{}}')), 1, /m3\/metrics\.json: field 'step' is -1, expected an integer ≥ 0$/);
});

test('qkv eval and info: task options of a known task are checked: {} names the missing field, a bad range names it', async () => {
  const config = JSON.parse(readFileSync(join(ck, 'config.json'), 'utf8'));
  const empty = variant('o1', 'config.json', JSON.stringify({ ...config, task: { name: 'lm', options: {} } }));
  assertOneLineError(await qkv('eval', empty), 1, /o1\/config\.json: task option 'task' is missing, expected 'lm'$/);
  const bad = variant('o2', 'config.json', JSON.stringify({ ...config, task: { name: 'lm', options: { ...config.task.options, maxTokens: 0 } } }));
  assertOneLineError(await qkv('info', bad), 1, /o2\/config\.json: task option 'maxTokens' is 0, expected an integer ≥ 1$/);
});

test('qkv generate past the context: the text still comes, and stderr says what was cut with both numbers', async () => {
  const r = await qkv('generate', ck, '--prompt', 'the cat', '--tokens', '60000', '--temperature', '0');
  assert.equal(r.code, 0, r.stderr);
  const lines = errLines(r);
  assert.deepEqual(lines, [
    `qkv: warning: maxNewTokens 60000 is more than the model's context of ${CONTEXT} tokens allows: generating at most ${CONTEXT - 1} new tokens (the context less one)`,
    `qkv: warning: the prompt's 7 tokens and ${CONTEXT - 1} new tokens do not fit the model's context of ${CONTEXT} tokens: the first 6 prompt tokens were cut, the model reads the last 1`,
  ]);
  assert.match(r.stdout, /^the cat/);
  const fits = await qkv('generate', ck, '--prompt', 'the', '--tokens', '5', '--temperature', '0');
  assert.equal(fits.code, 0, fits.stderr);
  assert.deepEqual(errLines(fits), []);
});
