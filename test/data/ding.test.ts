// Ding: cleaning of annotated entries, sentence/phrase rules, the line-based split, and the real file.

import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { ArgumentError } from '../../src/core/errors.js';
import { DatasetMissingError } from '../../src/data/errors.js';
import { TranslationPair, cleanDingText, isSentencePair, loadDing, parseDing, parseDingLine, splitDing } from '../../src/data/ding.js';
import type { Splits } from '../../src/data/split.js';
import { skipDing } from './available.js';

test('cleanDingText strips {} [] <> () annotations, nested ones too', () => {
  assert.equal(cleanDingText('Aal {m} (auf der Speisekarte) [cook.]'), 'Aal');
  assert.equal(cleanDingText('eel trap; weel [archaic] <weely> | eel traps'), 'eel trap; weel | eel traps');
  assert.equal(cleanDingText('A (des (inneren) Bodens) B'), 'A B');
  assert.equal(cleanDingText('Er ging nach Hause (spät) .'), 'Er ging nach Hause.');
});

test('parseDingLine aligns | sub-entries, keeps the first ; synonym, and sorts sentences from phrases', () => {
  const line = 'im Gange {adv} | im Gange sein {v} | Es ist geplant, das Gebäude zu verkaufen. | Es kommt Bewegung in die Sache. :: '
    + 'afoot; under way; toward [archaic] | to be afoot | There are plans afoot to sell the building. | Change is afoot.';
  assert.deepEqual(parseDingLine(line), {
    sentences: [{ src: 'There are plans afoot to sell the building.', tgt: 'Es ist geplant, das Gebäude zu verkaufen.' }],
    // "Change is afoot." has 3 English words, so it is a phrase, not a sentence; "afoot" is one word and dropped.
    phrases: [
      { src: 'to be afoot', tgt: 'im Gange sein' },
      { src: 'Change is afoot.', tgt: 'Es kommt Bewegung in die Sache.' },
    ],
  });
  assert.equal(parseDingLine('# Version :: devel'), null);
  assert.equal(parseDingLine('a | b :: c'), null, 'mismatched sub-entry counts');
  assert.equal(isSentencePair({ src: 'Are you on for dinner?', tgt: 'Sehen wir uns zum Abendessen' }), false, 'German must end a sentence too');
});

function syntheticDing(): string {
  const lines = ['# comment :: header'];
  for (let i = 0; i < 40; i++) {
    const two = i % 3 === 0;
    const de = [`Wort${i} {n}`, `das Wort ${i}`, `Das ist Satz ${i}.`, ...(two ? [`Das ist noch ein Satz ${i}.`] : [])];
    const en = [`word${i}`, `the word ${i}`, `This is sentence ${i}.`, ...(two ? [`This is another sentence ${i}.`] : [])];
    lines.push(`${de.join(' | ')} :: ${en.join(' | ')}`);
  }
  // Same English sentence on a second line: it must never be both held out and trained on.
  lines.push('Das ist Satz 7 nochmal. :: This is sentence 7.');
  return lines.join('\n');
}

test('splitDing holds out exactly n sentence pairs each, by whole lines, with no overlap into train', () => {
  const lines = parseDing(syntheticDing());
  assert.equal(lines.length, 41);
  const s = splitDing(lines, { heldOut: 5 });
  assert.equal(s.valid.length, 5);
  assert.equal(s.test.length, 5);
  for (const p of [...s.valid, ...s.test]) assert.ok(isSentencePair(p), JSON.stringify(p));
  const key = (p: TranslationPair) => `${p.src} => ${p.tgt}`;
  const inSplit = (name: 'train' | 'valid' | 'test') => new Set(s[name].map(key));
  const [train, valid, test_] = [inSplit('train'), inSplit('valid'), inSplit('test')];
  const held = new Set([...s.valid, ...s.test].flatMap((p) => [p.src, p.tgt]));
  let expectedTrain = 0;
  for (const l of lines) {
    const pairs = [...l.sentences, ...l.phrases].map(key);
    const inValid = l.sentences.filter((p) => valid.has(key(p))).length;
    const inTest = l.sentences.filter((p) => test_.has(key(p))).length;
    if (inValid + inTest > 0) {
      // A held-out line goes whole to one split, and none of its pairs reach train.
      assert.ok(inValid === l.sentences.length || inTest === l.sentences.length, `line ${l.line} straddles valid and test`);
      for (const k of pairs) assert.ok(!train.has(k), `line ${l.line} is held out but ${k} is in train`);
    } else {
      for (const p of [...l.sentences, ...l.phrases]) {
        const kept = !held.has(p.src) && !held.has(p.tgt);
        assert.equal(train.has(key(p)), kept, `line ${l.line}: ${key(p)}`);
        if (kept) expectedTrain++;
      }
    }
  }
  assert.equal(s.train.length, expectedTrain);
  assert.deepEqual(splitDing(lines, { heldOut: 5 }), s);
  assert.throws(() => splitDing(lines, { heldOut: 100 }), ArgumentError);
});

test('loadDing names the missing file and only fixes that exist: the package, a config\'s dingPath, your own pairs', async () => {
  await assert.rejects(loadDing('/nonexistent/de-en'), (err: Error) => {
    assert.ok(err instanceof DatasetMissingError, String(err));
    assert.match(err.message, /\/nonexistent\/de-en not found/);
    assert.match(err.message, /apt-get install trans-de-en/);
    assert.match(err.message, /set "dingPath" in a translate config\.json/);
    assert.match(err.message, /qkv train seq2seq --train pairs\.tsv/);
    // No flag takes the path of a Ding file, so the message must not offer one.
    assert.doesNotMatch(err.message, /pass the path/);
    return true;
  });
});

describe('packaged Ding (trans-de-en)', { skip: skipDing }, () => {
  let s: Splits<TranslationPair>;
  before(async () => {
    s = await loadDing();
  });

  test('valid and test hold 1,000 sentence pairs each; train holds the rest', () => {
    assert.equal(s.valid.length, 1000);
    assert.equal(s.test.length, 1000);
    for (const p of [...s.valid, ...s.test]) assert.ok(isSentencePair(p), JSON.stringify(p));
    assert.ok(s.train.length > 50_000, `train ${s.train.length}`);
  });

  test('no held-out sentence is seen in training, and valid and test do not share one', () => {
    const train = new Set(s.train.flatMap((p) => [p.src, p.tgt]));
    for (const p of [...s.valid, ...s.test]) assert.ok(!train.has(p.src) && !train.has(p.tgt), JSON.stringify(p));
    const valid = new Set(s.valid.map((p) => p.src));
    for (const p of s.test) assert.ok(!valid.has(p.src), p.src);
  });

  test('no annotation brackets survive cleaning', () => {
    for (const p of [...s.train, ...s.valid, ...s.test]) {
      // A lone '>' is text ('R/S ratio >1'); a <...> group would be an unremoved annotation.
      assert.ok(!/[{}[\]]|<[^<>]*>/.test(p.src + p.tgt), JSON.stringify(p));
      assert.ok(p.src.length > 0 && p.tgt.length > 0);
    }
  });
});
