// The PyTorch twin's TypeScript side (export, scoring) and its Python self-checks: exact answers,
// data decoded back to the dataset's own strings, and qkv's planBatches against the twin's.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Rng } from '../../src/core/rng.js';
import { loadCmudict } from '../../src/data/cmudict.js';
import { loadSotu } from '../../src/data/sotu.js';
import { planBatches } from '../../src/data/batching.js';
import { buildTaskRun, taskConfig } from '../../src/train/tasks/index.js';
import { pairsFromBatches, streamFromBatches } from '../../scripts/twin/twin-data.js';
import { scoreLm, scoreSeq2Seq } from '../../scripts/twin/twin-score.js';
import { skipCmudict, skipSotu } from '../data/available.js';
import { underCi } from '../helpers/ci.js';

const CHECK = fileURLToPath(new URL('../../scripts/twin/check_twin.py', import.meta.url));
const PYTHON = '/usr/bin/python3';
const torchImport = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
const hasTorch = torchImport.status === 0;

test('torch imports in /usr/bin/python3 (required under CI, so that the twin test below cannot skip there)', (t) => {
  if (!hasTorch && !underCi) return t.skip(`${PYTHON} has no torch (apt-get install python3-torch); CI is not set`);
  const why = torchImport.error?.message ?? torchImport.stderr.trim().split('\n').pop();
  assert.ok(hasTorch, `CI=${process.env.CI} but \`${PYTHON} -c 'import torch'\` failed (${why}); .ci/run installs python3-torch`);
});

test('scoreSeq2Seq: the references themselves score WER/PER 0 and BLEU/chrF 100; one wrong word of two is WER 50%', () => {
  const test1 = [{ refs: ['K AE1 T'] }, { refs: ['R IY1 D', 'R EH1 D'] }];
  assert.deepEqual(scoreSeq2Seq('g2p', ['K AE1 T', 'R EH1 D'], test1), { wer: 0, per: 0, words: 2 });
  // 'R EH1 T' is one substitution from 'R EH1 D' (3 phonemes): PER = 1 / (3 + 3).
  assert.deepEqual(scoreSeq2Seq('g2p', ['K AE1 T', 'R EH1 T'], test1), { wer: 0.5, per: 1 / 6, words: 2 });
  const de = [{ refs: ['Das Wetter ist heute schön.'] }, { refs: ['Ich habe keine Zeit.'] }];
  const m = scoreSeq2Seq('translate', de.map((e) => e.refs[0]), de);
  assert.ok(Math.abs(m.bleu - 100) < 1e-9, `bleu ${m.bleu}`);
  assert.ok(Math.abs(m.chrf - 100) < 1e-9, `chrf ${m.chrf}`);
  assert.equal(m.sentences, 2);
  assert.throws(() => scoreSeq2Seq('g2p', ['K AE1 T'], test1), /1 hypotheses for 2 test examples/);
});

test('scoreLm: 2 tokens of NLL ln 2 each over 4 characters is perplexity 2 and 0.5 bits per character', () => {
  const m = scoreLm({ nll: 2 * Math.LN2, tokens: 2 }, 4, 3);
  assert.ok(Math.abs(m.perplexity - 2) < 1e-12);
  assert.ok(Math.abs(m.bpc - 0.5) < 1e-12);
  assert.ok(Math.abs(m.loss - Math.LN2) < 1e-12);
  assert.equal(m.tokens, 3);
});

test('pairsFromBatches: the g2p tiny export is every (word, pronunciation) pair the preset trains on, as CMUdict spells it', { skip: skipCmudict }, async () => {
  const config = taskConfig('g2p', 'tiny');
  const run = await buildTaskRun(config);
  const pairs = pairsFromBatches(run, 0, 2);
  const data = await loadCmudict();
  // The preset keeps maxTrainExamples pairs spread evenly (every k-th) over all pairs of the train split.
  const all = data.train.flatMap((e) => e.pronunciations.map((p) => [e.word, p]));
  const n = 2000;
  const expected = Array.from({ length: n }, (_, i) => all[Math.floor((i * all.length) / n)]);
  assert.equal(pairs.length, n);
  const tgt = run.targetTokenizer!;
  pairs.forEach((p, i) => {
    assert.equal(run.tokenizer.decode(p.src), expected[i][0]);
    assert.equal(tgt.decode(p.tgt), expected[i][1]);
  });
});

test('streamFromBatches: the lm tiny export is the first 20,000 characters of the train speeches, whole chunks only', { skip: skipSotu }, async () => {
  const run = await buildTaskRun(taskConfig('lm', 'tiny'));
  const C = 32;
  const stream = streamFromBatches(run, C);
  const data = await loadSotu();
  const text = data.train.map((s) => s.text.trim()).join('\n\n').slice(0, 20_000);
  const ids = run.tokenizer.encode(text);
  const chunks = Math.floor((ids.length - 1) / C);
  assert.equal(stream.length, chunks * C + 1);
  assert.deepEqual(Array.from(stream), ids.slice(0, chunks * C + 1));
});

test('the twin (Python): planBatches without shuffling is qkv\'s, and its KV-cached decoder matches the full one', { skip: hasTorch ? false : `${PYTHON} has no torch` }, () => {
  const rng = new Rng(7);
  const lengths = Array.from({ length: 300 }, () => 1 + rng.int(40));
  const maxTokens = 200;
  const out = JSON.parse(execFileSync(PYTHON, [CHECK], { input: JSON.stringify({ lengths, maxTokens }), env: { ...process.env, OMP_NUM_THREADS: '1' } }).toString()) as {
    plan: number[][]; cacheMaxDiff: number; cacheSameTokens: boolean;
  };
  assert.deepEqual(out.plan, planBatches(lengths, { maxTokens }));
  assert.ok(out.cacheMaxDiff < 1e-4, `cached vs full decoder logits differ by ${out.cacheMaxDiff}`);
  assert.equal(out.cacheSameTokens, true);
});
