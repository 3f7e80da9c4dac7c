// Your own data files: TSV/JSONL rows and each bad-row message, skipping and counting, line groups,
// and the hashed hold-out (deterministic, disjoint, the right size), on the committed fixtures.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  BadRowError, BadRows, LineGroups, LINES_PER_GROUP, TokenBuffer, isHeldOut, pairFormatOf, parseDocumentRow, parsePairRow,
  readPairs, readTextGroups, splitOfRow, textFormatOf,
} from '../../src/data/index.js';
import type { TextPair } from '../../src/data/index.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/user-data/${name}`, import.meta.url));

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test('formats come from the file name: .jsonl and .ndjson are JSON Lines, anything else TSV or plain text', () => {
  assert.equal(pairFormatOf('a/pairs.jsonl'), 'jsonl');
  assert.equal(pairFormatOf('pairs.NDJSON'), 'jsonl');
  assert.equal(pairFormatOf('pairs.tsv'), 'tsv');
  assert.equal(pairFormatOf('pairs.txt'), 'tsv');
  assert.equal(textFormatOf('book.txt'), 'text');
  assert.equal(textFormatOf('docs.jsonl'), 'jsonl');
});

test('parsePairRow, TSV: one tab, both sides trimmed and non-empty; each bad row says what is wrong', () => {
  assert.deepEqual(parsePairRow('hello\tHH AH0 L OW1', 'tsv'), { value: { source: 'hello', target: 'HH AH0 L OW1' } });
  assert.deepEqual(parsePairRow('  hello \t HH AH0 ', 'tsv'), { value: { source: 'hello', target: 'HH AH0' } });
  assert.equal(parsePairRow('hello', 'tsv').reason, 'missing tab, expected source<TAB>target');
  assert.equal(parsePairRow('a\tb\tc', 'tsv').reason, '3 tab-separated fields, expected 2 (source<TAB>target)');
  assert.equal(parsePairRow('\tHH', 'tsv').reason, 'empty source (nothing before the tab)');
  assert.equal(parsePairRow('hello\t  ', 'tsv').reason, 'empty target (nothing after the tab)');
});

test('parsePairRow, JSONL: an object with string fields source and target; each bad row says what is wrong', () => {
  assert.deepEqual(parsePairRow('{"source": "a", "target": "b", "id": 3}', 'jsonl'), { value: { source: 'a', target: 'b' } });
  assert.match(parsePairRow('{"source": "a",', 'jsonl').reason!, /^not valid JSON \(.+\)$/);
  assert.equal(parsePairRow('[1, 2]', 'jsonl').reason, 'an array, expected a JSON object {"source": ..., "target": ...}');
  assert.equal(parsePairRow('"just a string"', 'jsonl').reason, 'the string "just a string", expected a JSON object {"source": ..., "target": ...}');
  assert.equal(parsePairRow('{"source": "a"}', 'jsonl').reason, 'missing field "target"');
  assert.equal(parsePairRow('{"target": "a"}', 'jsonl').reason, 'missing field "source"');
  assert.equal(parsePairRow('{"source": 7, "target": "b"}', 'jsonl').reason, 'field "source" is number 7, expected a string');
  assert.equal(parsePairRow('{"source": "a", "target": null}', 'jsonl').reason, 'field "target" is null, expected a string');
  assert.equal(parsePairRow('{"source": " ", "target": "b"}', 'jsonl').reason, 'field "source" is empty');
});

test('parseDocumentRow: {"text": ...} kept as written; bad rows say what is wrong', () => {
  assert.deepEqual(parseDocumentRow('{"text": " Call me Ishmael. ", "id": 1}'), { value: ' Call me Ishmael. ' });
  assert.equal(parseDocumentRow('{"body": "x"}').reason, 'missing field "text"');
  assert.equal(parseDocumentRow('{"text": 3}').reason, 'field "text" is number 3, expected a string');
  assert.equal(parseDocumentRow('{"text": "  "}').reason, 'field "text" is empty');
  assert.match(parseDocumentRow('not json').reason!, /^not valid JSON/);
});

