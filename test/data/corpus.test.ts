// The pre-training corpus: Brown's tags stripped (known answers), the hashed hold-out, and the packaged sources.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { brownToText, buildPretrainingCorpus, type PretrainingCorpus } from '../../src/data/corpus.js';
import { loadPretrainingCorpus } from '../../src/data/load.js';
import { loadSotu } from '../../src/data/sotu.js';
import { isHeldOut } from '../../src/data/split.js';
import { loadSpamAssassin } from '../../src/data/load.js';
import { ArgumentError } from '../../src/core/errors.js';
import { skipCorpus, skipSpam } from './available.js';

test('brownToText strips tags, rebuilds quotes and punctuation, keeps paragraphs', () => {
  const tagged = [
    '',
    '',
    "\tThe/at Fulton/np-tl County/nn-tl Grand/jj-tl Jury/nn-tl said/vbd Friday/nr an/at investigation/nn of/in Atlanta's/np$ recent/jj primary/nn election/nn produced/vbd ``/`` no/at evidence/nn ''/'' that/cs any/dti irregularities/nns took/vbd place/nn ./.",
    '',
    '',
    "\t``/`` Everything/pn went/vbd real/ql smooth/jj ''/'' ,/, the/at sheriff/nn said/vbd ./.",
    "``/`` There/ex wasn't/bedz* a/at bit/nn of/in trouble/nn ''/'' ./.",
    '\tIt/pps cost/vbd 1/2/cd (/( half/abn )/) a/at dollar/nn ;/. why/wrb ?/.',
  ].join('\n');
  assert.equal(brownToText(tagged), [
    "The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election produced \"no evidence\" that any irregularities took place.",
    '"Everything went real smooth", the sheriff said. "There wasn\'t a bit of trouble".',
    'It cost 1/2 (half) a dollar; why?',
  ].join('\n'));
});

test('buildPretrainingCorpus holds out by isHeldOut("source:id", 0.02), with sizes per source', () => {
  const docs = Array.from({ length: 400 }, (_, i) => ({ id: `d${i}`, text: `word ${i} and more` }));
  const c = buildPretrainingCorpus([{ name: 'a', documents: docs }, { name: 'b', documents: [{ id: 'x', text: 'two words' }] }]);
  const held = docs.filter((d) => isHeldOut(`a:${d.id}`, 0.02));
  assert.ok(held.length > 0 && held.length < 20, `${held.length} held out`);
  assert.deepEqual(c.valid.slice(0, held.length), held.map((d) => d.text));
  assert.equal(c.train.length + c.valid.length, 401);
  assert.deepEqual(c.sources[0]!.valid, { documents: held.length, characters: held.reduce((s, d) => s + d.text.length, 0), words: 4 * held.length });
  assert.deepEqual(c.sources[1], { name: 'b', train: isHeldOut('b:x', 0.02) ? { documents: 0, characters: 0, words: 0 } : { documents: 1, characters: 9, words: 2 },
    valid: isHeldOut('b:x', 0.02) ? { documents: 1, characters: 9, words: 2 } : { documents: 0, characters: 0, words: 0 } });
});

describe('packaged pre-training corpus', { skip: skipCorpus }, () => {
  let c: PretrainingCorpus;
  before(async () => {
    c = await loadPretrainingCorpus();
  });

  test('three sources, some valid, no SOTU valid or test speech anywhere, the same on a second load', async () => {
    assert.deepEqual(c.sources.map((s) => s.name), ['sotu', 'moby-dick', 'brown']);
    assert.equal(c.sources[2]!.train.documents + c.sources[2]!.valid.documents, 500);
    assert.ok(c.valid.length > 0);
    const sotu = await loadSotu();
    const all = new Set([...c.train, ...c.valid]);
    for (const s of [...sotu.valid, ...sotu.test]) assert.ok(!all.has(s.text.trim()), `${s.year} ${s.name} entered the corpus`);
    assert.ok(sotu.train.every((s) => all.has(s.text.trim())));
    assert.ok(!c.train.some((t) => /\/(at|nn|vbd)\b/.test(t)), 'a Brown tag is left');
    const again = await loadPretrainingCorpus();
    assert.deepEqual(again.valid, c.valid);
    assert.equal(again.train.length, c.train.length);
  });
});

test('loadPretrainingCorpus names an unknown source and an empty list', async () => {
  await assert.rejects(loadPretrainingCorpus(['sotu', 'wikipedia' as never]), (e: Error) => e instanceof ArgumentError && /source 'wikipedia' is unknown, expected one of sotu, moby-dick, brown, spam-train/.test(e.message));
  await assert.rejects(loadPretrainingCorpus([]), (e: Error) => e instanceof ArgumentError && /no pre-training corpus sources/.test(e.message));
});

describe('spam-train as a pre-training source', { skip: skipSpam }, () => {
  test('holds the train split\'s mails (hashed hold-out aside), and no valid or test mail', async () => {
    const spam = await loadSpamAssassin();
    const c = await loadPretrainingCorpus(['spam-train']);
    assert.deepEqual(c.sources.map((s) => s.name), ['spam-train']);
    assert.equal(c.train.length + c.valid.length, spam.train.length);
    const all = new Set([...c.train, ...c.valid]);
    assert.ok(spam.train.every((m) => all.has(m.text)));
    const trainTexts = new Set(spam.train.map((m) => m.text));
    for (const m of [...spam.valid, ...spam.test]) assert.ok(trainTexts.has(m.text) || !all.has(m.text), `${m.id} (${m.label}, held out for evaluation) entered the corpus`);
    const held = spam.train.filter((m) => isHeldOut(`spam-train:${m.id}`, 0.02));
    assert.deepEqual(c.valid, held.map((m) => m.text));
  });
});
