// SpamAssassin: hand-written mails through the parser (QP, base64, HTML, encoded words), the
// de-duplication, the stratified split and the label subsets; then the packaged corpus.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { dedupeByBody, duplicateKey, labelSubset, mailToText, prepareSpamAssassin, stratifiedSplit, withoutListTags, type LabeledText } from '../../src/data/spam.js';
import { loadSpamAssassin } from '../../src/data/load.js';
import type { Splits } from '../../src/data/split.js';
import { skipSpam } from './available.js';

const mail = (headers: string[], body: string) => [...headers, '', body].join('\r\n');

test('quoted-printable body and an encoded-word subject are decoded; the mbox From line and headers go', async () => {
  const raw = 'From someone@example.com  Thu Aug 22 13:17:22 2002\n' + mail([
    'Received: from relay.example.net by mx.example.org',
    'From: "Caf\u00e9" <a@example.com>',
    'List-Id: <exmh-users.redhat.com>',
    'Subject: =?utf-8?B?R3LDvMOfZQ==?= and more',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
  ], 'Caf=C3=A9 cr=\r\n=C3=A8me =3D good  \r\n\r\n\r\n\r\nbye\r\n');
  assert.equal(await mailToText(raw), 'Grüße and more\n\nCafé crème = good\n\nbye');
});

test('a base64 body is decoded', async () => {
  const raw = mail(['Subject: b64', 'Content-Type: text/plain; charset=us-ascii', 'Content-Transfer-Encoding: base64'], 'SGVsbG8gd29ybGQhCkxpbmUgdHdv');
  assert.equal(await mailToText(raw), 'b64\n\nHello world!\nLine two');
});

test('HTML becomes its visible text: entities decoded, no tags, no link addresses, no images', async () => {
  const html = '<html><head><style>p { color: red }</style></head><body><p>Buy <b>now</b> &amp; save 50%</p>'
    + '<p><a href="http://spam.example/x">Click here</a><img src="http://spam.example/i.gif" alt="pic"></p></body></html>';
  const raw = mail(['Subject: Deal', 'MIME-Version: 1.0', 'Content-Type: multipart/alternative; boundary="XX"'], [
    '--XX', 'Content-Type: text/plain', '', 'plain version', '--XX', 'Content-Type: text/html; charset=iso-8859-1',
    'Content-Transfer-Encoding: quoted-printable', '', html.replace(/=/g, '=3D'), '--XX--', ''].join('\r\n'));
  assert.equal(await mailToText(raw), 'Deal\n\nBuy now & save 50%\n\nClick here');
});

test('list tags leave the subject; HTML sent without a Content-Type still becomes text', async () => {
  assert.equal(withoutListTags('Re: [ILUG] [SAtalk]  spam filters [v2.1]'), 'Re: spam filters');
  assert.equal(withoutListTags('[a b] stays'), '[a b] stays');
  const raw = mail(['Subject: [Spambayes] FW: offer'], '<HTML>\r\n<BODY bgColor=#C0C0C0>\r\n<FONT size=2>Buy <b>now</b></FONT>\r\n</BODY></HTML>');
  assert.equal(await mailToText(raw), 'FW: offer\n\nBuy now');
  const plain = mail(['Subject: math'], 'if a <b then\r\n<p> is a tag here');
  assert.equal(await mailToText(plain), 'math\n\nif a <b then\n<p> is a tag here');
});

test('a mail with no subject and no body is two newlines; attachments are not text', async () => {
  assert.equal(await mailToText(mail(['From: x@example.com'], '')), '\n\n');
  const raw = mail(['Subject: att', 'Content-Type: multipart/mixed; boundary="B"'], [
    '--B', 'Content-Type: text/plain', '', 'see attached', '--B', 'Content-Type: application/octet-stream',
    'Content-Disposition: attachment; filename="a.bin"', 'Content-Transfer-Encoding: base64', '', 'AAECAwQ=', '--B--', ''].join('\r\n'));
  assert.equal(await mailToText(raw), 'att\n\nsee attached');
});

test('duplicates by body: case and whitespace do not count, the subject does not count, the first is kept', () => {
  assert.equal(duplicateKey('Hi\n\nBuy  NOW\n'), 'buy now');
  const items: LabeledText[] = [
    { id: 'a', text: 'one\n\nSame body', label: 'ham' },
    { id: 'b', text: 'Re: one\n\n same   BODY ', label: 'spam' },
    { id: 'c', text: 'x\n\nother', label: 'spam' },
    { id: 'd', text: 'only subject\n\n', label: 'ham' },
    { id: 'e', text: 'another subject\n\n', label: 'ham' },
    { id: 'f', text: 'Only Subject\n\n', label: 'ham' },
  ];
  assert.deepEqual(dedupeByBody(items).map((x) => x.id), ['a', 'c', 'd', 'e']);
});

const examples = (label: string, n: number): LabeledText[] => Array.from({ length: n }, (_, i) => ({ id: `${label}/${i}`, text: `${label} ${i}`, label }));

test('stratifiedSplit: exactly 80/10/10 of each label, the same whatever the input order', () => {
  const all = [...examples('ham', 30), ...examples('spam', 20)];
  const s = stratifiedSplit(all);
  const count = (xs: LabeledText[], l: string) => xs.filter((x) => x.label === l).length;
  assert.deepEqual([count(s.train, 'ham'), count(s.valid, 'ham'), count(s.test, 'ham')], [24, 3, 3]);
  assert.deepEqual([count(s.train, 'spam'), count(s.valid, 'spam'), count(s.test, 'spam')], [16, 2, 2]);
  const r = stratifiedSplit([...all].reverse());
  for (const k of ['train', 'valid', 'test'] as const) assert.deepEqual(r[k].map((x) => x.id).sort(), s[k].map((x) => x.id).sort());
  assert.deepEqual(s.train.map((x) => x.id), all.filter((x) => s.train.includes(x)).map((x) => x.id), 'input order kept');
});