test('readPairs on bad.tsv: the first bad row throws file:line: reason; with skipping, the good rows and a count of the bad ones', async () => {
  const path = fixture('bad.tsv');
  await assert.rejects(collect(readPairs(path)), (e: Error) => {
    assert.ok(e instanceof BadRowError);
    assert.equal(e.file, path);
    assert.equal(e.line, 2);
    assert.equal(e.reason, 'missing tab, expected source<TAB>target');
    assert.equal(e.message, `${path}:2: missing tab, expected source<TAB>target`);
    return true;
  });
  const bad = new BadRows(true);
  const pairs = await collect(readPairs(path, { badRows: bad }));
  // bad.tsv: cat ok, dog (no tab), empty source, empty target, a blank line (not a bad row), 3 fields, sun ok.
  assert.deepEqual(pairs, [{ source: 'cat', target: 'K AE1 T' }, { source: 'sun', target: 'S AH1 N' }]);
  assert.equal(bad.count, 4);
  assert.equal(bad.summary(), `skipped 4 bad rows (first: ${path}:2: missing tab, expected source<TAB>target)`);
});

test('readPairs on bad.jsonl: every kind of bad JSON row counted, line numbers count blank lines', async () => {
  const path = fixture('bad.jsonl');
  const bad = new BadRows(true);
  const pairs = await collect(readPairs(path, { badRows: bad }));
  assert.deepEqual(pairs, [{ source: 'cat', target: 'K AE1 T' }, { source: 'sun', target: 'S AH1 N' }]);
  assert.equal(bad.count, 5); // lines 2 (broken JSON), 3 (array), 4 (no target), 5 (number), 6 (empty); 7 is blank
  assert.equal(bad.first!.line, 2);
  // Without skipping, the first bad row stops the read; each of the others, read alone, gives its own reason.
  await assert.rejects(collect(readPairs(path)), (e: Error) => e instanceof BadRowError && e.line === 2 && /^not valid JSON/.test(e.reason));
  const lines = readFileSync(path, 'utf8').split('\n');
  const reasons = [1, 2, 3, 4, 5].map((i) => parsePairRow(lines[i], 'jsonl').reason!);
  assert.match(reasons[0], /^not valid JSON/);
  assert.deepEqual(reasons.slice(1), [
    'an array, expected a JSON object {"source": ..., "target": ...}',
    'missing field "target"',
    'field "source" is number 7, expected a string',
    'field "source" is empty',
  ]);
});

test('readPairs: pairs.tsv and pairs.jsonl give the same pairs (the JSONL fixture is the first 20 rows)', async () => {
  const tsv = await collect(readPairs(fixture('pairs.tsv')));
  const jsonl = await collect(readPairs(fixture('pairs.jsonl')));
  assert.equal(tsv.length, 53);
  assert.deepEqual(jsonl, tsv.slice(0, 20));
  const lines = readFileSync(fixture('pairs.tsv'), 'utf8').trim().split('\n');
  assert.deepEqual(tsv.map((p) => `${p.source}\t${p.target}`), lines);
});

test('LineGroups: a group ends after a blank line or after LINES_PER_GROUP lines; the groups give the text back', () => {
  const g = new LineGroups();
  const out: string[] = [];
  const push = (l: string) => { const x = g.push(l); if (x !== null) out.push(x); };
  ['one', 'two', '', 'three'].forEach(push);
  assert.deepEqual(out, ['one\ntwo\n\n']);
  assert.equal(g.flush(), 'three\n');
  assert.equal(g.flush(), null);
  const long = Array.from({ length: LINES_PER_GROUP + 3 }, (_, i) => `line ${i}`);
  const groups: string[] = [];
  for (const l of long) { const x = g.push(l); if (x !== null) groups.push(x); }
  groups.push(g.flush()!);
  assert.equal(groups.length, 2);
  assert.equal(groups[0].split('\n').length - 1, LINES_PER_GROUP);
  assert.equal(groups.join(''), long.join('\n') + '\n');
});

