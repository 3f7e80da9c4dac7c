// Task recipes: config overrides and their errors, and batches whose tokens decode back to the
// dataset's own strings (checked against the loaders' output, not against the recipes).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ArgumentError, Rng, loadCmudict, loadDing, loadSotu } from '../../src/index.js';
import { G2P_PRESETS, LM_PRESETS, SEQ2SEQ_PRESETS, TRANSLATE_PRESETS, g2pConfig, g2pTask, lmConfig, lmTask, sotuText, spread, taskConfig, trainerOptions, translateConfig, translateTask } from '../../src/index.js';
import type { PairBatch, LmBatch, Tokenizer } from '../../src/index.js';
import { skipCmudict, skipDing, skipSotu } from '../data/available.js';

test('overrideConfig: fields replace the preset, model merges one level, unknown fields and wrong types are errors', () => {
  const c = g2pConfig('small', { maxSteps: 500, maxMinutes: null, model: { dModel: 128 } });
  assert.equal(c.maxSteps, 500);
  assert.equal(c.maxMinutes, null);
  assert.equal(c.model.dModel, 128);
  assert.equal(c.model.heads, 4); // untouched: the small preset's
  assert.equal(g2pConfig('small').model.dModel, 64, 'the preset itself is not modified');
  assert.throws(() => g2pConfig('small', { dModel: 128 }), (e: Error) => e instanceof ArgumentError && /config field 'dModel' is not a field of task g2p; expected one of .*model/.test(e.message));
  assert.throws(() => g2pConfig('small', { model: { depth: 3 } }), /config field 'model\.depth' is not a field of task g2p/);
  assert.throws(() => g2pConfig('small', { maxSteps: '500' }), /config field 'maxSteps' is "500", expected a number/);
  assert.throws(() => g2pConfig('small', { model: 3 }), /config field 'model' is 3, expected an object/);
  assert.equal(taskConfig('lm', 'tiny', { tokenizer: 'char' }).task, 'lm');
});

test('trainerOptions: decay rsqrt is the paper\'s schedule, none holds Noam\'s peak; an unknown decay is an error naming the field', () => {
  const at = (overrides: Record<string, unknown>, step: number) => trainerOptions(g2pConfig('small', { cooldown: null, ...overrides }), 64).schedule!(step);
  // small: warm-up 150, factor 1, d 64. Peak = 64^-0.5 · 150^-0.5; rsqrt decays it by √(150/600) = ½ at step 600.
  const peak = 1 / (8 * Math.sqrt(150));
  assert.ok(Math.abs(at({ decay: 'rsqrt' }, 150) - peak) < 1e-15 && Math.abs(at({ decay: 'rsqrt' }, 600) - peak / 2) < 1e-15);
  assert.ok(Math.abs(at({ decay: 'none' }, 600) - peak) < 1e-15);
  assert.ok(Math.abs(at({ decay: 'none' }, 75) - peak / 2) < 1e-15);
  assert.throws(() => at({ decay: 'cosine' }, 1), /config field 'decay' is "cosine", expected one of 'rsqrt', 'none'/);
});

test('docs/config.md names every field of every preset of every task', () => {
  const doc = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8');
  const named = new Set([...doc.matchAll(/`([A-Za-z.*]+)`/g)].map((m) => m[1]));
  for (const [task, presets] of Object.entries({ g2p: G2P_PRESETS, translate: TRANSLATE_PRESETS, lm: LM_PRESETS, seq2seq: SEQ2SEQ_PRESETS })) {
    for (const [key, value] of Object.entries(presets.base)) {
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        for (const sub of Object.keys(value)) assert.ok(named.has(`model.${sub}`) || (task !== 'lm' && named.has('model.*')), `${task}: model.${sub} is not in docs/config.md`);
      } else {
        assert.ok(named.has(key), `${task}: ${key} is not in docs/config.md`);
      }
    }
  }
});

test('spread picks evenly spaced items, all of them when n is null or large', () => {
  assert.deepEqual(spread([1, 2, 3, 4, 5, 6], 3), [1, 3, 5]);
  assert.deepEqual(spread([1, 2, 3], null), [1, 2, 3]);
  assert.deepEqual(spread([1, 2, 3], 10), [1, 2, 3]);
});

/** The ids of one row of a [B, W] int32 tensor, up to the first `stop` id. */
function row(t: { toArray(): ArrayLike<number>; shape: readonly number[] }, r: number, stop: number): number[] {
  const W = t.shape[1];
  const all = Array.from(t.toArray()).slice(r * W, (r + 1) * W);
  const end = all.indexOf(stop);
  return end >= 0 ? all.slice(0, end) : all;
}

