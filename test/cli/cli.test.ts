// The qkv command line, run as a user runs it (node bin/qkv.js): help, one-line errors with exit
// codes, and a tiny end-to-end run (train → info → g2p → eval → resume).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCmudict } from '../../src/data/cmudict.js';
import { skipCmudict } from '../data/available.js';
import { qkv } from '../helpers/cli-process.js';
import type { Ran } from '../helpers/cli-process.js';




/** One line `qkv: ...` on stderr (no stack trace), nothing on stdout, and the exit code. */
function assertOneLineError(r: Ran, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit code of: ${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l.length > 0 && !l.includes('native backend unavailable'));
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0], /^qkv: /);
  assert.match(lines[0], pattern);
  assert.equal(r.stdout, '');
}

const dir = mkdtempSync(join(tmpdir(), 'qkv-cli-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

test('--help works for the program and every subcommand (exit 0, usage on stdout)', async () => {
  const subs = ['train', 'eval', 'g2p', 'translate', 'seq2seq', 'generate', 'info', 'export', 'serve', 'demo'];
  const runs = await Promise.all([qkv('--help'), ...subs.map((s) => qkv(s, '--help'))]);
  assert.equal(runs[0].code, 0);
  for (const s of subs) assert.match(runs[0].stdout, new RegExp(`^  ${s} `, 'm'));
  subs.forEach((s, i) => {
    const r = runs[i + 1];
    assert.equal(r.code, 0, `${s} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: qkv ${s} `));
  });
});

test('usage errors: one line, exit code 2', async () => {
  const [badTask, badValue, badFlag, badPreset, badSplit, noArgs] = await Promise.all([
    qkv('train', 'poetry'),
    qkv('train', 'g2p', '--steps', 'many'),
    qkv('eval', dir, '--bogus'),
    qkv('train', 'g2p', '--preset', 'huge'),
    qkv('eval', dir, '--split', 'train'),
    qkv('generate', dir),
  ]);
  assertOneLineError(badTask, 2, /unknown task 'poetry', expected one of g2p, translate, lm/);
  assertOneLineError(badValue, 2, /'many' is invalid\. expected an integer ≥ 1/);
  assertOneLineError(badFlag, 2, /unknown option '--bogus'/);
  assertOneLineError(badPreset, 2, /'huge' is invalid\. expected one of tiny, small, base/);
  assertOneLineError(badSplit, 2, /expected one of valid, test/);
  assertOneLineError(noArgs, 2, /required option '--prompt <text>' not specified/);
});

test('failures: missing checkpoint, not a checkpoint, broken checkpoint, bad config file: one line, exit code 1', async () => {
  mkdirSync(join(dir, 'empty'));
  mkdirSync(join(dir, 'broken'));
  writeFileSync(join(dir, 'broken', 'config.json'), '{"format": ');
  writeFileSync(join(dir, 'bad.json'), JSON.stringify({ task: 'g2p', preset: 'tiny', dModel: 64 }));
  writeFileSync(join(dir, 'notask.json'), JSON.stringify({ preset: 'tiny' }));
  writeFileSync(join(dir, 'workers.json'), JSON.stringify({ task: 'g2p', preset: 'tiny', workers: 0 }));
  const [missing, empty, broken, badField, noTask, noWorkers] = await Promise.all([
    qkv('info', join(dir, 'nowhere')),
    qkv('g2p', join(dir, 'empty'), 'HELLO'),
    qkv('info', join(dir, 'broken')),
    qkv('train', join(dir, 'bad.json')),
    qkv('train', join(dir, 'notask.json')),
    qkv('train', join(dir, 'workers.json'), '--out', join(dir, 'no-workers')),
  ]);
  assertOneLineError(missing, 1, /nowhere: no such checkpoint folder/);
  assertOneLineError(empty, 1, /empty: not a checkpoint \(no config\.json\)/);
  assertOneLineError(broken, 1, /broken\/config\.json: not valid JSON/);
  assertOneLineError(badField, 1, /bad\.json: config field 'dModel' is not a field of task g2p/);
  assertOneLineError(noTask, 1, /notask\.json: field 'task' is missing/);
  assertOneLineError(noWorkers, 1, /config field 'workers' is 0, expected an integer ≥ 1/);
});

test('translate with a config whose dingPath is missing: one line naming the file and the fixes that exist, exit code 1', async () => {
  const cfg = join(dir, 'ding.json');
  writeFileSync(cfg, JSON.stringify({ task: 'translate', preset: 'tiny', dingPath: join(dir, 'no-such-ding') }));
  const r = await qkv('train', cfg, '--out', join(dir, 'no-ding'));
  assertOneLineError(r, 1, /no-such-ding not found; install it with `apt-get install trans-de-en`.*set "dingPath" in a translate config\.json.*qkv train seq2seq --train pairs\.tsv/);
});

test('the end line names the limit that stopped the run in the user\'s words: --minutes, --steps', { skip: skipCmudict }, async () => {
  // 0.01 minutes is 0.6 s; the tiny preset's 12 steps (and these 100,000) take longer, so the clock stops it.
  const [timed, stepped] = await Promise.all([
    qkv('train', 'g2p', '--preset', 'tiny', '--minutes', '0.01', '--steps', '100000', '--out', join(dir, 'timed')),
    qkv('train', 'g2p', '--preset', 'tiny', '--steps', '3', '--out', join(dir, 'stepped')),
  ]);
  assert.equal(timed.code, 0, timed.stderr);
  assert.match(timed.stdout, /^done: [\d,]+ steps in \d+s; stopped at the time limit \(--minutes 0\.01\); /m);
  assert.doesNotMatch(timed.stdout, /maxSeconds/);
  assert.equal(stepped.code, 0, stepped.stderr);
  assert.match(stepped.stdout, /^done: 3 steps in \d+s; stopped after 3 steps \(--steps 3\); /m);
});

test('end to end: train a tiny g2p run, then info, g2p, eval, a command for another model kind, and resume', { skip: skipCmudict }, async () => {
  const run = join(dir, 'run');
  const trained = await qkv('train', 'g2p', '--preset', 'tiny', '--steps', '4', '--out', run);
  assert.equal(trained.code, 0, trained.stderr);
  // The tiny preset evaluates every 6 steps; a run stopped at step 4 is evaluated there (evalAtEnd).
  assert.match(trained.stdout, /^step 4 .*\| validLoss \d/m);
  assert.match(trained.stdout, /^done: 4 steps .*; stopped after 4 steps \(--steps 4\); best wer [\d.]+% at step 4/m);
  readFileSync(join(run, 'best', 'model.safetensors'));
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'target_tokenizer.json', 'optimizer.safetensors', 'trainer_state.json']) {
    readFileSync(join(run, 'last', f));
  }

  const { train } = await loadCmudict();
  const arpabet = new Set(train.flatMap((e) => e.pronunciations.flatMap((p) => p.split(' '))));
  const [info, said, evald, wrongTask, again] = await Promise.all([
    qkv('info', run),
    qkv('g2p', join(run, 'last'), 'hello', 'QUEUE'),
    qkv('eval', join(run, 'last'), '--split', 'valid', '--limit', '5', '--beam', '2'),
    qkv('generate', join(run, 'last'), '--prompt', 'Hello'),
    qkv('train', 'g2p', '--preset', 'tiny', '--out', run),
  ]);
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /^task +g2p \(preset tiny\)$/m);
  assert.match(info.stdout, /^trained +step 4, epoch 0/m);
  assert.match(info.stdout, /^model +transformer: dModel 32, heads 2, encoderLayers 1, decoderLayers 1, dFF 64/m);

  assert.equal(said.code, 0, said.stderr);
  const lines = said.stdout.trim().split('\n');
  assert.deepEqual(lines.map((l) => l.split(/\s+/)[0]), ['HELLO', 'QUEUE']);
  for (const l of lines) for (const ph of l.trim().split(/\s+/).slice(1)) assert.ok(arpabet.has(ph), `${ph} is not an ARPAbet symbol of CMUdict`);

  assert.equal(evald.code, 0, evald.stderr);
  assert.match(evald.stdout, /^g2p on the valid split \(limit 5\), beam 2/);
  assert.match(evald.stdout, /^wer +\d+\.\d\d%$/m);
  assert.match(evald.stdout, /^per +\d+\.\d\d%$/m);
  assert.match(evald.stdout, /^werNoStress +\d+\.\d\d%$/m);
  assert.match(evald.stdout, /^words +5$/m);

  assertOneLineError(wrongTask, 1, /holds a 'transformer' model \(task 'g2p'\), expected a decoder-only 'gpt' checkpoint/);
  assertOneLineError(again, 1, /already holds a run .*pass --resume/);

  const resumed = await qkv('train', 'g2p', '--preset', 'tiny', '--out', run, '--resume', '--steps', '6');
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming g2p \(preset tiny\) from .* at step 4/);
  assert.match(resumed.stdout, /^step 6 .*\| validLoss \d/m);
  const state = JSON.parse(readFileSync(join(run, 'last', 'trainer_state.json'), 'utf8')) as { step: number };
  assert.equal(state.step, 6);

  // A checkpoint whose model weights do not fit its config is one clear line.
  const bad = join(dir, 'mismatch');
  cpSync(join(run, 'last'), bad, { recursive: true });
  const cfg = JSON.parse(readFileSync(join(bad, 'config.json'), 'utf8'));
  cfg.model.dModel = 48;
  writeFileSync(join(bad, 'config.json'), JSON.stringify(cfg));
  assertOneLineError(await qkv('info', bad), 1, /model\.safetensors/);
});