test('labelSubset: ceil(f·n) per label, nested across fractions, different across seeds', () => {
  const train = [...examples('ham', 250), ...examples('spam', 51)];
  const sub = labelSubset(train, 0.01, 0);
  assert.deepEqual(['ham', 'spam'].map((l) => sub.filter((x) => x.label === l).length), [3, 1]);
  const ten = labelSubset(train, 0.1, 0);
  assert.deepEqual(['ham', 'spam'].map((l) => ten.filter((x) => x.label === l).length), [25, 6]);
  assert.ok(sub.every((x) => ten.includes(x)), '1% is inside 10% for one seed');
  assert.equal(labelSubset(train, 1, 2).length, train.length);
  assert.notDeepEqual(labelSubset(train, 0.1, 1).map((x) => x.id), ten.map((x) => x.id));
  // Known answer, FNV-1a computed in Python: fnv1a32("0:x/k") for k = 0..3 is 6904b01a, 6a04b1ad, 6704acf4, 6804ae87.
  assert.deepEqual(labelSubset(examples('x', 4), 0.25, 0).map((x) => x.id), ['x/2']);
  assert.deepEqual(labelSubset(examples('x', 4), 0.5, 0).map((x) => x.id), ['x/2', 'x/3']);
  assert.throws(() => labelSubset(train, 0, 0), /fraction is 0, expected a number in \(0, 1\]/);
});

test('prepareSpamAssassin: labels from the folder, ids folder/file, counts per stage', async () => {
  const m = (group: string, id: string, subject: string, body: string) => ({ group, id, text: mail([`Subject: ${subject}`], body) });
  const { splits, counts } = await prepareSpamAssassin([
    m('spam-1', '00001', 'win', 'free money'), m('easy-ham-1', '00002', 'hi', 'see you'), m('easy-ham-1', '00001', 'hi', 'See  you'),
  ]);
  assert.deepEqual(counts.raw, { 'easy-ham-1': 2, 'spam-1': 1 });
  assert.deepEqual(counts.deduped, { ham: 1, spam: 1 });
  const all = [...splits.train, ...splits.valid, ...splits.test];
  assert.deepEqual(all.map((x) => [x.id, x.label, x.text]).sort(), [['easy-ham-1/00001', 'ham', 'hi\n\nSee  you'], ['spam-1/00001', 'spam', 'win\n\nfree money']]);
});

describe('packaged SpamAssassin', { skip: skipSpam }, () => {
  let s: Splits<LabeledText>;
  before(async () => {
    s = await loadSpamAssassin();
  });

  test('ham and spam in every split, no id or body twice, no header lines left', () => {
    const all = [...s.train, ...s.valid, ...s.test];
    assert.equal(new Set(all.map((x) => x.id)).size, all.length);
    const bodies = all.map((x) => duplicateKey(x.text)).filter((k) => k !== ''); // empty bodies are told apart by subject
    assert.equal(new Set(bodies).size, bodies.length);
    assert.deepEqual([...new Set(all.map((x) => x.label))].sort(), ['ham', 'spam']);
    for (const k of ['train', 'valid', 'test'] as const) {
      for (const l of ['ham', 'spam']) assert.ok(s[k].some((x) => x.label === l), `${k} has no ${l}`);
    }
    const headerLike = all.filter((x) => /^(Received|Return-Path|Delivered-To|List-Id|X-Spam-[A-Za-z-]*):/m.test(x.text));
    assert.ok(headerLike.length < all.length / 100, `${headerLike.length} texts hold header lines`);
    assert.ok(all.length > 5000 && all.length <= 6046, `${all.length} mails`);
  });

  test('shares are 80/10/10 within each label (to one mail)', () => {
    for (const l of ['ham', 'spam']) {
      const n = (xs: LabeledText[]) => xs.filter((x) => x.label === l).length;
      const total = n(s.train) + n(s.valid) + n(s.test);
      assert.ok(Math.abs(n(s.train) - 0.8 * total) <= 1 && Math.abs(n(s.valid) - 0.1 * total) <= 1, `${l}: ${n(s.train)}/${n(s.valid)}/${n(s.test)}`);
    }
  });
});

const python = '/usr/bin/python3';
const noPython = existsSync(python) && spawnSync(python, ['-c', 'import sklearn'], { stdio: 'ignore' }).status === 0 ? false : `${python} with sklearn is missing`;

test('scripts/spam_baseline.py picks the same label subsets as labelSubset', { skip: noPython }, () => {
  const train = [...examples('ham', 120), ...examples('spam', 45)];
  const code = 'import json, sys; sys.path.insert(0, "scripts"); from spam_baseline import label_subset; '
    + 'ex = json.load(sys.stdin); print(json.dumps([[e["id"] for e in label_subset(ex, f, s)] for f in (0.01, 0.1, 0.5) for s in (0, 1, 2)]))';
  const out = spawnSync(python, ['-c', code], { input: JSON.stringify(train), encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  const ours = [0.01, 0.1, 0.5].flatMap((f) => [0, 1, 2].map((s) => labelSubset(train, f, s).map((x) => x.id)));
  assert.deepEqual(JSON.parse(out.stdout), ours);
});