test('g2p: every batch row decodes to a (word, pronunciation) pair of the CMUdict train split; tgtIn = <s> + target', { skip: skipCmudict }, async () => {
  const run = await g2pTask(g2pConfig('tiny'));
  const { train } = await loadCmudict();
  const pairs = new Set(train.flatMap((e) => e.pronunciations.map((p) => `${e.word}\t${p}`)));
  const src = run.tokenizer;
  const tgt = run.targetTokenizer as Tokenizer;
  let rows = 0;
  let tokens = 0;
  for (const b of run.task.batches(0, new Rng(5)) as Iterable<PairBatch>) {
    for (let r = 0; r < b.src.shape[0]; r++) {
      const word = src.decode(row(b.src, r, src.padId));
      const pron = tgt.decode(row(b.tgtOut, r, tgt.eosId));
      assert.ok(pairs.has(`${word}\t${pron}`), `${word} → ${pron} is not a CMUdict train pair`);
      assert.deepEqual(row(b.tgtIn, r, tgt.padId), [tgt.bosId, ...tgt.encode(pron)]);
      rows++;
    }
    assert.ok(b.src.shape[0] * Math.max(b.src.shape[1], b.tgtIn.shape[1]) <= 400, 'a batch stays within the tiny preset token budget');
    tokens += b.numTgtTokens;
  }
  assert.equal(rows, 2000, 'the tiny preset trains on 2000 pairs, each once per epoch');
  assert.ok(tokens > 2000);
});

test('g2p with stress false: targets are CMUdict train pronunciations without stress digits, and the phoneme vocabulary has none', { skip: skipCmudict }, async () => {
  const run = await g2pTask(g2pConfig('tiny', { stress: false }));
  const { train } = await loadCmudict();
  const plain = (p: string) => p.split(' ').map((ph) => ph.replace(/[012]$/, '')).join(' ');
  const pairs = new Set(train.flatMap((e) => e.pronunciations.map((p) => `${e.word}\t${plain(p)}`)));
  const src = run.tokenizer;
  const tgt = run.targetTokenizer as Tokenizer;
  const symbols = [...Array(tgt.vocabSize).keys()].map((i) => tgt.decode([i], { skipSpecial: true })).filter((x) => x);
  assert.ok(symbols.length >= 39 && symbols.length <= 41, `39 ARPAbet phonemes (and perhaps unk), got ${symbols.length}: ${symbols.join(' ')}`);
  assert.ok(symbols.every((x) => !/[0-9]/.test(x)), `no stress digits in ${symbols.join(' ')}`);
  let rows = 0;
  for (const b of run.task.batches(0, new Rng(5)) as Iterable<PairBatch>) {
    for (let r = 0; r < b.src.shape[0]; r++) {
      const word = src.decode(row(b.src, r, src.padId));
      const pron = tgt.decode(row(b.tgtOut, r, tgt.eosId));
      assert.ok(pairs.has(`${word}\t${pron}`), `${word} → ${pron} is not a CMUdict train pair with stress taken off`);
      rows++;
    }
  }
  assert.ok(rows > 1900 && rows <= 2000, `2000 pairs spread over the train split, fewer where two differed only in stress; got ${rows}`);
});

test('translate: batch rows decode to English/German pairs of the Ding train split (shared BPE)', { skip: skipDing }, async () => {
  const run = await translateTask(translateConfig('tiny'));
  const { train } = await loadDing();
  const pairs = new Set(train.map((p) => `${p.src}\t${p.tgt}`));
  const tok = run.tokenizer;
  assert.equal(run.targetTokenizer, null, 'one tokenizer for both sides');
  let rows = 0;
  for (const b of run.task.batches(0, new Rng(1)) as Iterable<PairBatch>) {
    for (let r = 0; r < b.src.shape[0]; r++) {
      const en = tok.decode(row(b.src, r, tok.padId));
      const de = tok.decode(row(b.tgtOut, r, tok.eosId));
      assert.ok(pairs.has(`${en}\t${de}`), `${en} → ${de} is not a Ding train pair`);
      rows++;
    }
  }
  assert.ok(rows > 900 && rows <= 1000, `${rows} rows: the tiny preset's 1000 pairs less the over-long ones`);
});

test('lm: input rows decode to passages of the train text and targets are the inputs shifted by one token', { skip: skipSotu }, async () => {
  const cfg = lmConfig('tiny');
  const run = await lmTask(cfg);
  const { train } = await loadSotu();
  const text = train.map((s) => s.text.trim()).join('\n\n').slice(0, cfg.maxTrainExamples!);
  assert.equal(sotuText(train, cfg.maxTrainExamples), text);
  const tok = run.tokenizer;
  let rows = 0;
  for (const b of run.task.batches(0, new Rng(2)) as Iterable<LmBatch>) {
    const C = b.input.shape[1];
    assert.equal(C, 32);
    for (let r = 0; r < b.input.shape[0]; r++) {
      const input = row(b.input, r, -1);
      const target = row(b.target, r, -1);
      assert.deepEqual(input.slice(1), target.slice(0, -1));
      assert.ok(text.includes(tok.decode(input)), `row ${r} is not a passage of the text`);
      rows++;
    }
  }
  assert.ok(rows > 0);
});
