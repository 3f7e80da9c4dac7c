// BLEU and chrF against numbers sacreBLEU publishes (README, test/test_bleu.py, test/test_chrf.py) and hand-worked cases.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArgumentError } from '../../src/core/errors.js';
import { computeBleu, corpusBleu, corpusChrf, tokenize13a } from '../../src/train/metrics/index.js';

const close = (a: number, b: number, tol: number): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b} (tol ${tol})`);

// sacreBLEU's README example (github.com/mjpost/sacrebleu, "Using SacreBLEU from Python").
const REFS = [
  ['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'],
  ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.'],
];
const SYS = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.'];

test('BLEU: the README example, "BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)"', () => {
  const b = corpusBleu(SYS, REFS);
  close(b.score, 48.530827, 1e-6); // test_bleu.py: 48.530827 within 1e-8 of sacreBLEU's value
  assert.deepEqual(b.precisions.map((p) => p.toFixed(1)), ['82.4', '50.0', '45.5', '37.5']);
  assert.equal(b.bp.toFixed(3), '0.943');
  assert.equal(b.ratio.toFixed(3), '0.944');
  assert.equal(b.sysLen, 17);
  assert.equal(b.refLen, 18);
});

test('BLEU: the README variable-reference example, "BLEU = 29.44 82.4/42.9/27.3/12.5 (BP = 0.889 ... ref_len = 19)"', () => {
  const b = corpusBleu(SYS, [['', REFS[0][1], REFS[0][2]], REFS[1]]);
  assert.equal(b.score.toFixed(2), '29.44');
  assert.deepEqual(b.precisions.map((p) => p.toFixed(1)), ['82.4', '42.9', '27.3', '12.5']);
  assert.equal(b.bp.toFixed(3), '0.889');
  assert.equal(b.ratio.toFixed(3), '0.895');
  assert.deepEqual([b.sysLen, b.refLen], [17, 19]);
  // null works like '' (sacreBLEU accepts both).
  assert.equal(corpusBleu(SYS, [[null, REFS[0][1], REFS[0][2]], REFS[1]]).score, b.score);
});

test('BLEU: test_bleu.py corpus cases (defaults, tokenize none, smooth none, empty hypotheses, max order 1..6)', () => {
  close(corpusBleu(SYS, REFS, { tokenize: 'none' }).score, 49.1919566, 1e-6);
  close(corpusBleu(SYS, REFS, { smoothMethod: 'none' }).score, 48.530827, 1e-6);
  assert.equal(corpusBleu(['', '', ''], REFS).score, 0);
  const expected = ['77.65', '60.50', '53.93', '48.53', '46.14', '43.28'];
  expected.forEach((e, i) => assert.equal(corpusBleu(SYS, REFS, { maxNgramOrder: i + 1 }).score.toFixed(2), e, `order ${i + 1}`));
});

test('BLEU: test_bleu.py statistics and scoring from statistics', () => {
  const b = corpusBleu(['am I am a character sequence'], [['I am a symbol string sequence a a']], { tokenize: 'none' });
  assert.deepEqual(b.counts, [4, 2, 1, 0]);
  assert.deepEqual(b.totals, [6, 5, 4, 3]);
  close(computeBleu({ counts: [9, 7, 5, 3], totals: [10, 8, 6, 4], sysLen: 11, refLen: 11 }, { smoothMethod: 'none' }).score / 100, 0.8375922397, 1e-8);
});

test('BLEU: test_bleu.py raw_corpus_bleu cases (tokenize none, floor smoothing 0.01, effective order)', () => {
  const raw = { tokenize: 'none', smoothMethod: 'floor', smoothValue: 0.01, effectiveOrder: true } as const;
  const cases: [string[], string[][], number][] = [
    [['this is a test', 'another test'], [['ref1', 'ref2']], 0],
    [['this is a test'], [['this is a test']], 1],
    [['this is a fest'], [['this is a test']], 0.223606797749979],
    [['test'], [['a test']], 0.3678794411714425],
    [['a test'], [['a test']], 1],
    [['a little test'], [['a test']], 0.03218297948685433],
  ];
  for (const [hyps, refs, want] of cases) close(corpusBleu(hyps, refs, raw).score / 100, want, 1e-8);
});

test('BLEU: hand-worked cases — perfect match, no overlap, brevity penalty', () => {
  close(corpusBleu(['the cat sat on the mat'], [['the cat sat on the mat']]).score, 100, 1e-9); // exp(mean log 100): 1 ulp off, as in Python
  assert.equal(corpusBleu(['a b c d'], [['e f g h']]).score, 0);
  // Every n-gram of the 4-token hypothesis is in the 8-token reference: precisions 100, BP = exp(1 - 8/4).
  const b = corpusBleu(['a b c d'], [['a b c d e f g h']]);
  assert.deepEqual(b.precisions, [100, 100, 100, 100]);
  close(b.bp, Math.exp(-1), 1e-15);
  close(b.score, 100 * Math.exp(-1), 1e-12);
  // Two references of lengths 3 and 5 for a 4-token hypothesis: equally close, the shorter is taken, so no penalty.
  assert.equal(corpusBleu(['a b c d'], [['a b c'], ['a b c d e']]).refLen, 3);
});

test('BLEU: exp smoothing halves each successive zero precision', () => {
  // Hypothesis "a b x c": 1-grams 3/4, 2-grams 1/3 (a b), 3-grams 0/2 → 1/(2·2), 4-grams 0/1 → 1/(4·1).
  const b = corpusBleu(['a b x c'], [['a b c d']], { tokenize: 'none' });
  assert.deepEqual(b.precisions, [75, 100 / 3, 25, 25]);
  close(b.score, Math.exp((Math.log(75) + Math.log(100 / 3) + 2 * Math.log(25)) / 4), 1e-12);
});

test('tokenize13a, rule by rule', () => {
  assert.equal(tokenize13a("It wasn't surprising."), "It wasn't surprising ."); // the apostrophe is not in the symbol set
  assert.equal(tokenize13a('Pay $3.50, now!'), 'Pay $ 3.50 , now !');
  assert.equal(tokenize13a('3,000 people.'), '3,000 people .');
  assert.equal(tokenize13a('1990-2000'), '1990 - 2000');
  assert.equal(tokenize13a('well-known'), 'well-known');
  assert.equal(tokenize13a('&quot;Hi&quot; &amp; bye'), '" Hi " & bye');
  assert.equal(tokenize13a('a<skipped>b  (c)\nd'), 'ab ( c ) d');
  assert.equal(tokenize13a('e.g.'), 'e . g .');
});

test('chrF: the README example, "chrF2 = 59.73"', () => {
  assert.equal(corpusChrf(SYS, REFS).score.toFixed(2), '59.73');
});

test('chrF: test_chrf.py cases (β = 3, ε smoothing, effective order, whitespace kept, sentence level)', () => {
  const eps = { beta: 3, epsSmoothing: true } as const;
  const epsCases: [string[], string[], number][] = [
    [['abcdefg'], ['hijklmnop'], 0], [['a'], ['b'], 0], [[''], ['b'], 0], [[''], ['ref'], 0], [[''], ['reference'], 0],
    [['aa'], ['ab'], 8.3333], [['a', 'b'], ['a', 'c'], 8.3333], [['a'], ['a'], 16.6667], [['a b c'], ['a b c'], 50], [['a b c'], ['abc'], 50],
    [[' risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists .'],
      ['risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists .'], 63.361730],
    [[' Die    Beziehung zwischen  Obama und Netanjahu ist nicht gerade  freundlich. '],
      ['Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich.'], 64.1302698],
    [['Niemand hat die Absicht, eine Mauer zu errichten'], ['Niemand hat die Absicht, eine Mauer zu errichten'], 100],
  ];
  for (const [h, r, want] of epsCases) close(corpusChrf(h, [r], eps).score, want, 1e-4);

  const effCases: [string[], string[], number][] = [
    [['a'], ['a'], 100], [[''], ['reference'], 0], [['a b c'], ['a b c'], 100], [['a b c'], ['abc'], 100],
    [[''], ['c'], 0], [['a', 'b'], ['a', 'c'], 50], [['aa'], ['ab'], 25],
  ];
  for (const [h, r, want] of effCases) close(corpusChrf(h, [r], { beta: 3 }).score, want, 1e-4);

  close(corpusChrf(['Die Beziehung zwischen Obama und Netanjahu ist nicht gerade freundlich.'],
    [['Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich.']], { beta: 3, whitespace: true }).score, 67.3481606, 1e-4);
  close(corpusChrf(['risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists .'],
    [['risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists .']], { beta: 3, whitespace: true }).score, 65.2414427, 1e-4);

  const sentence: [string, string, number][] = [
    ['Co nás nejvíc trápí, protože lékaři si vybírají, kdo bude žít a kdo zemře.',
      'Nejvíce smutní jsme z toho, že musíme rozhodovat o tom, kdo bude žít a kdo zemře.', 39.14078509],
    ['Nebo prostě nemají vybavení, které by jim pomohlo, uvedli lékaři.',
      'A někdy nemáme ani potřebný materiál, abychom jim pomohli, popsali lékaři.', 31.22557079],
    ['Lapali po dechu, jejich životy skončily dřív, než skutečně začaly.',
      'Lapali po dechu a pak jejich život skončil - dřív, než skutečně mohl začít, připomněli.', 57.15704367],
  ];
  for (const [h, r, want] of sentence) close(corpusChrf([h], [[r]], { epsSmoothing: true }).score, want, 1e-4);
});

test('chrF: hand-worked cases — perfect match 100, no shared character 0, whitespace ignored', () => {
  assert.equal(corpusChrf(['the cat'], [['the cat']]).score, 100);
  assert.equal(corpusChrf(['xyz'], [['abc']]).score, 0);
  assert.equal(corpusChrf(['thecat'], [['the  cat']]).score, 100);
  // "ab" vs "abc": 1-grams P = 1, R = 2/3; 2-grams P = 1, R = 1/2; orders 3..6: the hypothesis has none.
  // Averages P = 1, R = 7/12; chrF2 = 5·P·R / (4·P + R).
  const P = 1, R = 7 / 12;
  close(corpusChrf(['ab'], [['abc']]).score, (100 * 5 * P * R) / (4 * P + R), 1e-12);
});

test('BLEU and chrF errors name the counts', () => {
  assert.throws(() => corpusBleu(['a', 'b'], [['a']]), (e: Error) => e instanceof ArgumentError && /reference stream 0 has 1 segments but there are 2 hypotheses/.test(e.message));
  assert.throws(() => corpusChrf(['a'], [['a'], ['b', 'c']]), (e: Error) => e instanceof ArgumentError && /reference stream 1 has 2 segments but there are 1 hypotheses/.test(e.message));
  assert.throws(() => corpusBleu(['a'], [['']]), (e: Error) => e instanceof ArgumentError && /segment 0 has no reference/.test(e.message));
});