test('readTextGroups: plain text as paragraphs that join back to the file; JSON Lines as documents; bad documents counted', async () => {
  const text = readFileSync(fixture('text.txt'), 'utf8');
  const groups = await collect(readTextGroups(fixture('text.txt')));
  assert.equal(groups.join(''), text);
  assert.equal(groups.length, text.trim().split('\n\n').length);
  const docs = await collect(readTextGroups(fixture('docs.jsonl')));
  const expected = readFileSync(fixture('docs.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text + '\n\n');
  assert.deepEqual(docs, expected);
  const bad = new BadRows(true);
  assert.deepEqual(await collect(readTextGroups(fixture('bad-docs.jsonl'), { badRows: bad })), ['A fine document.\n\n', 'Another fine one.\n\n']);
  assert.equal(bad.count, 4);
  assert.equal(bad.first!.line, 2);
  assert.equal(bad.first!.reason, 'field "text" is number 3, expected a string');
});

test('isHeldOut: fnv1a32(key) % 10000 < share × 10000 (the published FNV-1a vector of "a"), the same on every call', () => {
  // fnv1a32('a') = 0xe40c292c = 3826002220, bucket 2220 of 10000.
  assert.equal(isHeldOut('a', 0.2221), true);
  assert.equal(isHeldOut('a', 0.222), false);
  assert.equal(isHeldOut('a', 1), true);
  assert.equal(isHeldOut('a', 0), false);
  assert.throws(() => isHeldOut('a', 1.5), /share is 1\.5, expected a number in \[0, 1\]/);
  const keys = Array.from({ length: 2000 }, (_, i) => `row ${i}`);
  assert.deepEqual(keys.map((k) => isHeldOut(k, 0.05)), keys.map((k) => isHeldOut(k, 0.05)));
});

test('the hold-out is about validShare of 10,000 keys (±0.6%), for numbered keys and for words', () => {
  const words = readFileSync(fixture('pairs.tsv'), 'utf8').split('\n').filter((l) => l).map((l) => l.split('\t')[0]);
  const families: Record<string, (i: number) => string> = {
    numbered: (i) => `key${i}`,
    sentences: (i) => `The ${words[i % words.length]} number ${i} went home.`,
    suffixed: (i) => `${words[i % words.length]}${Math.floor(i / words.length)}`,
  };
  for (const [name, key] of Object.entries(families)) {
    for (const share of [0.05, 0.2]) {
      const held = Array.from({ length: 10_000 }, (_, i) => isHeldOut(key(i), share)).filter((x) => x).length / 10_000;
      assert.ok(Math.abs(held - share) <= 0.006, `${name}, validShare ${share}: held out ${held}`);
    }
  }
});

test('splitOfRow on the fixture: train and valid are disjoint by source, cover every row, and a valid file holds nothing out', async () => {
  const pairs: TextPair[] = await collect(readPairs(fixture('pairs.tsv')));
  const split = { validFile: false, validShare: 0.05 };
  const valid = pairs.filter((p) => splitOfRow(p.source, split) === 'valid');
  const train = pairs.filter((p) => splitOfRow(p.source, split) === 'train');
  assert.equal(valid.length + train.length, pairs.length);
  const trainSources = new Set(train.map((p) => p.source));
  for (const p of valid) assert.ok(!trainSources.has(p.source), `${p.source} is on both sides`);
  assert.deepEqual([...new Set(valid.map((p) => p.source))].sort(), ['bulimia', 'gresko', 'saris', 'souzas']);
  assert.ok(pairs.every((p) => splitOfRow(p.source, { validFile: true, validShare: 0.05 }) === 'train'));
});

test('TokenBuffer: grows past its first capacity and keeps every id in order', () => {
  const b = new TokenBuffer();
  const want: number[] = [];
  for (let i = 0; i < 700; i++) {
    const ids = [i, i + 1, -i - 1];
    b.push(ids);
    want.push(...ids);
  }
  assert.equal(b.length, 2100);
  assert.deepEqual(Array.from(b.toArray()), want);
});
